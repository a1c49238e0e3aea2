// Raw HTTP and WebSocket clients that behave like attackers: exact bytes on a
// `net` socket (any method, version, header, size or timing), responses read
// and parsed by hand (status, every header as sent, body by Content-Length,
// chunked or until close), WebSocket frames built and parsed by hand (masked
// or not, any opcode, fragments, bad close codes), and the CPU time of a
// process from /proc.

import net from 'node:net';
import fs from 'node:fs';
import crypto from 'node:crypto';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';

// ---------------------------------------------------------------------------
// Requests

/**
 * The bytes of one request head: `${method} ${target} ${version}`, then the
 * headers (an object or an array of [name, value] pairs, so a header can be
 * repeated; a Host header is added first unless host is null or one is
 * given), then the blank line. Returns a string (latin1 when written).
 */
export function buildRequest(method, target, { version = 'HTTP/1.1', host, headers = {} } = {}) {
  const pairs = Array.isArray(headers) ? headers : Object.entries(headers);
  const hasHost = pairs.some(([k]) => k.toLowerCase() === 'host');
  const lines = [`${method} ${target} ${version}`];
  if (!hasHost && host !== null && host !== undefined) lines.push(`Host: ${host}`);
  for (const [k, v] of pairs) lines.push(`${k}: ${v}`);
  return `${lines.join('\r\n')}\r\n\r\n`;
}

function toBuf(b) {
  return Buffer.isBuffer(b) ? b : Buffer.from(b, 'latin1');
}

