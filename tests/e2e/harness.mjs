// End-to-end test harness for tickerd.
//
// Spawns the real `redis-server` and the real tickerd binary on spare
// 127.0.0.1 ports, speaks RESP directly to Redis (so arbitrary bytes can be
// published exactly) and wraps WebSocket clients (npm `ws`) so tests can
// await messages and compare raw frame bytes.
//
// Every process and temporary folder created here is registered in a global
// registry and torn down by the test's `t.after` hooks and, as a last
// resort, on process 'exit' / SIGINT / SIGTERM.

import { spawn, execFile } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import assert from 'node:assert/strict';
import WebSocket from 'ws';

const here = path.dirname(fileURLToPath(import.meta.url));
export const REPO = path.resolve(here, '..', '..');
export const TICKERD_BIN = process.env.TICKERD_BIN || path.join(REPO, 'build', 'tickerd');
export const WEB_DIR = path.join(REPO, 'web');
export const FIXTURES = process.env.TICKERD_FIXTURES || path.resolve(REPO, '..', 'shared', 'fixtures');
export const REDIS_BIN = process.env.REDIS_SERVER_BIN || 'redis-server';

/** Shape of item/hello times on the wire: UTC ISO 8601, seconds precision. */
export const TIME_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;
/** Derived ids: "h-<16 hex>". */
export const DERIVED_ID_RE = /^h-[0-9a-f]{16}$/;
/** Item keys in wire order (spec: "keys in that order"). */
export const ITEM_REQUIRED_KEYS = ['id', 'seq', 'topic', 'headline', 'time', 'priority'];

/** A seq is a Redis Stream entry id, "<ms>-<n>". */
export const SEQ_RE = /^[0-9]+-[0-9]+$/;

/** A seq as one BigInt that orders like the stream does (ms, then n). */
export function seqKey(seq) {
  const [ms, n] = seq.split('-');
  return (BigInt(ms) << 64n) + BigInt(n);
}
export const ITEM_ALLOWED_KEYS = new Set([
  ...ITEM_REQUIRED_KEYS,
  'label', 'url', 'source', 'lang', 'premium', 'related', 'expires', 'version',
]);

// ---------------------------------------------------------------------------
// Global registry of spawned processes and temp dirs (last-resort cleanup).

const liveChildren = new Set();
const liveTmpDirs = new Set();

function emergencyCleanup() {
  for (const child of liveChildren) {
    try { process.kill(child.pid, 'SIGKILL'); } catch { /* already gone */ }
  }
  liveChildren.clear();
  for (const dir of liveTmpDirs) {
    try { fs.rmSync(dir, { recursive: true, force: true }); } catch { /* ignore */ }
  }
  liveTmpDirs.clear();
}
process.on('exit', emergencyCleanup);
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.once(sig, () => {
    emergencyCleanup();
    process.exit(128 + (os.constants.signals[sig] || 0));
  });
}

export function makeTmpDir(tag = 'tickerd-e2e-') {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), tag));
  liveTmpDirs.add(dir);
  return dir;
}

export function removeTmpDir(dir) {
  try { fs.rmSync(dir, { recursive: true, force: true }); } catch { /* ignore */ }
  liveTmpDirs.delete(dir);
}

/** Find a spare TCP port by binding port 0 on 127.0.0.1 and closing. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** Spawn a child, register it, capture stdout/stderr into buffers. */
function spawnTracked(cmd, args, opts = {}) {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...opts });
  const out = [];
  const err = [];
  child.stdout.on('data', (d) => out.push(d));
  child.stderr.on('data', (d) => err.push(d));
  liveChildren.add(child);
  const exited = new Promise((resolve) => {
    child.on('error', (e) => {
      liveChildren.delete(child);
      resolve({ code: null, signal: null, error: e });
    });
    child.on('exit', (code, signal) => {
      liveChildren.delete(child);
      resolve({ code, signal });
    });
  });
  // Wait for the stdio pipes to drain too, so that logs are complete.
  const closed = new Promise((resolve) => child.on('close', resolve));
  child.on('error', () => { /* reported through `exited` */ });
  return {
    child,
    exited,
    closed,
    stdout: () => Buffer.concat(out).toString('utf8'),
    stderr: () => Buffer.concat(err).toString('utf8'),
    isRunning: () => child.exitCode === null && child.signalCode === null && liveChildren.has(child),
  };
}

