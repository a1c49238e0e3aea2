// Durable change log (spec: "Issue 4 additions"): resume by position,
// trimmed positions, tickerd restarts, publishing with no tickerd running.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  scenario, publish, uniq, getHealth, redisCall, runTickerd, REPO, TIME_RE,
} from './harness.mjs';
import {
  SEQ_RE, cmpSeq, readLog, xlen, Stream, checkStream, waitUntil,
} from './checker.mjs';

const T = { timeout: 30_000 };
const LUA = path.join(REPO, 'deploy', 'redis', 'tickerd.lua');

const seqOf = (m) => (m.type === 'item' ? m.item.seq : m.seq);

/** The frames after hello of a since= connection, waiting until `count` arrived; then 300 ms of silence. */
async function framesAfterHello(c, count, what) {
  const hello = await c.next(() => true, 5000, 'hello');
  assert.equal(hello.type, 'hello', `${what}: first frame: ${c.describe()}`);
  await waitUntil(() => c.messages.length >= 1 + count, 5000, () => `${what}: ${count} frame(s) after hello; ${c.describe(12)}`);
  await sleep(300);
  return { hello, frames: c.messages.slice(1) };
}

test('resume: since=<seq> -> hello, then exactly the messages after it (new item, correction, retraction), no snapshot, then live', T, scenario(async (t, h) => {
  const { redis, tickerd } = await h.env();
  const w = await h.client(tickerd.wsUrl());
  const { hello, snapshot } = await w.ready();
  assert.equal(typeof hello.epoch, 'string', `hello must carry "epoch": ${w.messages[0].text}`);
  assert.ok(hello.epoch.length > 0, 'empty epoch');
  assert.ok('seq' in snapshot, `snapshot must carry "seq": ${w.messages[1].text}`);
  assert.equal(snapshot.seq, null, 'snapshot seq on an empty log is null');

  const u = uniq();
  const A = { id: `a-${u}`, headline: 'Story A, first version' };
  const B = { id: `b-${u}`, headline: 'Story B' };
  const C = { id: `c-${u}`, headline: 'Story C, to be killed' };
  for (const x of [A, B, C]) await publish(redis.port, 'ticker:world', JSON.stringify(x));
  await w.nextItem(C.headline);
  const seqB = w.ofType('item').find((m) => m.item.id === B.id).item.seq;
  assert.match(seqB, SEQ_RE, 'seq is a stream entry id');

  await publish(redis.port, 'ticker:world', JSON.stringify({ id: A.id, headline: 'Story A, corrected', version: 2 }));
  await publish(redis.port, 'ticker:world', JSON.stringify({ id: C.id, status: 'canceled' }));
  const D = `Story D ${u}`;
  await publish(redis.port, 'ticker:sports', D);
  await w.nextItem(D);
  const wFrames = w.messages.slice(2);
  assert.deepEqual(wFrames.map((m) => m.json.type), ['item', 'item', 'item', 'item', 'retract', 'item']);
  const expected = wFrames.slice(2); // C, A v2, retract C, D

  const r = await h.client(tickerd.wsUrl(`?since=${encodeURIComponent(seqB)}`));
  const { hello: rh, frames } = await framesAfterHello(r, expected.length, `since=${seqB}`);
  assert.equal(rh.epoch, hello.epoch, 'same epoch on the same dataset');
  assert.deepEqual(frames.map((m) => m.json.type), expected.map((m) => m.json.type),
    `since=${seqB}: expected exactly ${expected.map((m) => m.text).join(' | ')}; ${r.describe(12)}`);
  frames.forEach((m, i) => {
    assert.ok(m.raw.equals(expected[i].raw), `frame ${i} after since= differs from the live frame:\n${m.text}\nvs\n${expected[i].text}`);
  });
  assert.equal(frames[1].json.item.headline, 'Story A, corrected');
  assert.equal(frames[1].json.item.version, 2);
  assert.deepEqual(frames[2].json, { type: 'retract', id: C.id, topic: 'world', seq: seqOf(frames[2].json) });

  // Against the log too (ground truth).
  const log = await readLog(redis.port);
  const s = new Stream('resumed');
  s.connections.push({ client: r, since: seqB, via: 'since' });
  checkStream(s, log);

  // A topic-filtered resume: only that topic's messages after the position;
  // a position of another topic's message is a position like any other.
  const rw = await h.client(tickerd.wsUrl(`?topics=world&since=${encodeURIComponent(seqB)}`));
  const fw = await framesAfterHello(rw, 3, `topics=world&since=${seqB}`);
  assert.equal(fw.frames.length, 3, `world-only resume: ${rw.describe(12)}`);
  fw.frames.forEach((m, i) => assert.ok(m.raw.equals(expected[i].raw), `world-only frame ${i}: ${m.text}`));
  const seqD = seqOf(expected[3].json);
  const rd = await h.client(tickerd.wsUrl(`?topics=world&since=${encodeURIComponent(seqD)}`));
  await rd.next((m) => m.type === 'hello', 5000, 'hello');

  // Then live, with no snapshot in between.
  const E = `Story E ${u}`;
  await publish(redis.port, 'ticker:world', E);
  const e = await r.nextItem(E);
  assert.equal(r.messages.length, 1 + expected.length + 1, `exactly one more frame: ${r.describe(12)}`);
  assert.ok(cmpSeq(e.item.seq, seqOf(frames[frames.length - 1].json)) > 0);
  await rw.nextItem(E);
  assert.equal(rw.messages.length, 1 + 3 + 1, `world-only resume, then live: ${rw.describe(12)}`);
  await rd.nextItem(E);
  assert.deepEqual(rd.messages.map((m) => m.json.type), ['hello', 'item'], `since=<a sports seq> on a world client: ${rd.describe()}`);

  const hz = await getHealth(tickerd.port);
  assert.equal(hz.json.last_seq, e.item.seq, `/healthz last_seq: ${hz.text}`);
  assert.equal(hz.json.epoch, hello.epoch, `/healthz epoch: ${hz.text}`);
  const stored = await redisCall(redis.port, ['GET', 'ticker:epoch']);
  assert.equal(stored && stored.toString('utf8'), hello.epoch, 'hello.epoch is the one stored in ticker:epoch');
}));

