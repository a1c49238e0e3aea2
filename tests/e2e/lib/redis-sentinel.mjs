// Redis Sentinel for the e2e tests (issue 13): one master, one replica and
// three sentinels, real redis-server processes on spare 127.0.0.1 ports in a
// temp folder, torn down with the scenario (h.defer) and, as a last resort,
// by the harness's process registry (spawnTracked).
//
//   const g = await startSentinelGroup(h, { name: 'ha1', minReplicasToWrite: 1 });
//   g.url                      sentinel://127.0.0.1:S1,127.0.0.1:S2,127.0.0.1:S3/ha1
//   await g.master()           '127.0.0.1:P' as the sentinels say now (asked in turn)
//   g.nodes[0].kill9()         kill -9; .freeze() SIGSTOP; .thaw() SIGCONT
//   await g.nodes[0].restartAsReplicaOf(addr)
//   await g.waitSwitch({ after, to })   a +switch-master seen on a sentinel's pub/sub
//
// SentinelPublisher records numbered items (FCALL tickerd_record, or plain
// PUBLISH ticker:<topic>) against whichever node the sentinels say is master,
// asking them before every attempt, and keeps what was acknowledged, with the
// shape of checker.mjs's SeqPublisher (attempts, received(), summary()).
// What the scenarios then check is in ha-checks.mjs.

import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import crypto from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { REDIS_BIN } from './config.mjs';
import { freePort, makeTmpDir, removeTmpDir, spawnTracked, stopTracked } from './processes.mjs';
import { encodeCommand, redisCommands, RedisError } from './redis.mjs';
import { PacedPublisher } from './publisher.mjs';

const REPO_LUA = new URL('../../../deploy/redis/tickerd.lua', import.meta.url);

// ---------------------------------------------------------------------------
// A minimal streaming RESP2 reader for subscriber connections (the harness's
// parser is private to redis.mjs).

function parseOne(buf, off) {
  const eol = buf.indexOf('\r\n', off);
  if (eol < 0) return null;
  const type = String.fromCharCode(buf[off]);
  const line = buf.toString('utf8', off + 1, eol);
  const after = eol + 2;
  if (type === '+') return { value: line, next: after };
  if (type === '-') return { value: new RedisError(line), next: after };
  if (type === ':') return { value: Number(line), next: after };
  if (type === '$') {
    const n = Number(line);
    if (n < 0) return { value: null, next: after };
    if (buf.length < after + n + 2) return null;
    return { value: buf.toString('utf8', after, after + n), next: after + n + 2 };
  }
  if (type === '*') {
    const n = Number(line);
    if (n < 0) return { value: null, next: after };
    const arr = [];
    let pos = after;
    for (let i = 0; i < n; i++) {
      const r = parseOne(buf, pos);
      if (!r) return null;
      arr.push(r.value);
      pos = r.next;
    }
    return { value: arr, next: pos };
  }
  throw new Error(`bad RESP: ${JSON.stringify(buf.toString('latin1', off, off + 40))}`);
}

/**
 * SUBSCRIBE to channels on 127.0.0.1:port; onMessage(channel, text, at) for
 * each message. Returns { ready (subscribed), close(), closed }.
 */
export function subscribe(port, channels, onMessage) {
  const sock = net.connect({ host: '127.0.0.1', port });
  let buf = Buffer.alloc(0);
  let acks = 0;
  let readyResolve;
  let readyReject;
  const ready = new Promise((res, rej) => { readyResolve = res; readyReject = rej; });
  ready.catch(() => {});
  const closed = new Promise((res) => sock.on('close', res));
  sock.on('connect', () => sock.write(encodeCommand(['SUBSCRIBE', ...channels])));
  sock.on('error', (e) => readyReject(e));
  sock.on('data', (d) => {
    const at = Date.now();
    buf = Buffer.concat([buf, d]);
    for (;;) {
      const r = parseOne(buf, 0);
      if (!r) break;
      buf = buf.subarray(r.next);
      const v = r.value;
      if (Array.isArray(v) && v[0] === 'subscribe') {
        if (++acks === channels.length) readyResolve();
      } else if (Array.isArray(v) && v[0] === 'message') {
        onMessage(v[1], v[2], at);
      }
    }
  });
  return { ready, closed, close: () => sock.destroy() };
}

