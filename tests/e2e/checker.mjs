// Durability checker for tickerd's change log (issue 4).
//
// Ground truth is `XRANGE <prefix>:log - +`: the entry ids are the seqs.
// A client (one connection, or a chain of connections that resumed with
// since=<last seq seen>) must have received, in order, exactly the log
// entries of its topics that lie after its starting position (the seq of
// its snapshot, or the since= it resumed from) up to the last seq it got:
// every seq exactly once, in order, nothing missing in between.
//
// SeqPublisher publishes a numbered sequence ({"id":"n-000123","headline":
// "item 123"}) at a steady rate, never re-publishing a number, recording for
// each attempt whether Redis answered and how many subscribers got it.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { PacedPublisher } from './lib/publisher.mjs';
import { redisCommands, RedisError, redisCall } from './harness.mjs';

/** A stream entry id, which the spec makes the message seq. */
export const SEQ_RE = /^\d+-\d+$/;

export function parseSeq(s) {
  const m = typeof s === 'string' ? /^(\d+)-(\d+)$/.exec(s) : null;
  if (!m) throw new Error(`not a stream entry id: ${JSON.stringify(s)}`);
  return [BigInt(m[1]), BigInt(m[2])];
}

/** Compare two stream ids: -1, 0, 1. */
export function cmpSeq(a, b) {
  const [am, an] = parseSeq(a);
  const [bm, bn] = parseSeq(b);
  if (am !== bm) return am < bm ? -1 : 1;
  if (an !== bn) return an < bn ? -1 : 1;
  return 0;
}

export function seqId(n) { return `n-${String(n).padStart(6, '0')}`; }
export function seqPayload(n) { return JSON.stringify({ id: seqId(n), headline: `item ${n}` }); }