test('--log-length 5: a trimmed since= gets hello + snapshot resync:true; a since= among the last 5 gets exactly what follows', T, scenario(async (t, h) => {
  const { redis, tickerd } = await h.env({ args: ['--log-length', '5'] });
  const w = await h.client(tickerd.wsUrl());
  await w.ready();
  const u = uniq();
  const heads = [];
  // One at a time: faster, a 5-entry log can be trimmed before tickerd
  // reads it (then every client is resynced, which is another test's case).
  for (let i = 1; i <= 20; i++) {
    heads.push(`trim ${i} ${u}`);
    await publish(redis.port, 'ticker:world', JSON.stringify({ id: `t${i}-${u}`, headline: heads[i - 1] }));
    await w.nextItem(heads[i - 1], 5000);
  }
  const items = w.ofType('item');
  assert.equal(items.length, 20, w.describe());
  const seqs = items.map((m) => m.item.seq);

  assert.equal(await xlen(redis.port), 5, 'ticker:log is capped at exactly --log-length');
  assert.deepEqual((await readLog(redis.port)).map((e) => e.seq), seqs.slice(15), 'the log keeps the last 5 entries');

  // Trimmed position -> resync.
  const old = await h.client(tickerd.wsUrl(`?since=${encodeURIComponent(seqs[0])}`));
  const oh = await old.next(() => true, 5000, 'hello');
  const os = await old.next(() => true, 5000, 'snapshot');
  assert.equal(oh.type, 'hello', old.describe());
  assert.equal(os.type, 'snapshot', `since=<trimmed seq> must be answered with a snapshot: ${old.describe()}`);
  assert.equal(os.resync, true, 'resync:true');
  assert.equal(os.seq, seqs[19], 'the snapshot reflects the last position');
  const snapSeqs = os.items.map((i) => i.seq);
  for (const sq of seqs.slice(15)) assert.ok(snapSeqs.includes(sq), `resync snapshot lacks ${sq}`);

  // Unknown position -> resync.
  const unk = await h.client(tickerd.wsUrl('?since=99999999999999-0'));
  await unk.next((m) => m.type === 'hello', 5000, 'hello');
  const us = await unk.next(() => true, 5000, 'snapshot');
  assert.equal(us.type, 'snapshot', unk.describe());
  assert.equal(us.resync, true);

  // A position among the last 5 -> exactly the items after it.
  const mid = await h.client(tickerd.wsUrl(`?since=${encodeURIComponent(seqs[16])}`));
  const { frames } = await framesAfterHello(mid, 3, `since=${seqs[16]}`);
  assert.deepEqual(frames.map((m) => m.json.type), ['item', 'item', 'item'], mid.describe());
  assert.deepEqual(frames.map((m) => m.json.item.seq), seqs.slice(17));
  frames.forEach((m, i) => assert.ok(m.raw.equals(w.messages[2 + 17 + i].raw), `bytes of ${seqs[17 + i]}`));

  // The oldest position still in the log is in the window too.
  const oldest = await h.client(tickerd.wsUrl(`?since=${encodeURIComponent(seqs[15])}`));
  const o = await framesAfterHello(oldest, 4, `since=${seqs[15]}`);
  assert.deepEqual(o.frames.map((m) => m.json.item && m.json.item.seq), seqs.slice(16), oldest.describe());

  // The last position -> nothing, then live.
  const last = await h.client(tickerd.wsUrl(`?since=${encodeURIComponent(seqs[19])}`));
  await last.next((m) => m.type === 'hello', 5000, 'hello');
  const more = `trim 21 ${u}`;
  await publish(redis.port, 'ticker:world', JSON.stringify({ id: `t21-${u}`, headline: more }));
  await last.nextItem(more);
  await old.nextItem(more); // the resynced client is live after its snapshot
  assert.deepEqual(last.messages.map((m) => m.json.type), ['hello', 'item'], last.describe());
  assert.equal(await xlen(redis.port), 5);
}));

