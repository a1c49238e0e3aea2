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

// ---------------------------------------------------------------------------
// Additions for hardening (issue 6)

const METRIC_NAME_RE = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const METRIC_TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);

function parseMetricValue(s, line) {
  if (s === 'NaN') return NaN;
  if (s === '+Inf') return Infinity;
  if (s === '-Inf') return -Infinity;
  if (!/^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/.test(s)) throw new Error(`/metrics: bad sample value ${JSON.stringify(s)} in line ${JSON.stringify(line)}`);
  return Number(s);
}

/** Canonical key of a sample: name{a="x",b="y"} with labels sorted ('name' alone without labels). */
export function metricKey(name, labels = {}) {
  const ks = Object.keys(labels).sort();
  return ks.length ? `${name}{${ks.map((k) => `${k}=${JSON.stringify(String(labels[k]))}`).join(',')}}` : name;
}

/**
 * Parse the Prometheus text exposition format (0.0.4) strictly: every line
 * must be `# HELP name text`, `# TYPE name type`, another `#` comment, or a
 * sample `name{label="value",...} value [timestamp]`; anything else throws.
 * Returns { families: Map(name -> { help, type }), samples: [{ name, labels, value, line }],
 * value(name, labels) (undefined when absent), byName(name) }.
 */
export function parsePrometheus(text) {
  const families = new Map();
  const samples = [];
  const seen = new Set();
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  else throw new Error('/metrics: the text does not end with a newline');
  for (const line of lines) {
    if (line.startsWith('#')) {
      const m = /^#\s+(HELP|TYPE)\s+(\S+)(?:\s(.*))?$/.exec(line);
      if (!m) continue; // a plain comment
      const [, kind, name, rest = ''] = m;
      if (!METRIC_NAME_RE.test(name)) throw new Error(`/metrics: bad metric name in ${JSON.stringify(line)}`);
      const fam = families.get(name) || {};
      if (kind === 'HELP') {
        if (fam.help !== undefined) throw new Error(`/metrics: second HELP for ${name}`);
        fam.help = rest;
      } else {
        if (fam.type !== undefined) throw new Error(`/metrics: second TYPE for ${name}`);
        if (!METRIC_TYPES.has(rest.trim())) throw new Error(`/metrics: bad TYPE in ${JSON.stringify(line)}`);
        if (samples.some((s) => s.name === name)) throw new Error(`/metrics: TYPE for ${name} after its samples`);
        fam.type = rest.trim();
      }
      families.set(name, fam);
      continue;
    }
    if (line.trim() === '') throw new Error('/metrics: blank line');
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?[ \t]+(\S+)(?:[ \t]+(-?\d+))?$/.exec(line);
    if (!m) throw new Error(`/metrics: not a sample line: ${JSON.stringify(line)}`);
    const [, name, labelText = '', valueText] = m;
    const labels = {};
    let rest = labelText;
    while (rest.length) {
      const lm = /^([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"(,?)/.exec(rest);
      if (!lm) throw new Error(`/metrics: bad labels ${JSON.stringify(labelText)} in ${JSON.stringify(line)}`);
      if (lm[1] in labels) throw new Error(`/metrics: label ${lm[1]} twice in ${JSON.stringify(line)}`);
      labels[lm[1]] = lm[2].replace(/\\(.)/g, (_, c) => (c === 'n' ? '\n' : c));
      rest = rest.slice(lm[0].length);
      if (rest.length && !lm[3]) throw new Error(`/metrics: labels not comma-separated in ${JSON.stringify(line)}`);
    }
    const key = metricKey(name, labels);
    if (seen.has(key)) throw new Error(`/metrics: sample ${key} twice`);
    seen.add(key);
    samples.push({ name, labels, value: parseMetricValue(valueText, line), line });
  }
  const byKey = new Map(samples.map((s) => [metricKey(s.name, s.labels), s.value]));
  return {
    families,
    samples,
    value: (name, labels = {}) => byKey.get(metricKey(name, labels)),
    byName: (name) => samples.filter((s) => s.name === name),
  };
}

/** GET /metrics and parse it; resolves { status, headers, text, families, samples, value(), byName() }. */
export async function getMetrics(port, { timeoutMs = 3000 } = {}) {
  const r = await httpGet(port, '/metrics', { timeoutMs });
  if (r.status !== 200) throw new Error(`GET /metrics: HTTP ${r.status}: ${r.text.slice(0, 300)}`);
  return { status: r.status, headers: r.headers, text: r.text, ...parsePrometheus(r.text) };
}

/**
 * Open a WebSocket with full control of the handshake. opts: { origin,
 * headers, localAddress (e.g. '127.0.0.2'), autoPong (default true),
 * timeoutMs }. Resolves { status: 101, client } once open, or { status,
 * headers, body } when the server answered the upgrade with another HTTP
 * status; rejects on a network error or timeout. An opened client is not
 * registered anywhere: close it (or push it to h.clients).
 */
export function openWebSocket(url, { origin, headers = {}, localAddress, autoPong = true, timeoutMs = 5000 } = {}) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, {
      perMessageDeflate: false, handshakeTimeout: timeoutMs, autoPong, headers,
      ...(origin !== undefined ? { origin } : {}),
      ...(localAddress !== undefined ? { localAddress } : {}),
    });
    const client = new Client(ws, url);
    const onErr = (e) => reject(new Error(`connect ${url}: ${e.message}`));
    ws.once('error', onErr);
    ws.once('unexpected-response', (req, res) => {
      const chunks = [];
      res.on('data', (d) => chunks.push(d));
      const done = () => {
        ws.off('error', onErr);
        ws.on('error', () => {});
        req.destroy();
        resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') });
      };
      res.on('end', done);
      res.on('error', done);
      res.on('aborted', done);
      setTimeout(done, 1000).unref(); // a server that keeps the connection open after the status
    });
    ws.once('open', () => {
      ws.off('error', onErr);
      resolve({ status: 101, client });
    });
  });
}

