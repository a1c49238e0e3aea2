// The ticker's connection: embedded on another origin, surviving a tickerd
// restart without showing anything twice, and saying when it is offline.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { startStack, uniq, waitState } from './env.mjs';

const T = { timeout: 25_000 };
let env;
before(async () => { env = await startStack(); });
after(async () => { await env?.stop(); });

// A page whose WebSockets are recorded: [{ url, frames: [parsed JSON] }].
async function recordedPage(t, body, opts) {
  const page = await env.page(t, opts);
  page.sockets = [];
  page.on('websocket', (ws) => {
    const s = { url: ws.url(), frames: [] };
    page.sockets.push(s);
    ws.on('framereceived', (f) => { try { s.frames.push(JSON.parse(f.payload)); } catch { /* not JSON */ } });
  });
  await page.goto(env.serve(t, body));
  await waitState(page, 'live');
  return page;
}

const ids = (page) => page.locator('news-ticker').evaluate(({ shadowRoot: root }) =>
  [...root.querySelectorAll('li')].map((li) => li.dataset.id));

describe('connection', () => {
  test('works on a page from another origin, connecting back to the host that served ticker.js', T, async (t) => {
    const topic = uniq('xo');
    const page = await recordedPage(t, `<news-ticker topics="${topic}"></news-ticker>`);
    assert.notEqual(new URL(page.url()).origin, env.tickerd.url, 'the page is not on tickerd');
    assert.equal(page.sockets[0].url, `ws://127.0.0.1:${env.tickerd.port}/ws?topics=${topic}`);
    await env.publish(topic, { id: 'xo-1', headline: 'Embedded tickers get the news too' });
    await page.locator('news-ticker li[data-id="xo-1"]').waitFor({ state: 'attached', timeout: 1000 });
    assert.deepEqual(page.errors, []);
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
