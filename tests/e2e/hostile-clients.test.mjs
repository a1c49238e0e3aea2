// Hostile and vanishing publishers on the HTTP publish API (POST
// /api/items): forty POSTs whose body stalls (the door's own buffers, not
// lws's sixteen header tables: a good publisher and the readers go on; the
// stalled ones get 408 at --handshake-timeout), forty that send half a head
// and vanish (nothing kept), and publishers that leave while their publish
// waits for a stopped Redis (the item still recorded and delivered exactly
// once). After each episode the server is checked alive and correct (see
// lib/hostile.mjs). The readers' side is in hostile-readers.test.mjs.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  scenario, keySetting, apiPublish, logEntries, getMetrics, rawConnect, buildRequest,
} from './harness.mjs';
import { assertAlive, fdCount, waitFdsBack } from './lib/hostile.mjs';

const T = { timeout: 30_000 };
const DESK = 'desk-key-hostile-1';
const ARGS = ['--publisher-key', keySetting('desk', DESK), '--publish-rate', '1000/s'];
const apiCount = (m, status) => m.value('tickerd_api_requests_total', { status: String(status) }) ?? 0;
const refused = (m, reason) => m.value('tickerd_handshakes_refused_total', { reason }) ?? 0;

/** The head of a POST /api/items/<topic> of `length` bytes by DESK. */
function postHead(port, topic, length) {
  return buildRequest('POST', `/api/items/${topic}`, {
    host: `127.0.0.1:${port}`,
    headers: { Authorization: `Bearer ${DESK}`, 'Content-Type': 'application/json', 'Content-Length': String(length) },
  });
}

/** A whole POST of item {id, headline} on a raw socket's bytes. */
function wholePost(port, topic, id) {
  const body = JSON.stringify({ id, headline: `Headline ${id}` });
  return postHead(port, topic, Buffer.byteLength(body)) + body;
}

/** How many entries of the log carry item id. */
async function logCount(redisPort, id) {
  return (await logEntries(redisPort)).filter((e) => e.fields.payload && JSON.parse(e.fields.payload).id === id).length;
}

/** How many item messages for id a client received. */
const received = (c, id) => c.messages.filter((m) => m.json?.type === 'item' && m.json.item.id === id).length;

test('40 POSTs stalled mid-body: a good publisher gets 201 and readers their items meanwhile; the stalled get 408 at --handshake-timeout; nothing of them recorded', T, scenario(async (t, h) => {
  const { redis, tickerd } = await h.env({ args: [...ARGS, '--handshake-timeout', '3'] });
  const reader = await h.client(tickerd.wsUrl('?topics=world'));
  await reader.ready();
  const fd0 = fdCount(tickerd.pid);
  const m0 = await getMetrics(tickerd.port);

  const stalled = await Promise.all(Array.from({ length: 40 }, async (_, i) => {
    const c = await rawConnect(tickerd.port);
    // A valid head announcing 1,000 bytes, then ~300 of them, then nothing.
    await c.write(`${postHead(tickerd.port, 'world', 1000)}{"id":"stalled-${i}","headline":"${'s'.repeat(280)}`);
    return c;
  }));
  h.defer(() => stalled.forEach((c) => c.destroy()));
  assert.ok(fdCount(tickerd.pid) >= fd0 + 40, 'the 40 stalled connections are open at tickerd');

  // While they stall: a good publisher, and a reader getting its item.
  for (let i = 0; i < 3; i++) {
    const r = await apiPublish(tickerd.port, DESK, 'world', { id: `good-${i}`, headline: `Good ${i}` });
    assert.equal(r.status, 201, `good publish ${i} during the stall: ${r.text}`);
    await reader.next((m) => m.type === 'item' && m.item.id === `good-${i}`, 5000, `good-${i} on the reader`);
  }
  assert.ok(stalled.every((c) => !c.isClosed), 'a stalled POST was closed before its time');

  // Each stalled one ends: 408 (or closed), well within a generous deadline.
  for (const [i, c] of stalled.entries()) {
    const { closed } = await c.waitClosed(15_000);
    assert.ok(closed, `stalled POST ${i} still open 15 s on: ${c.describe()}`);
    if (c.received.length) assert.match(c.received.toString('latin1'), /^HTTP\/1\.1 408 /, `stalled POST ${i}: ${c.describe()}`);
  }
  assert.ok(stalled.filter((c) => c.received.length).length > 0, 'no stalled POST was told 408');

  const m1 = await getMetrics(tickerd.port);
  assert.equal(apiCount(m1, 201) - apiCount(m0, 201), 3, 'the good publishes counted 201');
  assert.equal(refused(m1, 'timeout') - refused(m0, 'timeout'), 40, 'each stalled POST counted a timeout');
  const ids = (await logEntries(redis.port)).map((e) => JSON.parse(e.fields.payload).id);
  assert.deepEqual(ids.filter((id) => id.startsWith('stalled-')), [], 'a stalled body was recorded');
  assert.deepEqual(ids.filter((id) => id.startsWith('good-')), ['good-0', 'good-1', 'good-2']);
  await waitFdsBack(tickerd.pid, fd0, { what: 'after the stalled POSTs' });
  await assertAlive(h, redis, tickerd, 'the stalled POSTs');
  const r = await apiPublish(tickerd.port, DESK, 'world', { id: 'after-stall', headline: 'After' });
  assert.equal(r.status, 201, r.text);
}));

