// Input defects, each driven by the publisher that caused it: a NUL in the
// topic, FCALLs refused for a bad argument that still wrote, the function
// library deleted under a running tickerd, headlines made only of invisible
// characters, and a kill published on another topic than its item.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  scenario, publish, publishMany, uniq, getHealth, getMetrics, redisCall, redisCommands, RedisError,
  waitForHealth, assertReceivedAll, assertItemsInOrder,
} from './harness.mjs';
import { readLog, waitUntil, xlen } from './checker.mjs';

const T = { timeout: 30_000 };

/** FCALL tickerd_record with the default keys and args; resolves the reply (a RedisError is returned, not thrown). */
async function fcall(port, ...args) {
  const [r] = await redisCommands(port, [['FCALL', 'tickerd_record', '2', 'ticker:log', 'ticker:seen', ...args]]);
  return r;
}

/** A counter from /metrics (0 when absent). */
async function counter(port, name, labels) {
  return (await getMetrics(port)).value(name, labels) ?? 0;
}

const rejectedFor = (port, reason) => counter(port, 'tickerd_payloads_rejected_total', { reason });

/** Lines of tickerd's log matching re, waiting up to 1 s for at least `min` (stderr is read asynchronously). */
async function logLines(tickerd, re, min = 1) {
  let lines = [];
  for (let i = 0; i < 20; i++) {
    lines = tickerd.log().split('\n').filter((l) => re.test(l));
    if (lines.length >= min) break;
    await sleep(50);
  }
  return lines;
}

/** The items and retractions a client got after its snapshot. */
const live = (c) => c.afterSnapshot().map((m) => m.json).filter((j) => j && (j.type === 'item' || j.type === 'retract'));

// ---------------------------------------------------------------------------
// 1. A NUL in the topic

test('a NUL in the topic (PUBLISH, FCALL, raw XADD) is refused as bad_topic, logged, shown nowhere', T, scenario(async (t, h) => {
  const { redis, tickerd } = await h.env();
  const all = await h.client(tickerd.wsUrl());
  const mk = await h.client(tickerd.wsUrl('?topics=mk'));
  await all.ready();
  await mk.ready();
  const bad0 = await rejectedFor(tickerd.port, 'bad_topic');
  const len0 = await xlen(redis.port);

  // FCALL with a NUL in the topic: refused by the function, nothing written.
  const r = await fcall(redis.port, 'mk\0evil', 'Evil headline through FCALL');
  assert.ok(r instanceof RedisError, `FCALL with a NUL in the topic answered ${String(r)}`);
  assert.match(r.message, /^ERR tickerd_record: topic/);
  assert.equal(await xlen(redis.port), len0, 'a refused FCALL wrote to the log');
  // PUBLISH on ticker:mk\0evil: tickerd hears it (the pattern matches every byte).
  assert.equal(await publish(redis.port, 'ticker:mk\0evil', 'Evil headline on a NUL topic'), 1);
  // An entry written straight into the log (not through the function): tickerd checks it when it reads it.
  await redisCall(redis.port, ['XADD', 'ticker:log', '*', 'topic', 'mk\0evil', 'payload', 'Evil headline through XADD']);

  const sentinel = `Sentinel on mk ${uniq()}`;
  await publish(redis.port, 'ticker:mk', sentinel);
  for (const c of [all, mk]) {
    await c.nextItem(sentinel);
    assert.deepEqual(live(c).map((j) => j.item?.headline), [sentinel], `${c.url}: ${c.describe()}`);
  }
  assert.equal(await rejectedFor(tickerd.port, 'bad_topic') - bad0, 2, 'the PUBLISH and the XADD entry count as bad_topic');
  const lines = await logLines(tickerd, /rejected .*bad_topic/, 2);
  assert.equal(lines.length, 2, lines.join('\n'));
  assert.ok(lines.some((l) => l.includes('ticker:mk?evil')), `the channel is named, NUL made visible:\n${lines.join('\n')}`);

  const late = await h.client(tickerd.wsUrl('?topics=mk'));
  const { snapshot } = await late.ready();
  assert.deepEqual(snapshot.items.map((i) => i.headline), [sentinel]);
}));

// ---------------------------------------------------------------------------
// 2. FCALL refused for a bad argument has no effect

