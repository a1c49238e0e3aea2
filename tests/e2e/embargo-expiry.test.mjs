// Embargo and expiry: an item under embargo is recorded and shown nowhere
// until its time, then on every screen of every instance, once, with a seq
// from its release; it survives restarts, is released by whichever instance
// runs (even one started after the time), a kill before cancels it and a
// correction before replaces it.  An item leaves every screen at its
// expiry, or its topic's --topic-ttl.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { scenario, publish, uniq, getMetrics, redisCall, httpGet } from './harness.mjs';
import { waitUntil } from './checker.mjs';

const T = { timeout: 40_000 };
const iso = (ms) => new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');
const seqMs = (seq) => Number(seq.split('-')[0]);
/** The next whole second at least ms from now (embargo times are whole seconds). */
const wholeSecondIn = (ms) => Math.ceil((Date.now() + ms) / 1000) * 1000;

const itemsOf = (c) => c.messages.filter((m) => m.json && m.json.type === 'item').map((m) => m.json.item);
const retractsOf = (c) => c.messages.filter((m) => m.json && m.json.type === 'retract').map((m) => m.json);

/** Open a client and read its greeting. */
async function reader(h, td, query = '') {
  const c = await h.client(td.wsUrl(query));
  await c.ready();
  return c;
}

test('embargoed 2 s ahead: nowhere before; then on every screen of two instances within 1 s, once, and in resumes', T, scenario(async (t, h) => {
  const redis = await h.redis();
  const a = await h.tickerd({ redisUrl: redis.url });
  const b = await h.tickerd({ redisUrl: redis.url });
  const ca = await reader(h, a);
  const cb = await reader(h, b);
  const id = uniq('emb');
  const before = `Before ${id}`;
  await publish(redis.port, 'ticker:world', before);
  const beforeSeq = (await ca.nextItem(before)).item.seq;
  await cb.nextItem(before);

  const release = wholeSecondIn(2000);
  const headline = `Embargoed ${id}`;
  await publish(redis.port, 'ticker:world', JSON.stringify({ id, headline, embargoed: iso(release) }));
  await sleep(300);
  const early = await reader(h, a);
  assert.ok(!early.snapshot.items.some((i) => i.id === id), 'not in a snapshot before the release');
  for (const out of ['/items.json', '/feed.atom']) {
    assert.ok(!(await httpGet(b.port, out)).text.includes(headline), `not in ${out} before the release`);
  }
  assert.equal((await getMetrics(a.port)).value('tickerd_items_held'), 1, 'counted as held');
  assert.ok(Date.now() < release - 200, 'the checks before ran before the release');
  assert.ok(!itemsOf(ca).some((i) => i.id === id) && !itemsOf(cb).some((i) => i.id === id), 'no screen has it before');

  const atA = await ca.nextItem(headline, 5000);
  const gotA = Date.now();
  const atB = await cb.nextItem(headline, 5000);
  const gotB = Date.now();
  t.diagnostic(`released ${gotA - release} ms (A) and ${gotB - release} ms (B) after its time; seq ${atA.item.seq}`);
  assert.ok(gotA >= release && gotB >= release, 'not before its time');
  assert.ok(gotA - release < 1000 && gotB - release < 1000, `within 1 s of its time: ${gotA - release} / ${gotB - release} ms`);
  assert.equal(atA.item.seq, atB.item.seq, 'the same seq on both instances');
  assert.ok(seqMs(atA.item.seq) >= release - 50, 'its seq is from the moment of release');
  await sleep(800);
  assert.equal(itemsOf(ca).filter((i) => i.id === id).length, 1, 'once on A');
  assert.equal(itemsOf(cb).filter((i) => i.id === id).length, 1, 'once on B');

  // A client resuming from before the release gets it; a newcomer has it.
  const resumed = await h.client(b.wsUrl(`?since=${beforeSeq}`));
  await resumed.nextItem(headline, 3000);
  const late = await reader(h, b);
  assert.ok(late.snapshot.items.some((i) => i.id === id && i.headline === headline), 'in the snapshot after');
  assert.equal((await getMetrics(a.port)).value('tickerd_items_held'), 0);
}));

