// /healthz, static files, command line and environment.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {
  scenario, publish, uniq, getHealth, httpGet, waitForHealth, runTickerd, makeTmpDir, removeTmpDir, REPO,
} from './harness.mjs';

const T = { timeout: 30_000 };

test('/healthz returns JSON with the spec fields and live counters', T, scenario(async (t, h) => {
  const { redis, tickerd } = await h.env();
  const h0 = await getHealth(tickerd.port);
  assert.equal(h0.status, 200);
  assert.match(String(h0.headers['content-type']), /json/i, 'content-type');
  assert.ok(h0.json, `/healthz body is not JSON: ${h0.text}`);
  // The spec's fields must all be there (extra counters are allowed).
  for (const k of ['status', 'redis', 'clients', 'items', 'uptime_s', 'received', 'rejected']) {
    assert.ok(k in h0.json, `/healthz lacks ${JSON.stringify(k)}: ${h0.text}`);
  }
  assert.equal(h0.json.status, 'ok');
  assert.equal(h0.json.redis, 'connected');
  for (const k of ['clients', 'items', 'uptime_s', 'received', 'rejected']) {
    assert.ok(Number.isInteger(h0.json[k]) && h0.json[k] >= 0, `${k} must be a non-negative integer: ${h0.text}`);
  }
  assert.equal(h0.json.clients, 0);
  assert.equal(h0.json.items, 0);
  assert.equal(h0.json.received, 0);
  assert.equal(h0.json.rejected, 0);

  const c1 = await h.client(tickerd.wsUrl());
  const c2 = await h.client(tickerd.wsUrl('?topics=world'));
  await c1.ready();
  await c2.ready();
  const a = `Health A ${uniq()}`;
  const b = `Health B ${uniq()}`;
  await publish(redis.port, 'ticker:world', a);
  await publish(redis.port, 'ticker:sports', b);
  await c1.nextItem(b);
  const h1 = await getHealth(tickerd.port);
  assert.equal(h1.json.clients, 2, `clients: ${h1.text}`);
  assert.equal(h1.json.items, 2, `items: ${h1.text}`);
  assert.equal(h1.json.received, 2, `received: ${h1.text}`);
  assert.equal(h1.json.rejected, 0, `rejected: ${h1.text}`);

  c2.close();
  await waitForHealth(tickerd.port, (x) => x.json && x.json.clients === 1, { timeoutMs: 5000, what: 'clients back to 1' });

  await new Promise((r) => setTimeout(r, 1100));
  const h2 = await getHealth(tickerd.port);
  assert.ok(h2.json.uptime_s >= 1, `uptime_s should count seconds: ${h2.text}`);
}));

test('GET / serves index.html from --web', T, scenario(async (t, h) => {
  const web = makeTmpDir('tickerd-e2e-web-');
  t.after(() => removeTmpDir(web));
  const marker = `tickerd-e2e-marker-${uniq()}`;
  fs.writeFileSync(path.join(web, 'index.html'), `<!doctype html><title>t</title><p>${marker}</p>\n`);
  const { tickerd } = await h.env({ web });
  const r = await httpGet(tickerd.port, '/');
  assert.equal(r.status, 200);
  assert.match(String(r.headers['content-type']), /text\/html/i);
  assert.ok(r.text.includes(marker), `GET / did not serve --web/index.html: ${r.text.slice(0, 200)}`);
}));

test('--prefix and TICKERD_PREFIX select the channel prefix', T, scenario(async (t, h) => {
  const redis = await h.redis();
  for (const [label, opts] of [
    ['--prefix', { args: ['--prefix', 'news'] }],
    ['TICKERD_PREFIX', { env: { TICKERD_PREFIX: 'news' } }],
  ]) {
    const tickerd = await h.tickerd({ redisUrl: redis.url, ...opts });
    const c = await h.client(tickerd.wsUrl());
    await c.ready();
    const wrong = `${label} wrong prefix ${uniq()}`;
    const right = `${label} right prefix ${uniq()}`;
    await publish(redis.port, 'ticker:world', wrong);
    await publish(redis.port, 'news:world', right);
    const m = await c.nextItem(right);
    assert.equal(m.item.topic, 'world', `${label}: topic is the channel suffix`);
    assert.ok(!c.ofType('item').some((x) => x.item.headline === wrong), `${label}: ticker:* item delivered with prefix news`);
    await tickerd.stop();
  }
}));

