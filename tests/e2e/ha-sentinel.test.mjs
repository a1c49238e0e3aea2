// Redis Sentinel (issue 13): tickerd started with
// --redis sentinel://127.0.0.1:S1,127.0.0.1:S2,127.0.0.1:S3/<name> in front of
// one master, one replica and three sentinels (lib/redis-sentinel.mjs), while
// numbered items are recorded with FCALL tickerd_record and published with
// plain PUBLISH ticker:<topic> against whichever node the sentinels say is
// master. WebSocket clients stay connected throughout: A (one connection), R
// (resumes with since=, once while there is no master and once after), L
// (fresh after the failover). Ground truth is XRANGE ticker:log on the final
// master. A client may get a resync snapshot only when it was sent items that
// the final log lacks (a rollback); it is then checked from its last resync on.
//
// Every scenario prints its timings with t.diagnostic: kill/failover ->
// +switch-master, +switch-master -> tickerd's /healthz redis_master,
// +switch-master -> first delivery of an item recorded on the new master,
// records resent, rollbacks. A scenario collects every failed check before
// failing, so that its figures are printed anyway. HA_DUMP=<file> writes the
// messages clients A and R got to <file> when a scenario fails.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { scenario, getHealth, getMetrics, waitForHealth } from './harness.mjs';
import { Stream, assertSameBytes, readLog, waitUntil, entryItemId, cmpSeq, SEQ_RE } from './checker.mjs';
import {
  startSentinelGroup, SentinelPublisher, subscribedSentinels,
} from './lib/redis-sentinel.mjs';
import {
  watchHealth, firstDeliveryOn, checkFinal, assertSeqsConsistent, resyncsOf, lostOf,
} from './lib/ha-checks.mjs';

const conn = (h, td) => (q) => h.client(td.wsUrl(q));
const portOf = (addr) => Number(String(addr).split(':').pop());
const healthy = (hz) => hz.status === 200 && hz.json && hz.json.status === 'ok';

/** scenario() plus, on failure, the Redis/sentinel logs, the sentinel events and the publishers. */
function ha(fn) {
  return scenario(async (t, h) => {
    const ctx = {};
    try {
      await fn(t, h, ctx);
    } catch (err) {
      if (process.env.HA_DUMP && ctx.s) {
        const fs = await import('node:fs');
        const dump = {};
        for (const st of [ctx.s.A, ctx.s.R]) dump[st.name] = st.connections.map(({ client, since }) => ({ since, ms: client.messages.map((m) => [m.at, m.text]) }));
        fs.writeFileSync(process.env.HA_DUMP, JSON.stringify(dump, null, 1));
      }
      const parts = [];
      if (ctx.s) parts.push(`publishers: ${ctx.s.pubs.map((p) => p.summary()).join('; ')}`);
      if (ctx.s) parts.push(`/healthz samples (last 5): ${JSON.stringify(ctx.s.health.samples.slice(-5))}`);
      if (ctx.g) {
        parts.push(`+switch-master: ${JSON.stringify(ctx.g.switches)}`);
        parts.push(`sentinel events: ${JSON.stringify(ctx.g.events.slice(-20))}`);
        parts.push(ctx.g.logs(12));
      }
      if (parts.length && err && typeof err === 'object') {
        try { err.message += `\n${parts.join('\n')}`; } catch { /* read-only */ }
      }
      throw err;
    }
  });
}

/**
 * A sentinel group, tickerd in front of it, clients A and R, the two
 * publishers running (FCALL on topic "durable", PUBLISH on topic "heard"),
 * and /healthz sampled every 50 ms. Resolves once A and R have 20 items.
 */
