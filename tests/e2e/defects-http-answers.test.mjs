// Defects found by an attack from outside, HTTP side, part 2: what tickerd
// answers, with raw `net` clients: routes before files, headers on every
// response, error bodies that never echo the request, keep-alive and
// pipelining, HEAD, h2c ignored, long and repeated Origins, long topic
// lists, EventSource readers (more than 16, readers that leave). SPEC items
// 5-11 and 13 of the front-door rewrite (1-4 are in defects-http.test.mjs).

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
// SPEC 5: routes

test('SPEC 5: /healthz, /metrics, /events and /ws are routes checked before files: decoy files of those names in the web folder are never served', T, scenario(async (t, h) => {
  const web = makeTmpDir('tickerd-e2e-web-');
  h.defer(() => removeTmpDir(web));
  fs.cpSync(WEB_DIR, web, { recursive: true });
  for (const f of ['healthz', 'metrics', 'events', 'ws']) fs.writeFileSync(path.join(web, f), `DECOY-FILE-${f}\n`);
  const { tickerd } = await h.env({ web });
  const port = tickerd.port;
  const host = hostOf(port);
  const req = (m, p) => rawRequest(port, buildRequest(m, p, { host, headers: { Connection: 'close' } }), { closeWaitMs: 0 });

  const hz = await req('GET', '/healthz');
  assert.equal(hz.status, 200);
  assert.doesNotMatch(hz.text, /DECOY/);
  assert.equal(JSON.parse(hz.text).redis, 'connected');
  const mt = await req('GET', '/metrics');
  assert.equal(mt.status, 200, `GET /metrics: ${mt.headText}`);
  assert.doesNotMatch(mt.text, /DECOY/, 'GET /metrics served the web folder\'s file "metrics"');
  assert.match(mt.text, /^tickerd_up_seconds /m);
  const mh = await req('HEAD', '/metrics');
  assert.equal(mh.status, 200, `HEAD /metrics: ${mh.headText}`);
  assert.match(mh.headers['content-type'] ?? '', /^text\/plain/, `HEAD /metrics is the metrics, not the file: ${mh.headText}`);

  const ev = await rawConnect(port);
  h.defer(() => ev.destroy());
  await ev.write(buildRequest('GET', '/events', { host }));
  const evh = await ev.readHead();
  assert.equal(evh.status, 200, `GET /events: ${evh.headText}`);
  assert.match(evh.headers['content-type'] ?? '', /^text\/event-stream/, `GET /events served the web folder's file "events":\n${evh.headText}`);
  ev.destroy();

  const ws = await req('GET', '/ws');
  assert.doesNotMatch(ws.text, /DECOY/, 'GET /ws without an upgrade served the web folder\'s file "ws"');
  assert.equal(ws.status, 426, `GET /ws without an upgrade: ${ws.headText}`);
}));

test('SPEC 5: HEAD /events gets 405 with Allow: GET; / is index.html; unknown paths and escapes from the web folder get 404 (never a file outside it)', T, scenario(async (t, h) => {
  const { tickerd } = await h.env();
  const port = tickerd.port;
  const host = hostOf(port);
  const index = fs.readFileSync(path.join(WEB_DIR, 'index.html'));
  const root = await rawRequest(port, buildRequest('GET', '/', { host, headers: { Connection: 'close' } }), { closeWaitMs: 0 });
  assert.equal(root.status, 200);
  assert.ok(root.body.equals(index), '/ serves web/index.html byte for byte');
  for (const p of ['/nope', '/index.html/x', '/../README.md', '/%2e%2e/README.md', '/..%2fREADME.md', '/web/../../README.md', '//etc/passwd']) {
    const r = await rawRequest(port, buildRequest('GET', p, { host, headers: { Connection: 'close' } }), { closeWaitMs: 0 });
    assert.ok(r.status === 404 || r.status === 400, `GET ${p}: expected 404 (or 400), got ${r.status}\n${r.headText}`);
    assert.doesNotMatch(r.text, /A live news ticker server|root:x?:0:/, `GET ${p} must not serve a file outside the web folder`);
  }
  await expectStatus(port, buildRequest('GET', '/nope', { host }), 404, 'GET /nope', { closes: false });
  const he = await expectStatus(port, buildRequest('HEAD', '/events', { host }), 405, 'HEAD /events', { closes: false });
  assert.equal(he.headers.allow, 'GET', `HEAD /events: Allow header\n${he.headText}`);
}));

