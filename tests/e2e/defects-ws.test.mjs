// Defects found by an attack from outside, WebSocket side: handshakes that
// are not quite WebSocket handshakes (SPEC 12), hostile frames on an
// established /ws connection, built by hand on a raw socket after a real 101
// (SPEC 14), and more than 16 of every endpoint kind at once (SPEC 15). In
// SPEC 14 a polite `ws` client connected alongside keeps receiving items.
// Metric assertions compare deltas before/after.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  scenario, getMetrics, openWebSocket, connectSSE, assertReceivedAll,
  itemPublisher as publisher,
  rawRequest, buildRequest, rawWsOpen, wsFrame, closePayload, OP, assertHardenedHeaders,
} from './harness.mjs';

const T = { timeout: 30_000 };
const T60 = { timeout: 60_000 };
const REFUSED = 'tickerd_handshakes_refused_total';
const CLOSED = 'tickerd_clients_closed_total';

const metric = (m, name, labels) => m.value(name, labels) ?? 0;
async function delta(port, m0, name, labels) {
  return metric(await getMetrics(port), name, labels) - metric(m0, name, labels);
}

const KEY = 'dGhlIHNhbXBsZSBub25jZQ==';
const hostOf = (port) => `127.0.0.1:${port}`;

/** Upgrade headers, with overrides (a value of null leaves the header out). */
function upgrade(over = {}) {
  const base = { Upgrade: 'websocket', Connection: 'Upgrade', 'Sec-WebSocket-Key': KEY, 'Sec-WebSocket-Version': '13', ...over };
  return Object.entries(base).filter(([, v]) => v !== null);
}

/**
 * Send a handshake and return the refusal (or 101) as { status, headers,
 * text, closed, headText }; a connection dropped without a status is
 * reported as status '(none: …)'.
 */
async function handshake(port, target, headers, { localAddress } = {}) {
  try {
    return await rawRequest(port, buildRequest('GET', target, { host: hostOf(port), headers }), { localAddress, closeWaitMs: 0, timeoutMs: 3000 });
  } catch (e) {
    return { status: `(none: ${e.message.split(';')[0]})`, headers: {}, text: '', headText: '' };
  }
}

/** A refusal has the status, a text/plain reason body and the hardening headers. */
function assertRefusal(r, status, what) {
  assert.equal(r.status, status, `${what}: expected HTTP ${status}, got ${r.status}\n${r.headText}`);
  assert.match(r.headers['content-type'] ?? '', /^text\/plain; ?charset=utf-8$/i, `${what}: a refusal has a text/plain reason body\n${r.headText}`);
  assert.ok(r.text.trim().length > 0, `${what}: the refusal's body names the reason`);
  assertHardenedHeaders(r, what);
}

// ---------------------------------------------------------------------------
// SPEC 12: the /ws handshake

test('SPEC 12: /ws without Upgrade: websocket or without "upgrade" in Connection gets 426 with Upgrade: websocket; Connection "keep-alive, UPGRADE" and Upgrade "WebSocket" are fine', T, scenario(async (t, h) => {
  const { tickerd } = await h.env();
  const port = tickerd.port;
  const cases = [
    ['no Upgrade, no Connection', upgrade({ Upgrade: null, Connection: null })],
    ['Upgrade: websocket, Connection: keep-alive', upgrade({ Connection: 'keep-alive' })],
    ['Connection: Upgrade without an Upgrade header', upgrade({ Upgrade: null })],
    ['Upgrade: h2c', upgrade({ Upgrade: 'h2c' })],
  ];
  for (const [what, hs] of cases) {
    const r = await handshake(port, '/ws', hs);
    assert.equal(r.status, 426, `/ws, ${what}: expected 426, got ${r.status}\n${r.headText}`);
    assert.equal((r.headers.upgrade ?? '').toLowerCase(), 'websocket', `/ws, ${what}: the 426 says Upgrade: websocket\n${r.headText}`);
    assertRefusal(r, 426, `/ws, ${what}`);
  }
  const ok = await rawWsOpen(port, '/ws');
  ok.conn.destroy();
  assert.equal(ok.status, 101);
  const mixed = await handshake(port, '/ws', upgrade({ Upgrade: 'WebSocket', Connection: 'keep-alive, UPGRADE' }));
  assert.equal(mixed.status, 101, `Upgrade: WebSocket with Connection: keep-alive, UPGRADE is a WebSocket handshake\n${mixed.headText}`);
}));