export async function waitUntil(pred, timeoutMs, desc) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await pred();
    if (v) return v;
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${typeof desc === 'function' ? desc() : desc}`);
    }
    await sleep(50);
  }
}

// ---------------------------------------------------------------------------
// The log

/** XRANGE <prefix>:log - + as [{ seq, topic, payload: Buffer, fields }]. */
export async function readLog(port, prefix = 'ticker', { timeoutMs = 3000 } = {}) {
  const [r] = await redisCommands(port, [['XRANGE', `${prefix}:log`, '-', '+']], { timeoutMs });
  if (r instanceof RedisError) throw r;
  return r.map(([id, kv]) => {
    const fields = {};
    for (let i = 0; i + 1 < kv.length; i += 2) fields[kv[i].toString('utf8')] = kv[i + 1];
    return {
      seq: id.toString('utf8'),
      topic: fields.topic ? fields.topic.toString('utf8') : undefined,
      payload: fields.payload,
      fields,
    };
  });
}

export async function xlen(port, prefix = 'ticker') {
  return redisCall(port, ['XLEN', `${prefix}:log`]);
}

const ASCII_WS = /^[ \t\n\v\f\r]+|[ \t\n\v\f\r]+$/g;

/** The message a log entry must produce: { type, seq, topic, id?, headline? }. */
export function expectedFromEntry(e) {
  const text = (e.payload || Buffer.alloc(0)).toString('utf8').replace(ASCII_WS, '');
  if (text.startsWith('{')) {
    const o = JSON.parse(text);
    const id = o.id ?? o.uri;
    const st = o.status ?? o.pubstatus ?? o.pubStatus;
    if (st === 'withheld' || st === 'canceled') return { type: 'retract', seq: e.seq, topic: e.topic, id };
    const headline = o.headline ?? (Array.isArray(o.headlines) && o.headlines[0] ? o.headlines[0].value : undefined);
    return { type: 'item', seq: e.seq, topic: e.topic, id, headline };
  }
  return { type: 'item', seq: e.seq, topic: e.topic, headline: text }; // id derived: not compared
}

/** Entry id of a log entry that carries our JSON id (or undefined). */
export function entryItemId(e) {
  try { return expectedFromEntry(e).id; } catch { return undefined; }
}

function topicMatch(topics, topic) {
  return !topics || topics.length === 0 || topics.includes(topic);
}

// ---------------------------------------------------------------------------
// Client streams

/** What a received item/retract frame says: { type, seq, topic, id, headline, raw, conn }. */
function delivered(m, conn) {
  const j = m.json;
  if (j.type === 'item') {
    return { type: 'item', seq: j.item && j.item.seq, topic: j.item && j.item.topic, id: j.item && j.item.id,
      headline: j.item && j.item.headline, raw: m.raw, conn, sseId: m.id, sseEvent: m.event };
  }
  return { type: 'retract', seq: j.seq, topic: j.topic, id: j.id, raw: m.raw, conn, sseId: m.id, sseEvent: m.event };
}

/**
 * A logical client: a chain of connections. connect(query) must open a
 * connection (e.g. (q) => h.client(tickerd.wsUrl(q))).
 */
export class Stream {
  constructor(name, { topics = [] } = {}) {
    this.name = name;
    this.topics = topics;
    this.connections = []; // { client, since, via }
  }

  /** Fresh connection (hello + snapshot expected). */
  async open(connect, via = '') {
    const q = this.topics.length ? `?topics=${this.topics.join(',')}` : '';
    const client = await connect(q);
    this.connections.push({ client, since: null, via });
    await client.ready();
    return client;
  }

  /** The last seq this client saw: the last item/retract, else the last snapshot's seq. */
  lastSeen() {
    for (let i = this.connections.length - 1; i >= 0; i--) {
      const ms = this.connections[i].client.messages;
      for (let k = ms.length - 1; k >= 0; k--) {
        const j = ms[k].json;
        if (!j) continue;
        if (j.type === 'item' && j.item) return j.item.seq;
        if (j.type === 'retract') return j.seq;
        if (j.type === 'snapshot') return j.seq ?? null;
      }
      if (this.connections[i].since) return this.connections[i].since;
    }
    return null;
  }

  /** Last item/retract seq received (null if none). */
  lastDelivered() {
    for (let i = this.connections.length - 1; i >= 0; i--) {
      const ms = this.connections[i].client.messages;
      for (let k = ms.length - 1; k >= 0; k--) {
        const j = ms[k].json;
        if (j && j.type === 'item' && j.item) return j.item.seq;
        if (j && j.type === 'retract') return j.seq;
      }
    }
    return null;
  }

  /** Drop the current connection and resume with since=<last seq seen>; waits for hello. */
  async resume(connect, via = '') {
    const cur = this.current();
    if (cur) {
      cur.close();
      await Promise.race([cur.closed, sleep(2000)]);
    }
    const since = this.lastSeen();
    assert.ok(since, `${this.name}: nothing seen yet, cannot resume`);
    const parts = [];
    if (this.topics.length) parts.push(`topics=${this.topics.join(',')}`);
    parts.push(`since=${encodeURIComponent(since)}`);
    const client = await connect(`?${parts.join('&')}`);
    this.connections.push({ client, since, via });
    const hello = await client.next(() => true, 5000, 'hello');
    assert.equal(hello.type, 'hello', `${this.name}: first frame after resuming with since=${since}: ${client.describe()}`);
    return client;
  }

  current() {
    const c = this.connections[this.connections.length - 1];
    return c ? c.client : null;
  }

  itemCount() {
    let n = 0;
    for (const { client } of this.connections) n += client.messages.filter((m) => m.json && (m.json.type === 'item' || m.json.type === 'retract')).length;
    return n;
  }

  describe() {
    return this.connections.map(({ client, since, via }, i) =>
      `  [${i}] ${via} since=${since}: ${client.describe(6)}`).join('\n');
  }
}

/** Wrap a single fresh Client (already ready()) as a Stream. */
export function streamOf(name, client, topics = []) {
  const s = new Stream(name, { topics });
  s.connections.push({ client, since: null, via: client.url });
  return s;
}

function fmt(d) {
  if (!d) return 'nothing';
  return `${d.type} seq=${d.seq} id=${d.id ?? '-'}${d.headline !== undefined ? ` headline=${JSON.stringify(d.headline)}` : ''}`;
}

/**
 * Check one stream against the log. Returns { segments: [{ lower, delivered }], resyncs }.
 * opts.allowResync: a resumed connection or a live connection may get a
 *   {"type":"snapshot","resync":true}; the check then restarts at its seq.
 *   Without it, any snapshot other than the first one of a fresh connection fails.
 */
export function checkStream(stream, log, { allowResync = false } = {}) {
  const name = stream.name;
  const segments = [];
  let cur = null;
  let resyncs = 0;
  const ctx = () => `\n${name} connections:\n${stream.describe()}`;
  stream.connections.forEach(({ client, since }, ci) => {
    const ms = client.messages;
    assert.ok(ms.length >= 1, `${name}[${ci}]: no hello${ctx()}`);
    for (const m of ms) {
      assert.notEqual(m.json, undefined, `${name}[${ci}]: non-JSON frame ${JSON.stringify(m.text.slice(0, 200))}`);
    }
    assert.equal(ms[0].json.type, 'hello', `${name}[${ci}]: first frame is not hello: ${ms[0].text}${ctx()}`);
    let k = 1;
    const startSegment = (lower, why) => {
      cur = { lower, why, delivered: [] };
      segments.push(cur);
    };
    if (since === null) {
      assert.ok(ms.length >= 2, `${name}[${ci}]: no snapshot after hello${ctx()}`);
      const s = ms[1].json;
      assert.equal(s.type, 'snapshot', `${name}[${ci}]: second frame of a fresh connection is not a snapshot: ${ms[1].text}${ctx()}`);
      assert.equal(s.resync, false, `${name}[${ci}]: fresh connection's snapshot has resync ${s.resync}`);
      assert.ok('seq' in s, `${name}[${ci}]: snapshot has no "seq": ${ms[1].text.slice(0, 300)}`);
      assert.ok(s.seq === null || SEQ_RE.test(s.seq), `${name}[${ci}]: snapshot seq ${JSON.stringify(s.seq)}`);
      startSegment(s.seq, `snapshot of fresh connection ${ci}`);
      k = 2;
    } else if (ms.length >= 2 && ms[1].json.type === 'snapshot') {
      assert.ok(allowResync,
        `${name}[${ci}]: resumed with since=${since} (a position in the log) but got a snapshot instead of the messages after it: ${ms[1].text.slice(0, 300)}${ctx()}`);
      assert.equal(ms[1].json.resync, true, `${name}[${ci}]: snapshot after since= must have resync:true: ${ms[1].text.slice(0, 300)}`);
      resyncs++;
      startSegment(ms[1].json.seq, `resync snapshot on resumed connection ${ci}`);
      k = 2;
    } else if (!cur) {
      startSegment(since, `since=${since} on connection ${ci}`);
    } else {
      const expectSince = cur.delivered.length ? cur.delivered[cur.delivered.length - 1].seq : cur.lower;
      assert.equal(since, expectSince, `${name}[${ci}]: harness bug: resumed from ${since}, last seen ${expectSince}`);
    }
    for (; k < ms.length; k++) {
      const j = ms[k].json;
      if (j.type === 'item' || j.type === 'retract') {
        cur.delivered.push(delivered(ms[k], ci));
      } else if (j.type === 'feed') {
        // The feed's state (ok, or degraded while Redis is away): no seq, not in the log.
        assert.ok(['ok', 'degraded'].includes(j.state) && /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/.test(j.since ?? ''),
          `${name}[${ci}]: malformed feed message ${ms[k].text}`);
      } else if (j.type === 'snapshot' && allowResync && j.resync === true) {
        resyncs++;
        startSegment(j.seq, `mid-stream resync snapshot on connection ${ci}`);
      } else {
        assert.fail(`${name}[${ci}]: unexpected ${j.type} frame at position ${k}: ${ms[k].text.slice(0, 300)}${ctx()}`);
      }
    }
  });

  const hello = stream.connections[0].client.messages[0].json;
  const topics = hello.topics && hello.topics.length ? hello.topics : stream.topics;
  const bySeq = new Map(log.map((e, i) => [e.seq, i]));
  // Snapshots: items at or before the position they claim, of the client's
  // topics, and the same as their log entry when it is still in the log.
  stream.connections.forEach(({ client }, ci) => {
    for (const m of client.messages) {
      const j = m.json;
      if (!j || j.type !== 'snapshot') continue;
      for (const it of j.items) {
        assert.ok(SEQ_RE.test(it.seq ?? ''), `${name}[${ci}]: snapshot item seq ${JSON.stringify(it.seq)}`);
        assert.ok(j.seq !== null && cmpSeq(it.seq, j.seq) <= 0,
          `${name}[${ci}]: snapshot (seq ${j.seq}) holds item ${it.seq} beyond its position`);
        assert.ok(topicMatch(topics, it.topic), `${name}[${ci}]: snapshot item of topic ${it.topic}`);
        if (bySeq.has(it.seq)) {
          const e = expectedFromEntry(log[bySeq.get(it.seq)]);
          assert.ok(e.type === 'item' && e.topic === it.topic && (e.id === undefined || e.id === it.id) && e.headline === it.headline,
            `${name}[${ci}]: snapshot item ${JSON.stringify(it)} differs from its log entry ${fmt(e)}`);
        }
      }
    }
  });
  for (const seg of segments) {
    const got = seg.delivered;
    for (const d of got) {
      assert.ok(SEQ_RE.test(d.seq ?? ''), `${name}: seq ${JSON.stringify(d.seq)} is not a stream entry id (${fmt(d)})`);
    }
    if (got.length === 0) continue;
    const last = got[got.length - 1].seq;
    const expected = log
      .filter((e) => topicMatch(topics, e.topic))
      .filter((e) => (seg.lower === null || cmpSeq(e.seq, seg.lower) > 0) && cmpSeq(e.seq, last) <= 0)
      .map(expectedFromEntry);
    const problems = [];
    const gotSeqs = got.map((d) => d.seq);
    const seen = new Map();
    gotSeqs.forEach((s, i) => { if (seen.has(s)) problems.push(`duplicate seq ${s} (positions ${seen.get(s)} and ${i})`); else seen.set(s, i); });
    for (let i = 1; i < gotSeqs.length; i++) {
      if (SEQ_RE.test(gotSeqs[i]) && SEQ_RE.test(gotSeqs[i - 1]) && cmpSeq(gotSeqs[i], gotSeqs[i - 1]) <= 0) {
        problems.push(`out of order: ${gotSeqs[i - 1]} then ${gotSeqs[i]} (position ${i})`);
      }
    }
    const expSeqs = new Set(expected.map((e) => e.seq));
    const missing = expected.filter((e) => !seen.has(e.seq)).map((e) => e.seq);
    const extra = gotSeqs.filter((s) => !expSeqs.has(s));
    if (missing.length) problems.push(`missing (in the log, never delivered): ${missing.length} seq(s): ${missing.slice(0, 10).join(' ')}${missing.length > 10 ? ' …' : ''}`);
    if (extra.length) {
      problems.push(`delivered but not in the log range (${seg.lower ?? '-'} .. ${last}]: ${extra.slice(0, 10).map((s) => `${s}${bySeq.has(s) ? ' (in log, outside range/topics)' : ' (not in log)'}`).join(' ')}`);
    }
    // Element-wise comparison: type, seq, topic, id, headline.
    const n = Math.max(expected.length, got.length);
    for (let i = 0; i < n && problems.length < 12; i++) {
      const e = expected[i];
      const d = got[i];
      const same = e && d && e.type === d.type && e.seq === d.seq && e.topic === d.topic
        && (e.id === undefined || e.id === d.id) && (e.headline === undefined || e.headline === d.headline);
      if (!same) {
        problems.push(`first divergence at position ${i}: expected ${fmt(e)}, got ${fmt(d)}`);
        break;
      }
    }
    if (problems.length) {
      assert.fail(`${name}: segment starting after ${seg.lower ?? '(log start)'} (${seg.why}), ${got.length} delivered vs ${expected.length} in the log:\n  `
        + problems.join('\n  ')
        + `\n  delivered seqs: ${gotSeqs.slice(0, 8).join(' ')}${gotSeqs.length > 8 ? ` … ${gotSeqs.slice(-4).join(' ')}` : ''}`
        + `\n  log seqs: ${log.length} entries ${log.slice(0, 3).map((e) => e.seq).join(' ')} … ${log.slice(-3).map((e) => e.seq).join(' ')}`
        + ctx());
    }
    for (const d of got) {
      const j = JSON.parse(d.raw.toString('utf8'));
      if (d.type === 'item') assert.equal(j.item.seq, d.seq);
    }
  }
  return { segments, resyncs };
}

