// Redis Cluster (issue 13, high availability): tickerd started with
// --redis cluster://<the three masters>, against a real six-node cluster
// (three masters, one replica each, cluster-node-timeout 1000). Items are
// recorded with FCALL tickerd_record on the node owning the slot of {ticker}
// and PUBLISHed on another master; WebSocket clients (one staying connected,
// one resuming with since=, one fresh at the end) are checked against
// `XRANGE {ticker}:log - +` on the slot owner: every entry once, in order.
// Then the slot owner is killed with SIGKILL (its replica is promoted), and
// restarted (it rejoins as a replica); and killed while its replica lags, so
// that the promoted log lacks entries tickerd had read (a rollback: clients
// resynced, tickerd's unconfirmed records resent).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { scenario, waitForHealth, getHealth, getMetrics } from './harness.mjs';
import { Stream, checkStream, assertSameBytes, entryItemId, waitUntil, SEQ_RE, cmpSeq } from './checker.mjs';
import {
  startCluster, ClusterFcallPublisher, ClusterPublishPublisher, readClusterLog, functionLibraries, nodeCall,
} from './lib/redis-cluster.mjs';

const PREFIX = '{ticker}';
const conn = (h, td) => (q) => h.client(td.wsUrl(q));
const addr = (port) => `127.0.0.1:${port}`;
const healthyOn = (port) => (hz) => hz.status === 200 && hz.json && hz.json.status === 'ok' && hz.json.redis_master === addr(port);

/** scenario() that also appends the cluster nodes' last log lines to a failure. */
function clusterScenario(fn) {
  return scenario(async (t, h) => {
    try {
      await fn(t, h);
    } catch (e) {
      if (h.cluster && e && typeof e === 'object') {
        try { e.message += `\n${h.cluster.logs(12)}`; } catch { /* read-only */ }
      }
      throw e;
    }
  });
}

/** A /metrics sample (undefined when tickerd does not have it). */
async function metric(td, name) {
  return (await getMetrics(td.port)).value(name);
}

/** Number of item frames of `topic` a stream received. */
function topicCount(s, topic) {
  let n = 0;
  for (const { client } of s.connections) {
    for (const m of client.messages) if (m.json && m.json.type === 'item' && m.json.item && m.json.item.topic === topic) n++;
  }
  return n;
}

/**
 * The cluster, tickerd on its three masters, clients A (stays connected)
 * and R (resumes), FCALLs on the slot owner (topic durable) and PUBLISHes
 * on another master (topic world), until both topics reach A and R.
 */
async function setup(h) {
  const cluster = await startCluster(h);
  h.cluster = cluster;
  const masters = await cluster.masters();
  assert.equal(masters.length, 3, `three masters: ${masters}`);
  const owner = await cluster.ownerOf(PREFIX);
  const tickerd = await h.tickerd({ redisUrl: cluster.url(masters) });
  const A = new Stream('A (stays connected)');
  await A.open(conn(h, tickerd), 'A');
  const R = new Stream('R (resumes with since=)');
  await R.open(conn(h, tickerd), 'R');
  const other = masters.find((m) => m !== owner.master);
  const fpub = new ClusterFcallPublisher(cluster, { prefix: PREFIX, topic: 'durable', intervalMs: 50 }).start();
  const ppub = new ClusterPublishPublisher(other, { channel: 'ticker:world', intervalMs: 50 }).start();
  h.defer(() => fpub.stop());
  h.defer(() => ppub.stop());
  await waitUntil(() => [A, R].every((s) => topicCount(s, 'durable') >= 5 && topicCount(s, 'world') >= 5), 8000,
    () => `5 items of each topic at A and R; ${fpub.summary()}; ${ppub.summary()}\n${A.describe()}\n${R.describe()}`);
  return { cluster, masters, owner, other, tickerd, A, R, fpub, ppub };
}

/** Resync snapshots the streams received. */
function resyncCount(streams) {
  let n = 0;
  for (const s of streams) {
    for (const { client } of s.connections) n += client.messages.filter((m) => m.json && m.json.type === 'snapshot' && m.json.resync === true).length;
  }
  return n;
}

