// 1,000 publishes at once through the HTTP API: 20 keep-alive connections
// (two publisher keys), each sending its 50 requests one after another, all
// connections at the same time. Each publish is recorded once, answered with
// its own seq, reaches a WebSocket client once, and each connection's
// publishes are in the log in the order it sent them (a request is sent
// after the previous one's 201, so its entry must come later).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { scenario, keySetting, apiPublish, logEntries } from './harness.mjs';
import { waitUntil } from './checker.mjs';

const T = { timeout: 120_000 };
const KEYS = { desk: 'desk-key-load-1', wire: 'wire-key-load-2' };
const CONNS = 20;
const EACH = 50;

test('1,000 publishes at once on 20 connections: each recorded once, answered with its seq, delivered once, in order per connection and per key', T, scenario(async (t, h) => {
  const { redis, tickerd } = await h.env({
    args: ['--publisher-key', keySetting('desk', KEYS.desk), '--publisher-key', keySetting('wire', KEYS.wire),
      '--publish-rate', '100000/s'],
  });
  const c = await h.client(tickerd.wsUrl('?topics=load'));
  await c.next((j) => j.type === 'snapshot', 5000, 'the snapshot');

  const agents = [];
  const conns = Array.from({ length: CONNS }, (_, n) => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    agents.push(agent);
    const name = n % 2 ? 'wire' : 'desk';
    return (async () => {
      const seqs = [];
      for (let i = 0; i < EACH; i++) {
        const r = await apiPublish(tickerd.port, KEYS[name], 'load', { id: `c${n}-${i}`, headline: `conn ${n} item ${i}` }, {
          agent,
          headers: { 'Idempotency-Key': `c${n}-${i}` },
          timeoutMs: 30_000,
        });
        assert.equal(r.status, 201, `conn ${n} item ${i}: ${r.text}`);
        assert.equal(r.json.by, name);
        assert.equal(r.headers.connection, 'keep-alive', 'the connection goes on');
        seqs.push(r.json.seq);
      }
      return { n, name, seqs };
    })();
  });
  const results = await Promise.all(conns);
  for (const a of agents) a.destroy();

  // Recorded once each, with the key's name.
  const entries = (await logEntries(redis.port)).filter((e) => e.fields.topic === 'load');
  assert.equal(entries.length, CONNS * EACH, 'one entry per publish');
  const bySeq = new Map(entries.map((e, i) => [e.id, { ...e, at: i }]));
  const ids = new Set();
  for (const { n, name, seqs } of results) {
    let last = -1;
    seqs.forEach((seq, i) => {
      const e = bySeq.get(seq);
      assert.ok(e, `conn ${n} item ${i}: its seq ${seq} is in the log`);
      assert.equal(JSON.parse(e.fields.payload).id, `c${n}-${i}`, `seq ${seq} is conn ${n} item ${i}`);
      assert.equal(e.fields.by, name);
      assert.ok(e.at > last, `conn ${n}: item ${i} is after item ${i - 1} in the log`);
      last = e.at;
      ids.add(`c${n}-${i}`);
    });
  }
  assert.equal(ids.size, CONNS * EACH);
  // Per key: each key's entries hold its connections' items, each connection's in order (checked above).
  for (const name of ['desk', 'wire'])
    assert.equal(entries.filter((e) => e.fields.by === name).length, CONNS * EACH / 2, `${name}'s entries`);

  // The reader gets each once, in log order.
  await waitUntil(() => c.messages.filter((m) => m.json?.type === 'item').length >= CONNS * EACH, 20_000, 'every item on the WebSocket');
  const got = c.messages.filter((m) => m.json?.type === 'item').map((m) => m.json.item.seq);
  assert.equal(got.length, CONNS * EACH, 'each item once');
  assert.deepEqual(got, entries.map((e) => e.id), 'in log order');
}));