/** Every frame for the same seq has the same bytes, across all streams/connections/instances. */
export function assertSameBytes(streams) {
  const first = new Map();
  let compared = 0;
  for (const s of streams) {
    for (const { client, via } of s.connections) {
      for (const m of client.messages) {
        const j = m.json;
        if (!j || (j.type !== 'item' && j.type !== 'retract')) continue;
        const seq = j.type === 'item' ? j.item.seq : j.seq;
        const prev = first.get(seq);
        if (!prev) { first.set(seq, { raw: m.raw, where: `${s.name} ${via}` }); continue; }
        compared++;
        assert.ok(prev.raw.equals(m.raw),
          `different bytes for seq ${seq}:\n  ${prev.where}: ${prev.raw.toString('utf8')}\n  ${s.name} ${via}: ${m.raw.toString('utf8')}`);
      }
    }
  }
  return compared;
}

// ---------------------------------------------------------------------------
// The publisher

export class SeqPublisher extends PacedPublisher {
  /**
   * port: Redis port. opts: { channel = 'ticker:seq', intervalMs = 50,
   * timeoutMs = 1000 (per attempt), first = 1, fcall = false }.
   */
  constructor(port, { channel = 'ticker:seq', fcall = false, ...opts } = {}) {
    super(opts);
    this.port = port;
    this.channel = channel;
    // fcall: publish durably with FCALL tickerd_record (prefix and topic from
    // the channel); an attempt answered with an entry id counts as received.
    this.fcall = fcall;
  }