/** The seqs a client holds now: its last snapshot's items and every item/retract after it. */
function held(stream) {
  let h = new Map();
  for (const { client } of stream.connections) {
    for (const m of client.messages) {
      const j = m.json;
      if (!j) continue;
      if (j.type === 'snapshot') h = new Map(j.items.map((it) => [it.seq, it]));
      else if (j.type === 'item' && j.item) h.set(j.item.seq, j.item);
      else if (j.type === 'retract') h.delete(j.seq);
    }
  }
  return h;
}

/**
 * A stream cut at each resync snapshot into streams of their own: the part
 * before the first one, then from each resync snapshot (as the snapshot of a
 * fresh connection) to the next one.
 */
function splitAtResyncs(stream) {
  const fake = (messages, url) => ({
    messages, url,
    describe: (n = 6) => `${messages.length} message(s), last: ${JSON.stringify(messages.slice(-n).map((m) => m.text.slice(0, 200)))}`,
  });
  const parts = [new Stream(stream.name, { topics: stream.topics })];
  for (const { client, since, via } of stream.connections) {
    const ms = client.messages;
    let piece = { start: 0, since, head: [] };
    const flush = (end) => {
      parts[parts.length - 1].connections.push({ client: fake([...piece.head, ...ms.slice(piece.start, end)], client.url), since: piece.since, via });
    };
    for (let k = 1; k < ms.length; k++) {
      const j = ms[k].json;
      if (!(j && j.type === 'snapshot' && j.resync === true)) continue;
      flush(k);
      parts.push(new Stream(`${stream.name} (after resync ${parts.length})`, { topics: stream.topics }));
      // From here on, like a fresh connection: its hello, then this snapshot.
      piece = { start: k + 1, since: null, head: [ms[0], { ...ms[k], json: { ...j, resync: false } }] };
    }
    flush(ms.length);
  }
  return parts;
}

/**
 * Check one stream against the final log. Without a resync snapshot, the
 * checker's strict rule. With one (allowed only after a rollback: the caller
 * checks tickerd_log_rollbacks_total), the items delivered before the last
 * resync that the final log lacks count as the rolled-back part of the log:
 * each part before the last resync is checked against the final log plus
 * them, the part after it against the final log alone. Either way, what the
 * client holds at the end (last snapshot + later items) must all be in the
 * final log.
 */
function checkAgainst(stream, log) {
  const resyncs = stream.connections.reduce((k, { client }) =>
    k + client.messages.filter((m) => m.json && m.json.type === 'snapshot' && m.json.resync === true).length, 0);
  const inLog = new Set(log.map((e) => e.seq));
  let lost = 0;
  if (resyncs === 0) {
    checkStream(stream, log);
  } else {
    const extra = new Map();
    for (const { client } of stream.connections) {
      for (const m of client.messages) {
        const j = m.json;
        if (j && j.type === 'item' && j.item && SEQ_RE.test(j.item.seq ?? '') && !inLog.has(j.item.seq)) {
          extra.set(j.item.seq, {
            seq: j.item.seq, topic: j.item.topic,
            payload: Buffer.from(JSON.stringify({ id: j.item.id, headline: j.item.headline })), fields: {},
          });
        }
      }
    }
    lost = extra.size;
    const truth = [...log, ...extra.values()].sort((a, b) => cmpSeq(a.seq, b.seq));
    const parts = splitAtResyncs(stream);
    parts.forEach((part, i) => checkStream(part, i === parts.length - 1 ? log : truth));
  }
  const notInLog = [...held(stream).keys()].filter((s) => !inLog.has(s));
  assert.deepEqual(notInLog, [], `${stream.name} holds item(s) the final log lacks (${resyncs} resync snapshot(s))\n${stream.describe()}`);
  return { resyncs, lost };
}

/**
 * Stop the publishers, wait until every attempt in `must` is in the log on
 * the slot owner, check nothing is recorded twice and every FCALL the
 * current owner acknowledged is there under its seq; wait until every
 * stream has caught up with the log's last entry; check the streams.
 */
