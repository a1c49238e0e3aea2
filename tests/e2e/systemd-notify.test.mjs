// systemd's notify protocol (server/notify.c): READY, RELOADING, STOPPING, STATUS and the watchdog,
// heard on a NOTIFY_SOCKET of our own (tests/helpers/notify_listen.c: node has no Unix datagrams).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  scenario, freePort, makeTmpDir, removeTmpDir, getHealth, waitForHealth, TICKERD_BIN, WEB_DIR, REPO,
} from './harness.mjs';

const T = { timeout: 30_000 };
// Built beside the binary under test (make e2e, make sanitize): build/tests/notify-listen.
const LISTENER = process.env.TICKERD_NOTIFY_LISTEN || path.join(path.dirname(TICKERD_BIN), 'tests', 'notify-listen');
const WATCHDOG_USEC = 3_000_000;
const nowUsec = () => Number(process.hrtime.bigint() / 1000n); // CLOCK_MONOTONIC, as the listener's

// Start a process we tear down ourselves (by pid) when the test ends.
function track(t, child) {
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  t.after(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      try { process.kill(child.pid, 'SIGCONT'); process.kill(child.pid, 'SIGKILL'); } catch { /* gone */ }
      await exited;
    }
  });
  return exited;
}

// The listener: resolves once bound; msgs holds every datagram as { at (µs), lines: [...] }.
async function listen(t) {
  const dir = makeTmpDir('tickerd-e2e-notify-');
  t.after(() => removeTmpDir(dir));
  const socket = path.join(dir, 'notify.sock');
  assert.ok(fs.existsSync(LISTENER), `${LISTENER} not built (make e2e builds it)`);
  const child = spawn(LISTENER, [socket], { stdio: ['ignore', 'pipe', 'inherit'] });
  track(t, child);
  const msgs = [];
  const rl = readline.createInterface({ input: child.stdout });
  await new Promise((resolve, reject) => {
    rl.on('line', (line) => {
      if (line === 'listening') return resolve();
      const [at, ...lines] = line.split('\t');
      msgs.push({ at: Number(at), lines });
    });
    child.on('exit', () => reject(new Error('notify-listen exited')));
  });
  return { socket, msgs };
}

// tickerd with NOTIFY_SOCKET and a watchdog; WATCHDOG_PID is its own pid unless watchdogPid says otherwise.
async function startNotified(t, h, socket, { watchdogPid, args = [] } = {}) {
  const redis = await h.redis();
  const port = await freePort();
  const env = { ...process.env, NOTIFY_SOCKET: socket, WATCHDOG_USEC: String(WATCHDOG_USEC) };
  for (const k of Object.keys(env)) if (k.startsWith('TICKERD_')) delete env[k];
  const pidSetting = watchdogPid === undefined ? 'WATCHDOG_PID=$$' : `WATCHDOG_PID=${watchdogPid}`;
  // exec keeps the shell's pid: $$ is tickerd's.
  const child = spawn('/bin/sh', ['-c', `export ${pidSetting}; exec "$0" "$@"`, TICKERD_BIN,
    '--listen', `127.0.0.1:${port}`, '--redis', redis.url, '--web', WEB_DIR, ...args],
  { stdio: ['ignore', 'ignore', 'pipe'], env, cwd: REPO });
  let log = '';
  child.stderr.on('data', (d) => { log += d; });
  const exited = track(t, child);
  return { pid: child.pid, port, exited, log: () => log, kill: (sig) => process.kill(child.pid, sig) };
}

const has = (m, line) => m.lines.includes(line);
const value = (m, key) => (m.lines.find((l) => l.startsWith(`${key}=`)) || '').slice(key.length + 1) || undefined;

async function waitFor(msgs, pred, what, timeoutMs = 5000, from = 0) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const i = msgs.findIndex((m, k) => k >= from && pred(m));
    if (i >= 0) return i;
    if (Date.now() > deadline) {
      throw new Error(`no ${what} within ${timeoutMs} ms; heard: ${JSON.stringify(msgs.slice(from).map((m) => m.lines))}`);
    }
    await sleep(20);
  }
}

const watchdogTimes = (msgs, from, to) => msgs.filter((m) => has(m, 'WATCHDOG=1') && m.at >= from && m.at <= to).map((m) => m.at);