test('TICKERD_LOG_LENGTH caps the log like --log-length; a bad value is exit status 2', T, scenario(async (t, h) => {
  const { redis, tickerd } = await h.env({ env: { TICKERD_LOG_LENGTH: '3' } });
  const c = await h.client(tickerd.wsUrl());
  await c.ready();
  const u = uniq();
  for (let i = 1; i <= 6; i++) await publish(redis.port, 'ticker:world', `env cap ${i} ${u}`);
  await c.nextItem(`env cap 6 ${u}`);
  assert.equal(await xlen(redis.port), 3, 'TICKERD_LOG_LENGTH=3 keeps exactly 3 entries');
  for (const args of [['--log-length', 'abc'], ['--log-length', '-5']]) {
    const r = await runTickerd(args);
    assert.equal(r.timedOut, false, `${args.join(' ')}: tickerd did not exit`);
    assert.equal(r.code, 2, `${args.join(' ')}: exit status (stderr: ${r.stderr})`);
    assert.ok(r.stderr.trim().length > 0, `${args.join(' ')}: no message on stderr`);
  }
}));

test('tickerd restart: a new client gets the same snapshot bytes; since= from before the restart resumes exactly', T, scenario(async (t, h) => {
  const { redis, tickerd } = await h.env();
  const w = await h.client(tickerd.wsUrl());
  await w.ready();
  const u = uniq();
  const pubs = [
    ['ticker:world', `Plain world one ${u} — café « x »`],
    ['ticker:sports', JSON.stringify({ id: `s1-${u}`, headline: 'Sports, JSON without time', priority: 'urgent' })],
    ['ticker:world', JSON.stringify({ id: `w2-${u}`, headline: 'World with time', time: '2025-06-24T09:30:00+02:00', lang: 'fr', label: 'Bulletin', priority: 'bulletin' })],
    ['ticker:sports', JSON.stringify({ id: `s1-${u}`, headline: 'Sports, corrected' })],
    ['ticker:world', JSON.stringify({ id: `k-${u}`, headline: 'To be killed' })],
    ['ticker:world', JSON.stringify({ id: `k-${u}`, status: 'withheld' })],
    ['ticker:economy', `Plain economy ${u}`],
  ];
  for (const [ch, p] of pubs) await publish(redis.port, ch, p);
  await w.nextItem(`Plain economy ${u}`);
  const live = w.messages.slice(2);
  assert.equal(live.length, 7, w.describe(12));

  const c1 = await h.client(tickerd.wsUrl());
  const s1 = await c1.ready();
  const c1w = await h.client(tickerd.wsUrl('?topics=world'));
  await c1w.ready();
  const hz1 = await getHealth(tickerd.port);
  assert.equal(hz1.json.last_seq, seqOf(live[6].json), `/healthz last_seq: ${hz1.text}`);

  const res = await tickerd.stop('SIGTERM');
  assert.equal(res.code, 0, `tickerd exit: ${JSON.stringify(res)}`);

  const td2 = await h.tickerd({ redisUrl: redis.url });
  const c2 = await h.client(td2.wsUrl());
  const s2 = await c2.ready();
  assert.equal(s2.hello.epoch, s1.hello.epoch, 'same epoch after a tickerd restart');
  assert.ok(c2.messages[1].raw.equals(c1.messages[1].raw),
    `snapshot after restart differs:\nbefore: ${c1.messages[1].text}\nafter:  ${c2.messages[1].text}`);
  const c2w = await h.client(td2.wsUrl('?topics=world'));
  await c2w.ready();
  assert.ok(c2w.messages[1].raw.equals(c1w.messages[1].raw),
    `?topics=world snapshot after restart differs:\nbefore: ${c1w.messages[1].text}\nafter:  ${c2w.messages[1].text}`);
  const hz2 = await getHealth(td2.port);
  assert.equal(hz2.json.last_seq, hz1.json.last_seq);
  assert.equal(hz2.json.epoch, hz1.json.epoch);

  // Resume across the restart: the window is rebuilt from the log.
  const since = seqOf(live[1].json);
  const r = await h.client(td2.wsUrl(`?since=${encodeURIComponent(since)}`));
  const { frames } = await framesAfterHello(r, 5, `since=${since} after restart`);
  assert.equal(frames.length, 5, r.describe(12));
  frames.forEach((m, i) => assert.ok(m.raw.equals(live[2 + i].raw),
    `frame ${i} after since= on the new tickerd differs from the original live frame:\n${m.text}\nvs\n${live[2 + i].text}`));
}));