// ---------------------------------------------------------------------------
// Processes

const addrOf = (port) => `127.0.0.1:${port}`;
const portOf = (addr) => Number(String(addr).split(':').pop());

/** One command on a fresh connection; rejects on an error reply. */
async function call(port, args, timeoutMs = 2000) {
  const [r] = await redisCommands(port, [args], { timeoutMs });
  if (r instanceof RedisError) throw new RedisError(`${args.join(' ')} on :${port}: ${r.message}`);
  return r;
}

async function waitPing(port, isRunning, what, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await redisCommands(port, [['PING']], { timeoutMs: 500 });
      return;
    } catch { /* not yet */ }
    if (!isRunning()) throw new Error(`${what} exited before answering PING`);
    if (Date.now() > deadline) throw new Error(`${what} did not answer PING within ${timeoutMs} ms`);
    await sleep(20);
  }
}

/** A redis-server process that can be killed, frozen and started again. */
class Proc {
  constructor(kind, port, dir, argsFor) {
    this.kind = kind;
    this.port = port;
    this.addr = addrOf(port);
    this.dir = dir;
    this.argsFor = argsFor; // (opts) -> argv
    this.proc = null;
    this.logs = [];
    this.frozen = false;
  }

  async start(opts = {}) {
    if (this.proc && this.proc.isRunning()) throw new Error(`${this.kind} ${this.addr} is already running`);
    if (this.proc) this.logs.push(this.proc.stdout(), this.proc.stderr());
    this.proc = spawnTracked(REDIS_BIN, this.argsFor(opts), { cwd: this.dir });
    this.frozen = false;
    try {
      await waitPing(this.port, () => this.proc.isRunning(), `${this.kind} ${this.addr}`);
    } catch (e) {
      e.message += `\n${this.log()}`;
      throw e;
    }
    return this;
  }

  get pid() { return this.proc ? this.proc.child.pid : null; }
  isRunning() { return !!this.proc && this.proc.isRunning(); }

  /** kill -9; resolves once the process is gone. */
  async kill9() {
    if (!this.isRunning()) return;
    const p = this.proc;
    process.kill(p.child.pid, 'SIGKILL');
    await p.exited;
    this.frozen = false;
  }

  freeze() { if (this.isRunning()) { process.kill(this.pid, 'SIGSTOP'); this.frozen = true; } }
  thaw() { if (this.isRunning()) { process.kill(this.pid, 'SIGCONT'); this.frozen = false; } }

  call(args, timeoutMs) { return call(this.port, args, timeoutMs); }

  async stop() {
    if (!this.proc) return;
    if (this.isRunning()) { try { process.kill(this.pid, 'SIGCONT'); } catch { /* gone */ } }
    await stopTracked(this.proc, 'SIGKILL', 1000);
  }

  log() {
    return this.logs.join('') + (this.proc ? this.proc.stdout() + this.proc.stderr() : '');
  }
}

/** A data node (master or replica). */
class Node extends Proc {
  /** Start again (after kill9) as a replica of addr ('127.0.0.1:P'); waits for the link to be up. */
  async restartAsReplicaOf(addr, { timeoutMs = 10_000 } = {}) {
    await this.kill9();
    await this.start({ replicaOf: addr });
    await this.waitLinkUp(timeoutMs);
  }

  async role() {
    const r = await this.call(['ROLE']);
    return r[0].toString();
  }