function printable(buf, max = 400) {
  const s = buf.subarray(0, max).toString('latin1').replace(/[^\x20-\x7e\r\n]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
  return JSON.stringify(s) + (buf.length > max ? `… (${buf.length} bytes)` : '');
}

/**
 * One raw TCP connection. Everything received is kept in .received (all of
 * it) and .buf (not yet consumed by readHead/readResponse). .closedAt is the
 * Date.now() of 'close' (null while open); .openedAt that of 'connect'.
 */
export class RawConn {
  constructor(socket) {
    this.socket = socket;
    this.received = Buffer.alloc(0);
    this.buf = Buffer.alloc(0);
    this.openedAt = null;
    this.closedAt = null;
    this.errors = [];
    this._waiters = new Set();
    this.closed = new Promise((resolve) => {
      socket.on('close', () => {
        this.closedAt = Date.now();
        resolve(this.closedAt);
        this._poke();
      });
    });
    socket.on('error', (e) => { this.errors.push(e); });
    socket.on('data', (d) => {
      this.received = Buffer.concat([this.received, d]);
      this.buf = Buffer.concat([this.buf, d]);
      this._poke();
    });
  }

  get isClosed() {
    return this.closedAt !== null;
  }

  _poke() {
    for (const w of [...this._waiters]) w();
  }

  /** Write bytes (string: latin1); resolves when handed to the kernel, false if the socket failed. */
  write(bytes) {
    return new Promise((resolve) => {
      if (this.socket.destroyed || !this.socket.writable) { resolve(false); return; }
      this.socket.write(toBuf(bytes), (err) => resolve(!err));
    });
  }

  /**
   * Wait until pred() holds (checked on every arrival and on close) or ms
   * pass. Resolves true when it holds, false on timeout or when the
   * connection closed without it holding.
   */
  waitUntil(pred, ms) {
    return new Promise((resolve) => {
      let timer;
      const check = () => {
        if (pred()) { done(true); return; }
        if (this.isClosed) done(false);
      };
      const done = (v) => {
        clearTimeout(timer);
        this._waiters.delete(check);
        resolve(v);
      };
      timer = setTimeout(() => done(pred()), ms);
      this._waiters.add(check);
      check();
    });
  }

  /** Resolve { closed: boolean, ms (since this call) } once closed or after ms. */
  async waitClosed(ms) {
    const t0 = Date.now();
    await this.waitUntil(() => this.isClosed, ms);
    return { closed: this.isClosed, ms: (this.closedAt ?? Date.now()) - t0 };
  }

  /** Describe the connection's state for an assertion message. */
  describe() {
    return `received ${this.received.length} byte(s) ${printable(this.received)}; ${this.isClosed ? 'closed' : 'still open'}`
      + (this.errors.length ? `; errors: ${this.errors.map((e) => e.code || e.message).join(', ')}` : '');
  }

  /**
   * Read one response head from .buf (consuming it). Resolves { status,
   * version, reason, headers (lower-case name -> values joined by ', '),
   * rawHeaders ([name, value] as sent), headText, ms }. Rejects when no
   * complete head arrives within timeoutMs, or the connection closes first.
   */
  async readHead({ timeoutMs = 3000 } = {}) {
    const t0 = Date.now();
    const ok = await this.waitUntil(() => this.buf.indexOf('\r\n\r\n') >= 0, timeoutMs);
    if (!ok) {
      throw new Error(`no complete HTTP response head within ${timeoutMs} ms (${this.isClosed ? 'connection closed' : 'connection still open'}); ${this.describe()}`);
    }
    const end = this.buf.indexOf('\r\n\r\n');
    const headText = this.buf.subarray(0, end).toString('latin1');
    this.buf = this.buf.subarray(end + 4);
    const [statusLine, ...lines] = headText.split('\r\n');
    const m = /^(HTTP\/\d\.\d) (\d{3})(?: (.*))?$/.exec(statusLine);
    if (!m) throw new Error(`not an HTTP status line: ${JSON.stringify(statusLine)}`);
    const headers = {};
    const rawHeaders = [];
    for (const line of lines) {
      const c = line.indexOf(':');
      if (c <= 0) throw new Error(`bad response header line ${JSON.stringify(line)} in ${JSON.stringify(headText)}`);
      const name = line.slice(0, c);
      const value = line.slice(c + 1).trim();
      rawHeaders.push([name, value]);
      const k = name.toLowerCase();
      headers[k] = k in headers ? `${headers[k]}, ${value}` : value;
    }
    return { version: m[1], status: Number(m[2]), reason: m[3] ?? '', headers, rawHeaders, headText, ms: Date.now() - t0 };
  }

  /**
   * Read one whole response (head and body). method: the request's method
   * (HEAD: no body). The body is read by Content-Length, chunked coding, or
   * until the connection closes (then within timeoutMs). Resolves the head's
   * fields plus { body: Buffer, text, ms (from this call to the last byte) }.
   */
  async readResponse({ method = 'GET', timeoutMs = 3000 } = {}) {
    const t0 = Date.now();
    const head = await this.readHead({ timeoutMs });
    const left = () => Math.max(1, timeoutMs - (Date.now() - t0));
    let body = Buffer.alloc(0);
    const noBody = method === 'HEAD' || head.status === 204 || head.status === 304 || (head.status >= 100 && head.status < 200);
    if (!noBody) {
      const te = (head.headers['transfer-encoding'] || '').toLowerCase();
      const cl = head.headers['content-length'];
      if (te.includes('chunked')) {
        body = await this._readChunked(left, head);
      } else if (cl !== undefined) {
        const n = Number(cl);
        if (!Number.isInteger(n) || n < 0) throw new Error(`bad Content-Length ${JSON.stringify(cl)}`);
        const ok = await this.waitUntil(() => this.buf.length >= n, left());
        if (!ok) throw new Error(`response ${head.status}: body of ${n} bytes not complete within ${timeoutMs} ms (have ${this.buf.length}); ${this.describe()}`);
        body = this.buf.subarray(0, n);
        this.buf = this.buf.subarray(n);
      } else {
        const ok = await this.waitUntil(() => this.isClosed, left());
        if (!ok) throw new Error(`response ${head.status} without length: connection not closed within ${timeoutMs} ms; ${this.describe()}`);
        body = this.buf;
        this.buf = Buffer.alloc(0);
      }
    }
    return { ...head, body, text: body.toString('utf8'), ms: Date.now() - t0 };
  }

  async _readChunked(left, head) {
    const parts = [];
    for (;;) {
      const ok = await this.waitUntil(() => this.buf.indexOf('\r\n') >= 0, left());
      if (!ok) throw new Error(`response ${head.status}: chunk size line not complete; ${this.describe()}`);
      const eol = this.buf.indexOf('\r\n');
      const n = parseInt(this.buf.subarray(0, eol).toString('latin1'), 16);
      if (!Number.isInteger(n)) throw new Error(`bad chunk size line ${printable(this.buf.subarray(0, eol))}`);
      const need = eol + 2 + n + 2;
      const ok2 = await this.waitUntil(() => this.buf.length >= need, left());
      if (!ok2) throw new Error(`response ${head.status}: chunk of ${n} bytes not complete; ${this.describe()}`);
      parts.push(this.buf.subarray(eol + 2, eol + 2 + n));
      this.buf = this.buf.subarray(need);
      if (n === 0) return Buffer.concat(parts);
    }
  }

  destroy() {
    this.socket.destroy();
  }
}

/**
 * Open a raw TCP connection; resolves a RawConn once connected.
 * opts: { host, localAddress (e.g. '127.0.0.2'), timeoutMs }.
 */
export function rawConnect(port, { host = '127.0.0.1', localAddress, timeoutMs = 3000 } = {}) {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port, ...(localAddress ? { localAddress } : {}) });
    const conn = new RawConn(socket);
    const timer = setTimeout(() => { socket.destroy(); reject(new Error(`connect ${host}:${port}: timeout after ${timeoutMs} ms`)); }, timeoutMs);
    socket.once('error', (e) => { clearTimeout(timer); reject(e); });
    socket.once('connect', () => {
      clearTimeout(timer);
      conn.openedAt = Date.now();
      resolve(conn);
    });
  });
}

