// tickerctl, the publishers' tool, against a real redis-server and tickerd:
// what it prints and exits with for each command, that what it publishes,
// corrects and kills reaches a WebSocket client with the seq it printed, that
// it refuses what tickerd refuses with tickerd's own words, that tail follows
// the log, and that check reads the agencies' ninjs items as tickerd does.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  scenario, publish, redisCall, redisCli, redisCommands, freePort, runTickerd, runTickerctl, startTickerctl, assertTickerctl,
  makeTmpDir, removeTmpDir, spawnTracked, stopTracked, REDIS_BIN,
  FIXTURES, fixturesAvailable, SEQ_RE, uniq, REPO, getMetrics,
} from './harness.mjs';
import { waitUntil } from './checker.mjs';

const T = { timeout: 30_000 };

/** A test whose tickerctl must exist (a failure, not a skip, without it). */
const ctlScenario = (fn) => scenario(async (t, h) => { assertTickerctl(); await fn(t, h); });

/** The exit status, stdout and stderr in one message, for assertions. */
const said = (r) => `exit ${r.code}; stdout ${JSON.stringify(r.stdout)}; stderr ${JSON.stringify(r.stderr)}`;

/** tickerctl --redis <redis> ...args; asserts it printed one seq and exited 0; resolves the seq. */
async function seqOf(redis, args, opts) {
  const r = await runTickerctl(['--redis', redis.url, ...args], opts);
  assert.equal(r.code, 0, said(r));
  assert.match(r.stdout, /^[0-9]+-[0-9]+\n$/, `stdout is the seq alone; ${said(r)}`);
  return r.stdout.trim();
}

/** The payload of log entry seq, as text. */
async function payloadOf(redis, seq) {
  const entries = await redisCall(redis.port, ['XRANGE', 'ticker:log', seq, seq]);
  assert.equal(entries.length, 1, `no log entry ${seq}`);
  const fields = entries[0][1].map(String);
  return fields[fields.indexOf('payload') + 1];
}

/** The reason tickerd logs when it rejects payload published on channel: "<reason>: <text>". */
async function tickerdReason(tickerd, redis, channel, payload) {
  const before = tickerd.log().length;
  assert.equal(await publish(redis.port, channel, payload), 1, 'tickerd is subscribed');
  const end = Date.now() + 3000;
  for (;;) {
    const line = tickerd.log().slice(before).split('\n').find((l) => l.includes(`payload on ${channel}: `));
    if (line) return line.slice(line.indexOf(`payload on ${channel}: `) + `payload on ${channel}: `.length);
    assert.ok(Date.now() < end, `tickerd logged no rejection of ${payload}:\n${tickerd.log().slice(before)}`);
    await sleep(20);
  }
}

test('--help and --version exit 0 on stdout; every command, option and exit status is in --help', T, ctlScenario(async () => {
  const help = await runTickerctl(['--help']);
  assert.equal(help.code, 0, said(help));
  assert.equal(help.stderr, '');
  for (const word of ['publish', 'correct', 'kill', 'tail', 'check', '--topic', '--priority', '--id', '--url',
    '--embargo', '--expires', '--label', '--topics', '--since', '--redis', '--prefix', 'TICKERD_REDIS',
    'TICKERD_PREFIX', '(default breaking)', '3 Redis could not be reached', '2 a bad command line']) {
    assert.ok(help.stdout.includes(word), `--help does not mention ${word}:\n${help.stdout}`);
  }
  for (const line of help.stdout.split('\n')) assert.ok(line.length <= 80, `--help line over 80 columns: ${line}`);
  assert.equal((await runTickerctl(['publish', '--help'])).stdout, help.stdout, '--help after a command');
  const version = await runTickerctl(['--version']);
  const tickerd = await runTickerd(['--version']);
  assert.equal(version.code, 0, said(version));
  assert.equal(version.stdout, tickerd.stdout.replace(/^tickerd/, 'tickerctl'), 'the same release as tickerd');
}));