test('held across a restart, and released by an instance started after its time', T, scenario(async (t, h) => {
  const redis = await h.redis();
  let td = await h.tickerd({ redisUrl: redis.url });
  const id1 = uniq('r1');
  const id2 = uniq('r2');
  const rel1 = wholeSecondIn(3000);
  await publish(redis.port, 'ticker:world', JSON.stringify({ id: id1, headline: `Held over restart ${id1}`, embargo: iso(rel1) }));
  await publish(redis.port, 'ticker:world', JSON.stringify({ id: id2, headline: `Nobody ran ${id2}`, embargo: iso(rel1 + 1000) }));
  await sleep(300);
  await td.stop();
  td = await h.tickerd({ redisUrl: redis.url });
  const c = await reader(h, td);
  assert.ok(!c.snapshot.items.some((i) => i.id === id1 || i.id === id2), 'still held after the restart');
  await c.nextItem(`Held over restart ${id1}`, 5000);
  t.diagnostic(`released ${Date.now() - rel1} ms after its time, by the restarted instance`);

  // Now no instance runs at the second one's time; one starts later.
  await td.stop();
  await sleep(Math.max(0, rel1 + 1500 - Date.now()));
  const td2 = await h.tickerd({ redisUrl: redis.url });
  const c2 = await h.client(td2.wsUrl());
  const { snapshot } = await c2.ready();
  const shown = snapshot.items.some((i) => i.id === id2) || !!(await c2.nextItem(`Nobody ran ${id2}`, 5000));
  assert.ok(shown, 'released when an instance started');
  const log = await redisCall(redis.port, ['XRANGE', 'ticker:log', '-', '+']);
  t.diagnostic(`log after: ${log ? log.length : '?'} entries`);
}));

test('killed before its release: never shown; corrected before: the correction is what is released', T, scenario(async (t, h) => {
  const { redis, tickerd } = await h.env();
  const c = await reader(h, tickerd);
  const killed = uniq('k');
  const fixed = uniq('c');
  const rel = wholeSecondIn(2000);
  await publish(redis.port, 'ticker:world', JSON.stringify({ id: killed, headline: `To be killed ${killed}`, embargo: iso(rel) }));
  await publish(redis.port, 'ticker:world', JSON.stringify({ id: fixed, headline: `Typo ${fixed}`, embargo: iso(rel) }));
  await sleep(200);
  await publish(redis.port, 'ticker:world', JSON.stringify({ id: killed, status: 'canceled' }));
  await publish(redis.port, 'ticker:world', JSON.stringify({ id: fixed, headline: `Fixed ${fixed}` }));
  await c.nextItem(`Fixed ${fixed}`, 5000);
  assert.ok(Date.now() >= rel, 'the correction waited for the release');
  await sleep(1200);
  const items = itemsOf(c);
  assert.ok(!items.some((i) => i.id === killed), `the killed one never showed: ${JSON.stringify(items)}`);
  assert.deepEqual(items.filter((i) => i.id === fixed).map((i) => i.headline), [`Fixed ${fixed}`], 'only the correction');
  assert.ok(!retractsOf(c).some((r) => r.id === killed), 'no retraction for what no screen had');
}));

