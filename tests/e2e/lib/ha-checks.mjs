// What the Sentinel scenarios check, on top of checker.mjs: tickerd's
// /healthz sampled in the background, and the clients after a failover
// (first delivery on the new master, resyncs, items lost, the final check).

import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { getHealth } from './metrics.mjs';
import { Stream, checkStream, entryItemId, cmpSeq, SEQ_RE } from '../checker.mjs';

// ---------------------------------------------------------------------------
// /healthz sampled in the background

/**
 * Poll tickerd's /healthz every everyMs; .samples [{ at, status, master, state }].
 * .firstMaster(addr, after) -> the first sample at/after `after` naming addr.
 */
export function watchHealth(port, { everyMs = 50 } = {}) {
  const w = { samples: [], running: true };
  w.loop = (async () => {
    while (w.running) {
      const at = Date.now();
      try {
        const hz = await getHealth(port);
        w.samples.push({ at, status: hz.status, master: hz.json ? hz.json.redis_master : undefined, mode: hz.json ? hz.json.redis_mode : undefined });
      } catch (e) {
        w.samples.push({ at, error: String(e.message || e) });
      }
      await sleep(everyMs);
    }
  })();
  w.stop = async () => { w.running = false; await w.loop; };
  w.firstMaster = (addr, after = 0) => w.samples.find((s) => s.at >= after && s.master === addr) || null;
  w.waitMaster = async (addr, { after = 0, timeoutMs = 10_000 } = {}) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const s = w.firstMaster(addr, after);
      if (s) return s;
      if (Date.now() > deadline) {
        throw new Error(`/healthz redis_master not ${addr} within ${timeoutMs} ms; last samples ${JSON.stringify(w.samples.slice(-3))}`);
      }
      await sleep(20);
    }
  };
  return w;
}

// ---------------------------------------------------------------------------
// Checking clients after a failover (on top of checker.mjs)

/** The first item message (over all of a stream's connections) whose seq `pub` got from `addr`. */
export function firstDeliveryOn(stream, pub, addr) {
  const seqs = new Set(pub.attempts.filter((a) => a.node === addr && a.seq).map((a) => a.seq));
  let best = null;
  for (const { client } of stream.connections) {
    for (const m of client.messages) {
      if (m.json && m.json.type === 'item' && m.json.item && seqs.has(m.json.item.seq) && (!best || m.at < best.at)) best = m;
    }
  }
  return best;
}

/** Where this stream got resync snapshots: [{ ci, k }]. */
export function resyncsOf(stream) {
  const out = [];
  stream.connections.forEach(({ client }, ci) => client.messages.forEach((m, k) => {
    if (m.json && m.json.type === 'snapshot' && m.json.resync === true) out.push({ ci, k });
  }));
  return out;
}

/**
 * Check a stream against the final log. Nothing it got missing from the
 * log: checkStream without resyncs. Else it must have had a resync snapshot
 * after the last such item; the snapshot may hold only entries of the final
 * log; from it on checkStream (allowResync); before it, seqs strictly
 * increasing (nothing twice, nothing out of order).
 * Returns { lost (items it got that the log lacks), resyncs, checked }.
 */
/** The items/retracts a stream got whose seq the log lacks: [{ ci, k, seq }]. */
export function lostOf(stream, log) {
  const inLog = new Set(log.map((e) => e.seq));
  const lost = [];
  stream.connections.forEach(({ client }, ci) => client.messages.forEach((m, k) => {
    const j = m.json;
    if (!j) return;
    const seq = j.type === 'item' && j.item ? j.item.seq : j.type === 'retract' ? j.seq : undefined;
    if (seq !== undefined && !inLog.has(seq)) lost.push({ ci, k, seq });
  }));
  return lost;
}