/** Send `signal` to the child (by the pid we spawned); SIGKILL after graceMs. */
async function stopTracked(p, signal = 'SIGTERM', graceMs = 5000) {
  if (p.isRunning()) {
    try { process.kill(p.child.pid, signal); } catch { /* gone */ }
    const timer = setTimeout(() => {
      try { process.kill(p.child.pid, 'SIGKILL'); } catch { /* gone */ }
    }, graceMs);
    const res = await p.exited;
    clearTimeout(timer);
    await Promise.race([p.closed, sleep(1000)]);
    return res;
  }
  return p.exited;
}

// ---------------------------------------------------------------------------
// RESP (Redis protocol), spoken directly over a socket.

/** Encode a command as a RESP array of bulk strings (Buffers kept byte-exact). */
export function encodeCommand(args) {
  const parts = [Buffer.from(`*${args.length}\r\n`)];
  for (const a of args) {
    const b = Buffer.isBuffer(a) ? a : Buffer.from(String(a), 'utf8');
    parts.push(Buffer.from(`$${b.length}\r\n`), b, Buffer.from('\r\n'));
  }
  return Buffer.concat(parts);
}

/** Parse one RESP value from buf at offset; returns {value, next} or null if incomplete. */
function parseResp(buf, off = 0) {
  const eol = buf.indexOf('\r\n', off);
  if (eol < 0) return null;
  const type = String.fromCharCode(buf[off]);
  const line = buf.toString('utf8', off + 1, eol);
  const after = eol + 2;
  switch (type) {
    case '+': return { value: line, next: after };
    case '-': return { value: new RedisError(line), next: after };
    case ':': return { value: Number(line), next: after };
    case '$': {
      const n = Number(line);
      if (n < 0) return { value: null, next: after };
      if (buf.length < after + n + 2) return null;
      return { value: buf.subarray(after, after + n), next: after + n + 2 };
    }
    case '*': {
      const n = Number(line);
      if (n < 0) return { value: null, next: after };
      const arr = [];
      let pos = after;
      for (let i = 0; i < n; i++) {
        const r = parseResp(buf, pos);
        if (!r) return null;
        arr.push(r.value);
        pos = r.next;
      }
      return { value: arr, next: pos };
    }
    default:
      throw new Error(`bad RESP reply: ${JSON.stringify(buf.toString('latin1', off, off + 60))}`);
  }
}

export class RedisError extends Error {}

/**
 * Send commands on one fresh connection and resolve with their replies
 * (an array, one per command). Rejects on socket errors or timeout.
 */
export function redisCommands(port, commands, { host = '127.0.0.1', timeoutMs = 5000 } = {}) {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host, port });
    let buf = Buffer.alloc(0);
    const replies = [];
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`redis ${host}:${port}: no reply within ${timeoutMs} ms`));
    }, timeoutMs);
    sock.on('connect', () => {
      sock.write(Buffer.concat(commands.map(encodeCommand)));
    });
    sock.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      for (;;) {
        let r;
        try { r = parseResp(buf, 0); } catch (e) { clearTimeout(timer); sock.destroy(); reject(e); return; }
        if (!r) break;
        replies.push(r.value);
        buf = buf.subarray(r.next);
        if (replies.length === commands.length) {
          clearTimeout(timer);
          sock.end();
          resolve(replies);
          return;
        }
      }
    });
    sock.on('error', (e) => { clearTimeout(timer); reject(e); });
    sock.on('close', () => {
      if (replies.length < commands.length) {
        clearTimeout(timer);
        reject(new Error(`redis ${host}:${port}: connection closed before all replies`));
      }
    });
  });
}

/**
 * PUBLISH channel payload (payload: Buffer or string, sent byte for byte).
 * Resolves with the integer reply (number of receivers).
 */
export async function publish(port, channel, payload, { password } = {}) {
  const cmds = [];
  if (password !== undefined) cmds.push(['AUTH', password]);
  cmds.push(['PUBLISH', channel, Buffer.isBuffer(payload) ? payload : Buffer.from(payload, 'utf8')]);
  const replies = await redisCommands(port, cmds);
  for (const r of replies) if (r instanceof RedisError) throw r;
  const n = replies[replies.length - 1];
  if (typeof n !== 'number') throw new Error(`unexpected PUBLISH reply ${String(n)}`);
  return n;
}

// ---------------------------------------------------------------------------
// redis-server

/**
 * Start a real redis-server on a spare port.
 * opts: { password, unixSocket: boolean, appendonly: boolean (AOF, fsync always; restart() keeps the data) }
 * Returns { port, url, socketPath?, password?, stop(), start(), restart(), log() }.
 */