  async waitLinkUp(timeoutMs = 10_000) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const info = String(await this.call(['INFO', 'replication']).catch(() => ''));
      if (/master_link_status:up/.test(info)) return;
      if (Date.now() > deadline) throw new Error(`replica ${this.addr}: link to its master not up within ${timeoutMs} ms:\n${info}`);
      await sleep(20);
    }
  }
}

class Sentinel extends Proc {}

/**
 * Start a master, a replica and three sentinels monitoring them as `name`.
 * opts: { name, minReplicasToWrite (on both nodes), downAfterMs = 1000,
 *         failoverTimeoutMs = 5000, nodeArgs = [] }
 * Registered for teardown through h.defer (and the harness registry).
 */
export async function startSentinelGroup(h, opts = {}) {
  const name = opts.name || `tk${crypto.randomBytes(3).toString('hex')}`;
  const downAfterMs = opts.downAfterMs ?? 1000;
  const failoverTimeoutMs = opts.failoverTimeoutMs ?? 5000;
  const root = makeTmpDir('tickerd-e2e-sentinel-');
  const nodes = [];
  const sentinels = [];
  const subs = [];
  const group = { name, root, nodes, sentinels };
  let disposed = false;
  group.dispose = async () => {
    if (disposed) return;
    disposed = true;
    for (const s of subs) s.close();
    await Promise.all([...sentinels, ...nodes].map((p) => p.stop().catch(() => {})));
    removeTmpDir(root);
  };
  h.defer(() => group.dispose());

  const nodeArgs = (port, dir) => ({ replicaOf } = {}) => [
    '--bind', '127.0.0.1', '--port', String(port), '--dir', dir, '--daemonize', 'no',
    '--save', '', '--appendonly', 'no',
    '--repl-diskless-sync', 'yes', '--repl-diskless-sync-delay', '0',
    ...(opts.minReplicasToWrite ? ['--min-replicas-to-write', String(opts.minReplicasToWrite), '--min-replicas-max-lag', '10'] : []),
    ...(replicaOf ? ['--replicaof', '127.0.0.1', String(portOf(replicaOf))] : []),
    ...(opts.nodeArgs || []),
  ];
  for (let i = 0; i < 2; i++) {
    const port = await freePort();
    const dir = path.join(root, `node${i}`);
    fs.mkdirSync(dir);
    nodes.push(new Node(i === 0 ? 'master' : 'replica', port, dir, nodeArgs(port, dir)));
  }
  const [m, r] = nodes;
  await m.start();
  await r.start({ replicaOf: m.addr });
  await r.waitLinkUp();

  // Sentinels that already know each other and the replica (sentinel myid,
  // known-sentinel, known-replica): no discovery wait.
  const ids = [0, 1, 2].map(() => crypto.randomBytes(20).toString('hex'));
  const sports = [];
  for (let i = 0; i < 3; i++) sports.push(await freePort());
  for (let i = 0; i < 3; i++) {
    const dir = path.join(root, `sentinel${i}`);
    fs.mkdirSync(dir);
    const conf = path.join(dir, 'sentinel.conf');
    const lines = [
      `port ${sports[i]}`, 'bind 127.0.0.1', 'daemonize no', `dir ${dir}`, 'logfile ""',
      `sentinel myid ${ids[i]}`,
      `sentinel monitor ${name} 127.0.0.1 ${m.port} 2`,
      `sentinel down-after-milliseconds ${name} ${downAfterMs}`,
      `sentinel failover-timeout ${name} ${failoverTimeoutMs}`,
      `sentinel parallel-syncs ${name} 1`,
      `sentinel known-replica ${name} 127.0.0.1 ${r.port}`,
      ...[0, 1, 2].filter((k) => k !== i).map((k) => `sentinel known-sentinel ${name} 127.0.0.1 ${sports[k]} ${ids[k]}`),
    ];
    fs.writeFileSync(conf, lines.join('\n') + '\n');
    sentinels.push(new Sentinel(`sentinel${i}`, sports[i], dir, () => [conf, '--sentinel']));
  }
  await Promise.all(sentinels.map((s) => s.start()));

  group.url = `sentinel://${sentinels.map((s) => s.addr).join(',')}/${name}`;
  group.nodeAt = (addr) => nodes.find((n) => n.addr === addr);

  /** Every sentinel's answer to get-master-addr-by-name: [{ sentinel, addr | null, error? }]. */
  group.askAll = () => Promise.all(sentinels.map(async (s) => {
    try {
      const r = await call(s.port, ['SENTINEL', 'get-master-addr-by-name', name], 500);
      return { sentinel: s.addr, addr: r ? `${r[0]}:${r[1]}` : null };
    } catch (e) {
      return { sentinel: s.addr, addr: null, error: String(e.message || e) };
    }
  }));

  /** The master as the first sentinel that answers says (in turn, like a client library). */
  group.master = async ({ timeoutMs = 300 } = {}) => {
    const errors = [];
    for (const s of sentinels) {
      if (!s.isRunning() || s.frozen) continue;
      try {
        const r = await call(s.port, ['SENTINEL', 'get-master-addr-by-name', name], timeoutMs);
        if (r) return `${r[0]}:${r[1]}`;
      } catch (e) { errors.push(String(e.message || e)); }
    }
    throw new Error(`no sentinel answered get-master-addr-by-name ${name}: ${errors.join('; ')}`);
  };

  /** Wait until every running sentinel names `addr` as master. */
  group.waitAgreed = async (addr, timeoutMs = 10_000) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const all = (await group.askAll()).filter((a, i) => sentinels[i].isRunning());
      if (all.every((a) => a.addr === addr)) return;
      if (Date.now() > deadline) throw new Error(`sentinels do not all name ${addr} as master: ${JSON.stringify(all)}`);
      await sleep(50);
    }
  };

  /** SENTINEL MASTER <name> of one sentinel as an object. */
  group.masterState = async (s) => {
    const r = await call(s.port, ['SENTINEL', 'MASTER', name]);
    const o = {};
    for (let i = 0; i + 1 < r.length; i += 2) o[r[i].toString()] = r[i + 1].toString();
    return o;
  };

  // Every +switch-master any sentinel publishes, with the time it arrived.
  group.switches = []; // { at, sentinel, from, to }
  group.events = []; // { at, sentinel, channel, text } of the other channels below
  for (const s of sentinels) {
    const sub = subscribe(s.port, ['+switch-master', '+sdown', '+odown', '+failover-state-select-slave', '+promoted-slave', '-failover-abort-no-good-slave', '+elected-leader', '+convert-to-slave', '+slave-reconf-sent', '+slave-reconf-done', '+failover-end'], (channel, text, at) => {
      if (channel === '+switch-master') {
        const f = text.split(' ');
        if (f[0] === name) group.switches.push({ at, sentinel: s.addr, from: `${f[1]}:${f[2]}`, to: `${f[3]}:${f[4]}` });
      } else {
        group.events.push({ at, sentinel: s.addr, channel, text });
      }
    });
    subs.push(sub);
    await sub.ready;
  }

  /** The first +switch-master at or after `after` (to `to` if given, seen on `sentinel` if given). */
  group.switchAfter = (after = 0, { to, sentinel } = {}) => group.switches.find((e) => e.at >= after
    && (to === undefined || e.to === to) && (sentinel === undefined || e.sentinel === sentinel)) || null;

  group.waitSwitch = async ({ after = 0, to, sentinel, timeoutMs = 20_000 } = {}) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const e = group.switchAfter(after, { to, sentinel });
      if (e) return e;
      if (Date.now() > deadline) {
        throw new Error(`no +switch-master${to ? ` to ${to}` : ''}${sentinel ? ` on ${sentinel}` : ''} within ${timeoutMs} ms; `
          + `switches ${JSON.stringify(group.switches)}; events ${JSON.stringify(group.events.slice(-12))}`);
      }
      await sleep(10);
    }
  };

  /** Ready: every sentinel sees the master, the replica and both other sentinels. */
  const deadline = Date.now() + 10_000;
  for (;;) {
    const states = await Promise.all(sentinels.map((s) => group.masterState(s).catch((e) => ({ error: String(e) }))));
    const ok = states.every((st) => st.ip === '127.0.0.1' && Number(st.port) === m.port && st.flags === 'master'
      && st['num-slaves'] === '1' && st['num-other-sentinels'] === '2');
    if (ok) {
      const reps = await Promise.all(sentinels.map((s) => call(s.port, ['SENTINEL', 'REPLICAS', name])));
      const repOk = reps.every((list) => list.length === 1 && (() => {
        const o = {};
        for (let i = 0; i + 1 < list[0].length; i += 2) o[list[0][i].toString()] = list[0][i + 1].toString();
        return o.flags === 'slave' && o['master-link-status'] === 'ok';
      })());
      // ... and the other sentinels are not (still) flagged s_down.
      const sens = await Promise.all(sentinels.map((s) => call(s.port, ['SENTINEL', 'SENTINELS', name])));
      const senOk = sens.every((list) => list.length === 2 && list.every((fields) => {
        const o = {};
        for (let i = 0; i + 1 < fields.length; i += 2) o[fields[i].toString()] = fields[i + 1].toString();
        return o.flags === 'sentinel';
      }));
      if (repOk && senOk) break;
    }
    if (Date.now() > deadline) throw new Error(`sentinels not ready within 10 s: ${JSON.stringify(states)}`);
    await sleep(50);
  }

  /**
   * With `replica` frozen (SIGSTOP), the master still sends it the
   * replication stream, and the kernel keeps what fits in the socket buffers
   * for it: all of it would reach the replica once it is thawed. Fill those
   * buffers with junk (SET <prefix>junk:<i> of 4 MiB) until the master
   * holds output for the replica itself (CLIENT LIST omem >= 1 MiB): what the
   * master takes from then on is not on the replica when the master dies.
   * Resolves { bytes, omem }.
   */
  group.stallReplication = async (master, { maxBytes = 256 * 1024 * 1024 } = {}) => {
    const chunk = Buffer.alloc(4 * 1024 * 1024, 'j');
    let bytes = 0;
    for (let i = 0; ; i++) {
      const list = String(await master.call(['CLIENT', 'LIST', 'TYPE', 'replica']));
      const omem = Math.max(0, ...list.split('\n').map((l) => Number((/ omem=(\d+)/.exec(l) || [])[1] || 0)));
      if (omem >= 1024 * 1024) return { bytes, omem };
      if (bytes >= maxBytes) throw new Error(`replication to the frozen replica not stalled after ${bytes} bytes of junk: ${list}`);
      await master.call(['SET', `junk:${i}`, chunk], 10_000);
      bytes += chunk.length;
    }
  };

  /** Load deploy/redis/tickerd.lua on the master (tickerd does it too when it connects). */
  group.loadFunctions = async () => {
    const lua = fs.readFileSync(REPO_LUA, 'utf8');
    await call(portOf(await group.master()), ['FUNCTION', 'LOAD', 'REPLACE', lua]);
  };

  /** Logs of every process (for failure messages). */
  group.logs = (tail = 40) => [...nodes, ...sentinels].map((p) =>
    `--- ${p.kind} ${p.addr} (pid ${p.pid}) ---\n${p.log().split('\n').slice(-tail).join('\n')}`).join('\n');

  return group;
}

