// Behind a proxy, every connection comes from the proxy's address: without
// --proxy-protocol or --trusted-proxy, `--max-per-ip 500` refused reader 501
// through nginx, and the page's own origin through a proxy on another port
// was refused. Here real proxies stand in front of tickerd (Debian's HAProxy
// with send-proxy and send-proxy-v2, nginx with the usual WebSocket config),
// readers connect from many loopback addresses (127.0.0.2, 127.0.0.3, ...),
// and the limits, logs and metrics must see those addresses; forwarding
// headers from peers that are not trusted must change nothing; a connection
// without a PROXY header when one is expected is closed and counted.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {
  scenario, getMetrics, parsePrometheus, rawConnect, rawRequest, rawWsOpen, buildRequest,
  REFUSED, refused, hostOf, makeTmpDir, removeTmpDir,
} from './harness.mjs';
import { startHaproxy, startNginx } from './lib/proxy-servers.mjs';
import { waitUntil } from './checker.mjs';

const T = { timeout: 20_000 };
const at = (i) => `127.0.0.${i}`;

// ---------------------------------------------------------------------------
// A tickerd behind --proxy-protocol answers only after a PROXY header: its
// /healthz and /metrics are read with "PROXY UNKNOWN" (the peer's own).

const UNKNOWN = 'PROXY UNKNOWN\r\n';
const V2_SIG = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);

/** A v1 header naming src as the client. */
const v1 = (src, sport = 40000) => `PROXY TCP4 ${src} 127.0.0.1 ${sport} 80\r\n`;

/** A v2 LOCAL header (a proxy's health check): the peer's address stands. */
const v2Local = () => Buffer.concat([V2_SIG, Buffer.from([0x20, 0x00, 0x00, 0x00])]);

async function proxiedGet(port, urlPath, header = UNKNOWN) {
  const req = buildRequest('GET', urlPath, { host: hostOf(port), headers: { Connection: 'close' } });
  return rawRequest(port, Buffer.concat([Buffer.from(header, 'latin1'), Buffer.from(req, 'latin1')]), { closeWaitMs: 0 });
}

async function proxiedHealth(port) {
  const r = await proxiedGet(port, '/healthz');
  let json;
  try { json = JSON.parse(r.text); } catch { /* undefined */ }
  return { status: r.status, json, text: r.text };
}

async function proxiedMetrics(port) {
  const r = await proxiedGet(port, '/metrics');
  assert.equal(r.status, 200, `GET /metrics behind --proxy-protocol: ${r.headText}`);
  return parsePrometheus(r.text);
}

/** A WebSocket handshake through port from localAddress, left open until teardown. */
async function reader(h, port, localAddress, opts = {}) {
  const r = await rawWsOpen(port, '/ws', { localAddress, ...opts });
  h.defer(() => r.conn.destroy());
  return r;
}

/** addresses.length x perAddress readers through port: the statuses by address. */
async function readers(h, port, addresses, perAddress) {
  const out = {};
  for (const a of addresses) {
    out[a] = [];
    for (let i = 0; i < perAddress; i++) out[a].push((await reader(h, port, a)).status);
  }
  return out;
}

const count = (statuses, code) => Object.values(statuses).flat().filter((s) => s === code).length;

// ---------------------------------------------------------------------------
// HAProxy, PROXY protocol v1 and v2