export async function startRedis(opts = {}) {
  const port = await freePort();
  const dir = makeTmpDir('tickerd-e2e-redis-');
  const socketPath = opts.unixSocket ? path.join(dir, 'redis.sock') : undefined;
  let proc = null;
  const logs = [];

  const args = [
    '--bind', '127.0.0.1',
    '--port', String(port),
    '--dir', dir,
    '--save', '',
    ...(opts.appendonly ? ['--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no']),
    '--daemonize', 'no',
  ];
  if (opts.password !== undefined) args.push('--requirepass', opts.password);
  if (socketPath) args.push('--unixsocket', socketPath, '--unixsocketperm', '700');

  async function start() {
    if (proc && proc.isRunning()) return;
    proc = spawnTracked(REDIS_BIN, args, { cwd: dir });
    const deadline = Date.now() + 10_000;
    for (;;) {
      if (!proc.isRunning()) {
        const res = await proc.exited;
        throw new Error(`redis-server exited early (${JSON.stringify(res)}):\n${proc.stdout()}${proc.stderr()}`);
      }
      try {
        // Any reply (PONG, or NOAUTH when a password is set) means it is up.
        await redisCommands(port, [['PING']], { timeoutMs: 1000 });
        return;
      } catch { /* not yet */ }
      if (Date.now() > deadline) {
        throw new Error(`redis-server on port ${port} did not answer PING within 10 s`);
      }
      await sleep(25);
    }
  }

  async function stop() {
    if (!proc) return;
    const p = proc;
    await stopTracked(p, 'SIGTERM', 5000);
    logs.push(p.stdout(), p.stderr());
  }

  async function restart() {
    await stop();
    await start();
  }

  async function dispose() {
    await stop();
    removeTmpDir(dir);
  }

  try {
    await start();
  } catch (e) {
    await stop().catch(() => {});
    removeTmpDir(dir);
    throw e;
  }
  return {
    port,
    url: opts.password !== undefined
      ? `redis://:${encodeURIComponent(opts.password)}@127.0.0.1:${port}`
      : `redis://127.0.0.1:${port}`,
    socketPath,
    password: opts.password,
    dir,
    start,
    stop,
    restart,
    dispose,
    isRunning: () => !!proc && proc.isRunning(),
    /** pid of the current redis-server process (null when never started). */
    pid: () => (proc ? proc.child.pid : null),
    /** Send a signal (e.g. SIGSTOP / SIGCONT) to the current redis-server process. */
    signal: (sig) => { if (proc && proc.isRunning()) process.kill(proc.child.pid, sig); },
    log: () => logs.join('') + (proc ? proc.stdout() + proc.stderr() : ''),
    publish: (channel, payload) => publish(port, channel, payload, { password: opts.password }),
  };
}

// ---------------------------------------------------------------------------
// HTTP helpers

