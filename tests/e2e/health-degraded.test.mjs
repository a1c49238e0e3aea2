// Issue 12: while Redis is away tickerd stays live (/livez 200: a balancer
// keeps it in) but is not ready (/readyz 503), and tells every connected
// screen its headlines may be out of date ({"type":"feed","state":
// "degraded"}), then that the feed is ok again; a screen that connects
// meanwhile is told in its hello. Nothing published meanwhile is lost.

import http from 'node:http';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { scenario, httpGet, getHealth, getMetrics, redisCall, redisCommands, RedisError, TIME_RE } from './harness.mjs';
import { SeqPublisher, Stream, settleAndCheck, waitUntil } from './checker.mjs';

const T = { timeout: 30_000 };
const wsOf = (h, td) => (q) => h.client(td.wsUrl(q));
const sseOf = (h, td) => (q) => h.sse(td.port, `/events${q}`);
const feeds = (c) => c.ofType('feed');

/**
 * Poll /livez, /readyz and /healthz every 100 ms until stop(); samples
 * [{ at, live, ready, readyText, health }] (a status, or the error).
 */
function probe(port) {
  const samples = [];
  let running = true;
  const get = (p) => httpGet(port, p, { timeoutMs: 1000 }).catch((e) => ({ status: String(e.message), text: '' }));
  const loop = (async () => {
    while (running) {
      const [live, ready, health] = await Promise.all([get('/livez'), get('/readyz'), getHealth(port).catch(() => ({}))]);
      samples.push({ at: Date.now(), live: live.status, ready: ready.status, readyText: ready.text, health: health.json });
      await sleep(100);
    }
  })();
  return { samples, stop: async () => { running = false; await loop; return samples; } };
}

/** A feed message as the README says it: state, since (ISO), reason while degraded, nothing else. */
function assertFeed(j, state, where) {
  assert.equal(j.type, 'feed', where);
  assert.equal(j.state, state, `${where}: ${JSON.stringify(j)}`);
  assert.match(j.since, TIME_RE, where);
  assert.deepEqual(Object.keys(j), state === 'degraded' ? ['type', 'state', 'since', 'reason'] : ['type', 'state', 'since'], where);
  if (state === 'degraded') assert.equal(j.reason, 'redis', where);
}

