// Several tickerd processes on one port (--reuse-port, SO_REUSEPORT): the
// kernel spreads clients over them, and a rolling restart of every process
// under a steady publish loses nothing and duplicates nothing (each client
// checked against XRANGE of the change log).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { scenario, publish, uniq, freePort, runTickerd } from './harness.mjs';
import { SeqPublisher, Stream, settleAndCheck, waitUntil } from './checker.mjs';

/** Established TCP connections to local port `port`, per pid (from /proc). */
function connectionsByPid(pids, port) {
  const inodes = new Set();
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try { text = fs.readFileSync(file, 'utf8'); } catch { continue; }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 10 || f[3] !== '01') continue; // 01: ESTABLISHED
      if (parseInt(f[1].split(':')[1], 16) === port) inodes.add(f[9]);
    }
  }
  const counts = {};
  for (const pid of pids) {
    counts[pid] = 0;
    for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
      let target = '';
      try { target = fs.readlinkSync(`/proc/${pid}/fd/${fd}`); } catch { continue; }
      const m = /^socket:\[(\d+)\]$/.exec(target);
      if (m && inodes.has(m[1])) counts[pid]++;
    }
  }
  return counts;
}

/** n processes sharing one spare port. */
async function startShared(h, redis, n, port) {
  const tds = [];
  for (let i = 0; i < n; i++) tds.push(await h.tickerd({ redisUrl: redis.url, port, args: ['--reuse-port'] }));
  return tds;
}

test('without --reuse-port a second process on a taken port exits with a clear error', { timeout: 20_000 }, scenario(async (t, h) => {
  const redis = await h.redis();
  const td = await h.tickerd({ redisUrl: redis.url });
  const res = await runTickerd(['--listen', `127.0.0.1:${td.port}`, '--redis', redis.url]);
  assert.notEqual(res.code, 0, `exit code ${res.code}`);
  assert.match(res.stderr, /cannot serve on 127\.0\.0\.1:\d+: Address already in use/);
  // --reuse-port on one side only does not share either: the kernel refuses.
  const res2 = await runTickerd(['--listen', `127.0.0.1:${td.port}`, '--redis', redis.url, '--reuse-port']);
  assert.notEqual(res2.code, 0);
  assert.match(res2.stderr, /Address already in use/);
}));

for (const n of [2, 4]) {
  test(`${n} processes on one port: clients spread over all of them, and each item reaches every client`, { timeout: 30_000 }, scenario(async (t, h) => {
    const redis = await h.redis();
    const port = await freePort();
    const tds = await startShared(h, redis, n, port);
    const clients = [];
    for (let i = 0; i < 20 * n; i++) {
      const c = await h.client(`ws://127.0.0.1:${port}/ws`);
      await c.ready();
      clients.push(c);
    }
    const counts = connectionsByPid(tds.map((td) => td.pid), port);
    t.diagnostic(`clients per process: ${JSON.stringify(counts)}`);
    for (const td of tds) assert.ok(counts[td.pid] >= 1, `process ${td.pid} got no client: ${JSON.stringify(counts)}`);
    assert.equal(Object.values(counts).reduce((a, b) => a + b, 0), clients.length);
    const u = uniq();
    assert.equal(await publish(redis.port, 'ticker:world', `Shared port ${u}`), n, 'every process is subscribed');
    for (const c of clients) {
      await c.next((m) => m.type === 'item', 5000, 'the item');
    }
    for (const c of clients) {
      assert.equal(c.ofType('item').length, 1, `exactly one copy: ${c.describe()}`);
      assert.match(c.ofType('item')[0].item.headline, new RegExp(u));
    }
  }));

  test(`rolling restart of ${n} processes on one port under a steady publish: every client resumes on a sibling, nothing lost, nothing duplicated`, { timeout: 60_000 }, scenario(async (t, h) => {
    const redis = await h.redis();
    const port = await freePort();
    let tds = await startShared(h, redis, n, port);
    const on = (q) => h.client(`ws://127.0.0.1:${port}/ws${q}`);
    const streams = [];
    for (let i = 0; i < 6 * n; i++) {
      const s = new Stream(`S${i}`);
      await s.open(on, 'shared port');
      streams.push(s);
    }
    const pub = new SeqPublisher(redis.port, { intervalMs: 30 }).start();
    h.defer(() => pub.stop());
    await waitUntil(() => streams.every((s) => s.itemCount() >= 5), 5000, () => `first items; ${pub.summary()}`);

    let moved = 0;
    for (let i = 0; i < n; i++) {
      const old = tds[0];
      const res = await old.stop('SIGTERM');
      assert.equal(res.code, 0, `process ${old.pid} exits cleanly`);
      for (const s of streams) {
        const c = s.current();
        if (c.closeCode === null) continue;
        assert.equal(c.closeCode, 1001, `${s.name} told the server is going away`);
        await s.resume(on, `after ${old.pid} stopped`);
        moved++;
      }
      tds = [...tds.slice(1), await h.tickerd({ redisUrl: redis.url, port, args: ['--reuse-port'] })];
      await sleep(300);
    }
    t.diagnostic(`${moved} resumes over ${n} restarts; ${pub.summary()}`);
    assert.ok(moved >= n, `only ${moved} client(s) had to move: the restarts did not hit them`);
    const { log } = await settleAndCheck({ port: redis.port, pub, streams });
    t.diagnostic(`log ${log.length} entries`);
  }));
}
