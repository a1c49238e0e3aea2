// A log that rolled back under a connected tickerd (what an asynchronous
// failover does), made on one Redis: the log is rewritten without its last
// entry, the epoch kept, and tickerd's connections are killed.  On
// reconnecting it must notice, resync every client from the new log, and
// give the next entry an id above every id it had shown (tickerd_raise),
// even one from a clock an hour ahead, which Redis's own stream, without
// it, would not.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { scenario, publish, uniq, getMetrics, redisCall, redisCommands } from './harness.mjs';
import { killRedisConnectionsOf, waitUntil } from './checker.mjs';

const cmpSeq = (a, b) => {
  const [am, an] = a.split('-').map(BigInt);
  const [bm, bn] = b.split('-').map(BigInt);
  return am === bm ? (an < bn ? -1 : an > bn ? 1 : 0) : am < bm ? -1 : 1;
};

test('log rolled back: detected, every client resynced from the new log, no seq reused', { timeout: 30_000 }, scenario(async (t, h) => {
  const { redis, tickerd } = await h.env();
  const c = await h.client(tickerd.wsUrl());
  await c.ready();
  const u = uniq('rb');
  const seqs = [];
  for (const n of [1, 2]) {
    const headline = `${u} ${n}`;
    await publish(redis.port, 'ticker:world', JSON.stringify({ id: `${u}-${n}`, headline }));
    seqs.push((await c.nextItem(headline)).item.seq);
  }
  // The third from a master whose clock was an hour ahead: Redis's own
  // next id, on the log without it, would be lower than the one shown.
  const ahead = `${Date.now() + 3600_000}-0`;
  await redisCommands(redis.port, [
    ['XADD', 'ticker:log', ahead, 'topic', 'world', 'payload', JSON.stringify({ id: `${u}-3`, headline: `${u} 3` }), 'n', '3'],
    ['SET', 'ticker:log:count', '3'],
  ]);
  seqs.push((await c.nextItem(`${u} 3`)).item.seq);
  assert.equal(seqs[2], ahead);
  const entries = await redisCall(redis.port, ['XRANGE', 'ticker:log', '-', '+']);
  assert.equal(entries.length, 3);

  // The new log: the first two entries only, ids and numbers as they were.
  const rewrite = [['DEL', 'ticker:log']];
  for (const [id, fields] of entries.slice(0, 2)) rewrite.push(['XADD', 'ticker:log', id.toString(), ...fields.map(String)]);
  rewrite.push(['SET', 'ticker:log:count', '2']);
  await redisCommands(redis.port, rewrite);
  const killed = await killRedisConnectionsOf(tickerd.pid, redis.port);
  assert.ok(killed >= 2, `killed ${killed} of tickerd's connections`);

  const snap = await c.next((m) => m.type === 'snapshot', 10_000, 'a resync snapshot');
  assert.equal(snap.resync, true);
  assert.deepEqual(snap.items.map((i) => i.id).filter((id) => id.startsWith(u)), [`${u}-1`, `${u}-2`], 'the new log, no more');
  assert.equal(snap.seq, seqs[1], 'it stands for the new log\'s last entry');
  await waitUntil(async () => (await getMetrics(tickerd.port)).value('tickerd_log_rollbacks_total') === 1, 5000, 'counted');
  assert.match(tickerd.log(), /log rolled back: .* ends at .*, this instance had read up to/);

  // The next entry's id is above everything shown, the lost one included.
  const next = `${u} 4`;
  await publish(redis.port, 'ticker:world', JSON.stringify({ id: `${u}-4`, headline: next }));
  const m = await c.nextItem(next);
  assert.ok(cmpSeq(m.item.seq, seqs[2]) > 0, `${m.item.seq} comes after the lost ${seqs[2]}`);
  t.diagnostic(`lost ${seqs[2]}; next entry ${m.item.seq}`);

  // Resuming from the resync snapshot's seq goes on, with no second resync.
  const r = await h.client(tickerd.wsUrl(`?since=${snap.seq}`));
  const hello = await r.next(() => true, 3000, 'hello');
  assert.equal(hello.type, 'hello');
  const after = await r.next(() => true, 3000, 'what follows');
  assert.equal(after.type, 'item', JSON.stringify(after));
  assert.equal(after.item.headline, next);
}));
