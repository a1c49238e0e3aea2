// <news-ticker> and private topics, in Chromium against a real tickerd
// (--private-topics, an HS256 secret, no leeway): a token= attribute opens a
// private topic, sent as the first message and never in the URL; a
// tokenProvider with 4-second tokens renews over the same socket and the
// private topic keeps arriving; a token left to expire loses the private items
// (and only those); a new token attribute brings them back on the same socket.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { mint, nowS } from '../e2e/lib/tokens.mjs';
import { startStack, uniq, waitState } from './env.mjs';

const T = { timeout: 40_000 };
const SECRET = crypto.randomBytes(32).toString('hex');
const PRIV = uniq('markets'); // private: --private-topics
const PUB = uniq('news');
const token = (seconds = 3600, topics = [PRIV]) => mint('HS256', SECRET, { topics, exp: nowS() + seconds });

let env;
before(async () => {
  env = await startStack({ tickerdArgs: ['--private-topics', PRIV, '--token-secret', SECRET, '--token-leeway', '0'] });
  await env.publish(PRIV, { id: 'p-1', headline: 'Markets: the private strap' });
  await env.publish(PUB, { id: 'pub-1', headline: 'For every reader' });
});
after(async () => { await env?.stop(); });

/**
 * A page on env.site with `body`, recording its ticker:access events
 * (window.__access) and its WebSockets (page.sockets: { url, sent, received }).
 */
async function open(t, body, setup) {
  const page = await env.page(t);
  await page.addInitScript(() => {
    window.__access = [];
    document.addEventListener('ticker:access', (e) => window.__access.push(JSON.parse(JSON.stringify(e.detail))));
  });
  page.sockets = [];
  page.on('websocket', (ws) => {
    const s = { url: ws.url(), sent: [], received: [] };
    page.sockets.push(s);
    ws.on('framesent', (f) => s.sent.push(f.payload));
    ws.on('framereceived', (f) => { try { s.received.push(JSON.parse(f.payload)); } catch { /* not JSON */ } });
  });
  await setup?.(page);
  await page.goto(env.serve(t, body));
  await waitState(page, 'live');
  return page;
}

const li = (page, id) => page.locator(`news-ticker li[data-id="${id}"]`);
const shown = (page, id) => li(page, id).waitFor({ state: 'attached', timeout: 5000 });
const access = (page) => page.evaluate(() => window.__access);

/** Publish a private and then a public item: once the public one is drawn, the private one would be too. */
async function privateWithheld(page, n) {
  await env.publish(PRIV, { id: `p-late-${n}`, headline: 'Private, published late' });
  await env.publish(PUB, { id: `pub-late-${n}`, headline: 'Public, published after it' });
  await shown(page, `pub-late-${n}`);
  assert.equal(await li(page, `p-late-${n}`).count(), 0, 'a private item reached a reader without access');
}

describe('the token attribute', () => {
  test('opens the private topic: sent as the first message, not in the URL, the DOM holds it once', T, async (t) => {
    const jwt = token();
    const page = await open(t, `<news-ticker topics="${PUB},${PRIV}" token="${jwt}"></news-ticker>`);
    await shown(page, 'pub-1');
    await shown(page, 'p-1');
    await env.publish(PRIV, { id: 'p-2', headline: 'Markets: live, private' });
    await shown(page, 'p-2');

    const [ws] = page.sockets;
    assert.ok(!ws.url.includes(jwt) && !ws.url.includes('token'), ws.url);
    assert.deepEqual(JSON.parse(ws.sent[0]), { type: 'token', token: jwt });
    const granted = (await access(page)).find((m) => m.private?.includes(PRIV));
    assert.ok(granted, JSON.stringify(await access(page)));
    assert.equal(granted.refused, undefined);
    const copies = await page.evaluate((j) => document.documentElement.outerHTML.split(j).length - 1
      + document.querySelector('news-ticker').shadowRoot.innerHTML.split(j).length - 1, jwt);
    assert.equal(copies, 1, 'the token is in the page once: the attribute the page set');
    assert.equal(page.sockets.length, 1);
  });

  test('without a token the private topic stays locked and the public one works', T, async (t) => {
    const page = await open(t, `<news-ticker topics="${PUB},${PRIV}"></news-ticker>`);
    await shown(page, 'pub-1');
    assert.equal(await li(page, 'p-1').count(), 0);
    const hello = page.sockets[0].received.find((m) => m.type === 'hello');
    assert.deepEqual(hello.locked, [PRIV]);
    await privateWithheld(page, 'none');
  });

  test('a token left to expire loses the private items only; a new token attribute brings them back on the same socket', T, async (t) => {
    const page = await open(t, `<news-ticker topics="${PUB},${PRIV}" token="${token(3)}"></news-ticker>`);
    await shown(page, 'p-1');
    await shown(page, 'pub-1');
    // At exp tickerd says so, and the snapshot that follows has no private item.
    await page.waitForFunction(() => window.__access.some((m) => m.refused === 'expired'), null, { timeout: 10_000 });
    const expired = (await access(page)).find((m) => m.refused === 'expired');
    assert.deepEqual([expired.private, expired.locked], [[], [PRIV]]);
    await li(page, 'p-1').waitFor({ state: 'detached', timeout: 5000 });
    assert.equal(await li(page, 'pub-1').count(), 1, 'the public item stays');
    await privateWithheld(page, 'expired');

    await page.locator('news-ticker').evaluate((el, jwt) => el.setAttribute('token', jwt), token());
    await shown(page, 'p-1');
    assert.equal(page.sockets.length, 1, 'the same connection');
    assert.equal(page.errors.length, 0);
  });
});