// ---------------------------------------------------------------------------
// Which sentinel a process listens to

/**
 * The sentinels on which process `pid` has a pub/sub connection: each
 * sentinel's CLIENT LIST, matched against pid's TCP connections to its port
 * (/proc/<pid>/fd and /proc/net/tcp). Resolves [{ sentinel, client }].
 */
export async function subscribedSentinels(group, pid) {
  const out = [];
  for (const s of group.sentinels) {
    if (!s.isRunning() || s.frozen) continue;
    const mine = new Set(tcpConnections(pid, s.port));
    if (!mine.size) continue;
    const list = String(await s.call(['CLIENT', 'LIST']));
    for (const line of list.split('\n')) {
      const addr = /(?:^| )addr=(\S+)/.exec(line);
      const sub = /(?:^| )sub=(\d+)/.exec(line);
      const psub = /(?:^| )psub=(\d+)/.exec(line);
      if (addr && mine.has(addr[1]) && ((sub && Number(sub[1]) > 0) || (psub && Number(psub[1]) > 0))) {
        out.push({ sentinel: s, client: line.trim() });
      }
    }
  }
  return out;
}

/** "ip:port" local addresses of pid's established TCP connections to 127.0.0.1:port. */
export function tcpConnections(pid, port) {
  const inodes = new Set();
  for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(fs.readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) inodes.add(m[1]);
    } catch { /* closed meanwhile */ }
  }
  const addrs = [];
  for (const line of fs.readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 10 || f[3] !== '01' || !inodes.has(f[9])) continue;
    if (parseInt(f[2].split(':')[1], 16) !== port) continue;
    const [lip, lport] = f[1].split(':');
    const ip = [3, 2, 1, 0].map((i) => parseInt(lip.slice(i * 2, i * 2 + 2), 16)).join('.');
    addrs.push(`${ip}:${parseInt(lport, 16)}`);
  }
  return addrs;
}