async function setup(t, h, ctx, { minReplicasToWrite } = {}) {
  const g = await startSentinelGroup(h, { minReplicasToWrite });
  ctx.g = g;
  const tickerd = await h.tickerd({ redisUrl: g.url });
  h.defer(() => tickerd.stop('SIGTERM', 2000)); // before the group goes (deferred run last-first)
  const health = watchHealth(tickerd.port);
  h.defer(() => health.stop());
  const hz = await getHealth(tickerd.port);
  assert.equal(hz.json.redis_mode, 'sentinel', `/healthz redis_mode: ${hz.text}`);
  assert.equal(hz.json.redis_master, g.nodes[0].addr, `/healthz redis_master is the master: ${hz.text}`);

  const A = new Stream('A (stays connected)');
  await A.open(conn(h, tickerd), 'A');
  const R = new Stream('R (resumes with since=)');
  await R.open(conn(h, tickerd), 'R');
  const durable = new SentinelPublisher(g, { mode: 'fcall', topic: 'durable' }).start();
  const heard = new SentinelPublisher(g, { mode: 'publish', topic: 'heard' }).start();
  h.defer(() => durable.stop());
  h.defer(() => heard.stop());
  const s = { g, tickerd, health, A, R, durable, heard, pubs: [durable, heard] };
  ctx.s = s;
  await waitUntil(() => A.itemCount() >= 20 && R.itemCount() >= 20, 8000,
    () => `20 items at A and R; ${durable.summary()}; ${heard.summary()}\n${A.describe()}\n${R.describe()}`);
  assert.ok(heard.received().length >= 5, `PUBLISH reaches tickerd: ${heard.summary()}`);
  return s;
}

/** Run fn; an assertion it fails is added to problems instead of thrown. */
async function soft(problems, fn) {
  try {
    return await fn();
  } catch (e) {
    problems.push(String(e && e.message ? e.message : e));
    return undefined;
  }
}

/** Run every check (soft), then fail with all the problems at once, if any. */
async function verdict(problems, checks = []) {
  for (const c of checks) await soft(problems, c);
  if (problems.length) assert.fail(`${problems.length} problem(s):\n- ${problems.join('\n- ')}`);
}

/**
 * Stop the publishers and check everything against the log on the master
 * the sentinels name now: every PUBLISH that reached tickerd and every FCALL
 * the final master acknowledged is in it exactly once; every live stream
 * catches up with its last entry; every stream passes checkFinal; a seq is
 * one item everywhere, with the same bytes. What fails is collected in
 * .problems (see verdict), so that the scenario still prints its figures.
 */
async function settle(s, { streams, live = streams, timeoutMs = 10_000 }) {
  const { g, durable, heard } = s;
  const problems = [];
  for (const p of s.pubs) await p.stop();
  const finalAddr = await g.master();
  const port = portOf(finalAddr);
  const must = [...heard.received(), ...durable.received().filter((a) => a.node === finalAddr)];
  let log = [];
  let missing = [];
  try {
    await waitUntil(async () => {
      log = await readLog(port);
      const ids = new Set(log.map(entryItemId));
      missing = must.filter((a) => !ids.has(a.id));
      return missing.length === 0;
    }, timeoutMs, () => `every PUBLISH tickerd heard and every FCALL ${finalAddr} acknowledged to be in its ticker:log`);
  } catch (e) {
    const ranges = missing.map((a) => `${a.id} (to ${a.node} at ${new Date(a.at).toISOString().slice(11, 23)})`);
    problems.push(`${e.message}: ${missing.length} missing of ${must.length}: ${ranges.slice(0, 4).join(', ')}${missing.length > 4 ? ` … ${ranges.slice(-2).join(', ')}` : ''}; log ${log.length} entries`);
  }
  const counts = new Map();
  for (const e of log) {
    const id = `${e.topic}/${entryItemId(e)}`;
    counts.set(id, (counts.get(id) || 0) + 1);
  }
  const dups = [...counts].filter(([, c]) => c > 1);
  if (dups.length) problems.push(`items recorded more than once in ticker:log on ${finalAddr}: ${dups.slice(0, 8).map(([k, c]) => `${k} x${c}`).join(', ')}`);

  for (const st of live) {
    if (!log.length) break;
    const target = log[log.length - 1].seq;
    await soft(problems, () => waitUntil(() => {
      const last = st.lastDelivered();
      return last && SEQ_RE.test(last) && cmpSeq(last, target) >= 0;
    }, timeoutMs, () => `${st.name} to receive up to the log's last entry ${target} (it is at ${st.lastDelivered()})\n${st.describe()}`));
  }
  await sleep(300); // a late duplicate is caught too
  const results = new Map();
  for (const st of streams) {
    const r = await soft(problems, () => checkFinal(st, log));
    results.set(st.name, r || { lost: lostOf(st, log), resyncs: resyncsOf(st).length, checked: NaN, failed: true });
  }
  const reused = (await soft(problems, () => assertSeqsConsistent(streams, log))) || [];
  if (reused.length) console.log(`# seq(s) of lost entries the new master gave to others (clients resynced): ${reused.map((r) => `${r.seq} ${r.lost} -> ${r.now}`).join(', ')}`);
  await soft(problems, () => assertSameBytes(streams));
  const ids = new Set(log.map(entryItemId));
  const lostAcked = durable.received().filter((a) => !ids.has(a.id));
  return { log, finalAddr, results, lostAcked, problems, missing };
}