/**
 * Send `bytes` on a fresh connection and read one response. Resolves the
 * response ({ status, headers, rawHeaders, body, text, ms (from connect to
 * the last byte) ... }) plus { closed: whether the server closed the
 * connection within closeWaitMs after the response, conn }. The connection
 * is destroyed unless keep is set. Rejects when no response arrives
 * (the error says what did).
 */
export async function rawRequest(port, bytes, { method, localAddress, timeoutMs = 3000, closeWaitMs = 1000, keep = false } = {}) {
  const t0 = Date.now();
  const conn = await rawConnect(port, { localAddress });
  try {
    await conn.write(bytes);
    const m = method ?? /^([A-Z]+) /.exec(toBuf(bytes).subarray(0, 16).toString('latin1'))?.[1] ?? 'GET';
    const r = await conn.readResponse({ method: m, timeoutMs });
    const { closed } = closeWaitMs > 0 ? await conn.waitClosed(closeWaitMs) : { closed: conn.isClosed };
    return { ...r, ms: Date.now() - t0, closed, conn };
  } finally {
    if (!keep) conn.destroy();
  }
}

// ---------------------------------------------------------------------------
// Headers every response must carry (the SPEC's item 6)

/** Assert the three hardening headers; what names the response in messages. */
export function assertHardenedHeaders(r, what) {
  const h = r.headers;
  assert.equal(h['x-content-type-options'], 'nosniff', `${what}: X-Content-Type-Options must be nosniff; head:\n${r.headText}`);
  assert.equal(h['referrer-policy'], 'strict-origin-when-cross-origin', `${what}: Referrer-Policy; head:\n${r.headText}`);
  assert.match(h['content-security-policy'] ?? '', /^default-src 'none'/, `${what}: Content-Security-Policy must start with default-src 'none'; head:\n${r.headText}`);
}

// ---------------------------------------------------------------------------
// WebSocket frames

/** A random Sec-WebSocket-Key (base64 of 16 bytes). */
export function wsKey() {
  return crypto.randomBytes(16).toString('base64');
}

/** The Sec-WebSocket-Accept a server must answer to key. */
export function wsAccept(key) {
  return crypto.createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
}

export const OP = { CONT: 0, TEXT: 1, BINARY: 2, CLOSE: 8, PING: 9, PONG: 10 };

/**
 * One WebSocket frame: { opcode, payload (Buffer|string), fin = true,
 * mask = true (clients must mask), rsv = 0 (bits 4..6 of byte 0) }.
 */
