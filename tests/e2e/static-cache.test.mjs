// The web folder's files as caches and browsers see them (issue 12): strong
// ETags and Last-Modified, conditional GET and HEAD (If-None-Match, then
// If-Modified-Since) answered 304 without a body, Cache-Control that lets
// browsers and CDNs keep them, gzip copies made at load and served when
// Accept-Encoding allows (q-values read), Vary on both encodings, a SIGHUP
// that changes a file changing its validators, and all of it pipelined on
// one kept-alive connection. Raw sockets (lib/rawhttp.mjs), a real tickerd
// and redis-server, a copy of web/ in a temporary folder.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import {
  scenario, WEB_DIR, makeTmpDir, removeTmpDir, rawConnect, buildRequest, assertHardenedHeaders, hostOf,
  getMetrics,
} from './harness.mjs';
import { waitUntil } from './checker.mjs';

const T = { timeout: 30_000 };

const ASSET_CACHE = 'public, max-age=300, must-revalidate';
const PAGE_CACHE = 'no-cache';
const ETAG_RE = /^"[0-9a-f]{16}"$/;
const ETAG_GZ_RE = /^"[0-9a-f]{16}-gz"$/;
const HTTP_DATE_RE = /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} GMT$/;
// Where the files' times are set, so that Last-Modified is known and in the past.
const MTIME = new Date('2026-01-15T10:20:30Z');

// The files checked, with what caches are told about each.
const FILES = [
  ['/ticker.js', 'ticker.js', ASSET_CACHE, /^text\/javascript/],
  ['/ticker/feed.js', 'ticker/feed.js', ASSET_CACHE, /^text\/javascript/],
  ['/index.css', 'index.css', ASSET_CACHE, /^text\/css/],
  ['/wall.css', 'wall.css', ASSET_CACHE, /^text\/css/],
  ['/index.html', 'index.html', PAGE_CACHE, /^text\/html/],
  ['/', 'index.html', PAGE_CACHE, /^text\/html/],
];

/** A copy of web/ in a temporary folder (removed at teardown), every file's mtime MTIME. */
function webCopy(h) {
  const web = makeTmpDir('tickerd-e2e-static-');
  h.defer(() => removeTmpDir(web));
  fs.cpSync(WEB_DIR, web, { recursive: true });
  const touch = (dir) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) touch(p);
      else fs.utimesSync(p, MTIME, MTIME);
    }
  };
  touch(web);
  return web;
}

/** tickerd serving a copy of web/; resolves { tickerd, web, port, host, ask }. */
async function serving(h, { prepare } = {}) {
  const web = webCopy(h);
  if (prepare) prepare(web);
  const { tickerd } = await h.env({ web });
  const port = tickerd.port;
  const host = hostOf(port);
  const conns = new Set();
  h.defer(() => conns.forEach((c) => c.destroy()));
  /**
   * One request on a connection of its own, read whole; the connection is
   * closed then, unless keep (then r.conn; assertNothingAfter closes it).
   */
  const ask = async (method, target, headers = {}, { keep = false } = {}) => {
    const c = await rawConnect(port);
    conns.add(c);
    try {
      await c.write(buildRequest(method, target, { host, headers }));
      const r = await c.readResponse({ method });
      return { ...r, conn: c };
    } finally {
      if (!keep) {
        c.destroy();
        conns.delete(c);
      }
    }
  };
  return { tickerd, web, port, host, ask };
}

/**
 * Assert that nothing follows r's head (and body) on its kept connection: a
 * request sent after it gets the next answer, and nothing else came. Closes
 * the connection.
 */
async function assertNothingAfter(r, host, what) {
  const c = r.conn;
  try {
    await c.write(buildRequest('GET', '/healthz', { host }));
    const next = await c.readResponse();
    assert.equal(next.status, 200, `${what}: the next answer on the connection is /healthz's; ${c.describe()}`);
    assert.match(next.headers['content-type'] ?? '', /^application\/json/, `${what}: bytes after the answer (a body?) before /healthz's`);
    assert.equal(c.buf.length, 0, `${what}: nothing more; ${c.describe()}`);
  } finally {
    c.destroy();
  }
}