// ---------------------------------------------------------------------------
// SPEC 6: headers on every response; error bodies

test('SPEC 6: every response (files, /healthz, /metrics, /events and every error status) carries nosniff, Referrer-Policy and a CSP starting default-src \'none\'', T, scenario(async (t, h) => {
  const { tickerd } = await h.env({ args: ['--handshake-timeout', '2'] });
  const port = tickerd.port;
  const host = hostOf(port);
  const ws = { Upgrade: 'websocket', Connection: 'Upgrade', 'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==', 'Sec-WebSocket-Version': '13' };
  const cases = [
    ['GET /', buildRequest('GET', '/', { host })],
    ['GET /ticker.js', buildRequest('GET', '/ticker.js', { host })],
    ['GET /wall.html', buildRequest('GET', '/wall.html', { host })],
    ['GET /healthz', buildRequest('GET', '/healthz', { host })],
    ['HEAD /healthz', buildRequest('HEAD', '/healthz', { host })],
    ['GET /metrics', buildRequest('GET', '/metrics', { host })],
    ['GET /events', buildRequest('GET', '/events', { host }), { headOnly: true }],
    ['404 GET /nope', buildRequest('GET', '/nope', { host })],
    ['405 POST /', buildRequest('POST', '/', { host })],
    ['405 HEAD /events', buildRequest('HEAD', '/events', { host })],
    ['400 GARBAGE', 'GARBAGE\r\n\r\n'],
    ['400 no Host', buildRequest('GET', '/healthz', {})],
    ['400 bad topics on /events', buildRequest('GET', '/events?topics=bad!name', { host })],
    ['403 /events from another origin', buildRequest('GET', '/events', { host, headers: { Origin: 'https://evil.example' } })],
    ['403 /ws from another origin', buildRequest('GET', '/ws', { host, headers: { ...ws, Origin: 'https://evil.example' } })],
    ['426 /ws without upgrade', buildRequest('GET', '/ws', { host })],
    ['431 9 KiB head', buildRequest('GET', '/healthz', { host, headers: { 'X-Pad': 'a'.repeat(9000) } })],
    ['505 HTTP/2.0', buildRequest('GET', '/healthz', { host, version: 'HTTP/2.0' })],
    ['408 partial head', `GET /healthz HTTP/1.1\r\nHost: ${host}\r\n`, { timeoutMs: 4000 }],
  ];
  const failures = [];
  for (const [what, bytes, opts = {}] of cases) {
    const c = await rawConnect(port);
    try {
      await c.write(bytes);
      const m = /^[A-Z]+/.exec(bytes)?.[0];
      const r = opts.headOnly ? await c.readHead({ timeoutMs: 3000 }) : await c.readResponse({ method: m === 'HEAD' ? 'HEAD' : 'GET', timeoutMs: opts.timeoutMs ?? 3000 });
      try {
        assertHardenedHeaders(r, `${what} (HTTP ${r.status})`);
      } catch (e) {
        failures.push(`${what}: HTTP ${r.status}, X-Content-Type-Options=${r.headers['x-content-type-options']}, Referrer-Policy=${r.headers['referrer-policy']}, CSP=${JSON.stringify((r.headers['content-security-policy'] ?? '').slice(0, 30))}`);
      }
    } catch (e) {
      failures.push(`${what}: no response (${e.message.split(';')[0]})`);
    } finally {
      c.destroy();
    }
  }
  assert.deepEqual(failures, [], `responses without the three headers:\n${failures.join('\n')}`);
}));