/** A field of /proc/<pid>/status in kB (e.g. 'VmRSS', 'VmHWM'); Linux only. */
export function procStatusKb(pid, field = 'VmRSS') {
  const text = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = new RegExp(`^${field}:\\s+(\\d+)\\s+kB$`, 'm').exec(text);
  if (!m) throw new Error(`/proc/${pid}/status has no ${field}`);
  return Number(m[1]);
}

/**
 * PUBLISH many payloads on one channel, pipelined `batch` at a time on one
 * connection per batch. Resolves with the replies (receiver counts).
 */
export async function publishMany(port, channel, payloads, { batch = 500, timeoutMs = 20_000 } = {}) {
  const out = [];
  for (let i = 0; i < payloads.length; i += batch) {
    const cmds = payloads.slice(i, i + batch).map((p) => ['PUBLISH', channel, Buffer.isBuffer(p) ? p : Buffer.from(p, 'utf8')]);
    const replies = await redisCommands(port, cmds, { timeoutMs });
    for (const r of replies) if (r instanceof RedisError) throw r;
    out.push(...replies);
  }
  return out;
}

/**
 * The well-behaved-client check: wait until `client` (a Client or SSEClient
 * that got hello + snapshot on a fresh connection) has received the last
 * entry of `<prefix>:log` of its topics, then check its stream against the
 * log with checker.mjs (every entry after its snapshot exactly once, in
 * order, nothing extra) and that it is still connected. `log` overrides the
 * XRANGE read (e.g. entries collected while a burst ran past the log's cap).
 * Resolves { log, delivered } (delivered: the number of item/retract frames).
 */
export async function assertReceivedAll(redisPort, client, { name = 'well-behaved client', prefix = 'ticker', log, timeoutMs = 10_000, topics = [] } = {}) {
  const { readLog, streamOf, checkStream, cmpSeq, waitUntil, SEQ_RE: LOG_SEQ_RE } = await import('./checker.mjs');
  const truth = log || await readLog(redisPort, prefix);
  const stream = streamOf(name, client, topics);
  const mine = truth.filter((e) => topics.length === 0 || topics.includes(e.topic));
  if (mine.length) {
    const target = mine[mine.length - 1].seq;
    await waitUntil(() => {
      const last = stream.lastDelivered();
      return (last && LOG_SEQ_RE.test(last) && cmpSeq(last, target) >= 0) || client.closeCode !== null;
    }, timeoutMs, () => `${name} to receive up to the log's last entry ${target} (it is at ${stream.lastDelivered()}); ${client.describe()}`);
  }
  assert.equal(client.closeCode, null, `${name} was disconnected (${client.closeCode}): ${client.describe()}`);
  checkStream(stream, truth);
  const delivered = client.messages.filter((m) => m.json && (m.json.type === 'item' || m.json.type === 'retract')).length;
  return { log: truth, delivered };
}