function loadLibrary(port) {
  assert.ok(fs.existsSync(LUA), `${LUA} is missing (the Redis function library tickerd_record)`);
  return redisCall(port, ['FUNCTION', 'LOAD', 'REPLACE', fs.readFileSync(LUA)]);
}

function isoOfSeq(seq) {
  const ms = Number(seq.split('-')[0]);
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

test('durable publish with no tickerd running (FCALL tickerd_record) -> in the snapshot with that seq', T, scenario(async (t, h) => {
  const redis = await h.redis();
  await loadLibrary(redis.port);
  const u = uniq();
  const text = `Durable ${u}: à Genève, l’équipe « bleue »`;
  const id1 = (await redisCall(redis.port, ['FCALL', 'tickerd_record', '2', 'ticker:log', 'ticker:seen', 'world', text]));
  assert.ok(Buffer.isBuffer(id1), `FCALL reply: ${String(id1)}`);
  const seq1 = id1.toString('utf8');
  assert.match(seq1, SEQ_RE, 'FCALL returns the entry id');
  const json = JSON.stringify({ id: `d-${u}`, headline: 'Durable JSON item', priority: 'flash' });
  const seq2 = (await redisCall(redis.port, ['FCALL', 'tickerd_record', '2', 'ticker:log', 'ticker:seen', 'sports', json])).toString('utf8');
  assert.ok(cmpSeq(seq2, seq1) > 0);

  const log = await readLog(redis.port);
  assert.deepEqual(log.map((e) => [e.seq, e.topic, e.payload.toString('utf8')]), [[seq1, 'world', text], [seq2, 'sports', json]]);

  const tickerd = await h.tickerd({ redisUrl: redis.url });
  const c = await h.client(tickerd.wsUrl());
  const { snapshot } = await c.ready();
  assert.equal(snapshot.seq, seq2, c.describe());
  assert.deepEqual(snapshot.items.map((i) => [i.seq, i.topic, i.headline]), [[seq1, 'world', text], [seq2, 'sports', 'Durable JSON item']]);
  const [p, j] = snapshot.items;
  assert.match(p.time, TIME_RE);
  assert.equal(p.time, isoOfSeq(seq1), 'a plain-text item takes its time from the entry id');
  assert.equal(j.id, `d-${u}`);
  assert.equal(j.priority, 'flash');
  assert.ok(c.messages[1].raw.includes(Buffer.from(text, 'utf8')), 'UTF-8 verbatim');
  const hz = await getHealth(tickerd.port);
  assert.equal(hz.json.last_seq, seq2, hz.text);
}));

test('FCALL tickerd_record while tickerd runs: delivered live with the returned seq; the same payload again within 10 s is recorded once', T, scenario(async (t, h) => {
  const { redis, tickerd } = await h.env();
  const c = await h.client(tickerd.wsUrl());
  await c.ready();
  const n0 = await xlen(redis.port).catch(() => 0);
  const text = `FCALL live ${uniq()}`;
  const seq = (await redisCall(redis.port, ['FCALL', 'tickerd_record', '2', 'ticker:log', 'ticker:seen', 'world', text])).toString('utf8');
  assert.match(seq, SEQ_RE);
  const m = await c.nextItem(text);
  assert.equal(m.item.seq, seq);
  const again = await redisCall(redis.port, ['FCALL', 'tickerd_record', '2', 'ticker:log', 'ticker:seen', 'world', text]);
  await sleep(300);
  assert.equal(await xlen(redis.port), n0 + 1, `the same payload recorded twice (second FCALL returned ${String(again)})`);
  assert.equal(c.ofType('item').length, 1, c.describe());
}));