function describeResults(results) {
  return [...results].map(([name, r]) => `${name.split(' ')[0]}: ${r.failed ? 'FAILED its check' : `${r.checked} checked`}, ${r.resyncs} resync(s), ${r.lost.length} lost`).join('; ');
}

async function countersOf(tickerd) {
  const m = await getMetrics(tickerd.port);
  const v = (n) => m.value(n);
  return {
    switches: v('tickerd_redis_master_switches_total'),
    resent: v('tickerd_records_resent_total'),
    rollbacks: v('tickerd_log_rollbacks_total'),
    unconfirmed: v('tickerd_records_unconfirmed'),
    recordErrors: v('tickerd_record_errors_total'),
  };
}

/** After the failover: R resumes, L connects fresh, then everything is checked. */
async function finish(h, s, opts = {}) {
  const { tickerd, A, R } = s;
  await R.resume(conn(h, tickerd), 'R resumed after the failover');
  const L = new Stream('L (fresh after the failover)');
  await L.open(conn(h, tickerd), 'L');
  await sleep(1000);
  const res = await settle(s, { streams: [A, R, L], ...opts });
  await soft(res.problems, () => waitForHealth(tickerd.port, healthy, { timeoutMs: 5000, what: '200/ok at the end' }));
  return { ...res, L };
}

// ---------------------------------------------------------------------------

test('sentinel 1: master killed with kill -9 mid-stream: deliveries resume within 5 s of +switch-master, every entry of the new log reaches every client once, in order', { timeout: 60_000 }, ha(async (t, h, ctx) => {
  const s = await setup(t, h, ctx);
  const { g, tickerd, health, A, R } = s;
  const [m0, r0] = g.nodes;

  const faultAt = Date.now();
  await m0.kill9();
  await sleep(500);
  await R.resume(conn(h, tickerd), 'R resumed while there is no master');
  const sw = await g.waitSwitch({ after: faultAt });
  assert.equal(sw.to, r0.addr, 'the replica is promoted');
  const first = await waitUntil(() => firstDeliveryOn(A, s.durable, sw.to), 10_000,
    () => `A to receive an item recorded on the new master ${sw.to}; ${s.durable.summary()}\n${A.describe()}`);
  const seen = await health.waitMaster(sw.to, { after: faultAt, timeoutMs: 10_000 });
  t.diagnostic(`kill -9 -> +switch-master ${sw.at - faultAt} ms; +switch-master -> /healthz redis_master ${seen.at - sw.at} ms; `
    + `+switch-master -> first delivery of an item recorded on the new master ${first.at - sw.at} ms`);
  await sleep(1000);

  const { results, log, lostAcked, problems, missing } = await finish(h, s);
  const c = await countersOf(tickerd);
  t.diagnostic(`log ${log.length} entries; ${describeResults(results)}; acknowledged FCALLs lost ${lostAcked.length}; heard PUBLISHes missing ${missing.length}; `
    + `switches ${c.switches}, resent ${c.resent}, rollbacks ${c.rollbacks}, unconfirmed ${c.unconfirmed}; ${s.durable.summary()}; ${s.heard.summary()}`);
  const hz = await getHealth(tickerd.port);
  await verdict(problems, [
    () => assert.ok(first.at - sw.at <= 5000, `first delivery ${first.at - sw.at} ms after +switch-master (at most 5000)`),
    () => assert.equal(hz.json.redis_master, sw.to, `/healthz redis_master: ${hz.text}`),
    () => assert.equal(hz.json.redis_mode, 'sentinel', `/healthz redis_mode: ${hz.text}`),
    () => assert.ok(c.switches >= 1, `tickerd_redis_master_switches_total ${c.switches}`),
    // A rollback after a kill -9 is possible (an entry read before it was replicated); then it is counted.
    () => assert.ok(![...results.values()].some((r) => r.lost.length) || c.rollbacks >= 1,
      `clients got entries the new log lacks, but tickerd_log_rollbacks_total is ${c.rollbacks}`),
  ]);
}));

