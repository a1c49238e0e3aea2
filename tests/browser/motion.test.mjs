// The crawl: a transform animation that pauses on hover, on keyboard focus and
// with its pause button, and gives way to one item at a time under reduced motion.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { shoot, startStack, uniq, waitState } from './env.mjs';

const T = { timeout: 25_000 };
let env;
before(async () => { env = await startStack(); });
after(async () => { await env?.stop(); });

// The track's animations and what is on screen.
const motion = (page) => page.locator('news-ticker').evaluate(({ shadowRoot: root }) => {
  const ul = root.querySelector('ul');
  const anims = root.getAnimations();
  return {
    running: anims.filter((a) => a.playState === 'running').length,
    states: ul.getAnimations().map((a) => a.playState),
    properties: ul.getAnimations().flatMap((a) => a.effect.getKeyframes().flatMap((k) => Object.keys(k)))
      .filter((k) => !['offset', 'computedOffset', 'easing', 'composite'].includes(k)),
    transform: getComputedStyle(ul).transform,
    visible: [...root.querySelectorAll('li')].filter((li) => li.checkVisibility()).map((li) => li.dataset.id),
    label: root.querySelector('.toggle').getAttribute('aria-label'),
    focused: root.activeElement?.className ?? null,
  };
});

async function crawlWith(t, ids, opts) {
  const topic = uniq('mo');
  const page = await env.open(t, `<news-ticker topics="${topic}" lang="en"></news-ticker><p style="height:300px">Page text</p>`,
    { viewport: { width: 900, height: 400 }, ...opts });
  await waitState(page, 'live');
  for (const [i, id] of ids.entries()) {
    await env.publish(topic, { id, headline: `Headline number ${i + 1} for the crawl test`,
      url: `https://news.example.org/${id}`, time: `2025-06-24T0${i + 1}:00:00Z` });
  }
  await page.locator(`news-ticker li[data-id="${ids.at(-1)}"]`).waitFor({ state: 'attached', timeout: 2000 });
  return page;
}

// Resolves once the crawl has moved between two samples.
async function assertMoving(page, what) {
  const a = await motion(page);
  await sleep(250);
  const b = await motion(page);
  assert.deepEqual(b.states, ['running'], `${what}: ${JSON.stringify(b)}`);
  assert.notEqual(a.transform, b.transform, `${what}: the track should move`);
}

async function assertStill(page, what) {
  const a = await motion(page);
  await sleep(250);
  const b = await motion(page);
  assert.deepEqual(b.states, ['paused'], `${what}: ${JSON.stringify(b)}`);
  assert.equal(a.transform, b.transform, `${what}: the track should not move`);
}

describe('crawl', () => {
  test('the crawl is a transform animation that pauses on hover', T, async (t) => {
    const page = await crawlWith(t, ['a', 'b', 'c']);
    await assertMoving(page, 'at rest');
    const m = await motion(page);
    assert.deepEqual([...new Set(m.properties)], ['transform'], 'only transform is animated');
    await page.hover('news-ticker');
    await assertStill(page, 'under the pointer');
    await page.mouse.move(450, 350);
    await assertMoving(page, 'after the pointer leaves');
  });

  test('keyboard focus on a headline pauses the crawl and shows the headline', T, async (t) => {
    const page = await crawlWith(t, ['a', 'b', 'c']);
    await page.mouse.move(450, 350);
    await page.keyboard.press('Tab'); // the pause button: focusing it does not pause
    assert.equal((await motion(page)).focused, 'toggle');
    await assertMoving(page, 'with focus on the pause button');
    await page.keyboard.press('Tab'); // the first headline
    await page.keyboard.press('Tab'); // the second one, which may be anywhere in the crawl
    await assertStill(page, 'with focus on a headline');
    const box = await page.locator('news-ticker').evaluate(({ shadowRoot: root }) => {
      const a = root.activeElement.getBoundingClientRect();
      const v = root.querySelector('.view').getBoundingClientRect();
      return { ok: a.left >= v.left && a.right <= v.right, a: [a.left, a.right], v: [v.left, v.right],
        tag: root.activeElement.localName };
    });
    assert.equal(box.tag, 'a');
    assert.ok(box.ok, `the focused headline is inside the bar: ${JSON.stringify(box)}`);
    await page.keyboard.press('Shift+Tab');
    await page.keyboard.press('Shift+Tab');
    await assertMoving(page, 'when focus leaves the headlines');
  });

  test('the pause button stops and restarts the crawl (WCAG 2.2.2)', T, async (t) => {
    const page = await crawlWith(t, ['a', 'b']);
    assert.equal((await motion(page)).label, 'Pause the ticker');
    await page.locator('news-ticker .toggle').click();
    await page.mouse.move(450, 350);
    await assertStill(page, 'paused by the button');
    assert.equal((await motion(page)).label, 'Play the ticker');
    await shoot(page.locator('news-ticker'), 'ticker-paused.png');
    await page.locator('news-ticker .toggle').click();
    await page.mouse.move(450, 350);
    await assertMoving(page, 'played again');
    assert.equal((await motion(page)).label, 'Pause the ticker');
  });

  test('reduced motion: no crawl, one item at a time, rotating', T, async (t) => {
    const page = await crawlWith(t, ['a', 'b', 'c'], { reducedMotion: 'reduce' });
    let m = await motion(page);
    assert.equal(m.running, 0, `no running animation: ${JSON.stringify(m)}`);
    assert.equal(m.transform, 'none');
    assert.deepEqual(m.visible, ['c'], 'one item, the latest to arrive');
    await shoot(page.locator('news-ticker'), 'ticker-reduced-motion.png');
    // It rotates (every 7 s), still one at a time and without animation.
    const t0 = Date.now();
    while ((m = await motion(page)).visible[0] === 'c' && Date.now() - t0 < 9000) await sleep(200);
    assert.equal(m.visible.length, 1, JSON.stringify(m));
    assert.notEqual(m.visible[0], 'c', 'rotated to another item');
    assert.equal(m.running, 0);
    assert.equal(m.transform, 'none');
  });
});
