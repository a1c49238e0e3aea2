// Several tickerd instances on one Redis (spec: "Issue 4 additions"): a
// PUBLISH is recorded once, every instance delivers the same seq with the same
// bytes, and a client can resume on another instance with no gap.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { scenario, publish, uniq, redisCall, waitForHealth } from './harness.mjs';
import {
  SeqPublisher, Stream, settleAndCheck, readLog, xlen, waitUntil, SEQ_RE, killRedisConnectionsOf,
} from './checker.mjs';

const isoOfSeq = (seq) => new Date(Math.floor(Number(seq.split('-')[0]) / 1000) * 1000).toISOString().replace('.000Z', 'Z');

test('three instances: one PUBLISH is recorded exactly once and delivered by all three with the same seq and bytes', { timeout: 30_000 }, scenario(async (t, h) => {
  const redis = await h.redis();
  const tds = [];
  for (let i = 0; i < 3; i++) tds.push(await h.tickerd({ redisUrl: redis.url }));
  const clients = [];
  for (const td of tds) {
    const c = await h.client(td.wsUrl());
    await c.ready();
    clients.push(c);
  }
  const epochs = new Set(clients.map((c) => c.hello.epoch));
  assert.equal(epochs.size, 1, `one epoch per dataset, got ${[...epochs].join(', ')}`);

  const u = uniq();
  const payloads = [
    ['ticker:world', `Plain text on three instances ${u} — déjà vu`],
    ['ticker:world', JSON.stringify({ id: `m-${u}`, headline: 'JSON, no time', priority: 'urgent' })],
    ['ticker:sports', JSON.stringify({ id: `x-${u}`, headline: 'Sports item', time: '2025-06-24T09:30:00+02:00' })],
    ['ticker:world', JSON.stringify({ id: `m-${u}`, headline: 'JSON, corrected' })],
    ['ticker:world', JSON.stringify({ id: `m-${u}`, status: 'canceled' })],
  ];
  const start = await xlen(redis.port);
  for (let i = 0; i < payloads.length; i++) {
    const [ch, p] = payloads[i];
    const n0 = await xlen(redis.port);
    const receivers = await publish(redis.port, ch, p);
    assert.equal(receivers, 3, 'all three instances are subscribed');
    const got = [];
    for (const c of clients) {
      await waitUntil(() => c.messages.length >= 2 + i + 1, 5000, () => `delivery ${i} at ${c.url}: ${c.describe()}`);
      got.push(c.messages[2 + i]);
    }
    assert.equal(await xlen(redis.port), n0 + 1, `XLEN must grow by exactly 1 for PUBLISH #${i}`);
    const seq = got[0].json.type === 'item' ? got[0].json.item.seq : got[0].json.seq;
    assert.match(seq, SEQ_RE);
    const log = await readLog(redis.port);
    const e = log[log.length - 1];
    assert.equal(e.seq, seq, 'the seq is the log entry id');
    assert.equal(e.topic, ch.slice('ticker:'.length));
    assert.ok(e.payload.equals(Buffer.from(p, 'utf8')), 'the raw published bytes are logged');
    if (i === 0) {
      assert.equal(got[0].json.item.time, isoOfSeq(seq), 'a plain-text item takes its time from the entry id');
      // The dedupe keys: ticker:seen:<sha1> (the payload, short-lived: 10 s),
      // and ticker:seen:t:<token> (one per instance's send, so a resend after
      // a lost answer counts once).
      const keys = (await redisCall(redis.port, ['KEYS', 'ticker:seen:*'])).map((b) => b.toString('utf8'));
      const payloadKeys = keys.filter((k) => /^ticker:seen:[0-9a-f]{40}$/.test(k));
      const tokenKeys = keys.filter((k) => /^ticker:seen:t:.+$/.test(k));
      assert.equal(payloadKeys.length, 1, `one payload dedupe key: ${keys.join(' ')}`);
      assert.equal(payloadKeys.length + tokenKeys.length, keys.length, `dedupe keys: ${keys.join(' ')}`);
      for (const k of keys) {
        const ttl = await redisCall(redis.port, ['PTTL', k]);
        const limit = tokenKeys.includes(k) ? 86_400_000 : 10_000;
        assert.ok(ttl > 0 && ttl <= limit, `${k} PTTL ${ttl} (must expire within ${limit} ms)`);
      }
    }
    for (let k = 1; k < got.length; k++) {
      assert.ok(got[k].raw.equals(got[0].raw), `instance ${k} sent different bytes for PUBLISH #${i}:\n${got[k].text}\nvs\n${got[0].text}`);
    }
  }
  await sleep(500); // a late second recording would show now
  assert.equal(await xlen(redis.port), start + payloads.length, 'XLEN grew by exactly one per PUBLISH');
  for (const c of clients) assert.equal(c.messages.length, 2 + payloads.length, `exactly one frame per PUBLISH at ${c.url}: ${c.describe()}`);
}));

