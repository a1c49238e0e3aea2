// Helpers of the defects-http*.test.mjs files: refusals counted in
// /metrics, the Host a browser sends, one request expecting a status, the
// four requests a slowloris test times from another address.

import assert from 'node:assert/strict';
import { getMetrics } from './metrics.mjs';
import { buildRequest, rawConnect, rawRequest, rawWsOpen } from './rawhttp.mjs';

export const REFUSED = 'tickerd_handshakes_refused_total';

/** tickerd_handshakes_refused_total{reason} in a parsed /metrics (0 when the label is absent). */
export function refused(m, reason) {
  return m.value(REFUSED, { reason }) ?? 0;
}

export async function refusedDelta(port, m0, reason) {
  return refused(await getMetrics(port), reason) - refused(m0, reason);
}

/** Own host:port, as a browser would send it in Host. */
export const hostOf = (port) => `127.0.0.1:${port}`;

/**
 * Send one request on a fresh connection and expect `status`, then the
 * connection closed (within 1 s). Rejects with `what` in the message when
 * nothing came back.
 */
export async function expectStatus(port, bytes, status, what, { localAddress, method, closes = true, timeoutMs = 3000 } = {}) {
  let r;
  try {
    r = await rawRequest(port, bytes, { localAddress, method, timeoutMs, closeWaitMs: closes ? 1000 : 0 });
  } catch (e) {
    throw new Error(`${what}: expected HTTP ${status}; ${e.message}`);
  }
  assert.equal(r.status, status, `${what}: expected HTTP ${status}, got ${r.status}\n${r.headText}\n${r.text.slice(0, 200)}`);
  if (closes) assert.ok(r.closed, `${what}: the connection must be closed after the ${status} (still open 1 s later)\n${r.headText}`);
  return r;
}

/** An Origin of exactly n bytes that is nobody's (https://aaa….example). */
export function longOrigin(n) {
  const pre = 'https://';
  const post = '.example';
  return pre + 'a'.repeat(n - pre.length - post.length) + post;
}

/**
 * From localAddress: a WebSocket handshake (to its 101), an EventSource
 * request (to its hello), /healthz and /ticker.js (whole). Each one's time
 * in ms, or the reason it did not complete within 3 s.
 */
export async function fourRequests(port, localAddress) {
  const out = {};
  const time = async (name, fn) => {
    const t0 = Date.now();
    try {
      await fn();
      out[name] = Date.now() - t0;
    } catch (e) {
      out[name] = `failed after ${Date.now() - t0} ms: ${e.message.split('\n')[0].slice(0, 200)}`;
    }
  };
  await time('websocket', async () => {
    const r = await rawWsOpen(port, '/ws', { localAddress, timeoutMs: 3000 });
    r.conn.destroy();
    if (r.status !== 101) throw new Error(`HTTP ${r.status}`);
  });
  await time('eventsource', async () => {
    const c = await rawConnect(port, { localAddress });
    try {
      await c.write(buildRequest('GET', '/events', { host: hostOf(port), headers: { Accept: 'text/event-stream' } }));
      const head = await c.readHead({ timeoutMs: 3000 });
      if (head.status !== 200) throw new Error(`HTTP ${head.status}`);
      if (!await c.waitUntil(() => c.buf.includes('event: hello'), 3000)) throw new Error('no hello event');
    } finally { c.destroy(); }
  });
  await time('healthz', async () => {
    const r = await rawRequest(port, buildRequest('GET', '/healthz', { host: hostOf(port), headers: { Connection: 'close' } }), { localAddress, closeWaitMs: 0 });
    if (r.status !== 200) throw new Error(`HTTP ${r.status}`);
  });
  await time('static file', async () => {
    const r = await rawRequest(port, buildRequest('GET', '/ticker.js', { host: hostOf(port), headers: { Connection: 'close' } }), { localAddress, closeWaitMs: 0 });
    if (r.status !== 200 || r.body.length < 1000) throw new Error(`HTTP ${r.status}, ${r.body.length} bytes`);
  });
  return out;
}

export function assertAllFast(times, what) {
  const slow = Object.entries(times).filter(([, v]) => typeof v !== 'number' || v >= 1000);
  assert.deepEqual(slow, [], `${what}: every request from 127.0.0.2 must complete within 1000 ms; got ${JSON.stringify(times)}`);
}
