// Fan-out, topic filtering and snapshots (spec: "Publishing", "WebSocket wire protocol").

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  seqKey,
  scenario, publish, publishMany, getMetrics, assertReceivedAll, uniq, TIME_RE, DERIVED_ID_RE,
  assertItemShape, assertSeqIncreasing, assertAllJsonText,
} from './harness.mjs';

const T = { timeout: 30_000 };

test('plain-text PUBLISH reaches three clients with identical bytes', T, scenario(async (t, h) => {
  const { redis, tickerd } = await h.env();
  const clients = [];
  for (let i = 0; i < 3; i++) {
    const c = await h.client(tickerd.wsUrl());
    await c.ready();
    clients.push(c);
  }

  const headline = `Plain headline ${uniq()}: café, Zürich — “quoted” ✓`;
  const before = Date.now();
  const receivers = await publish(redis.port, 'ticker:world', headline);
  assert.ok(receivers >= 1, `PUBLISH reached ${receivers} subscribers; tickerd is not subscribed to ticker:*`);

  const got = [];
  for (const c of clients) {
    const m = await c.nextItem(headline);
    got.push({ json: m, raw: c.last.raw });
  }
  const after = Date.now();

  // Same bytes for every client.
  for (let i = 1; i < got.length; i++) {
    assert.ok(got[i].raw.equals(got[0].raw),
      `client ${i} got different bytes:\n${got[i].raw.toString('utf8')}\nvs\n${got[0].raw.toString('utf8')}`);
  }

  const msg = got[0].json;
  assert.deepEqual(Object.keys(msg), ['type', 'item']);
  assert.equal(msg.type, 'item');
  const item = msg.item;
  assertItemShape(item);
  assert.equal(item.topic, 'world');
  assert.equal(item.headline, headline);
  assert.equal(item.priority, 'routine');
  assert.match(item.time, TIME_RE);
  // Plain text receives the receive time.
  const ts = Date.parse(item.time);
  assert.ok(ts >= Math.floor(before / 1000) * 1000 - 2000 && ts <= after + 2000,
    `time ${item.time} is not the receive time (published at ${new Date(before).toISOString()})`);
  // No id given: derived from the payload bytes.
  assert.match(item.id, DERIVED_ID_RE);

  // UTF-8 goes out as-is, not \u-escaped.
  assert.ok(got[0].raw.includes(Buffer.from(JSON.stringify(headline), 'utf8')),
    `frame does not contain the headline's UTF-8 bytes verbatim: ${got[0].raw.toString('utf8')}`);
  assert.ok(!/\\u[0-9a-fA-F]{4}/.test(got[0].raw.toString('latin1')), 'frame contains \\u escapes');

  for (const c of clients) {
    assertAllJsonText(c);
    assertSeqIncreasing(c);
    assert.equal(c.ofType('item').length, 1, `client got extra items: ${c.describe()}`);
  }
}));

test('plain text is trimmed of leading/trailing ASCII whitespace', T, scenario(async (t, h) => {
  const { redis, tickerd } = await h.env();
  const c = await h.client(tickerd.wsUrl());
  await c.ready();
  const headline = `Trimmed ${uniq()}`;
  await publish(redis.port, 'ticker:world', ` \t\r\n${headline}  \n\t`);
  const m = await c.nextItem(headline);
  assert.equal(m.item.headline, headline);
  assertItemShape(m.item);
}));