test('FCALL tickerd_record with a bad argument is refused and writes nothing: no entry, no numbering jump, no resync', T, scenario(async (t, h) => {
  const { redis, tickerd } = await h.env();
  const c = await h.client(tickerd.wsUrl());
  await c.ready();
  const first = `First good FCALL ${uniq()}`;
  assert.ok(Buffer.isBuffer(await fcall(redis.port, 'world', first)));
  await c.nextItem(first);

  const len0 = await xlen(redis.port);
  const count0 = String(await redisCall(redis.port, ['GET', 'ticker:log:count']));
  const seenKeys = async () => new Set((await redisCall(redis.port, ['KEYS', 'ticker:seen*'])).map(String));
  const keys0 = await seenKeys();
  const p = (what) => `Refused (${what}) ${uniq()}`;
  const bad = [
    { why: /maxlen/, args: ['world', p('maxlen -5'), '-5'] },
    { why: /maxlen/, args: ['world', p('maxlen 0'), '0'] },
    { why: /maxlen/, args: ['world', p('maxlen abc'), 'abc'] },
    { why: /maxlen/, args: ['world', p('maxlen 1.5'), '1.5'] },
    { why: /maxlen/, args: ['world', p('maxlen empty'), ''] },
    { why: /ttl/, args: ['world', p('ttl 0'), '100', '0'] },
    { why: /ttl/, args: ['world', p('ttl -1'), '100', '-1'] },
    { why: /ttl/, args: ['world', p('ttl x'), '100', 'x', 'tok'] },
    { why: /topic/, args: ['', p('empty topic')] },
    { why: /topic/, args: ['bad topic', p('space in topic')] },
    { why: /topic/, args: ['t'.repeat(65), p('65-byte topic')] },
    { why: /payload/, args: ['world', ''] },
    { why: /payload/, args: ['world', Buffer.alloc(256 * 1024 + 1, 'p')] },
    { why: /token/, args: ['world', p('empty token'), '100', '10', ''] },
    { why: /token/, args: ['world', p('long token'), '100', '10', 't'.repeat(129)] },
    { why: /token/, args: ['world', p('newline in token'), '100', '10', 'a\nb'] },
    { why: /usage/, args: ['world'] },
    { why: /by must be/, args: ['world', p('bad by'), '100', '10', 'tok', 'bad by'] },
    { why: /by must be/, args: ['world', p('empty by'), '100', '10', 'tok', ''] },
    { why: /usage/, args: ['world', p('extra'), '100', '10', 'tok', 'desk', 'extra'] },
  ];
  for (const b of bad) {
    const r = await fcall(redis.port, ...b.args);
    const what = `FCALL ${JSON.stringify(b.args.map(String).map((a) => a.slice(0, 40)))}`;
    assert.equal(await xlen(redis.port), len0, `${what} added an entry`);
    assert.equal(String(await redisCall(redis.port, ['GET', 'ticker:log:count'])), count0, `${what} moved the numbering`);
    assert.deepEqual([...await seenKeys()].filter((k) => !keys0.has(k)), [], `${what} left a dedupe or token key`);
    assert.ok(r instanceof RedisError, `${what} answered ${String(r)}`);
    assert.match(r.message, /^ERR tickerd_record: /);
    assert.match(r.message, b.why);
  }

  // A good FCALL afterwards: recorded with the next number, delivered, no gap seen.
  const good = `Good FCALL after the refusals ${uniq()}`;
  const seq = String(await fcall(redis.port, 'world', good, '100', '10', 'tok-1'));
  const m = await c.nextItem(good);
  assert.equal(m.item.seq, seq);
  assert.equal(String(await redisCall(redis.port, ['GET', 'ticker:log:count'])), String(Number(count0) + 1));
  await sleep(300); // a gap would be reported as the entry is read
  const mx = await getMetrics(tickerd.port);
  assert.equal(mx.value('tickerd_log_gaps_total'), 0);
  assert.equal(mx.value('tickerd_log_entries_lost_total'), 0);
  assert.equal(mx.value('tickerd_resyncs_total'), 0);
  assert.deepEqual(live(c).map((j) => j.item?.headline), [first, good], `only the good FCALLs reach the screen: ${c.describe()}`);
  assert.equal(c.ofType('snapshot').length, 1, `no resync snapshot: ${c.describe()}`);
  await assertReceivedAll(redis.port, c);
}));

// ---------------------------------------------------------------------------
// 3. The function library deleted under a running tickerd

/** Poll /healthz every 20 ms until stop(); returns the samples [{ at, status, state }]. */
function healthWatch(port) {
  const samples = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      const r = await getHealth(port).catch((e) => ({ status: String(e) }));
      samples.push({ at: Date.now(), status: r.status, state: r.json?.status });
      await sleep(20);
    }
  })();
  return { samples, stop: async () => { running = false; await loop; return samples; } };
}

