// A real Redis Cluster for the end-to-end tests (issue 13, high availability):
// six redis-server processes with `cluster-enabled yes` on spare loopback
// ports (three masters, one replica each), joined with
// `redis-cli --cluster create ... --cluster-replicas 1 --cluster-yes`;
// helpers to find the node owning the slot of `{ticker}`, kill it with
// SIGKILL, wait for its replica's promotion and restart it; and two
// publishers that keep what Redis acknowledged: FCALL tickerd_record on the
// slot owner (following MOVED and re-reading CLUSTER SLOTS itself) and plain
// PUBLISH on one fixed node.
//
// Not part of the shared harness (lib/*.mjs is re-exported by harness.mjs;
// this file is imported directly by the cluster tests).

import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { REDIS_BIN } from './config.mjs';
import { freePort, makeTmpDir, removeTmpDir, spawnTracked, stopTracked } from './processes.mjs';
import { redisCommands, RedisError } from './redis.mjs';
import { PacedPublisher } from './publisher.mjs';

const REDIS_CLI = process.env.REDIS_CLI_BIN || 'redis-cli';

/** One command on a fresh connection: the reply, a RedisError reply returned (not thrown). */
export async function nodeCall(port, args, { timeoutMs = 2000 } = {}) {
  const [r] = await redisCommands(port, [args], { timeoutMs });
  return r;
}

/** Like nodeCall, but a Redis error reply rejects. */
async function nodeCallOk(port, args, opts) {
  const r = await nodeCall(port, args, opts);
  if (r instanceof RedisError) throw new RedisError(`${args.join(' ')} on ${port}: ${r.message}`);
  return r;
}

const str = (b) => (Buffer.isBuffer(b) ? b.toString('utf8') : String(b));

/** CLUSTER SLOTS of one node as [{ start, end, master: port, replicas: [port] }], sorted by start. */
export async function clusterSlots(port, opts) {
  const r = await nodeCallOk(port, ['CLUSTER', 'SLOTS'], opts);
  return r.map((row) => ({
    start: row[0],
    end: row[1],
    master: row[2][1],
    replicas: row.slice(3).map((n) => n[1]).sort((a, b) => a - b),
  })).sort((a, b) => a.start - b.start);
}

/** The range of a CLUSTER SLOTS answer holding `slot` (undefined if none). */
export function rangeOf(slots, slot) {
  return slots.find((s) => s.start <= slot && slot <= s.end);
}

/** CLUSTER INFO as an object of strings. */
export async function clusterInfo(port, opts) {
  const text = str(await nodeCallOk(port, ['CLUSTER', 'INFO'], opts));
  const o = {};
  for (const line of text.split(/\r?\n/)) {
    const i = line.indexOf(':');
    if (i > 0) o[line.slice(0, i)] = line.slice(i + 1);
  }
  return o;
}

/** INFO <section> as an object of strings. */
export async function infoOf(port, section, opts) {
  const text = str(await nodeCallOk(port, ['INFO', section], opts));
  const o = {};
  for (const line of text.split(/\r?\n/)) {
    const i = line.indexOf(':');
    if (i > 0 && !line.startsWith('#')) o[line.slice(0, i)] = line.slice(i + 1);
  }
  return o;
}

function runCli(args, { timeoutMs = 20_000 } = {}) {
  return new Promise((resolve, reject) => {
    execFile(REDIS_CLI, args, { timeout: timeoutMs, encoding: 'utf8' }, (err, stdout, stderr) => {
      if (err && typeof err.code !== 'number') { reject(new Error(`redis-cli ${args.join(' ')}: ${err.message}\n${stdout}${stderr}`)); return; }
      resolve({ code: err ? err.code : 0, stdout, stderr });
    });
  });
}

