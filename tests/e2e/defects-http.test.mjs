// Defects found by an attack from outside, HTTP side, part 1: how tickerd
// reads a request head (the "front door"). The clients are raw `net`
// sockets that send exactly the bytes an attacker sends: partial heads, one
// byte a second, a thousand unfinished requests from one address,
// oversized and malformed heads, other methods and versions. SPEC items
// (of the front-door rewrite): 1 handshake timeout, 2 unfinished
// connections per address, 3 head size / syntax, 4 methods. Part 2
// (defects-http-answers.test.mjs) has 5-11 and 13; 12, 14 and 15 are in
// defects-ws.test.mjs. Metric assertions compare deltas of
// tickerd_handshakes_refused_total{reason} before/after.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  scenario, getMetrics, getHealth, connectSSE, WEB_DIR, makeTmpDir, removeTmpDir,
  itemPublisher as publisher,
  rawConnect, rawRequest, buildRequest, rawWsOpen, assertHardenedHeaders, processCpuSeconds,
  REFUSED, refused, refusedDelta, hostOf, expectStatus, longOrigin, fourRequests, assertAllFast,
} from './harness.mjs';

const T = { timeout: 30_000 };
const T60 = { timeout: 60_000 };

// ---------------------------------------------------------------------------
// SPEC 1: the handshake timeout

test('SPEC 1: --handshake-timeout 2: a partial head and a head dripped a byte every 300 ms get 408 and are closed at ~2 s; a silent connection is closed without a byte; all counted as timeout', T, scenario(async (t, h) => {
  const { tickerd } = await h.env({ args: ['--handshake-timeout', '2'] });
  const port = tickerd.port;
  const m0 = await getMetrics(port);

  const partial = await rawConnect(port);
  h.defer(() => partial.destroy());
  await partial.write(`GET /healthz HTTP/1.1\r\nHost: ${hostOf(port)}\r\n`);

  const drip = await rawConnect(port);
  h.defer(() => drip.destroy());
  const dripText = `GET /healthz HTTP/1.1\r\nHost: ${hostOf(port)}\r\nX-Slow: ${'s'.repeat(100)}`;
  let sent = 0;
  const timer = setInterval(() => { if (!drip.isClosed && sent < dripText.length) drip.write(dripText[sent++]); }, 300);
  h.defer(() => clearInterval(timer));

  const silent = await rawConnect(port);
  h.defer(() => silent.destroy());

  await Promise.all([partial, drip, silent].map((c) => c.waitClosed(6000)));
  clearInterval(timer);
  const since = (c) => (c.closedAt ?? Date.now()) - c.openedAt;
  t.diagnostic(`partial head closed after ${since(partial)} ms, drip after ${since(drip)} ms (${sent} bytes sent), silent after ${since(silent)} ms`);

  for (const [what, c] of [['partial head', partial], ['head dripped a byte every 300 ms', drip]]) {
    assert.ok(c.isClosed, `${what}: still open 6 s after accept with --handshake-timeout 2; ${c.describe()}`);
    assert.match(c.received.toString('latin1'), /^HTTP\/1\.1 408 /, `${what}: expected a 408 before the close; ${c.describe()}`);
    assert.ok(since(c) >= 1500 && since(c) <= 4000, `${what}: closed ${since(c)} ms after accept; expected ~2 s (1.5-4 s)`);
  }
  assert.ok(silent.isClosed, `a silent connection is still open 6 s after accept; ${silent.describe()}`);
  assert.equal(silent.received.length, 0, `a connection that sent nothing is closed silently; ${silent.describe()}`);
  assert.ok(since(silent) >= 1500 && since(silent) <= 4000, `silent connection closed ${since(silent)} ms after accept; expected ~2 s`);
  assert.equal(await refusedDelta(port, m0, 'timeout'), 3, `${REFUSED}{reason="timeout"} must grow by 3 (partial, drip, silent)`);
}));