test('SPEC 6: error bodies are text/plain; charset=utf-8 and never contain the request (path, query, headers)', T, scenario(async (t, h) => {
  const { tickerd } = await h.env();
  const port = tickerd.port;
  const host = hostOf(port);
  const mark = 'zq7Xmark';
  const ws = { Upgrade: 'websocket', Connection: 'Upgrade', 'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==', 'Sec-WebSocket-Version': '13' };
  const cases = [
    [`404 /${mark}<b>`, buildRequest('GET', `/${mark}%3Cb%3E`, { host, headers: { 'X-Echo': mark } })],
    ['400 topics', buildRequest('GET', `/events?topics=${mark}!`, { host })],
    ['400 topics on /ws', buildRequest('GET', `/ws?topics=${mark}!`, { host, headers: ws })],
    ['403 origin', buildRequest('GET', '/events', { host, headers: { Origin: `https://${mark}.example` } })],
    ['403 origin on /ws', buildRequest('GET', '/ws', { host, headers: { ...ws, Origin: `https://${mark}.example` } })],
    ['405 method', buildRequest(`POST`, `/${mark}`, { host })],
    ['400 malformed header', `GET /${mark} HTTP/1.1\r\nHost: ${host}\r\n${mark}\r\n\r\n`],
    ['505 version', buildRequest('GET', `/${mark}`, { host, version: 'HTTP/2.0' })],
  ];
  const failures = [];
  for (const [what, bytes] of cases) {
    try {
      const r = await rawRequest(port, bytes, { method: 'GET', closeWaitMs: 0 });
      const problems = [];
      if (r.status < 400) problems.push(`status ${r.status}`);
      if (!/^text\/plain; ?charset=utf-8$/i.test(r.headers['content-type'] ?? '')) problems.push(`Content-Type ${JSON.stringify(r.headers['content-type'])}`);
      if (r.text.toLowerCase().includes(mark.toLowerCase())) problems.push(`body echoes the request: ${JSON.stringify(r.text.slice(0, 120))}`);
      if (problems.length) failures.push(`${what}: ${problems.join('; ')}`);
    } catch (e) {
      failures.push(`${what}: no response (${e.message.split(';')[0]})`);
    }
  }
  assert.deepEqual(failures, [], `error responses:\n${failures.join('\n')}`);
}));

test('SPEC 6: /events?topics=%3Cscript%3Ealert(1)%3C/script%3E gets 400, text/plain, and the body has no <script and no alert', T, scenario(async (t, h) => {
  const { tickerd } = await h.env();
  const port = tickerd.port;
  const r = await rawRequest(port, buildRequest('GET', '/events?topics=%3Cscript%3Ealert(1)%3C/script%3E', { host: hostOf(port) }), { closeWaitMs: 0 });
  assert.equal(r.status, 400, r.headText);
  assert.match(r.headers['content-type'] ?? '', /^text\/plain; ?charset=utf-8$/i, `Content-Type of the 400: ${r.headText}`);
  assert.doesNotMatch(r.text, /<script/i);
  assert.doesNotMatch(r.text, /alert/i);
  assertHardenedHeaders(r, '400 for a <script> topic');
}));

// ---------------------------------------------------------------------------
// SPEC 7: keep-alive, pipelining, errors close

test('SPEC 7: keep-alive: /healthz, /metrics and files keep an HTTP/1.1 connection open; Connection: close closes it', T, scenario(async (t, h) => {
  const { tickerd } = await h.env();
  const port = tickerd.port;
  const host = hostOf(port);
  const c = await rawConnect(port);
  h.defer(() => c.destroy());
  for (const p of ['/healthz', '/metrics', '/ticker.js', '/', '/healthz']) {
    await c.write(buildRequest('GET', p, { host }));
    const r = await c.readResponse();
    assert.equal(r.status, 200, `GET ${p} on a kept-alive connection: ${r.headText}`);
    assert.notEqual((r.headers.connection ?? '').toLowerCase(), 'close', `GET ${p}: an HTTP/1.1 success keeps the connection: ${r.headText}`);
    assert.ok(!c.isClosed, `GET ${p}: the connection was closed after a success`);
  }
  await c.write(buildRequest('GET', '/healthz', { host, headers: { Connection: 'close' } }));
  const last = await c.readResponse();
  assert.equal(last.status, 200);
  const { closed } = await c.waitClosed(1000);
  assert.ok(closed, 'Connection: close: the server closes after the response');
}));