test('topic filtering: ?topics=world gets ticker:world but not ticker:sports', T, scenario(async (t, h) => {
  const { redis, tickerd } = await h.env();
  const world = await h.client(tickerd.wsUrl('?topics=world'));
  const all = await h.client(tickerd.wsUrl());
  const multi = await h.client(tickerd.wsUrl('?topics=sports,world'));
  const { hello } = await world.ready();
  await all.ready();
  const m = await multi.ready();
  assert.deepEqual(hello.topics, ['world']);
  assert.deepEqual(all.hello.topics, []);
  assert.deepEqual([...m.hello.topics].sort(), ['sports', 'world']);

  const sports = `Sports ${uniq()}`;
  const worldH = `World ${uniq()}`;
  const other = `Other ${uniq()}`;
  await publish(redis.port, 'ticker:sports', sports);
  await publish(redis.port, 'ticker:economy', other);
  await publish(redis.port, 'ticker:world', worldH);

  // The world item was published last; once it arrives, anything earlier would have arrived too.
  const w = await world.nextItem(worldH);
  assert.equal(w.item.topic, 'world');
  assert.deepEqual(world.ofType('item').map((x) => x.item.headline), [worldH],
    `?topics=world client got items of other topics: ${world.describe()}`);

  await all.nextItem(worldH);
  assert.deepEqual(all.ofType('item').map((x) => [x.item.topic, x.item.headline]),
    [['sports', sports], ['economy', other], ['world', worldH]]);

  await multi.nextItem(worldH);
  assert.deepEqual(multi.ofType('item').map((x) => x.item.headline), [sports, worldH]);
}));

test('hello then snapshot on connect: earlier items, oldest first, filtered by topics', T, scenario(async (t, h) => {
  const { redis, tickerd } = await h.env();
  const w1 = `w1 ${uniq()}`;
  const w2 = `w2 ${uniq()}`;
  const s1 = `s1 ${uniq()}`;
  const w3 = `w3 ${uniq()}`;
  // A witness client sees the live items so we know they were processed before the next client connects.
  const witness = await h.client(tickerd.wsUrl());
  await witness.ready();
  await publish(redis.port, 'ticker:world', w1);
  await publish(redis.port, 'ticker:world', w2);
  await publish(redis.port, 'ticker:sports', s1);
  await publish(redis.port, 'ticker:world', w3);
  await witness.nextItem(w3);
  const live = new Map(witness.ofType('item').map((m) => [m.item.headline, m.item]));

  const before = Date.now();
  const cw = await h.client(tickerd.wsUrl('?topics=world'));
  const { hello, snapshot } = await cw.ready();
  const after = Date.now();

  // First message: hello.
  assert.equal(cw.messages[0].json.type, 'hello');
  assert.deepEqual(Object.keys(hello), ['type', 'server', 'time', 'topics', 'epoch', 'feed']);
  assert.deepEqual(Object.keys(hello.feed), ['state', 'since'], 'the feed is ok: no reason');
  assert.equal(hello.feed.state, 'ok');
  assert.match(hello.feed.since, TIME_RE);
  assert.match(hello.epoch, /^[0-9a-f]{16}$/);
  assert.match(hello.server, /^tickerd\/\d+\.\d+\.\d+/);
  assert.match(hello.time, TIME_RE);
  const ht = Date.parse(hello.time);
  assert.ok(ht >= Math.floor(before / 1000) * 1000 - 2000 && ht <= after + 2000, `hello.time ${hello.time} is not now`);
  assert.deepEqual(hello.topics, ['world']);

  // Second message: snapshot.
  assert.equal(cw.messages[1].json.type, 'snapshot');
  assert.deepEqual(Object.keys(snapshot), ['type', 'seq', 'items', 'resync']);
  assert.equal(snapshot.seq, snapshot.items.at(-1).seq, 'snapshot.seq is the newest position');
  assert.equal(snapshot.resync, false);
  assert.deepEqual(snapshot.items.map((i) => i.headline), [w1, w2, w3], 'snapshot of world, oldest first');
  for (const it of snapshot.items) {
    assertItemShape(it, 'snapshot item');
    assert.equal(it.topic, 'world');
    const l = live.get(it.headline);
    for (const k of ['id', 'topic', 'headline', 'time', 'priority']) {
      assert.equal(it[k], l[k], `snapshot item ${k} differs from the live item`);
    }
  }

  const ca = await h.client(tickerd.wsUrl());
  const s = await ca.ready();
  assert.deepEqual(s.snapshot.items.map((i) => i.headline), [w1, w2, s1, w3], 'all-topics snapshot, oldest first');
  const seqs = s.snapshot.items.map((i) => seqKey(i.seq));
  for (let i = 1; i < seqs.length; i++) assert.ok(seqs[i] > seqs[i - 1], 'snapshot items not in seq order');

  const cs = await h.client(tickerd.wsUrl('?topics=sports'));
  const ss = await cs.ready();
  assert.deepEqual(ss.snapshot.items.map((i) => i.headline), [s1]);

  const none = await h.client(tickerd.wsUrl('?topics=nothing-here'));
  const sn = await none.ready();
  assert.deepEqual(sn.snapshot.items, []);
}));

