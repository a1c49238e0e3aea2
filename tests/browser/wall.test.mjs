// wall.html, the newsroom wall display: columns per topic, a flash takeover,
// the offline warning, and a DOM that stays bounded however many items arrive.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { shoot, startStack, uniq } from './env.mjs';

const T = { timeout: 25_000 };
let env;
before(async () => { env = await startStack(); });
after(async () => { await env?.stop(); });

const FULL_HD = { viewport: { width: 1920, height: 1080 } };

async function wall(t, query, opts = FULL_HD) {
  const page = await env.page(t, opts);
  // A heartbeat: the longest gap between 50 ms timer ticks shows whether the page stalled.
  await page.addInitScript(() => {
    window.__gap = 0;
    let last = performance.now();
    setInterval(() => {
      const now = performance.now();
      window.__gap = Math.max(window.__gap, now - last);
      last = now;
    }, 50);
  });
  await page.goto(`${env.tickerd.url}/wall.html?${query}`);
  await page.waitForFunction(() => document.body.dataset.state === 'live', null, { timeout: 5000 });
  return page;
}

const iso = (minutesAgo) => new Date(Date.now() - minutesAgo * 60_000).toISOString().replace(/\.\d+Z$/, 'Z');
const columns = (page) => page.evaluate(() => [...document.querySelectorAll('section')].map((s) => ({
  title: s.querySelector('h2').textContent,
  items: [...s.querySelectorAll('li')].map((li) => li.querySelector('.headline').textContent),
})));