describe('tokenProvider', () => {
  test('with 4-second tokens it renews over the same socket and the private topic keeps arriving', T, async (t) => {
    let calls = 0;
    // The page sets tokenProvider before ticker.js has run (a module script runs after the body).
    const page = await open(t, `<news-ticker topics="${PUB},${PRIV}"></news-ticker>
<script>document.querySelector('news-ticker').tokenProvider = () => window.mintToken();</script>`, async (p) => {
      await p.exposeFunction('mintToken', () => { calls++; return token(4); });
    });
    await shown(page, 'p-1');
    // Two lifetimes and more: the first tokens have expired by now, their successors hold.
    await sleep(9000);
    await env.publish(PRIV, { id: 'p-renewed', headline: 'Private, after two renewals' });
    await shown(page, 'p-renewed');
    assert.equal(await li(page, 'p-1').count(), 1);
    assert.ok(calls >= 3, `the provider was asked ${calls} times`);
    assert.equal(page.sockets.length, 1, 'renewed over the same connection');
    const tokens = page.sockets[0].sent.map((f) => JSON.parse(f)).filter((m) => m.type === 'token');
    assert.ok(tokens.length >= 3 && new Set(tokens.map((m) => m.token)).size === tokens.length, 'each renewal a new token');
    assert.equal(page.errors.length, 0);
  });

  test('a provider whose tokens are refused is not asked again at once', T, async (t) => {
    let calls = 0;
    const page = await open(t, `<news-ticker topics="${PUB},${PRIV}"></news-ticker>`, async (p) => {
      await p.exposeFunction('badToken', () => { calls++; return mint('HS256', 'not the secret', { topics: [PRIV], exp: nowS() + 600, n: calls }); });
    });
    await page.locator('news-ticker').evaluate((el) => { el.tokenProvider = () => window.badToken(); });
    await page.waitForFunction(() => window.__access.some((m) => m.refused === 'signature'), null, { timeout: 5000 });
    await shown(page, 'pub-1');
    await privateWithheld(page, 'refused');
    await sleep(3000); // a loop would have asked hundreds of times by now
    assert.equal(calls, 1);
    assert.equal((await access(page)).length, 1);
  });

  test('a provider that throws: a warning on the console, the public topics unaffected', T, async (t) => {
    const page = await open(t, `<news-ticker topics="${PUB},${PRIV}"></news-ticker>`, async (p) => {
      await p.exposeFunction('failToken', () => { throw new Error('the login service is down'); });
    });
    const warned = [];
    page.on('console', (m) => m.type() === 'warning' && warned.push(m.text()));
    await page.locator('news-ticker').evaluate((el) => { el.tokenProvider = () => window.failToken(); });
    await shown(page, 'pub-1');
    await privateWithheld(page, 'throws');
    for (let i = 0; i < 40 && !warned.length; i++) await sleep(50);
    assert.deepEqual(warned, ['news-ticker: tokenProvider failed: the login service is down']);
  });
});