test('SPEC 1: keep-alive: the timeout runs from the previous response: an idle keep-alive connection is closed silently, a partial second head gets 408; requests inside the window are served', T, scenario(async (t, h) => {
  const { tickerd } = await h.env({ args: ['--handshake-timeout', '2'] });
  const port = tickerd.port;
  const get = buildRequest('GET', '/healthz', { host: hostOf(port) });

  // Served at 1.2 s after accept, and again 1.2 s after that response (2.4 s after accept).
  const slow = await rawConnect(port);
  h.defer(() => slow.destroy());
  await sleep(1200);
  await slow.write(get);
  const r1 = await slow.readResponse({ timeoutMs: 3000 });
  assert.equal(r1.status, 200, `first request 1.2 s after accept: ${r1.headText}`);
  await sleep(1200);
  assert.ok(!slow.isClosed, 'a keep-alive connection must stay open 1.2 s after its response (the window restarts with each response)');
  await slow.write(get);
  const r2 = await slow.readResponse({ timeoutMs: 3000 });
  assert.equal(r2.status, 200, `second request 1.2 s after the first response: ${r2.headText}`);

  const m0 = await getMetrics(port);
  // Idle after a response: closed silently ~2 s later.
  const idle = await rawConnect(port);
  h.defer(() => idle.destroy());
  await idle.write(get);
  assert.equal((await idle.readResponse()).status, 200);
  const idleResponded = Date.now();
  const afterIdle = idle.received.length;
  // Partial second head: 408 ~2 s after the first response.
  const part = await rawConnect(port);
  h.defer(() => part.destroy());
  await part.write(get);
  assert.equal((await part.readResponse()).status, 200);
  const partResponded = Date.now();
  await sleep(300);
  await part.write('GET /healthz HTTP/1.1\r\n');

  await Promise.all([idle.waitClosed(6000), part.waitClosed(6000)]);
  const idleMs = (idle.closedAt ?? Date.now()) - idleResponded;
  const partMs = (part.closedAt ?? Date.now()) - partResponded;
  t.diagnostic(`idle keep-alive closed ${idleMs} ms after its response; partial second head closed ${partMs} ms after the first response`);
  assert.ok(idle.isClosed, `an idle keep-alive connection is still open 6 s after its response with --handshake-timeout 2; ${idle.describe()}`);
  assert.equal(idle.received.length, afterIdle, `an idle keep-alive connection is closed silently (no bytes after its response); ${idle.describe()}`);
  assert.ok(idleMs >= 1500 && idleMs <= 4000, `idle keep-alive connection closed ${idleMs} ms after its response; expected ~2 s`);
  assert.ok(part.isClosed, `a partial second head is still open 6 s after the first response; ${part.describe()}`);
  const rest = part.buf.toString('latin1');
  assert.match(rest, /^HTTP\/1\.1 408 /, `a partial second head gets 408; after the first response it got ${JSON.stringify(rest.slice(0, 200))}`);
  assert.ok(partMs >= 1500 && partMs <= 4000, `partial second head closed ${partMs} ms after the first response; expected ~2 s`);
  assert.ok(await refusedDelta(port, m0, 'timeout') >= 1, `${REFUSED}{reason="timeout"} must count the partial second head`);
}));

// ---------------------------------------------------------------------------
// SPEC 2: unfinished connections per address (slowloris from one address)

test('SPEC 2: --max-per-ip 50: 50 idle sockets + 50 sending a header byte a second from 127.0.0.3 -- a WebSocket, an EventSource, /healthz and a file from 127.0.0.2 each complete within 1 s; the 50 over the cap are closed at once and counted', T, scenario(async (t, h) => {
  const { tickerd } = await h.env({ args: ['--max-per-ip', '50'] });
  const port = tickerd.port;
  const m0 = await getMetrics(port);
  const all = [];
  h.defer(() => { for (const c of all) c.destroy(); });
  const idle = [];
  for (let i = 0; i < 50; i++) {
    const c = await rawConnect(port, { localAddress: '127.0.0.3' });
    idle.push(c);
    all.push(c);
  }
  await sleep(200);
  const drip = [];
  const text = `GET /healthz HTTP/1.1\r\nHost: ${hostOf(port)}\r\nX-Slow: ${'s'.repeat(100)}`;
  for (let i = 0; i < 50; i++) {
    const c = await rawConnect(port, { localAddress: '127.0.0.3' });
    c.write(text[0]);
    drip.push(c);
    all.push(c);
  }
  let k = 1;
  const timer = setInterval(() => { for (const c of drip) if (!c.isClosed) c.write(text[k]); k++; }, 1000);
  h.defer(() => clearInterval(timer));
  await sleep(1500);

  // The cap, as it stands 1.5 s after the drippers came (before the requests below take their time).
  const openIdle = idle.filter((c) => !c.isClosed).length;
  const closedDrip = drip.filter((c) => c.isClosed);
  const fastClosed = closedDrip.filter((c) => c.closedAt - c.openedAt < 1000).length;
  t.diagnostic(`127.0.0.3: ${openIdle}/50 idle still open; ${closedDrip.length}/50 drippers closed, ${fastClosed} of them within 1 s of connecting`);
  const times = await fourRequests(port, '127.0.0.2');
  t.diagnostic(`from 127.0.0.2 with 100 unfinished connections from 127.0.0.3: ${JSON.stringify(times)}`);
  assertAllFast(times, '100 unfinished connections from 127.0.0.3');
  assert.equal(openIdle, 50, 'the first 50 unfinished connections (within the cap, within the timeout) stay open');
  assert.equal(fastClosed, 50, `each unfinished connection over --max-per-ip 50 is closed at once; ${closedDrip.length} of 50 closed, ${fastClosed} within 1 s`);
  assert.equal(await refusedDelta(port, m0, 'unfinished'), 50, `${REFUSED}{reason="unfinished"} must grow by one per connection closed over the cap`);
}));