test('40 POSTs that send half a head and vanish: nothing kept (descriptors back to the baseline), nothing counted as a publish, the next POST works', T, scenario(async (t, h) => {
  const { redis, tickerd } = await h.env({ args: ARGS });
  const fd0 = fdCount(tickerd.pid);
  const m0 = await getMetrics(tickerd.port);
  const head = postHead(tickerd.port, 'world', 60);
  await Promise.all(Array.from({ length: 40 }, async (_, i) => {
    const c = await rawConnect(tickerd.port);
    await c.write(head.slice(0, 20 + i * 3));
    await sleep(20);
    c.destroy();
  }));
  // And 40 that vanish with the whole head sent but not the body.
  await Promise.all(Array.from({ length: 40 }, async () => {
    const c = await rawConnect(tickerd.port);
    await c.write(head);
    await sleep(20);
    c.destroy();
  }));
  await waitFdsBack(tickerd.pid, fd0, { what: 'after 80 vanished POSTs' });
  const m1 = await getMetrics(tickerd.port);
  for (const s of [201, 400, 401]) assert.equal(apiCount(m1, s), apiCount(m0, s), `a vanished POST counted ${s}`);
  assert.equal((await logEntries(redis.port)).length, 0, 'a vanished POST recorded something');
  await assertAlive(h, redis, tickerd, 'the vanished POSTs');
  const r = await apiPublish(tickerd.port, DESK, 'world', { id: 'after-vanish', headline: 'After' });
  assert.equal(r.status, 201, r.text);
}));

/**
 * Stop Redis (SIGSTOP), send n whole POSTs on raw sockets, destroy each
 * before any answer, let Redis go on (SIGCONT): each item is then recorded
 * once and read once by `reader`; the next POST gets 201.
 */
