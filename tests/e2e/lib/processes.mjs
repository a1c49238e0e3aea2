// Spawned processes and temp dirs: spare ports, redis-server, tickerd, waitForHealth, teardown.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { REPO, TICKERD_BIN, WEB_DIR, REDIS_BIN } from './config.mjs';
import { redisCommands, publish } from './redis.mjs';
import { getHealth } from './metrics.mjs';

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
export function spawnTracked(cmd, args, opts = {}) {
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
export async function stopTracked(p, signal = 'SIGTERM', graceMs = 5000) {
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

/**
 * Poll /healthz until pred({status,json}) holds; returns the last health.
 * probe(port) reads it (default getHealth; a tickerd behind
 * --proxy-protocol needs a PROXY header first).
 */
export async function waitForHealth(port, pred, { timeoutMs = 10_000, what = 'condition', proc, probe = getHealth } = {}) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    if (proc && !proc.isRunning()) {
      throw new Error(`tickerd exited while waiting for /healthz ${what}: ${JSON.stringify(await proc.exited)}`);
    }
    try {
      last = await probe(port);
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
 * opts: { redisUrl, args: [], env: {}, web, waitHealthy = true, configViaEnv = false,
 *         probe (reads /healthz: see waitForHealth) }
 * Returns { port, pid, httpUrl, wsUrl(query), log(), health(), stop(signal), exited, isRunning() }.
 */
export async function startTickerd(opts = {}) {
  // opts.port: a port other processes share (--reuse-port); else a spare one.
  const port = opts.port ?? await freePort();
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
    health: () => (opts.probe || getHealth)(port),
    /** Send a signal (default SIGTERM) and await exit; SIGKILL after graceMs. */
    stop: (signal = 'SIGTERM', graceMs = 5000) => stopTracked(p, signal, graceMs),
    /** Send a signal without waiting. */
    kill: (signal) => process.kill(p.child.pid, signal),
  };
  // On a shared port, only this process's own answer says it is ready.
  const mine = (h) => opts.port === undefined || (h.json && h.json.pid === p.child.pid);
  const ready = opts.waitHealthy === false
    ? (h) => typeof h.status === 'number' // only wait until the HTTP side answers at all
    : (h) => h.status === 200 && mine(h);
  try {
    await waitForHealth(port, ready, { timeoutMs: 10_000, what: opts.waitHealthy === false ? 'answering' : '200', proc: p, probe: opts.probe || getHealth });
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