test('sentinel 2: lossy failover (replica frozen and its link stalled, master takes FCALLs and PUBLISHes, is killed, the replica is promoted): rollback, resync, heard PUBLISHes recorded once', { timeout: 60_000 }, ha(async (t, h, ctx) => {
  const s = await setup(t, h, ctx);
  const { g, tickerd, health, A, R } = s;
  const [m0, r0] = g.nodes;

  // The replica frozen, and its link stalled: the master keeps counting it
  // as connected (so WAIT is asked and times out), but nothing it takes from
  // now on gets to the replica.
  r0.freeze();
  const stall = await g.stallReplication(m0);
  const frozenAt = Date.now();
  await sleep(1500);
  const during = await countersOf(tickerd);
  const oldLog = await readLog(m0.port);
  const faultAt = Date.now();
  await m0.kill9();
  await sleep(100);
  r0.thaw();
  const heardFrozen = s.heard.received(frozenAt, faultAt);
  const ackedFrozen = s.durable.received(frozenAt, faultAt);
  await sleep(400);
  await R.resume(conn(h, tickerd), 'R resumed while there is no master');

  const sw = await g.waitSwitch({ after: faultAt });
  assert.equal(sw.to, r0.addr, 'the (thawed) replica is promoted');
  const first = await waitUntil(() => firstDeliveryOn(A, s.durable, sw.to), 10_000,
    () => `A to receive an item recorded on the new master ${sw.to}; ${s.durable.summary()}\n${A.describe()}`);
  const seen = await health.waitMaster(sw.to, { after: faultAt, timeoutMs: 10_000 });
  t.diagnostic(`kill -9 -> +switch-master ${sw.at - faultAt} ms; +switch-master -> /healthz redis_master ${seen.at - sw.at} ms; `
    + `+switch-master -> first delivery on the new master ${first.at - sw.at} ms; while frozen: ${heardFrozen.length} PUBLISH heard, `
    + `${ackedFrozen.length} FCALL acknowledged, tickerd_records_unconfirmed ${during.unconfirmed}; old log ${oldLog.length} entries; `
    + `replication stalled with ${stall.bytes >> 20} MiB of junk`);
  await sleep(1500);

  // The resync snapshot's seq is the position it reflects: a client resuming
  // from it gets what came after, not another resync. (Its topics are named,
  // so that it is not in the audience of A, R and L: tickerd shares one
  // greeting among an audience's newcomers.)
  const rs = resyncsOf(A);
  let resumedFromResync = null;
  if (rs.length) {
    const snapSeq = A.connections[rs[rs.length - 1].ci].client.messages[rs[rs.length - 1].k].json.seq;
    const x = await h.client(tickerd.wsUrl(`?topics=durable,heard&since=${encodeURIComponent(snapSeq)}`));
    await x.next(() => true, 5000, 'hello');
    const next = await x.next(() => true, 5000, 'the frame after hello');
    resumedFromResync = { snapSeq, next };
    x.close();
  }

  const { results, log, lostAcked, problems, missing } = await finish(h, s);
  const c = await countersOf(tickerd);
  t.diagnostic(`log ${log.length} entries; ${describeResults(results)}; acknowledged FCALLs lost ${lostAcked.length}; heard PUBLISHes missing ${missing.length}; `
    + `switches ${c.switches}, resent ${c.resent}, rollbacks ${c.rollbacks}, unconfirmed ${c.unconfirmed}, record errors ${c.recordErrors}`);
  await verdict(problems, [
    () => assert.ok(!resumedFromResync || resumedFromResync.next.type !== 'snapshot',
      `resuming with since=${resumedFromResync && resumedFromResync.snapSeq} (the seq of A's resync snapshot) got another snapshot: `
      + `${resumedFromResync && JSON.stringify(resumedFromResync.next).slice(0, 160)}`),
    // The scenario did what it says: the master alone took items, and some were lost.
    () => assert.ok(heardFrozen.length >= 5, `only ${heardFrozen.length} PUBLISH reached tickerd while the replica was frozen`),
    () => assert.ok(lostAcked.length >= 1, 'no acknowledged FCALL was lost: the failover was not lossy'),
    () => assert.ok(during.unconfirmed >= 1, `tickerd_records_unconfirmed ${during.unconfirmed} while the only replica was frozen (WAIT cannot be answered)`),
    () => assert.ok(c.rollbacks >= 1, `tickerd_log_rollbacks_total ${c.rollbacks}`),
    () => assert.ok(c.resent > 0, `tickerd_records_resent_total ${c.resent}`),
    ...[A, R].map((st) => () => {
      const r = results.get(st.name);
      assert.ok(r.resyncs >= 1, `${st.name} got no resync snapshot (it got ${r.lost.length} item(s) the final log lacks)`);
    }),
    () => assert.equal(c.unconfirmed, 0, 'tickerd_records_unconfirmed at the end'),
  ]);
}));