test('files: 200 with a strong ETag, Last-Modified (the file\'s time), Cache-Control (pages no-cache, the rest 5 minutes), the exact bytes; errors and /healthz, /metrics stay no-store', T, scenario(async (t, h) => {
  const { web, ask } = await serving(h);
  const seen = new Map();
  for (const [p, file, cache, type] of FILES) {
    const r = await ask('GET', p);
    const what = `GET ${p}`;
    assert.equal(r.status, 200, `${what}: ${r.headText}`);
    assert.ok(r.body.equals(fs.readFileSync(path.join(web, file))), `${what}: the file's bytes`);
    assert.match(r.headers['content-type'] ?? '', type, what);
    assert.match(r.headers.etag ?? '', ETAG_RE, `${what}: ETag\n${r.headText}`);
    assert.match(r.headers['last-modified'] ?? '', HTTP_DATE_RE, `${what}: Last-Modified\n${r.headText}`);
    assert.equal(Date.parse(r.headers['last-modified']), MTIME.getTime(), `${what}: Last-Modified is the file's mtime`);
    assert.equal(r.headers['cache-control'], cache, `${what}: Cache-Control`);
    assert.equal(r.headers['content-encoding'], undefined, `${what}: no Accept-Encoding, no Content-Encoding`);
    assert.equal(r.headers.vary, 'Accept-Encoding', `${what}: Vary (it has a gzip copy)`);
    assert.equal(r.headers['access-control-allow-origin'], '*', what);
    assert.equal(Number(r.headers['content-length']), r.body.length, what);
    assertHardenedHeaders(r, what);
    const again = await ask('GET', p);
    assert.equal(again.headers.etag, r.headers.etag, `${what}: the same ETag each time`);
    seen.set(file, r.headers.etag);
  }
  assert.equal(new Set(seen.values()).size, seen.size, `every file its own ETag: ${JSON.stringify([...seen])}`);

  for (const [p, want] of [['/healthz', 'no-store'], ['/metrics', 'no-store'], ['/nope', 'no-store'], ['/ticker.js/x', 'no-store']]) {
    const r = await ask('GET', p);
    assert.equal(r.headers['cache-control'], want, `GET ${p} (${r.status}): Cache-Control`);
    assert.equal(r.headers.etag, undefined, `GET ${p}: no ETag`);
    assert.equal(r.headers['last-modified'], undefined, `GET ${p}: no Last-Modified`);
    // Asked for gzip and revalidating: still the plain, whole answer.
    const z = await ask('GET', p, { 'Accept-Encoding': 'gzip', 'If-None-Match': '*' });
    assert.equal(z.status, r.status, `GET ${p} with If-None-Match: * is not a file: no 304`);
    assert.equal(z.headers['content-encoding'], undefined, `GET ${p}: not gzipped`);
  }
}));