/** One cluster node: a redis-server restartable on the same port and folder (its nodes.conf). */
function makeNode(port, busPort, dir, { nodeTimeoutMs }) {
  const args = [
    '--bind', '127.0.0.1',
    '--port', String(port),
    '--cluster-enabled', 'yes',
    '--cluster-port', String(busPort),
    '--cluster-config-file', path.join(dir, 'nodes.conf'),
    '--cluster-node-timeout', String(nodeTimeoutMs),
    // A replica may always take over, however long its link was down.
    '--cluster-replica-validity-factor', '0',
    // Replicas sync at once (the default waits 5 s for more of them).
    '--repl-diskless-sync-delay', '0',
    // CLUSTER SLOTS leaves out a replica at replication offset 0, and the
    // offset moves without writes only with the master's pings (10 s apart).
    '--repl-ping-replica-period', '1',
    '--dir', dir,
    '--save', '',
    '--appendonly', 'no',
    '--daemonize', 'no',
    '--logfile', '',
  ];
  let proc = null;
  const logs = [];
  const node = {
    port,
    busPort,
    dir,
    addr: `127.0.0.1:${port}`,
    async start() {
      if (proc && proc.isRunning()) return;
      if (proc) logs.push(proc.stdout(), proc.stderr());
      proc = spawnTracked(REDIS_BIN, args, { cwd: dir });
      const deadline = Date.now() + 10_000;
      for (;;) {
        if (!proc.isRunning()) {
          const res = await proc.exited;
          throw new Error(`cluster node ${port} exited early (${JSON.stringify(res)}):\n${proc.stdout()}${proc.stderr()}`);
        }
        try {
          const r = await nodeCall(port, ['PING'], { timeoutMs: 1000 });
          if (!(r instanceof RedisError)) return;
        } catch { /* not yet */ }
        if (Date.now() > deadline) throw new Error(`cluster node ${port} did not answer PING within 10 s`);
        await sleep(25);
      }
    },
    /** SIGKILL (or another signal); resolves once the process is gone, with the time it was sent. */
    async kill(signal = 'SIGKILL') {
      if (!proc || !proc.isRunning()) throw new Error(`cluster node ${port} is not running`);
      const at = Date.now();
      process.kill(proc.child.pid, signal);
      await proc.exited;
      return at;
    },
    /** Send a signal without waiting (SIGSTOP, SIGCONT). */
    signal(sig) {
      if (proc && proc.isRunning()) process.kill(proc.child.pid, sig);
    },
    async stop() {
      if (proc) {
        if (proc.isRunning()) process.kill(proc.child.pid, 'SIGCONT'); // a paused node must see the SIGTERM
        await stopTracked(proc, 'SIGTERM', 3000);
      }
    },
    isRunning: () => !!proc && proc.isRunning(),
    pid: () => (proc ? proc.child.pid : null),
    log: () => logs.join('') + (proc ? proc.stdout() + proc.stderr() : ''),
  };
  return node;
}

/**
 * Start a cluster of masters * (1 + replicas) nodes and wait until it is
 * whole (cluster_state:ok everywhere, every node agreeing on who serves
 * what, every replica's link up). With h (a scenario), it is disposed of at
 * the test's teardown, after tickerd. Returns the cluster handle (see below).
 */
export async function startCluster(h, { masters = 3, replicas = 1, nodeTimeoutMs = 1000 } = {}) {
  const count = masters * (1 + replicas);
  const root = makeTmpDir('tickerd-e2e-cluster-');
  // Spare ports for clients and for the cluster bus (cluster-port: the
  // default port + 10000 may not be free, or may not exist).
  const ports = new Set();
  while (ports.size < count * 2) ports.add(await freePort());
  const list = [...ports];
  const nodes = [];
  for (let i = 0; i < count; i++) {
    const dir = path.join(root, `node-${i}`);
    fs.mkdirSync(dir);
    nodes.push(makeNode(list[i], list[count + i], dir, { nodeTimeoutMs }));
  }
  const cluster = makeCluster(nodes, root, { masters, replicas });
  if (h) h.redises.push(cluster); // disposed after the test's tickerds
  try {
    const t0 = Date.now();
    await Promise.all(nodes.map((n) => n.start()));
    const t1 = Date.now();
    const created = await runCli(['--cluster', 'create', ...nodes.map((n) => n.addr),
      '--cluster-replicas', String(replicas), '--cluster-yes'], { timeoutMs: 30_000 });
    if (created.code !== 0 || !/All 16384 slots covered/.test(created.stdout)) {
      throw new Error(`redis-cli --cluster create failed (exit ${created.code}):\n${created.stdout}${created.stderr}`);
    }
    const t2 = Date.now();
    await cluster.waitHealthy({ timeoutMs: 20_000 });
    cluster.timings = { startMs: t1 - t0, createMs: t2 - t1, wholeMs: Date.now() - t2 };
    cluster.createOutput = created.stdout;
  } catch (e) {
    if (!h) await cluster.dispose();
    e.message += `\n${cluster.logs(40)}`;
    throw e;
  }
  return cluster;
}

