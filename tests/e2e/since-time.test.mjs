// Catch-up by time: since=<duration> and since=<ISO 8601 time> on /ws and
// /events give exactly the messages logged after that time (no snapshot);
// a time older than what tickerd holds gets a resync snapshot, as an
// unknown seq does.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { scenario, publish, uniq, connectSSE, httpGet } from './harness.mjs';

const T = { timeout: 30_000 };

/** Publish n JSON items with ids <tag>-1..n; returns their headlines. */
async function publishBatch(port, tag, n) {
  const headlines = [];
  for (let i = 1; i <= n; i++) {
    const headline = `${tag} ${i}`;
    await publish(port, 'ticker:world', JSON.stringify({ id: `${tag}-${i}`, headline }));
    headlines.push(headline);
  }
  return headlines;
}

/** The ms part of a seq "<ms>-<n>". */
const seqMs = (seq) => Number(seq.split('-')[0]);

/**
 * Open a WebSocket client with since=, read its hello, then everything it
 * gets within quietMs of the last message: the greeting's messages.
 */
async function greetingOf(h, tickerd, since, quietMs = 600) {
  const c = await h.client(tickerd.wsUrl(`?since=${encodeURIComponent(since)}`));
  const hello = await c.next(() => true, 5000, 'hello');
  assert.equal(hello.type, 'hello', c.describe());
  let seen = -1;
  while (seen !== c.messages.length) {
    seen = c.messages.length;
    await sleep(quietMs);
  }
  return c.messages.slice(1).map((m) => m.json);
}

test('since=<duration> on /ws: exactly the items logged in that span, no snapshot', T, scenario(async (t, h) => {
  const { redis, tickerd } = await h.env();
  const watcher = await h.client(tickerd.wsUrl());
  await watcher.ready();
  const tag = uniq('d');
  const old = await publishBatch(redis.port, `${tag}-old`, 3);
  for (const hl of old) await watcher.nextItem(hl);
  await sleep(2500);
  const recent = await publishBatch(redis.port, `${tag}-new`, 3);
  const recentSeqs = [];
  for (const hl of recent) recentSeqs.push((await watcher.nextItem(hl)).item.seq);

  const asked = Date.now();
  const got = await greetingOf(h, tickerd, '2s');
  assert.deepEqual(got.map((m) => m.type), ['item', 'item', 'item'], JSON.stringify(got));
  assert.deepEqual(got.map((m) => m.item.headline), recent);
  assert.deepEqual(got.map((m) => m.item.seq), recentSeqs);
  for (const m of got) assert.ok(seqMs(m.item.seq) > asked - 2000, `${m.item.seq} is within 2 s of ${asked}`);
  t.diagnostic(`since=2s gave ${got.length} items: ${recentSeqs.join(', ')}`);

  // A span reaching back before the oldest message tickerd holds: it can't
  // tell what came before, so a resync snapshot, holding both batches.
  const both = await greetingOf(h, tickerd, '1m');
  assert.equal(both[0].type, 'snapshot', JSON.stringify(both));
  assert.equal(both[0].resync, true);
  assert.deepEqual(both[0].items.map((i) => i.headline).filter((x) => x.startsWith(tag)).sort(), [...old, ...recent].sort());
}));