/**
 * A WebSocket client on a raw TCP socket that, once the server has answered
 * the upgrade, never reads again (socket paused). Resolves { socket, status,
 * head (the response head), closed (a promise: 'close' of the socket) }.
 * Destroy the socket when done (or push { close: () => socket.destroy() } to h.clients).
 */
export function rawWebSocket(port, urlPath = '/ws', { host = '127.0.0.1', localAddress, headers = {}, timeoutMs = 5000 } = {}) {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port, ...(localAddress ? { localAddress } : {}) });
    let head = Buffer.alloc(0);
    const closed = new Promise((r) => socket.once('close', () => r(Date.now())));
    const timer = setTimeout(() => { socket.destroy(); reject(new Error(`raw WebSocket ${urlPath}: no answer within ${timeoutMs} ms`)); }, timeoutMs);
    socket.on('error', (e) => { clearTimeout(timer); reject(e); });
    socket.once('connect', () => {
      const extra = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('');
      socket.write(`GET ${urlPath} HTTP/1.1\r\nHost: ${host}:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n`
        + `Sec-WebSocket-Key: ${Buffer.from(Math.random().toString(36).padEnd(16, 'x').slice(0, 16)).toString('base64')}\r\n`
        + `Sec-WebSocket-Version: 13\r\n${extra}\r\n`);
    });
    const onData = (d) => {
      head = Buffer.concat([head, d]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      socket.pause();
      socket.off('data', onData);
      clearTimeout(timer);
      const text = head.subarray(0, end).toString('latin1');
      const m = /^HTTP\/1\.1 (\d{3})/.exec(text);
      resolve({ socket, status: m ? Number(m[1]) : null, head: text, closed });
    };
    socket.on('data', onData);
  });
}

/**
 * Follow `<prefix>:log` while it is written: XRANGE from the last entry seen,
 * `count` at a time on one persistent connection, at once again while
 * replies come back full, else after `everyMs`; so entries that a capped log
 * trims later are still captured. .entries has the shape of checker.mjs
 * readLog(). await .stop() ends it after one last read. (Entries trimmed
 * before the follower read them are missing: compare with what was published.)
 */
export function followLog(port, { prefix = 'ticker', count = 250, everyMs = 2, host = '127.0.0.1' } = {}) {
  const key = `${prefix}:log`;
  const f = { entries: [], running: true, reads: 0 };
  let last = null;
  const sock = net.connect({ host, port });
  let chunks = [];
  let pending = null; // { resolve, reject } of the command in flight
  sock.on('data', (d) => {
    chunks.push(d);
    if (!pending) return;
    const buf = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
    chunks = [buf];
    let r;
    try { r = parseResp(buf, 0); } catch (e) { pending.reject(e); pending = null; return; }
    if (!r) return;
    chunks = r.next < buf.length ? [buf.subarray(r.next)] : [];
    const p = pending;
    pending = null;
    p.resolve(r.value);
  });
  const dead = new Promise((resolve, reject) => {
    sock.on('error', (e) => { if (pending) pending.reject(e); pending = null; reject(e); });
    sock.on('close', () => { if (pending) pending.reject(new Error('followLog: connection closed')); pending = null; resolve(); });
  });
  dead.catch(() => {});
  const connected = new Promise((resolve, reject) => { sock.once('connect', resolve); sock.once('error', reject); });
  const command = (args) => new Promise((resolve, reject) => {
    pending = { resolve, reject };
    sock.write(encodeCommand(args));
  });
  const readOnce = async () => {
    await connected;
    for (;;) {
      const r = await command(['XRANGE', key, last === null ? '-' : `(${last}`, '+', 'COUNT', String(count)]);
      if (r instanceof RedisError) throw r;
      f.reads++;
      for (const [id, kv] of r) {
        const fields = {};
        for (let i = 0; i + 1 < kv.length; i += 2) fields[kv[i].toString('utf8')] = kv[i + 1];
        const seq = id.toString('utf8');
        f.entries.push({ seq, topic: fields.topic ? fields.topic.toString('utf8') : undefined, payload: fields.payload, fields });
        last = seq;
      }
      if (r.length < count) return;
    }
  };
  const loop = (async () => {
    while (f.running) {
      await readOnce();
      await sleep(everyMs);
    }
  })().catch((e) => { f.error = e; });
  f.stop = async () => {
    f.running = false;
    await loop;
    try {
      if (f.error) throw f.error;
      await readOnce();
    } finally {
      sock.destroy();
    }
    return f.entries;
  };
  return f;
}

