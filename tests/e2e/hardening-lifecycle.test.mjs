// Issue 6, graceful life cycle (spec: "Issue 6 additions"): SIGTERM and
// SIGINT close every WebSocket client with 1001 and end every EventSource
// stream within the 2 s grace period, then tickerd exits 0; SIGHUP re-reads
// the --config file and applies origins and limits at once, without
// dropping anyone.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  scenario, publish, getMetrics, openWebSocket, httpGet, assertReceivedAll, makeTmpDir, removeTmpDir,
} from './harness.mjs';
import { waitUntil } from './checker.mjs';

const T = { timeout: 30_000 };

async function stopsGracefully(t, h, signal) {
  const { redis, tickerd } = await h.env();
  const good = await h.client(tickerd.wsUrl());
  await good.ready();
  const world = await h.client(tickerd.wsUrl('?topics=world'));
  await world.ready();
  const s1 = await h.sse(tickerd.port, '/events');
  await s1.ready();
  const s2 = await h.sse(tickerd.port, '/events?topics=world');
  await s2.ready();
  for (let i = 1; i <= 5; i++) await publish(redis.port, 'ticker:world', `${signal} item ${i}`);
  for (const c of [good, world, s1, s2]) await c.nextItem(`${signal} item 5`);
  await assertReceivedAll(redis.port, good);
  await assertReceivedAll(redis.port, s1, { name: 'EventSource client' });
  assert.equal((await getMetrics(tickerd.port)).value('tickerd_clients'), 4);

  const t0 = Date.now();
  tickerd.kill(signal);
  const at = (p) => p.then((v) => ({ ...v, ms: Date.now() - t0 }));
  const limit = sleep(5000).then(() => null);
  const [cGood, cWorld, e1, e2, exit] = await Promise.all([good.closed, world.closed, s1.closed, s2.closed, tickerd.exited]
    .map((p) => Promise.race([at(p), limit])));
  t.diagnostic(`after ${signal}: WebSocket closes ${cGood?.code}/${cWorld?.code} at ${cGood?.ms}/${cWorld?.ms} ms; `
    + `EventSource streams ended at ${e1?.ms}/${e2?.ms} ms; exit ${JSON.stringify(exit)}`);
  for (const [name, c] of [['WebSocket (all topics)', cGood], ['WebSocket (world)', cWorld]]) {
    assert.ok(c, `${name}: no close within 5 s of ${signal}`);
    assert.equal(c.code, 1001, `${name}: close code after ${signal}: ${JSON.stringify(c)}`);
    assert.ok(c.ms <= 2500, `${name}: closed ${c.ms} ms after ${signal}, beyond the 2 s grace period`);
  }
  for (const [name, e] of [['EventSource (all topics)', e1], ['EventSource (world)', e2]]) {
    assert.ok(e, `${name}: the stream did not end within 5 s of ${signal}`);
    assert.ok(e.ms <= 2500, `${name}: ended ${e.ms} ms after ${signal}, beyond the 2 s grace period`);
  }
  assert.ok(exit, `tickerd did not exit within 5 s of ${signal}`);
  assert.equal(exit.code, 0, `exit status after ${signal}: ${JSON.stringify(exit)}`);
  assert.equal(exit.signal, null);
  assert.ok(exit.ms <= 3000, `tickerd exited ${exit.ms} ms after ${signal}`);
  // Nothing after the close frame, and the item stream was complete up to it.
  for (const c of [good, world]) {
    const i = c.messages.findIndex((m) => m.json?.item?.headline === `${signal} item 5`);
    assert.equal(i, c.messages.length - 1, `no frame after the last item: ${c.describe()}`);
  }
  await sleep(100);
  assert.match(tickerd.log(), new RegExp(`${signal}: closing 4 clients`), 'the log says what it does');
  assert.doesNotMatch(tickerd.log(), /did not close in time/, 'every client closed within the grace period');
}

test('SIGTERM: every WebSocket client gets close 1001 and every EventSource stream ends within the 2 s grace period, then exit 0', T,
  scenario(async (t, h) => stopsGracefully(t, h, 'SIGTERM')));

test('SIGINT: the same graceful stop', T, scenario(async (t, h) => stopsGracefully(t, h, 'SIGINT')));