export function wsFrame({ opcode, payload = Buffer.alloc(0), fin = true, mask = true, rsv = 0 }) {
  const data = Buffer.isBuffer(payload) ? payload : Buffer.from(payload, 'utf8');
  const len = data.length;
  const ext = len < 126 ? 0 : len < 65536 ? 2 : 8;
  const head = Buffer.alloc(2 + ext + (mask ? 4 : 0));
  head[0] = (fin ? 0x80 : 0) | ((rsv & 7) << 4) | (opcode & 0x0f);
  head[1] = (mask ? 0x80 : 0) | (ext === 0 ? len : ext === 2 ? 126 : 127);
  if (ext === 2) head.writeUInt16BE(len, 2);
  if (ext === 8) head.writeBigUInt64BE(BigInt(len), 2);
  if (!mask) return Buffer.concat([head, data]);
  const key = crypto.randomBytes(4);
  key.copy(head, 2 + ext);
  const out = Buffer.alloc(len);
  for (let i = 0; i < len; i++) out[i] = data[i] ^ key[i & 3];
  return Buffer.concat([head, out]);
}

/** A close frame's payload: 2-byte code then the reason (omit code for an empty body). */
export function closePayload(code, reason = '') {
  if (code === undefined) return Buffer.alloc(0);
  const b = Buffer.alloc(2);
  b.writeUInt16BE(code, 0);
  return Buffer.concat([b, Buffer.from(reason, 'utf8')]);
}

/** Parse the complete frames at the start of buf: { frames: [{ fin, rsv, opcode, masked, payload }], rest }. */
export function parseFrames(buf) {
  const frames = [];
  let off = 0;
  for (;;) {
    if (buf.length - off < 2) break;
    const b0 = buf[off];
    const b1 = buf[off + 1];
    let len = b1 & 0x7f;
    let pos = off + 2;
    if (len === 126) {
      if (buf.length - pos < 2) break;
      len = buf.readUInt16BE(pos);
      pos += 2;
    } else if (len === 127) {
      if (buf.length - pos < 8) break;
      len = Number(buf.readBigUInt64BE(pos));
      pos += 8;
    }
    const masked = (b1 & 0x80) !== 0;
    let key;
    if (masked) {
      if (buf.length - pos < 4) break;
      key = buf.subarray(pos, pos + 4);
      pos += 4;
    }
    if (buf.length - pos < len) break;
    let payload = Buffer.from(buf.subarray(pos, pos + len));
    if (masked) for (let i = 0; i < len; i++) payload[i] ^= key[i & 3];
    frames.push({ fin: (b0 & 0x80) !== 0, rsv: (b0 >> 4) & 7, opcode: b0 & 0x0f, masked, payload });
    off = pos + len;
  }
  return { frames, rest: buf.subarray(off) };
}

/**
 * A WebSocket on a RawConn after its 101: .frames (every frame received, in
 * order), nextFrame(pred, ms), closeFrame(ms), messages of JSON text frames.
 */
export class RawWs {
  constructor(conn, response) {
    this.conn = conn;
    this.response = response;
    this.frames = [];
    this.cursor = 0;
    this._take();
    conn.socket.on('data', () => this._take());
  }

  _take() {
    const { frames, rest } = parseFrames(this.conn.buf);
    if (frames.length) {
      this.frames.push(...frames);
      this.conn.buf = rest;
    }
  }

  send(frame) {
    return this.conn.write(frame);
  }

  /** The next frame (from the cursor) that satisfies pred, or null after ms / on close. */
  async nextFrame(pred = () => true, ms = 3000) {
    let found = null;
    const scan = () => {
      this._take();
      for (let i = this.cursor; i < this.frames.length; i++) {
        if (pred(this.frames[i])) {
          this.cursor = i + 1;
          found = this.frames[i];
          return true;
        }
      }
      return false;
    };
    await this.conn.waitUntil(scan, ms);
    return found;
  }