test('--history N keeps only the N most recent items per topic', T, scenario(async (t, h) => {
  const { redis, tickerd } = await h.env({ args: ['--history', '2'] });
  const witness = await h.client(tickerd.wsUrl());
  await witness.ready();
  const hs = [1, 2, 3, 4].map((i) => `hist${i} ${uniq()}`);
  const sp = `sp ${uniq()}`;
  for (const x of hs) await publish(redis.port, 'ticker:world', x);
  await publish(redis.port, 'ticker:sports', sp);
  await witness.nextItem(sp);

  const c = await h.client(tickerd.wsUrl());
  const { snapshot } = await c.ready();
  assert.deepEqual(snapshot.items.map((i) => i.headline), [hs[2], hs[3], sp]);
}));

test('an identical payload with no id published twice is delivered once', T, scenario(async (t, h) => {
  const { redis, tickerd } = await h.env();
  const c = await h.client(tickerd.wsUrl());
  await c.ready();
  const dup = `Duplicate ${uniq()}`;
  const sentinel = `Sentinel ${uniq()}`;
  await publish(redis.port, 'ticker:world', dup);
  await publish(redis.port, 'ticker:world', dup);
  await publish(redis.port, 'ticker:world', sentinel);
  await c.nextItem(sentinel);
  const items = c.ofType('item').map((m) => m.item.headline);
  assert.deepEqual(items, [dup, sentinel], `duplicate was delivered again: ${c.describe()}`);

  const c2 = await h.client(tickerd.wsUrl());
  const { snapshot } = await c2.ready();
  assert.deepEqual(snapshot.items.map((i) => i.headline), [dup, sentinel]);
}));

test('a burst reaches every client whole and in order, several messages to a write (one write per client per loop turn)', T, scenario(async (t, h) => {
  const N = 300;
  const { redis, tickerd } = await h.env();
  const a = await h.client(tickerd.wsUrl());
  const b = await h.client(tickerd.wsUrl('?topics=burst'));
  const s = await h.sse(tickerd.port, '/events?topics=burst');
  for (const c of [a, b, s]) await c.ready();
  const m0 = await getMetrics(tickerd.port);
  const tag = uniq();
  await publishMany(redis.port, 'ticker:burst', Array.from({ length: N }, (_, i) => `Burst ${tag} ${i}`), { batch: N });
  for (const c of [a, b, s]) await c.nextItem(`Burst ${tag} ${N - 1}`, 10_000);
  for (const c of [a, b, s]) await assertReceivedAll(redis.port, c);
  const m1 = await getMetrics(tickerd.port);
  const deliveries = m1.value('tickerd_deliveries_total') - m0.value('tickerd_deliveries_total');
  const writes = m1.value('tickerd_writes_total') - m0.value('tickerd_writes_total');
  t.diagnostic(`${deliveries} deliveries in ${writes} writes`);
  assert.equal(deliveries, 3 * N, 'each item to each of the 3 clients, once');
  assert.ok(writes < deliveries, `a pipelined burst must share writes: ${writes} writes for ${deliveries} deliveries`);
}));