test('FUNCTION DELETE tickerd: the next record reloads the library at once, every payload is delivered, health is back to ok', T, scenario(async (t, h) => {
  const { redis, tickerd } = await h.env();
  const c = await h.client(tickerd.wsUrl());
  await c.ready();
  const watch = healthWatch(tickerd.port);
  assert.equal(String(await redisCall(redis.port, ['FUNCTION', 'DELETE', 'tickerd'])), 'OK');

  // Five pipelined (one read for tickerd: five FCALLs refused together), then three one by one.
  const u = uniq('fd');
  const ids = Array.from({ length: 8 }, (_, i) => `${u}-${i}`);
  const payload = (id) => JSON.stringify({ id, headline: `After FUNCTION DELETE ${id}` });
  const heard = await publishMany(redis.port, 'ticker:world', ids.slice(0, 5).map(payload));
  assert.deepEqual(heard, [1, 1, 1, 1, 1]);
  for (const id of ids.slice(5)) assert.equal(await publish(redis.port, 'ticker:world', payload(id)), 1);

  await waitUntil(() => live(c).length >= ids.length, 5000, () => `all ${ids.length} items; ${c.describe()}`);
  assertItemsInOrder(c, ids);
  await assertReceivedAll(redis.port, c);
  const ok = await waitForHealth(tickerd.port, (x) => x.status === 200, { timeoutMs: 3000, what: '200 after the reload' });
  const samples = await watch.stop();
  assert.equal(ok.json.status, 'ok');
  assert.equal(ok.json.record_errors, 0, 'no payload was dropped');
  const bad = samples.filter((s) => s.status !== 200);
  assert.ok(bad.length <= 10, `/healthz was not ok for ${bad.length} of ${samples.length} samples (20 ms apart)`);
  for (const s of bad) assert.equal(s.state, 'degraded', JSON.stringify(s));

  assert.equal((await logLines(tickerd, /no tickerd function library/)).length, 1, `the reload is logged once:\n${tickerd.log()}`);
  assert.equal((await logLines(tickerd, /function library loaded again/)).length, 1, tickerd.log());
  const libs = await redisCall(redis.port, ['FUNCTION', 'LIST', 'LIBRARYNAME', 'tickerd']);
  assert.equal(libs.length, 1, 'the library is back in Redis');
  // Publishers' FCALLs work again.
  const durable = `Durable after the reload ${uniq()}`;
  assert.ok(Buffer.isBuffer(await fcall(redis.port, 'world', durable)));
  await c.nextItem(durable);
}));

test('while the library cannot be loaded again (ACL), /healthz says degraded and payloads wait; once it loads they are all delivered', T, scenario(async (t, h) => {
  const { redis, tickerd } = await h.env();
  const c = await h.client(tickerd.wsUrl());
  await c.ready();
  await redisCall(redis.port, ['FUNCTION', 'DELETE', 'tickerd']);
  await redisCall(redis.port, ['ACL', 'SETUSER', 'default', '-function']);

  const u = uniq('acl');
  const ids = [`${u}-0`, `${u}-1`, `${u}-2`];
  for (const id of ids) assert.equal(await publish(redis.port, 'ticker:world', JSON.stringify({ id, headline: `Waiting ${id}` })), 1);
  const down = await waitForHealth(tickerd.port, (x) => x.status === 503, { timeoutMs: 3000, what: '503 while the library is missing' });
  assert.equal(down.json.status, 'degraded');
  await sleep(1000);
  assert.equal((await getHealth(tickerd.port)).status, 503, 'still degraded: the library is still missing');
  assert.deepEqual(live(c), [], 'nothing can be recorded yet');

  await redisCall(redis.port, ['ACL', 'SETUSER', 'default', '+function']);
  await waitForHealth(tickerd.port, (x) => x.status === 200 && x.json.status === 'ok', { timeoutMs: 10_000, what: 'ok once the library loads' });
  await waitUntil(() => live(c).length >= ids.length, 5000, () => `all ${ids.length} items; ${c.describe()}`);
  assertItemsInOrder(c, ids);
  await assertReceivedAll(redis.port, c);
  assert.equal((await getHealth(tickerd.port)).json.record_errors, 0, 'no payload was dropped');
}));