test('SPEC 12: Sec-WebSocket-Version 8 or 99 gets 426 with Sec-WebSocket-Version: 13 (counted as ws_version); a missing or malformed Sec-WebSocket-Key gets 400', T, scenario(async (t, h) => {
  const { tickerd } = await h.env();
  const port = tickerd.port;
  const m0 = await getMetrics(port);
  for (const v of ['8', '99']) {
    const r = await handshake(port, '/ws', upgrade({ 'Sec-WebSocket-Version': v }));
    assert.equal(r.status, 426, `Sec-WebSocket-Version: ${v}: expected 426, got ${r.status}\n${r.headText}`);
    assert.equal(r.headers['sec-websocket-version'], '13', `Sec-WebSocket-Version: ${v}: the 426 names version 13\n${r.headText}`);
    assertRefusal(r, 426, `Sec-WebSocket-Version: ${v}`);
  }
  assert.equal(await delta(port, m0, REFUSED, { reason: 'ws_version' }), 2, `${REFUSED}{reason="ws_version"} must grow by one per 426`);
  const keys = [
    ['missing', null],
    ['not base64', 'not*base64*at*all!!!!!!!'],
    ['base64 of 15 bytes', Buffer.alloc(15, 1).toString('base64')],
    ['base64 of 17 bytes', Buffer.alloc(17, 1).toString('base64')],
    ['empty', ''],
  ];
  for (const [what, key] of keys) {
    const r = await handshake(port, '/ws', upgrade({ 'Sec-WebSocket-Key': key }));
    assertRefusal(r, 400, `Sec-WebSocket-Key ${what}`);
  }
}));

test('SPEC 12: a WebSocket upgrade to another path (/nope, /wsx, /ws/x) gets 404 with a reason (counted as not_found), never a silent drop', T, scenario(async (t, h) => {
  const { tickerd } = await h.env();
  const port = tickerd.port;
  const m0 = await getMetrics(port);
  const paths = ['/nope', '/wsx', '/ws/x'];
  for (const p of paths) assertRefusal(await handshake(port, p, upgrade()), 404, `upgrade to ${p}`);
  assert.equal(await delta(port, m0, REFUSED, { reason: 'not_found' }), paths.length, `${REFUSED}{reason="not_found"} must grow by one per 404`);
}));