async function settle({ cluster, fpub, ppub, streams, must, timeoutMs = 10_000, before }) {
  await fpub.stop();
  await ppub.stop();
  const { master } = await cluster.ownerOf(PREFIX);
  let log = [];
  let missing = [];
  try {
    await waitUntil(async () => {
      log = await readClusterLog(master, PREFIX);
      const ids = new Set(log.map(entryItemId));
      missing = must.filter((a) => !ids.has(a.id));
      return missing.length === 0;
    }, timeoutMs, () => `every acknowledged publish required to be in ${PREFIX}:log on ${master}`);
  } catch (e) {
    e.message += `: ${missing.length} missing, e.g. ${missing.slice(0, 8).map((a) => `${a.id} (at ${new Date(a.at).toISOString()}, acked by ${a.port})`).join(', ')}; `
      + `${fpub.summary()}; ${ppub.summary()}; log has ${log.length} entries`;
    throw e;
  }
  const counts = new Map();
  for (const e of log) {
    const id = entryItemId(e);
    if (id) counts.set(id, (counts.get(id) || 0) + 1);
  }
  assert.deepEqual([...counts].filter(([, c]) => c > 1), [], `payloads recorded more than once in ${PREFIX}:log`);
  const bySeq = new Map(log.map((e) => [e.seq, e]));
  for (const a of fpub.received().filter((x) => x.port === master)) {
    assert.ok(bySeq.has(a.seq) && entryItemId(bySeq.get(a.seq)) === a.id,
      `FCALL of ${a.id} answered ${a.seq} on the current owner ${master}, which the log does not hold`);
  }
  const target = log[log.length - 1].seq;
  for (const s of streams) {
    await waitUntil(() => {
      const last = s.lastDelivered();
      return last && SEQ_RE.test(last) && cmpSeq(last, target) >= 0;
    }, timeoutMs, () => `${s.name} to receive up to the log's last entry ${target} (it is at ${s.lastDelivered()})\n${s.describe()}`);
  }
  await sleep(300); // a late duplicate is caught too
  if (before) await before(log); // diagnostics that a failed check below must not hide
  const results = new Map(streams.map((s) => [s.name, checkAgainst(s, log)]));
  assertSameBytes(streams);
  return { log, master, results };
}

test('steady state: FCALL on the slot owner and PUBLISH on another master reach every client once, in order; library on every master; /healthz cluster mode and slot owner',
  { timeout: 45_000 }, clusterScenario(async (t, h) => {
    const { cluster, masters, owner, other, tickerd, A, R, fpub, ppub } = await setup(h);

    const hz = await getHealth(tickerd.port);
    assert.equal(hz.status, 200, hz.text);
    assert.equal(hz.json.redis_mode, 'cluster', `/healthz redis_mode: ${hz.text}`);
    assert.equal(hz.json.redis_master, addr(owner.master), `/healthz redis_master must be the owner of slot ${owner.slot}: ${hz.text}`);
    for (const m of masters) {
      const libs = await functionLibraries(m);
      assert.ok(libs.includes('tickerd'), `FUNCTION LIST on master ${m}: ${JSON.stringify(libs)}`);
    }

    await sleep(500);
    await R.resume(conn(h, tickerd), 'R resumed');
    await sleep(500);
    const L = new Stream('L (fresh)');
    await L.open(conn(h, tickerd), 'L');
    await sleep(500);

    const must = [...fpub.received(), ...ppub.received()];
    const { log, results } = await settle({ cluster, fpub, ppub, streams: [A, R, L], must });
    for (const [name, r] of results) assert.equal(r.resyncs, 0, `${name}: resync snapshot without a fault`);
    assert.ok(fpub.received().length >= 20 && ppub.received().length >= 20, `${fpub.summary()}; ${ppub.summary()}`);
    const topics = new Set(log.map((e) => e.topic));
    assert.ok(topics.has('durable') && topics.has('world'), `both topics in the log: ${[...topics]}`);
    assert.equal(await metric(tickerd, 'tickerd_record_errors_total'), 0, 'record errors in a steady cluster');
    t.diagnostic(`slot ${owner.slot} on ${owner.master} (replica ${owner.replicas}), PUBLISH on ${other}; cluster up in `
      + `${JSON.stringify(cluster.timings)}; log ${log.length} entries; ${fpub.summary()}; ${ppub.summary()}`);
  }));

