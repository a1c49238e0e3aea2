// What a reader's browser downloads (issue 12): the first page view fetches
// ticker.js and its modules gzipped; a second page view in the same browser
// takes them from its cache or revalidates them (304), and does not download
// them whole again. Watched through the DevTools protocol's Network events.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startStack, waitState } from './env.mjs';

const T = { timeout: 25_000 };
let env;
before(async () => { env = await startStack(); });
after(async () => { await env?.stop(); });

/**
 * Start recording the page's requests to tickerd's files: for each, its URL,
 * status (and wire: the one that came over the network), whether it came
 * from the browser's cache, the If-None-Match it sent, its Content-Encoding
 * and the bytes that crossed the network (headers and body).
 */
async function recordFiles(page) {
  const cdp = await page.context().newCDPSession(page);
  const byId = new Map();
  const list = [];
  const isFile = (url) => url.startsWith(`${env.tickerd.url}/`) && !/^\/(ws|events|healthz|metrics)$/.test(new URL(url).pathname);
  cdp.on('Network.requestWillBeSent', (e) => {
    if (!isFile(e.request.url)) return;
    const r = { url: new URL(e.request.url).pathname, status: null, wire: null, inm: null, cached: false, encoding: null, bytes: 0, done: false };
    byId.set(e.requestId, r);
    list.push(r);
  });
  cdp.on('Network.requestServedFromCache', (e) => { if (byId.has(e.requestId)) byId.get(e.requestId).cached = true; });
  cdp.on('Network.responseReceived', (e) => {
    const r = byId.get(e.requestId);
    if (!r) return;
    r.status = e.response.status;
    r.cached ||= Boolean(e.response.fromDiskCache || e.response.fromPrefetchCache);
    const h = Object.fromEntries(Object.entries(e.response.headers).map(([k, v]) => [k.toLowerCase(), v]));
    r.encoding = h['content-encoding'] ?? null;
    r.etag = h.etag ?? null;
  });
  // The status as it came over the network: responseReceived says 200 for a
  // response revalidated with a 304; its ExtraInfo says 304.
  cdp.on('Network.responseReceivedExtraInfo', (e) => {
    const r = byId.get(e.requestId);
    if (r && e.statusCode) r.wire = e.statusCode;
  });
  cdp.on('Network.requestWillBeSentExtraInfo', (e) => {
    const r = byId.get(e.requestId);
    if (r) r.inm = Object.entries(e.headers).find(([k]) => k.toLowerCase() === 'if-none-match')?.[1] ?? null;
  });
  cdp.on('Network.loadingFinished', (e) => {
    const r = byId.get(e.requestId);
    if (r) { r.bytes = e.encodedDataLength; r.done = true; }
  });
  await cdp.send('Network.enable');
  // Clear nothing: the cache is the context's, fresh for each env.page().
  return list;
}

const sum = (rs) => rs.reduce((n, r) => n + r.bytes, 0);

describe('caching', () => {
  test('a second page view takes ticker.js and its modules from the cache or revalidates them (304), instead of downloading them again', T, async (t) => {
    const page = await env.page(t);
    const seen = await recordFiles(page);
    const url = env.serve(t, '<news-ticker topics="cache"></news-ticker>');

    await page.goto(url);
    await waitState(page, 'live');
    const first = seen.splice(0);
    const js = first.find((r) => r.url === '/ticker.js');
    assert.ok(js, `ticker.js fetched on the first view: ${JSON.stringify(first)}`);
    assert.equal(js.status, 200, JSON.stringify(js));
    assert.equal(js.cached, false, 'the first view downloads it');
    assert.equal(js.encoding, 'gzip', 'Chromium asks for gzip and gets it');
    assert.ok(first.length >= 2, `ticker.js and its modules: ${JSON.stringify(first)}`);

    // Another page view in the same browser (a navigation, not a reload).
    await page.goto('about:blank');
    await page.goto(url);
    await waitState(page, 'live');
    await page.waitForTimeout(200); // the last loadingFinished events
    const second = seen.splice(0);
    const js2 = second.find((r) => r.url === '/ticker.js');
    assert.ok(js2, `ticker.js requested on the second view: ${JSON.stringify(second)}`);
    for (const r of second) {
      assert.ok(r.cached || r.wire === 304, `second view: ${r.url} downloaded again: ${JSON.stringify(r)}`);
    }
    assert.ok(js2.bytes < 1000, `second view: ${js2.bytes} bytes over the network for ticker.js`);
    t.diagnostic(`first view: ${first.length} files, ${sum(first)} bytes over the network (ticker.js ${js.bytes}); `
      + `second view: ${second.filter((r) => r.cached).length} from the cache, ${second.filter((r) => r.wire === 304 && !r.cached).length} revalidated (304), `
      + `${sum(second)} bytes`);
    assert.deepEqual(page.errors, []);
  });

  test('tickerd\'s own page (no-cache) is revalidated on each view: a 304 with no body; its scripts and styles come from the cache', T, async (t) => {
    const page = await env.page(t);
    const seen = await recordFiles(page);
    await page.goto(`${env.tickerd.url}/`);
    await waitState(page, 'live');
    const first = seen.splice(0);
    const html = first.find((r) => r.url === '/');
    assert.equal(html?.status, 200, JSON.stringify(first));
    assert.equal(html.encoding, 'gzip');

    await page.goto('about:blank');
    await page.goto(`${env.tickerd.url}/`);
    await waitState(page, 'live');
    await page.waitForTimeout(200);
    const second = seen.splice(0);
    const html2 = second.find((r) => r.url === '/');
    assert.equal(html2?.cached, false, `the page is asked for again: ${JSON.stringify(second)}`);
    assert.equal(html2.inm, html.etag, 'with the ETag it was given');
    assert.equal(html2.wire, 304, `and is not modified: ${JSON.stringify(html2)}`);
    assert.ok(html2.bytes < 1000, `a 304 of ${html2.bytes} bytes`);
    for (const r of second.filter((x) => x.url !== '/')) {
      assert.ok(r.cached || r.wire === 304, `second view: ${r.url} downloaded again: ${JSON.stringify(r)}`);
    }
    t.diagnostic(`demo page: first view ${first.length} files, ${sum(first)} bytes; second view: the page a 304 of ${html2.bytes} bytes, `
      + `${second.filter((r) => r.cached).length} files from the cache, ${sum(second)} bytes in all`);
    assert.deepEqual(page.errors, []);
  });
});