test('SPEC 12: refusals come in order -- version (426), origin (403), --max-clients (503), --max-per-ip (429), topics (400) -- each with a status and a reason; else 101, hello and snapshot', T, scenario(async (t, h) => {
  const { tickerd } = await h.env({ args: ['--max-clients', '2', '--max-per-ip', '1'] });
  const port = tickerd.port;
  const evil = ['Origin', 'https://evil.example'];
  const m0 = await getMetrics(port);
  const got = [];
  const expect = async (what, status, target, hs, opts) => got.push([what, status, await handshake(port, target, hs, opts)]);
  // One client from 127.0.0.1: 127.0.0.1 is at its per-address limit.
  const first = await rawWsOpen(port, '/ws');
  h.defer(() => first.conn.destroy());
  assert.equal(first.status, 101);
  await first.ws.ready();
  await expect('bad topics from an address at --max-per-ip', 429, '/ws?topics=bad!', upgrade());
  await expect('bad topics from 127.0.0.2', 400, '/ws?topics=bad!', upgrade(), { localAddress: '127.0.0.2' });
  await expect('another origin from an address at --max-per-ip', 403, '/ws', [...upgrade(), evil]);
  await expect('version 8 from another origin', 426, '/ws', [...upgrade({ 'Sec-WebSocket-Version': '8' }), evil]);
  // A second client from 127.0.0.2: tickerd is full (--max-clients 2).
  const second = await rawWsOpen(port, '/ws?topics=world', { localAddress: '127.0.0.2' });
  h.defer(() => second.conn.destroy());
  assert.equal(second.status, 101);
  const { hello } = await second.ws.ready();
  assert.deepEqual(hello.topics, ['world']);
  await expect('full, from an address also at its limit', 503, '/ws', upgrade());
  await expect('full, bad topics', 503, '/ws?topics=bad!', upgrade(), { localAddress: '127.0.0.3' });
  await expect('full, another origin', 403, '/ws', [...upgrade(), evil], { localAddress: '127.0.0.3' });
  const table = got.map(([what, want, r]) => `${what}: expected ${want}, got ${r.status}`);
  t.diagnostic(table.join('; '));
  assert.deepEqual(got.map(([, , r]) => r.status), got.map(([, want]) => want), `refusal statuses:\n${table.join('\n')}`);
  for (const [what, want, r] of got) assertRefusal(r, want, what);
  const m1 = await getMetrics(port);
  assert.equal(metric(m1, REFUSED, { reason: 'max_per_ip' }) - metric(m0, REFUSED, { reason: 'max_per_ip' }), 1);
  assert.equal(metric(m1, REFUSED, { reason: 'max_clients' }) - metric(m0, REFUSED, { reason: 'max_clients' }), 2);
  assert.equal(metric(m1, REFUSED, { reason: 'origin' }) - metric(m0, REFUSED, { reason: 'origin' }), 2);
  assert.equal(metric(m1, REFUSED, { reason: 'bad_topics' }) - metric(m0, REFUSED, { reason: 'bad_topics' }), 1);
  assert.equal(metric(m1, 'tickerd_clients'), 2);
}));

// ---------------------------------------------------------------------------
// SPEC 14: hostile frames on an established /ws connection

/**
 * A polite ws client plus a factory of raw WebSocket clients (after a real
 * 101 with hello + snapshot); check() publishes an item and awaits it on the
 * polite client.
 */
async function frameEnv(h, args = []) {
  const { redis, tickerd } = await h.env({ args });
  const pub = publisher(redis, 'frames');
  const polite = await h.client(tickerd.wsUrl());
  await polite.ready();
  const raw = async () => {
    const r = await rawWsOpen(tickerd.port, '/ws');
    assert.equal(r.status, 101);
    h.defer(() => r.conn.destroy());
    await r.ws.ready();
    return r.ws;
  };
  const check = async (what) => {
    const last = await pub(1);
    await polite.nextItem(last, 5000).catch((e) => { throw new Error(`after ${what}, the polite client got no item: ${e.message}`); });
    assert.equal(polite.closeCode, null, `after ${what}, the polite client was closed`);
  };
  return { redis, tickerd, polite, raw, check, pub };
}

/** What the server answered on ws: 'close <code>', or why there was no close frame. */
async function closeOutcome(ws, ms = 3000) {
  const c = await ws.closeFrame(ms);
  if (c) return `close ${c.code === null ? '(empty body)' : c.code}`;
  return `no close frame within ${ms} ms (connection ${ws.conn.isClosed ? 'closed' : 'still open'})`;
}

const text = (payload, o = {}) => wsFrame({ opcode: OP.TEXT, payload, ...o });
const cont = (payload, o = {}) => wsFrame({ opcode: OP.CONT, payload, ...o });