test('slot owner killed with SIGKILL mid-stream: replica promoted, deliveries resume within 5 s, every entry of the new log reaches every client once, in order',
  { timeout: 60_000 }, clusterScenario(async (t, h) => {
    const { cluster, owner, tickerd, A, R, fpub, ppub } = await setup(h);
    const subscribers = await cluster.pubsubClients();
    const subscriberOn = Object.keys(subscribers).filter((p) => subscribers[p].length).map(Number);
    const switches0 = await metric(tickerd, 'tickerd_redis_master_switches_total');

    const killAt = await cluster.node(owner.master).kill('SIGKILL');
    const resubscribed = subscriberOn.includes(owner.master) ? (async () => {
      await waitUntil(async () => Object.values(await cluster.pubsubClients()).some((l) => l.length), 15_000,
        'tickerd to subscribe again on a live node');
      return Date.now();
    })() : Promise.resolve(null);
    resubscribed.catch(() => {});
    await R.resume(conn(h, tickerd), 'R resumed right after the kill');
    const p = await cluster.waitPromotion(owner.slot, owner.master, { timeoutMs: 15_000 });
    assert.ok(owner.replicas.includes(p.newMaster), `promoted ${p.newMaster}, not the replica of ${owner.master} (${owner.replicas})`);
    t.diagnostic(`failure -> promotion (CLUSTER SLOTS, first node / all live nodes): ${p.firstAt - killAt} / ${p.allAt - killAt} ms`);

    // Deliveries resume: an item reaches A within 5 s of the promotion.
    let first;
    try {
      first = await waitUntil(() => A.connections[0].client.messages.find((m) => m.at >= p.firstAt && m.json && m.json.type === 'item'),
        Math.max(0, p.firstAt + 5000 - Date.now()), 'an item at A after the promotion');
    } catch (e) {
      e.message += ` (within 5 s of the promotion); ${fpub.summary()}; ${ppub.summary()}\n${A.describe()}`;
      throw e;
    }
    const resumeMs = first.at - p.firstAt;
    t.diagnostic(`promotion -> first delivery at A: ${resumeMs} ms`);
    // ... and it is read from the new owner: an FCALL it acknowledged reaches A too.
    const fromNew = await waitUntil(() => {
      const ids = new Set(fpub.received().filter((a) => a.port === p.newMaster).map((a) => a.id));
      return A.connections[0].client.messages.find((m) => m.json && m.json.type === 'item' && ids.has(m.json.item.id));
    }, 5000, () => `an FCALL acknowledged by the new owner ${p.newMaster} to reach A; ${fpub.summary()}`);
    t.diagnostic(`promotion -> first delivery at A of an FCALL the new owner acknowledged: ${fromNew.at - p.firstAt} ms`);

    const hz = await waitForHealth(tickerd.port, healthyOn(p.newMaster), { timeoutMs: 10_000, what: `200/ok with redis_master ${addr(p.newMaster)}` });
    assert.equal(hz.json.redis_mode, 'cluster');
    const healthyAt = Date.now();
    assert.match(tickerd.log(), new RegExp(`master is now 127\\.0\\.0\\.1:${p.newMaster}\\b`), 'log line on the switch');

    // If tickerd's subscription died with the node: when was it subscribed again?
    const resubscribedAt = await resubscribed;
    await sleep(1500);
    await R.resume(conn(h, tickerd), 'R resumed after the promotion');
    const L = new Stream('L (fresh after the promotion)');
    await L.open(conn(h, tickerd), 'L');
    await sleep(1000);

    // Required in the final log: every acknowledged FCALL from before the kill
    // (less 500 ms for asynchronous replication) or acknowledged by the new
    // owner; every acknowledged PUBLISH (tickerd heard it, kept it, recorded
    // it), except, if its subscription died with the node, those published
    // from 500 ms before the kill until it was subscribed again.
    const must = [
      ...fpub.received(0, killAt - 500),
      ...fpub.received().filter((a) => a.port === p.newMaster),
      ...(resubscribedAt === null ? ppub.received() : [...ppub.received(0, killAt - 500), ...ppub.received(resubscribedAt)]),
    ];
    let m;
    const { log, results } = await settle({
      cluster, fpub, ppub, streams: [A, R, L], must,
      before: async (final) => {
        const ids = new Set(final.map(entryItemId));
        const fLost = fpub.received().filter((a) => !ids.has(a.id));
        const pLost = ppub.received().filter((a) => !ids.has(a.id));
        m = await getMetrics(tickerd.port);
        t.diagnostic(`resent ${m.value('tickerd_records_resent_total')}, rollbacks ${m.value('tickerd_log_rollbacks_total')}, `
          + `master switches ${switches0} -> ${m.value('tickerd_redis_master_switches_total')}, unconfirmed now ${m.value('tickerd_records_unconfirmed')}, `
          + `resync snapshots ${resyncCount([A, R, L])}`);
        t.diagnostic(`tickerd subscribed on ${subscriberOn.join(',') || 'none'} before the kill (killed ${owner.master})`
          + `${resubscribedAt === null ? '' : `, again ${resubscribedAt - killAt} ms after the kill`}; `
          + `acknowledged but not in the final log: ${fLost.length} FCALL(s) ${fLost.map((a) => a.id).slice(0, 5).join(' ')}, `
          + `${pLost.length} PUBLISH(es) ${pLost.map((a) => a.id).slice(0, 5).join(' ')}; log ${final.length} entries; ${fpub.summary()}; ${ppub.summary()}`);
      },
    });
    assert.ok(ppub.received(healthyAt).length >= 10 && fpub.received(healthyAt).length >= 10, `publishes after recovery: ${fpub.summary()}; ${ppub.summary()}`);
    const switches = m.value('tickerd_redis_master_switches_total');
    const resent = m.value('tickerd_records_resent_total');
    const rollbacks = m.value('tickerd_log_rollbacks_total');
    const unconfirmed = m.value('tickerd_records_unconfirmed');
    const resyncs = [...results.values()].reduce((k, r) => k + r.resyncs, 0);
    assert.ok(switches >= 1, `tickerd_redis_master_switches_total ${switches}`);
    assert.ok(typeof resent === 'number', 'tickerd_records_resent_total in /metrics');
    assert.ok(typeof unconfirmed === 'number', 'tickerd_records_unconfirmed in /metrics');
    assert.ok(typeof rollbacks === 'number', 'tickerd_log_rollbacks_total in /metrics');
    if (resyncs > 0) {
      assert.ok(rollbacks >= 1, `${resyncs} resync snapshot(s) but tickerd_log_rollbacks_total is ${rollbacks}`);
      assert.match(tickerd.log(), /log rolled back/, 'log line on a rollback');
    }
    const end = await getHealth(tickerd.port);
    assert.ok(healthyOn(p.newMaster)(end), `/healthz at the end: ${end.text}`);
  }));