test('Redis frozen 8 s (SIGSTOP): /livez stays 200, /readyz 503 then 200, /healthz says why; WebSocket and EventSource clients are told degraded then ok, a newcomer in its hello; nothing is lost', T, scenario(async (t, h) => {
  const { redis, tickerd } = await h.env();
  const A = new Stream('A (WebSocket, stays connected)');
  await A.open(wsOf(h, tickerd), 'A');
  const S = new Stream('S (EventSource, stays connected)');
  await S.open(sseOf(h, tickerd), 'S');
  assert.equal(A.current().hello.feed.state, 'ok');
  assert.equal((await httpGet(tickerd.port, '/readyz')).status, 200);
  const pub = new SeqPublisher(redis.port).start();
  const fpub = new SeqPublisher(redis.port, { channel: 'ticker:durable', fcall: true, first: 500_001, intervalMs: 200 }).start();
  h.defer(() => pub.stop());
  h.defer(() => fpub.stop());
  await waitUntil(() => A.itemCount() >= 5 && S.itemCount() >= 5, 5000, () => `5 items at A and S\n${A.describe()}\n${S.describe()}`);

  const watch = probe(tickerd.port);
  h.defer(() => watch.stop());
  const pid = redis.pid();
  h.defer(() => { try { process.kill(pid, 'SIGCONT'); } catch { /* gone */ } });
  process.kill(pid, 'SIGSTOP');
  const stopAt = Date.now();
  // Published while Redis is frozen: answered once it runs again.
  const durable = redisCommands(redis.port, [['FCALL', 'tickerd_record', '2', 'ticker:log', 'ticker:seen', 'durable', 'During the freeze (FCALL)']], { timeoutMs: 20_000 });
  const plain = redisCommands(redis.port, [['PUBLISH', 'ticker:world', 'During the freeze (PUBLISH)']], { timeoutMs: 20_000 });

  const down = await A.current().next((j) => j.type === 'feed', 8000, 'the degraded feed message');
  const toldAt = Date.now();
  assertFeed(down, 'degraded', 'A');
  const sseDown = await S.current().next((j) => j.type === 'feed', 2000, 'the degraded feed event');
  assert.equal(S.current().last.event, 'feed', 'EventSource event name');
  assert.equal(S.current().last.id, undefined, 'a feed event has no id: resuming is by items');
  assert.equal(S.current().last.raw.toString(), A.current().last.raw.toString(), 'the same bytes on both');
  assertFeed(sseDown, 'degraded', 'S');
  const since = Date.parse(down.since);
  assert.ok(since >= Math.floor(stopAt / 1000) * 1000 && since <= toldAt, `since ${down.since} is when the trouble began (SIGSTOP at ${new Date(stopAt).toISOString()})`);
  t.diagnostic(`degraded told ${toldAt - stopAt} ms after SIGSTOP`);

  const hz = await getHealth(tickerd.port);
  assert.equal(hz.status, 503);
  assert.equal(hz.json.reason, 'redis', hz.text);
  assert.deepEqual(hz.json.feed, { state: 'degraded', since: down.since, reason: 'redis' }, hz.text);
  const ready = await httpGet(tickerd.port, '/readyz');
  assert.deepEqual([ready.status, ready.text], [503, 'not ready: redis\n']);
  const mid = await getMetrics(tickerd.port);
  assert.equal(mid.value('tickerd_feed_degraded'), 1);
  assert.equal(mid.value('tickerd_feed_degraded_total'), 1);

  // A screen that connects now is told in its greeting, WebSocket or EventSource.
  const N = new Stream('N (WebSocket, new during the freeze)');
  const n = await N.open(wsOf(h, tickerd), 'N');
  assert.deepEqual(n.hello.feed, { state: 'degraded', since: down.since, reason: 'redis' }, JSON.stringify(n.hello));
  const M = new Stream('M (EventSource, new during the freeze)');
  const m = await M.open(sseOf(h, tickerd), 'M');
  assert.deepEqual(m.hello.feed, n.hello.feed);

  await sleep(Math.max(0, stopAt + 8000 - Date.now()));
  process.kill(pid, 'SIGCONT');
  const contAt = Date.now();
  const up = await A.current().next((j) => j.type === 'feed', 10_000, 'the ok feed message');
  const okAt = Date.now();
  assertFeed(up, 'ok', 'A');
  assert.ok(Date.parse(up.since) >= Math.floor(contAt / 1000) * 1000 && Date.parse(up.since) <= okAt, `ok since ${up.since}`);
  t.diagnostic(`ok told ${okAt - contAt} ms after SIGCONT`);
  for (const [c, what] of [[S.current(), 'S'], [n, 'N'], [m, 'M']]) {
    assertFeed(await c.next((j) => j.type === 'feed', 2000, `ok at ${what}`), 'ok', what);
  }
  const samples = await watch.stop();
  assert.ok(samples.length > 40, `${samples.length} probes`);
  const notLive = samples.filter((s) => s.live !== 200);
  assert.deepEqual(notLive, [], '/livez answered 200 throughout');
  const readyTimes = samples.map((s) => s.ready);
  const firstNot = readyTimes.indexOf(503);
  assert.ok(firstNot > 0, `/readyz went 503: ${readyTimes.join(' ')}`);
  assert.ok(readyTimes.lastIndexOf(503) < readyTimes.length - 1 && readyTimes.at(-1) === 200, `/readyz back to 200: ${readyTimes.join(' ')}`);
  assert.ok(samples.filter((s) => s.ready === 503).every((s) => /^not ready: (redis|log|library)\n$/.test(s.readyText)), 'says why');
  const notOk = samples.filter((s) => s.health?.status === 'degraded');
  assert.ok(notOk.length > 10 && notOk.every((s) => ['redis', 'library', 'log'].includes(s.health.reason)), '/healthz says why');
  assert.ok(samples.some((s) => s.health?.feed?.state === 'degraded'), '/healthz says what clients are told');
  assert.equal((await httpGet(tickerd.port, '/readyz')).status, 200);

  // What was published during the freeze.
  const [seq] = await durable;
  assert.ok(!(seq instanceof RedisError), String(seq));
  await waitUntil(() => [A, S, N, M].every((s) => s.current().ofType('item').some((j) => j.item.seq === seq.toString())), 5000,
    () => `the FCALL made during the freeze (${seq}) at every client`);
  const [heard] = await plain;
  t.diagnostic(`the PUBLISH made during the freeze reached ${heard} subscriber(s) when Redis ran again`);
  if (heard >= 1) await waitUntil(() => A.current().ofType('item').some((j) => j.item.headline === 'During the freeze (PUBLISH)'), 5000, 'the PUBLISH heard after SIGCONT');

  await sleep(Math.max(0, okAt + 1500 - Date.now())); // publishing goes on after recovery
  const { log } = await settleAndCheck({ port: redis.port, pub: [pub, fpub], streams: [A, S, N, M], faultAt: stopAt, recoveredAt: okAt });
  for (const s of [A, S]) assert.deepEqual(feeds(s.current()).map((j) => j.state), ['degraded', 'ok'], `${s.name}: told once each`);
  for (const s of [N, M]) assert.deepEqual(feeds(s.current()).map((j) => j.state), ['ok'], `${s.name}: degraded by its hello, then ok`);
  const end = await getMetrics(tickerd.port);
  assert.equal(end.value('tickerd_feed_degraded'), 0);
  assert.equal(end.value('tickerd_feed_degraded_total'), 1);
  const secs = end.value('tickerd_feed_degraded_seconds_total');
  assert.ok(secs >= Math.floor((okAt - toldAt) / 1000) - 1 && secs <= Math.ceil((okAt - toldAt) / 1000) + 1, `degraded seconds ${secs} vs ${okAt - toldAt} ms`);
  t.diagnostic(`log ${log.length} entries; ${pub.summary()}; FCALL: ${fpub.summary()}`);
}));