test('SPEC 7: pipelined requests (two, then three GET /healthz in one write, then a mix) are all answered in order on the same connection, which stays usable', T, scenario(async (t, h) => {
  const { tickerd } = await h.env();
  const port = tickerd.port;
  const host = hostOf(port);
  const c = await rawConnect(port);
  h.defer(() => c.destroy());
  const hz = buildRequest('GET', '/healthz', { host });
  for (const n of [2, 3]) {
    await c.write(hz.repeat(n));
    for (let i = 0; i < n; i++) {
      const r = await c.readResponse({ timeoutMs: 3000 }).catch((e) => { throw new Error(`${n} pipelined GET /healthz: response ${i + 1} of ${n}: ${e.message}`); });
      assert.equal(r.status, 200, `${n} pipelined: response ${i + 1}`);
      assert.equal(JSON.parse(r.text).status, 'ok');
    }
  }
  await c.write(buildRequest('GET', '/metrics', { host }) + buildRequest('HEAD', '/ticker.js', { host }) + hz);
  const a = await c.readResponse();
  const b = await c.readResponse({ method: 'HEAD' });
  const d = await c.readResponse();
  assert.match(a.headers['content-type'] ?? '', /^text\/plain/, `1st of the mix is /metrics: ${a.headText}`);
  assert.match(b.headers['content-type'] ?? '', /javascript/, `2nd of the mix is HEAD /ticker.js: ${b.headText}`);
  assert.match(d.headers['content-type'] ?? '', /^application\/json/, `3rd of the mix is /healthz: ${d.headText}`);
  assert.equal(c.buf.length, 0, `nothing more than the three responses: ${c.describe()}`);
  await c.write(hz);
  const again = await c.readResponse();
  assert.equal(again.status, 200, 'a request after the pipelined ones still works');
  assert.ok(!c.isClosed);
}));

test('SPEC 7: error responses carry Connection: close and close the connection, also on a kept-alive one; a request pipelined behind an error is not answered', T, scenario(async (t, h) => {
  const { tickerd } = await h.env();
  const port = tickerd.port;
  const host = hostOf(port);
  const c = await rawConnect(port);
  h.defer(() => c.destroy());
  await c.write(buildRequest('GET', '/healthz', { host }));
  assert.equal((await c.readResponse()).status, 200);
  await c.write(buildRequest('GET', '/nope', { host }));
  const r = await c.readResponse();
  assert.equal(r.status, 404);
  assert.equal((r.headers.connection ?? '').toLowerCase(), 'close', `404: Connection header\n${r.headText}`);
  assert.ok((await c.waitClosed(1000)).closed, `the 404 must close the kept-alive connection; ${c.describe()}`);

  const p = await rawConnect(port);
  h.defer(() => p.destroy());
  await p.write(buildRequest('GET', '/nope', { host }) + buildRequest('GET', '/healthz', { host }));
  const e = await p.readResponse();
  assert.equal(e.status, 404);
  const { closed } = await p.waitClosed(1000);
  assert.ok(closed, `after a 404, the connection closes; ${p.describe()}`);
  assert.equal(p.buf.length, 0, `the request behind the 404 must not be answered; after the 404 came ${JSON.stringify(p.buf.toString('latin1').slice(0, 100))}`);

  for (const [what, bytes, status] of [
    ['405', buildRequest('POST', '/healthz', { host }), 405],
    ['400 topics', buildRequest('GET', '/events?topics=bad!', { host }), 400],
    ['403 origin', buildRequest('GET', '/events', { host, headers: { Origin: 'https://evil.example' } }), 403],
  ]) {
    const x = await expectStatus(port, bytes, status, what);
    assert.equal((x.headers.connection ?? '').toLowerCase(), 'close', `${what}: Connection header\n${x.headText}`);
  }
}));

// ---------------------------------------------------------------------------
// SPEC 8: HEAD

test('SPEC 8: HEAD /healthz, HEAD / and HEAD /ticker.js: the GET\'s status and headers, Content-Length of the GET body, and no body bytes', T, scenario(async (t, h) => {
  const { tickerd } = await h.env();
  const port = tickerd.port;
  const host = hostOf(port);
  const skip = new Set(['date', 'connection', 'keep-alive', 'content-length']);
  for (const p of ['/healthz', '/', '/ticker.js']) {
    const g1 = await rawRequest(port, buildRequest('GET', p, { host, headers: { Connection: 'close' } }), { closeWaitMs: 0 });
    // HEAD then GET pipelined: the GET's status line must follow the HEAD's head immediately.
    const c = await rawConnect(port);
    h.defer(() => c.destroy());
    await c.write(buildRequest('HEAD', p, { host }) + buildRequest('GET', p, { host, headers: { Connection: 'close' } }));
    const hd = await c.readHead({ timeoutMs: 3000 });
    assert.equal(hd.status, g1.status, `HEAD ${p}: status ${hd.status}, GET had ${g1.status}\n${hd.headText}`);
    const cl = Number(hd.headers['content-length']);
    await c.waitUntil(() => c.buf.length >= 12, 2000); // what follows the HEAD's head
    const after = c.buf.toString('latin1');
    assert.ok(after === '' || after.startsWith('HTTP/1.1 '), `HEAD ${p}: body bytes after the head: ${JSON.stringify(after.slice(0, 80))}`);
    const g2 = after ? await c.readResponse() : null;
    assert.ok(cl === g1.body.length || (g2 && cl === g2.body.length), `HEAD ${p}: Content-Length ${hd.headers['content-length']}, GET body ${g1.body.length} bytes`);
    const names = (r) => Object.keys(r.headers).filter((k) => !skip.has(k)).sort();
    assert.deepEqual(names(hd), names(g1), `HEAD ${p}: header names differ from GET's`);
    for (const k of names(g1)) if (k !== 'etag' && k !== 'last-modified') assert.equal(hd.headers[k], g1.headers[k], `HEAD ${p}: header ${k}`);
    assert.ok(g2, `HEAD ${p}: the GET pipelined behind the HEAD must be answered; ${c.describe()}`);
    assert.equal(g2.status, g1.status);
  }
}));