test('If-None-Match: the ETag (alone, weak, in a list, or *) gets 304 with the same ETag and validators and no body; another ETag gets 200; If-Modified-Since is not looked at beside it', T, scenario(async (t, h) => {
  const { host, ask, port } = await serving(h);
  const m0 = await getMetrics(port);
  let n304 = 0;
  for (const [p, , cache] of FILES) {
    const g = await ask('GET', p);
    const etag = g.headers.etag;
    for (const inm of [etag, `W/${etag}`, `"0000000000000000", ${etag}`, `"x",W/${etag} , "y"`, '*']) {
      for (const method of ['GET', 'HEAD']) {
        const what = `${method} ${p} If-None-Match: ${inm}`;
        const r = await ask(method, p, { 'If-None-Match': inm }, { keep: true });
        assert.equal(r.status, 304, `${what}: ${r.headText}`);
        n304++;
        assert.equal(r.headers.etag, etag, `${what}: the same ETag`);
        assert.equal(r.headers['cache-control'], cache, `${what}: Cache-Control`);
        assert.equal(r.headers['last-modified'], g.headers['last-modified'], `${what}: Last-Modified`);
        assert.equal(r.headers.vary, 'Accept-Encoding', `${what}: Vary`);
        assert.equal(r.headers['access-control-allow-origin'], '*', what);
        assert.equal(r.headers['content-type'], undefined, `${what}: no Content-Type on a 304`);
        assert.equal(r.headers['content-length'], undefined, `${what}: no Content-Length on a 304`);
        assert.equal(r.headers['content-encoding'], undefined, what);
        assert.notEqual((r.headers.connection ?? '').toLowerCase(), 'close', `${what}: the connection stays`);
        assertHardenedHeaders(r, what);
        await assertNothingAfter(r, host, what);
      }
    }
    // Not current: the whole file, whatever If-Modified-Since says.
    const future = new Date(Date.now() + 86400_000).toUTCString();
    for (const inm of ['"0000000000000000"', `${etag.slice(0, -1)}-gz"`, etag.slice(1, -1), `${etag} x`, `W/"${etag}"`]) {
      const r = await ask('GET', p, { 'If-None-Match': inm, 'If-Modified-Since': future });
      assert.equal(r.status, 200, `GET ${p} If-None-Match: ${inm}: ${r.headText}`);
      assert.equal(r.body.length, g.body.length, `GET ${p} If-None-Match: ${inm}: the whole body`);
      assert.equal(r.headers.etag, etag);
    }
    // Two If-None-Match lines are not put together: a 200, not a guess.
    const two = await ask('GET', p, [['If-None-Match', etag], ['If-None-Match', '"x"']]);
    assert.equal(two.status, 200, `GET ${p} with If-None-Match twice: ${two.headText}`);
  }
  const m1 = await getMetrics(port);
  assert.equal(m1.value('tickerd_http_responses_total', { code: '304' }) - m0.value('tickerd_http_responses_total', { code: '304' }), n304,
    'every 304 counted in tickerd_http_responses_total{code="304"}');
}));

test('If-Modified-Since (without If-None-Match): the Last-Modified date or later gets 304 (IMF, RFC 850 and asctime forms); an earlier one, a malformed one or two of them get 200', T, scenario(async (t, h) => {
  const { host, ask } = await serving(h);
  const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
  const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const two = (x) => String(x).padStart(2, '0');
  const clock = (d) => `${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())}`;
  const rfc850 = (d) => `${DAYS[d.getUTCDay()]}, ${two(d.getUTCDate())}-${MONTHS[d.getUTCMonth()]}-${two(d.getUTCFullYear() % 100)} ${clock(d)} GMT`;
  const asctime = (d) => `${DAYS[d.getUTCDay()].slice(0, 3)} ${MONTHS[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2, ' ')} ${clock(d)} ${d.getUTCFullYear()}`;
  const earlier = new Date(MTIME.getTime() - 1000);
  for (const [p, , cache] of FILES) {
    const g = await ask('GET', p);
    const lm = g.headers['last-modified'];
    for (const ims of [lm, rfc850(MTIME), asctime(MTIME), new Date(MTIME.getTime() + 1000).toUTCString(), new Date().toUTCString()]) {
      const r = await ask('GET', p, { 'If-Modified-Since': ims }, { keep: true });
      assert.equal(r.status, 304, `GET ${p} If-Modified-Since: ${ims} (Last-Modified ${lm}): ${r.headText}`);
      assert.equal(r.headers.etag, g.headers.etag);
      assert.equal(r.headers['cache-control'], cache);
      await assertNothingAfter(r, host, `GET ${p} If-Modified-Since: ${ims}`);
    }
    const hd = await ask('HEAD', p, { 'If-Modified-Since': lm });
    assert.equal(hd.status, 304, `HEAD ${p} If-Modified-Since: ${lm}`);
    for (const ims of [earlier.toUTCString(), rfc850(earlier), 'yesterday', lm.replace('GMT', 'UTC'), `${lm}x`]) {
      const r = await ask('GET', p, { 'If-Modified-Since': ims });
      assert.equal(r.status, 200, `GET ${p} If-Modified-Since: ${ims}: ${r.headText}`);
      assert.equal(r.body.length, g.body.length);
    }
    const twice = await ask('GET', p, [['If-Modified-Since', lm], ['If-Modified-Since', lm]]);
    assert.equal(twice.status, 200, `GET ${p} with If-Modified-Since twice`);
  }
}));