test('a blip (the subscriber connection killed every 100 ms for 1.2 s) is not told to anyone', T, scenario(async (t, h) => {
  const { redis, tickerd } = await h.env();
  const c = await h.client(tickerd.wsUrl());
  await c.ready();
  const s = await h.sse(tickerd.port, '/events');
  await s.ready();
  let killed = 0;
  for (const end = Date.now() + 1200; Date.now() < end; await sleep(100)) {
    killed += await redisCall(redis.port, ['CLIENT', 'KILL', 'TYPE', 'pubsub']);
  }
  assert.ok(killed >= 5, `killed ${killed}`);
  await sleep(3500);
  assert.deepEqual([...feeds(c), ...feeds(s)], [], `${c.describe()}\n${s.describe()}`);
  assert.equal((await httpGet(tickerd.port, '/readyz')).status, 200);
  assert.equal((await getMetrics(tickerd.port)).value('tickerd_feed_degraded_total'), 0);
  assert.equal((await getHealth(tickerd.port)).json.feed.state, 'ok');
}));

test('Redis down from the start: /livez 200 (GET and HEAD), /readyz 503; clients are told degraded after 2 s, and ok once redis-server starts', T, scenario(async (t, h) => {
  const redis = await h.redis();
  await redis.stop();
  const startAt = Date.now();
  const tickerd = await h.tickerd({ redisUrl: redis.url, waitHealthy: false });
  const live = await httpGet(tickerd.port, '/livez');
  assert.deepEqual([live.status, live.text], [200, 'ok\n']);
  assert.match(String(live.headers['content-type']), /^text\/plain/);
  const ready = await httpGet(tickerd.port, '/readyz');
  assert.deepEqual([ready.status, ready.text], [503, 'not ready: redis\n']);
  const c = await h.client(tickerd.wsUrl());
  const { hello } = await c.ready();
  assert.equal(hello.feed.state, 'ok', 'not told before the trouble lasted 2 s');
  const down = await c.next((j) => j.type === 'feed', 4000, 'degraded');
  assertFeed(down, 'degraded', 'c');
  t.diagnostic(`degraded told ${Date.now() - startAt} ms after tickerd started without Redis`);
  const late = await h.client(tickerd.wsUrl());
  assert.equal((await late.ready()).hello.feed.state, 'degraded');

  await redis.start();
  const upAt = Date.now();
  assertFeed(await c.next((j) => j.type === 'feed', 10_000, 'ok'), 'ok', 'c');
  t.diagnostic(`ok told ${Date.now() - upAt} ms after redis-server answered`);
  assertFeed(await late.next((j) => j.type === 'feed', 2000, 'ok'), 'ok', 'late');
  assert.equal((await httpGet(tickerd.port, '/readyz')).status, 200);
  for (const p of ['/livez', '/readyz']) {
    const r = await new Promise((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port: tickerd.port, path: p, method: 'HEAD', agent: false }, (res) => {
        res.resume();
        res.on('end', () => resolve(res));
      });
      req.on('error', reject);
      req.end();
    });
    assert.equal(r.statusCode, 200, `HEAD ${p}`);
  }
}));
