// Screen health from the browser: <news-ticker screen="lobby"> and
// wall.html?screen=… name themselves and report the last seq they drew and
// that they are visible; /screens lists them with it.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { startStack, uniq, waitState } from './env.mjs';
import { httpGet } from '../e2e/harness.mjs';

const T = { timeout: 30_000 };
let env;
before(async () => { env = await startStack(); });
after(async () => { await env?.stop(); });

/** Poll /screens until the screen named name satisfies pred; returns it. */
async function screenUntil(name, pred, what, timeoutMs = 9000) {
  const end = Date.now() + timeoutMs;
  let last;
  while (Date.now() < end) {
    const r = await httpGet(env.tickerd.port, '/screens');
    last = JSON.parse(r.text).screens.find((s) => s.name === name);
    if (last && pred(last)) return last;
    await sleep(200);
  }
  assert.fail(`${what}: ${JSON.stringify(last)}`);
}

describe('screen health', () => {
  test('<news-ticker screen="lobby"> is in /screens with the seq it drew, visible', T, async (t) => {
    const topic = uniq('scr');
    const name = uniq('lobby').replace(/[^\w.-]/g, '');
    await env.publish(topic, { id: 'scr-1', headline: 'Before the screen connected' });
    const page = await env.open(t, `<news-ticker topics="${topic}" screen="${name}"></news-ticker>`);
    await waitState(page, 'live');
    await page.locator('news-ticker li[data-id="scr-1"]').waitFor({ state: 'attached', timeout: 2000 });
    // The first report goes right after the snapshot: the seq it reflects.
    let s = await screenUntil(name, (x) => x.seq, 'named, with a seq');
    assert.equal(s.visible, true);
    assert.equal(s.connected, true);
    assert.deepEqual(s.topics, [topic]);
    assert.equal(s.lag_messages, 0, JSON.stringify(s));
    assert.equal(s.stale, false);

    // A new item: drawn, then reported within a report interval (5 s).
    // The listener is in place before the publish (an evaluate not awaited
    // could reach the page after the item, on a busy machine).
    await page.evaluate(() => {
      window.__seen = new Promise((resolve) => {
        document.querySelector('news-ticker').addEventListener('ticker:item', (e) => resolve(e.detail.seq), { once: true });
      });
    });
    await env.publish(topic, { id: 'scr-2', headline: 'After it connected' });
    const seq = await page.evaluate(() => window.__seen);
    await page.locator('news-ticker li[data-id="scr-2"]').waitFor({ state: 'attached', timeout: 2000 });
    s = await screenUntil(name, (x) => x.seq === seq, `reports ${seq}`);
    assert.equal(s.lag_messages, 0);
    assert.equal(s.visible, true);
    assert.deepEqual(page.errors, []);
  });

  test('hidden, then shown: reported at once (2.5 s apart at most), visible false then true', T, async (t) => {
    const topic = uniq('vis');
    const name = uniq('hall').replace(/[^\w.-]/g, '');
    const page = await env.page(t);
    // Headless Chromium's page is always visible: let the test say when it is hidden.
    await page.addInitScript(() => {
      window.__hidden = false;
      Object.defineProperty(Document.prototype, 'hidden', { get: () => window.__hidden });
    });
    await page.goto(env.serve(t, `<news-ticker topics="${topic}" screen="${name}"></news-ticker>`));
    await waitState(page, 'live');
    await screenUntil(name, (x) => x.visible === true, 'named, visible');
    await sleep(2600); // past the 2.5 s since the first report: the next goes at once
    const hide = Date.now();
    await page.evaluate(() => { window.__hidden = true; document.dispatchEvent(new Event('visibilitychange')); });
    await screenUntil(name, (x) => x.visible === false, 'reported hidden', 2000);
    assert.ok(Date.now() - hide < 2000, 'at once, not at the next 5 s tick');
    // Shown again within 2.5 s: that report waits for the 5 s tick.
    await page.evaluate(() => { window.__hidden = false; document.dispatchEvent(new Event('visibilitychange')); });
    await sleep(1000);
    const still = JSON.parse((await httpGet(env.tickerd.port, '/screens')).text).screens.find((x) => x.name === name);
    assert.equal(still.visible, false, 'not two reports within 2.5 s');
    // A 5 s tick within 2.5 s of the last report is skipped: the one after, then.
    await screenUntil(name, (x) => x.visible === true, 'reported visible at a later tick', 11_000);
    assert.deepEqual(page.errors, []);
  });

  test('wall.html?screen=newsroom reports too; the element without screen= is not listed', T, async (t) => {
    const topic = uniq('wscr');
    const page = await env.page(t);
    await page.goto(`${env.tickerd.url}/wall.html?topics=${topic}&screen=newsroom-wall`);
    await page.waitForFunction(() => document.body.dataset.state === 'live', null, { timeout: 5000 });
    const plain = await env.open(t, `<news-ticker topics="${topic}"></news-ticker>`);
    await waitState(plain, 'live');
    const s = await screenUntil('newsroom-wall', (x) => x.connected, 'the wall named');
    assert.deepEqual(s.topics, [topic]);
    assert.equal(s.visible, true);
    await sleep(5500); // a report interval: the plain ticker would have reported by now
    const all = JSON.parse((await httpGet(env.tickerd.port, '/screens')).text).screens;
    assert.ok(all.every((x) => !x.topics.includes(topic) || x.name === 'newsroom-wall'), JSON.stringify(all));
    assert.deepEqual(page.errors, []);
  });
});
