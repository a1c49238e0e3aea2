// Issue 6, origin allow-list (spec: "Issue 6 additions", --allow-origin).
// A WebSocket upgrade or EventSource request from a page origin that is not
// listed is refused with HTTP 403 and counted in
// tickerd_handshakes_refused_total{reason="origin"}; the server's own origin
// (http://<Host>), listed origins and requests with no Origin header are
// admitted; --allow-origin '*' admits any. A well-behaved client connected
// all along receives every item (checked against XRANGE ticker:log).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  scenario, publish, getMetrics, openWebSocket, connectSSE, assertReceivedAll,
  itemPublisher as publisher, trackedWebSocket as ws,
} from './harness.mjs';

const T = { timeout: 30_000 };
const REFUSED = 'tickerd_handshakes_refused_total';

/** Publish `k` numbered items on ticker:world. */

/** Open a WebSocket and keep it for teardown when it opened. */

async function sse(h, port, opts) {
  const s = await connectSSE(port, '/events', opts);
  h.clients.push(s);
  return s;
}

function assertRefusedStream(s, what) {
  assert.equal(s.status, 403, `${what}: expected HTTP 403, got ${s.status} ${JSON.stringify(s.headers)} ${s.rawText.slice(0, 200)}`);
  assert.doesNotMatch(String(s.headers['content-type'] ?? ''), /event-stream/i, `${what}: a refused request must not start an event stream`);
}

test('origin allow-list: unlisted origins get 403 on /ws and /events and are counted; listed, own and absent origins are admitted', T, scenario(async (t, h) => {
  const { redis, tickerd } = await h.env({
    // Comma-separated and repeated forms of the flag.
    args: ['--allow-origin', 'https://news.example, https://wall.example:8443', '--allow-origin', 'https://desk.example'],
  });
  const pub = publisher(redis, 'orig');
  const good = await h.client(tickerd.wsUrl());
  await good.ready();
  await pub(2);
  const m0 = await getMetrics(tickerd.port);
  const own = `http://127.0.0.1:${tickerd.port}`;

  // Refused: not listed, or listed-looking but not the same origin.
  const unlisted = [
    'https://evil.example',
    'http://news.example', // scheme differs
    'https://news.example:444', // port differs
    'https://news.example.evil.example', // suffix trick
    'https://evil.example/https://news.example', // not an origin at all
    'null', // sandboxed iframes, file: pages
    `http://127.0.0.1:${tickerd.port === 65535 ? 1 : tickerd.port + 1}`, // our host, another port
  ];
  for (const origin of unlisted) {
    const r = await ws(h, tickerd.wsUrl(), { origin });
    assert.equal(r.status, 403, `WebSocket from Origin ${origin}: expected 403, got ${r.status}`);
    await pub(1);
  }
  const sseRefused = ['https://evil.example', 'null'];
  for (const origin of sseRefused) {
    const s = await sse(h, tickerd.port, { headers: { Origin: origin } });
    assertRefusedStream(s, `EventSource from Origin ${origin}`);
    await s.closed;
    await pub(1);
  }
  const m1 = await getMetrics(tickerd.port);
  assert.equal(m1.value(REFUSED, { reason: 'origin' }) - m0.value(REFUSED, { reason: 'origin' }), unlisted.length + sseRefused.length,
    `${REFUSED}{reason="origin"} must grow by one per refused handshake`);
  for (const reason of ['max_clients', 'max_per_ip']) {
    assert.equal(m1.value(REFUSED, { reason }), m0.value(REFUSED, { reason }), `${REFUSED}{reason="${reason}"} must not move`);
  }
  assert.equal(m1.value('tickerd_clients'), 1, 'refused handshakes must not count as clients');

  // Admitted: listed (each form of the flag), own origin (http(s)://<Host>, per spec), no Origin.
  const admitted = [];
  for (const origin of ['https://news.example', 'https://wall.example:8443', 'https://desk.example', own, `https://127.0.0.1:${tickerd.port}`]) {
    const r = await ws(h, tickerd.wsUrl(), { origin });
    assert.equal(r.status, 101, `WebSocket from Origin ${origin}: expected to be admitted, got HTTP ${r.status} ${r.body ?? ''}`);
    await r.client.ready();
    admitted.push([origin, r.client]);
  }
  const plain = await h.client(tickerd.wsUrl()); // no Origin header at all
  await plain.ready();
  admitted.push(['(none)', plain]);
  const sseAdmitted = [];
  for (const origin of ['https://news.example', own, undefined]) {
    const s = await sse(h, tickerd.port, origin ? { headers: { Origin: origin } } : {});
    assert.equal(s.status, 200, `EventSource from Origin ${origin ?? '(none)'}: HTTP ${s.status} ${s.rawText.slice(0, 200)}`);
    assert.match(String(s.headers['content-type']), /^text\/event-stream\b/i);
    await s.ready();
    sseAdmitted.push([origin ?? '(none)', s]);
  }
  const m2 = await getMetrics(tickerd.port);
  assert.equal(m2.value(REFUSED, { reason: 'origin' }), m1.value(REFUSED, { reason: 'origin' }), 'admitted handshakes must not be counted as refused');
  assert.equal(m2.value('tickerd_clients'), 1 + admitted.length + sseAdmitted.length);

  const last = await pub(3);
  for (const [origin, c] of [...admitted, ...sseAdmitted]) {
    await c.nextItem(last, 5000).catch((e) => { throw new Error(`client admitted from Origin ${origin} did not get the items: ${e.message}`); });
  }
  const { delivered } = await assertReceivedAll(redis.port, good);
  assert.equal(delivered, 2 + unlisted.length + sseRefused.length + 3);
}));

test("--allow-origin '*' admits WebSocket and EventSource from any origin; nothing is refused", T, scenario(async (t, h) => {
  const { redis, tickerd } = await h.env({ args: ['--allow-origin', '*'] });
  const pub = publisher(redis, 'star');
  const good = await h.client(tickerd.wsUrl());
  await good.ready();
  await pub(1);
  const m0 = await getMetrics(tickerd.port);
  const clients = [];
  for (const origin of ['https://evil.example', 'null', 'http://localhost:1']) {
    const r = await ws(h, tickerd.wsUrl(), { origin });
    assert.equal(r.status, 101, `WebSocket from Origin ${origin} with --allow-origin '*': HTTP ${r.status}`);
    await r.client.ready();
    clients.push(r.client);
    const s = await sse(h, tickerd.port, { headers: { Origin: origin } });
    assert.equal(s.status, 200, `EventSource from Origin ${origin} with --allow-origin '*': HTTP ${s.status}`);
    await s.ready();
    clients.push(s);
    await pub(1);
  }
  const last = await pub(2);
  for (const c of clients) await c.nextItem(last, 5000);
  const m1 = await getMetrics(tickerd.port);
  assert.equal(m1.value(REFUSED, { reason: 'origin' }), m0.value(REFUSED, { reason: 'origin' }));
  assert.equal(m1.value('tickerd_clients'), 1 + clients.length);
  await assertReceivedAll(redis.port, good);
}));