test('killed owner restarted (rejoins as a replica): no error loop, no PUBLISH dropped, still healthy on the new owner',
  { timeout: 60_000 }, clusterScenario(async (t, h) => {
    const { cluster, owner, tickerd, A, R, fpub, ppub } = await setup(h);
    const old = cluster.node(owner.master);
    const killAt = await old.kill('SIGKILL');
    const p = await cluster.waitPromotion(owner.slot, owner.master, { timeoutMs: 15_000 });
    await waitForHealth(tickerd.port, healthyOn(p.newMaster), { timeoutMs: 10_000, what: `200/ok with redis_master ${addr(p.newMaster)}` });
    t.diagnostic(`failure -> promotion: ${p.firstAt - killAt} ms; tickerd on the new owner ${Date.now() - p.firstAt} ms after it`);
    await sleep(1000);

    const m0 = await getMetrics(tickerd.port);
    const errors0 = m0.value('tickerd_record_errors_total');
    const switches0 = m0.value('tickerd_redis_master_switches_total');
    assert.equal(typeof errors0, 'number', 'tickerd_record_errors_total in /metrics');
    const lines0 = tickerd.log().split('\n').length;
    const restartAt = Date.now();
    // /healthz every 100 ms over the 10 s: healthy on the new owner throughout.
    const samples = [];
    const poller = (async () => {
      while (Date.now() < restartAt + 10_000) {
        const hz = await getHealth(tickerd.port).catch((e) => ({ error: String(e) }));
        samples.push({ at: Date.now(), ok: healthyOn(p.newMaster)(hz), text: hz.text || hz.error });
        await sleep(100);
      }
    })();
    await old.start();
    const slots = await cluster.waitHealthy({ timeoutMs: 15_000 });
    const range = slots.find((s) => s.start <= owner.slot && owner.slot <= s.end);
    assert.equal(range.master, p.newMaster, `slot ${owner.slot} still on ${p.newMaster}`);
    assert.deepEqual(range.replicas, [owner.master], `the restarted ${owner.master} is the new owner's replica`);
    t.diagnostic(`restarted node back as a replica in sync after ${Date.now() - restartAt} ms`);
    await R.resume(conn(h, tickerd), 'R resumed after the restart');

    await poller;
    const bad = samples.filter((x) => !x.ok);
    t.diagnostic(`/healthz over the 10 s: ${samples.length} samples, ${bad.length} not 200/ok on ${p.newMaster}`);
    const newLines = tickerd.log().split('\n').slice(lines0 - 1).filter((l) => l.trim());
    t.diagnostic(`tickerd stderr over the 10 s after the restart: ${newLines.length} line(s)${newLines.length ? `: ${JSON.stringify(newLines.slice(0, 5))}` : ''}`);
    assert.ok(newLines.length < 20, `error loop? ${newLines.length} stderr lines in 10 s after the restart:\n${newLines.slice(0, 30).join('\n')}`);
    const m1 = await getMetrics(tickerd.port);
    assert.equal(m1.value('tickerd_record_errors_total'), errors0, 'tickerd_record_errors_total changed across the restart');
    const switches1 = m1.value('tickerd_redis_master_switches_total');
    t.diagnostic(`master switches across the restart: ${switches0} -> ${switches1}; resent ${m1.value('tickerd_records_resent_total')}, `
      + `rollbacks ${m1.value('tickerd_log_rollbacks_total')}, unconfirmed ${m1.value('tickerd_records_unconfirmed')}`);
    assert.deepEqual(bad.map((x) => `+${x.at - restartAt} ms: ${x.text}`).slice(0, 5), [], '/healthz not healthy on the new owner while the old one rejoined');

    const L = new Stream('L (fresh after the restart)');
    await L.open(conn(h, tickerd), 'L');
    await sleep(500);
    // Every publish acknowledged since tickerd was settled on the new owner
    // (the restart included) is in the log.
    const must = [...fpub.received(restartAt - 1000), ...ppub.received(restartAt - 1000)];
    const { log, results } = await settle({ cluster, fpub, ppub, streams: [A, R, L], must });
    const resyncs = [...results.values()].reduce((k, r) => k + r.resyncs, 0);
    t.diagnostic(`log ${log.length} entries; resync snapshots ${resyncs}; ${fpub.summary()}; ${ppub.summary()}`);
    if (resyncs > 0) assert.ok(await metric(tickerd, 'tickerd_log_rollbacks_total') >= 1, `${resyncs} resync snapshot(s) without a rollback`);
    // The new owner has a replica again: every record is confirmed (WAIT 1).
    await waitUntil(async () => (await metric(tickerd, 'tickerd_records_unconfirmed')) === 0, 5000,
      'tickerd_records_unconfirmed to be 0 with the replica back');
    const hz = await getHealth(tickerd.port);
    assert.ok(healthyOn(p.newMaster)(hz), `/healthz at the end: ${hz.text}`);
  }));

