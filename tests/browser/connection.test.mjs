// The ticker's connection: embedded on another origin that tickerd lists
// (--allow-origin), refused on one it does not, surviving a tickerd restart
// without showing anything twice, and saying when it is offline.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { startStack, uniq, waitState } from './env.mjs';

const T = { timeout: 25_000 };
let env;
before(async () => { env = await startStack(); });
after(async () => { await env?.stop(); });

// A page whose WebSockets are recorded: [{ url, frames: [parsed JSON], errors: [socket errors] }].
async function recordingPage(t, opts) {
  const page = await env.page(t, opts);
  page.sockets = [];
  page.on('websocket', (ws) => {
    const s = { url: ws.url(), frames: [], errors: [] };
    page.sockets.push(s);
    ws.on('framereceived', (f) => { try { s.frames.push(JSON.parse(f.payload)); } catch { /* not JSON */ } });
    ws.on('socketerror', (e) => s.errors.push(String(e)));
  });
  return page;
}

// A recording page on env.site (an origin tickerd lists), once its ticker is live.
async function recordedPage(t, body, opts) {
  const page = await recordingPage(t, opts);
  await page.goto(env.serve(t, body));
  await waitState(page, 'live');
  return page;
}

// Open an EventSource on tickerd from the page: 'hello' when it greets us,
// 'refused' when the browser gives up on it (an HTTP error status), or 'timeout'.
const eventSource = (page, url) => page.evaluate((u) => new Promise((resolve) => {
  const es = new EventSource(u);
  const end = (why) => { es.close(); clearTimeout(timer); resolve(why); };
  const timer = setTimeout(() => end('timeout'), 4000);
  es.addEventListener('hello', () => end('hello'));
  es.onerror = () => es.readyState === EventSource.CLOSED && end('refused');
}), url);

const ids = (page) => page.locator('news-ticker').evaluate(({ shadowRoot: root }) =>
  [...root.querySelectorAll('li')].map((li) => li.dataset.id));