function makeCluster(nodes, root, { masters, replicas }) {
  const byPort = new Map(nodes.map((n) => [n.port, n]));
  const c = {
    nodes,
    root,
    node: (port) => {
      const n = byPort.get(port);
      if (!n) throw new Error(`no cluster node on port ${port}`);
      return n;
    },
    live: () => nodes.filter((n) => n.isRunning()),

    /** `cluster://127.0.0.1:P1,...` of the given ports (default: the masters when created). */
    url(ports) {
      return `cluster://${ports.map((p) => `127.0.0.1:${p}`).join(',')}`;
    },

    /** CLUSTER SLOTS as seen by `via` (default: the first live node that answers). */
    async slots(via) {
      if (via !== undefined) return clusterSlots(via);
      let last;
      for (const n of c.live()) {
        try { return await clusterSlots(n.port, { timeoutMs: 1000 }); } catch (e) { last = e; }
      }
      throw last || new Error('no live cluster node');
    },

    /** CLUSTER KEYSLOT key, asked of a live node. */
    async keySlot(key) {
      let last;
      for (const n of c.live()) {
        try { return await nodeCallOk(n.port, ['CLUSTER', 'KEYSLOT', key], { timeoutMs: 1000 }); } catch (e) { last = e; }
      }
      throw last || new Error('no live cluster node');
    },

    /** { slot, master, replicas } of the node serving `key`'s slot (as `via` sees it). */
    async ownerOf(key = '{ticker}', via) {
      const slot = await c.keySlot(key);
      const r = rangeOf(await c.slots(via), slot);
      if (!r) throw new Error(`slot ${slot} is served by no node`);
      return { slot, master: r.master, replicas: r.replicas };
    },

    /** The master ports (from CLUSTER SLOTS), sorted. */
    async masters(via) {
      return [...new Set((await c.slots(via)).map((s) => s.master))].sort((a, b) => a - b);
    },

    /**
     * The state of the cluster now: { ok, why, slots } -- ok when every live
     * node says cluster_state:ok and gives the same CLUSTER SLOTS, covering
     * all 16384 slots, with `masters` masters of `wantReplicas` replicas each,
     * and every replica reports master_link_status:up.
     */
    async state({ wantMasters = masters, wantReplicas = replicas } = {}) {
      const live = c.live();
      let first = null;
      for (const n of live) {
        let info;
        let slots;
        try {
          info = await clusterInfo(n.port, { timeoutMs: 1000 });
          slots = await clusterSlots(n.port, { timeoutMs: 1000 });
        } catch (e) {
          return { ok: false, why: `${n.port}: ${e.message}` };
        }
        if (info.cluster_state !== 'ok') return { ok: false, why: `${n.port}: cluster_state:${info.cluster_state}` };
        const key = JSON.stringify(slots);
        if (first === null) first = { key, slots, port: n.port };
        else if (first.key !== key) return { ok: false, why: `${n.port} and ${first.port} disagree: ${key} vs ${first.key}` };
      }
      if (!first) return { ok: false, why: 'no live node' };
      const covered = first.slots.reduce((k, s) => k + s.end - s.start + 1, 0);
      if (covered !== 16384) return { ok: false, why: `${covered} slots covered` };
      const ms = new Map();
      for (const s of first.slots) ms.set(s.master, s.replicas);
      if (ms.size !== wantMasters) return { ok: false, why: `${ms.size} masters, want ${wantMasters}` };
      for (const [m, rs] of ms) {
        if (rs.length !== wantReplicas) return { ok: false, why: `master ${m} has ${rs.length} replicas (${rs.join(',')}), want ${wantReplicas}` };
        for (const r of rs) {
          let repl;
          try { repl = await infoOf(r, 'replication', { timeoutMs: 1000 }); } catch (e) { return { ok: false, why: `${r}: ${e.message}` }; }
          if (repl.role !== 'slave' || Number(repl.master_port) !== m || repl.master_link_status !== 'up') {
            return { ok: false, why: `replica ${r}: role ${repl.role}, master ${repl.master_port}, link ${repl.master_link_status}` };
          }
        }
      }
      return { ok: true, slots: first.slots };
    },

    /** Wait until state() is ok; resolves with its slots. */
    async waitHealthy({ timeoutMs = 20_000, ...want } = {}) {
      const deadline = Date.now() + timeoutMs;
      let s;
      for (;;) {
        s = await c.state(want);
        if (s.ok) return s.slots;
        if (Date.now() > deadline) throw new Error(`cluster not whole within ${timeoutMs} ms: ${s.why}`);
        await sleep(100);
      }
    },

    /**
     * After the master of `slot` (port `oldMaster`) failed: poll CLUSTER SLOTS
     * on every live node every 20 ms until one of them names another master for
     * the slot (firstAt), and until all of them do (allAt) and the new master
     * says ROLE master. Resolves { newMaster, firstAt, allAt }.
     */
    async waitPromotion(slot, oldMaster, { timeoutMs = 15_000 } = {}) {
      const deadline = Date.now() + timeoutMs;
      let firstAt = null;
      let newMaster = null;
      let seen = '';
      for (;;) {
        const views = await Promise.all(c.live().map(async (n) => {
          try {
            const r = rangeOf(await clusterSlots(n.port, { timeoutMs: 500 }), slot);
            return r ? r.master : null;
          } catch { return undefined; }
        }));
        const now = Date.now();
        seen = JSON.stringify(views);
        const moved = views.filter((v) => typeof v === 'number' && v !== oldMaster);
        if (moved.length && firstAt === null) { firstAt = now; newMaster = moved[0]; }
        if (firstAt !== null && views.every((v) => v === newMaster)) {
          const role = await nodeCall(newMaster, ['ROLE'], { timeoutMs: 500 }).catch(() => null);
          if (Array.isArray(role) && str(role[0]) === 'master') return { newMaster, firstAt, allAt: now };
        }
        if (now > deadline) throw new Error(`slot ${slot}: no promotion within ${timeoutMs} ms (old master ${oldMaster}; views ${seen})`);
        await sleep(20);
      }
    },

    /** The pub/sub clients (CLIENT LIST TYPE pubsub) of every live node: { port: [line] }. */
    async pubsubClients() {
      const out = {};
      for (const n of c.live()) {
        try {
          const t = str(await nodeCallOk(n.port, ['CLIENT', 'LIST', 'TYPE', 'pubsub'], { timeoutMs: 1000 }));
          out[n.port] = t.split('\n').filter((l) => l.trim());
        } catch { /* node down */ }
      }
      return out;
    },

    logs(lines = 20) {
      return nodes.map((n) => `--- cluster node ${n.port} (bus ${n.busPort}) ---\n${n.log().split('\n').slice(-lines).join('\n')}`).join('\n');
    },

    async dispose() {
      await Promise.all(nodes.map((n) => n.stop().catch(() => {})));
      removeTmpDir(root);
    },
  };
  return c;
}

