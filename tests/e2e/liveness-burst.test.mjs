// A burst read slowly is not silence: with tickerd throttled (stopped
// 150 ms of every 200 ms) while 20,000 items arrive, the liveness probe
// waits behind the burst for seconds, yet no Redis connection may be
// dropped as silent (a dropped subscriber loses what is published while
// it reconnects), and every item is delivered.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { scenario, publishMany } from './harness.mjs';
import { waitUntil } from './checker.mjs';

test('a 20,000-item burst read slowly (tickerd stopped 150 ms of every 200 ms) drops no Redis connection and loses no item', { timeout: 120_000 }, scenario(async (t, h) => {
  const redis = await h.redis();
  const td = await h.tickerd({ redisUrl: redis.url, args: ['--log-length', '30000'] });
  const c = await h.client(td.wsUrl('?topics=burst'));
  await c.ready();
  const N = 20_000;
  const pad = 'm'.repeat(600);
  const payloads = [];
  for (let i = 1; i <= N; i++) payloads.push(JSON.stringify({ id: `b-${String(i).padStart(6, '0')}`, headline: `item ${i} ${pad}` }));

  let throttling = true;
  const throttle = (async () => {
    while (throttling) {
      td.kill('SIGSTOP');
      await sleep(150);
      td.kill('SIGCONT');
      await sleep(50);
    }
    td.kill('SIGCONT');
  })();
  h.defer(async () => { throttling = false; await throttle; });
  const started = Date.now();
  await publishMany(redis.port, 'ticker:burst', payloads, { timeoutMs: 60_000 });
  await waitUntil(() => c.ofType('item').length >= N || Date.now() - started > 60_000, 65_000, () => `${c.ofType('item').length} items`);
  throttling = false;
  await throttle;
  const items = c.ofType('item');
  const log = td.log();
  t.diagnostic(`${items.length} of ${N} items in ${Date.now() - started} ms, throttled`);
  assert.doesNotMatch(log, /connection lost/, `a Redis connection was dropped as silent:\n${log.split('\n').filter((l) => /lost|stall/.test(l)).join('\n')}`);
  assert.equal(items.length, N, `${items.length} of ${N} items delivered`);
  assert.equal(items[N - 1].item.id, `b-${String(N).padStart(6, '0')}`);
}));