test('a client that leaves instance A and resumes on B (then C, then A) with since= gets no gap and no duplicate while publishing continues', { timeout: 30_000 }, scenario(async (t, h) => {
  const redis = await h.redis();
  const tds = [];
  for (let i = 0; i < 3; i++) tds.push(await h.tickerd({ redisUrl: redis.url }));
  const on = (td) => (q) => h.client(td.wsUrl(q));
  const stay = [];
  for (const [i, td] of tds.entries()) {
    const s = new Stream(`S${'ABC'[i]} (stays on ${'ABC'[i]})`);
    await s.open(on(td), `${'ABC'[i]}@${td.port}`);
    stay.push(s);
  }
  const R = new Stream('R (moves A -> B -> C -> A)');
  await R.open(on(tds[0]), 'A');
  const W = new Stream('W (topics=seq, moves B -> A)', { topics: ['seq'] });
  await W.open(on(tds[1]), 'B');

  const pub = new SeqPublisher(redis.port, { intervalMs: 40 }).start();
  h.defer(() => pub.stop());
  await waitUntil(() => R.itemCount() >= 10, 5000, () => `first items at R; ${pub.summary()}`);
  await R.resume(on(tds[1]), 'B');
  await sleep(700);
  await W.resume(on(tds[0]), 'A');
  await R.resume(on(tds[2]), 'C');
  await sleep(700);
  await R.resume(on(tds[0]), 'A');
  await sleep(700);

  const { log } = await settleAndCheck({ port: redis.port, pub, streams: [...stay, R, W] });
  for (const [i, { client, via }] of R.connections.entries()) {
    const n = client.ofType('item').length;
    assert.ok(n >= 3, `R's connection ${i} (${via}) delivered only ${n} item(s): the move did not happen under load`);
  }
  t.diagnostic(`log ${log.length} entries; ${pub.summary()}`);
}));

test("tickerd #1's Redis connections killed every 200 ms for 3 s while #2 keeps recording: #1 catches up from the log, no gap anywhere", { timeout: 40_000 }, scenario(async (t, h) => {
  const redis = await h.redis();
  const t1 = await h.tickerd({ redisUrl: redis.url });
  const t2 = await h.tickerd({ redisUrl: redis.url });
  const on = (td) => (q) => h.client(td.wsUrl(q));
  const A1 = new Stream('A1 (stays on #1)');
  await A1.open(on(t1), '#1');
  const A2 = new Stream('A2 (stays on #2)');
  await A2.open(on(t2), '#2');
  const R = new Stream('R (on #1, resumes on #1 during the fault, then on #2)');
  await R.open(on(t1), '#1');

  const pub = new SeqPublisher(redis.port, { intervalMs: 25 }).start();
  h.defer(() => pub.stop());
  await waitUntil(() => A1.itemCount() >= 10, 5000, () => `first items at A1; ${pub.summary()}`);

  const faultAt = Date.now();
  let killed = 0;
  let resumed = false;
  while (Date.now() - faultAt < 3000) {
    killed += await killRedisConnectionsOf(t1.pid, redis.port);
    if (!resumed && Date.now() - faultAt > 1500) {
      await R.resume(on(t1), '#1 during the fault');
      resumed = true;
    }
    await sleep(200);
  }
  t.diagnostic(`killed ${killed} connection(s) of tickerd #1`);
  assert.ok(killed >= 6, `only ${killed} connection(s) of tickerd #1 were found and killed`);
  await waitForHealth(t1.port, (x) => x.status === 200, { timeoutMs: 15_000, what: 'tickerd #1 200/ok after the kills' });
  await sleep(1500);
  await R.resume(on(t2), '#2');
  await sleep(700);

  // #2 was subscribed throughout: every PUBLISH that reached a subscriber is in the log.
  const { log } = await settleAndCheck({ port: redis.port, pub, streams: [A1, A2, R] });
  t.diagnostic(`log ${log.length} entries; ${pub.summary()}`);
}));

test('rolling restart under load: #1 is stopped (clients get 1001) and started again while #2 keeps recording; its clients resume with since= with no gap', { timeout: 40_000 }, scenario(async (t, h) => {
  const redis = await h.redis();
  const t1 = await h.tickerd({ redisUrl: redis.url });
  const t2 = await h.tickerd({ redisUrl: redis.url });
  const on = (td) => (q) => h.client(td.wsUrl(q));
  const A2 = new Stream('A2 (stays on #2)');
  await A2.open(on(t2), '#2');
  const R = new Stream('R (on #1, resumes on the restarted #1)');
  await R.open(on(t1), '#1');
  const pub = new SeqPublisher(redis.port, { intervalMs: 25 }).start();
  h.defer(() => pub.stop());
  await waitUntil(() => R.itemCount() >= 10, 5000, () => `first items at R; ${pub.summary()}`);

  const closed = R.current().closed;
  const res = await t1.stop('SIGTERM');
  assert.equal(res.code, 0);
  assert.equal((await closed).code, 1001);
  await sleep(700); // #2 records what is published meanwhile
  const t1b = await h.tickerd({ redisUrl: redis.url });
  const r = await R.resume(on(t1b), 'restarted #1');
  assert.equal(r.messages[0].json.epoch, A2.connections[0].client.messages[0].json.epoch);
  await sleep(1000);
  const L = new Stream('L (fresh on the restarted #1)');
  await L.open(on(t1b), 'restarted #1');
  await sleep(500);
  const { log } = await settleAndCheck({ port: redis.port, pub, streams: [A2, R, L] });
  t.diagnostic(`log ${log.length} entries; ${pub.summary()}`);
}));
