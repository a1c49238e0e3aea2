// Self-test of checker.mjs and the SSE parser: the durability tests are only
// worth something if the checker fails on a gap, a duplicate, a reordering, a
// silent resync or different bytes. No tickerd or Redis needed.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { connectSSE } from './harness.mjs';
import { Stream, checkStream, assertSameBytes, cmpSeq } from './checker.mjs';

const entry = (ms, n, topic = 'seq') => ({
  seq: `${ms}-0`, topic, payload: Buffer.from(JSON.stringify({ id: `n-${n}`, headline: `item ${n}` })),
});
const LOG = [1, 2, 3, 4, 5, 6].map((n) => entry(1000 + n, n));
LOG.splice(3, 0, { seq: '1003-1', topic: 'other', payload: Buffer.from('plain other') });
LOG.push({ seq: '1007-0', topic: 'seq', payload: Buffer.from(JSON.stringify({ id: 'n-2', status: 'canceled' })) });

const frame = (j) => {
  const text = JSON.stringify(j);
  return { json: j, text, raw: Buffer.from(text), isBinary: false };
};
const hello = (topics = []) => frame({ type: 'hello', server: 'tickerd/x', time: 't', topics, epoch: 'e' });
const snap = (seq, resync = false) => frame({ type: 'snapshot', seq, items: [], resync });
const item = (e) => {
  const p = e.payload.toString();
  if (!p.startsWith('{')) return frame({ type: 'item', item: { id: 'h-x', seq: e.seq, topic: e.topic, headline: p } });
  const o = JSON.parse(p);
  if (o.status) return frame({ type: 'retract', id: o.id, topic: e.topic, seq: e.seq });
  return frame({ type: 'item', item: { id: o.id, seq: e.seq, topic: e.topic, headline: o.headline } });
};
const fakeClient = (messages) => ({ messages, url: 'fake', describe: () => `${messages.length} frames` });
function stream(conns, topics = []) {
  const s = new Stream('fake', { topics });
  for (const [since, msgs] of conns) s.connections.push({ client: fakeClient(msgs), since, via: 'fake' });
  return s;
}
const all = LOG.map(item);

test('checker accepts a complete stream, fresh or resumed, with topic filtering', () => {
  checkStream(stream([[null, [hello(), snap(null), ...all]]]), LOG);
  checkStream(stream([[null, [hello(), snap('1002-0'), ...all.slice(2)]]]), LOG);
  checkStream(stream([[null, [hello(), snap(null), ...all.slice(0, 4)]], ['1003-1', [hello(), ...all.slice(4)]]]), LOG);
  const seqOnly = all.filter((m) => (m.json.item ? m.json.item.topic : m.json.topic) === 'seq');
  checkStream(stream([[null, [hello(['seq']), snap(null), ...seqOnly]]], ['seq']), LOG);
});

test('checker rejects a gap, a duplicate, a reordering, a foreign seq', () => {
  const gap = [...all.slice(0, 2), ...all.slice(3)];
  assert.throws(() => checkStream(stream([[null, [hello(), snap(null), ...gap]]]), LOG), /missing/);
  const dup = [...all.slice(0, 3), all[2], ...all.slice(3)];
  assert.throws(() => checkStream(stream([[null, [hello(), snap(null), ...dup]]]), LOG), /duplicate/);
  const swapped = [all[0], all[2], all[1], ...all.slice(3)];
  assert.throws(() => checkStream(stream([[null, [hello(), snap(null), ...swapped]]]), LOG), /out of order/);
  const foreign = [...all, item(entry(2000, 99))];
  assert.throws(() => checkStream(stream([[null, [hello(), snap(null), ...foreign]]]), LOG), /not in the log/);
  // The first entry after the snapshot's position missing.
  assert.throws(() => checkStream(stream([[null, [hello(), snap('1002-0'), ...all.slice(3)]]]), LOG), /missing/);
  // Nothing after snapshot, but the first live frame skips the log's first entry.
  assert.throws(() => checkStream(stream([[null, [hello(), snap(null), ...all.slice(1)]]]), LOG), /missing/);
  // Wrong content for the right seq.
  const wrong = all.map((m) => m);
  wrong[1] = frame({ type: 'item', item: { ...all[1].json.item, headline: 'changed' } });
  assert.throws(() => checkStream(stream([[null, [hello(), snap(null), ...wrong]]]), LOG), /divergence/);
  // An item where the log has a retraction.
  const notRetracted = [...all.slice(0, -1), frame({ type: 'item', item: { id: 'n-2', seq: '1007-0', topic: 'seq', headline: 'x' } })];
  assert.throws(() => checkStream(stream([[null, [hello(), snap(null), ...notRetracted]]]), LOG), /divergence/);
  // A filtered stream that got an other-topic entry.
  assert.throws(() => checkStream(stream([[null, [hello(['seq']), snap(null), ...all]]], ['seq']), LOG), /outside range\/topics/);
});

