// tickerd's pages under its own Content-Security-Policy (scripts, styles and
// connections from itself only, nothing inline): the demo page and the wall
// display work without a single violation; and the frame-ancestors rule: a
// page on an origin tickerd lists (--allow-origin) may frame the wall, a page
// on any other origin may not.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startStack, uniq, waitState } from './env.mjs';

const T = { timeout: 25_000 };
let env;
before(async () => { env = await startStack(); });
after(async () => { await env?.stop(); });

const CSP_WORDS = /Content[- ]Security[- ]Policy/i;

/**
 * A new page that records every CSP violation: the securitypolicyviolation
 * events its documents see (window.__csp, in each frame) and Chromium's
 * console errors about the policy (page.csp).
 */
async function watchedPage(t, opts) {
  const page = await env.page(t, opts);
  page.csp = [];
  page.on('console', (m) => m.type() === 'error' && CSP_WORDS.test(m.text()) && page.csp.push(m.text()));
  await page.addInitScript(() => {
    window.__csp = [];
    // Capture, on the document: violations in shadow trees are composed events and reach it too.
    document.addEventListener('securitypolicyviolation', (e) => window.__csp.push(
      `${e.effectiveDirective}: ${e.blockedURI || 'inline'} (${e.sourceFile}:${e.lineNumber}) ${e.sample}`), true);
  });
  return page;
}

const violations = async (page) => ({ events: await page.evaluate(() => window.__csp), console: page.csp });

// The policy of a response, one directive per key.
function policy(response) {
  const header = response.headers()['content-security-policy'];
  assert.ok(header, `no Content-Security-Policy on ${response.url()}`);
  return Object.fromEntries(header.split(';').map((d) => d.trim().split(/\s+/)).map(([k, ...v]) => [k, v.join(' ')]));
}

const wallFrame = (frame) => frame.evaluate(() => ({
  clock: document.querySelector('.clock .time')?.textContent ?? null,
  state: document.body?.dataset.state ?? null,
}));

describe('content security policy', () => {
  test('the demo page works under the policy without a violation', T, async (t) => {
    const page = await watchedPage(t);
    const res = await page.goto(`${env.tickerd.url}/`);
    const csp = policy(res);
    assert.equal(csp['script-src'], "'self'");
    assert.equal(csp['style-src'], "'self'", 'no unsafe-inline: inline styles would be refused');
    assert.equal(csp['connect-src'], "'self'");
    await waitState(page, 'live');
    const headline = `Night buses added for the festival ${uniq('csp')}`;
    await env.publish('breaking', headline);
    await page.locator('news-ticker li .headline', { hasText: headline }).waitFor({ state: 'attached', timeout: 2000 });

    const look = await page.evaluate(() => {
      const root = document.querySelector('news-ticker').shadowRoot;
      const bar = root.querySelector('.bar');
      return {
        bar: getComputedStyle(bar).backgroundColor, // the ticker's own sheet (adopted)
        barHeight: bar.getBoundingClientRect().height, // index.css's --ticker-height, through the shadow boundary
        styleElements: root.querySelectorAll('style').length,
        adopted: root.adoptedStyleSheets.length,
        header: getComputedStyle(document.querySelector('header')).backgroundColor, // index.css
        snippet: document.getElementById('snippet').textContent, // index.js
      };
    });
    assert.equal(look.bar, 'rgb(11, 23, 38)', 'the ticker is styled');
    assert.equal(look.barHeight, 48);
    assert.deepEqual([look.styleElements, look.adopted], [0, 1], 'a constructed stylesheet, no <style> element');
    assert.equal(look.header, 'rgb(11, 23, 38)', 'index.css applies');
    assert.ok(look.snippet.includes(`src="${env.tickerd.url}/ticker.js"`), 'index.js ran');
    assert.deepEqual(await violations(page), { events: [], console: [] });
    assert.deepEqual(page.errors, []);

    // The watch itself works: inline style, in the page and in the ticker's shadow tree, is caught.
    await page.evaluate(() => {
      document.head.append(Object.assign(document.createElement('style'), { textContent: 'p{}' }));
      document.querySelector('news-ticker').shadowRoot.append(Object.assign(document.createElement('style'), { textContent: 'li{}' }));
    });
    await page.waitForFunction(() => window.__csp.length === 2, null, { timeout: 2000 });
    assert.ok((await violations(page)).events.every((v) => v.startsWith('style-src-elem: inline')), JSON.stringify(await violations(page)));
  });

  test('the wall display works under the policy without a violation', T, async (t) => {
    const topic = uniq('cw');
    const page = await watchedPage(t, { viewport: { width: 1280, height: 720 } });
    await page.clock.install(); // to reach the minute-long drift against burn-in
    const res = await page.goto(`${env.tickerd.url}/wall.html?topics=${topic}&lang=en-GB&title=Policy`);
    assert.equal(policy(res)['style-src'], "'self'");
    await page.waitForFunction(() => document.body.dataset.state === 'live', null, { timeout: 5000 });
    await env.publish(topic, { id: 'cw-1', headline: 'Harbour reopens after the storm', priority: 'urgent' });
    await page.locator('li[data-id="cw-1"] .headline').waitFor({ timeout: 2000 });
    await page.clock.fastForward('01:05');

    const look = await page.evaluate(() => ({
      headline: document.querySelector('li[data-id="cw-1"] .headline').textContent,
      label: getComputedStyle(document.querySelector('li[data-id="cw-1"] .label')).backgroundColor, // wall.css
      cursor: getComputedStyle(document.body).cursor, // wall.css
      clock: document.querySelector('.clock .time').textContent, // wall.js
      title: document.querySelector('.brand').textContent,
      size: document.documentElement.style.getPropertyValue('--size'), // set through the CSSOM
      drift: document.getElementById('screen').style.transform, // so is this
    }));
    assert.equal(look.headline, 'Harbour reopens after the storm');
    assert.equal(look.label, 'rgb(228, 87, 46)');
    assert.equal(look.cursor, 'none');
    assert.match(look.clock, /^\d\d:\d\d:\d\d$/);
    assert.equal(look.title, 'Policy');
    assert.equal(look.size, '5');
    assert.match(look.drift, /^translate\(-?\d+px, -?\d+px\)$/);
    assert.deepEqual(await violations(page), { events: [], console: [] });
    assert.deepEqual(page.errors, []);
  });
});