test('a record Redis refuses for another reason is dropped, counted and logged with the reason; the next one flows', T, scenario(async (t, h) => {
  const { redis, tickerd } = await h.env();
  const c = await h.client(tickerd.wsUrl());
  await c.ready();
  // The function's dedupe key for this payload holds a list: its GET fails with WRONGTYPE.
  const doomed = `Refused by Redis ${uniq()}`;
  const sha = crypto.createHash('sha1').update(`world\n${doomed}`).digest('hex');
  await redisCall(redis.port, ['RPUSH', `ticker:seen:${sha}`, 'x']);

  await publish(redis.port, 'ticker:world', doomed);
  const next = `After the refusal ${uniq()}`;
  await publish(redis.port, 'ticker:world', next);
  await c.nextItem(next);
  assert.deepEqual(live(c).map((j) => j.item?.headline), [next]);
  const hz = await getHealth(tickerd.port);
  assert.equal(hz.json.record_errors, 1);
  assert.equal(hz.status, 200, 'a refused payload is not a Redis outage');
  const lines = await logLines(tickerd, /refused to record .*WRONGTYPE/);
  assert.equal(lines.length, 1, tickerd.log());
  assert.equal((await logLines(tickerd, /function library/, 0)).length, 0, 'no reload for an ordinary refusal');
}));

// ---------------------------------------------------------------------------
// 4. Headlines with nothing visible

test('headlines of no-break, ideographic and other Unicode spaces or invisible characters are rejected as bad_headline', T, scenario(async (t, h) => {
  const { redis, tickerd } = await h.env();
  const c = await h.client(tickerd.wsUrl());
  await c.ready();
  const bad0 = await rejectedFor(tickerd.port, 'bad_headline');
  const blank = [
    '\u00a0\u00a0\u00a0',                                  // plain text: no-break spaces
    '\u3000\u3000',                                        // plain text: ideographic spaces
    ' \u200b\ufeff\u2060 ',                                // plain text: zero-width space, BOM, word joiner
    JSON.stringify({ id: 'b1', headline: '\u1680\u2000\u2003\u200a\u2028\u2029\u202f\u205f' }),
    JSON.stringify({ id: 'b2', headline: '\u200c\u200d\u00ad' }),
    JSON.stringify({ id: 'b3', headline: 'Visible', related: [{ headline: '\u00a0\u3000' }] }),
    JSON.stringify({ uri: 'b4', headlines: [{ role: 'main', value: '\u2007\u200b' }] }),
  ];
  for (const b of blank) assert.equal(await publish(redis.port, 'ticker:world', b), 1);
  // Through FCALL the payload goes to the log unchecked: tickerd refuses it on reading.
  assert.ok(Buffer.isBuffer(await fcall(redis.port, 'world', '\u00a0\u200b\u3000')));

  const sentinel = `Visible\u00a0headline ${uniq()}`;
  await publish(redis.port, 'ticker:world', sentinel);
  await c.nextItem(sentinel);
  assert.deepEqual(live(c).map((j) => j.item?.headline), [sentinel], c.describe());
  assert.equal(await rejectedFor(tickerd.port, 'bad_headline') - bad0, blank.length + 1);
  const lines = await logLines(tickerd, /bad_headline/, blank.length + 1);
  assert.equal(lines.length, blank.length + 1, lines.join('\n'));
}));

// ---------------------------------------------------------------------------
// 5. A kill is for the item of its own topic

test('an item is (topic, id): a kill on another topic leaves it live and in snapshots; a kill on its topic removes it', T, scenario(async (t, h) => {
  const { redis, tickerd } = await h.env();
  const c = await h.client(tickerd.wsUrl());
  await c.ready();
  const snapshotOf = async () => (await (await h.client(tickerd.wsUrl())).ready()).snapshot.items.map((i) => [i.topic, i.id, i.headline]);
  const kill = async (topic, id) => {
    // (a note makes each kill its own payload: the same payload twice in 10 s is one entry)
    await publish(redis.port, `ticker:${topic}`, JSON.stringify({ id, status: 'canceled', note: uniq() }));
    const m = await c.next((j) => j.type === 'retract', 3000, `the kill on ${topic}`);
    assert.deepEqual([m.topic, m.id], [topic, id], 'a retraction names its topic and id');
  };
  const id = uniq('story');
  await publish(redis.port, 'ticker:alpha', JSON.stringify({ id, headline: 'Alpha story' }));
  await c.nextItem('Alpha story');

  // A kill for the same id on a topic that has no such item.
  await kill('beta', id);
  assert.deepEqual(await snapshotOf(), [['alpha', id, 'Alpha story']], 'a kill on beta must not remove alpha\'s item');

  // The same id on beta is another item; killing it leaves alpha's.
  await publish(redis.port, 'ticker:beta', JSON.stringify({ id, headline: 'Beta story, same id' }));
  await c.nextItem('Beta story, same id');
  assert.deepEqual(await snapshotOf(), [['alpha', id, 'Alpha story'], ['beta', id, 'Beta story, same id']]);
  await kill('beta', id);
  assert.deepEqual(await snapshotOf(), [['alpha', id, 'Alpha story']]);

  await kill('alpha', id);
  assert.deepEqual(await snapshotOf(), [], 'the kill on alpha removes it');
}));