test('checker rejects resume errors: replayed last item, skipped item, snapshot instead of resume', () => {
  const first = [hello(), snap(null), ...all.slice(0, 3)];
  assert.throws(() => checkStream(stream([[null, first], ['1003-0', [hello(), all[2], ...all.slice(3)]]]), LOG), /duplicate/);
  assert.throws(() => checkStream(stream([[null, first], ['1003-0', [hello(), ...all.slice(4)]]]), LOG), /missing/);
  assert.throws(() => checkStream(stream([[null, first], ['1003-0', [hello(), snap('1007-0', true)]]]), LOG), /got a snapshot/);
  // Tolerated only when asked, and then only with resync:true.
  checkStream(stream([[null, first], ['1003-0', [hello(), snap('1005-0', true), ...all.slice(6)]]]), LOG, { allowResync: true });
  assert.throws(() => checkStream(stream([[null, first], ['1003-0', [hello(), snap('1005-0', false)]]]), LOG, { allowResync: true }), /resync/);
  // A mid-stream snapshot is never silently accepted.
  assert.throws(() => checkStream(stream([[null, [...first, snap('1005-0', true), ...all.slice(6)]]]), LOG), /unexpected snapshot/);
  // No hello first.
  assert.throws(() => checkStream(stream([[null, [snap(null), ...all]]]), LOG), /hello/);
});

test('checker rejects a snapshot holding items beyond its seq or unlike their log entry', () => {
  const it = (e) => item(e).json.item;
  checkStream(stream([[null, [hello(), frame({ type: 'snapshot', seq: '1002-0', items: [it(LOG[0]), it(LOG[1])], resync: false }), ...all.slice(2)]]]), LOG);
  assert.throws(() => checkStream(stream([[null, [hello(), frame({ type: 'snapshot', seq: '1001-0', items: [it(LOG[0]), it(LOG[1])], resync: false }), ...all.slice(1)]]]), LOG), /beyond its position/);
  const changed = { ...it(LOG[1]), headline: 'not what was logged' };
  assert.throws(() => checkStream(stream([[null, [hello(), frame({ type: 'snapshot', seq: '1002-0', items: [it(LOG[0]), changed], resync: false }), ...all.slice(2)]]]), LOG), /differs from its log entry/);
});

test('assertSameBytes rejects different bytes for one seq', () => {
  const a = stream([[null, [hello(), snap(null), ...all]]]);
  const b = stream([[null, [hello(), snap(null), ...all]]]);
  assertSameBytes([a, b]);
  const other = all.map((m) => m);
  other[2] = { ...other[2], raw: Buffer.from(other[2].text.replace('"item', ' "item')) };
  const c = stream([[null, [hello(), snap(null), ...other]]]);
  assert.throws(() => assertSameBytes([a, c]), /different bytes/);
});

test('cmpSeq orders stream ids numerically', () => {
  assert.equal(cmpSeq('999-5', '1000-0'), -1);
  assert.equal(cmpSeq('1000-10', '1000-9'), 1);
  assert.equal(cmpSeq('1000-0', '1000-0'), 0);
  assert.throws(() => cmpSeq('1000', '1000-0'));
});

test('SSE parser: CRLF and LF, comments, multi-line data, ids per event, UTF-8 split across chunks', { timeout: 10_000 }, async (t) => {
  const body = Buffer.from(
    ': ping\r\n\r\n'
    + 'event: hello\r\ndata: {"type":"hello"}\r\n\r\n'
    + 'id: 5-0\nevent: item\ndata: {"type":"item","item":{"headline":"é à «»"}}\n\n'
    + 'id:6-0\nevent:item\ndata:{"a":\ndata:1}\n\n'
    + 'event: nodata\n\n',
    'utf8',
  );
  const srv = http.createServer(async (req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    for (let i = 0; i < body.length; i += 7) { res.write(body.subarray(i, i + 7)); await sleep(1); }
    res.end();
  });
  await new Promise((r) => srv.listen(0, '127.0.0.1', r));
  t.after(() => srv.close());
  const s = await connectSSE(srv.address().port, '/events', { headers: { 'Last-Event-ID': '1-0' } });
  await s.closed;
  assert.equal(s.status, 200);
  assert.equal(s.comments, 1);
  assert.deepEqual(s.messages.map((m) => [m.id, m.event, m.text]), [
    [undefined, 'hello', '{"type":"hello"}'],
    ['5-0', 'item', '{"type":"item","item":{"headline":"é à «»"}}'],
    ['6-0', 'item', '{"a":\n1}'],
  ]);
  assert.equal(s.messages[1].json.item.headline, 'é à «»');
});