  idOf(n) { return seqId(n); }

  async _send(a) {
    let cmd = ['PUBLISH', this.channel, seqPayload(a.n)];
    if (this.fcall) {
      const i = this.channel.lastIndexOf(':');
      const prefix = this.channel.slice(0, i);
      cmd = ['FCALL', 'tickerd_record', '2', `${prefix}:log`, `${prefix}:seen`, this.channel.slice(i + 1), seqPayload(a.n)];
    }
    const [r] = await redisCommands(this.port, [cmd], { timeoutMs: this.timeoutMs });
    if (r instanceof RedisError) a.error = r.message;
    else if (this.fcall) { a.seq = r.toString('utf8'); a.receivers = 1; }
    else a.receivers = r;
    a.acked = typeof a.receivers === 'number' && a.receivers >= 1;
  }

  summary() {
    const ok = this.attempts.filter((a) => typeof a.receivers === 'number');
    return `${this.attempts.length} attempts, ${ok.length} answered (${ok.filter((a) => a.receivers >= 1).length} with receivers), `
      + `${this.attempts.length - ok.length} failed`;
  }
}

/**
 * End a fault scenario: stop the publisher, require that every publish that
 * reached a subscriber outside the fault window (done before `faultAt` -
 * margin, or started after `recoveredAt`) is in the log, that at least
 * `minTail` were published after recovery, wait until every stream has
 * caught up with the log's last entry of its topics, then check each stream
 * and the byte identity across streams. priorLog: entries of a dataset Redis
 * has since lost (epoch priorEpoch), prepended to the ground truth of the
 * streams that began in it. Returns { log (the current one), results, tail }.
 */
