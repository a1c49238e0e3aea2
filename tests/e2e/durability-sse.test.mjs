// EventSource endpoint (spec: "Issue 4 additions"): GET /events?topics=...
// with id: <seq>, event: <type>, data: <the WebSocket frame's JSON>; resume
// with Last-Event-ID (which wins over since=).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { scenario, publish, uniq } from './harness.mjs';
import { SEQ_RE, Stream, checkStream, readLog, waitUntil } from './checker.mjs';

const T = { timeout: 30_000 };
const seqOf = (j) => (j.type === 'item' ? j.item.seq : j.seq);

function assertEventStream(s) {
  assert.equal(s.status, 200, `GET ${s.url}: HTTP ${s.status}`);
  assert.match(String(s.headers['content-type']), /^text\/event-stream\b/i, `content-type of ${s.url}`);
}

/** Every item/retract event: event = type, id = seq, data = the same bytes as the WS frame of that seq. */
function assertFramedLike(s, wsFrames) {
  const bySeq = new Map(wsFrames.filter((m) => m.json && (m.json.type === 'item' || m.json.type === 'retract')).map((m) => [seqOf(m.json), m]));
  for (const m of s.messages) {
    assert.ok(m.json, `event with non-JSON data: ${JSON.stringify(m.text)}`);
    assert.equal(m.event, m.json.type, `event: field must be the type: ${m.lines.join(' / ')}`);
    if (m.json.type === 'hello') {
      assert.equal(m.id, undefined, `hello has no id: ${m.lines.join(' / ')}`);
    } else if (m.json.type === 'snapshot') {
      if (m.json.seq === null) assert.equal(m.id, undefined, `snapshot of an empty log has no id: ${m.lines.join(' / ')}`);
      else assert.equal(m.id, m.json.seq, `snapshot id: must be its seq: ${m.lines.join(' / ')}`);
    } else {
      const seq = seqOf(m.json);
      assert.match(seq, SEQ_RE);
      assert.equal(m.id, seq, `id: must be the seq: ${m.lines.join(' / ')}`);
      const ws = bySeq.get(seq);
      assert.ok(ws, `no WebSocket frame with seq ${seq} to compare with`);
      assert.ok(m.raw.equals(ws.raw), `SSE data differs from the WebSocket frame:\n${m.text}\nvs\n${ws.text}`);
    }
  }
}

test('GET /events: hello, snapshot and live items in SSE framing, data identical to the WebSocket frames', T, scenario(async (t, h) => {
  const { redis, tickerd } = await h.env();
  const w = await h.client(tickerd.wsUrl());
  await w.ready();

  const s0 = await h.sse(tickerd.port, '/events?topics=world');
  assertEventStream(s0);
  const hello = await s0.next(() => true, 5000, 'hello');
  assert.equal(hello.type, 'hello', s0.describe());
  assert.deepEqual(hello.topics, ['world']);
  assert.equal(typeof hello.epoch, 'string');
  const snap = await s0.next(() => true, 5000, 'snapshot');
  assert.equal(snap.type, 'snapshot', s0.describe());
  assert.equal(snap.resync, false);
  assert.equal(snap.seq, null);

  const u = uniq();
  const A = { id: `a-${u}`, headline: 'SSE story A — café' };
  await publish(redis.port, 'ticker:world', JSON.stringify(A));
  await publish(redis.port, 'ticker:sports', `Sports, not for this stream ${u}`);
  const B = `SSE plain B ${u} « ok »`;
  await publish(redis.port, 'ticker:world', B);
  await publish(redis.port, 'ticker:world', JSON.stringify({ id: A.id, headline: 'SSE story A, corrected', version: 3 }));
  await publish(redis.port, 'ticker:world', JSON.stringify({ id: A.id, status: 'withheld' }));
  const end = `SSE end ${u}`;
  await publish(redis.port, 'ticker:world', end);
  await w.nextItem(end);
  await s0.nextItem(end);
  await sleep(200);

  assert.deepEqual(s0.messages.map((m) => m.event), ['hello', 'snapshot', 'item', 'item', 'item', 'retract', 'item'], s0.describe());
  assertFramedLike(s0, w.messages);
  assert.ok(!s0.messages.some((m) => m.json.type === 'item' && m.json.item.topic !== 'world'), 'topic filter');
  const s0s = new Stream('SSE s0', { topics: ['world'] });
  s0s.connections.push({ client: s0, since: null, via: 'sse' });
  checkStream(s0s, await readLog(redis.port));

  // A fresh stream now: the snapshot has an id (the log is not empty) and the
  // same JSON as a WebSocket snapshot of the same topics.
  const ww = await h.client(tickerd.wsUrl('?topics=world'));
  await ww.ready();
  const s1 = await h.sse(tickerd.port, '/events?topics=world');
  assertEventStream(s1);
  const s1snap = (await s1.ready()).snapshot;
  assert.match(s1snap.seq, SEQ_RE);
  assert.equal(s1.messages[1].id, s1snap.seq);
  assert.ok(s1.messages[1].raw.equals(ww.messages[1].raw),
    `SSE snapshot differs from the WebSocket snapshot:\n${s1.messages[1].text}\nvs\n${ww.messages[1].text}`);
  const { time: _t1, ...h1 } = s1.messages[0].json;
  const { time: _t2, ...h2 } = ww.messages[0].json;
  assert.deepEqual(h1, h2, 'hello: same fields as on the WebSocket');
  assertFramedLike(s1, w.messages);
}));

