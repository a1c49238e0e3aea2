// Redis over raw RESP: encoder/parser, commands, publish, publishMany, redisCall, redisCli, followLog.

import { execFile } from 'node:child_process';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

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

/** One command on a fresh connection; resolves with its reply, rejects on a Redis error reply. */
export async function redisCall(port, args, { timeoutMs = 5000, password } = {}) {
  const cmds = [];
  if (password !== undefined) cmds.push(['AUTH', password]);
  cmds.push(args);
  const replies = await redisCommands(port, cmds, { timeoutMs });
  for (const r of replies) if (r instanceof RedisError) throw new RedisError(`${args[0]}: ${r.message}`);
  return replies[replies.length - 1];
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