describe('framing (frame-ancestors)', () => {
  const framing = (src) => `<iframe src="${src}" width="960" height="540" title="wall"></iframe>`;

  test('a page on a listed origin can frame the wall display', T, async (t) => {
    const topic = uniq('fr');
    const src = `${env.tickerd.url}/wall.html?topics=${topic}&lang=en-GB`;
    const page = await watchedPage(t);
    await page.goto(env.serve(t, framing(src)));
    assert.equal(new URL(page.url()).origin, env.site.origin);
    const frame = await (await page.locator('iframe').elementHandle()).contentFrame();
    await frame.waitForFunction(() => document.body?.dataset.state === 'live', null, { timeout: 5000 });
    assert.equal(frame.url(), src);
    assert.match((await wallFrame(frame)).clock, /^\d\d:\d\d:\d\d$/, 'the clock renders in the frame');
    await env.publish(topic, { id: 'fr-1', headline: 'Framed walls get the news too' });
    await frame.locator('li[data-id="fr-1"]').waitFor({ timeout: 2000 });
    assert.deepEqual(page.csp, []);
    assert.deepEqual(await frame.evaluate(() => window.__csp), []);
  });

  test('a page on an origin tickerd does not list cannot frame it', T, async (t) => {
    const src = `${env.tickerd.url}/wall.html?topics=${uniq('fx')}&lang=en-GB`;
    const page = await watchedPage(t);
    const blocked = page.waitForEvent('console', { timeout: 5000,
      predicate: (m) => /frame-ancestors/.test(m.text()) && m.text().includes(env.site.origin) });
    await page.goto(env.serve(t, framing(src), env.elsewhere));
    assert.equal(new URL(page.url()).origin, env.elsewhere.origin);
    const message = (await blocked).text();
    assert.match(message, /violates the following Content Security Policy directive: "frame-ancestors 'self' http:\/\/127\.0\.0\.1:\d+"/);
    const frame = await (await page.locator('iframe').elementHandle()).contentFrame();
    await page.waitForTimeout(500); // what the wall would need to draw its clock
    assert.notEqual(frame.url(), src, 'the wall was not loaded into the frame');
    assert.match(frame.url(), /^(about:blank|chrome-error:)/);
    assert.deepEqual(await wallFrame(frame), { clock: null, state: null }, 'no wall in the frame');
  });
});