test('SPEC 2: --max-per-ip 50: 1,000 sockets from 127.0.0.3 sending a partial request line -- all but 50 closed at once (counted); requests from 127.0.0.2 each complete within 1 s', T60, scenario(async (t, h) => {
  const { tickerd } = await h.env({ args: ['--max-per-ip', '50'] });
  const port = tickerd.port;
  const m0 = await getMetrics(port);
  const conns = [];
  h.defer(() => { for (const c of conns) c.destroy(); });
  let refusedAtConnect = 0;
  for (let b = 0; b < 10; b++) {
    const batch = await Promise.allSettled(Array.from({ length: 100 }, () => rawConnect(port, { localAddress: '127.0.0.3', timeoutMs: 5000 })));
    for (const s of batch) {
      if (s.status === 'fulfilled') {
        s.value.write('GET /healthz HTT');
        conns.push(s.value);
      } else {
        refusedAtConnect++;
      }
    }
  }
  await sleep(1000);
  const open = conns.filter((c) => !c.isClosed).length;
  t.diagnostic(`1,000 partial request lines from 127.0.0.3: ${conns.length} connected (${refusedAtConnect} failed to connect), ${open} still open 1 s later`);

  const times = await fourRequests(port, '127.0.0.2');
  t.diagnostic(`from 127.0.0.2: ${JSON.stringify(times)}`);
  assertAllFast(times, '1,000 partial request lines from 127.0.0.3');
  assert.ok(open <= 50, `at most --max-per-ip (50) unfinished connections from 127.0.0.3 may stay open; ${open} are`);
  assert.ok(conns.length - open + refusedAtConnect >= 950, `most of the 1,000 must be closed as over the cap; ${conns.length - open + refusedAtConnect} were`);
  assert.ok(await refusedDelta(port, m0, 'unfinished') >= 950, `${REFUSED}{reason="unfinished"} must count the connections closed over the cap`);
}));

// ---------------------------------------------------------------------------
// SPEC 3: head size and syntax

test('SPEC 3: a head larger than 8 KiB (one long header, many headers, a long request line) gets 431 and is closed, counted as too_large; a 6 KiB head is served', T, scenario(async (t, h) => {
  const { tickerd } = await h.env();
  const port = tickerd.port;
  const host = hostOf(port);
  const m0 = await getMetrics(port);
  const many = [];
  for (let i = 0; i < 100; i++) many.push([`X-Header-${i}`, 'b'.repeat(90)]);
  const cases = [
    ['one 9,000-byte header', buildRequest('GET', '/healthz', { host, headers: { 'X-Pad': 'a'.repeat(9000) } })],
    ['100 headers of ~100 bytes', buildRequest('GET', '/healthz', { host, headers: many })],
    ['a 9,000-byte request target', buildRequest('GET', `/healthz?x=${'c'.repeat(9000)}`, { host })],
  ];
  for (const [what, bytes] of cases) {
    assert.ok(bytes.length > 8192);
    await expectStatus(port, bytes, 431, what);
  }
  assert.equal(await refusedDelta(port, m0, 'too_large'), cases.length, `${REFUSED}{reason="too_large"} must grow by one per 431`);
  // Under the limit: served.
  await expectStatus(port, buildRequest('GET', '/healthz', { host, headers: { 'X-Pad': 'a'.repeat(6000), Connection: 'close' } }), 200, 'a 6 KiB head (under the 8 KiB limit)');
}));