test('environment variables alone configure tickerd (TICKERD_LISTEN, TICKERD_REDIS, TICKERD_WEB, TICKERD_HISTORY)', T, scenario(async (t, h) => {
  const redis = await h.redis();
  const tickerd = await h.tickerd({ redisUrl: redis.url, configViaEnv: true, env: { TICKERD_HISTORY: '1', TICKERD_LOG_LEVEL: 'debug' } });
  assert.deepEqual(tickerd.args, [], 'no flags given');
  const c0 = await h.client(tickerd.wsUrl());
  await c0.ready();
  const a = `env A ${uniq()}`;
  const b = `env B ${uniq()}`;
  await publish(redis.port, 'ticker:world', a);
  await publish(redis.port, 'ticker:world', b);
  await c0.nextItem(b);
  const c = await h.client(tickerd.wsUrl());
  const { snapshot } = await c.ready();
  assert.deepEqual(snapshot.items.map((i) => i.headline), [b], 'TICKERD_HISTORY=1 keeps one item per topic');
}));

test('Redis URL forms: password, /db and unix socket', T, scenario(async (t, h) => {
  const redis = await h.redis({ password: 's3cret-pw', unixSocket: true });
  const forms = [
    ['password', redis.url],
    ['password + /db', `${redis.url}/3`],
  ];
  for (const [label, url] of forms) {
    const tickerd = await h.tickerd({ redisUrl: url });
    const c = await h.client(tickerd.wsUrl());
    await c.ready();
    const head = `${label} ${uniq()}`;
    await redis.publish('ticker:world', head);
    await c.nextItem(head);
    await tickerd.stop();
  }
  // Unix socket (no password on this second server).
  const r2 = await h.redis({ unixSocket: true });
  const tickerd = await h.tickerd({ redisUrl: `unix://${r2.socketPath}` });
  const c = await h.client(tickerd.wsUrl());
  await c.ready();
  const head = `unix socket ${uniq()}`;
  await r2.publish('ticker:world', head);
  await c.nextItem(head);
}));

test('wrong Redis password: tickerd stays up and reports 503', T, scenario(async (t, h) => {
  const redis = await h.redis({ password: 'right' });
  const tickerd = await h.tickerd({ redisUrl: `redis://:wrong@127.0.0.1:${redis.port}`, waitHealthy: false });
  const hd = await waitForHealth(tickerd.port, (x) => x.status === 503, { timeoutMs: 5000, what: '503' });
  assert.equal(hd.json.status, 'degraded');
  assert.notEqual(hd.json.redis, 'connected');
  assert.ok(tickerd.isRunning());
}));

const FLAGS = ['--listen', '--redis', '--prefix', '--web', '--history', '--log-level', '--help', '--version',
  '--log-length', '--config', '--allow-origin', '--max-clients', '--max-per-ip', '--max-message', '--max-rate',
  '--handshake-timeout', '--ping-interval', '--print-config'];

// README.md's table of settings: the lines between its two markers.
const README_TABLE = /<!-- settings table:[^\n]*-->\n([\s\S]*?)<!-- end of settings table -->/;

test('--listen on an address already in use: exit 1, naming the address and the reason', T, scenario(async (t, h) => {
  const { redis, tickerd } = await h.env();
  const r = await runTickerd(['--listen', `127.0.0.1:${tickerd.port}`, '--redis', `redis://127.0.0.1:${redis.port}`]);
  assert.equal(r.timedOut, false, 'the second tickerd did not exit');
  assert.equal(r.code, 1, `exit status; stderr: ${r.stderr}`);
  assert.match(r.stderr, new RegExp(`cannot serve on 127\\.0\\.0\\.1:${tickerd.port}: Address already in use`), r.stderr);
  assert.equal((await getHealth(tickerd.port)).status, 200, 'the first one still serves');
}));