test('tickerctl(1): groff renders it without a warning; it names every command, option, variable and exit status --help does', T, ctlScenario(async (t) => {
  const page = path.join(REPO, 'ctl', 'tickerctl.1');
  const g = spawnSync('groff', ['-ww', '-man', '-Tutf8', '-P-c', '-P-b', '-P-o', '-P-u', page],
    { encoding: 'utf8', env: { ...process.env, LANG: 'C.UTF-8' } });
  assert.equal(g.status, 0, g.stderr);
  assert.equal(g.stderr, '', `groff warns:\n${g.stderr}`);
  const text = g.stdout.replace(/[\u2010\u2212]/g, '-').replace(/-\n\s*/g, '-').replace(/\s+/g, ' ');
  const help = (await runTickerctl(['--help'])).stdout;
  const words = new Set([...help.matchAll(/--[a-z][a-z-]*[a-z]|TICKERD_[A-Z_]+|\b(?:publish|correct|kill|tail|check)\b/g)].map((m) => m[0]));
  assert.ok(words.size >= 20, [...words].join(' '));
  for (const w of words) assert.ok(text.includes(w), `tickerctl(1) does not mention ${w}`);
  for (const status of ['0 Done', '1 Refused', '2 A bad command line', '3 Redis could not be reached']) {
    assert.ok(text.includes(status), `tickerctl(1) has no exit status "${status}"`);
  }
  const m = spawnSync('man', ['--warnings=w', '-l', page], { encoding: 'utf8',
    env: { ...process.env, MANPAGER: 'cat', PAGER: 'cat', MANWIDTH: '80', LANG: 'C.UTF-8' } });
  if (m.error) t.diagnostic('man is not installed: man -l not tried');
  else assert.equal(m.stderr, '', `man -l warns:\n${m.stderr}`);
}));