/** GET a path; resolves {status, headers, body: Buffer, text}. No keep-alive. */
export function httpGet(port, urlPath, { timeoutMs = 3000, host = '127.0.0.1' } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host, port, path: urlPath, method: 'GET', agent: false, headers: { Connection: 'close' } },
      (res) => {
        const chunks = [];
        res.on('data', (d) => chunks.push(d));
        res.on('end', () => {
          const body = Buffer.concat(chunks);
          resolve({ status: res.statusCode, headers: res.headers, body, text: body.toString('utf8') });
        });
        res.on('error', reject);
      },
    );
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`GET ${urlPath}: timeout after ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

/** GET /healthz; resolves {status, json, text}. json is undefined if not parseable. */
export async function getHealth(port) {
  const r = await httpGet(port, '/healthz');
  let json;
  try { json = JSON.parse(r.text); } catch { /* leave undefined */ }
  return { status: r.status, json, text: r.text, headers: r.headers };
}

/** Poll /healthz until pred({status,json}) holds; returns the last health. */
export async function waitForHealth(port, pred, { timeoutMs = 10_000, what = 'condition', proc } = {}) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    if (proc && !proc.isRunning()) {
      throw new Error(`tickerd exited while waiting for /healthz ${what}: ${JSON.stringify(await proc.exited)}`);
    }
    try {
      last = await getHealth(port);
      if (pred(last)) return last;
    } catch (e) {
      last = { error: String(e) };
    }
    if (Date.now() > deadline) {
      throw new Error(`/healthz ${what} not reached within ${timeoutMs} ms; last: ${JSON.stringify(last)}`);
    }
    await sleep(50);
  }
}

// ---------------------------------------------------------------------------
// tickerd

function cleanEnv(extra = {}) {
  const env = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith('TICKERD_')) delete env[k];
  return { ...env, ...extra };
}

export function tickerdAvailable() {
  try {
    fs.accessSync(TICKERD_BIN, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Start tickerd.
 * opts: { redisUrl, args: [], env: {}, web, waitHealthy = true, configViaEnv = false }
 * Returns { port, pid, httpUrl, wsUrl(query), log(), health(), stop(signal), exited, isRunning() }.
 */
export async function startTickerd(opts = {}) {
  const port = await freePort();
  let args;
  let env = { ...(opts.env || {}) };
  if (opts.configViaEnv) {
    // Same configuration, given through TICKERD_* variables only.
    env = {
      TICKERD_LISTEN: `127.0.0.1:${port}`,
      ...(opts.redisUrl !== undefined ? { TICKERD_REDIS: opts.redisUrl } : {}),
      TICKERD_WEB: opts.web || WEB_DIR,
      ...env,
    };
    args = [...(opts.args || [])];
  } else {
    args = [
      '--listen', `127.0.0.1:${port}`,
      ...(opts.redisUrl !== undefined ? ['--redis', opts.redisUrl] : []),
      '--web', opts.web || WEB_DIR,
      ...(opts.args || []),
    ];
  }
  const p = spawnTracked(TICKERD_BIN, args, { env: cleanEnv(env), cwd: REPO });
  const handle = {
    port,
    pid: p.child.pid,
    args,
    httpUrl: `http://127.0.0.1:${port}`,
    wsUrl: (query = '') => `ws://127.0.0.1:${port}/ws${query}`,
    log: () => p.stderr(),
    stdout: () => p.stdout(),
    exited: p.exited,
    isRunning: p.isRunning,
    health: () => getHealth(port),
    /** Send a signal (default SIGTERM) and await exit; SIGKILL after graceMs. */
    stop: (signal = 'SIGTERM', graceMs = 5000) => stopTracked(p, signal, graceMs),
    /** Send a signal without waiting. */
    kill: (signal) => process.kill(p.child.pid, signal),
  };
  const ready = opts.waitHealthy === false
    ? (h) => typeof h.status === 'number' // only wait until the HTTP side answers at all
    : (h) => h.status === 200;
  try {
    await waitForHealth(port, ready, { timeoutMs: 10_000, what: opts.waitHealthy === false ? 'answering' : '200', proc: p });
  } catch (e) {
    // Do not leave a half-started server behind: the caller never gets a handle.
    await stopTracked(p, 'SIGKILL', 1000).catch(() => {});
    throw withLog(e, handle);
  }
  return handle;
}

function withLog(err, handle) {
  err.message += `\n--- tickerd stderr (pid ${handle.pid}) ---\n${handle.log()}`;
  return err;
}

/** Run the binary to completion (for CLI tests); kills it after timeoutMs. */
export async function runTickerd(args, { env = {}, timeoutMs = 5000 } = {}) {
  const p = spawnTracked(TICKERD_BIN, args, { env: cleanEnv(env), cwd: REPO });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    try { process.kill(p.child.pid, 'SIGKILL'); } catch { /* gone */ }
  }, timeoutMs);
  const res = await p.exited;
  clearTimeout(timer);
  await Promise.race([p.closed, sleep(1000)]);
  return { ...res, timedOut, stdout: p.stdout(), stderr: p.stderr() };
}

// ---------------------------------------------------------------------------
// WebSocket client wrapper

export class Client {
  constructor(ws, url) {
    this.ws = ws;
    this.url = url;
    /** Every message: { raw: Buffer, json, text, isBinary, at } */
    this.messages = [];
    this.cursor = 0;
    this.closeCode = null;
    this.closeReason = null;
    this.errors = [];
    this._waiter = null;
    this.closed = new Promise((resolve) => { this._resolveClosed = resolve; });
    ws.on('message', (data, isBinary) => {
      const raw = Buffer.isBuffer(data) ? data : Buffer.concat(Array.isArray(data) ? data : [Buffer.from(data)]);
      const text = raw.toString('utf8');
      let json;
      try { json = JSON.parse(text); } catch { json = undefined; }
      this.messages.push({ raw, json, text, isBinary, at: Date.now() });
      this._poke();
    });
    ws.on('close', (code, reason) => {
      this.closeCode = code;
      this.closeReason = reason.toString('utf8');
      this._resolveClosed({ code, reason: this.closeReason });
      this._poke();
    });
    ws.on('error', (e) => { this.errors.push(e); });
  }