test('SPEC 14: invalid UTF-8 in a text frame (C3 28), also split over two fragments, gets close 1007; valid UTF-8 split over two fragments passes; a polite client keeps receiving', T, scenario(async (t, h) => {
  const { raw, check, pub } = await frameEnv(h);
  const got = [];
  const a = await raw();
  await a.send(text(Buffer.from([0xc3, 0x28])));
  got.push(`C3 28 in one frame: ${await closeOutcome(a)}`);
  await check('C3 28');

  const b = await raw();
  await b.send(text(Buffer.from([0x61, 0xc3]), { fin: false }));
  await b.send(cont(Buffer.from([0x28]), { fin: true }));
  got.push(`61 C3 | 28 in two fragments: ${await closeOutcome(b)}`);
  await check('C3 | 28 in two fragments');
  t.diagnostic(got.join('; '));
  assert.deepEqual(got, ['C3 28 in one frame: close 1007', '61 C3 | 28 in two fragments: close 1007']);

  const c = await raw();
  await c.send(text(Buffer.from([0x61, 0xc3]), { fin: false }));
  await c.send(cont(Buffer.from([0xa9, 0x62]), { fin: true })); // "aéb", é cut in two
  await c.send(wsFrame({ opcode: OP.PING, payload: 'still-there' }));
  const pong = await c.nextFrame((f) => f.opcode === OP.PONG || f.opcode === OP.CLOSE, 3000);
  assert.ok(pong && pong.opcode === OP.PONG, `valid UTF-8 split across fragments must pass; got ${pong ? `close ${pong.payload.length >= 2 ? pong.payload.readUInt16BE(0) : ''}` : 'nothing'}; ${c.describe()}`);
  assert.equal(pong.payload.toString(), 'still-there');
  const last = await pub(1);
  const item = await c.nextFrame((f) => f.opcode === OP.TEXT && f.payload.toString('utf8').includes(last), 3000);
  assert.ok(item, `the client that sent split valid UTF-8 keeps receiving items; ${c.describe()}`);
  await check('split valid UTF-8');
}));

test('SPEC 14: close frames: a 1-byte body and codes 5000, 999, 1005, 1006 get close 1002 (not echoed); 1000 is echoed; a polite client keeps receiving', T, scenario(async (t, h) => {
  const { raw, check } = await frameEnv(h);
  const cases = [
    ['a 1-byte close body', Buffer.from([0x03]), 1002],
    ...[5000, 999, 1005, 1006].map((code) => [`close code ${code}`, closePayload(code, 'bye'), 1002]),
    ['close code 1000', closePayload(1000, 'done'), 1000],
  ];
  const got = [];
  for (const [what, payload, want] of cases) {
    const w = await raw();
    await w.send(wsFrame({ opcode: OP.CLOSE, payload }));
    got.push([what, `close ${want}`, await closeOutcome(w)]);
    await check(what);
  }
  const table = got.map(([what, want, g]) => `${what}: expected ${want}, got ${g}`);
  t.diagnostic(table.join('; '));
  assert.deepEqual(got.map(([, , g]) => g), got.map(([, want]) => want), `answers to close frames:\n${table.join('\n')}`);
}));

test('SPEC 14: an unmasked client frame gets close 1002; a polite client keeps receiving', T, scenario(async (t, h) => {
  const { raw, check } = await frameEnv(h);
  const got = [];
  for (const [what, frame] of [
    ['unmasked text frame', text('unmasked', { mask: false })],
    ['unmasked ping', wsFrame({ opcode: OP.PING, payload: 'x', mask: false })],
  ]) {
    const w = await raw();
    await w.send(frame);
    got.push(`${what}: ${await closeOutcome(w)}`);
    await check(what);
  }
  t.diagnostic(got.join('; '));
  assert.deepEqual(got, ['unmasked text frame: close 1002', 'unmasked ping: close 1002']);
}));

/** Send frames in batches spread over ms until the server's close frame comes (or the socket closes). */
async function flood(ws, frames, { ms = 1000, batches = 20 } = {}) {
  const per = Math.ceil(frames.length / batches);
  for (let i = 0; i < frames.length; i += per) {
    if (ws.conn.isClosed || ws.frames.some((f) => f.opcode === OP.CLOSE)) return;
    await ws.send(Buffer.concat(frames.slice(i, i + per)));
    await sleep(ms / batches);
  }
}

