// The <news-ticker> element as a site's scripts see it: the ticker:item,
// ticker:retract and ticker:state events; the properties that mirror its
// attributes; what changing them costs (lang and max-items redraw on the same
// connection, topics and src open a new one); and the one script, with the
// modules it imports, loaded from tickerd by a page on another origin under a
// strict Content-Security-Policy.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { getMetrics } from '../e2e/harness.mjs';
import { REPO, startStack, uniq, waitState } from './env.mjs';

const T = { timeout: 25_000 };
let env;
before(async () => { env = await startStack(); });
after(async () => { await env?.stop(); });

/**
 * A new page that records the ticker's events as the document hears them
 * (window.__events: { type, target, bubbles, detail, ... }), its WebSockets
 * (page.sockets: { url, frames, closed }) and any Content-Security-Policy
 * violation (window.__csp).
 */
async function watchedPage(t, opts) {
  const page = await env.page(t, opts);
  await page.addInitScript(() => {
    window.__events = [];
    window.__csp = [];
    for (const type of ['ticker:item', 'ticker:retract', 'ticker:state']) {
      document.addEventListener(type, (e) => window.__events.push({
        type, target: e.target.localName, bubbles: e.bubbles, detail: JSON.parse(JSON.stringify(e.detail)),
        sinceIsDate: e.detail?.since instanceof Date, // ticker:state
        drawn: !!e.target.shadowRoot.querySelector(`li[data-id="${CSS.escape(e.detail?.id ?? '')}"]`), // ticker:item
      }));
    }
    document.addEventListener('securitypolicyviolation', (e) => window.__csp.push(`${e.effectiveDirective}: ${e.blockedURI}`), true);
  });
  page.sockets = [];
  page.on('websocket', (ws) => {
    const s = { url: ws.url(), frames: [], closed: false };
    page.sockets.push(s);
    ws.on('framereceived', (f) => { try { s.frames.push(JSON.parse(f.payload)); } catch { /* not JSON */ } });
    ws.on('close', () => { s.closed = true; });
  });
  return page;
}

/** The events recorded so far, of one type (item, retract, state). */
const events = (page, type) => page.evaluate((ty) => window.__events.filter((e) => e.type === ty), `ticker:${type}`);

/** Wait for an event of `type` whose detail has every field of `want`. */
function waitEvent(page, type, want, timeout = 2000) {
  return page.waitForFunction(([ty, w]) => window.__events.some((e) => e.type === ty
    && Object.entries(w).every(([k, v]) => e.detail?.[k] === v)), [`ticker:${type}`, want], { timeout });
}

const stateNames = async (page) => (await events(page, 'state')).map((e) => e.detail.state);
const clients = async () => (await getMetrics(env.tickerd.port)).value('tickerd_clients');

async function until(what, check, timeout = 3000) {
  for (const end = Date.now() + timeout; !(await check()); await sleep(50)) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
  }
}