  _poke() {
    const w = this._waiter;
    if (!w) return;
    for (let i = this.cursor; i < this.messages.length; i++) {
      const m = this.messages[i];
      if (m.json !== undefined && w.pred(m.json, m)) {
        this.cursor = i + 1;
        this._waiter = null;
        clearTimeout(w.timer);
        w.resolve(m.json);
        return;
      }
    }
    if (this.closeCode !== null) {
      this._waiter = null;
      clearTimeout(w.timer);
      w.reject(new Error(`${this.url}: closed (code ${this.closeCode}) while waiting for ${w.desc}; ${this.describe()}`));
    }
  }

  /**
   * Await the next message (from the cursor on) whose parsed JSON satisfies
   * predicate; non-matching messages are skipped (they stay in .messages).
   * Resolves with the parsed JSON; the matching entry is this.last.
   */
  next(pred = () => true, timeoutMs = 5000, desc = 'a matching message') {
    if (this._waiter) return Promise.reject(new Error('Client.next: one wait at a time'));
    return new Promise((resolve, reject) => {
      const w = {
        pred,
        desc,
        resolve: (v) => { this.last = this.messages[this.cursor - 1]; resolve(v); },
        reject,
        timer: setTimeout(() => {
          if (this._waiter === w) this._waiter = null;
          reject(new Error(`${this.url}: timed out after ${timeoutMs} ms waiting for ${desc}; ${this.describe()}`));
        }, timeoutMs),
      };
      this._waiter = w;
      this._poke();
    });
  }

  /** Await hello then snapshot (must be the first two messages). */
  async ready(timeoutMs = 5000) {
    const hello = await this.next(() => true, timeoutMs, 'hello');
    const snapshot = await this.next(() => true, timeoutMs, 'snapshot');
    if (hello.type !== 'hello' || snapshot.type !== 'snapshot') {
      throw new Error(`${this.url}: expected hello then snapshot, got ${this.describe()}`);
    }
    this.hello = hello;
    this.snapshot = snapshot;
    this.snapshotIndex = this.cursor; // index of first message after the snapshot
    return { hello, snapshot };
  }

  /** Await an {"type":"item"} whose item.headline === headline. Returns the message. */
  nextItem(headline, timeoutMs = 5000) {
    return this.next((m) => m.type === 'item' && m.item && m.item.headline === headline, timeoutMs,
      `item with headline ${JSON.stringify(headline)}`);
  }

  /** All parsed messages of a given type. */
  ofType(type) {
    return this.messages.filter((m) => m.json && m.json.type === type).map((m) => m.json);
  }

  /** Messages received after the snapshot (entries with raw/json). */
  afterSnapshot() {
    return this.messages.slice(this.snapshotIndex ?? 0);
  }

  describe(max = 8) {
    const ms = this.messages.slice(-max).map((m) => (m.text.length > 300 ? m.text.slice(0, 300) + '…' : m.text));
    return `received ${this.messages.length} message(s)${this.messages.length > max ? ` (last ${max})` : ''}: ${JSON.stringify(ms)}`
      + (this.closeCode !== null ? `; closed with ${this.closeCode}` : '');
  }

  close() {
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) {
      try { this.ws.terminate(); } catch { /* ignore */ }
    }
  }
}

/** Connect a WebSocket client; resolves once open. */
export function connect(url, { timeoutMs = 5000 } = {}) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false, handshakeTimeout: timeoutMs });
    const client = new Client(ws, url);
    const onErr = (e) => reject(new Error(`connect ${url}: ${e.message}`));
    ws.once('error', onErr);
    ws.once('unexpected-response', (req, res) => {
      reject(new Error(`connect ${url}: unexpected HTTP ${res.statusCode}`));
      req.destroy();
    });
    ws.once('open', () => {
      ws.off('error', onErr);
      resolve(client);
    });
  });
}

// ---------------------------------------------------------------------------
// Per-test scenario helper: processes created through `h` are torn down by
// t.after hooks; on failure the logs are attached to the error.

/**
 * Wrap a test body: `test('x', scenario(async (t, h) => { ... }))`.
 * h.redis(opts), h.tickerd(opts), h.client(url) create resources that are
 * disposed of in t.after even when the test fails. h.env(opts) starts both.
 */