for (const send of ['send-proxy', 'send-proxy-v2']) {
  test(`HAProxy ${send} -> tickerd --proxy-protocol --max-per-ip 3: 20 addresses x 3 readers all admitted; the 4th from one address refused (429) and logged with that address; another address still admitted; /healthz counts 61`, T, scenario(async (t, h) => {
    const { tickerd } = await h.env({ args: ['--proxy-protocol', '--max-per-ip', '3', '--log-level', 'info'], probe: proxiedHealth });
    const hap = await startHaproxy(tickerd.port, { send });
    h.defer(() => hap.stop());
    const m0 = await proxiedMetrics(tickerd.port);

    const addresses = Array.from({ length: 20 }, (_, i) => at(i + 2));
    const statuses = await readers(h, hap.port, addresses, 3);
    const fourth = await reader(h, hap.port, at(2));
    const other = await reader(h, hap.port, at(40));
    const m1 = await proxiedMetrics(tickerd.port);
    const health = await proxiedHealth(tickerd.port);
    const perIp = refused(m1, 'max_per_ip') - refused(m0, 'max_per_ip');
    t.diagnostic(`through HAProxy (${send}): ${count(statuses, 101)}/60 admitted from 20 addresses, 4th from ${at(2)}: ${fourth.status}, ${at(40)}: ${other.status}; max_per_ip refusals +${perIp}; clients ${health.json?.clients}`);

    assert.equal(count(statuses, 101), 60, `every reader of 20 addresses x 3 must be admitted through HAProxy at --max-per-ip 3 (tickerd must judge each by the address in the PROXY header, not HAProxy's 127.0.0.1): ${JSON.stringify(statuses)}`);
    assert.equal(fourth.status, 429, `a 4th reader from ${at(2)} must be refused with 429`);
    assert.equal(other.status, 101, `a reader from ${at(40)} must still be admitted`);
    assert.equal(perIp, 1, `${REFUSED}{reason="max_per_ip"} must grow by exactly 1`);
    assert.equal(health.json?.clients, 61, `/healthz clients: ${health.text}`);
    assert.match(tickerd.log(), new RegExp(`refused a client from ${at(2).replace(/\./g, '\\.')}: max_per_ip`), 'the refusal is logged with the real address');
    assert.doesNotMatch(tickerd.log(), /refused a client from 127\.0\.0\.1: max_per_ip/, 'no refusal is logged against the proxy\'s address');
  }));
}

test('--proxy-protocol: per-address counts move to the header\'s address and are released: 3 unfinished requests "from" 203.0.113.5 (--max-per-ip 3) close a 4th at once, other addresses are served, and once the 3 leave 203.0.113.5 is served again; readers leave and their address gets in again', T, scenario(async (t, h) => {
  const { tickerd } = await h.env({ args: ['--proxy-protocol', '--max-per-ip', '3'], probe: proxiedHealth });
  const port = tickerd.port;
  const m0 = await proxiedMetrics(port);

  const held = [];
  h.defer(() => { for (const c of held) c.destroy(); });
  for (let i = 0; i < 3; i++) {
    const c = await rawConnect(port);
    held.push(c);
    await c.write(`${v1('203.0.113.5', 41000 + i)}GET /healthz HTTP/1.1\r\n`); // unfinished
  }
  await new Promise((r) => setTimeout(r, 200));
  const fourth = await rawConnect(port);
  h.defer(() => fourth.destroy());
  await fourth.write(`${v1('203.0.113.5', 41009)}GET /healthz HTTP/1.1\r\n`);
  const { closed } = await fourth.waitClosed(2000);
  const elsewhere = await proxiedGet(port, '/healthz', v1('203.0.113.6'));
  for (const c of held) c.destroy();
  await Promise.all(held.map((c) => c.waitClosed(2000)));
  await new Promise((r) => setTimeout(r, 200));
  const again = await proxiedGet(port, '/healthz', v1('203.0.113.5'));
  const m1 = await proxiedMetrics(port);
  t.diagnostic(`4th unfinished from 203.0.113.5 closed: ${closed}; 203.0.113.6: ${elsewhere.status}; 203.0.113.5 after the 3 left: ${again.status}`);
  assert.ok(closed, `a 4th unfinished request from 203.0.113.5 (per its PROXY header) must be closed at --max-per-ip 3; ${fourth.describe()}`);
  assert.equal(elsewhere.status, 200, 'another address (203.0.113.6) is served meanwhile');
  assert.equal(again.status, 200, '203.0.113.5 is served again once its 3 unfinished connections left (no count leaked)');
  assert.equal(refused(m1, 'unfinished') - refused(m0, 'unfinished'), 1, `${REFUSED}{reason="unfinished"} must grow by 1`);

  // Readers: 3 from 203.0.113.7 (header v1), the 4th refused; they leave; one gets in again.
  const ws = async (src) => {
    const c = await rawConnect(port);
    h.defer(() => c.destroy());
    await c.write(v1(src) + buildRequest('GET', '/ws', { host: hostOf(port), headers: { Upgrade: 'websocket', Connection: 'Upgrade', 'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==', 'Sec-WebSocket-Version': '13' } }));
    return { c, head: await c.readHead() };
  };
  const three = [await ws('203.0.113.7'), await ws('203.0.113.7'), await ws('203.0.113.7')];
  const over = await ws('203.0.113.7');
  assert.deepEqual(three.map((r) => r.head.status), [101, 101, 101]);
  assert.equal(over.head.status, 429, 'the 4th reader from 203.0.113.7 is refused');
  for (const r of three) r.c.destroy();
  await Promise.all(three.map((r) => r.c.waitClosed(2000)));
  await new Promise((r) => setTimeout(r, 300));
  const back = await ws('203.0.113.7');
  assert.equal(back.head.status, 101, 'once its readers left, 203.0.113.7 is admitted again');
}));