export async function settleAndCheck({
  port, prefix = 'ticker', pub, streams, faultAt, recoveredAt, minTail = 5, allowResync = false,
  live = streams, timeoutMs = 8000, priorLog = [], priorEpoch,
}) {
  const pubs = Array.isArray(pub) ? pub : [pub];
  for (const p of pubs) await p.stop();
  const summary = () => pubs.map((p) => p.summary()).join('; ');
  const before = faultAt !== undefined ? pubs.flatMap((p) => p.received(0, faultAt - 500)) : [];
  const tail = pubs.flatMap((p) => (recoveredAt !== undefined ? p.received(recoveredAt) : p.received(0)));
  assert.ok(tail.length >= minTail,
    `only ${tail.length} publish(es) reached tickerd after recovery (need ${minTail}); publisher: ${summary()}`);
  const must = [...before, ...tail];
  let log;
  let missing = [];
  try {
    await waitUntil(async () => {
      log = await readLog(port, prefix);
      const ids = new Set(log.map(entryItemId));
      missing = must.filter((a) => !ids.has(a.id));
      return missing.length === 0;
    }, timeoutMs, () => `all publishes that reached a subscriber to be in ${prefix}:log`);
  } catch (e) {
    e.message += `: ${missing.length} missing, e.g. ${missing.slice(0, 8).map((a) => `${a.id} (published ${new Date(a.at).toISOString()}, receivers ${a.receivers})`).join(', ')}; publisher: ${summary()}; log has ${log ? log.length : '?'} entries`;
    throw e;
  }
  // Nothing recorded twice (each number published once; dedupe across instances).
  const counts = new Map();
  for (const e of log) {
    const id = entryItemId(e);
    if (id) counts.set(id, (counts.get(id) || 0) + 1);
  }
  const dups = [...counts].filter(([, c]) => c > 1);
  assert.deepEqual(dups, [], `payloads recorded more than once in ${prefix}:log`);

  // Ground truth: for a stream that began in an earlier dataset (a Redis that
  // has lost its data since; its first hello carried priorEpoch), that
  // dataset's entries come first.
  const current = log;
  const truth = (s) => (priorEpoch !== undefined && s.connections[0].client.messages[0].json.epoch === priorEpoch
    ? [...priorLog, ...current] : current);
  for (const s of live) {
    const hello = s.connections[0].client.messages[0].json;
    const topics = hello.topics && hello.topics.length ? hello.topics : s.topics;
    const mine = current.filter((e) => topicMatch(topics, e.topic));
    if (!mine.length) continue;
    const target = mine[mine.length - 1].seq;
    await waitUntil(() => {
      const last = s.lastDelivered();
      return last && SEQ_RE.test(last) && cmpSeq(last, target) >= 0;
    }, timeoutMs, () => `${s.name} to receive up to the log's last entry ${target} (it is at ${s.lastDelivered()})\n${s.describe()}`);
  }
  await sleep(300); // anything arriving late (a duplicate) is caught too
  const results = new Map();
  for (const s of streams) results.set(s.name, checkStream(s, truth(s), { allowResync }));
  assertSameBytes(streams);
  return { log: current, results, tail };
}