describe('news-ticker events', () => {
  test('ticker:item carries the item as sent (snapshot, live, corrected), drawn by then; ticker:retract carries {id, topic}', T, async (t) => {
    const topic = uniq('ev');
    await env.publish(topic, { id: 'ev-old', headline: 'Filed before the page opened', time: '2025-06-24T07:00:00Z' });
    const page = await watchedPage(t);
    await page.goto(env.serve(t, `<news-ticker topics="${topic}"></news-ticker>`));
    await waitState(page, 'live');
    const wire = (id, version = 1) => page.sockets[0].frames.flatMap((m) => (m.type === 'snapshot' ? m.items : m.type === 'item' ? [m.item] : []))
      .find((i) => i.id === id && (i.version ?? 1) === version);

    // The snapshot's item.
    await waitEvent(page, 'item', { id: 'ev-old' });
    // A live one, with most fields.
    await env.publish(topic, { id: 'ev-1', headline: 'Council approves the budget', priority: 'bulletin', label: 'Vote',
      url: 'https://news.example.org/budget', lang: 'en', source: 'City desk', premium: true, time: '2025-06-24T08:00:00Z',
      related: [{ headline: 'What changes for households', url: 'https://news.example.org/homes', premium: true }] });
    await waitEvent(page, 'item', { id: 'ev-1' });
    // Its correction.
    await env.publish(topic, { id: 'ev-1', version: 2, headline: 'Council approves the budget, 31 votes to 12', time: '2025-06-24T08:00:00Z' });
    await waitEvent(page, 'item', { id: 'ev-1', version: 2 });

    const items = await events(page, 'item');
    assert.deepEqual(items.map((e) => [e.detail.id, e.detail.version ?? 1]), [['ev-old', 1], ['ev-1', 1], ['ev-1', 2]]);
    assert.deepEqual(items[0].detail, wire('ev-old'), 'detail: the item of the snapshot');
    assert.deepEqual(items[1].detail, wire('ev-1'), 'detail: the item as tickerd sent it');
    assert.deepEqual(items[2].detail, wire('ev-1', 2), 'detail: the corrected item');
    assert.equal(items[2].detail.headline, 'Council approves the budget, 31 votes to 12');
    for (const e of items) {
      assert.equal(e.target, 'news-ticker');
      assert.equal(e.bubbles, true, 'the event bubbles to the document');
      assert.equal(e.drawn, true, 'the item is on the bar when the event fires');
    }

    // A kill: its topic and id; and the item leaves the bar.
    await env.publish(topic, { id: 'ev-1', status: 'canceled' });
    await waitEvent(page, 'retract', { id: 'ev-1' });
    const [retract, ...more] = await events(page, 'retract');
    assert.deepEqual(retract.detail, { id: 'ev-1', topic });
    assert.deepEqual([retract.target, retract.bubbles, more.length], ['news-ticker', true, 0]);
    await page.locator('news-ticker li[data-id="ev-1"]').waitFor({ state: 'detached', timeout: 1000 });
    assert.equal((await events(page, 'item')).length, 3, 'no item event for a kill');
    assert.deepEqual(page.errors, []);
  });

  test('ticker:state follows the connection: connecting, live, reconnecting (since when), live again', T, async (t) => {
    const page = await watchedPage(t);
    await page.goto(env.serve(t, `<news-ticker topics="${uniq('st')}"></news-ticker>`));
    await waitState(page, 'live');
    assert.deepEqual(await stateNames(page), ['connecting', 'live']);

    let down = true;
    t.after(() => down && env.tickerd.start()); // for the tests that follow, should this one fail midway
    const from = Date.now();
    await env.tickerd.stop();
    await waitState(page, 'reconnecting', 2000);
    const to = Date.now();
    await env.tickerd.start();
    down = false;
    await page.evaluate(() => dispatchEvent(new Event('online'))); // the network is back: retry now
    await waitState(page, 'live', 5000);

    const states = await events(page, 'state');
    assert.deepEqual(states.map((e) => e.detail.state), ['connecting', 'live', 'reconnecting', 'live']);
    const lost = states[2];
    assert.equal(lost.sinceIsDate, true, 'since is a Date');
    assert.ok(Date.parse(lost.detail.since) >= from - 1000 && Date.parse(lost.detail.since) <= to + 1000,
      `since ${lost.detail.since} is when the connection was lost`);
    assert.deepEqual(states.filter((e) => e.detail.state !== 'reconnecting').map((e) => e.detail.since), [null, null, null]);
    assert.ok(states.every((e) => e.target === 'news-ticker' && e.bubbles));
  });
});