test('usage errors: exit 2, one "tickerctl: " line on stderr, nothing on stdout, Redis never asked', T, ctlScenario(async () => {
  const nowhere = `redis://127.0.0.1:${await freePort()}`; // a usage error must come before any connection
  const cases = [
    [[], /no command/],
    [['publish'], /publish takes HEADLINE \(quote it\), got 0 words/],
    [['publish', 'two', 'words'], /publish takes HEADLINE \(quote it\), got 2 words/],
    [['correct', 'only-an-id'], /correct takes ID HEADLINE, got 1 word \(/],
    [['kill'], /kill takes ID, got 0 words/],
    [['tail', 'world'], /tail takes no words, got 1 word \(/],
    [['frobnicate'], /unknown command "frobnicate"/],
    [['publish', '--colour', 'red', 'x'], /unknown option --colour/],
    [['publish', 'x', '--topic'], /--topic needs a value/],
    [['tail', '--url', 'https://example.org/'], /tail takes no --url/],
    [['correct', '--id', 'a', 'b', 'c'], /correct takes no --id/],
    [['publish', '--topic', 'no spaces', 'x'], /--topic "no spaces": 1-64 of/],
    [['--prefix', 'a:b', 'kill', 'x'], /--prefix "a:b": 1-64 of/],
    [['tail', '--since', 'yesterday'], /--since "yesterday" is not a seq/],
    [['tail', '--topics', 'a,b c'], /--topics: /],
    [['--redis', 'http://127.0.0.1:6379', 'publish', 'x'], /is not a redis:\/\/host:port/],
    [['--redis', 'redis://127.0.0.1:notaport', 'check', '-'], /--redis: bad port "notaport"/],
    [['check', '/nonexistent/item.json'], /\/nonexistent\/item\.json: No such file or directory/],
  ];
  for (const [args, reason] of cases) {
    const r = await runTickerctl(args, { env: { TICKERD_REDIS: nowhere } });
    assert.equal(r.code, 2, `tickerctl ${args.join(' ')}: ${said(r)}`);
    assert.equal(r.stdout, '', `tickerctl ${args.join(' ')}: stdout`);
    assert.match(r.stderr, /^tickerctl: [^\n]+\n$/, `tickerctl ${args.join(' ')}: one line`);
    assert.match(r.stderr, reason, `tickerctl ${args.join(' ')}`);
  }
}));

test('Redis unreachable: exit 3 naming the URL, for every command that needs Redis; validation still answers first', T, ctlScenario(async () => {
  const url = `redis://127.0.0.1:${await freePort()}`;
  for (const args of [['publish', 'Headline'], ['correct', 'an-id', 'Headline'], ['kill', 'an-id'], ['tail']]) {
    const r = await runTickerctl(['--redis', url, ...args]);
    assert.equal(r.code, 3, `tickerctl ${args[0]}: ${said(r)}`);
    assert.equal(r.stdout, '');
    assert.equal(r.stderr, `tickerctl: Redis at ${url}: Connection refused\n`);
  }
  // Through the environment, and a unix socket that is not there.
  const env = await runTickerctl(['kill', 'x'], { env: { TICKERD_REDIS: 'unix:///nonexistent/redis.sock' } });
  assert.equal(env.code, 3, said(env));
  assert.match(env.stderr, /^tickerctl: Redis at unix:\/\/\/nonexistent\/redis\.sock: /);
  // An item tickerd would refuse is refused (1) before Redis is asked.
  const bad = await runTickerctl(['--redis', url, 'publish', '--url', 'ftp://example.org/', 'Headline']);
  assert.equal(bad.code, 1, said(bad));
  assert.equal(bad.stderr, 'tickerctl: bad_url: url must be an http or https URL\n');
}));

test('publish: the item reaches a WebSocket client with the printed seq; correct and kill reach it too', T, ctlScenario(async (t, h) => {
  const { redis, tickerd } = await h.env();
  const c = await h.client(tickerd.wsUrl('?topics=world'));
  await c.ready();
  const id = uniq('mali');

  const seq = await seqOf(redis, ['publish', '--topic', 'world', '--id', id, '--priority', 'bulletin',
    '--url', 'https://example.org/mali', '--label', 'Bulletin', '--lang', 'fr', '--source', 'Desk',
    '--expires', '2099-01-01T00:00:00+01:00', 'Visite officielle à Moscou']);
  assert.match(seq, SEQ_RE);
  const m = await c.nextItem('Visite officielle à Moscou', 5000);
  assert.equal(m.item.seq, seq, 'the seq tickerctl printed is the item\'s');
  assert.deepEqual({ ...m.item, time: 'T' }, {
    id, seq, topic: 'world', headline: 'Visite officielle à Moscou', time: 'T', priority: 'bulletin',
    label: 'Bulletin', url: 'https://example.org/mali', source: 'Desk', lang: 'fr', version: 1,
    expires: '2098-12-31T23:00:00Z',
  });
  const [entry] = await redisCall(redis.port, ['XRANGE', 'ticker:log', seq, seq]);
  assert.ok(entry, 'recorded in the log under that seq');

  // A correction: the same id, the next version, the fields it did not give kept from the log.
  const seq2 = await seqOf(redis, ['correct', '--topic', 'world', id, 'Visite officielle à Moscou (corrigé)',
    '--priority', 'urgent']);
  const m2 = await c.nextItem('Visite officielle à Moscou (corrigé)', 5000);
  assert.equal(m2.item.seq, seq2);
  assert.deepEqual({ ...m2.item, seq: 'S' }, { ...m.item, seq: 'S', headline: 'Visite officielle à Moscou (corrigé)',
    priority: 'urgent', version: 2 }, 'a correction keeps the fields it does not give');

  // A kill: every screen drops it.
  const seq3 = await seqOf(redis, ['kill', '--topic', 'world', id]);
  const r = await c.next((j) => j.type === 'retract', 5000, 'the kill');
  assert.deepEqual(r, { type: 'retract', id, topic: 'world', seq: seq3 });

  // After the kill, a correction is refused: the log holds the kill.
  const late = await runTickerctl(['--redis', redis.url, 'correct', '--topic', 'world', id, 'Too late']);
  assert.equal(late.code, 1, said(late));
  assert.match(late.stderr, new RegExp(`^tickerctl: item ${id} on topic world was killed \\(seq ${seq3}\\)`));
  // A correction of an item the log never held is refused (a typo in an id must not publish a new item).
  const none = await runTickerctl(['--redis', redis.url, 'correct', '--topic', 'world', 'no-such-id', 'Headline']);
  assert.equal(none.code, 1, said(none));
  assert.match(none.stderr, /^tickerctl: no item no-such-id on topic world in the log/);
  // A kill of an unknown id is sent all the same (a screen may show what the log no longer holds), with a note.
  const killAnyway = await runTickerctl(['--redis', redis.url, 'kill', '--topic', 'world', 'not-in-log']);
  assert.equal(killAnyway.code, 0, said(killAnyway));
  assert.match(killAnyway.stderr, /^tickerctl: note: no item not-in-log on topic world in the log; killing it all the same\n$/);
  const r2 = await c.next((j) => j.type === 'retract', 5000, 'the second kill');
  assert.equal(r2.seq, killAnyway.stdout.trim());
  assert.equal(c.ofType('item').length, 2, 'no item came of the refused correction');
}));

test('a refused payload: exit 1 with the reason tickerd logs for the same payload, and nothing reaches Redis', T, ctlScenario(async (t, h) => {
  const { redis, tickerd } = await h.env();
  const cases = [
    [['--url', 'ftp://example.org/x'], { url: 'ftp://example.org/x' }, 'bad_url: url must be an http or https URL'],
    [['--priority', 'extreme'], { priority: 'extreme' }, /^bad_priority: /],
    [['--lang', 'not a tag'], { lang: 'not a tag' }, /^bad_field: /],
    [['--expires', 'next tuesday'], { expires: 'next tuesday' }, /^bad_time: /],
  ];
  for (const [opts, fields, reason] of cases) {
    const r = await runTickerctl(['--redis', redis.url, 'publish', '--topic', 'world', ...opts, 'Headline']);
    assert.equal(r.code, 1, `${opts.join(' ')}: ${said(r)}`);
    assert.equal(r.stdout, '');
    const logged = await tickerdReason(tickerd, redis, 'ticker:world', JSON.stringify({ headline: 'Headline', ...fields }));
    assert.equal(r.stderr, `tickerctl: ${logged}\n`, 'the reason, name and text, as tickerd logs it');
    if (typeof reason === 'string') assert.equal(logged, reason);
    else assert.match(logged, reason);
  }
  // A headline with nothing visible in it (a no-break space and a zero-width space).
  const blank = await runTickerctl(['--redis', redis.url, 'publish', '\u00a0\u200b']);
  assert.equal(blank.code, 1, said(blank));
  assert.match(blank.stderr, /^tickerctl: bad_headline: /);
  assert.equal(await redisCall(redis.port, ['XLEN', 'ticker:log']), 0, 'nothing refused was recorded');
}));

test('--embargo: the field is sent; whatever item_parse answers is the answer, in its own words', T, ctlScenario(async (t, h) => {
  const { redis, tickerd } = await h.env();
  const until = new Date(Date.now() + 3600_000).toISOString().replace(/\.\d+Z$/, 'Z');
  const r = await runTickerctl(['--redis', redis.url, 'publish', '--topic', 'world', '--id', 'held',
    '--embargo', until, 'Not before the hour']);
  const logged = await tickerdReason(tickerd, redis, 'ticker:world',
    JSON.stringify({ id: 'held', headline: 'Not before the hour', embargo: until })).catch(() => null);
  if (r.code === 1) {
    // This tickerd refuses items under embargo: tickerctl says what tickerd logs.
    assert.equal(r.stderr, `tickerctl: ${logged}\n`);
    assert.match(r.stderr, /^tickerctl: embargoed: /);
    assert.equal(await redisCall(redis.port, ['XLEN', 'ticker:log']), 0);
  } else {
    // A tickerd that holds them: recorded, the embargo in the payload.
    assert.equal(r.code, 0, said(r));
    assert.equal(JSON.parse(await payloadOf(redis, r.stdout.trim())).embargo, until);
  }
  // An embargo already past is no embargo: published.
  await seqOf(redis, ['publish', '--topic', 'world', '--embargo', '2001-01-01T00:00:00Z', 'Long since lifted']);
}));

test('durable without tickerd: publish loads the function library into a fresh Redis; a tickerd started later delivers it', T, ctlScenario(async (t, h) => {
  const redis = await h.redis();
  assert.deepEqual(await redisCall(redis.port, ['FUNCTION', 'LIST']), [], 'a Redis no tickerd has seen');
  const seq = await seqOf(redis, ['publish', '--topic', 'world', '--id', 'early', 'Recorded before any tickerd ran']);
  const tickerd = await h.tickerd({ redisUrl: redis.url });
  const c = await h.client(tickerd.wsUrl('?topics=world'));
  const { snapshot } = await c.ready();
  assert.deepEqual(snapshot.items.map((i) => [i.id, i.seq, i.headline]), [['early', seq, 'Recorded before any tickerd ran']]);
}));

test('TICKERD_REDIS, TICKERD_PREFIX, a password and a database; a unix socket; a wrong password is refused (1)', T, ctlScenario(async (t, h) => {
  const redis = await h.redis({ password: 's3cret' });
  const url = `redis://:s3cret@127.0.0.1:${redis.port}/3`;
  const tickerd = await h.tickerd({ redisUrl: url, args: ['--prefix', 'news'] });
  const c = await h.client(tickerd.wsUrl());
  await c.ready();
  const r = await runTickerctl(['publish', 'Through the environment'], { env: { TICKERD_REDIS: url, TICKERD_PREFIX: 'news' } });
  assert.equal(r.code, 0, said(r));
  const m = await c.nextItem('Through the environment');
  assert.deepEqual([m.item.seq, m.item.topic], [r.stdout.trim(), 'breaking'], 'the default topic is breaking');
  const wrong = await runTickerctl(['--redis', `redis://:nope@127.0.0.1:${redis.port}`, 'publish', 'x']);
  assert.equal(wrong.code, 1, said(wrong));
  assert.match(wrong.stderr, /^tickerctl: AUTH: Redis refused: /);
  // unix:// (its URL has no password: a Redis without one), and --redis beats TICKERD_REDIS.
  const plain = await h.redis({ unixSocket: true });
  const viaSocket = await runTickerctl(['--redis', `unix://${plain.socketPath}`, 'publish', 'Over a unix socket'],
    { env: { TICKERD_REDIS: `redis://127.0.0.1:${await freePort()}` } });
  assert.equal(viaSocket.code, 0, said(viaSocket));
  assert.equal(await redisCall(plain.port, ['XLEN', 'ticker:log']), 1);
}));

/** A redis-server --sentinel watching master (127.0.0.1:masterPort) as `name`, with requirepass `password`. */
async function startSentinel(t, masterPort, name, password) {
  const dir = makeTmpDir('tickerd-e2e-sentinel-');
  const port = await freePort();
  const conf = path.join(dir, 'sentinel.conf');
  fs.writeFileSync(conf, `port ${port}\nbind 127.0.0.1\ndir ${dir}\nsentinel monitor ${name} 127.0.0.1 ${masterPort} 1\nrequirepass ${password}\n`);
  const p = spawnTracked(REDIS_BIN, [conf, '--sentinel'], { cwd: dir });
  t.after(async () => { await stopTracked(p, 'SIGTERM', 3000); removeTmpDir(dir); });
  for (let i = 0; ; i++) {
    // Any answer (NOAUTH included) means it is up.
    if (await redisCommands(port, [['PING']], { timeoutMs: 500 }).then(() => true, () => false)) return port;
    assert.ok(i < 200 && p.isRunning(), `the sentinel did not start: ${p.stderr()}${p.stdout()}`);
    await sleep(25);
  }
}

test('sentinel://: the master is asked of the sentinels in turn (--sentinel-password, TICKERD_SENTINEL_PASSWORD); none knows it: 3', T, ctlScenario(async (t, h) => {
  const redis = await h.redis();
  const sentinel = await startSentinel(t, redis.port, 'ticker-master', 'sentpw');
  const dead = await freePort();
  const url = `sentinel://127.0.0.1:${dead},127.0.0.1:${sentinel}/ticker-master`;
  const seq = await seqOf({ url }, ['--sentinel-password', 'sentpw', 'publish', 'Found through a sentinel']);
  assert.equal(JSON.parse(await payloadOf(redis, seq)).headline, 'Found through a sentinel');
  const viaEnv = await runTickerctl(['kill', 'x'], { env: { TICKERD_REDIS: url, TICKERD_SENTINEL_PASSWORD: 'sentpw' } });
  assert.equal(viaEnv.code, 0, said(viaEnv));

  const noPassword = await runTickerctl(['--redis', url, 'publish', 'x']);
  assert.equal(noPassword.code, 3, said(noPassword));
  assert.match(noPassword.stderr, /no sentinel gave the address of master ticker-master \(last: sentinel 127\.0\.0\.1:\d+: NOAUTH/);
  const unknown = await runTickerctl(['--redis', `sentinel://127.0.0.1:${sentinel}/other`, '--sentinel-password', 'sentpw', 'publish', 'x']);
  assert.equal(unknown.code, 3, said(unknown));
  assert.match(unknown.stderr, /master other \(last: sentinel 127\.0\.0\.1:\d+: does not know that master\)\n$/);
}));

/** Three redis-server cluster nodes made one cluster (no replicas); resolves their ports. */
async function startCluster(t) {
  const ports = [];
  for (let i = 0; i < 3; i++) {
    const dir = makeTmpDir('tickerd-e2e-cluster-');
    const port = await freePort();
    const p = spawnTracked(REDIS_BIN, ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '',
      '--appendonly', 'no', '--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf'], { cwd: dir });
    t.after(async () => { await stopTracked(p, 'SIGTERM', 3000); removeTmpDir(dir); });
    ports.push(port);
  }
  for (const port of ports) {
    for (let i = 0; !(await redisCommands(port, [['PING']], { timeoutMs: 500 }).then(() => true, () => false)); i++) {
      assert.ok(i < 200, `cluster node ${port} did not start`);
      await sleep(25);
    }
  }
  const made = await redisCli(ports[0], ['--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`),
    '--cluster-replicas', '0', '--cluster-yes'], { timeoutMs: 20_000 });
  assert.equal(made.code, 0, `redis-cli --cluster create: ${made.stdout}${made.stderr}`);
  for (const port of ports) {
    for (let i = 0; !String(await redisCall(port, ['CLUSTER', 'INFO'])).includes('cluster_state:ok'); i++) {
      assert.ok(i < 200, `the cluster is not ok on ${port}`);
      await sleep(50);
    }
  }
  return ports;
}

test('cluster://: keys {ticker}:log and {ticker}:seen, MOVED followed from any node, the library loaded where the log is; tail', T, ctlScenario(async (t) => {
  const ports = await startCluster(t);
  const tail = startTickerctl(['--redis', `cluster://127.0.0.1:${await freePort()},127.0.0.1:${ports[2]}`, 'tail']);
  t.after(() => tail.stop('SIGKILL'));
  // tail starts at the end of the log: once it prints a warm-up item it is
  // there (a slow start, under ASan, missed the first item otherwise).
  for (let i = 0; ; i++) {
    await seqOf({ url: `cluster://127.0.0.1:${ports[0]}` }, ['publish', `Warm-up ${i}`]);
    try {
      await tail.waitLine((l) => / breaking routine Warm-up \d+$/.test(l), 500);
      break;
    } catch (e) {
      if (i >= 20) throw e;
    }
  }
  const seqs = [];
  for (const port of ports) seqs.push(await seqOf({ url: `cluster://127.0.0.1:${port}` }, ['publish', `Entered at ${port}`]));
  // Every node but the log's answered with MOVED; the entries are all in the one log, last.
  const slot = await redisCall(ports[0], ['CLUSTER', 'KEYSLOT', '{ticker}:log']);
  const owner = (await redisCall(ports[0], ['CLUSTER', 'SLOTS'])).find(([from, to]) => from <= slot && slot <= to)[2][1];
  const log = await redisCall(owner, ['XRANGE', '{ticker}:log', '-', '+']);
  assert.deepEqual(log.map(([id]) => String(id)).slice(-seqs.length), seqs);
  for (const port of ports) await tail.waitLine((l) => l.endsWith(` breaking routine Entered at ${port}`));
  const fix = await runTickerctl(['--redis', `cluster://127.0.0.1:${ports[0]}`, 'kill', 'h-none']);
  assert.equal(fix.code, 0, said(fix));
}));

test('tail: prints what is published, marks corrections and kills, skips what tickerd rejects, filters topics', T, ctlScenario(async (t, h) => {
  const { redis, tickerd } = await h.env();
  const tail = startTickerctl(['--redis', redis.url, 'tail', '--topics', 'world,breaking']);
  t.after(() => tail.stop('SIGKILL'));
  await sleep(300); // it starts at the end of the log: let it get there

  const seq = await seqOf(redis, ['publish', '--topic', 'world', '--id', 'w1', '--priority', 'flash', 'Séisme au large du Japon']);
  const line = await tail.waitLine((l) => l.endsWith('Séisme au large du Japon'));
  assert.ok(seq);
  assert.match(line, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ world flash Séisme au large du Japon$/);
  // A plain PUBLISH, recorded by tickerd, shows up too.
  assert.equal(await publish(redis.port, 'ticker:breaking', 'Plain text through tickerd'), 1);
  await tail.waitLine((l) => / breaking routine Plain text through tickerd$/.test(l));
  // Another topic is not shown.
  await seqOf(redis, ['publish', '--topic', 'sport', 'Not for this tail']);
  await seqOf(redis, ['correct', '--topic', 'world', 'w1', 'Séisme au large du Japon : alerte au tsunami']);
  await tail.waitLine((l) => / world flash \[corrected w1\] Séisme au large du Japon : alerte au tsunami$/.test(l));
  await seqOf(redis, ['kill', '--topic', 'world', 'w1']);
  await tail.waitLine((l) => / world \[killed w1\]$/.test(l));
  // An entry written around tickerctl's check (FCALL by hand) that tickerd rejects: a note, and tail goes on.
  const bad = await redisCall(redis.port, ['FCALL', 'tickerd_record', '2', 'ticker:log', 'ticker:seen', 'world',
    '{"headline":"x","url":"javascript:alert(1)"}']);
  await seqOf(redis, ['publish', '--topic', 'world', 'After the bad entry']);
  await tail.waitLine((l) => l.endsWith(' world routine After the bad entry'));
  assert.match(tail.stderr(), new RegExp(`^tickerctl: skipped log entry ${bad} \\(tickerd rejects it too\\): bad_url: `, 'm'));
  assert.ok(!tail.lines().some((l) => l.includes('Not for this tail')), 'the sport item is not shown');
  assert.equal(tail.lines().length, 5, tail.lines().join('\n'));
  assert.ok(tickerd.isRunning());
  // Interrupted: exit 0, everything it printed flushed.
  const res = await tail.stop('SIGINT');
  assert.equal(res.code, 0, `tail exit: ${JSON.stringify(res)}`);

  // --since 0-0: the whole log (all topics), then it waits.
  const all = startTickerctl(['--redis', redis.url, 'tail', '--since', '0-0']);
  t.after(() => all.stop('SIGKILL'));
  await all.waitLine((l) => l.endsWith('After the bad entry'));
  assert.ok(all.lines().some((l) => l.endsWith(' sport routine Not for this tail')), all.lines().join('\n'));
  assert.equal((await all.stop('SIGTERM')).code, 0);
}));

test('tail rides out a Redis restart: says so, reconnects, prints what comes after', T, ctlScenario(async (t, h) => {
  const redis = await h.redis();
  const tail = startTickerctl(['--redis', redis.url, 'tail']);
  t.after(() => tail.stop('SIGKILL'));
  await sleep(300);
  await seqOf(redis, ['publish', 'Before the restart']);
  await tail.waitLine((l) => l.endsWith('Before the restart'));
  await redis.restart();
  const end = Date.now() + 8000;
  while (!/connected again/.test(tail.stderr())) {
    assert.ok(Date.now() < end, `tail did not reconnect: ${tail.stderr()}`);
    await sleep(50);
  }
  assert.match(tail.stderr(), /^tickerctl: lost Redis at redis:\/\/127\.0\.0\.1:\d+; reconnecting$/m);
  await seqOf(redis, ['publish', 'After the restart']);
  await tail.waitLine((l) => l.endsWith('After the restart'));
  assert.ok(tail.isRunning());
}));

test('check: the four agencies\' ninjs items come out as tickerd delivers them; stdin; a refusal', T, ctlScenario(async (t, h) => {
  const refused = await runTickerctl(['check', '-'], { input: '[1,2,3]' });
  assert.equal(refused.code, 1, said(refused));
  assert.equal(refused.stderr, 'tickerctl: not_an_object: payload is a JSON array, not an object\n');
  const plain = await runTickerctl(['check', '--topic', 'sport', '-'], { input: '  Victoire des Bleus \n' });
  assert.equal(plain.code, 0, said(plain));
  assert.deepEqual(Object.keys(JSON.parse(plain.stdout)), ['id', 'topic', 'headline', 'time', 'priority', 'version']);
  assert.equal(JSON.parse(plain.stdout).headline, 'Victoire des Bleus');

  if (!fixturesAvailable()) {
    t.skip(`${FIXTURES} not found: the ninjs part is skipped`);
    return;
  }
  const dir = path.join(FIXTURES, 'ninjs');
  const files = fs.readdirSync(dir).filter((f) => f.endsWith('.json')).sort();
  assert.equal(files.length, 4, `four agencies' items in ${dir}`);
  const { redis, tickerd } = await h.env();
  const c = await h.client(tickerd.wsUrl('?topics=world'));
  await c.ready();
  for (const f of files) {
    const file = path.join(dir, f);
    const r = await runTickerctl(['check', '--topic', 'world', file]);
    if (r.code === 1) {
      // Refused (the TT item's expiry, 2023, is past): tickerd refuses the
      // same bytes for the same reason.
      const reason = /^tickerctl: ([a-z_]+): /.exec(r.stderr);
      assert.ok(reason, `${f}: ${said(r)}`);
      const before = (await getMetrics(tickerd.port)).value('tickerd_payloads_rejected_total', { reason: reason[1] });
      assert.equal(await publish(redis.port, 'ticker:world', fs.readFileSync(file)), 1);
      await waitUntil(async () => (await getMetrics(tickerd.port)).value('tickerd_payloads_rejected_total', { reason: reason[1] }) === before + 1,
        5000, `${f}: tickerd refuses it as ${reason[1]} too`);
      continue;
    }
    assert.equal(r.code, 0, `${f}: ${said(r)}`);
    assert.match(r.stdout, /^\{.*\}\n$/, `${f}: one line of JSON`);
    const checked = JSON.parse(r.stdout);
    // The same bytes published to tickerd: the item every screen gets is what check printed, plus its seq.
    assert.equal(await publish(redis.port, 'ticker:world', fs.readFileSync(file)), 1);
    const m = await c.next((j) => j.type === 'item' && j.item.id === checked.id, 5000, `${f} from tickerd`);
    const { seq, ...delivered } = m.item;
    assert.match(seq, SEQ_RE);
    assert.deepEqual(checked, delivered, `${f}: check and tickerd disagree`);
    assert.deepEqual(Object.keys(checked), Object.keys(delivered), `${f}: key order`);
    // And from stdin, the same.
    const viaStdin = await runTickerctl(['check', '--topic', 'world', '-'], { input: fs.readFileSync(file) });
    assert.equal(viaStdin.stdout, r.stdout, `${f} from stdin`);
  }
}));