// ---------------------------------------------------------------------------
// Fault injection helpers

/**
 * The "ip:port" client addresses (as Redis's CLIENT LIST shows them) of the
 * TCP connections process `pid` holds to 127.0.0.1:redisPort (Linux /proc).
 */
export function redisConnectionsOf(pid, redisPort) {
  const inodes = new Set();
  for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(fs.readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) inodes.add(m[1]);
    } catch { /* fd closed meanwhile */ }
  }
  const addrs = [];
  for (const line of fs.readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 10) continue;
    const [, local, remote, st] = f;
    const inode = f[9];
    if (st !== '01' || !inodes.has(inode)) continue; // 01 = ESTABLISHED
    const rport = parseInt(remote.split(':')[1], 16);
    if (rport !== redisPort) continue;
    const [lip, lport] = local.split(':');
    const ip = [3, 2, 1, 0].map((i) => parseInt(lip.slice(i * 2, i * 2 + 2), 16)).join('.');
    addrs.push(`${ip}:${parseInt(lport, 16)}`);
  }
  return addrs;
}

/** CLIENT KILL ADDR each of pid's connections to Redis; resolves with how many were killed. */
export async function killRedisConnectionsOf(pid, redisPort) {
  let n = 0;
  for (const addr of redisConnectionsOf(pid, redisPort)) {
    try {
      const r = await redisCall(redisPort, ['CLIENT', 'KILL', 'ADDR', addr], { timeoutMs: 2000 });
      if (typeof r === 'number') n += r; // CLIENT KILL ADDR <addr> (filter form) answers the count
    } catch { /* already gone */ }
  }
  return n;
}
