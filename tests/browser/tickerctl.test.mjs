// <news-ticker> in headless Chromium showing what an editor does with
// tickerctl: an item published with it appears (with its label and link), a
// correction replaces it where it stands, and `tickerctl kill` removes it.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startStack, uniq, waitState } from './env.mjs';
import { assertTickerctl, runTickerctl } from '../e2e/harness.mjs';

const T = { timeout: 20_000 };
let env;
before(async () => { assertTickerctl(); env = await startStack(); });
after(async () => { await env?.stop(); });

/** tickerctl against the stack's Redis; asserts exit 0 and resolves the seq it printed. */
async function ctl(...args) {
  const r = await runTickerctl(args, { env: { TICKERD_REDIS: env.redis.url } });
  assert.equal(r.code, 0, `tickerctl ${args.join(' ')}: exit ${r.code}; ${r.stderr}`);
  return r.stdout.trim();
}

test('an item published with tickerctl shows in the widget; tickerctl correct replaces it, tickerctl kill removes it', T, async (t) => {
  const topic = uniq('ctl');
  const page = await env.open(t, `<news-ticker topics="${topic}"></news-ticker>`);
  await waitState(page, 'live');
  const li = page.locator('news-ticker li[data-id="strike"]');

  await ctl('publish', '--topic', topic, '--id', 'strike', '--priority', 'urgent', '--label', 'Grève',
    '--url', 'https://example.org/greve', 'Les trains reprennent lundi');
  await li.waitFor({ state: 'attached', timeout: 2000 });
  const shown = await li.evaluate((el) => ({ headline: el.querySelector('.headline').textContent,
    label: el.querySelector('.label')?.textContent, href: el.querySelector('a')?.href }));
  assert.deepEqual(shown, { headline: 'Les trains reprennent lundi', label: 'Grève', href: 'https://example.org/greve' });
  await ctl('publish', '--topic', topic, '--id', 'other', 'Another story stays');
  await page.locator('news-ticker li[data-id="other"]').waitFor({ state: 'attached', timeout: 2000 });

  await li.evaluate((el) => { window.__strike = el; });
  await ctl('correct', '--topic', topic, 'strike', 'Les trains reprennent mardi');
  await page.waitForFunction(() => window.__strike.isConnected
    && window.__strike.querySelector('.headline').textContent === 'Les trains reprennent mardi', null, { timeout: 2000 });
  assert.equal(await li.evaluate((el) => el.querySelector('.label')?.textContent), 'Grève', 'the correction kept its label');

  const t0 = Date.now();
  await ctl('kill', '--topic', topic, 'strike');
  await li.waitFor({ state: 'detached', timeout: 1000 });
  assert.ok(Date.now() - t0 < 1500, `removed ${Date.now() - t0} ms after tickerctl kill was started`);
  assert.equal(await page.locator('news-ticker li[data-id="other"]').count(), 1, 'the other story stays');
  assert.deepEqual(page.errors, []);
});