// ---------------------------------------------------------------------------
// SPEC 9: h2c upgrades are ignored

test('SPEC 9: Upgrade: h2c (Connection: Upgrade, HTTP2-Settings) is ignored on every path: answered over HTTP/1.1 as without it, never 101', T, scenario(async (t, h) => {
  const { tickerd } = await h.env();
  const port = tickerd.port;
  const host = hostOf(port);
  const h2c = { Connection: 'Upgrade, HTTP2-Settings', Upgrade: 'h2c', 'HTTP2-Settings': 'AAMAAABkAARAAAAAAAIAAAAA' };
  for (const [p, status] of [['/healthz', 200], ['/', 200], ['/ticker.js', 200], ['/metrics', 200], ['/nope', 404], ['/ws', 426]]) {
    const r = await rawRequest(port, buildRequest('GET', p, { host, headers: h2c }), { closeWaitMs: 0 });
    assert.notEqual(r.status, 101, `GET ${p} with Upgrade: h2c was switched to HTTP/2:\n${r.headText}`);
    assert.equal(r.version, 'HTTP/1.1');
    assert.equal(r.status, status, `GET ${p} with Upgrade: h2c: expected ${status} as without it\n${r.headText}`);
    if (p === '/healthz') assert.equal(JSON.parse(r.text).status, 'ok');
  }
}));

// ---------------------------------------------------------------------------
// SPEC 10: the whole Origin header

test('SPEC 10: Origins of 255, 256, 300, 1000 and 5000 bytes that are not allowed get 403 on /ws and /events (counted as origin)', T, scenario(async (t, h) => {
  const { tickerd } = await h.env({ args: ['--allow-origin', 'https://news.example'] });
  const port = tickerd.port;
  const m0 = await getMetrics(port);
  const failures = [];
  for (const n of [255, 256, 300, 1000, 5000]) {
    const origin = longOrigin(n);
    assert.equal(origin.length, n);
    const w = await rawWsOpen(port, '/ws', { origin }).catch((e) => ({ status: `(no status: ${e.message.split(';')[0]})`, conn: { destroy() {} } }));
    w.conn.destroy();
    if (w.status !== 403) failures.push(`/ws with a ${n}-byte Origin: ${typeof w.status === 'number' ? `HTTP ${w.status}` : w.status}`);
    const e = await rawRequest(port, buildRequest('GET', '/events', { host: hostOf(port), headers: { Origin: origin } }), { closeWaitMs: 0, timeoutMs: 1500 }).catch(() => ({ status: '(stream kept open)' }));
    if (e.status !== 403) failures.push(`/events with a ${n}-byte Origin: HTTP ${e.status}`);
  }
  assert.deepEqual(failures, [], `long Origins let in:\n${failures.join('\n')}`);
  assert.equal(await refusedDelta(port, m0, 'origin'), 10, `${REFUSED}{reason="origin"} must grow by one per refusal`);
  // Controls: the listed and the own origin are admitted.
  for (const origin of ['https://news.example', `http://${hostOf(port)}`]) {
    const w = await rawWsOpen(port, '/ws', { origin });
    h.defer(() => w.conn.destroy());
    assert.equal(w.status, 101, `Origin ${origin} is allowed`);
    await w.ws.ready();
  }
}));