async function forcedFailover(t, h, ctx, { minReplicasToWrite } = {}) {
  const s = await setup(t, h, ctx, { minReplicasToWrite });
  const { g, tickerd, health, A, R } = s;
  const [m0, r0] = g.nodes;
  const listening = await waitUntil(async () => {
    const l = await subscribedSentinels(g, tickerd.pid);
    return l.length ? l : null;
  }, 5000, 'tickerd to hold a pub/sub connection to a sentinel');
  const via = listening[0].sentinel.addr;

  const faultAt = Date.now();
  assert.equal(String(await g.sentinels[0].call(['SENTINEL', 'FAILOVER', g.name])), 'OK');
  const sw = await g.waitSwitch({ after: faultAt });
  assert.equal(sw.to, r0.addr);
  const swVia = await g.waitSwitch({ after: faultAt, sentinel: via, timeoutMs: 5000 });
  const seen = await health.waitMaster(sw.to, { after: faultAt, timeoutMs: 10_000 });
  const promoted = g.events.find((e) => e.at >= faultAt && e.channel === '+promoted-slave');
  t.diagnostic(`SENTINEL FAILOVER -> +switch-master ${sw.at - faultAt} ms (on ${via}, which tickerd listens to: ${swVia.at - faultAt} ms); `
    + `-> /healthz redis_master ${seen.at - faultAt} ms (${seen.at - swVia.at} ms after its sentinel's +switch-master)`);
  await sleep(300);
  await R.resume(conn(h, tickerd), 'R resumed right after the switch');

  let convertedMs;
  if (minReplicasToWrite) {
    // The new master refuses writes (NOREPLICAS) until the sentinels have
    // made the old master its replica (about 10 s: they wait for it to keep
    // reporting the wrong role) and it has synchronised.
    await m0.waitLinkUp(25_000);
    convertedMs = Date.now() - faultAt;
  }
  const first = await waitUntil(() => firstDeliveryOn(A, s.durable, sw.to), 10_000,
    () => `A to receive an item recorded on the new master ${sw.to}; ${s.durable.summary()}\n${A.describe()}`);
  t.diagnostic(`first delivery of an item recorded on the new master ${first.at - sw.at} ms after +switch-master`
    + (convertedMs !== undefined ? `; old master a synchronised replica ${convertedMs} ms after the failover` : ''));
  await sleep(1000);

  const { results, log, lostAcked, problems, missing } = await finish(h, s, { timeoutMs: 15_000 });
  const c = await countersOf(tickerd);
  t.diagnostic(`log ${log.length} entries; ${describeResults(results)}; acknowledged FCALLs lost ${lostAcked.length}; heard PUBLISHes missing ${missing.length}; `
    + `switches ${c.switches}, resent ${c.resent}, rollbacks ${c.rollbacks}, unconfirmed ${c.unconfirmed}, record errors ${c.recordErrors}; `
    + `${s.durable.summary()}; ${s.heard.summary()}`);
  await verdict(problems, [
    () => assert.ok(seen.at - swVia.at <= 1000,
      `/healthz redis_master switched ${seen.at - swVia.at} ms after +switch-master on the sentinel tickerd listens to (at most 1000)`),
    () => assert.ok(c.switches >= 1, `tickerd_redis_master_switches_total ${c.switches}`),
    () => {
      if (!minReplicasToWrite) return;
      // The old master refuses writes once its replica has left: only an FCALL
      // acknowledged right at the promotion can be missing.
      const at = promoted ? promoted.at : sw.at;
      const outside = lostAcked.filter((a) => a.done < at - 200 || a.at > at + 200);
      assert.deepEqual(outside.map((a) => `${a.id} on ${a.node}, done ${a.done - at} ms from the promotion`), [],
        'acknowledged FCALLs lost with min-replicas-to-write 1');
    },
    () => assert.ok(![...results.values()].some((r) => r.lost.length) || c.rollbacks >= 1,
      `clients got entries the new log lacks, but tickerd_log_rollbacks_total is ${c.rollbacks}`),
  ]);
}