test('expires 2 s ahead: leaves the screens and snapshots of both instances; a topic TTL does the same', T, scenario(async (t, h) => {
  const redis = await h.redis();
  const args = ['--topic-ttl', 'flash=2s'];
  const a = await h.tickerd({ redisUrl: redis.url, args });
  const b = await h.tickerd({ redisUrl: redis.url, args });
  const ca = await reader(h, a);
  const cb = await reader(h, b);
  const id = uniq('x');
  const ends = wholeSecondIn(2000);
  await publish(redis.port, 'ticker:world', JSON.stringify({ id, headline: `Expiring ${id}`, expires: iso(ends) }));
  const flash = uniq('f');
  await publish(redis.port, 'ticker:flash', JSON.stringify({ id: flash, headline: `Flash ${flash}` }));
  const flashAt = Date.now();
  await ca.nextItem(`Expiring ${id}`);
  await cb.nextItem(`Expiring ${id}`);
  await ca.nextItem(`Flash ${flash}`);
  const before = JSON.parse((await httpGet(b.port, '/items.json')).text);
  assert.ok(before.some((i) => i.id === id) && before.some((i) => i.id === flash), 'both in /items.json before');
  const gone = await ca.next((m) => m.type === 'retract' && m.id === id, 5000, `retraction of ${id}`);
  t.diagnostic(`retracted ${Date.now() - ends} ms after its expiry, seq ${gone.seq}`);
  assert.ok(Date.now() >= ends, 'not before its expiry');
  await cb.next((m) => m.type === 'retract' && m.id === id, 3000, `retraction of ${id} on B`);
  await waitUntil(() => retractsOf(ca).some((r) => r.id === flash), 5000, () => `retraction of ${flash} (topic TTL): ${ca.describe()}`);
  t.diagnostic(`topic TTL: retracted ${Date.now() - flashAt} ms after publishing (2 s TTL, whole seconds)`);
  for (const td of [a, b]) {
    const n = await reader(h, td);
    assert.ok(!n.snapshot.items.some((i) => i.id === id || i.id === flash), 'not in a snapshot after');
    const json = JSON.parse((await httpGet(td.port, '/items.json')).text);
    assert.ok(!json.some((i) => i.id === id || i.id === flash), `not in /items.json after: ${JSON.stringify(json)}`);
    const atom = (await httpGet(td.port, '/feed.atom')).text;
    assert.ok(!atom.includes(`Expiring ${id}`) && !atom.includes(`Flash ${flash}`), 'not in the feed after');
  }
  await sleep(500);
  assert.equal(retractsOf(ca).filter((r) => r.id === id).length, 1, 'one retraction');
}));

test('the scheduling functions: replays change nothing, a correction read after the release still goes out, once', T, scenario(async (t, h) => {
  const { redis } = await h.env(); // tickerd loads the library
  const call = (...a) => redisCall(redis.port, ['FCALL', ...a]);
  const action = `release\nw\n${uniq('lua')}`;
  const sched = (entry, payload) => call('tickerd_schedule', '2', 't:due', 't:log', action, '1000', entry, 'w', payload);
  assert.equal(await sched('5-0', 'v1'), 1, 'scheduled');
  assert.equal(await sched('4-0', 'older'), 0, 'an older entry changes nothing');
  assert.equal(await sched('5-0', 'v1'), 0, 'the same entry again (another instance) changes nothing');
  assert.equal(await call('tickerd_fire', '2', 't:due', 't:log', '999'), 0, 'not due yet');
  assert.equal(await call('tickerd_fire', '2', 't:due', 't:log', '1500'), 1, 'fired once');
  assert.equal(await call('tickerd_fire', '2', 't:due', 't:log', '1500'), 0, 'and only once');
  assert.equal(await sched('5-0', 'v1'), 0, 'a replay after the release changes nothing');
  assert.equal(await sched('6-0', 'v2'), 2, 'a correction read after the release goes out at once');
  assert.equal(await sched('6-0', 'v2'), 0, 'once');
  const payloads = (await redisCall(redis.port, ['XRANGE', 't:log', '-', '+'])).map(([, f]) => f.map(String)[f.map(String).indexOf('payload') + 1]);
  assert.deepEqual(payloads, ['v1', 'v2']);
  const entries = await redisCall(redis.port, ['XRANGE', 't:log', '-', '+']);
  for (const [, f] of entries) assert.ok(f.map(String).includes('fired'), 'marked fired');
  assert.equal(await call('tickerd_unschedule', '1', 't:due', action, '5-5'), 0, 'a kill older than the last decision changes nothing');
  const bad = await redisCall(redis.port, ['FCALL', 'tickerd_schedule', '1', 't:due', action, '1000', '7-0', 'w', 'x']).catch((e) => e);
  assert.match(String(bad.message || bad), /ERR tickerd_schedule: usage/);
}));