// ---------------------------------------------------------------------------
// Publishers. Both have SeqPublisher's shape (checker.mjs): .attempts
// [{ n, id, at, done, port, seq?, acked, error? }], start(), stop(),
// received(t0, t1) (the acknowledged attempts), summary().

export function seqIdOf(prefix, n) { return `${prefix}-${String(n).padStart(6, '0')}`; }

class BasePublisher extends PacedPublisher {
  constructor({ tag = 'n', ...opts } = {}) {
    super(opts);
    this.tag = tag;
  }

  idOf(n) { return seqIdOf(this.tag, n); }

  payload(n) { return JSON.stringify({ id: seqIdOf(this.tag, n), headline: `${this.tag} item ${n}` }); }

  summary() {
    const ok = this.attempts.filter((a) => a.acked).length;
    return `${this.constructor.name}: ${this.attempts.length} attempts, ${ok} acknowledged, ${this.attempts.length - ok} failed`
      + this.errorSummary();
  }
}

/**
 * FCALL tickerd_record 2 {ticker}:log {ticker}:seen <topic> <payload> on the
 * node that owns the slot: it follows MOVED at once (up to 3 times per
 * attempt) and, after a connection error, CLUSTERDOWN or TRYAGAIN, asks
 * CLUSTER SLOTS again before the next attempt. A numbered payload is never
 * sent twice; an attempt answered with an entry id is acknowledged (a.seq,
 * a.port: which node acknowledged it).
 */
