// Private topics and readers' tokens (issue 15): a JWT on /ws and /events
// (?token=) or in a token message opens the private topics its `topics`
// claim lists; every way a token can be wrong is refused with its reason
// (HTTP 403 {"error":"token","reason"}, or an access message) and counted
// in tickerd_token_refusals_total; public topics work for everyone; a
// private item reaches no snapshot, resume, output or stream of a reader
// not granted it; renewal keeps the topic, expiry drops only it; no token
// is ever logged.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { scenario, publish, getMetrics, httpGet, openWebSocket, makeTmpDir, removeTmpDir } from './harness.mjs';
import { mint, keyPair, tamper, nowS, tokenRefusals } from './lib/tokens.mjs';

const T = { timeout: 60_000 };
const SECRET = 'correct horse battery staple';
const ISO_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;

const item = (id, topic, headline) => JSON.stringify({ id, topic, headline });
const itemIds = (msgs) => msgs.filter((m) => m.type === 'item').map((m) => m.item.id);
const snapIds = (snap) => snap.items.map((i) => i.id).sort();

/** Open /ws<query> and expect an upgrade: the client, ready (hello, snapshot). */
async function ready(h, tickerd, query) {
  const r = await openWebSocket(tickerd.wsUrl(query));
  assert.equal(r.status, 101, `${query}: ${r.status} ${r.body}`);
  h.clients.push(r.client);
  await r.client.ready();
  return r.client;
}

/** Open /ws<query> and expect 403 {"error":"token","reason":reason}. */
async function refusedWs(tickerd, query, reason) {
  const r = await openWebSocket(tickerd.wsUrl(query));
  if (r.client) r.client.close();
  assert.equal(r.status, 403, `${reason}: upgraded instead of 403`);
  assert.match(r.headers['content-type'], /^application\/json/);
  assert.deepEqual(JSON.parse(r.body), { error: 'token', reason });
}

/** Publish items and wait until a reader of every topic has them all. */
async function publishSeen(h, redis, tickerd, items, all) {
  for (const [id, topic, headline] of items) await publish(redis.port, `ticker:${topic}`, item(id, topic, headline));
  for (const [id] of items) await all.next((m) => m.type === 'item' && m.item.id === id, 5000, id);
}

/** Start redis + tickerd with private topic `markets` and HS256 tokens, and
 * a public and a private item logged; `all` holds every topic (granted). */
async function marketsEnv(h, args = []) {
  const { redis, tickerd } = await h.env({ args: ['--private-topics', 'markets,insider-*', '--token-secret', SECRET, '--log-level', 'info', ...args] });
  const all = await ready(h, tickerd, `?token=${mint('HS256', SECRET, { topics: ['markets', 'insider-gold'] })}`);
  await publishSeen(h, redis, tickerd, [['w1', 'world', 'Public news'], ['m1', 'markets', 'Private markets news'], ['i1', 'insider-gold', 'Insider']], all);
  return { redis, tickerd, all };
}