test('gzip: Accept-Encoding with gzip gets Content-Encoding: gzip, an ETag of its own ("-gz"), Vary, and a body that gunzips to exactly the file; gzip;q=0, no header, br alone or identity get the file as it is', T, scenario(async (t, h) => {
  const { web, ask } = await serving(h);
  for (const [p, file, cache] of FILES) {
    const plain = fs.readFileSync(path.join(web, file));
    const id = await ask('GET', p);
    for (const ae of ['gzip', 'gzip, deflate, br, zstd', 'br;q=1.0, gzip;q=0.8, *;q=0.1', 'GZIP', 'x-gzip', '*', 'identity;q=0.5, gzip;q=0.001', 'gzip;q=1.000']) {
      const what = `GET ${p} Accept-Encoding: ${ae}`;
      const r = await ask('GET', p, { 'Accept-Encoding': ae });
      assert.equal(r.status, 200, what);
      assert.equal(r.headers['content-encoding'], 'gzip', `${what}: Content-Encoding\n${r.headText}`);
      assert.equal(r.headers.vary, 'Accept-Encoding', `${what}: Vary`);
      assert.match(r.headers.etag ?? '', ETAG_GZ_RE, `${what}: ETag`);
      assert.notEqual(r.headers.etag, id.headers.etag, `${what}: the gzip copy's ETag is not the file's`);
      assert.equal(r.headers['cache-control'], cache, what);
      assert.equal(r.headers['last-modified'], id.headers['last-modified'], what);
      assert.equal(r.headers['content-type'], id.headers['content-type'], what);
      assert.equal(Number(r.headers['content-length']), r.body.length, what);
      assert.ok(r.body.length < plain.length, `${what}: ${r.body.length} bytes gzipped, ${plain.length} plain`);
      assert.ok(zlib.gunzipSync(r.body).equals(plain), `${what}: gunzips to exactly the file`);
      assertHardenedHeaders(r, what);
    }
    for (const ae of [null, 'gzip;q=0', 'gzip; q=0.000', 'gzip;q=0, br', 'br', 'identity', '*;q=0', 'deflate', 'gzip;q=2', '']) {
      const what = `GET ${p} ${ae === null ? 'without Accept-Encoding' : `Accept-Encoding: ${ae}`}`;
      const r = await ask('GET', p, ae === null ? {} : { 'Accept-Encoding': ae });
      assert.equal(r.status, 200, what);
      assert.equal(r.headers['content-encoding'], undefined, `${what}: Content-Encoding\n${r.headText}`);
      assert.equal(r.headers.vary, 'Accept-Encoding', `${what}: Vary on the plain answer too`);
      assert.equal(r.headers.etag, id.headers.etag, what);
      assert.ok(r.body.equals(plain), `${what}: the file as it is`);
    }
    // Accept-Encoding twice is not put together: the file as it is.
    const twice = await ask('GET', p, [['Accept-Encoding', 'gzip'], ['Accept-Encoding', 'br']]);
    assert.equal(twice.headers['content-encoding'], undefined, `GET ${p} with Accept-Encoding twice`);

    // Revalidation is per encoding: each ETag names its own bytes.
    const gz = await ask('GET', p, { 'Accept-Encoding': 'gzip' });
    const gzEtag = gz.headers.etag;
    const a = await ask('GET', p, { 'Accept-Encoding': 'gzip', 'If-None-Match': gzEtag });
    assert.equal(a.status, 304, `GET ${p} gzip, If-None-Match its gzip ETag`);
    assert.equal(a.headers.etag, gzEtag);
    assert.equal(a.headers.vary, 'Accept-Encoding');
    const b = await ask('GET', p, { 'If-None-Match': gzEtag });
    assert.equal(b.status, 200, `GET ${p} without gzip, If-None-Match the gzip ETag: the plain file`);
    assert.ok(b.body.equals(plain));
    const c = await ask('GET', p, { 'Accept-Encoding': 'gzip', 'If-None-Match': id.headers.etag });
    assert.equal(c.status, 200, `GET ${p} gzip, If-None-Match the plain ETag: the gzip copy`);
    assert.equal(c.headers['content-encoding'], 'gzip');
    const d = await ask('GET', p, { 'Accept-Encoding': 'gzip', 'If-None-Match': `${id.headers.etag}, ${gzEtag}` });
    assert.equal(d.status, 304, `GET ${p} gzip, both ETags listed (a cache holding both)`);
    assert.equal(d.headers.etag, gzEtag, 'the 304 names the one selected');
  }

  const js = await ask('GET', '/ticker.js', { 'Accept-Encoding': 'gzip' });
  const jsPlain = fs.readFileSync(path.join(web, 'ticker.js'));
  const mods = ['ticker.js', ...fs.readdirSync(path.join(web, 'ticker')).map((f) => `ticker/${f}`)];
  let gzSum = 0;
  let plainSum = 0;
  for (const f of mods) {
    const r = await ask('GET', `/${f}`, { 'Accept-Encoding': 'gzip' });
    gzSum += r.body.length;
    plainSum += fs.statSync(path.join(web, f)).size;
  }
  const nm = await ask('GET', '/ticker.js', { 'Accept-Encoding': 'gzip', 'If-None-Match': js.headers.etag });
  t.diagnostic(`ticker.js: ${jsPlain.length} bytes plain, ${js.body.length} gzipped (answer ${js.headText.length + 4 + js.body.length} bytes with its head); `
    + `a revalidation: 304 of ${nm.headText.length + 4} bytes, no body; ticker.js and its ${mods.length - 1} modules: ${plainSum} bytes plain, ${gzSum} gzipped`);
}));