test('tickerd --help exits 0 and mentions every flag', T, scenario(async () => {
  const r = await runTickerd(['--help']);
  assert.equal(r.timedOut, false, '--help did not exit');
  assert.equal(r.code, 0, `--help exit status; stderr: ${r.stderr}`);
  const out = r.stdout + r.stderr;
  for (const f of FLAGS) assert.ok(out.includes(f), `--help does not mention ${f}:\n${out}`);
  // And every setting the README's table lists, with its variable.
  const table = fs.readFileSync(path.join(REPO, 'README.md'), 'utf8').match(README_TABLE);
  assert.ok(table, 'README.md has no settings table between its markers');
  const rows = [...table[1].matchAll(/`(--[a-z-]+)[^`]*` \| `(TICKERD_[A-Z_]+)`/g)];
  assert.ok(rows.length >= 15, `settings rows in the README: ${rows.length}`);
  for (const [, flag, v] of rows) {
    assert.ok(out.includes(flag), `--help does not mention ${flag}`);
    assert.ok(out.includes(v), `--help does not mention ${v}`);
  }
}));

test("README.md's table of settings is what tickerd --help-markdown prints", T, scenario(async () => {
  const r = await runTickerd(['--help-markdown']);
  assert.equal(r.code, 0, `--help-markdown exit status; stderr: ${r.stderr}`);
  const table = fs.readFileSync(path.join(REPO, 'README.md'), 'utf8').match(README_TABLE);
  assert.ok(table, 'README.md has no settings table between its markers');
  assert.equal(table[1], r.stdout,
    'README.md\'s settings table differs from `tickerd --help-markdown`; regenerate it (see README, Configuration)');
}));

// --print-config: the settings after every layer, as a --config file.
const printed = (out) => Object.fromEntries(out.split('\n').filter((l) => /^[a-z-]+ = /.test(l))
  .map((l) => [l.slice(0, l.indexOf(' = ')), l.slice(l.indexOf(' = ') + 3)]));
const defaulted = (out) => out.split('\n').filter((l) => /^# [a-z-]+ =/.test(l)).map((l) => l.split(' ')[1]);

test('--print-config: defaults < --config file < environment < flags, and its output reads back as a --config file', T, scenario(async (t) => {
  const dir = makeTmpDir('tickerd-e2e-print-');
  t.after(() => removeTmpDir(dir));
  const file = path.join(dir, 'tickerd.conf');
  fs.writeFileSync(file, 'max-rate = 1\nmax-message = 100\nmax-clients = 7\nallow-origin = https://file.example\n');
  const r = await runTickerd(['--print-config', '--config', file, '--max-rate', '3', '-r', 'redis://:pw@db.example:7000/2'],
    { env: { TICKERD_MAX_RATE: '2', TICKERD_MAX_MESSAGE: '200', TICKERD_ALLOW_ORIGIN: 'https://env.example' } });
  assert.equal(r.code, 0, `--print-config exit status; stderr: ${r.stderr}`);
  const set = printed(r.stdout);
  assert.deepEqual(set, {
    redis: 'redis://:pw@db.example:7000/2', // flag (the password shown: scripts need it)
    'allow-origin': 'https://file.example, https://env.example', // file and environment add up
    'max-clients': '7', // file
    'max-message': '200', // environment beats the file
    'max-rate': '3', // flag beats both
  }, r.stdout);
  assert.ok(defaulted(r.stdout).includes('listen'), `defaults are commented out:\n${r.stdout}`);
  assert.match(r.stdout, /^# listen = 127\.0\.0\.1:8080$/m);
  assert.ok(r.stdout.includes(`# read from ${file}`), r.stdout);

  // Its output, as a --config file, gives the same settings.
  const again = path.join(dir, 'printed.conf');
  fs.writeFileSync(again, r.stdout);
  const r2 = await runTickerd(['--print-config', '--config', again]);
  assert.equal(r2.code, 0, `stderr: ${r2.stderr}`);
  assert.deepEqual(printed(r2.stdout), set);

  const bad = await runTickerd(['--print-config', '--max-rate', '0']);
  assert.equal(bad.code, 2, 'a bad value is still an error');
  assert.equal(bad.stdout, '', 'and nothing is printed');
}));

test('tickerd --version prints a version and exits 0', T, scenario(async () => {
  const r = await runTickerd(['--version']);
  assert.equal(r.timedOut, false, '--version did not exit');
  assert.equal(r.code, 0, `--version exit status; stderr: ${r.stderr}`);
  assert.match(r.stdout + r.stderr, /\b\d+\.\d+\.\d+\b/, 'a version number');
}));

for (const [label, args, env] of [
  ['--bogus', ['--bogus'], {}],
  ['--redis ftp://x', ['--redis', 'ftp://x'], {}],
  ['TICKERD_REDIS=ftp://x', [], { TICKERD_REDIS: 'ftp://x' }],
  ['--log-level bogus', ['--log-level', 'bogus'], {}],
  ['--listen without a port', ['--listen', 'nonsense'], {}],
  ['--history not a number', ['--history', 'lots'], {}],
]) {
  test(`${label} exits 2 with a message on stderr`, T, scenario(async () => {
    const r = await runTickerd(args, { env });
    assert.equal(r.timedOut, false, `${label}: tickerd did not exit (it started anyway?)`);
    assert.equal(r.code, 2, `${label}: exit status (stderr: ${r.stderr})`);
    assert.ok(r.stderr.trim().length > 0, `${label}: no message on stderr`);
  }));
}