describe('connection', () => {
  test('works on a page from another origin, connecting back to the host that served ticker.js', T, async (t) => {
    const topic = uniq('xo');
    const page = await recordedPage(t, `<news-ticker topics="${topic}"></news-ticker>`);
    assert.notEqual(new URL(page.url()).origin, env.tickerd.url, 'the page is not on tickerd');
    assert.equal(new URL(page.url()).origin, env.site.origin, 'but on the origin tickerd was told to allow');
    assert.equal(page.sockets[0].url, `ws://127.0.0.1:${env.tickerd.port}/ws?topics=${topic}`);
    await env.publish(topic, { id: 'xo-1', headline: 'Embedded tickers get the news too' });
    await page.locator('news-ticker li[data-id="xo-1"]').waitFor({ state: 'attached', timeout: 1000 });
    assert.deepEqual(page.errors, []);
  });

  test('a page on an origin tickerd does not list cannot connect (403); the listed one can', T, async (t) => {
    const topic = uniq('org');
    const body = `<news-ticker topics="${topic}"></news-ticker>`;
    const listed = await recordedPage(t, body);
    const other = await recordingPage(t);
    const said = [];
    other.on('console', (m) => m.type() === 'error' && said.push(m.text()));
    await other.goto(env.serve(t, body, env.elsewhere));
    assert.equal(new URL(other.url()).origin, env.elsewhere.origin);
    for (const end = Date.now() + 5000; !other.sockets[0]?.errors.length; await sleep(50)) {
      assert.ok(Date.now() < end, `no refused handshake within 5 s: ${JSON.stringify(other.sockets)}`);
    }
    assert.match(other.sockets[0].errors[0], /Unexpected response code: 403/);
    await waitState(other, 'reconnecting', 2000);

    await env.publish(topic, { id: 'org-1', headline: 'Only pages on allowed origins get this' });
    await listed.locator('news-ticker li[data-id="org-1"]').waitFor({ state: 'attached', timeout: 1000 });
    await sleep(300);
    assert.equal(await other.locator('news-ticker li').count(), 0, 'nothing reached the refused page');
    assert.notEqual(await other.locator('news-ticker .bar').getAttribute('data-state'), 'live');
    assert.ok(other.sockets.length >= 1, 'it tried');
    for (const s of other.sockets) {
      assert.equal(s.url, `ws://127.0.0.1:${env.tickerd.port}/ws?topics=${topic}`);
      assert.deepEqual(s.frames, [], 'no hello, nothing');
    }
    assert.ok(said.some((m) => /WebSocket connection to .* failed: .*\b403\b/.test(m)), said.join('\n'));
    assert.deepEqual(listed.sockets.flatMap((s) => s.errors), []);

    // EventSource, the other way in, follows the same rule.
    const events = `${env.tickerd.url}/events?topics=${topic}`;
    assert.equal(await eventSource(listed, events), 'hello');
    assert.equal(await eventSource(other, events), 'refused');
    assert.deepEqual([...listed.errors, ...other.errors], []);
  });

  test('after tickerd restarts the ticker reconnects with since= and shows nothing twice', T, async (t) => {
    const topic = uniq('rs');
    const page = await recordedPage(t, `<news-ticker topics="${topic}"></news-ticker>`);
    const before = { id: 'rs-a', headline: 'Filed before the restart', time: '2025-06-24T07:00:00Z' };
    await env.publish(topic, before);
    await page.locator('news-ticker li[data-id="rs-a"]').waitFor({ state: 'attached', timeout: 1000 });
    const seq = page.sockets[0].frames.findLast((m) => m.type === 'item').item.seq;

    await env.tickerd.stop(); // SIGTERM: every client gets a close frame, then tickerd exits
    await waitState(page, 'reconnecting', 2000);
    await env.tickerd.start();
    await env.publish(topic, before); // the same item reaches the new tickerd: in its snapshot or live
    await waitState(page, 'live', 10_000);
    await env.publish(topic, { id: 'rs-b', headline: 'Filed after the restart', time: '2025-06-24T08:00:00Z' });
    await page.locator('news-ticker li[data-id="rs-b"]').waitFor({ state: 'attached', timeout: 1000 });
    await sleep(300);

    assert.deepEqual((await ids(page)).sort(), ['rs-a', 'rs-b'], 'each item once');
    const last = page.sockets.at(-1);
    assert.ok(page.sockets.length >= 2, 'a new connection');
    assert.equal(last.url, `ws://127.0.0.1:${env.tickerd.port}/ws?topics=${topic}&since=${seq}`);
    assert.equal(last.frames[0]?.type, 'hello', 'the new server greeted the ticker again');
  });

  test('says "offline since HH:MM" once items may be stale, and comes back when the network does', T, async (t) => {
    const topic = uniq('off');
    const page = await recordedPage(t, `<news-ticker topics="${topic}" lang="fr"></news-ticker>`);
    await env.publish(topic, { id: 'off-1', headline: 'Une dépêche avant la coupure', lang: 'fr' });
    await page.locator('news-ticker li[data-id="off-1"]').waitFor({ state: 'attached', timeout: 1000 });
    const state = page.locator('news-ticker .state');
    assert.equal(await state.textContent(), 'En direct');

    const from = new Date();
    await env.tickerd.stop();
    const to = new Date();
    await waitState(page, 'reconnecting', 2000);
    assert.equal(await state.textContent(), 'Reconnexion…');
    await waitState(page, 'offline', 12_000);
    const paris = (d) => new Intl.DateTimeFormat('fr', { timeZone: 'Europe/Paris', hour: '2-digit', minute: '2-digit' }).format(d);
    const text = (await state.textContent()).replace(/\s/g, ' ');
    assert.ok([paris(from), paris(to)].map((hm) => `Hors ligne depuis ${hm}`).includes(text), text);
    assert.equal(await page.locator('news-ticker .view').evaluate((v) => getComputedStyle(v).opacity), '0.55',
      'stale items are dimmed');

    await env.tickerd.start();
    await page.evaluate(() => dispatchEvent(new Event('online'))); // the browser's "network is back"
    await waitState(page, 'live', 3000);
    assert.deepEqual(await ids(page), ['off-1']);
  });
});