export function checkFinal(stream, log) {
  const inLog = new Set(log.map((e) => e.seq));
  const lost = lostOf(stream, log);
  const resyncs = resyncsOf(stream);
  if (!lost.length) {
    const r = checkStream(stream, log, { allowResync: false });
    return { lost, resyncs: r.resyncs, checked: r.segments.reduce((n, sg) => n + sg.delivered.length, 0) };
  }
  const where = resyncs[resyncs.length - 1];
  assert.ok(where, `${stream.name}: got ${lost.length} item(s) the final log lacks (${lost.slice(0, 6).map((x) => x.seq).join(' ')}) and no resync snapshot\n${stream.describe()}`);
  const after = lost.filter((x) => x.ci > where.ci || (x.ci === where.ci && x.k > where.k));
  assert.deepEqual(after.map((x) => x.seq), [], `${stream.name}: item(s) the final log lacks delivered after the resync snapshot\n${stream.describe()}`);
  const snap = stream.connections[where.ci].client.messages[where.k].json;
  const stale = snap.items.filter((it) => !inLog.has(it.seq)).map((it) => `${it.seq} ${it.topic}/${it.id}`);
  assert.deepEqual(stale, [], `${stream.name}: the resync snapshot (seq ${snap.seq}) holds items the final log lacks`);

  // Before the resync: order and uniqueness.
  let prev = null;
  let done = false;
  stream.connections.forEach(({ client }, ci) => client.messages.forEach((m, k) => {
    if (done || !m.json) return;
    if (ci === where.ci && k === where.k) { done = true; return; }
    const j = m.json;
    if (j.type === 'snapshot') { prev = j.seq ?? null; return; }
    const seq = j.type === 'item' && j.item ? j.item.seq : j.type === 'retract' ? j.seq : undefined;
    if (seq === undefined) return;
    assert.ok(SEQ_RE.test(seq), `${stream.name}: seq ${JSON.stringify(seq)}`);
    assert.ok(prev === null || cmpSeq(seq, prev) > 0, `${stream.name}[${ci}]: ${seq} after ${prev} (before the resync)\n${stream.describe()}`);
    prev = seq;
  }));

  // From the resync on: the checker, the resync's connection cut to hello + resync snapshot + what followed.
  const conns = stream.connections.slice(where.ci);
  const c0 = conns[0].client;
  const fake = {
    url: c0.url,
    messages: [c0.messages[0], c0.messages[where.k], ...c0.messages.slice(where.k + 1)],
    describe: (n) => c0.describe(n),
  };
  const sub = new Stream(`${stream.name}, from its last resync`, { topics: stream.topics });
  sub.connections = [{ client: fake, since: 'resync', via: conns[0].via }, ...conns.slice(1)];
  const r = checkStream(sub, log, { allowResync: true });
  return { lost, resyncs: resyncs.length, checked: r.segments.reduce((n, sg) => n + sg.delivered.length, 0) };
}

/**
 * No seq names two different items, across every stream, snapshot and the
 * log. One exception, which Redis makes and tickerd cannot prevent: when a
 * failover loses entries, the new master may give one of the lost entries'
 * ids (same millisecond) to an entry written to it directly before tickerd
 * raised its ids. A client that was shown the lost entry must then have had
 * a resync snapshot after it (checkFinal asks for that), and the lost item
 * must be absent from the final log: such seqs are returned, not refused.
 */
export function assertSeqsConsistent(streams, log) {
  const bySeq = new Map(log.map((e) => [e.seq, { what: `${e.topic}/${entryItemId(e)}`, where: 'final log' }]));
  const inLog = new Set(log.map((e) => `${e.topic}/${entryItemId(e)}`));
  const reused = [];
  const note = (seq, what, where, superseded) => {
    const prev = bySeq.get(seq);
    if (!prev) { bySeq.set(seq, { what, where }); return; }
    if (what !== prev.what && superseded && !inLog.has(what)) { reused.push({ seq, lost: what, now: prev.what }); return; }
    assert.equal(what, prev.what, `seq ${seq} is ${prev.what} (${prev.where}) and ${what} (${where})`);
  };
  for (const s of streams) {
    const last = resyncsOf(s).at(-1);
    s.connections.forEach(({ client }, ci) => {
      client.messages.forEach((m, k) => {
        const j = m.json;
        if (!j) return;
        const superseded = !!last && (ci < last.ci || (ci === last.ci && k < last.k));
        if (j.type === 'item' && j.item) note(j.item.seq, `${j.item.topic}/${j.item.id}`, `${s.name}[${ci}]`, superseded);
        if (j.type === 'snapshot') for (const it of j.items) note(it.seq, `${it.topic}/${it.id}`, `${s.name}[${ci}] snapshot`, superseded);
      });
    });
  }
  return reused;
}