describe('wall display', () => {
  test('one column per topic, newest first, with a clock and a hidden cursor', T, async (t) => {
    const items = [
      ['breaking', { headline: 'Storm warning lifted for the northern coast', time: iso(24), source: 'Weather desk' }],
      ['breaking', { headline: 'Power restored to 40,000 homes after overnight outage', priority: 'urgent', time: iso(9), source: 'City desk' }],
      ['world', { headline: 'Ceasefire talks resume in Geneva', priority: 'bulletin', time: iso(31), premium: true, source: 'Foreign desk',
        related: [{ headline: 'The key issues on the table', url: 'https://news.example.org/talks', premium: true }] }],
      ['world', { headline: 'انطلاق القمة الاقتصادية في الرياض', lang: 'ar', time: iso(17), source: 'مكتب الخليج' }],
      ['world', { headline: 'Central bank holds rates at 3.25%', priority: 'bulletin', label: 'Markets', time: iso(4), url: 'https://news.example.org/rates' }],
      ['sport', { headline: 'Home side clinch the title with two matches to spare', time: iso(52), source: 'Sports desk' }],
      ['sport', { headline: 'Finale de la coupe : le match reporté à dimanche', lang: 'fr', priority: 'urgent', time: iso(12) }],
      ['sport', { headline: 'Marathon record falls in the final kilometre', time: iso(2), url: 'https://news.example.org/marathon' }],
    ];
    // All but the last are there before the wall opens (its snapshot); the last arrives live, highlighted.
    for (const [topic, item] of items.slice(0, -1)) await env.publish(topic, item);
    const page = await wall(t, 'topics=breaking,world,sport&lang=en-GB&title=Newsroom');
    await env.publish(...items.at(-1));
    await page.locator('li', { hasText: 'Marathon record' }).waitFor({ timeout: 2000 });
    await sleep(200);

    const cols = await columns(page);
    assert.deepEqual(cols.map((c) => c.title), ['breaking', 'world', 'sport']);
    assert.deepEqual(cols[0].items, ['Power restored to 40,000 homes after overnight outage', 'Storm warning lifted for the northern coast']);
    assert.deepEqual(cols[1].items, ['Central bank holds rates at 3.25%', 'انطلاق القمة الاقتصادية في الرياض', 'Ceasefire talks resume in Geneva']);
    assert.equal(cols[2].items[0], 'Marathon record falls in the final kilometre');
    assert.deepEqual(await page.evaluate(() => [...document.querySelectorAll('li.new .headline')].map((e) => e.textContent)),
      ['Marathon record falls in the final kilometre'], 'only the live arrival is highlighted');
    const look = await page.evaluate(() => ({
      cursor: getComputedStyle(document.body).cursor,
      clock: document.querySelector('.clock .time').textContent,
      title: document.querySelector('.brand').textContent,
      rtl: document.querySelector('li[lang=ar]').dir,
      clockPx: parseFloat(getComputedStyle(document.querySelector('.clock .time')).fontSize),
    }));
    assert.equal(look.cursor, 'none');
    assert.match(look.clock, /^\d\d:\d\d:\d\d$/);
    assert.equal(look.title, 'Newsroom');
    assert.equal(look.rtl, 'rtl');
    assert.ok(look.clockPx >= 80, `a clock readable across the room (${look.clockPx}px)`);
    await page.mouse.move(0, 0);
    await shoot(page, 'wall.png');
  });

  test('a flash takes over the screen until acknowledged; a kill leaves within a second', T, async (t) => {
    const topic = uniq('wf');
    const page = await wall(t, `topics=${topic}&lang=en`);
    await env.publish(topic, { id: 'wf-1', headline: 'Earthquake felt across the region', priority: 'flash', source: 'Newsdesk' });
    await page.locator('.flash:not([hidden])').waitFor({ timeout: 1000 });
    assert.equal(await page.locator('.flash .headline').textContent(), 'Earthquake felt across the region');
    await shoot(page, 'wall-flash.png');
    await page.keyboard.press('Space');
    await page.locator('.flash').waitFor({ state: 'hidden', timeout: 1000 });
    await page.locator('li', { hasText: 'Earthquake felt' }).waitFor({ timeout: 1000 });
    await env.publish(topic, { id: 'wf-1', status: 'canceled' });
    await page.locator('li', { hasText: 'Earthquake felt' }).waitFor({ state: 'detached', timeout: 1000 });
  });

  test('an item is its topic and id: a kill on another topic leaves it on the wall; a kill on its own topic removes it', T, async (t) => {
    const [a, b] = [uniq('wa'), uniq('wb')];
    const page = await wall(t, `topics=${a},${b}&lang=en`);
    await env.publish(a, { id: 'same', headline: 'Alpha column story' });
    await page.locator('li', { hasText: 'Alpha column story' }).waitFor({ timeout: 2000 });

    // A kill for the same id on the other topic (a sentinel after it shows it was read).
    await env.publish(b, { id: 'same', status: 'canceled' });
    await env.publish(b, { id: 'sentinel', headline: 'Beta sentinel' });
    await page.locator('li', { hasText: 'Beta sentinel' }).waitFor({ timeout: 2000 });
    assert.deepEqual((await columns(page)).map((c) => c.items), [['Alpha column story'], ['Beta sentinel']]);
    const fresh = await wall(t, `topics=${a},${b}&lang=en`);
    await fresh.locator('li', { hasText: 'Alpha column story' }).waitFor({ timeout: 2000 });

    // The same id on the other topic is another item, in its own column; its kill leaves the first.
    await env.publish(b, { id: 'same', headline: 'Beta column story, same id', time: new Date().toISOString() });
    await page.locator('li', { hasText: 'Beta column story' }).waitFor({ timeout: 2000 });
    assert.deepEqual((await columns(page)).map((c) => c.items), [['Alpha column story'], ['Beta column story, same id', 'Beta sentinel']]);
    await env.publish(b, { id: 'same', status: 'canceled', note: 'the second kill on b' });
    await page.locator('li', { hasText: 'Beta column story' }).waitFor({ state: 'detached', timeout: 1000 });
    assert.deepEqual((await columns(page)).map((c) => c.items), [['Alpha column story'], ['Beta sentinel']]);

    await env.publish(a, { id: 'same', status: 'canceled' });
    for (const p of [page, fresh]) await p.locator('li', { hasText: 'Alpha column story' }).waitFor({ state: 'detached', timeout: 1000 });
  });

  test('the DOM stays bounded after 5,000 items, and the page does not stall', T, async (t) => {
    const [a, b] = [uniq('wa'), uniq('wb')];
    const page = await wall(t, `topics=${a},${b}&max=8&lang=en`);
    const empty = await page.evaluate(() => document.getElementsByTagName('*').length);
    await page.evaluate(() => { window.__gap = 0; });

    const commands = [];
    for (let i = 0; i < 5000; i++) commands.push(['PUBLISH', `ticker:${i % 2 ? b : a}`, `Wall item ${i} of the burst`]);
    const t0 = Date.now();
    await env.burst(commands);
    // The newest of each topic ends up on top.
    await page.waitForFunction(() => [...document.querySelectorAll('section li:first-child .headline')]
      .map((e) => e.textContent).join('|') === 'Wall item 4998 of the burst|Wall item 4999 of the burst', null, { timeout: 15_000 });
    t.diagnostic(`5000 items published and shown in ${Date.now() - t0} ms`);

    const clock = await page.locator('.clock .time').textContent();
    await sleep(1100);
    const m = await page.evaluate(() => ({
      all: document.getElementsByTagName('*').length,
      perColumn: [...document.querySelectorAll('section ol')].map((ol) => ol.children.length),
      gap: window.__gap,
      clock: document.querySelector('.clock .time').textContent,
    }));
    assert.deepEqual(m.perColumn, [8, 8], 'capped at max= per column');
    assert.ok(m.all - empty <= 16 * 12, `DOM grew from ${empty} to ${m.all} elements`);
    assert.ok(m.gap < 1000, `the page stalled for ${Math.round(m.gap)} ms`);
    assert.notEqual(m.clock, clock, 'the clock kept ticking');
  });

  test('offline: the wall says since when, and that headlines may be out of date', T, async (t) => {
    const topic = uniq('wo');
    const page = await wall(t, `topics=${topic}&lang=en-GB`);
    await env.publish(topic, 'A headline before the outage');
    await page.locator('li').waitFor({ timeout: 1000 });
    assert.equal(await page.locator('.stale').isHidden(), true);
    await env.tickerd.stop();
    t.after(() => env.tickerd.start()); // for any test that follows
    await page.waitForFunction(() => document.body.dataset.state === 'reconnecting', null, { timeout: 2000 });
    await page.waitForFunction(() => document.body.dataset.state === 'offline', null, { timeout: 12_000 });
    assert.match(await page.locator('.state').textContent(), /^Offline since \d\d:\d\d$/);
    assert.match(await page.locator('.stale').textContent(), /^Offline since \d\d:\d\d: headlines may be out of date$/);
    assert.equal(await page.locator('li').count(), 1, 'the headlines stay, marked as stale');
    await shoot(page, 'wall-offline.png');
  });
});