test('SPEC 10: two Origin headers get 403 on /ws and /events, whatever they say', T, scenario(async (t, h) => {
  const { tickerd } = await h.env();
  const port = tickerd.port;
  const own = `http://${hostOf(port)}`;
  const m0 = await getMetrics(port);
  const failures = [];
  const pairs = [[own, 'https://evil.example'], ['https://evil.example', own], [own, own]];
  for (const pair of pairs) {
    const hs = pair.map((o) => ['Origin', o]);
    const w = await rawWsOpen(port, '/ws', { headers: hs });
    w.conn.destroy();
    if (w.status !== 403) failures.push(`/ws with Origin ${pair.join(' + ')}: HTTP ${w.status}`);
    const e = await rawRequest(port, buildRequest('GET', '/events', { host: hostOf(port), headers: hs }), { closeWaitMs: 0, timeoutMs: 1500 }).catch(() => ({ status: '(stream kept open)' }));
    if (e.status !== 403) failures.push(`/events with Origin ${pair.join(' + ')}: HTTP ${e.status}`);
  }
  assert.deepEqual(failures, [], `two Origin headers let in:\n${failures.join('\n')}`);
  assert.equal(await refusedDelta(port, m0, 'origin'), 2 * pairs.length, `${REFUSED}{reason="origin"} must grow by one per refusal`);
}));

// ---------------------------------------------------------------------------
// SPEC 11: topics= bounds

test('SPEC 11: topics= with 33 names, an invalid name, or a value over 32 x 65 bytes gets 400 on /ws and /events (counted as bad_topics); 32 names of 64 bytes are fine', T, scenario(async (t, h) => {
  const { tickerd } = await h.env();
  const port = tickerd.port;
  const host = hostOf(port);
  const names = (n, len) => Array.from({ length: n }, (_, i) => `t${i}`.padEnd(len, 'x'));
  const cases = [
    ['33 names', names(33, 4).join(',')],
    ['an invalid name', 'world,bad!name'],
    ['a 65-byte name', 'y'.repeat(65)],
    ['a 3,000-byte value', names(50, 64).join(',').slice(0, 3000)],
    ['a 2,081-byte value of commas and names', `${names(32, 64).join(',')},z`],
  ];
  const m0 = await getMetrics(port);
  const failures = [];
  for (const [what, v] of cases) {
    const w = await rawWsOpen(port, `/ws?topics=${v}`).catch((e) => ({ status: `(no status: ${e.message.split(';')[0]})`, conn: { destroy() {} } }));
    w.conn.destroy();
    if (w.status !== 400) failures.push(`/ws?topics= ${what} (${v.length} bytes): ${typeof w.status === 'number' ? `HTTP ${w.status}` : w.status}`);
    const e = await rawRequest(port, buildRequest('GET', `/events?topics=${v}`, { host }), { closeWaitMs: 0, timeoutMs: 1500 }).catch(() => ({ status: '(stream kept open)' }));
    if (e.status !== 400) failures.push(`/events?topics= ${what} (${v.length} bytes): HTTP ${e.status}`);
  }
  assert.deepEqual(failures, [], `bad topics= let in:\n${failures.join('\n')}`);
  assert.equal(await refusedDelta(port, m0, 'bad_topics'), 2 * cases.length, `${REFUSED}{reason="bad_topics"} must grow by one per refusal`);

  const ok = names(32, 64).join(',');
  assert.equal(ok.length, 32 * 65 - 1);
  const w = await rawWsOpen(port, `/ws?topics=${ok}`);
  h.defer(() => w.conn.destroy());
  assert.equal(w.status, 101, '32 names of 64 bytes are allowed on /ws');
  const { hello } = await w.ws.ready();
  assert.equal(hello.topics.length, 32);
  const s = await h.sse(port, `/events?topics=${ok}`);
  assert.equal(s.status, 200, '32 names of 64 bytes are allowed on /events');
  await s.ready();
}));

// ---------------------------------------------------------------------------
// SPEC 13: EventSource