  /** Await hello then snapshot (JSON text frames); resolves { hello, snapshot }. */
  async ready(ms = 3000) {
    const f1 = await this.nextFrame((f) => f.opcode === OP.TEXT, ms);
    const f2 = await this.nextFrame((f) => f.opcode === OP.TEXT, ms);
    assert.ok(f1 && f2, `raw WebSocket: no hello + snapshot within ${ms} ms; ${this.describe()}`);
    const hello = JSON.parse(f1.payload.toString('utf8'));
    const snapshot = JSON.parse(f2.payload.toString('utf8'));
    assert.equal(hello.type, 'hello');
    assert.equal(snapshot.type, 'snapshot');
    return { hello, snapshot };
  }

  /**
   * Wait for the server's close frame (searching every frame received so
   * far). Resolves { code (null for an empty body), reason, ms } or null when
   * none came within ms (closed without one, or still open).
   */
  async closeFrame(ms = 3000) {
    const t0 = Date.now();
    let f = null;
    await this.conn.waitUntil(() => {
      this._take();
      f = this.frames.find((x) => x.opcode === OP.CLOSE) ?? null;
      return f !== null;
    }, ms);
    if (!f) return null;
    return {
      code: f.payload.length >= 2 ? f.payload.readUInt16BE(0) : null,
      reason: f.payload.subarray(2).toString('utf8'),
      ms: Date.now() - t0,
    };
  }

  /** JSON of the text frames received so far. */
  texts() {
    this._take();
    return this.frames.filter((f) => f.opcode === OP.TEXT).map((f) => {
      try { return JSON.parse(f.payload.toString('utf8')); } catch { return f.payload.toString('utf8'); }
    });
  }

  describe() {
    this._take();
    const fs_ = this.frames.slice(-6).map((f) => `${f.opcode}${f.fin ? '' : '(nofin)'}:${JSON.stringify(f.payload.toString('utf8').slice(0, 80))}`);
    return `${this.frames.length} frame(s) [${fs_.join(' ')}]; ${this.conn.isClosed ? 'connection closed' : 'connection open'}`
      + `${this.conn.buf.length ? `; ${this.conn.buf.length} unparsed byte(s)` : ''}`;
  }

  destroy() {
    this.conn.destroy();
  }
}

/**
 * Open a WebSocket by hand on a raw socket. opts: { localAddress, headers
 * (extra, object or [name, value] pairs), key, version = '13', origin,
 * timeoutMs }. Resolves { status, response, ws (a RawWs when 101), conn };
 * a 101 is checked for a correct Sec-WebSocket-Accept.
 */
export async function rawWsOpen(port, target = '/ws', { localAddress, headers = [], key = wsKey(), version = '13', origin, timeoutMs = 3000 } = {}) {
  const conn = await rawConnect(port, { localAddress });
  const extra = Array.isArray(headers) ? headers : Object.entries(headers);
  const hs = [
    ['Upgrade', 'websocket'],
    ['Connection', 'Upgrade'],
    ['Sec-WebSocket-Key', key],
    ['Sec-WebSocket-Version', version],
    ...(origin !== undefined ? [['Origin', origin]] : []),
    ...extra,
  ];
  await conn.write(buildRequest('GET', target, { host: `127.0.0.1:${port}`, headers: hs }));
  const head = await conn.readHead({ timeoutMs });
  if (head.status !== 101) {
    // Read the refusal's body too.
    conn.buf = Buffer.concat([Buffer.from(`${head.headText}\r\n\r\n`, 'latin1'), conn.buf]);
    const r = await conn.readResponse({ timeoutMs });
    return { status: r.status, response: r, conn };
  }
  assert.equal(head.headers['sec-websocket-accept'], wsAccept(key), `101 with a wrong Sec-WebSocket-Accept:\n${head.headText}`);
  return { status: 101, response: head, conn, ws: new RawWs(conn, head) };
}

// ---------------------------------------------------------------------------
// CPU time of a process

let clkTck;
/** Clock ticks per second (getconf CLK_TCK). */
export function clockTicks() {
  if (!clkTck) clkTck = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  return clkTck;
}

/** utime + stime of pid in seconds, from /proc/<pid>/stat. */
export function processCpuSeconds(pid) {
  const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = f.slice(f.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / clockTicks();
}
