// WebSocket clients: the Client wrapper, connect, openWebSocket, rawWebSocket, openNeverReaders.

import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { connectSSE } from './sse.mjs';
import { MessageStream } from './stream.mjs';

// ---------------------------------------------------------------------------
// WebSocket client wrapper

export class Client extends MessageStream {
  constructor(ws, url) {
    super(url);
    this.ws = ws;
    this.closeReason = null;
    this.errors = [];
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

/**
 * Connect a WebSocket client; resolves once open. perMessageDeflate: false
 * (no offer), true or ws's options object (e.g. { serverMaxWindowBits: 10 }).
 */
export function connect(url, { timeoutMs = 5000, perMessageDeflate = false } = {}) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate, handshakeTimeout: timeoutMs });
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