test('HEAD: the GET\'s status and headers (per encoding: Content-Length of the body that GET would send) and no body', T, scenario(async (t, h) => {
  const { host, ask } = await serving(h);
  const skip = new Set(['connection']);
  for (const [p] of FILES) {
    for (const headers of [{}, { 'Accept-Encoding': 'gzip' }, { 'Accept-Encoding': 'gzip;q=0' }]) {
      const g = await ask('GET', p, headers);
      const hd = await ask('HEAD', p, headers, { keep: true });
      const what = `HEAD ${p} ${JSON.stringify(headers)}`;
      assert.equal(hd.status, 200, what);
      const names = (r) => Object.keys(r.headers).filter((k) => !skip.has(k)).sort();
      assert.deepEqual(names(hd), names(g), `${what}: header names`);
      for (const k of names(g)) assert.equal(hd.headers[k], g.headers[k], `${what}: ${k}`);
      assert.equal(Number(hd.headers['content-length']), g.body.length, `${what}: Content-Length of the GET's body`);
      await assertNothingAfter(hd, host, what);
    }
  }
}));

test('SIGHUP: a changed file gets a new ETag (both encodings) and Last-Modified, the old validators get 200 with the new bytes, the new ones 304; a file added is served, a file removed is 404', T, scenario(async (t, h) => {
  const { tickerd, web, ask } = await serving(h);
  const file = path.join(web, 'ticker.js');
  const before = await ask('GET', '/ticker.js');
  const beforeGz = await ask('GET', '/ticker.js', { 'Accept-Encoding': 'gzip' });
  const css = await ask('GET', '/index.css');
  assert.equal((await ask('GET', '/ticker.js', { 'If-None-Match': before.headers.etag })).status, 304);

  const changed = Buffer.concat([fs.readFileSync(file), Buffer.from('\n// a new release\n')]);
  fs.writeFileSync(file, changed);
  const now = new Date(Math.floor(Date.now() / 1000) * 1000 - 1000);
  fs.utimesSync(file, now, now);
  fs.writeFileSync(path.join(web, 'added.js'), 'export const added = 1;\n');
  fs.rmSync(path.join(web, 'wall.css'));
  const from = tickerd.log().length;
  tickerd.kill('SIGHUP');
  await waitUntil(() => /SIGHUP: reloaded/.test(tickerd.log().slice(from)), 3000, 'the SIGHUP log line');

  const after = await ask('GET', '/ticker.js');
  assert.ok(after.body.equals(changed), 'the new bytes are served after SIGHUP');
  assert.match(after.headers.etag, ETAG_RE);
  assert.notEqual(after.headers.etag, before.headers.etag, 'a new ETag for new bytes');
  assert.equal(Date.parse(after.headers['last-modified']), now.getTime(), 'Last-Modified is the new mtime');
  const afterGz = await ask('GET', '/ticker.js', { 'Accept-Encoding': 'gzip' });
  assert.notEqual(afterGz.headers.etag, beforeGz.headers.etag, 'a new ETag for the new gzip copy');
  assert.ok(zlib.gunzipSync(afterGz.body).equals(changed), 'the gzip copy was made again');

  for (const [headers, what] of [
    [{ 'If-None-Match': before.headers.etag }, 'the old ETag'],
    [{ 'If-None-Match': beforeGz.headers.etag, 'Accept-Encoding': 'gzip' }, 'the old gzip ETag'],
    [{ 'If-Modified-Since': before.headers['last-modified'] }, 'the old Last-Modified'],
  ]) {
    const r = await ask('GET', '/ticker.js', headers);
    assert.equal(r.status, 200, `${what} after the change: ${r.headText}`);
    const body = r.headers['content-encoding'] === 'gzip' ? zlib.gunzipSync(r.body) : r.body;
    assert.ok(body.equals(changed), `${what}: the new bytes`);
  }
  assert.equal((await ask('GET', '/ticker.js', { 'If-None-Match': after.headers.etag })).status, 304, 'the new ETag: 304');
  assert.equal((await ask('GET', '/ticker.js', { 'If-None-Match': afterGz.headers.etag, 'Accept-Encoding': 'gzip' })).status, 304);
  assert.equal((await ask('GET', '/ticker.js', { 'If-Modified-Since': after.headers['last-modified'] })).status, 304);
  // An unchanged file keeps its validators across the reload.
  const css2 = await ask('GET', '/index.css', { 'If-None-Match': css.headers.etag });
  assert.equal(css2.status, 304, 'an unchanged file: the same ETag after SIGHUP');
  const added = await ask('GET', '/added.js', { 'Accept-Encoding': 'gzip' });
  assert.equal(added.status, 200);
  assert.equal(added.headers['content-encoding'], undefined, 'a 24-byte file does not get smaller: sent as it is');
  assert.equal(added.headers.vary, undefined, 'no gzip copy: nothing varies');
  assert.equal(added.headers['cache-control'], ASSET_CACHE);
  assert.equal((await ask('GET', '/wall.css')).status, 404, 'a file removed before SIGHUP is gone');
}));