test('sentinel 3: SENTINEL FAILOVER without min-replicas-to-write: tickerd follows within 1 s of +switch-master, nothing heard is lost', { timeout: 60_000 }, ha(async (t, h, ctx) => {
  await forcedFailover(t, h, ctx);
}));

test('sentinel 4: SENTINEL FAILOVER with min-replicas-to-write 1: tickerd follows within 1 s, NOREPLICAS records kept and resent, nothing lost', { timeout: 60_000 }, ha(async (t, h, ctx) => {
  await forcedFailover(t, h, ctx, { minReplicasToWrite: 1 });
}));

/**
 * The sentinel tickerd listens to (its pub/sub connection, found with the
 * sentinels' CLIENT LIST and tickerd's sockets) is killed (kill -9: tickerd
 * sees its connection close and may listen to another one) or frozen
 * (SIGSTOP: the connection stays open and silent, and the sentinel answers
 * nothing), then another sentinel runs SENTINEL FAILOVER.
 */
async function sentinelGone(t, h, ctx, how) {
  const s = await setup(t, h, ctx);
  const { g, tickerd, health, R } = s;
  const [, r0] = g.nodes;
  const listening = await waitUntil(async () => {
    const l = await subscribedSentinels(g, tickerd.pid);
    return l.length ? l : null;
  }, 5000, 'tickerd to hold a pub/sub connection to a sentinel');
  assert.equal(listening.length, 1, `tickerd listens to ${listening.length} sentinels: ${listening.map((l) => l.client).join(' | ')}`);
  const victim = listening[0].sentinel;
  if (how === 'kill') await victim.kill9();
  else victim.freeze();
  await sleep(300);
  const after = await subscribedSentinels(g, tickerd.pid);
  const leader = g.sentinels.find((x) => x !== victim);

  const limitMs = how === 'kill' ? 3000 : 4000;
  const faultAt = Date.now();
  assert.equal(String(await leader.call(['SENTINEL', 'FAILOVER', g.name])), 'OK');
  const sw = await g.waitSwitch({ after: faultAt });
  assert.equal(sw.to, r0.addr);
  const seen = await health.waitMaster(sw.to, { after: faultAt, timeoutMs: 10_000 });
  t.diagnostic(`${how === 'kill' ? 'killed' : 'froze'} sentinel ${victim.addr} (tickerd's); 300 ms later tickerd listened to ${after.map((l) => l.sentinel.addr).join(',') || 'none'}; `
    + `SENTINEL FAILOVER on ${leader.addr} -> +switch-master ${sw.at - faultAt} ms -> /healthz redis_master ${seen.at - sw.at} ms`);
  await sleep(300);
  await R.resume(conn(h, tickerd), 'R resumed right after the switch');
  const first = await waitUntil(() => firstDeliveryOn(s.A, s.durable, sw.to), 10_000,
    () => `A to receive an item recorded on the new master ${sw.to}; ${s.durable.summary()}`);
  t.diagnostic(`first delivery on the new master ${first.at - sw.at} ms after +switch-master`);
  await sleep(1000);

  const { results, log, lostAcked, problems, missing } = await finish(h, s);
  const c = await countersOf(tickerd);
  t.diagnostic(`log ${log.length} entries; ${describeResults(results)}; acknowledged FCALLs lost ${lostAcked.length}; heard PUBLISHes missing ${missing.length}; `
    + `switches ${c.switches}, resent ${c.resent}, rollbacks ${c.rollbacks}, unconfirmed ${c.unconfirmed}, record errors ${c.recordErrors}`);
  await verdict(problems, [
    // Asked every 2 s: at most one period and a bit (and, with a frozen
    // sentinel that answers nothing, the time to give up on it: 1 s more).
    () => assert.ok(seen.at - sw.at <= limitMs, `/healthz redis_master switched ${seen.at - sw.at} ms after +switch-master (at most ${limitMs})`),
    () => assert.ok(c.switches >= 1, `tickerd_redis_master_switches_total ${c.switches}`),
    () => assert.ok(![...results.values()].some((r) => r.lost.length) || c.rollbacks >= 1,
      `clients got entries the new log lacks, but tickerd_log_rollbacks_total is ${c.rollbacks}`),
  ]);
}