test('--proxy-protocol: no header, a garbage header or a header cut short are closed without an answer and counted as proxy_header (and logged); PROXY UNKNOWN, a v2 LOCAL header and a v1 header sent a byte at a time are served', T, scenario(async (t, h) => {
  const { tickerd } = await h.env({ args: ['--proxy-protocol'], probe: proxiedHealth });
  const port = tickerd.port;
  const m0 = await proxiedMetrics(port);
  const get = buildRequest('GET', '/healthz', { host: hostOf(port), headers: { Connection: 'close' } });

  const refusedBytes = {
    'no header': get,
    garbage: `PROXY TCP4 bogus 127.0.0.1 1 2\r\n${get}`,
    'TLS hello': Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc]),
    'v1 without end, past 107 bytes': `PROXY TCP4 ${'1'.repeat(120)}`,
  };
  for (const [what, bytes] of Object.entries(refusedBytes)) {
    const c = await rawConnect(port);
    h.defer(() => c.destroy());
    await c.write(bytes);
    const { closed } = await c.waitClosed(2000);
    assert.ok(closed, `${what}: the connection must be closed; ${c.describe()}`);
    assert.equal(c.received.length, 0, `${what}: closed without a byte; ${c.describe()}`);
  }
  // Cut short: the peer ends its side within the header.
  const cut = await rawConnect(port);
  h.defer(() => cut.destroy());
  await cut.write('PROXY TCP4 192.0.2.1 ');
  cut.socket.end();
  assert.ok((await cut.waitClosed(2000)).closed, 'a header cut short is closed');

  const unknown = await proxiedGet(port, '/healthz', UNKNOWN);
  assert.equal(unknown.status, 200, 'PROXY UNKNOWN: served');
  const local = await rawRequest(port, Buffer.concat([v2Local(), Buffer.from(get, 'latin1')]), { closeWaitMs: 0 });
  assert.equal(local.status, 200, 'a v2 LOCAL header: served');
  const drip = await rawConnect(port);
  h.defer(() => drip.destroy());
  for (const ch of v1('198.51.100.3')) { await drip.write(ch); await new Promise((r) => setTimeout(r, 5)); }
  await drip.write(get);
  assert.equal((await drip.readResponse()).status, 200, 'a v1 header in 1-byte pieces: served');

  const m1 = await proxiedMetrics(port);
  const delta = refused(m1, 'proxy_header') - refused(m0, 'proxy_header');
  t.diagnostic(`${REFUSED}{reason="proxy_header"} +${delta}`);
  assert.equal(delta, 5, `${REFUSED}{reason="proxy_header"} must count the 4 refused and the one cut short`);
  assert.match(tickerd.log(), /without a PROXY header \(--proxy-protocol\): closed/, 'the first such connection is logged');
}));

