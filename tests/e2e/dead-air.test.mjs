// Dead air: a --dead-air topic that has had no item for its span is logged
// once, counted and shown in /metrics until it has an item again; a topic
// that keeps speaking is never flagged.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { scenario, publish, uniq, getMetrics, runTickerd } from './harness.mjs';
import { waitUntil } from './checker.mjs';

const count = (text, re) => (text.match(re) || []).length;

test('--dead-air: a silent topic is flagged once, a speaking one never; an item ends it', { timeout: 30_000 }, scenario(async (t, h) => {
  const redis = await h.redis();
  const td = await h.tickerd({ redisUrl: redis.url, args: ['--dead-air', 'quiet=2s, loud=2s'] });
  const started = Date.now();
  const c = await h.client(td.wsUrl());
  await c.ready();
  const flag = async (topic) => (await getMetrics(td.port)).value('tickerd_dead_air', { topic });

  assert.equal(await flag('quiet'), 0, 'not flagged at start');
  // loud speaks every 500 ms for 4 s; quiet says nothing.
  for (let i = 0; i < 8; i++) {
    const hl = `loud ${i} ${uniq()}`;
    await publish(redis.port, 'ticker:loud', hl);
    await c.nextItem(hl);
    await sleep(500);
  }
  const m = await getMetrics(td.port);
  assert.equal(m.value('tickerd_dead_air', { topic: 'quiet' }), 1, 'quiet is dead air');
  assert.equal(m.value('tickerd_dead_air', { topic: 'loud' }), 0, 'loud is not');
  assert.ok(m.value('tickerd_dead_air_seconds', { topic: 'quiet' }) >= 2);
  assert.ok(m.value('tickerd_dead_air_seconds', { topic: 'loud' }) <= 1);
  assert.equal(m.value('tickerd_dead_air_total'), 1, 'counted once');
  const log = td.log();
  assert.equal(count(log, /dead air: quiet has had no item for \d+ s \(--dead-air 2 s\)/g), 1, `logged once:\n${log}`);
  assert.equal(count(log, /dead air: loud/g), 0);
  t.diagnostic(`flagged within ${Date.now() - started} ms of start`);

  const hl = `quiet speaks ${uniq()}`;
  await publish(redis.port, 'ticker:quiet', hl);
  await c.nextItem(hl);
  await waitUntil(async () => (await flag('quiet')) === 0, 3000, 'quiet no longer flagged');
  assert.match(td.log(), /dead air over: quiet has an item again/);
}));

test('--dead-air refuses what is not TOPIC=DURATION', { timeout: 10_000 }, scenario(async (t, h) => {
  for (const bad of ['quiet', 'quiet=', 'quiet=5', 'quiet=0s', 'a:b=5m', 'quiet=400d']) {
    const r = await runTickerd(['--dead-air', bad, '--print-config']);
    assert.equal(r.code, 2, `--dead-air ${bad}: exit ${r.code} ${r.stderr}`);
    assert.match(r.stderr, /--dead-air: ".*" is not TOPIC=DURATION/);
  }
}));
