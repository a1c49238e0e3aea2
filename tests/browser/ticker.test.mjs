// <news-ticker> in headless Chromium against a real tickerd and redis-server:
// delivery, the French fixture, text-only rendering, kills and corrections,
// priorities, and the demo page.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { frenchFixture, shoot, startStack, uniq, waitState, waitText, FIXTURES } from './env.mjs';

const T = { timeout: 20_000 };
let env;
before(async () => { env = await startStack(); });
after(async () => { await env?.stop(); });

// Evaluate fn({ shadowRoot }) in the page on the first <news-ticker>.
const inTicker = (page, fn) => page.locator('news-ticker').evaluate(fn);

async function tickerPage(t, attrs, opts) {
  const page = await env.open(t, `<news-ticker ${attrs}></news-ticker>`, opts);
  await waitState(page, 'live');
  return page;
}

describe('news-ticker', () => {
  test('the demo page: a PUBLISH appears in the ticker within a second', T, async (t) => {
    const page = await env.page(t);
    await page.goto(`${env.tickerd.url}/`);
    await waitState(page, 'live');
    const headline = `Ferry services resume after the strike ${uniq('n')}`;
    const t0 = Date.now();
    await env.publish('breaking', headline);
    await page.locator('news-ticker li .headline', { hasText: headline }).waitFor({ state: 'attached', timeout: 1000 });
    assert.ok(Date.now() - t0 < 1000, `took ${Date.now() - t0} ms`);
    // Announced through the polite live region (gathered for a second).
    await page.waitForFunction((h) => document.querySelector('news-ticker').shadowRoot
      .querySelector('[aria-live=polite]').textContent.includes(h), headline, { timeout: 3000 });

    // The rest of the demo page: the snippet names this server, the wall is linked, publishing is explained.
    const snippet = await page.locator('#snippet').textContent();
    assert.ok(snippet.includes(`<script type="module" src="${env.tickerd.url}/ticker.js"></script>`), snippet);
    assert.ok(snippet.includes('<news-ticker'), snippet);
    assert.equal(await page.locator('a[href^="wall.html"]').count() > 0, true);
    assert.match(await page.locator('main').textContent(), /redis-cli PUBLISH ticker:breaking/);
    assert.deepEqual(page.errors, []);
  });

  test('the French fixture renders with its date, label and characters intact', T, async (t) => {
    const text = frenchFixture();
    if (!text) {
      t.skip(`shared fixtures not found at ${FIXTURES}: the fixture is read from there and never copied into the repo`);
      return;
    }
    const paragraphs = text.split(/\n\s*\n/).map((p) => p.trim());
    const lead = paragraphs.find((p) => p.length > 120); // the first real paragraph carries the headline
    const quote = paragraphs.find((p) => p.includes('«')); // a second item, for the guillemets
    const related = paragraphs.filter((p) => p.startsWith('Lire ')).map((p) => p.replace(/^.*?abonnés\s+/, ''));
    const all = [lead, quote, ...related].join('\n');
    for (const ch of ['é', '’', '«', '»', '\u00a0']) assert.ok(all.includes(ch), `fixture lost ${JSON.stringify(ch)}?`);

    const topic = uniq('fr');
    const page = await tickerPage(t, `topics="${topic}" lang="fr"`);
    await env.publish(topic, { id: 'mali-visit', headline: lead, lang: 'fr', time: '2025-06-24T07:30:00Z',
      label: 'Bulletin', priority: 'bulletin', source: 'Le Monde avec AFP',
      related: related.map((headline) => ({ headline, premium: true })) });
    await env.publish(topic, { id: 'mali-quote', headline: quote, lang: 'fr', time: '2025-06-24T07:35:00Z' });
    await page.locator('news-ticker li[data-id="mali-quote"]').waitFor({ state: 'attached', timeout: 2000 });

    const got = await inTicker(page, ({ shadowRoot: root }) => {
      const li = root.querySelector('li[data-id="mali-visit"]');
      return { lang: li.lang, dir: li.dir, label: li.querySelector('.label').textContent,
        headline: li.querySelector('.headline').textContent, time: li.querySelector('time').textContent,
        datetime: li.querySelector('time').dateTime, related: [...li.querySelectorAll('.related a, .related > span > span:first-child')].map((e) => e.textContent),
        badges: li.querySelectorAll('.premium').length,
        quote: root.querySelector('li[data-id="mali-quote"] .headline').textContent };
    });
    assert.equal(got.headline, lead);
    assert.equal(got.quote, quote);
    assert.deepEqual(got.related, related);
    assert.equal(got.lang, 'fr');
    assert.equal(got.dir, 'ltr');
    assert.equal(got.label, 'Bulletin');
    assert.equal(got.datetime, '2025-06-24T07:30:00Z');
    assert.ok(got.time.includes('mardi 24 juin 2025'), got.time);
    assert.ok(got.time.includes('09:30'), got.time);
    assert.equal(got.badges, related.length, 'each subscriber-only related headline has a badge');
    await shoot(page.locator('news-ticker'), 'ticker-fixture-fr.png');
  });

  test('the relative age is in the item language and keeps itself current', T, async (t) => {
    const topic = uniq('age');
    const page = await env.page(t);
    await page.clock.install(); // the page's clock runs on, and the test can move it forward
    await page.goto(env.serve(t, `<news-ticker topics="${topic}" lang="fr"></news-ticker>`));
    await waitState(page, 'live');
    const fiveMinutesAgo = new Date(Date.now() - 5 * 60_000 - 10_000).toISOString().replace(/\.\d+Z$/, 'Z');
    await env.publish(topic, { id: 'age', headline: 'Ouverture en hausse à la Bourse', lang: 'fr', time: fiveMinutesAgo });
    const age = page.locator('news-ticker li[data-id="age"] .age');
    await waitText(age, 'il y a 5 min');
    await page.clock.fastForward('10:00');
    await waitText(age, 'il y a 15 min');
  });

  test('markup in a headline is shown as text and runs nothing', T, async (t) => {
    const topic = uniq('xss');
    const page = await tickerPage(t, `topics="${topic}"`);
    const evil = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>';
    await env.publish(topic, { id: 'evil', headline: evil, source: '<b onmouseover="window.__pwned=3">x</b>',
      label: '<img src=y onerror="window.__pwned=4">', priority: 'urgent', related: [{ headline: evil }] });
    await page.locator('news-ticker li[data-id="evil"]').waitFor({ state: 'attached', timeout: 2000 });
    await page.hover('news-ticker');
    await page.waitForTimeout(300);
    const got = await inTicker(page, ({ shadowRoot: root }) => ({
      headline: root.querySelector('li[data-id="evil"] .headline').textContent,
      label: root.querySelector('li[data-id="evil"] .label').textContent,
      elements: [...root.querySelectorAll('li[data-id="evil"] *')].map((e) => e.localName),
      imgs: root.querySelectorAll('img, script, b').length + document.querySelectorAll('img, b').length,
      pwned: window.__pwned }));
    assert.equal(got.headline, evil);
    assert.equal(got.label, '<img src=y onerror="window.__pwned=4">');
    assert.equal(got.imgs, 0, `no element made from item text; saw ${got.elements}`);
    assert.equal(got.pwned, undefined);
  });

  test('a correction replaces the item where it stands; a kill removes it within a second', T, async (t) => {
    const topic = uniq('kc');
    const page = await tickerPage(t, `topics="${topic}"`);
    for (const [i, id] of ['a', 'b', 'c'].entries()) {
      await env.publish(topic, { id, headline: `Item ${id} as first filed`, time: `2025-06-24T0${i + 1}:00:00Z` });
    }
    await page.locator('news-ticker li[data-id="c"]').waitFor({ state: 'attached', timeout: 2000 });
    const before = await page.evaluate(() => {
      const root = document.querySelector('news-ticker').shadowRoot;
      window.__b = root.querySelector('li[data-id="b"]');
      return [...root.querySelectorAll('li')].map((li) => li.dataset.id);
    });

    await env.publish(topic, { id: 'b', version: 2, headline: 'Item b, corrected' });
    await page.waitForFunction(() => window.__b.querySelector('.headline').textContent === 'Item b, corrected', null, { timeout: 1000 });
    const afterFix = await page.evaluate(() => {
      const root = document.querySelector('news-ticker').shadowRoot;
      return { same: root.querySelector('li[data-id="b"]') === window.__b && window.__b.isConnected,
        order: [...root.querySelectorAll('li')].map((li) => li.dataset.id),
        count: root.querySelectorAll('li[data-id="b"]').length };
    });
    assert.equal(afterFix.same, true, 'the corrected item keeps its element');
    assert.deepEqual(afterFix.order, before, 'and its position');
    assert.equal(afterFix.count, 1);

    const t0 = Date.now();
    await env.publish(topic, { id: 'a', status: 'canceled' });
    await page.locator('news-ticker li[data-id="a"]').waitFor({ state: 'detached', timeout: 1000 });
    assert.ok(Date.now() - t0 < 1000);
    assert.deepEqual(await inTicker(page, ({ shadowRoot: root }) => [...root.querySelectorAll('li')].map((li) => li.dataset.id)),
      before.filter((id) => id !== 'a'));
  });

  test('an item is its topic and id: a kill or correction on another topic leaves it; a kill on its own topic removes it', T, async (t) => {
    const [a, b] = [uniq('ta'), uniq('tb')];
    const page = await tickerPage(t, `topics="${a},${b}"`);
    const item = (p, text) => p.locator('news-ticker li', { hasText: text });
    const headlines = () => inTicker(page, ({ shadowRoot: root }) => [...root.querySelectorAll('li .headline')]
      .map((e) => e.textContent).sort());
    await env.publish(a, { id: 'same', headline: 'Alpha keeps its place' });
    await item(page, 'Alpha keeps').waitFor({ state: 'attached', timeout: 2000 });

    // A kill for the same id on the other topic (a sentinel after it shows it was read).
    await env.publish(b, { id: 'same', status: 'canceled' });
    await env.publish(b, { id: 'sentinel', headline: 'Beta sentinel' });
    await item(page, 'Beta sentinel').waitFor({ state: 'attached', timeout: 2000 });
    assert.deepEqual(await headlines(), ['Alpha keeps its place', 'Beta sentinel'], 'a kill on another topic removed the item');
    // A new screen gets it in its snapshot.
    const fresh = await tickerPage(t, `topics="${a},${b}"`);
    await item(fresh, 'Alpha keeps').waitFor({ state: 'attached', timeout: 2000 });

    // The same id on the other topic is another item, its correction replaces only it, its kill removes only it.
    await env.publish(b, { id: 'same', headline: 'Beta, same id' });
    await item(page, 'Beta, same id').waitFor({ state: 'attached', timeout: 2000 });
    await env.publish(b, { id: 'same', headline: 'Beta, corrected', version: 2 });
    await item(page, 'Beta, corrected').waitFor({ state: 'attached', timeout: 2000 });
    assert.deepEqual(await headlines(), ['Alpha keeps its place', 'Beta sentinel', 'Beta, corrected']);
    assert.deepEqual(await inTicker(page, ({ shadowRoot: root }) => [...root.querySelectorAll('li[data-id=same]')]
      .map((li) => li.dataset.topic).sort()), [a, b].sort());
    await env.publish(b, { id: 'same', status: 'canceled', note: 'the second kill on b' });
    await item(page, 'Beta, corrected').waitFor({ state: 'detached', timeout: 1000 });
    assert.deepEqual(await headlines(), ['Alpha keeps its place', 'Beta sentinel']);

    // A kill on its own topic removes it from both screens.
    await env.publish(a, { id: 'same', status: 'canceled' });
    for (const p of [page, fresh]) await item(p, 'Alpha keeps').waitFor({ state: 'detached', timeout: 1000 });
    assert.deepEqual([...page.errors, ...fresh.errors], []);
  });

  test('priorities: flash takes over (assertive), bulletin and urgent carry labels, premium and RTL', T, async (t) => {
    const topic = uniq('pr');
    const page = await tickerPage(t, `topics="${topic}" lang="en"`,
      { viewport: { width: 1280, height: 200 }, deviceScaleFactor: 2 });
    const ago = (min) => new Date(Date.now() - min * 60_000).toISOString().replace(/\.\d+Z$/, 'Z');
    await env.publish(topic, { id: 'b1', headline: 'Parliament passes the budget', priority: 'bulletin', premium: true,
      url: 'https://news.example.org/budget', time: ago(3),
      related: [{ headline: 'What changes for households', url: 'https://news.example.org/budget-homes', premium: true }] });
    await env.publish(topic, { id: 'u1', headline: 'Bridge closed after a lorry fire', priority: 'urgent',
      url: 'https://news.example.org/bridge', time: ago(8) });
    await env.publish(topic, { id: 'r1', headline: 'Regional trains run to a reduced timetable', source: 'Transport desk', time: ago(14) });
    await env.publish(topic, { id: 'ar1', headline: 'افتتاح معرض الكتاب الدولي', lang: 'ar', time: ago(21) });
    await page.locator('news-ticker li[data-id="ar1"]').waitFor({ state: 'attached', timeout: 2000 });

    const got = await inTicker(page, ({ shadowRoot: root }) => {
      const q = (id, s) => root.querySelector(`li[data-id="${id}"] ${s}`);
      return { routineLabel: q('r1', '.label'), urgent: q('u1', '.label').textContent, bulletin: q('b1', '.label').textContent,
        link: q('u1', 'a.headline')?.href, badge: q('b1', '.premium')?.textContent,
        relatedLink: q('b1', '.related a')?.href, dir: root.querySelector('li[data-id="ar1"]').dir,
        routineLink: q('r1', 'a') };
    });
    assert.equal(got.routineLabel, null, 'routine items carry no label');
    assert.equal(got.urgent, 'Urgent');
    assert.equal(got.bulletin, 'Bulletin');
    assert.equal(got.link, 'https://news.example.org/bridge', 'a headline with a url is a real link');
    assert.equal(got.routineLink, null, 'no link without a url');
    assert.equal(got.badge, 'Subscribers');
    assert.equal(got.relatedLink, 'https://news.example.org/budget-homes', 'related headlines are reachable');
    assert.equal(got.dir, 'rtl');
    await page.hover('news-ticker .state'); // hold the crawl still for the picture
    await shoot(page.locator('news-ticker'), 'ticker.png');
    await page.mouse.move(600, 150);

    await env.publish(topic, { id: 'f1', headline: 'Earthquake felt across the region', priority: 'flash' });
    await page.locator('news-ticker .flash:not([hidden])').waitFor({ timeout: 1000 });
    const flash = await inTicker(page, ({ shadowRoot: root }) => ({ text: root.querySelector('.flash .headline').textContent,
      assertive: root.querySelector('[aria-live=assertive]').textContent,
      paused: root.querySelector('ul').getAnimations().every((a) => a.playState !== 'running') }));
    assert.equal(flash.text, 'Earthquake felt across the region');
    assert.equal(flash.assertive, 'Flash: Earthquake felt across the region');
    assert.equal(flash.paused, true, 'the crawl waits under a flash');
    await shoot(page.locator('news-ticker'), 'ticker-flash.png');
    await page.locator('news-ticker .ack').click();
    await page.locator('news-ticker .flash').waitFor({ state: 'hidden', timeout: 1000 });
  });

  test('a flash gives the bar back after flash-timeout seconds', T, async (t) => {
    const topic = uniq('ft');
    const page = await tickerPage(t, `topics="${topic}" flash-timeout="1"`);
    await env.publish(topic, { headline: 'Polls close in the capital', priority: 'flash' });
    await page.locator('news-ticker .flash:not([hidden])').waitFor({ timeout: 1000 });
    await page.locator('news-ticker .flash').waitFor({ state: 'hidden', timeout: 2500 });
  });
});
