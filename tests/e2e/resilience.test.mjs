// Redis outages and shutdown signals.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { scenario, publish, uniq, waitForHealth, getHealth, assertItemShape } from './harness.mjs';

const T = { timeout: 30_000 };

const degraded = (h) => h.status === 503 && h.json && h.json.status === 'degraded' && h.json.redis !== 'connected';
const healthy = (h) => h.status === 200 && h.json && h.json.status === 'ok' && h.json.redis === 'connected';

test('Redis restarted -> tickerd reconnects and delivers to a client that stayed connected', T, scenario(async (t, h) => {
  const { redis, tickerd } = await h.env();
  const c = await h.client(tickerd.wsUrl());
  await c.ready();
  const first = `Before outage ${uniq()}`;
  await publish(redis.port, 'ticker:world', first);
  await c.nextItem(first);
  assert.ok(healthy(await getHealth(tickerd.port)), 'healthy before the outage');

  await redis.stop();
  const down = await waitForHealth(tickerd.port, degraded, { timeoutMs: 10_000, what: '503/degraded after Redis stopped' });
  assert.ok(['connecting', 'down'].includes(down.json.redis), `redis field while down: ${down.json.redis}`);
  assert.ok(tickerd.isRunning(), 'tickerd keeps running while Redis is down');
  await sleep(500);
  assert.equal(c.closeCode, null, 'the client stays connected during the outage');
  // The WebSocket side keeps working while Redis is down.
  const during = await h.client(tickerd.wsUrl());
  const d = await during.ready();
  assert.ok(d.snapshot.items.some((i) => i.headline === first), 'history is still served while Redis is down');

  await redis.start();
  await waitForHealth(tickerd.port, healthy, { timeoutMs: 15_000, what: '200/ok after Redis came back' });

  const second = `After outage ${uniq()}`;
  const n = await publish(redis.port, 'ticker:world', second);
  assert.ok(n >= 1, `PUBLISH after reconnect reached ${n} subscribers`);
  const m = await c.nextItem(second, 5000);
  assertItemShape(m.item);
  assert.equal(m.item.topic, 'world');
  await during.nextItem(second, 5000);
  assert.equal(c.closeCode, null);
}));

test('tickerd starts while Redis is down, reports 503, then connects when Redis appears', T, scenario(async (t, h) => {
  const redis = await h.redis();
  await redis.stop();
  const tickerd = await h.tickerd({ redisUrl: redis.url, waitHealthy: false });
  const hd = await waitForHealth(tickerd.port, degraded, { timeoutMs: 5000, what: '503/degraded with Redis down' });
  for (const k of ['status', 'redis', 'clients', 'items', 'uptime_s', 'received', 'rejected']) {
    assert.ok(k in hd.json, `/healthz (degraded) lacks ${k}: ${hd.text}`);
  }
  const c = await h.client(tickerd.wsUrl());
  await c.ready();
  await sleep(1000);
  assert.ok(tickerd.isRunning(), 'tickerd keeps running without Redis');

  await redis.start();
  await waitForHealth(tickerd.port, healthy, { timeoutMs: 15_000, what: '200/ok once Redis is up' });
  const head = `First after start ${uniq()}`;
  await publish(redis.port, 'ticker:world', head);
  await c.nextItem(head);
}));

for (const sig of ['SIGTERM', 'SIGINT']) {
  test(`${sig} -> clients get close code 1001 and tickerd exits 0`, T, scenario(async (t, h) => {
    const { tickerd } = await h.env();
    const clients = [];
    for (const q of ['', '?topics=world', '']) {
      const c = await h.client(tickerd.wsUrl(q));
      await c.ready();
      clients.push(c);
    }
    const exited = tickerd.exited;
    tickerd.kill(sig);
    const timeout = (ms, what) => sleep(ms).then(() => { throw new Error(`${what} within ${ms} ms`); });
    for (const c of clients) {
      const { code } = await Promise.race([c.closed, timeout(5000, 'no close frame')]);
      assert.equal(code, 1001, `close code for ${c.url}`);
    }
    const res = await Promise.race([exited, timeout(5000, 'tickerd did not exit')]);
    assert.deepEqual({ code: res.code, signal: res.signal }, { code: 0, signal: null }, `exit status after ${sig}`);
  }));
}