test('SPEC 13: /events answers 200 with text/event-stream, Cache-Control: no-cache, X-Accel-Buffering: no, Access-Control-Allow-Origin: *, then event: hello', T, scenario(async (t, h) => {
  const { tickerd } = await h.env();
  const port = tickerd.port;
  const c = await rawConnect(port);
  h.defer(() => c.destroy());
  await c.write(buildRequest('GET', '/events?topics=world', { host: hostOf(port), headers: { Accept: 'text/event-stream' } }));
  const r = await c.readHead();
  assert.equal(r.status, 200);
  assert.match(r.headers['content-type'] ?? '', /^text\/event-stream\b/, r.headText);
  assert.equal(r.headers['access-control-allow-origin'], '*', r.headText);
  assert.ok(await c.waitUntil(() => /event: hello\r?\n/.test(c.buf.toString('utf8')), 3000), `event: hello; ${c.describe()}`);
  assert.equal(r.headers['cache-control'], 'no-cache', `Cache-Control of the stream:\n${r.headText}`);
  assert.equal(r.headers['x-accel-buffering'], 'no', `X-Accel-Buffering of the stream:\n${r.headText}`);
}));

/** Open n EventSource streams at once; resolves { ok: clients that got hello + snapshot, failed: reasons }. */
async function openStreams(h, port, n, timeoutMs = 3000) {
  const settled = await Promise.allSettled(Array.from({ length: n }, async () => {
    const s = await connectSSE(port, '/events', { timeoutMs });
    h.clients.push(s);
    if (s.status !== 200) throw new Error(`HTTP ${s.status}`);
    await s.ready(timeoutMs);
    return s;
  }));
  return {
    ok: settled.filter((x) => x.status === 'fulfilled').map((x) => x.value),
    failed: settled.filter((x) => x.status === 'rejected').map((x) => x.reason.message.split(';')[0]),
  };
}

test('SPEC 13: more than 16 readers: 20 EventSource streams at once, then /healthz, a WebSocket handshake, a 21st stream and a static file each complete within 1 s', T, scenario(async (t, h) => {
  const { redis, tickerd } = await h.env();
  const port = tickerd.port;
  const { ok, failed } = await openStreams(h, port, 20);
  t.diagnostic(`${ok.length} of 20 streams opened${failed.length ? `; failures: ${failed.slice(0, 3).join(' | ')}` : ''}`);
  const times = await fourRequests(port, '127.0.0.2');
  const t0 = Date.now();
  let s21;
  try {
    s21 = await connectSSE(port, '/events', { timeoutMs: 3000 });
    h.clients.push(s21);
    await s21.ready(3000);
    times['21st stream'] = Date.now() - t0;
  } catch (e) {
    times['21st stream'] = `failed after ${Date.now() - t0} ms: ${e.message.split(';')[0]}`;
  }
  t.diagnostic(`with 20 streams open: ${JSON.stringify(times)}`);
  assert.equal(ok.length, 20, `all 20 EventSource streams must open (hello + snapshot); ${failed.length} did not: ${failed.slice(0, 3).join(' | ')}; then: ${JSON.stringify(times)}`);
  assertAllFast(times, 'with 20 EventSource streams open');
  const last = await publisher(redis, 'many-sse')(1);
  for (const s of [...ok, s21]) await s.nextItem(last, 5000);
}));

test('SPEC 13: a reader that leaves costs nothing: streams destroyed (10, then 20) leave /healthz clients where it was within 1 s and tickerd uses < 0.1 s of CPU over the next 2 s', T60, scenario(async (t, h) => {
  const { tickerd } = await h.env();
  const port = tickerd.port;
  for (const n of [10, 20]) {
    const before = (await getHealth(port)).json.clients;
    const { ok, failed } = await openStreams(h, port, n);
    assert.equal(ok.length, n, `${n} EventSource streams must open; ${failed.length} did not: ${failed.slice(0, 3).join(' | ')}`);
    assert.equal((await getHealth(port)).json.clients, before + n);
    for (const s of ok) s._req.socket.destroy();
    const t0 = Date.now();
    let clients;
    while (Date.now() - t0 < 1000) {
      clients = (await getHealth(port)).json.clients;
      if (clients === before) break;
      await sleep(50);
    }
    const cpu0 = processCpuSeconds(tickerd.pid);
    await sleep(2000);
    const cpu = processCpuSeconds(tickerd.pid) - cpu0;
    const said = `${n} EventSource readers destroyed: /healthz clients ${clients} 1 s later (was ${before} before they came); `
      + `tickerd then used ${cpu.toFixed(2)} s of CPU in 2 s`;
    t.diagnostic(said);
    assert.equal(clients, before, `${said}: clients must be back to ${before} within 1 s`);
    assert.ok(cpu < 0.1, `${said}: must be < 0.1 s`);
  }
}));
