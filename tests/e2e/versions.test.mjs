// Corrections (versions) and kills (retractions).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { scenario, publish, uniq, assertItemShape, assertSeqIncreasing, assertAllJsonText, SEQ_RE } from './harness.mjs';

const T = { timeout: 30_000 };

async function clientsReady(h, tickerd, n, query = '') {
  const cs = [];
  for (let i = 0; i < n; i++) {
    const c = await h.client(tickerd.wsUrl(query));
    await c.ready();
    cs.push(c);
  }
  return cs;
}

function assertSameBytes(entries, what) {
  for (let i = 1; i < entries.length; i++) {
    assert.ok(entries[i].raw.equals(entries[0].raw),
      `${what}: client ${i} got different bytes:\n${entries[i].text}\nvs\n${entries[0].text}`);
  }
}

test('a correction replaces: version 2 replaces version 1, a stale version is ignored', T, scenario(async (t, h) => {
  const { redis, tickerd } = await h.env();
  const clients = await clientsReady(h, tickerd, 2);
  const id = `x-${uniq()}`;

  await publish(redis.port, 'ticker:world', JSON.stringify({ id, headline: 'A', version: 1 }));
  for (const c of clients) {
    const m = await c.nextItem('A');
    assertItemShape(m.item);
    assert.equal(m.item.id, id);
    assert.equal(m.item.topic, 'world');
    if ('version' in m.item) assert.equal(m.item.version, 1);
  }

  await publish(redis.port, 'ticker:world', JSON.stringify({ id, headline: 'B', version: 2 }));
  const gotB = [];
  for (const c of clients) {
    const m = await c.nextItem('B');
    gotB.push(c.last);
    assertItemShape(m.item);
    assert.equal(m.item.id, id, 'the correction keeps the id');
    assert.equal(m.item.topic, 'world');
    if ('version' in m.item) assert.equal(m.item.version, 2);
  }
  assertSameBytes(gotB, 'correction B');

  // A new client's snapshot holds only B for that id.
  const late = await h.client(tickerd.wsUrl());
  const { snapshot } = await late.ready();
  const forId = snapshot.items.filter((i) => i.id === id);
  assert.equal(forId.length, 1, `snapshot should hold the id once: ${JSON.stringify(snapshot)}`);
  assert.equal(forId[0].headline, 'B');
  assert.equal(snapshot.items.length, 1, `snapshot should hold exactly one item: ${JSON.stringify(snapshot)}`);

  // An older version published afterwards is ignored; same version too.
  const staleV1 = `A-stale ${uniq()}`;
  const staleV2 = `B-same-version ${uniq()}`;
  const sentinel = `sentinel ${uniq()}`;
  await publish(redis.port, 'ticker:world', JSON.stringify({ id, headline: staleV1, version: 1 }));
  await publish(redis.port, 'ticker:world', JSON.stringify({ id, headline: staleV2, version: 2 }));
  await publish(redis.port, 'ticker:world', sentinel);
  for (const c of [...clients, late]) {
    await c.nextItem(sentinel);
    const heads = c.ofType('item').map((m) => m.item.headline);
    assert.ok(!heads.includes(staleV1), `stale version 1 was delivered: ${c.describe()}`);
    assert.ok(!heads.includes(staleV2), `same version 2 was delivered: ${c.describe()}`);
    assert.equal(c.ofType('retract').length, 0, `unexpected retract: ${c.describe()}`);
  }
  const late2 = await h.client(tickerd.wsUrl());
  const s2 = await late2.ready();
  assert.deepEqual(s2.snapshot.items.filter((i) => i.id === id).map((i) => i.headline), ['B'],
    'the stale version must not replace B in the history');

  // No version given: becomes known+1 and replaces.
  await publish(redis.port, 'ticker:world', JSON.stringify({ id, headline: 'C' }));
  for (const c of clients) {
    const m = await c.nextItem('C');
    assert.equal(m.item.id, id);
    if ('version' in m.item) assert.equal(m.item.version, 3);
  }
  // ... and a string version "4" is accepted as 4 (> 3).
  await publish(redis.port, 'ticker:world', JSON.stringify({ id, headline: 'D', version: '4' }));
  for (const c of clients) {
    const m = await c.nextItem('D');
    assert.equal(m.item.id, id);
    if ('version' in m.item) assert.equal(m.item.version, 4);
  }
  const late3 = await h.client(tickerd.wsUrl());
  const s3 = await late3.ready();
  // Only D remains for the id (position within the snapshot is not specified for corrections).
  assert.deepEqual(s3.snapshot.items.map((i) => i.headline).sort(), ['D', sentinel].sort());
  assert.deepEqual(s3.snapshot.items.filter((i) => i.id === id).map((i) => i.headline), ['D']);

  for (const c of clients) {
    assertAllJsonText(c);
    assertSeqIncreasing(c);
  }
}));

test('a kill retracts: status canceled -> retract to every client, gone from snapshots', T, scenario(async (t, h) => {
  const { redis, tickerd } = await h.env();
  const clients = await clientsReady(h, tickerd, 3);
  const worldOnly = await h.client(tickerd.wsUrl('?topics=world'));
  await worldOnly.ready();
  const sportsOnly = await h.client(tickerd.wsUrl('?topics=sports'));
  await sportsOnly.ready();
  const all = [...clients, worldOnly];
  const id = `x-${uniq()}`;
  const keep = `keep ${uniq()}`;

  await publish(redis.port, 'ticker:world', JSON.stringify({ id, headline: 'To be killed' }));
  await publish(redis.port, 'ticker:world', keep);
  for (const c of all) await c.nextItem(keep);

  await publish(redis.port, 'ticker:world', JSON.stringify({ id, status: 'canceled' }));
  const got = [];
  for (const c of all) {
    const m = await c.next((x) => x.type === 'retract', 5000, 'retract');
    got.push(c.last);
    assert.deepEqual(Object.keys(m), ['type', 'id', 'topic', 'seq']);
    assert.equal(m.id, id);
    assert.equal(m.topic, 'world');
    assert.match(m.seq, SEQ_RE);
  }
  assertSameBytes(got, 'retract');

  const late = await h.client(tickerd.wsUrl());
  const { snapshot } = await late.ready();
  assert.deepEqual(snapshot.items.map((i) => i.headline), [keep], `killed item still in snapshot: ${JSON.stringify(snapshot)}`);

  // ninjs names: uri + pubStatus withheld also retract.
  const id2 = `urn:test:${uniq()}`;
  const wh = `withheld ${uniq()}`;
  await publish(redis.port, 'ticker:world', JSON.stringify({ uri: id2, headlines: [{ value: wh }] }));
  for (const c of all) await c.nextItem(wh);
  await publish(redis.port, 'ticker:world', JSON.stringify({ uri: id2, pubStatus: 'withheld' }));
  for (const c of all) {
    const m = await c.next((x) => x.type === 'retract' && x.id === id2, 5000, `retract of ${id2}`);
    assert.equal(m.topic, 'world');
  }
  const late2 = await h.client(tickerd.wsUrl());
  const s2 = await late2.ready();
  assert.deepEqual(s2.snapshot.items.map((i) => i.headline), [keep]);

  // A client that only follows sports never heard of these world items.
  const sentinel = `sports sentinel ${uniq()}`;
  await publish(redis.port, 'ticker:sports', sentinel);
  await sportsOnly.nextItem(sentinel);
  assert.equal(sportsOnly.ofType('retract').length, 0, `sports client got a world retract: ${sportsOnly.describe()}`);

  for (const c of all) {
    assertAllJsonText(c);
    assertSeqIncreasing(c);
  }
}));