test('SPEC 3: a malformed request line or header line gets 400 and is closed, counted as bad_request', T, scenario(async (t, h) => {
  const { tickerd } = await h.env();
  const port = tickerd.port;
  const host = hostOf(port);
  const m0 = await getMetrics(port);
  const cases = [
    ['no method, target or version', 'GARBAGE\r\n\r\n'],
    ['a fourth word on the request line', `GET /healthz HTTP/1.1 extra\r\nHost: ${host}\r\n\r\n`],
    ['a control byte in the target', `GET /heal\x01thz HTTP/1.1\r\nHost: ${host}\r\n\r\n`],
    ['a header line without a colon', `GET /healthz HTTP/1.1\r\nHost ${host}\r\n\r\n`],
    ['a space in a header name', `GET /healthz HTTP/1.1\r\nHost: ${host}\r\nX Bad: 1\r\n\r\n`],
    ['a NUL byte in a header value', `GET /healthz HTTP/1.1\r\nHost: ${host}\r\nX-Nul: a\x00b\r\n\r\n`],
    ['an obsolete folded header line', `GET /healthz HTTP/1.1\r\nHost: ${host}\r\nX-Fold: a\r\n folded\r\n\r\n`],
  ];
  for (const [what, bytes] of cases) await expectStatus(port, bytes, 400, what);
  assert.equal(await refusedDelta(port, m0, 'bad_request'), cases.length, `${REFUSED}{reason="bad_request"} must grow by one per malformed head`);
}));

test('SPEC 3: a version other than HTTP/1.0 or HTTP/1.1 gets 505; HTTP/1.1 without Host gets 400; HTTP/1.0 without Host is served', T, scenario(async (t, h) => {
  const { tickerd } = await h.env();
  const port = tickerd.port;
  const host = hostOf(port);
  for (const v of ['HTTP/2.0', 'HTTP/1.2', 'HTTP/0.9', 'HTTP/3.0']) {
    await expectStatus(port, buildRequest('GET', '/healthz', { host, version: v }), 505, `GET /healthz ${v}`);
  }
  await expectStatus(port, buildRequest('GET', '/healthz', { version: 'HTTP/1.1' }), 400, 'HTTP/1.1 without Host');
  const r = await rawRequest(port, buildRequest('GET', '/healthz', { version: 'HTTP/1.0' }), { closeWaitMs: 0 });
  assert.equal(r.status, 200, `HTTP/1.0 without Host is a valid request: ${r.headText}`);
}));

test('SPEC 3: a request with Transfer-Encoding or a non-zero Content-Length gets 400 and is closed; Content-Length: 0 is served', T, scenario(async (t, h) => {
  const { tickerd } = await h.env();
  const port = tickerd.port;
  const host = hostOf(port);
  await expectStatus(port, buildRequest('GET', '/healthz', { host, headers: { 'Transfer-Encoding': 'chunked' } }) + '5\r\nhello\r\n0\r\n\r\n', 400, 'GET with Transfer-Encoding: chunked');
  await expectStatus(port, buildRequest('GET', '/healthz', { host, headers: { 'Transfer-Encoding': 'gzip, chunked' } }) + '0\r\n\r\n', 400, 'GET with Transfer-Encoding: gzip, chunked');
  await expectStatus(port, buildRequest('GET', '/healthz', { host, headers: { 'Content-Length': '5' } }) + 'hello', 400, 'GET with Content-Length: 5');
  await expectStatus(port, buildRequest('GET', '/ws', {
    host, headers: { Upgrade: 'websocket', Connection: 'Upgrade', 'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==', 'Sec-WebSocket-Version': '13', 'Content-Length': '5' },
  }) + 'hello', 400, 'WebSocket upgrade with Content-Length: 5');
  const r = await rawRequest(port, buildRequest('GET', '/healthz', { host, headers: { 'Content-Length': '0', Connection: 'close' } }), { closeWaitMs: 0 });
  assert.equal(r.status, 200, `Content-Length: 0 is no body: ${r.headText}`);
}));

// ---------------------------------------------------------------------------
// SPEC 4: methods

test('SPEC 4: POST, PUT, DELETE, OPTIONS, CONNECT and TRACE get 405 with Allow: GET, HEAD at once, and are closed (counted as method)', T, scenario(async (t, h) => {
  const { tickerd } = await h.env({ args: ['--handshake-timeout', '2'] });
  const port = tickerd.port;
  const host = hostOf(port);
  const m0 = await getMetrics(port);
  const cases = [['POST', '/healthz'], ['PUT', '/ticker.js'], ['DELETE', '/'], ['OPTIONS', '/ws'], ['CONNECT', '/'], ['TRACE', '/healthz']];
  for (const [method, target] of cases) {
    const r = await expectStatus(port, buildRequest(method, target, { host }), 405, `${method} ${target}`, { method: 'GET', timeoutMs: 1500 });
    assert.ok(r.ms < 1000, `${method} ${target}: answered after ${r.ms} ms; expected at once`);
    assert.equal(r.headers.allow, 'GET, HEAD', `${method} ${target}: Allow header\n${r.headText}`);
  }
  assert.equal(await refusedDelta(port, m0, 'method'), cases.length, `${REFUSED}{reason="method"} must grow by one per 405`);
}));