test('pipelined on one kept-alive connection: 200 gzip, 304, /healthz, HEAD gzip, 304 gzip, 200 plain, all in order, then the connection still serves', T, scenario(async (t, h) => {
  const { web, port, host, ask } = await serving(h);
  const js = await ask('GET', '/ticker.js');
  const cssGz = await ask('GET', '/index.css', { 'Accept-Encoding': 'gzip' });
  const c = await rawConnect(port);
  h.defer(() => c.destroy());
  const gz = { 'Accept-Encoding': 'gzip, deflate, br' };
  const steps = [
    ['GET', '/ticker.js', gz, (r) => r.status === 200 && r.headers['content-encoding'] === 'gzip'
      && zlib.gunzipSync(r.body).equals(fs.readFileSync(path.join(web, 'ticker.js')))],
    ['GET', '/ticker.js', { 'If-None-Match': js.headers.etag }, (r) => r.status === 304 && r.headers.etag === js.headers.etag],
    ['GET', '/healthz', {}, (r) => r.status === 200 && JSON.parse(r.text).status === 'ok'],
    ['HEAD', '/index.css', gz, (r) => r.status === 200 && r.headers['content-encoding'] === 'gzip' && r.body.length === 0
      && Number(r.headers['content-length']) === cssGz.body.length],
    ['GET', '/index.css', { ...gz, 'If-None-Match': cssGz.headers.etag }, (r) => r.status === 304 && r.headers.etag === cssGz.headers.etag],
    ['GET', '/', {}, (r) => r.status === 200 && r.body.equals(fs.readFileSync(path.join(web, 'index.html')))],
  ];
  await c.write(steps.map(([m, p, hd]) => buildRequest(m, p, { host, headers: hd })).join(''));
  for (const [m, p, hd, ok] of steps) {
    const r = await c.readResponse({ method: m });
    assert.ok(ok(r), `pipelined ${m} ${p} ${JSON.stringify(hd)}: unexpected answer\n${r.headText}\n(${r.body.length} body bytes)`);
  }
  assert.equal(c.buf.length, 0, `nothing more than the answers: ${c.describe()}`);
  assert.ok(!c.isClosed);
  await c.write(buildRequest('GET', '/ticker.js', { host, headers: { 'If-None-Match': js.headers.etag } }));
  assert.equal((await c.readResponse()).status, 304, 'the connection still serves');
}));