// ---------------------------------------------------------------------------
// nginx, X-Forwarded-For, --trusted-proxy

test('nginx (Host $host, X-Forwarded-For) on its own port -> tickerd --trusted-proxy 127.0.0.1/32 --max-per-ip 3: 10 addresses x 3 admitted, the 4th from one refused 429; Origin http://127.0.0.1:<nginx port> accepted through nginx, refused direct; another site\'s Origin refused; EventSource readers counted by the same real address', T, scenario(async (t, h) => {
  const { tickerd } = await h.env({ args: ['--trusted-proxy', '127.0.0.1/32', '--max-per-ip', '3', '--log-level', 'info'] });
  const ngx = await startNginx(tickerd.port);
  h.defer(() => ngx.stop());
  const m0 = await getMetrics(tickerd.port);

  const addresses = Array.from({ length: 10 }, (_, i) => at(i + 2));
  const statuses = await readers(h, ngx.port, addresses, 3);
  const fourth = await reader(h, ngx.port, at(2));
  const own = await reader(h, ngx.port, at(20), { origin: `http://127.0.0.1:${ngx.port}` });
  const evil = await reader(h, ngx.port, at(21), { origin: 'http://evil.example' });
  const direct = await reader(h, tickerd.port, at(22), { origin: `http://127.0.0.1:${ngx.port}` });
  // EventSource readers are counted by the same address: 127.0.0.3 has its 3.
  const events = async (a) => {
    const c = await rawConnect(ngx.port, { localAddress: a });
    h.defer(() => c.destroy());
    await c.write(buildRequest('GET', '/events', { host: hostOf(ngx.port), headers: { Accept: 'text/event-stream' } }));
    return (await c.readHead()).status;
  };
  const sseFull = await events(at(3));
  const sseFree = await events(at(23));
  const m1 = await getMetrics(tickerd.port);
  const health = (await tickerd.health()).json;
  t.diagnostic(`through nginx: ${count(statuses, 101)}/30 admitted from 10 addresses; 4th from ${at(2)}: ${fourth.status}; own origin via nginx: ${own.status}, evil origin: ${evil.status}, own origin direct: ${direct.status}; EventSource from ${at(3)}: ${sseFull}, from ${at(23)}: ${sseFree}; clients ${health?.clients}`);

  assert.equal(count(statuses, 101), 30, `every reader of 10 addresses x 3 must be admitted through nginx at --max-per-ip 3: ${JSON.stringify(statuses)}\n--- nginx ---\n${ngx.log()}`);
  assert.equal(fourth.status, 429, `a 4th reader from ${at(2)} through nginx must be refused with 429`);
  assert.equal(own.status, 101, `Origin http://127.0.0.1:${ngx.port} (the page's own origin through nginx) must be accepted: ${own.response?.text}`);
  assert.equal(evil.status, 403, 'another site\'s Origin is still refused through nginx');
  assert.equal(direct.status, 403, 'the nginx origin sent straight to tickerd (Host with tickerd\'s port) is refused');
  assert.equal(sseFull, 429, 'an EventSource reader from 127.0.0.3 (3 WebSocket readers already) is refused through nginx');
  assert.equal(sseFree, 200, 'an EventSource reader from 127.0.0.23 is admitted through nginx');
  assert.equal(refused(m1, 'max_per_ip') - refused(m0, 'max_per_ip'), 2, `${REFUSED}{reason="max_per_ip"} +2 (a WebSocket, an EventSource)`);
  assert.equal(health?.clients, 32, 'clients: 30 readers, the own-origin one, an EventSource');
  assert.match(tickerd.log(), /refused a client from 127\.0\.0\.2: max_per_ip/, 'the refusal is logged with the real address');
}));