export function scenario(fn) {
  return async (t) => {
    if (!tickerdAvailable()) {
      // Deliberately a failure, not a skip: an e2e run without the binary
      // must not pass silently.
      throw new Error(`tickerd binary not found at ${TICKERD_BIN} (build it with make -C ${REPO}, or set TICKERD_BIN)`);
    }
    const tickerds = [];
    const redises = [];
    const clients = [];
    const deferred = [];
    t.after(async () => {
      for (const fn of deferred.splice(0).reverse()) {
        try { await fn(); } catch { /* best effort */ }
      }
      for (const c of clients) c.close();
      for (const td of tickerds) await td.stop('SIGTERM', 2000).catch(() => {});
      for (const r of redises) await r.dispose().catch(() => {});
    });
    const h = {
      async redis(opts) {
        const r = await startRedis(opts);
        redises.push(r);
        return r;
      },
      async tickerd(opts) {
        const td = await startTickerd(opts);
        tickerds.push(td);
        return td;
      },
      async client(url, opts) {
        const c = await connect(url, opts);
        clients.push(c);
        return c;
      },
      /** Open a Server-Sent Events stream (see connectSSE); closed at teardown. */
      async sse(port, urlPath, opts) {
        const c = await connectSSE(port, urlPath, opts);
        clients.push(c);
        return c;
      },
      /** Run fn first thing at teardown (before clients and processes go), also on failure. */
      defer(fn) {
        deferred.push(fn);
      },
      /** Start redis + tickerd (extra tickerd opts allowed). */
      async env(opts = {}) {
        const redis = await h.redis(opts.redis);
        const tickerd = await h.tickerd({ redisUrl: redis.url, ...opts });
        return { redis, tickerd };
      },
      tickerds,
      redises,
      clients,
    };
    try {
      await fn(t, h);
    } catch (err) {
      const parts = [];
      for (const td of tickerds) parts.push(`--- tickerd stderr (pid ${td.pid}, args ${td.args.join(' ')}) ---\n${td.log()}`);
      for (const c of clients) parts.push(`--- client ${c.url}: ${c.describe(20)}`);
      const extra = parts.join('\n');
      if (extra) {
        if (err && typeof err === 'object') {
          try {
            err.message = `${err.message}\n${extra}`;
            if (typeof err.stack === 'string') err.stack = `${err.stack}\n${extra}`;
          } catch { /* read-only */ }
        }
      }
      throw err;
    }
  };
}

// ---------------------------------------------------------------------------
// Assertions shared by several files

/** Resolve true if the fixtures folder exists. */
export function fixturesAvailable() {
  return fs.existsSync(FIXTURES) && fs.statSync(FIXTURES).isDirectory();
}