// ---------------------------------------------------------------------------
// The publisher

export function itemId(topic, n) { return `${topic}-${String(n).padStart(6, '0')}`; }
export function itemPayload(topic, n) { return JSON.stringify({ id: itemId(topic, n), headline: `${topic} item ${n}` }); }

export class SentinelPublisher extends PacedPublisher {
  /**
   * group: a startSentinelGroup(); opts: { mode: 'fcall' | 'publish', topic,
   * prefix = 'ticker', intervalMs = 50, timeoutMs = 1000, first = 1 }.
   * fcall: FCALL tickerd_record 2 <prefix>:log <prefix>:seen <topic> <payload>,
   * acknowledged with an entry id (a.seq). publish: PUBLISH ticker:<topic>
   * <payload>, answered with the number of subscribers (a.receivers).
   * Each attempt asks the sentinels for the master first (a.node).
   */
  constructor(group, { mode = 'fcall', topic = mode === 'fcall' ? 'durable' : 'heard', prefix = 'ticker', ...opts } = {}) {
    super(opts);
    this.group = group;
    this.mode = mode;
    this.topic = topic;
    this.prefix = prefix;
  }

  idOf(n) { return itemId(this.topic, n); }

  async _send(a) {
    a.node = await this.group.master();
    const payload = itemPayload(this.topic, a.n);
    const cmd = this.mode === 'fcall'
      ? ['FCALL', 'tickerd_record', '2', `${this.prefix}:log`, `${this.prefix}:seen`, this.topic, payload]
      : ['PUBLISH', `ticker:${this.topic}`, payload];
    const [r] = await redisCommands(portOf(a.node), [cmd], { timeoutMs: this.timeoutMs });
    if (r instanceof RedisError) a.error = r.message;
    else if (this.mode === 'fcall') { a.seq = r.toString('utf8'); a.receivers = 1; } else a.receivers = r;
    a.acked = typeof a.receivers === 'number' && a.receivers >= 1;
  }

  summary() {
    const ok = this.attempts.filter((a) => typeof a.receivers === 'number');
    return `${this.mode} ${this.topic}: ${this.attempts.length} attempts, ${ok.filter((a) => a.receivers >= 1).length} acknowledged`
      + (this.mode === 'publish' ? `, ${ok.filter((a) => a.receivers === 0).length} with no subscriber` : '')
      + `, ${this.attempts.length - ok.length} failed${this.errorSummary()}`;
  }
}