test('slot owner killed while its replica lags (replica paused, replication stream backed up): the promoted log lacks what tickerd read -> rollback, clients resynced, unconfirmed records resent once',
  { timeout: 60_000 }, clusterScenario(async (t, h) => {
    const { cluster, owner, tickerd, A, R, fpub, ppub } = await setup(h);
    const replica = cluster.node(owner.replicas[0]);
    h.defer(() => replica.signal('SIGCONT'));
    const m0 = await getMetrics(tickerd.port);
    const rollbacks0 = m0.value('tickerd_log_rollbacks_total');
    const resent0 = m0.value('tickerd_records_resent_total');

    // The replica stops reading, and 12 MB written to the master in the same
    // slot fill the kernel's socket buffers towards it: what is recorded from
    // now on stays in the master's output buffer, so dies with it. (A pause
    // alone loses nothing: the replica reads the buffered stream on SIGCONT.)
    replica.signal('SIGSTOP');
    const pausedAt = Date.now();
    const ballast = await nodeCall(owner.master, ['SET', `${PREFIX}:ballast`, Buffer.alloc(12 << 20, 0x61)], { timeoutMs: 5000 });
    assert.equal(String(ballast), 'OK', `SET ballast: ${ballast}`);
    const ballastMs = Date.now() - pausedAt;
    let unconfirmedMax = 0;
    while (Date.now() < pausedAt + ballastMs + 700) {
      unconfirmedMax = Math.max(unconfirmedMax, (await metric(tickerd, 'tickerd_records_unconfirmed')) ?? 0);
      await sleep(50);
    }
    const killAt = await cluster.node(owner.master).kill('SIGKILL');
    replica.signal('SIGCONT');
    t.diagnostic(`replica paused ${killAt - pausedAt} ms before the kill (ballast written in ${ballastMs} ms); tickerd_records_unconfirmed up to ${unconfirmedMax} meanwhile`);
    assert.ok(unconfirmedMax >= 1, `records made while the replica was paused must wait for it (WAIT 1): tickerd_records_unconfirmed stayed ${unconfirmedMax}`);
    await R.resume(conn(h, tickerd), 'R resumed right after the kill');

    const p = await cluster.waitPromotion(owner.slot, owner.master, { timeoutMs: 15_000 });
    assert.equal(p.newMaster, replica.port, 'the paused replica was promoted');
    t.diagnostic(`failure -> promotion: ${p.firstAt - killAt} ms`);
    const first = await waitUntil(() => A.connections[0].client.messages.find((m) => m.at >= p.firstAt && m.json
      && (m.json.type === 'item' || (m.json.type === 'snapshot' && m.json.resync === true))),
    Math.max(0, p.firstAt + 5000 - Date.now()), () => `an item or resync at A within 5 s of the promotion\n${A.describe()}`);
    t.diagnostic(`promotion -> first ${first.json.type}${first.json.resync ? ' (resync)' : ''} at A: ${first.at - p.firstAt} ms`);
    await waitForHealth(tickerd.port, healthyOn(p.newMaster), { timeoutMs: 10_000, what: `200/ok with redis_master ${addr(p.newMaster)}` });

    await sleep(1500);
    await R.resume(conn(h, tickerd), 'R resumed after the promotion');
    const L = new Stream('L (fresh after the promotion)');
    await L.open(conn(h, tickerd), 'L');
    await sleep(1000);

    // Required: FCALLs acknowledged before the pause (less 500 ms) or by the
    // new owner; every PUBLISH acknowledged up to 300 ms before the kill
    // (tickerd heard it before its subscription died: recorded on the old
    // owner only, it was unconfirmed, so resent) and after it subscribed again.
    const resubscribedAt = p.allAt;
    const must = [
      ...fpub.received(0, pausedAt - 500),
      ...fpub.received().filter((a) => a.port === p.newMaster),
      ...ppub.received(0, killAt - 300),
      ...ppub.received(resubscribedAt + 1000),
    ];
    let fLost;
    let heardLost;
    let rollbacks;
    let resent;
    await settle({
      cluster, fpub, ppub, streams: [A, R, L], must,
      before: async (final) => {
        const ids = new Set(final.map(entryItemId));
        fLost = fpub.received().filter((a) => !ids.has(a.id));
        heardLost = ppub.received(0, killAt - 300).filter((a) => !ids.has(a.id));
        const m1 = await getMetrics(tickerd.port);
        rollbacks = m1.value('tickerd_log_rollbacks_total') - rollbacks0;
        resent = m1.value('tickerd_records_resent_total') - resent0;
        const lostIds = new Set(fLost.map((a) => a.id));
        const seenLost = A.connections[0].client.messages.filter((m) => m.json && m.json.type === 'item' && lostIds.has(m.json.item.id)).length;
        t.diagnostic(`rollbacks ${rollbacks}, resent ${resent}, resync snapshots ${resyncCount([A, R, L])}; FCALLs acknowledged by the old owner `
          + `and lost with it: ${fLost.length} (A had received ${seenLost} of them); log ${final.length} entries; ${fpub.summary()}; ${ppub.summary()}`);
        // Checked here, before the clients: the first tell what happened.
        assert.deepEqual(heardLost.map((a) => a.id), [], 'PUBLISHes tickerd heard before the kill are in the final log');
        assert.ok(fLost.length >= 1, `the failover lost no acknowledged FCALL: the replica did not lag (${fpub.summary()})`);
        if (seenLost) {
          assert.ok(rollbacks >= 1, `A had ${seenLost} entries the new log lacks, yet tickerd_log_rollbacks_total rose by ${rollbacks}`);
          assert.match(tickerd.log(), /log rolled back/, 'log line on the rollback');
        }
        assert.ok(resent >= 1, `records made while the replica lagged were unconfirmed, yet tickerd_records_resent_total rose by ${resent}`);
      },
    });
    assert.ok(healthyOn(p.newMaster)(await getHealth(tickerd.port)), 'healthy on the new owner at the end');
  }));