test('files that are not text, or that gzip does not shrink, are sent as they are, without Vary; Cache-Control by type', T, scenario(async (t, h) => {
  // Bytes that would compress well, under a name that says image: the type decides.
  const png = Buffer.from(Array.from({ length: 4096 }, (_, i) => i & 0xff));
  const { ask } = await serving(h, {
    prepare: (web) => {
      fs.writeFileSync(path.join(web, 'dot.png'), png);
      fs.writeFileSync(path.join(web, 'tiny.txt'), 'x');
      fs.writeFileSync(path.join(web, 'big.txt'), 'news '.repeat(2000));
      fs.writeFileSync(path.join(web, 'page.html'), `<!doctype html><title>t</title>${'<p>news</p>'.repeat(200)}`);
    },
  });
  for (const [p, cache, gzipped] of [['/dot.png', ASSET_CACHE, false], ['/tiny.txt', ASSET_CACHE, false],
    ['/big.txt', ASSET_CACHE, true], ['/page.html', PAGE_CACHE, true]]) {
    const r = await ask('GET', p, { 'Accept-Encoding': 'gzip' });
    assert.equal(r.status, 200, p);
    assert.equal(r.headers['cache-control'], cache, `${p}: Cache-Control`);
    assert.equal(r.headers['content-encoding'], gzipped ? 'gzip' : undefined, `${p}: Content-Encoding`);
    assert.equal(r.headers.vary, gzipped ? 'Accept-Encoding' : undefined, `${p}: Vary`);
    assert.match(r.headers.etag ?? '', gzipped ? ETAG_GZ_RE : ETAG_RE, `${p}: ETag`);
    const nm = await ask('GET', p, { 'Accept-Encoding': 'gzip', 'If-None-Match': r.headers.etag });
    assert.equal(nm.status, 304, `${p}: revalidated`);
  }
  const dot = await ask('GET', '/dot.png', { 'Accept-Encoding': 'gzip' });
  assert.ok(dot.body.equals(png), 'the image as it is');
}));