/** Unique-ish suffix so headlines never collide between tests. */
export function uniq(prefix = 'h') {
  return `${prefix}-${process.pid}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}

export const PRIORITIES = ['flash', 'bulletin', 'urgent', 'routine'];
const ITEM_KEY_ORDER = [...ITEM_ALLOWED_KEYS];
const TOPIC_RE = /^[A-Za-z0-9_.-]{1,64}$/;

/** Check an item object against the wire contract (key order, types, shapes). */
export function assertItemShape(item, where = 'item') {
  assert.ok(item && typeof item === 'object' && !Array.isArray(item), `${where}: not an object: ${JSON.stringify(item)}`);
  const keys = Object.keys(item);
  assert.deepEqual(keys.slice(0, ITEM_REQUIRED_KEYS.length), ITEM_REQUIRED_KEYS,
    `${where}: keys must start with ${ITEM_REQUIRED_KEYS.join(',')}; got ${keys.join(',')}`);
  for (const k of keys) assert.ok(ITEM_ALLOWED_KEYS.has(k), `${where}: unexpected key ${JSON.stringify(k)} in ${JSON.stringify(item)}`);
  assert.equal(typeof item.id, 'string', `${where}: id must be a string`);
  assert.ok(item.id.length > 0, `${where}: empty id`);
  assert.match(item.seq, SEQ_RE, `${where}: seq must be a stream entry id "ms-n"`);
  assert.match(item.topic, TOPIC_RE, `${where}: topic`);
  assert.equal(typeof item.headline, 'string', `${where}: headline must be a string`);
  assert.ok(item.headline.length > 0, `${where}: empty headline`);
  assert.match(item.time, TIME_RE, `${where}: time shape`);
  assert.ok(PRIORITIES.includes(item.priority), `${where}: priority ${JSON.stringify(item.priority)}`);
  if ('version' in item) assert.ok(Number.isInteger(item.version) && item.version >= 1, `${where}: version ${JSON.stringify(item.version)}`);
  if ('premium' in item) assert.equal(typeof item.premium, 'boolean', `${where}: premium must be boolean`);
  if ('url' in item) assert.match(item.url, /^https?:\/\//i, `${where}: url scheme`);
  if ('related' in item) assert.ok(Array.isArray(item.related), `${where}: related must be an array`);
}

/** Keys in the order the spec lists them (required, then the optional ones). */
export function assertItemKeyOrder(item, where = 'item') {
  const keys = Object.keys(item);
  assert.deepEqual(keys, [...keys].sort((a, b) => ITEM_KEY_ORDER.indexOf(a) - ITEM_KEY_ORDER.indexOf(b)),
    `${where}: keys out of spec order (${ITEM_KEY_ORDER.join(',')}): got ${keys.join(',')}`);
}

/** Assert a client's live (post-snapshot) item/retract seqs strictly increase. */
export function assertSeqIncreasing(client) {
  let prev = -1n;
  for (const m of client.afterSnapshot()) {
    if (!m.json) continue;
    const seq = m.json.type === 'item' ? m.json.item?.seq : m.json.type === 'retract' ? m.json.seq : undefined;
    if (seq === undefined) continue;
    assert.match(seq, SEQ_RE, `seq must be a stream entry id "ms-n": ${m.text}`);
    const v = seqKey(seq);
    assert.ok(v > prev, `seq not increasing (${prev} then ${v}) for ${client.url}: ${client.describe(20)}`);
    prev = v;
  }
}

/** Every message a client got is a JSON text frame. */
export function assertAllJsonText(client) {
  for (const m of client.messages) {
    assert.equal(m.isBinary, false, `binary frame received on ${client.url}`);
    assert.notEqual(m.json, undefined, `non-JSON frame on ${client.url}: ${m.text.slice(0, 200)}`);
  }
}

// ---------------------------------------------------------------------------
// Additions for the durable change log (issue 4)

/** One command on a fresh connection; resolves with its reply, rejects on a Redis error reply. */
export async function redisCall(port, args, { timeoutMs = 5000, password } = {}) {
  const cmds = [];
  if (password !== undefined) cmds.push(['AUTH', password]);
  cmds.push(args);
  const replies = await redisCommands(port, cmds, { timeoutMs });
  for (const r of replies) if (r instanceof RedisError) throw new RedisError(`${args[0]}: ${r.message}`);
  return replies[replies.length - 1];
}

/**
 * A Server-Sent Events client on node's http, parsing the stream itself.
 * Each dispatched event becomes an entry of .messages shaped like Client's
 * ({ raw: Buffer of the data, json, text, isBinary: false, at }) plus
 * { id (the id field of THIS event, undefined when it had none), event, lines }.
 * .comments counts comment lines (": ping"). next()/ofType()/describe()/close()
 * behave as on Client.
 */
export class SSEClient {
  constructor(url) {
    this.url = url;
    this.messages = [];
    this.cursor = 0;
    this.comments = 0;
    this.closeCode = null; // set to 'end' / 'error' when the stream ends
    this.status = null;
    this.headers = null;
    this.rawText = '';
    this._buf = '';
    this._ev = null;
    this._waiter = null;
    this.closed = new Promise((resolve) => { this._resolveClosed = resolve; });
  }

  _feed(text) {
    this.rawText += text;
    this._buf += text;
    for (;;) {
      const m = /\r\n|\n|\r/.exec(this._buf);
      if (!m) break;
      // A lone \r at the very end may be the first half of \r\n: wait for more.
      if (m[0] === '\r' && m.index === this._buf.length - 1) break;
      const line = this._buf.slice(0, m.index);
      this._buf = this._buf.slice(m.index + m[0].length);
      this._line(line);
    }
  }

  _line(line) {
    if (line === '') {
      const ev = this._ev;
      this._ev = null;
      if (!ev || ev.data === undefined) return; // nothing to dispatch (spec: empty data buffer)
      const text = ev.data;
      let json;
      try { json = JSON.parse(text); } catch { json = undefined; }
      this.messages.push({
        raw: Buffer.from(text, 'utf8'), json, text, isBinary: false, at: Date.now(),
        id: ev.id, event: ev.event, lines: ev.lines,
      });
      this._poke();
      return;
    }
    if (line.startsWith(':')) { this.comments++; return; }
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (!this._ev) this._ev = { lines: [] };
    const ev = this._ev;
    ev.lines.push(line);
    if (field === 'data') ev.data = ev.data === undefined ? value : `${ev.data}\n${value}`;
    else if (field === 'id') ev.id = value;
    else if (field === 'event') ev.event = value;
    // retry and unknown fields: ignored
  }

  _end(how) {
    if (this.closeCode === null) this.closeCode = how;
    this._resolveClosed({ code: this.closeCode });
    this._poke();
  }

  _poke() {
    const w = this._waiter;
    if (!w) return;
    for (let i = this.cursor; i < this.messages.length; i++) {
      const m = this.messages[i];
      if (m.json !== undefined && w.pred(m.json, m)) {
        this.cursor = i + 1;
        this._waiter = null;
        clearTimeout(w.timer);
        this.last = m;
        w.resolve(m.json);
        return;
      }
    }
    if (this.closeCode !== null) {
      this._waiter = null;
      clearTimeout(w.timer);
      w.reject(new Error(`${this.url}: stream ended (${this.closeCode}) while waiting for ${w.desc}; ${this.describe()}`));
    }
  }

  next(pred = () => true, timeoutMs = 5000, desc = 'a matching event') {
    if (this._waiter) return Promise.reject(new Error('SSEClient.next: one wait at a time'));
    return new Promise((resolve, reject) => {
      const w = {
        pred,
        desc,
        resolve,
        reject,
        timer: setTimeout(() => {
          if (this._waiter === w) this._waiter = null;
          reject(new Error(`${this.url}: timed out after ${timeoutMs} ms waiting for ${desc}; ${this.describe()}`));
        }, timeoutMs),
      };
      this._waiter = w;
      this._poke();
    });
  }

  nextItem(headline, timeoutMs = 5000) {
    return this.next((m) => m.type === 'item' && m.item && m.item.headline === headline, timeoutMs,
      `item with headline ${JSON.stringify(headline)}`);
  }

  /** Await hello then snapshot (must be the first two events). */
  async ready(timeoutMs = 5000) {
    const hello = await this.next(() => true, timeoutMs, 'hello');
    const snapshot = await this.next(() => true, timeoutMs, 'snapshot');
    if (hello.type !== 'hello' || snapshot.type !== 'snapshot') {
      throw new Error(`${this.url}: expected hello then snapshot, got ${this.describe()}`);
    }
    this.hello = hello;
    this.snapshot = snapshot;
    return { hello, snapshot };
  }

  ofType(type) {
    return this.messages.filter((m) => m.json && m.json.type === type).map((m) => m.json);
  }

  describe(max = 8) {
    const tail = this.rawText.length > 2000 ? `…${this.rawText.slice(-2000)}` : this.rawText;
    return `HTTP ${this.status}, ${this.messages.length} event(s), ${this.comments} comment line(s); stream: ${JSON.stringify(tail)}`
      + (this.closeCode !== null ? `; ended (${this.closeCode})` : '');
  }

  close() {
    if (this._req) { try { this._req.destroy(); } catch { /* ignore */ } }
  }
}

/**
 * GET an event stream (e.g. '/events?topics=world'), with extra request
 * headers (e.g. { 'Last-Event-ID': seq }). Resolves with an SSEClient once the
 * response headers arrived (whatever the status: check .status and .headers).
 */
export function connectSSE(port, urlPath, { headers = {}, timeoutMs = 5000, host = '127.0.0.1' } = {}) {
  const c = new SSEClient(`http://${host}:${port}${urlPath}`);
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host, port, path: urlPath, method: 'GET', agent: false, headers: { Accept: 'text/event-stream', ...headers } },
      (res) => {
        clearTimeout(timer);
        c.status = res.statusCode;
        c.headers = res.headers;
        res.setEncoding('utf8'); // StringDecoder: multi-byte characters split across chunks stay whole
        res.on('data', (d) => c._feed(d));
        res.on('end', () => c._end('end'));
        res.on('error', () => c._end('error'));
        res.on('close', () => c._end('closed'));
        resolve(c);
      },
    );
    c._req = req;
    const timer = setTimeout(() => {
      req.destroy(new Error(`GET ${urlPath}: no response headers within ${timeoutMs} ms`));
    }, timeoutMs);
    req.on('error', (e) => { clearTimeout(timer); c._end('error'); reject(new Error(`connect ${c.url}: ${e.message}`)); });
    req.end();
  });
}

/** Run redis-cli against 127.0.0.1:port; resolves { code, stdout, stderr } (never rejects on exit status). */
export function redisCli(port, args, { timeoutMs = 5000, bin = process.env.REDIS_CLI_BIN || 'redis-cli' } = {}) {
  return new Promise((resolve, reject) => {
    execFile(bin, ['-h', '127.0.0.1', '-p', String(port), ...args], { timeout: timeoutMs, encoding: 'utf8' },
      (err, stdout, stderr) => {
        if (err && typeof err.code !== 'number') { reject(new Error(`redis-cli ${args.join(' ')}: ${err.message}`)); return; }
        resolve({ code: err ? err.code : 0, stdout, stderr });
      });
  });
}