test('the issue, as it was: nginx -> tickerd without --trusted-proxy at --max-per-ip 3: of 10 addresses x 3 readers only 3 are admitted (all come from 127.0.0.1), and the page\'s own origin through nginx is refused', T, scenario(async (t, h) => {
  const { tickerd } = await h.env({ args: ['--max-per-ip', '3'] });
  const ngx = await startNginx(tickerd.port);
  h.defer(() => ngx.stop());
  const statuses = await readers(h, ngx.port, Array.from({ length: 10 }, (_, i) => at(i + 2)), 3);
  const own = await reader(h, ngx.port, at(20), { origin: `http://127.0.0.1:${ngx.port}` });
  t.diagnostic(`without --trusted-proxy, through nginx: ${count(statuses, 101)}/30 admitted, ${count(statuses, 429)} refused 429; own origin: ${own.status}`);
  assert.equal(count(statuses, 101), 3, `without --trusted-proxy every reader is nginx's 127.0.0.1: ${JSON.stringify(statuses)}`);
  assert.equal(own.status, 403, 'and the page\'s own origin through nginx is refused');
}));

test('the issue\'s numbers: 600 readers (100 from each of 127.0.0.2-7) at the default --max-per-ip 500: through nginx 500 admitted and 100 refused without --trusted-proxy, all 600 with it; through HAProxy send-proxy-v2 with --proxy-protocol all 600', T, scenario(async (t, h) => {
  /** 100 readers from each of 127.0.0.2-7 at once per address: { status: count }. */
  const six = async (port) => {
    const out = {};
    for (let a = 2; a <= 7; a++) {
      const rs = await Promise.all(Array.from({ length: 100 }, () => reader(h, port, at(a), { timeoutMs: 10_000 })));
      for (const r of rs) out[r.status] = (out[r.status] ?? 0) + 1;
    }
    return out;
  };
  const plain = await h.env();
  const ngxPlain = await startNginx(plain.tickerd.port);
  h.defer(() => ngxPlain.stop());
  const before = await six(ngxPlain.port);

  const trusted = await h.env({ args: ['--trusted-proxy', '127.0.0.1'] });
  const ngx = await startNginx(trusted.tickerd.port);
  h.defer(() => ngx.stop());
  const viaNginx = await six(ngx.port);

  const pp = await h.env({ args: ['--proxy-protocol'], probe: proxiedHealth });
  const hap = await startHaproxy(pp.tickerd.port, { send: 'send-proxy-v2' });
  h.defer(() => hap.stop());
  const viaHaproxy = await six(hap.port);
  t.diagnostic(`600 readers, default --max-per-ip 500: nginx, no --trusted-proxy ${JSON.stringify(before)}; nginx + --trusted-proxy ${JSON.stringify(viaNginx)}; HAProxy send-proxy-v2 + --proxy-protocol ${JSON.stringify(viaHaproxy)}`);
  assert.deepEqual(before, { 101: 500, 429: 100 }, 'without --trusted-proxy, the issue: nginx\'s address is everyone\'s');
  assert.deepEqual(viaNginx, { 101: 600 }, 'through nginx with --trusted-proxy: every reader admitted');
  assert.deepEqual(viaHaproxy, { 101: 600 }, 'through HAProxy with --proxy-protocol: every reader admitted');
  assert.equal((await pp.tickerd.health()).json?.clients, 600);
}));

test('nginx with X-Forwarded-Host $http_host and X-Forwarded-Proto $scheme: the origin is compared with its port: http://127.0.0.1:<nginx port> accepted, another port and https refused', T, scenario(async (t, h) => {
  const { tickerd } = await h.env({ args: ['--trusted-proxy', '127.0.0.1'] });
  const ngx = await startNginx(tickerd.port, { extra: 'proxy_set_header X-Forwarded-Host $http_host; proxy_set_header X-Forwarded-Proto $scheme;' });
  h.defer(() => ngx.stop());
  const own = await reader(h, ngx.port, at(2), { origin: `http://127.0.0.1:${ngx.port}` });
  const port = await reader(h, ngx.port, at(2), { origin: `http://127.0.0.1:${ngx.port + 1}` });
  const https = await reader(h, ngx.port, at(2), { origin: `https://127.0.0.1:${ngx.port}` });
  t.diagnostic(`own ${own.status}, other port ${port.status}, https ${https.status}`);
  assert.equal(own.status, 101, 'the page\'s own origin through nginx');
  assert.equal(port.status, 403, 'the same host on another port');
  assert.equal(https.status, 403, 'https when nginx says http');
}));

