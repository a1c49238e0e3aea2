// tickerd behind Debian's HAProxy, configured with deploy/haproxy/haproxy.cfg
// (only addresses replaced): two tickerd with --proxy-protocol, checked on
// /livez. Redis frozen for 8 s: HAProxy keeps both in service (a check on
// /readyz would have taken both out after 6 s), the page and new readers are
// served, readers are told the feed is degraded and then that it is not, and
// nothing published durably meanwhile is lost.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { scenario, httpGet, freePort, rawRequest, buildRequest, REPO } from './harness.mjs';
import { SeqPublisher, Stream, settleAndCheck, waitUntil } from './checker.mjs';
import { startHaproxyWith } from './lib/proxy-servers.mjs';

const CFG = path.join(REPO, 'deploy', 'haproxy', 'haproxy.cfg');

/** /healthz of a tickerd behind --proxy-protocol: asked with "PROXY UNKNOWN". */
async function proxiedHealth(port) {
  const req = buildRequest('GET', '/healthz', { host: `127.0.0.1:${port}`, headers: { Connection: 'close' } });
  const r = await rawRequest(port, Buffer.from(`PROXY UNKNOWN\r\n${req}`, 'latin1'), { closeWaitMs: 0 });
  let json;
  try { json = JSON.parse(r.text); } catch { /* undefined */ }
  return { status: r.status, json, text: r.text };
}

/** deploy/'s configuration with this test's addresses in it. */
function render(port, upstreams) {
  let cfg = fs.readFileSync(CFG, 'utf8');
  // The test's own limit on descriptors (HAProxy asks for 2 x maxconn).
  cfg = cfg.replace(/^(\s*)maxconn \d+$/m, '$1maxconn 4096');
  cfg = cfg.replace(/^(\s*)bind :80$/m, `$1bind 127.0.0.1:${port}`);
  cfg = cfg.replace(/^(\s*)server t1 127\.0\.0\.1:8080$/m, `$1server t1 127.0.0.1:${upstreams[0]}`);
  cfg = cfg.replace(/^(\s*)server t2 127\.0\.0\.1:8081$/m, `$1server t2 127.0.0.1:${upstreams[1]}`);
  for (const what of ['bind :80', ':8080', ':8081', 'maxconn 100000']) assert.ok(!cfg.includes(what), `deploy/haproxy/haproxy.cfg changed: "${what}" not replaced`);
  return cfg;
}

/** HAProxy with deploy/'s configuration in front of upstreams. */
async function startHaproxy(h, upstreams) {
  const port = await freePort();
  const ha = await startHaproxyWith(render(port, upstreams), port);
  h.defer(() => ha.stop());
  return ha;
}

test('Redis frozen 8 s behind HAProxy (deploy/haproxy/haproxy.cfg, checks on /livez): the site keeps serving, readers are told degraded then ok, nothing recorded meanwhile is lost', { timeout: 60_000 }, scenario(async (t, h) => {
  const redis = await h.redis();
  const tds = [];
  for (let i = 0; i < 2; i++) tds.push(await h.tickerd({ redisUrl: redis.url, args: ['--proxy-protocol'], probe: proxiedHealth }));
  const ha = await startHaproxy(h, tds.map((td) => td.port));
  const on = (q) => h.client(`ws://127.0.0.1:${ha.port}/ws${q}`);
  const streams = [];
  for (let i = 0; i < 6; i++) {
    const s = new Stream(`R${i} (through HAProxy)`);
    await s.open(on, 'haproxy');
    streams.push(s);
  }
  // Both tickerd serve readers, each counted under the reader's address.
  const clients = await Promise.all(tds.map(async (td) => (await proxiedHealth(td.port)).json.clients));
  assert.equal(clients[0] + clients[1], 6, `clients per tickerd: ${clients}`);
  // Durable publishing (FCALL): recorded once Redis runs again.
  const pub = new SeqPublisher(redis.port, { fcall: true, intervalMs: 100, timeoutMs: 20_000 }).start();
  h.defer(() => pub.stop());
  await waitUntil(() => streams.every((s) => s.itemCount() >= 3), 5000, () => `first items; ${pub.summary()}`);

  const pid = redis.pid();
  h.defer(() => { try { process.kill(pid, 'SIGCONT'); } catch { /* gone */ } });
  process.kill(pid, 'SIGSTOP');
  const frozenAt = Date.now();
  let pages = 0;
  let late = null;
  while (Date.now() - frozenAt < 8000) {
    const page = await httpGet(ha.port, '/', { timeoutMs: 2000 });
    assert.equal(page.status, 200, `the page through HAProxy ${Date.now() - frozenAt} ms into the freeze`);
    pages++;
    if (!late && Date.now() - frozenAt > 7000) {
      // After 7 s: a check on /readyz (every 2 s, 3 failures) would have
      // taken both tickerd out of service by now.
      late = new Stream('L (joins 7 s into the freeze)');
      await late.open(on, 'haproxy, during the freeze');
    }
    await sleep(250);
  }
  process.kill(pid, 'SIGCONT');
  const thawedAt = Date.now();
  assert.ok(late, 'a reader joined during the freeze');
  assert.equal(late.current().hello.feed.state, 'degraded', `the newcomer is told in its hello: ${JSON.stringify(late.current().hello)}`);
  for (const s of [...streams, late]) {
    await s.current().next((j) => j.type === 'feed' && j.state === 'ok', 8000, `${s.name}: feed ok`);
  }
  for (const s of streams) {
    const states = s.current().ofType('feed').map((f) => f.state);
    assert.deepEqual(states, ['degraded', 'ok'], `${s.name} told degraded, then ok`);
  }
  t.diagnostic(`${pages} pages through HAProxy during the 8 s freeze; feed ok at every reader ${Date.now() - thawedAt} ms after SIGCONT`);
  assert.doesNotMatch(ha.log(), /is DOWN/, 'HAProxy took a tickerd out of service');
  const { log } = await settleAndCheck({ port: redis.port, pub, streams: [...streams, late], timeoutMs: 15_000 });
  t.diagnostic(`log ${log.length} entries; ${pub.summary()}`);
}));