test('GET /events with Last-Event-ID: exactly the messages after it, then live; the header wins over since=', T, scenario(async (t, h) => {
  const { redis, tickerd } = await h.env();
  const w = await h.client(tickerd.wsUrl());
  await w.ready();
  const u = uniq();
  const heads = ['one', 'two', 'three', 'four'].map((x) => `LEI ${x} ${u}`);
  for (const x of heads) await publish(redis.port, 'ticker:world', x);
  await publish(redis.port, 'ticker:world', JSON.stringify({ id: `k-${u}`, headline: 'LEI killed' }));
  await publish(redis.port, 'ticker:world', JSON.stringify({ id: `k-${u}`, status: 'canceled' }));
  await waitUntil(() => w.ofType('retract').length === 1, 5000, () => w.describe());
  const frames = w.messages.slice(2);
  const seqs = frames.map((m) => seqOf(m.json));

  const expectAfter = async (s, k, what) => {
    assertEventStream(s);
    const hello = await s.next(() => true, 5000, 'hello');
    assert.equal(hello.type, 'hello', `${what}: ${s.describe()}`);
    const want = frames.length - 1 - k;
    await waitUntil(() => s.messages.length >= 1 + want, 5000, () => `${what}: ${want} events after hello; ${s.describe()}`);
    await sleep(300);
    assert.deepEqual(s.messages.slice(1).map((m) => m.id), seqs.slice(k + 1),
      `${what}: expected exactly the events after ${seqs[k]}; ${s.describe()}`);
    assertFramedLike(s, w.messages);
  };

  const s1 = await h.sse(tickerd.port, '/events?topics=world', { headers: { 'Last-Event-ID': seqs[1] } });
  await expectAfter(s1, 1, `Last-Event-ID: ${seqs[1]}`);
  const s2 = await h.sse(tickerd.port, `/events?topics=world&since=${encodeURIComponent(seqs[0])}`, { headers: { 'Last-Event-ID': seqs[3] } });
  await expectAfter(s2, 3, `since=${seqs[0]} with Last-Event-ID: ${seqs[3]} (the header wins)`);
  const s3 = await h.sse(tickerd.port, `/events?topics=world&since=${encodeURIComponent(seqs[2])}`);
  await expectAfter(s3, 2, `since=${seqs[2]} (no header)`);

  // Then live on all three, nothing else.
  const live = `LEI live ${u}`;
  await publish(redis.port, 'ticker:world', live);
  await w.nextItem(live);
  for (const s of [s1, s2, s3]) {
    await s.nextItem(live);
    assertFramedLike(s, w.messages);
    assert.ok(!s.messages.some((m) => m.event === 'snapshot'), `no snapshot on a resumed stream: ${s.describe()}`);
  }
  const log = await readLog(redis.port);
  for (const [s, k] of [[s1, 1], [s2, 3], [s3, 2]]) {
    const st = new Stream(`SSE since ${seqs[k]}`, { topics: ['world'] });
    st.connections.push({ client: s, since: seqs[k], via: 'sse' });
    checkStream(st, log);
  }
}));

test('GET /events with a trimmed Last-Event-ID (--log-length 3): hello, then a snapshot with resync:true and its id', T, scenario(async (t, h) => {
  const { redis, tickerd } = await h.env({ args: ['--log-length', '3'] });
  const w = await h.client(tickerd.wsUrl());
  await w.ready();
  const u = uniq();
  for (let i = 1; i <= 6; i++) await publish(redis.port, 'ticker:world', `SSE trim ${i} ${u}`);
  await w.nextItem(`SSE trim 6 ${u}`);
  const seqs = w.ofType('item').map((m) => m.item.seq);
  const s = await h.sse(tickerd.port, '/events?topics=world', { headers: { 'Last-Event-ID': seqs[0] } });
  assertEventStream(s);
  const hello = await s.next(() => true, 5000, 'hello');
  assert.equal(hello.type, 'hello', s.describe());
  const snap = await s.next(() => true, 5000, 'snapshot');
  assert.equal(snap.type, 'snapshot', `a trimmed Last-Event-ID must get a snapshot: ${s.describe()}`);
  assert.equal(snap.resync, true);
  // Six quick publishes through a 3-entry log may outrun tickerd's reader:
  // then w got a resync instead of every item; the newest seq is the same.
  const newest = seqs.at(-1);
  assert.equal(snap.seq, newest);
  assert.equal(s.messages[1].id, newest, 'snapshot id: its seq');
  const live = `SSE trim live ${u}`;
  await publish(redis.port, 'ticker:world', live);
  await w.nextItem(live);
  await s.nextItem(live);
  assert.deepEqual(s.messages.map((m) => m.event), ['hello', 'snapshot', 'item'], s.describe());
  assertFramedLike(s, w.messages);
}));