describe('news-ticker properties', () => {
  test('topics, lang, src, maxItems and flashTimeout mirror their attributes both ways, even when set before the script ran', T, async (t) => {
    const topic = uniq('pp');
    const page = await watchedPage(t);
    // The module runs after the page is parsed: this classic script sets properties on a not yet defined element.
    await page.goto(env.serve(t, `<news-ticker id="early"></news-ticker>
<news-ticker id="late" topics="${topic}" max-items="5"></news-ticker>
<script>Object.assign(document.getElementById('early'), { topics: '${topic}', maxItems: 3, flashTimeout: 0 });</script>`));
    await waitState(page, 'live', 5000, '#early');
    await waitState(page, 'live', 5000, '#late');

    const early = await page.evaluate(() => {
      const el = document.getElementById('early');
      return { attrs: ['topics', 'max-items', 'flash-timeout'].map((a) => el.getAttribute(a)),
        props: [el.topics, el.maxItems, el.flashTimeout], own: Object.keys(el) };
    });
    assert.deepEqual(early, { attrs: [topic, '3', '0'], props: [topic, 3, 0], own: [] },
      'properties set before the element was defined reach the attributes');
    assert.deepEqual(page.sockets.map((s) => new URL(s.url).search), [`?topics=${topic}`, `?topics=${topic}`],
      'the early ticker connected with the topics given by property');

    const src = `ws://127.0.0.1:${env.tickerd.port}/ws?via=property`;
    const got = await page.evaluate((url) => {
      const el = document.getElementById('late');
      const out = { defaults: { topics: el.topics, lang: el.lang, src: el.src, maxItems: el.maxItems, flashTimeout: el.flashTimeout } };
      el.maxItems = 7;
      out.maxItemsAttr = el.getAttribute('max-items');
      el.setAttribute('max-items', '12');
      out.maxItems = el.maxItems;
      el.flashTimeout = 0;
      out.flashTimeoutAttr = el.getAttribute('flash-timeout');
      el.setAttribute('flash-timeout', '90');
      out.flashTimeout = el.flashTimeout;
      el.lang = 'fr';
      out.langAttr = el.getAttribute('lang');
      el.setAttribute('lang', 'de');
      out.lang = el.lang;
      el.src = url;
      out.srcAttr = el.getAttribute('src');
      el.setAttribute('topics', 'alpha,beta');
      out.topics = el.topics;
      el.topics = 'gamma';
      out.topicsAttr = el.getAttribute('topics');
      el.src = null;
      el.flashTimeout = undefined;
      out.removed = { src: el.hasAttribute('src'), flashTimeout: el.hasAttribute('flash-timeout') };
      out.after = { src: el.src, flashTimeout: el.flashTimeout };
      return out;
    }, src);
    assert.deepEqual(got, {
      defaults: { topics: topic, lang: '', src: '', maxItems: 5, flashTimeout: 60 },
      maxItemsAttr: '7', maxItems: 12,
      flashTimeoutAttr: '0', flashTimeout: 90,
      langAttr: 'fr', lang: 'de',
      srcAttr: src,
      topics: 'alpha,beta', topicsAttr: 'gamma',
      removed: { src: false, flashTimeout: false },
      after: { src: '', flashTimeout: 60 },
    });
    assert.deepEqual(page.errors, []);
  });

  test('changing lang or max-items redraws on the same connection; changing topics or src opens a new one', T, async (t) => {
    const [a, b] = [uniq('ra'), uniq('rb')];
    const page = await watchedPage(t);
    await page.goto(env.serve(t, `<news-ticker topics="${a}" lang="en"></news-ticker>`));
    await waitState(page, 'live');
    for (const [i, id] of ['r1', 'r2', 'r3'].entries()) {
      await env.publish(a, { id, headline: `Redrawn item ${id}`, priority: 'bulletin', premium: true, time: `2025-06-24T0${i + 1}:00:00Z` });
    }
    await page.locator('news-ticker li[data-id="r3"]').waitFor({ state: 'attached', timeout: 2000 });
    const set = (prop, value) => page.locator('news-ticker').evaluate((el, [p, v]) => { el[p] = v; }, [prop, value]);
    const look = () => page.locator('news-ticker').evaluate(({ shadowRoot: root }) => ({
      state: root.querySelector('.state').textContent,
      dir: root.querySelector('.bar').dir,
      region: root.querySelector('.bar').getAttribute('aria-label'),
      pause: root.querySelector('.toggle').getAttribute('aria-label'),
      labels: [...new Set([...root.querySelectorAll('li .label')].map((e) => e.textContent))],
      badges: [...new Set([...root.querySelectorAll('li .premium')].map((e) => e.textContent))],
      langs: [...new Set([...root.querySelectorAll('li')].map((li) => li.lang))],
      ids: [...root.querySelectorAll('li')].map((li) => li.dataset.id).sort(),
      same: root.querySelector('li[data-id="r2"]') === window.__r2,
    }));
    await page.locator('news-ticker').evaluate(({ shadowRoot: root }) => { window.__r2 = root.querySelector('li[data-id="r2"]'); });
    await sleep(200); // the previous tests' pages are gone from tickerd's count
    const before = await clients();
    assert.deepEqual(await look(), { state: 'Live', dir: 'ltr', region: 'Latest news', pause: 'Pause the ticker',
      labels: ['Bulletin'], badges: ['Subscribers'], langs: ['en'], ids: ['r1', 'r2', 'r3'], same: true });

    // lang: the ticker's words and the items without a language of their own, at once.
    await set('lang', 'fr');
    assert.deepEqual(await look(), { state: 'En direct', dir: 'ltr', region: 'Dernières infos', pause: 'Mettre en pause',
      labels: ['Alerte'], badges: ['Abonnés'], langs: ['fr'], ids: ['r1', 'r2', 'r3'], same: true });
    await page.locator('news-ticker').evaluate((el) => el.setAttribute('lang', 'ar'));
    const ar = await look();
    assert.deepEqual([ar.dir, ar.state, ar.langs, ar.same], ['rtl', 'مباشر', ['ar'], true]);

    // max-items: fewer at once (the newest stay), then more as they come.
    await set('maxItems', 1);
    assert.deepEqual((await look()).ids, ['r3']);
    await env.publish(a, { id: 'r4', headline: 'Redrawn item r4', time: '2025-06-24T04:00:00Z' });
    await page.locator('news-ticker li[data-id="r4"]').waitFor({ state: 'attached', timeout: 2000 });
    assert.deepEqual((await look()).ids, ['r4']);
    await set('maxItems', 30);
    await env.publish(a, { id: 'r5', headline: 'Redrawn item r5', time: '2025-06-24T05:00:00Z' });
    await page.locator('news-ticker li[data-id="r5"]').waitFor({ state: 'attached', timeout: 2000 });
    assert.deepEqual((await look()).ids, ['r4', 'r5']);

    assert.equal(page.sockets.length, 1, 'no new WebSocket for lang or max-items');
    assert.equal(page.sockets[0].closed, false, 'and the first one is still open');
    assert.equal(await clients(), before, 'tickerd_clients unchanged');
    assert.deepEqual(await stateNames(page), ['connecting', 'live'], 'no reconnection');

    // topics: a new connection for the new topics; the old one closes and its items go.
    await set('topics', b);
    await until('a second WebSocket', () => page.sockets.length === 2);
    await waitState(page, 'live');
    assert.equal(page.sockets[1].url, `ws://127.0.0.1:${env.tickerd.port}/ws?topics=${b}`);
    await until('the first WebSocket to close', () => page.sockets[0].closed);
    assert.deepEqual((await look()).ids, [], 'the items of the old topics are gone');
    await env.publish(a, { id: 'a-late', headline: 'Not for this ticker any more' });
    await env.publish(b, { id: 'b-1', headline: 'On the new topic' });
    await page.locator('news-ticker li[data-id="b-1"]').waitFor({ state: 'attached', timeout: 2000 });
    assert.deepEqual((await look()).ids, ['b-1']);
    await until('tickerd_clients back to where it was', async () => (await clients()) === before);

    // src: a new connection to the URL given.
    await set('src', `ws://127.0.0.1:${env.tickerd.port}/ws?via=src`);
    await until('a third WebSocket', () => page.sockets.length === 3);
    await waitState(page, 'live');
    assert.equal(page.sockets[2].url, `ws://127.0.0.1:${env.tickerd.port}/ws?via=src&topics=${b}`);
    await until('the second WebSocket to close', () => page.sockets[1].closed);
    await page.locator('news-ticker li[data-id="b-1"]').waitFor({ state: 'attached', timeout: 2000 });
    assert.deepEqual(await stateNames(page), ['connecting', 'live', 'connecting', 'live', 'connecting', 'live']);
    assert.deepEqual(page.errors, []);
  });
});