test('HS256: a valid token opens the private topics it lists; without one they are locked and public ones work', T, scenario(async (t, h) => {
  const { redis, tickerd, all } = await marketsEnv(h);
  const token = mint('HS256', SECRET, { topics: ['markets'] });
  assert.deepEqual(all.hello.private, ['insider-gold', 'markets']);
  assert.match(all.hello.token_exp, ISO_RE);

  const granted = await ready(h, tickerd, `?topics=world,markets&token=${token}`);
  assert.deepEqual(granted.hello.private, ['markets']);
  assert.equal(granted.hello.locked, undefined);
  assert.match(granted.hello.token_exp, ISO_RE);
  assert.deepEqual(snapIds(granted.snapshot), ['m1', 'w1']);

  const locked = await ready(h, tickerd, '?topics=world,markets');
  assert.deepEqual(locked.hello.locked, ['markets']);
  assert.equal(locked.hello.private, undefined);
  assert.equal(locked.hello.token_exp, undefined);
  assert.deepEqual(snapIds(locked.snapshot), ['w1']);

  // "All topics": every public one, plus what the token grants.
  const anyone = await ready(h, tickerd, '');
  assert.deepEqual(snapIds(anyone.snapshot), ['w1']);
  assert.deepEqual(anyone.hello.locked, ['markets']); // the exact names; insider-* is a pattern
  const onlyMarkets = await ready(h, tickerd, `?token=${token}`);
  assert.deepEqual(snapIds(onlyMarkets.snapshot), ['m1', 'w1']);

  // Live: the private item goes to the granted only; the public one to all.
  await publish(redis.port, 'ticker:markets', item('m2', 'markets', 'Rates'));
  await publish(redis.port, 'ticker:world', item('w2', 'world', 'Public again'));
  for (const c of [granted, onlyMarkets]) {
    await c.next((m) => m.type === 'item' && m.item.id === 'm2', 5000, 'm2');
    await c.next((m) => m.type === 'item' && m.item.id === 'w2', 5000, 'w2');
  }
  for (const c of [locked, anyone]) {
    await c.next((m) => m.type === 'item' && m.item.id === 'w2', 5000, 'w2');
    assert.deepEqual(itemIds(c.afterSnapshot().map((m) => m.json)), ['w2'], 'no private item in a public stream');
  }

  // A private item appears in no output, with or without a token.
  for (const p of ['/items.json', '/items.json?topics=markets', '/items.json?topics=world,markets', `/items.json?topics=markets&token=${token}`,
    '/feed.atom', '/feed.atom?topics=markets', `/feed.atom?topics=markets&token=${token}`]) {
    const r = await httpGet(tickerd.port, p);
    assert.equal(r.status, 200, p);
    assert.ok(!r.text.includes('m1') && !r.text.includes('Private markets') && !r.text.includes('Rates') && !r.text.includes('Insider'), `${p} leaks a private item: ${r.text.slice(0, 300)}`);
  }
  const json = JSON.parse((await httpGet(tickerd.port, '/items.json')).text);
  assert.ok(JSON.stringify(json).includes('w1'), '/items.json still has the public item');

  // A resume (since=) from before the private items carries none of them
  // to a reader not granted, and all of them to one granted.
  const firstSeq = all.messages.find((m) => m.json?.type === 'item' && m.json.item.id === 'w1').json.item.seq;
  const o = await openWebSocket(tickerd.wsUrl(`?topics=world,markets&since=${firstSeq}`));
  h.clients.push(o.client);
  const r = o.client;
  await r.next((m) => m.type === 'item' && m.item.id === 'w2', 5000, 'w2 on resume');
  const got = r.messages.map((m) => m.json);
  assert.ok(!got.some((m) => (m.type === 'item' && m.item.topic === 'markets') || (m.type === 'snapshot' && m.items.some((i) => i.topic === 'markets'))), `resume leaks: ${r.describe(10)}`);
  const resumedGranted = await openWebSocket(tickerd.wsUrl(`?topics=world,markets&since=${firstSeq}&token=${token}`));
  h.clients.push(resumedGranted.client);
  await resumedGranted.client.next((m) => m.type === 'item' && m.item.id === 'm2', 5000, 'm2 on a granted resume');

  // /events: the token by ?token=; a private topic without one is refused.
  const ev = await h.sse(tickerd.port, `/events?topics=world,markets&token=${token}`);
  assert.equal(ev.status, 200);
  const hello = await ev.next((m) => m.type === 'hello');
  assert.deepEqual(hello.private, ['markets']);
  const snap = await ev.next((m) => m.type === 'snapshot');
  assert.deepEqual(snapIds(snap), ['m1', 'm2', 'w1', 'w2']);
  const noTok = await httpGet(tickerd.port, '/events?topics=markets');
  assert.equal(noTok.status, 403);
  assert.deepEqual(JSON.parse(noTok.text), { error: 'token', reason: 'missing' });
  const pub = await h.sse(tickerd.port, '/events?topics=world');
  assert.equal(pub.status, 200, 'public topics on /events need no token');

  const m = tokenRefusals(await getMetrics(tickerd.port));
  assert.equal(m.missing, 3, 'missing: /ws locked twice (topics=world,markets, then its resume), /events once');
  assert.equal(m.signature, 0);
  assert.ok(!tickerd.log().includes(token.split('.')[2]) && !tickerd.log().includes(SECRET), 'a token or the secret is in the log');
}));