test('sentinel 5: the sentinel tickerd listens to is killed, then a failover: tickerd still follows (within the 2 s check)', { timeout: 60_000 }, ha(async (t, h, ctx) => {
  await sentinelGone(t, h, ctx, 'kill');
}));

test('sentinel 5b: the sentinel tickerd listens to is frozen (SIGSTOP), then a failover: the periodic check makes tickerd follow', { timeout: 60_000 }, ha(async (t, h, ctx) => {
  await sentinelGone(t, h, ctx, 'freeze');
}));

test('sentinel 6: the killed master comes back as a replica of the new one: no error loop, no record dropped, still healthy', { timeout: 60_000 }, ha(async (t, h, ctx) => {
  const s = await setup(t, h, ctx);
  const { g, tickerd, health, A } = s;
  const [m0, r0] = g.nodes;

  const faultAt = Date.now();
  await m0.kill9();
  const sw = await g.waitSwitch({ after: faultAt });
  assert.equal(sw.to, r0.addr);
  const seen = await health.waitMaster(sw.to, { after: faultAt, timeoutMs: 10_000 });
  const first = await waitUntil(() => firstDeliveryOn(A, s.durable, sw.to), 10_000,
    () => `A to receive an item recorded on the new master ${sw.to}; ${s.durable.summary()}`);
  t.diagnostic(`kill -9 -> +switch-master ${sw.at - faultAt} ms -> /healthz redis_master ${seen.at - sw.at} ms; first delivery ${first.at - sw.at} ms`);
  await sleep(500);

  const lines = () => tickerd.log().split('\n').filter((l) => l.length);
  const before = lines().length;
  const c0 = await countersOf(tickerd);
  const backAt = Date.now();
  await m0.restartAsReplicaOf(sw.to);
  const syncedMs = Date.now() - backAt;
  await sleep(Math.max(0, backAt + 10_000 - Date.now()));
  const added = lines().slice(before);
  const c1 = await countersOf(tickerd);
  t.diagnostic(`old master back as a replica, synchronised in ${syncedMs} ms; tickerd wrote ${added.length} stderr line(s) in the 10 s after; `
    + `record errors ${c0.recordErrors} -> ${c1.recordErrors}; switches ${c0.switches} -> ${c1.switches}`
    + (added.length && added.length <= 5 ? `; the lines: ${added.map((l) => l.replace(/^\[[^\]]*\] /, '')).join(' | ')}` : ''));
  const early = [];
  for (const check of [
    () => assert.ok(added.length < 20, `tickerd wrote ${added.length} stderr lines in 10 s after the old master came back:\n${added.slice(0, 30).join('\n')}`),
    () => assert.equal(c1.recordErrors, c0.recordErrors, 'tickerd_record_errors_total changed while the old master came back'),
    () => assert.equal(c1.switches, c0.switches, 'tickerd switched masters again when the old master came back as a replica'),
    async () => assert.equal(await m0.role(), 'slave'),
    () => g.waitAgreed(sw.to, 2000),
    async () => {
      const hz = await getHealth(tickerd.port);
      assert.ok(healthy(hz), `healthy: ${hz.text}`);
      assert.equal(hz.json.redis_master, sw.to);
    },
  ]) await soft(early, check);

  const { results, log, lostAcked, problems, missing } = await finish(h, s);
  t.diagnostic(`log ${log.length} entries; ${describeResults(results)}; acknowledged FCALLs lost ${lostAcked.length}; heard PUBLISHes missing ${missing.length}; ${s.heard.summary()}`);
  await verdict([...early, ...problems]);
}));