/** The ids of the items a Client or SSEClient received, in order. */
export function receivedItemIds(c) {
  return c.messages.filter((m) => m.json && m.json.type === 'item').map((m) => m.json.item.id);
}

/**
 * Assert that client received the items `ids` (those of its items whose id
 * passes `filter`) exactly once each, in this order, with increasing seqs.
 */
export function assertItemsInOrder(c, ids, name = c.url, filter = () => true) {
  const got = receivedItemIds(c).filter(filter);
  if (got.length !== ids.length || got.some((id, i) => id !== ids[i])) {
    const have = new Set(got);
    const missing = ids.filter((id) => !have.has(id));
    const firstBad = got.findIndex((id, i) => id !== ids[i]);
    const dups = got.length - have.size;
    assert.fail(`${name}: received ${got.length} of ${ids.length} items; ${missing.length} missing`
      + (missing.length ? ` (${missing.slice(0, 5).join(' ')}${missing.length > 5 ? ` … ${missing.slice(-3).join(' ')}` : ''})` : '')
      + `${dups ? `; ${dups} duplicate(s)` : ''}; first divergence at position ${firstBad < 0 ? got.length : firstBad}: `
      + `got ${got[firstBad] ?? '(nothing)'}, expected ${ids[firstBad < 0 ? got.length : firstBad]}`);
  }
  const seqs = c.messages.filter((m) => m.json && m.json.type === 'item').map((m) => m.json.item.seq);
  for (let i = 1; i < seqs.length; i++) {
    assert.ok(seqKey(seqs[i - 1]) < seqKey(seqs[i]), `${name}: seq not increasing at ${i}: ${seqs[i - 1]} then ${seqs[i]}`);
  }
}

/**
 * Three clients that stop reading right after their greeting: a ws client
 * whose socket is paused, a raw TCP WebSocket that never reads, and an
 * EventSource whose response is paused. Torn down with the scenario `h`.
 * .resumeAll() makes them read again (to see how their connections ended);
 * .ended(ms) resolves once all three connections are closed (rejects after ms).
 */
export async function openNeverReaders(h, tickerd) {
  const r = await openWebSocket(tickerd.wsUrl());
  assert.equal(r.status, 101, `WebSocket handshake: HTTP ${r.status}`);
  const ws = r.client;
  h.clients.push(ws);
  await ws.ready();
  ws.ws._socket.pause();

  const raw = await rawWebSocket(tickerd.port, '/ws');
  assert.equal(raw.status, 101, `raw WebSocket handshake: ${raw.head}`);
  h.defer(() => raw.socket.destroy());

  const sse = await connectSSE(tickerd.port, '/events');
  h.clients.push(sse);
  assert.equal(sse.status, 200, `EventSource: HTTP ${sse.status}`);
  await sse.ready();
  sse._req.res.pause();
  sse._req.socket.pause();
  return {
    ws,
    raw,
    sse,
    count: 3,
    resumeAll() {
      ws.ws._socket.resume();
      raw.socket.on('data', () => {});
      raw.socket.resume();
      sse._req.res.resume();
      sse._req.socket.resume();
    },
    async ended(ms = 5000) {
      const within = (p, what) => Promise.race([p, sleep(ms).then(() => { throw new Error(`${what}: connection still open ${ms} ms after it was culled`); })]);
      await within(ws.closed, 'paused WebSocket');
      await within(raw.closed, 'raw TCP WebSocket');
      await within(sse.closed, 'paused EventSource');
    },
  };
}