export class ClusterFcallPublisher extends BasePublisher {
  constructor(cluster, { prefix = '{ticker}', topic = 'durable', ...opts } = {}) {
    super({ tag: 'f', ...opts });
    this.cluster = cluster;
    this.prefix = prefix;
    this.topic = topic;
    this.port = null;
    this.moved = 0;
  }

  async _owner() {
    const o = await this.cluster.ownerOf(this.prefix);
    this.port = o.master;
  }

  async _send(a) {
    if (this.port === null) await this._owner();
    const cmd = ['FCALL', 'tickerd_record', '2', `${this.prefix}:log`, `${this.prefix}:seen`, this.topic, this.payload(a.n)];
    for (let hop = 0; ; hop++) {
      a.port = this.port;
      let r;
      try {
        r = await nodeCall(this.port, cmd, { timeoutMs: this.timeoutMs });
      } catch (e) {
        this.port = null; // ask again next time
        throw e;
      }
      if (r instanceof RedisError) {
        const m = /^MOVED \d+ [^:]+:(\d+)/.exec(r.message);
        if (m && hop < 3) { this.port = Number(m[1]); this.moved++; continue; }
        if (/^(CLUSTERDOWN|TRYAGAIN)/.test(r.message)) this.port = null;
        throw r;
      }
      a.seq = str(r);
      a.acked = true;
      return;
    }
  }
}

/** PUBLISH <channel> <payload> on one fixed node; acknowledged when it answers a count. */
export class ClusterPublishPublisher extends BasePublisher {
  constructor(port, { channel = 'ticker:world', ...opts } = {}) {
    super({ tag: 'p', ...opts });
    this.port = port;
    this.channel = channel;
  }

  async _send(a) {
    a.port = this.port;
    const r = await nodeCall(this.port, ['PUBLISH', this.channel, this.payload(a.n)], { timeoutMs: this.timeoutMs });
    if (r instanceof RedisError) throw r;
    a.receivers = r; // on this node only: pub/sub messages cross the cluster bus
    a.acked = true;
  }
}

/** XRANGE <prefix>:log - + on `port`, in checker.mjs readLog()'s shape. */
export async function readClusterLog(port, prefix = '{ticker}', { timeoutMs = 3000 } = {}) {
  const r = await nodeCallOk(port, ['XRANGE', `${prefix}:log`, '-', '+'], { timeoutMs });
  return r.map(([id, kv]) => {
    const fields = {};
    for (let i = 0; i + 1 < kv.length; i += 2) fields[kv[i].toString('utf8')] = kv[i + 1];
    return { seq: str(id), topic: fields.topic ? str(fields.topic) : undefined, payload: fields.payload, fields };
  });
}

/** Library names FUNCTION LIST reports on `port`. */
export async function functionLibraries(port) {
  const r = await nodeCallOk(port, ['FUNCTION', 'LIST'], { timeoutMs: 2000 });
  const names = [];
  for (const lib of r) {
    for (let i = 0; i + 1 < lib.length; i += 2) if (str(lib[i]) === 'library_name') names.push(str(lib[i + 1]));
  }
  return names;
}