async function leaveWhileRedisWaits(h, n) {
  const { redis, tickerd } = await h.env({ args: ARGS });
  const reader = await h.client(tickerd.wsUrl('?topics=world'));
  await reader.ready();
  const fd0 = fdCount(tickerd.pid);
  const tag = `left${n}`;
  redis.signal('SIGSTOP');
  h.defer(() => redis.signal('SIGCONT'));
  const conns = await Promise.all(Array.from({ length: n }, async (_, i) => {
    const c = await rawConnect(tickerd.port);
    await c.write(wholePost(tickerd.port, 'world', `${tag}-${i}`));
    return c;
  }));
  // tickerd holds them, waiting for the (stopped) Redis: no answer yet.
  await sleep(400);
  for (const c of conns) {
    assert.equal(c.received.length, 0, `answered while Redis was stopped: ${c.describe()}`);
    c.destroy();
  }
  await sleep(800);
  redis.signal('SIGCONT');

  const next = await apiPublish(tickerd.port, DESK, 'world', { id: `${tag}-next`, headline: 'The next one' });
  assert.equal(next.status, 201, `the next POST: ${next.text}`);
  await reader.next((m) => m.type === 'item' && m.item.id === `${tag}-next`, 10_000, 'the next POST\'s item');
  for (let i = 0; i < n; i++) {
    const id = `${tag}-${i}`;
    assert.equal(await logCount(redis.port, id), 1, `${id} is in the log once`);
    assert.equal(received(reader, id), 1, `${id} reached the reader once: ${reader.describe(n + 2)}`);
  }
  assert.equal(await logCount(redis.port, `${tag}-next`), 1);
  await waitFdsBack(tickerd.pid, fd0, { what: `after ${n} publishers left` });
  await assertAlive(h, redis, tickerd, `${n} publisher(s) leaving while Redis waits`);
  const m = await getMetrics(tickerd.port);
  assert.equal(m.value('tickerd_items_duplicate_total') ?? 0, 0, 'a duplicate item');
}

test('a publisher leaving while its publish waits for a stopped Redis: recorded and delivered exactly once, the next POST works', T, scenario(async (t, h) => {
  await leaveWhileRedisWaits(h, 1);
}));

test('20 publishers leaving at once while Redis is stopped: each item recorded and delivered exactly once, the next POST works', T, scenario(async (t, h) => {
  await leaveWhileRedisWaits(h, 20);
}));

test('Redis stopped past the API\'s 5 s wait: the publisher that stayed is told 503 (or 201), the one that left is let go; each item then in the log at most once and delivered as the log says', T, scenario(async (t, h) => {
  const { redis, tickerd } = await h.env({ args: ARGS });
  const reader = await h.client(tickerd.wsUrl('?topics=world'));
  await reader.ready();
  const fd0 = fdCount(tickerd.pid);
  redis.signal('SIGSTOP');
  h.defer(() => redis.signal('SIGCONT'));
  const stays = await rawConnect(tickerd.port);
  h.defer(() => stays.destroy());
  await stays.write(wholePost(tickerd.port, 'world', 'late-stays'));
  const leaves = await rawConnect(tickerd.port);
  await leaves.write(wholePost(tickerd.port, 'world', 'late-leaves'));
  await sleep(300);
  leaves.destroy();
  const r = await stays.readResponse({ timeoutMs: 15_000 });
  assert.ok(r.status === 503 || r.status === 201, `the publisher that waited: ${r.status} ${r.text}`);
  if (r.status === 503) assert.equal(JSON.parse(r.text).error, 'redis', r.text);
  redis.signal('SIGCONT');

  // A careful publisher retries (same Idempotency-Key) while tickerd is
  // still reconnecting to the Redis it found frozen (503, redis).
  let next;
  const deadline = Date.now() + 15_000;
  do {
    next = await apiPublish(tickerd.port, DESK, 'world', { id: 'late-next', headline: 'The next one' }, { timeoutMs: 15_000, headers: { 'Idempotency-Key': 'late-next' } });
    if (next.status === 503) assert.equal(next.json?.error, 'redis', next.text);
    if (next.status !== 201) await sleep(200);
  } while (next.status === 503 && Date.now() < deadline);
  assert.equal(next.status, 201, `the next POST once Redis is back: ${next.text}`);
  await reader.next((m) => m.type === 'item' && m.item.id === 'late-next', 15_000, 'the next POST\'s item');
  for (const id of ['late-stays', 'late-leaves']) {
    const n = await logCount(redis.port, id);
    assert.ok(n <= 1, `${id} is in the log ${n} times`);
    assert.equal(received(reader, id), n, `${id}: in the log ${n} time(s), reached the reader ${received(reader, id)} time(s)`);
  }
  if (r.status === 201) assert.equal(await logCount(redis.port, 'late-stays'), 1, 'answered 201 but not in the log');
  await waitFdsBack(tickerd.pid, fd0, { what: 'after Redis came back' });
  await assertAlive(h, redis, tickerd, 'Redis stopped past the API\'s wait');
}));