describe('embedding', () => {
  test('a page on another origin under a strict CSP loads one script from tickerd, which brings its modules, and the ticker works', T, async (t) => {
    const topic = uniq('em');
    const tickerd = env.tickerd.url;
    const csp = `default-src 'none'; script-src ${tickerd}; style-src 'self'; connect-src ws://127.0.0.1:${env.tickerd.port}; `
      + "img-src 'none'; base-uri 'none'; form-action 'none'";
    const html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>A news site</title>
<script type="module" src="${tickerd}/ticker.js"></script></head>
<body><news-ticker topics="${topic}"></news-ticker></body></html>`;
    const page = await watchedPage(t);
    const scripts = [];
    page.on('response', (r) => r.request().resourceType() === 'script'
      && scripts.push({ url: r.url(), status: r.status(), cors: r.headers()['access-control-allow-origin'] }));
    const csps = [];
    page.on('console', (m) => m.type() === 'error' && /Content[- ]Security[- ]Policy/i.test(m.text()) && csps.push(m.text()));
    const res = await page.goto(env.host(t, html, { headers: { 'Content-Security-Policy': csp } }));
    assert.equal(res.headers()['content-security-policy'], csp);
    assert.equal(new URL(page.url()).origin, env.site.origin);
    assert.notEqual(env.site.origin, tickerd);
    await waitState(page, 'live');

    // One script in the page; ticker.js and every module beside it came from tickerd, with CORS;
    // ticker/token.js only once the page gives a tokenProvider.
    assert.equal(await page.locator('script').count(), 1);
    const modules = fs.readdirSync(path.join(REPO, 'web', 'ticker')).filter((f) => f.endsWith('.js')).map((f) => `/ticker/${f}`);
    const upFront = modules.filter((m) => m !== '/ticker/token.js');
    assert.deepEqual(scripts.map((s) => new URL(s.url).pathname).sort(), ['/ticker.js', ...upFront].sort());
    await page.locator('news-ticker').evaluate((el) => { el.tokenProvider = async () => 'not.a.token'; });
    await until('ticker/token.js to load', () => scripts.length === modules.length + 1);
    assert.deepEqual(scripts.map((s) => new URL(s.url).pathname).sort(), ['/ticker.js', ...modules].sort());
    for (const s of scripts) {
      assert.equal(new URL(s.url).origin, tickerd, s.url);
      assert.deepEqual([s.status, s.cors], [200, '*'], s.url);
    }
    // The connection goes back to the host that served the modules.
    assert.equal(page.sockets[0].url, `ws://127.0.0.1:${env.tickerd.port}/ws?topics=${topic}`);

    await env.publish(topic, { id: 'em-1', headline: 'Embedded under a strict policy', priority: 'urgent' });
    await page.locator('news-ticker li[data-id="em-1"]').waitFor({ state: 'attached', timeout: 2000 });
    await waitEvent(page, 'item', { id: 'em-1' });
    const look = await page.locator('news-ticker').evaluate(({ shadowRoot: root }) => ({
      bar: getComputedStyle(root.querySelector('.bar')).backgroundColor,
      label: getComputedStyle(root.querySelector('li .label')).backgroundColor,
      styleElements: root.querySelectorAll('style').length,
      adopted: root.adoptedStyleSheets.length,
    }));
    assert.deepEqual(look, { bar: 'rgb(11, 23, 38)', label: 'rgb(228, 87, 46)', styleElements: 0, adopted: 1 },
      'styled by its constructed stylesheet');
    assert.deepEqual({ events: await page.evaluate(() => window.__csp), console: csps }, { events: [], console: [] });
    assert.deepEqual(page.errors, []);
  });
});