test('SIGHUP with --config: origins and limits change at once (origin B admitted, 100-byte message -> 1009), nobody is dropped, a broken file changes nothing', T, scenario(async (t, h) => {
  const dir = makeTmpDir('tickerd-e2e-config-');
  h.defer(() => removeTmpDir(dir));
  const file = path.join(dir, 'tickerd.conf');
  const A = 'https://a.example';
  const B = 'https://b.example';
  fs.writeFileSync(file, `# tickerd test configuration\nallow-origin = ${A}\n`);
  const { redis, tickerd } = await h.env({ args: ['--config', file] });
  let n = 0;
  const pub = async () => {
    const head = `hup item ${++n}`;
    assert.equal(await publish(redis.port, 'ticker:world', head), 1);
    return head;
  };
  const reload = async () => {
    const from = tickerd.log().length;
    tickerd.kill('SIGHUP');
    let line;
    await waitUntil(() => (line = tickerd.log().slice(from).split('\n').find((l) => /SIGHUP: /.test(l))), 3000, 'the SIGHUP log line');
    return line;
  };
  const origin = async (o) => {
    const r = await openWebSocket(tickerd.wsUrl(), { origin: o });
    if (r.client) { h.clients.push(r.client); await r.client.ready(); }
    return r;
  };

  const first = (await origin(A)).client; // the page on origin A, connected all along
  assert.ok(first, 'origin A must be admitted from the start');
  const old = await h.client(tickerd.wsUrl()); // connected before the reload, sends later
  await old.ready();
  await pub();
  assert.equal((await origin(B)).status, 403, 'origin B refused before the reload');
  const probe = await h.client(tickerd.wsUrl());
  await probe.ready();
  probe.ws.send('p'.repeat(100));
  let last = await pub();
  await probe.nextItem(last);
  assert.equal(probe.closeCode, null, '100 bytes is within the default --max-message');
  const csp0 = (await httpGet(tickerd.port, '/')).headers['content-security-policy'];
  assert.match(csp0, new RegExp(`frame-ancestors 'self' ${A}$`));

  // Allow B too and lower max-message to 64.
  fs.writeFileSync(file, `# tickerd test configuration\nallow-origin = ${A}, ${B}\nmax-message = 64\n`);
  const m0 = await getMetrics(tickerd.port);
  const line = await reload();
  assert.match(line, /SIGHUP: reloaded/, `log after SIGHUP: ${line}`);
  await pub();
  const b = await origin(B);
  assert.equal(b.status, 101, `origin B after the reload: HTTP ${b.status}`);
  last = await pub();
  await b.client.nextItem(last);
  b.client.ws.send('x'.repeat(100));
  const cb = await Promise.race([b.client.closed, sleep(3000).then(() => null)]);
  assert.equal(cb?.code, 1009, `a 100-byte message with max-message = 64: ${JSON.stringify(cb)}`);
  old.ws.send('y'.repeat(100)); // the new limit holds for connections made before the reload too
  const co = await Promise.race([old.closed, sleep(3000).then(() => null)]);
  assert.equal(co?.code, 1009, `a 100-byte message on a connection older than the reload: ${JSON.stringify(co)}`);
  const m1 = await getMetrics(tickerd.port);
  assert.equal(m1.value('tickerd_clients_closed_total', { code: '1009' }) - m0.value('tickerd_clients_closed_total', { code: '1009' }), 2);
  const csp1 = (await httpGet(tickerd.port, '/wall.html')).headers['content-security-policy'];
  assert.match(csp1, new RegExp(`frame-ancestors 'self' ${A} ${B}$`), 'the CSP follows the reloaded origins');
  last = await pub();
  await first.nextItem(last);
  assert.equal(first.closeCode, null, 'the client of origin A was not dropped by the reload');

  // Drop A from the list: A's open connection stays, a new page from A is refused.
  fs.writeFileSync(file, `allow-origin = ${B}\nmax-message = 64\n`);
  assert.match(await reload(), /SIGHUP: reloaded/);
  assert.equal((await origin(A)).status, 403, 'origin A refused once it is no longer listed');
  assert.equal((await origin(B)).status, 101);

  // A broken file: logged, nothing changes, nobody dropped.
  fs.writeFileSync(file, `allow-origin = ${A}\nmax-message = lots\n`);
  const bad = await reload();
  assert.match(bad, /not reloaded/, `a broken configuration must not be applied: ${bad}`);
  assert.ok(tickerd.isRunning());
  assert.equal((await origin(A)).status, 403, 'the broken file did not let origin A back in');
  assert.equal((await origin(B)).status, 101, 'origin B still admitted');
  last = await pub();
  await first.nextItem(last);
  await assertReceivedAll(redis.port, first, { name: 'client of origin A, connected since the start' });
  const m2 = await getMetrics(tickerd.port);
  assert.equal(m2.value('tickerd_handshakes_refused_total', { reason: 'origin' }), 3, 'B before, A twice after');
}));