test('READY=1 once it serves; WATCHDOG=1 every second; RELOADING=1 + MONOTONIC_USEC then READY=1 on SIGHUP; STOPPING=1 on SIGTERM', T, scenario(async (t, h) => {
  const { socket, msgs } = await listen(t);
  const dir = makeTmpDir('tickerd-e2e-notify-conf-');
  t.after(() => removeTmpDir(dir));
  const conf = path.join(dir, 'tickerd.conf');
  fs.writeFileSync(conf, 'max-clients = 100\n');
  const td = await startNotified(t, h, socket, { args: ['--config', conf] });

  const ready = await waitFor(msgs, (m) => has(m, 'READY=1'), 'READY=1', 10_000);
  // Ready means serving: the port answers now, not after some delay.
  const health = await getHealth(td.port);
  assert.equal(typeof health.status, 'number', 'READY=1 came before tickerd answers HTTP');
  assert.match(value(msgs[ready], 'STATUS') || '', /^\d+ clients?, \d+ items?, Redis (connected|connecting|down)$/, 'STATUS with READY=1');
  assert.equal(msgs.slice(0, ready).filter((m) => has(m, 'READY=1')).length, 0);
  await waitForHealth(td.port, (x) => x.status === 200, { what: '200' });

  // The watchdog: petted at least every WATCHDOG_USEC / 2.
  const t0 = msgs[ready].at;
  await sleep(3500);
  const pets = watchdogTimes(msgs, t0, nowUsec());
  assert.ok(pets.length >= 3, `WATCHDOG=1 ${pets.length} times in 3.5 s: ${JSON.stringify(msgs.map((m) => m.lines))}`);
  const gaps = [pets[0] - t0, ...pets.slice(1).map((p, i) => p - pets[i])];
  assert.ok(Math.max(...gaps) <= WATCHDOG_USEC / 2, `gaps between pets (µs): ${gaps}`);
  assert.ok(msgs.every((m) => value(m, 'STATUS') === undefined || /Redis/.test(value(m, 'STATUS'))));
  // Redis connected shows up in a STATUS line by now (the first may have said connecting).
  assert.ok(msgs.some((m) => /Redis connected$/.test(value(m, 'STATUS') || '')), JSON.stringify(msgs.map((m) => m.lines)));

  // SIGHUP: RELOADING=1 with the monotonic time it began, then READY=1.
  for (const [label, text] of [['a good configuration', 'max-clients = 50\n'], ['one that does not parse', 'max-clients = lots\n']]) {
    fs.writeFileSync(conf, text);
    const from = msgs.length;
    const before = nowUsec();
    td.kill('SIGHUP');
    const r = await waitFor(msgs, (m) => has(m, 'RELOADING=1'), `RELOADING=1 (${label})`, 5000, from);
    const again = await waitFor(msgs, (m) => has(m, 'READY=1'), `READY=1 after the reload (${label})`, 5000, r + 1);
    const at = Number(value(msgs[r], 'MONOTONIC_USEC'));
    assert.ok(at >= before && at <= msgs[again].at, `${label}: MONOTONIC_USEC=${at} not between SIGHUP (${before}) and READY=1 (${msgs[again].at})`);
    assert.ok(value(msgs[again], 'STATUS'), `${label}: READY=1 carries a STATUS`);
  }
  assert.match(td.log(), /configuration not reloaded/, 'the second reload was refused');
  assert.equal((await getHealth(td.port)).status, 200, 'still serving after both reloads');

  // SIGSTOP: a stalled process stops petting the watchdog; SIGCONT: it starts again.
  td.kill('SIGSTOP');
  const stopped = nowUsec();
  await sleep(2500);
  const resumed = nowUsec();
  td.kill('SIGCONT');
  const during = watchdogTimes(msgs, stopped + 200_000, resumed);
  assert.deepEqual(during, [], 'WATCHDOG=1 while the process was stopped');
  const from = msgs.length;
  const pet = await waitFor(msgs, (m) => has(m, 'WATCHDOG=1'), 'WATCHDOG=1 after SIGCONT', 3000, from);
  assert.ok(msgs[pet].at - resumed <= WATCHDOG_USEC / 2, 'petted within WATCHDOG_USEC / 2 of SIGCONT');

  // SIGTERM: STOPPING=1, then exit 0.
  const end = msgs.length;
  td.kill('SIGTERM');
  await waitFor(msgs, (m) => has(m, 'STOPPING=1'), 'STOPPING=1', 5000, end);
  const res = await td.exited;
  assert.deepEqual(res, { code: 0, signal: null }, td.log());
}));

test('a watchdog meant for another process (WATCHDOG_PID) is not petted; READY=1 still comes', T, scenario(async (t, h) => {
  const { socket, msgs } = await listen(t);
  const td = await startNotified(t, h, socket, { watchdogPid: 1 });
  const ready = await waitFor(msgs, (m) => has(m, 'READY=1'), 'READY=1', 10_000);
  await sleep(2500);
  assert.deepEqual(watchdogTimes(msgs, msgs[ready].at, nowUsec()), [], 'WATCHDOG=1 sent for a watchdog set for pid 1');
  td.kill('SIGTERM');
  await waitFor(msgs, (m) => has(m, 'STOPPING=1'), 'STOPPING=1', 5000);
  assert.equal((await td.exited).code, 0);
}));