test('since=<ISO 8601 time> on /ws and /events: exactly the items logged after it', T, scenario(async (t, h) => {
  const { redis, tickerd } = await h.env();
  const watcher = await h.client(tickerd.wsUrl());
  await watcher.ready();
  const tag = uniq('i');
  const before = await publishBatch(redis.port, `${tag}-before`, 2);
  for (const hl of before) await watcher.nextItem(hl);
  // The next whole second, once it has passed: the items before are
  // logged before it, those after, after.
  const boundary = Math.ceil((Date.now() + 1) / 1000) * 1000;
  await sleep(boundary - Date.now() + 150);
  const after = await publishBatch(redis.port, `${tag}-after`, 3);
  const afterSeqs = [];
  for (const hl of after) afterSeqs.push((await watcher.nextItem(hl)).item.seq);
  const iso = new Date(boundary).toISOString().replace(/\.\d+Z$/, 'Z');

  const got = await greetingOf(h, tickerd, iso);
  assert.deepEqual(got.map((m) => m.item && m.item.headline), after, JSON.stringify(got));
  assert.deepEqual(got.map((m) => m.item.seq), afterSeqs);

  // The same time with an offset names the same instant.
  const offset = new Date(boundary + 2 * 3600_000).toISOString().replace(/\.\d+Z$/, '+02:00');
  const got2 = await greetingOf(h, tickerd, offset);
  assert.deepEqual(got2.map((m) => m.item.seq), afterSeqs, `since=${offset}`);

  // EventSource: the same messages, as events with the seq as id.
  const es = await connectSSE(tickerd.port, `/events?since=${encodeURIComponent(iso)}`);
  assert.equal(es.status, 200);
  const hello = await es.next(() => true, 5000, 'hello');
  assert.equal(hello.type, 'hello');
  const items = [];
  for (let i = 0; i < after.length; i++) items.push(await es.next(() => true, 5000, `item ${i + 1}`));
  assert.deepEqual(items.map((m) => m.item && m.item.headline), after);
  assert.deepEqual(es.messages.slice(1, 4).map((m) => m.id), afterSeqs, 'each event id is its seq');
  t.diagnostic(`since=${iso}: ${afterSeqs.join(', ')}`);
}));

test('since= older than what tickerd holds, or unreadable: a resync snapshot', T, scenario(async (t, h) => {
  const { redis, tickerd } = await h.env();
  const watcher = await h.client(tickerd.wsUrl());
  await watcher.ready();
  const headline = `Held ${uniq()}`;
  await publish(redis.port, 'ticker:world', headline);
  await watcher.nextItem(headline);
  for (const since of ['1000d', '1970-01-01T00:00:00Z', 'yesterday', '5w']) {
    const c = await h.client(tickerd.wsUrl(`?since=${encodeURIComponent(since)}`));
    const { snapshot } = await c.ready();
    assert.equal(snapshot.resync, true, `since=${since}: ${JSON.stringify(snapshot)}`);
    assert.ok(snapshot.items.some((i) => i.headline === headline), `since=${since}: the snapshot holds the item`);
  }
}));

test('since= on /items.json and /feed.atom: only the items logged after it; unreadable: 400', T, scenario(async (t, h) => {
  const { redis, tickerd } = await h.env();
  const watcher = await h.client(tickerd.wsUrl());
  await watcher.ready();
  const tag = uniq('o');
  const old = await publishBatch(redis.port, `${tag}-old`, 2);
  for (const hl of old) await watcher.nextItem(hl);
  await sleep(2500);
  const recent = await publishBatch(redis.port, `${tag}-new`, 2);
  const seqs = [];
  for (const hl of recent) seqs.push((await watcher.nextItem(hl)).item.seq);

  const json = await httpGet(tickerd.port, '/items.json?since=2s');
  assert.equal(json.status, 200, json.text);
  assert.deepEqual(JSON.parse(json.text).map((i) => i.headline).sort(), [...recent].sort());
  const bySeq = await httpGet(tickerd.port, `/items.json?since=${seqs[0]}`);
  assert.deepEqual(JSON.parse(bySeq.text).map((i) => i.headline), [recent[1]], 'after a seq: what came after it');
  const all = await httpGet(tickerd.port, '/items.json');
  assert.equal(JSON.parse(all.text).length, 4, 'without since=, every item');
  const atom = await httpGet(tickerd.port, '/feed.atom?since=2s');
  assert.equal(atom.status, 200);
  for (const hl of recent) assert.ok(atom.text.includes(`>${hl}</title>`), `${hl} in the feed: ${atom.text}`);
  for (const hl of old) assert.ok(!atom.text.includes(hl), `${hl} not in the feed`);
  for (const bad of ['yesterday', '5w', '-']) {
    const r = await httpGet(tickerd.port, `/items.json?since=${bad}`);
    assert.equal(r.status, 400, `since=${bad}: ${r.status}`);
  }
}));