test('SPEC 14: 2,000 pings in a second, 2,000 pongs in a second and 100,000 empty non-final fragments each get close 1008, counted in tickerd_clients_closed_total{code="1008"}; a polite client keeps receiving', T60, scenario(async (t, h) => {
  const { tickerd, raw, check } = await frameEnv(h);
  const m0 = await getMetrics(tickerd.port);
  const failures = [];
  const cases = [
    ['2,000 pings in one second', () => Array.from({ length: 2000 }, (_, i) => wsFrame({ opcode: OP.PING, payload: `p${i}` }))],
    ['2,000 pongs in one second', () => Array.from({ length: 2000 }, (_, i) => wsFrame({ opcode: OP.PONG, payload: `q${i}` }))],
    ['100,000 empty non-final fragments', () => [text('', { fin: false }), ...Array.from({ length: 99_999 }, () => cont('', { fin: false }))]],
  ];
  for (const [what, make] of cases) {
    const w = await raw();
    const frames = make();
    if (frames.length > 10_000) {
      // Sent at once: 600 KB of 6-byte frames (not awaited: a server that stops reading must not hang the test).
      w.send(Buffer.concat(frames));
    } else {
      await flood(w, frames);
    }
    const c = await w.closeFrame(3000);
    t.diagnostic(`${what}: ${c ? `close ${c.code} after ${w.frames.length} frame(s) from the server` : `no close frame (${w.frames.length} frames from the server, connection ${w.conn.isClosed ? 'closed' : 'open'})`}`);
    if (!c || c.code !== 1008) failures.push(`${what}: ${c ? `close ${c.code}` : `no close frame within 3 s (connection ${w.conn.isClosed ? 'closed' : 'still open'})`}`);
    await check(what);
  }
  assert.deepEqual(failures, [], `floods not closed with 1008:\n${failures.join('\n')}`);
  assert.equal(await delta(tickerd.port, m0, CLOSED, { code: '1008' }), 3, `${CLOSED}{code="1008"} must grow by one per flood`);
}));

// ---------------------------------------------------------------------------
// SPEC 15: more than 16 of every endpoint kind at once

test('SPEC 15: 20 WebSocket + 20 EventSource + 20 concurrent /healthz + 20 concurrent static file requests all succeed, and every reader receives a published item', T60, scenario(async (t, h) => {
  const { redis, tickerd } = await h.env();
  const port = tickerd.port;
  const host = hostOf(port);
  const wsP = Array.from({ length: 20 }, async () => {
    const r = await openWebSocket(tickerd.wsUrl(), { timeoutMs: 5000 });
    if (r.client) h.clients.push(r.client);
    if (r.status !== 101) throw new Error(`WebSocket: HTTP ${r.status}`);
    await r.client.ready(5000);
    return r.client;
  });
  const sseP = Array.from({ length: 20 }, async () => {
    const s = await connectSSE(port, '/events', { timeoutMs: 5000 });
    h.clients.push(s);
    if (s.status !== 200) throw new Error(`EventSource: HTTP ${s.status}`);
    await s.ready(5000);
    return s;
  });
  const get = (p) => rawRequest(port, buildRequest('GET', p, { host, headers: { Connection: 'close' } }), { closeWaitMs: 0, timeoutMs: 5000 })
    .then((r) => { if (r.status !== 200) throw new Error(`GET ${p}: HTTP ${r.status}`); return r; });
  const hzP = Array.from({ length: 20 }, () => get('/healthz'));
  const fileP = Array.from({ length: 20 }, () => get('/ticker.js'));
  const groups = { websocket: wsP, eventsource: sseP, healthz: hzP, 'static file': fileP };
  const settled = {};
  for (const [k, ps] of Object.entries(groups)) settled[k] = await Promise.allSettled(ps);
  const summary = Object.fromEntries(Object.entries(settled).map(([k, rs]) => [k, `${rs.filter((r) => r.status === 'fulfilled').length}/20`
    + (rs.some((r) => r.status === 'rejected') ? ` (${rs.find((r) => r.status === 'rejected').reason.message.split(';')[0]})` : '')]));
  t.diagnostic(JSON.stringify(summary));
  for (const [k, rs] of Object.entries(settled)) {
    assert.equal(rs.filter((r) => r.status === 'fulfilled').length, 20, `all 20 ${k} requests must succeed: ${JSON.stringify(summary)}`);
  }
  const readers = [...settled.websocket, ...settled.eventsource].map((r) => r.value);
  const last = await publisher(redis, 'mix')(1);
  for (const c of readers) await c.nextItem(last, 5000);
  await assertReceivedAll(redis.port, readers[0], { name: 'WebSocket reader 1' });
  await assertReceivedAll(redis.port, readers[20], { name: 'EventSource reader 1' });
}));