test('--trusted-proxy 127.0.0.1/32 --max-per-ip 2: X-Forwarded-For from an untrusted peer (127.0.0.9) is ignored: its 3rd reader is refused whatever the header says; from the trusted 127.0.0.1 the same three are three clients', T, scenario(async (t, h) => {
  const { tickerd } = await h.env({ args: ['--trusted-proxy', '127.0.0.1/32', '--max-per-ip', '2'] });
  const port = tickerd.port;
  const xff = (i) => ({ headers: [['X-Forwarded-For', `1.2.3.${i}`]] });
  const untrusted = [];
  for (let i = 1; i <= 3; i++) untrusted.push((await reader(h, port, at(9), xff(i))).status);
  const trusted = [];
  for (let i = 1; i <= 3; i++) trusted.push((await reader(h, port, at(1), xff(i))).status);
  // Spoofing from behind the proxy: a client's own X-Forwarded-For lands left of what the proxy adds.
  const spoof = [];
  for (let i = 1; i <= 3; i++) spoof.push((await reader(h, port, at(1), { headers: [['X-Forwarded-For', `6.6.6.${i}, 198.51.100.7`]] })).status);
  t.diagnostic(`untrusted 127.0.0.9 with XFF 1.2.3.1-3: ${untrusted}; trusted 127.0.0.1: ${trusted}; "6.6.6.x, 198.51.100.7": ${spoof}`);
  assert.deepEqual(untrusted, [101, 101, 429], 'an untrusted peer is judged by its own address');
  assert.deepEqual(trusted, [101, 101, 101], 'from a trusted proxy, each X-Forwarded-For address is a client');
  assert.deepEqual(spoof, [101, 101, 429], 'only the right-most untrusted address counts');
}));

test('SIGHUP reads --trusted-proxy again: X-Forwarded-For from 127.0.0.1 is ignored before it is listed (3rd reader refused at --max-per-ip 2), believed after (three addresses, three clients); the log names the ranges', T, scenario(async (t, h) => {
  const dir = makeTmpDir('tickerd-e2e-proxy-conf-');
  h.defer(() => removeTmpDir(dir));
  const file = path.join(dir, 'tickerd.conf');
  fs.writeFileSync(file, 'max-per-ip = 2\n');
  const { tickerd } = await h.env({ args: ['--config', file] });
  const xff = (a) => ({ headers: [['X-Forwarded-For', a]] });
  const before = [];
  for (let i = 1; i <= 3; i++) before.push((await reader(h, tickerd.port, at(1), xff(`1.2.3.${i}`))).status);

  fs.writeFileSync(file, 'max-per-ip = 2\ntrusted-proxy = 127.0.0.1, 10.0.0.0/8\n');
  const from = tickerd.log().length;
  tickerd.kill('SIGHUP');
  let line;
  await waitUntil(() => (line = tickerd.log().slice(from).split('\n').find((l) => /SIGHUP: /.test(l))), 3000, 'the SIGHUP log line');
  const after = [];
  for (let i = 1; i <= 3; i++) after.push((await reader(h, tickerd.port, at(1), xff(`5.6.7.${i}`))).status);
  t.diagnostic(`before: ${before}; after: ${after}; ${line}`);
  assert.deepEqual(before, [101, 101, 429], 'before the reload 127.0.0.1 is not trusted: judged by its own address');
  assert.match(line, /SIGHUP: reloaded: .*trusted-proxy=127\.0\.0\.1\/32,10\.0\.0\.0\/8/, 'the reload logs the ranges');
  assert.deepEqual(after, [101, 101, 101], 'after it, each X-Forwarded-For address is a client');
}));
