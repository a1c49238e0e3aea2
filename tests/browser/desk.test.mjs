// The editors' desk (web/desk.html) in Chromium, against a real tickerd with a
// publisher key: paste the key, publish, see the item on the desk's preview and
// on another site's <news-ticker>, correct it, kill it; a refused payload shows
// tickerd's reason next to its field; the whole desk works from the keyboard
// and under tickerd's own Content-Security-Policy; axe-core finds no serious or
// critical violation on the desk nor on the demo page.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import { shoot, startStack, uniq, waitState, waitText } from './env.mjs';

const T = { timeout: 40_000 };
const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');
const KEY = crypto.randomBytes(24).toString('base64url'); // the editor's key; tickerd holds its hash only
const LIMITED = crypto.randomBytes(24).toString('base64url'); // a key for one topic only
const ONLY = uniq('desk-only');
const sha256 = (s) => crypto.createHash('sha256').update(s).digest('hex');

let env;
before(async () => {
  env = await startStack({ tickerdArgs: ['--publisher-key', `desk=sha256:${sha256(KEY)}`,
    '--publisher-key', `sports-desk=sha256:${sha256(LIMITED)}:${ONLY}`] });
});
after(async () => { await env?.stop(); });

/**
 * The desk, served by tickerd, in a new page: CSP violations collected in
 * page.csp, kill confirmations accepted. With `key`, pasted and saved; with
 * `topics`, watched (preview and list). Other options are the context's.
 */
async function openDesk(t, { key = KEY, topics, ...context } = {}) {
  const page = await env.page(t, context);
  page.csp = [];
  await page.exposeFunction('__csp', (v) => page.csp.push(v));
  await page.addInitScript(() => document.addEventListener('securitypolicyviolation',
    (e) => window.__csp(`${e.effectiveDirective}: ${e.blockedURI}`), true));
  page.on('dialog', (d) => d.accept());
  const res = await page.goto(`${env.tickerd.url}/desk.html`);
  assert.equal(res.status(), 200);
  assert.match(res.headers()['content-security-policy'], /script-src 'self'; style-src 'self'/);
  if (key) {
    await page.getByLabel('Key', { exact: true }).fill(key);
    await page.getByRole('button', { name: 'Use this key' }).click();
    await waitText(page.locator('#status'), 'Key saved for this tab.');
  }
  if (topics) {
    await page.getByLabel('Topics to watch').fill(topics);
    await page.getByRole('button', { name: 'Watch' }).click();
    await waitText(page.locator('#status'), `Watching ${topics.split(',').join(', ')}.`);
  }
  return page;
}

/** Publish from the desk's form: fields by label; resolves with the API's answer { status, body }. */
async function publish(page, fields, button = 'Publish') {
  for (const [label, value] of Object.entries(fields)) {
    const field = page.getByLabel(label, { exact: true });
    if (typeof value === 'boolean') await field.setChecked(value);
    else if (label === 'Priority') await field.selectOption(value);
    else await field.fill(value);
  }
  const answer = page.waitForResponse((r) => r.url().includes('/api/items/') && r.request().method() === 'POST');
  await page.getByRole('button', { name: button, exact: true }).click();
  const r = await answer;
  return { status: r.status(), body: await r.json() };
}

/** axe-core's serious and critical violations on the page, as "rule: target" lines. */
async function axeViolations(page) {
  // page.addScriptTag({ path }) would be an inline script, which tickerd's CSP refuses:
  // evaluate it through the DevTools protocol instead, the page's policy untouched.
  await page.evaluate(fs.readFileSync(AXE, 'utf8'));
  const found = await page.evaluate(async () => (await window.axe.run(document)).violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .flatMap((v) => v.nodes.map((n) => `${v.id} (${v.impact}): ${JSON.stringify(n.target)} ${n.failureSummary}`)));
  return found;
}

const headlines = (locator) => locator.locator('li .headline').allTextContents();

describe('the desk', () => {
  test('publish, see it on the preview and on another site\'s ticker, correct it, kill it', T, async (t) => {
    const topic = uniq('desk');
    const desk = await openDesk(t, { topics: topic });
    const reader = await env.open(t, `<news-ticker topics="${topic}"></news-ticker>`);
    await waitState(reader, 'live');
    await waitState(desk, 'live', 5000, '#preview');

    // Publish: 201 with the normalised item, seq and the key's name.
    const r = await publish(desk, {
      Topic: topic, Headline: 'Council approves the tram line', Priority: 'bulletin', Label: 'Vote',
      Link: 'https://news.example.org/tram', "Premium (the subscribers' badge)": true,
    });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    assert.equal(r.body.by, 'desk');
    assert.match(r.body.seq, /^\d+-\d+$/);
    const { id } = r.body.item;
    assert.deepEqual([r.body.item.topic, r.body.item.headline, r.body.item.priority, r.body.item.label, r.body.item.url, r.body.item.premium],
      [topic, 'Council approves the tram line', 'bulletin', 'Vote', 'https://news.example.org/tram', true]);
    await waitText(desk.locator('#status'), `Published on ${topic}: “Council approves the tram line” (seq ${r.body.seq}, by desk).`);
    assert.deepEqual([await desk.getByLabel('Headline').inputValue(), await desk.getByLabel('Priority').inputValue()],
      ['', 'routine'], 'the form is ready for the next item: no bulletin (or flash) left over');

    // On the desk's preview, on the reader's ticker, and in the desk's list with who published it.
    const preview = desk.locator('#preview');
    const bar = reader.locator('news-ticker');
    await waitText(preview.locator(`li[data-id="${id}"] .headline`), 'Council approves the tram line');
    await waitText(bar.locator(`li[data-id="${id}"] .headline`), 'Council approves the tram line');
    await waitText(bar.locator(`li[data-id="${id}"] .label`), 'Vote');
    const row = desk.locator(`#items li[data-id="${id}"]`);
    await waitText(row.locator('.headline'), 'Council approves the tram line');
    assert.match(await row.locator('.meta').textContent(), /v1.*subscribers.*by desk/);
    await shoot(desk, 'desk.png');

    // Correct: the form takes the item; the correction is the same id, version 2.
    await desk.getByRole('button', { name: `Correct: Council approves the tram line (${topic})` }).click();
    assert.equal(await desk.getByLabel('Headline').inputValue(), 'Council approves the tram line');
    assert.equal(await desk.evaluate(() => document.activeElement.id), 'f-headline');
    assert.equal(await desk.getByLabel('Topic', { exact: true }).getAttribute('readonly'), '');
    const c = await publish(desk, { Headline: 'Council approves the tram line, 31 votes to 12' }, 'Publish the correction');
    assert.equal(c.status, 201, JSON.stringify(c.body));
    assert.deepEqual([c.body.item.id, c.body.item.version, c.body.item.label], [id, 2, 'Vote']);
    await waitText(bar.locator(`li[data-id="${id}"] .headline`), 'Council approves the tram line, 31 votes to 12');
    await waitText(preview.locator(`li[data-id="${id}"] .headline`), 'Council approves the tram line, 31 votes to 12');
    await waitText(row.locator('.headline'), 'Council approves the tram line, 31 votes to 12');
    assert.equal(await bar.locator('li').count(), 1, 'a correction replaces the item where it stands');
    assert.match(await row.locator('.meta').textContent(), /v2/);
    assert.equal(await desk.getByRole('button', { name: 'Publish', exact: true }).count(), 1, 'back to a new item');

    // Kill: gone from both tickers and from the list.
    const k = desk.waitForResponse((x) => x.url().includes('/api/items/') && x.request().method() === 'POST');
    await desk.getByRole('button', { name: `Kill: Council approves the tram line, 31 votes to 12 (${topic})` }).click();
    const killed = await k;
    assert.equal(killed.status(), 201);
    assert.deepEqual((await killed.json()).retract, { id, topic });
    await bar.locator(`li[data-id="${id}"]`).waitFor({ state: 'detached', timeout: 3000 });
    await preview.locator(`li[data-id="${id}"]`).waitFor({ state: 'detached', timeout: 3000 });
    await row.waitFor({ state: 'detached', timeout: 3000 });
    assert.deepEqual(await headlines(bar), []);
    assert.deepEqual([desk.errors, reader.errors, desk.csp], [[], [], []]);
  });

  test('a refused payload shows tickerd\'s reason next to its field, and other refusals in the status region', T, async (t) => {
    const topic = uniq('desk-bad');
    const desk = await openDesk(t, { topics: topic });

    // A headline of spaces only: 400, the reason beside the headline, which is marked and focused.
    const r = await publish(desk, { Topic: topic, Headline: '   ' });
    assert.equal(r.status, 400);
    assert.equal(r.body.field, 'headline');
    const headline = desk.getByLabel('Headline');
    const said = desk.locator('#err-f-headline');
    await waitText(said, r.body.message);
    assert.ok(r.body.message.length > 0);
    assert.equal(await headline.getAttribute('aria-invalid'), 'true');
    assert.match(await headline.getAttribute('aria-describedby'), /\berr-f-headline\b/);
    assert.equal(await desk.evaluate(() => document.activeElement.id), 'f-headline');
    await waitText(desk.locator('#status'), 'Not published: tickerd refused one field, see the message next to it.');

    // A link that is not http(s): the reason moves to the link; the headline is clear again.
    const u = await publish(desk, { Headline: 'A fine headline', Link: 'ftp://files.example.org/x' });
    assert.equal(u.status, 400);
    assert.equal(u.body.field, 'url');
    await waitText(desk.locator('#err-f-url'), u.body.message);
    assert.equal(await desk.getByLabel('Link').getAttribute('aria-invalid'), 'true');
    assert.equal(await headline.getAttribute('aria-invalid'), null);
    assert.equal(await said.count(), 0);
    assert.deepEqual(await axeViolations(desk), [], 'axe-core with a field in error');

    // Nothing of it reached a ticker.
    await waitState(desk, 'live', 5000, '#preview');
    assert.equal(await desk.locator('#preview li').count(), 0);

    // A key tickerd does not know: 401, said in the status region as soon as the desk lists
    // the items, and again on publishing.
    const wrong = await openDesk(t, { key: null });
    await wrong.getByLabel('Key', { exact: true }).fill('not-a-key-tickerd-knows');
    await wrong.getByRole('button', { name: 'Use this key' }).click();
    await waitText(wrong.locator('#status'), 'Could not list the items. tickerd refused the key (401): check it, or paste it again.');
    const w = await publish(wrong, { Topic: topic, Headline: 'From a stranger' });
    assert.equal(w.status, 401);
    await waitText(wrong.locator('#status'), 'Not published. tickerd refused the key (401): check it, or paste it again.');
    assert.equal(await wrong.locator('[aria-invalid=true]').count(), 0);

    // A key limited to another topic: 403, the topic named in the status region.
    const limited = await openDesk(t, { key: LIMITED, topics: ONLY });
    const f = await publish(limited, { Topic: topic, Headline: 'Not my topic' });
    assert.deepEqual([f.status, f.body.topic], [403, topic]);
    await waitText(limited.locator('#status'), `Not published. This key may not publish to or read the topic “${topic}” (403).`);
    const ok = await publish(limited, { Topic: ONLY, Headline: 'My own topic' });
    assert.equal(ok.status, 201);
    assert.equal(ok.body.by, 'sports-desk');
    assert.deepEqual([desk.errors, wrong.errors, limited.errors, desk.csp, wrong.csp, limited.csp], [[], [], [], [], [], []]);
  });

  test('an answer lost on the way back: publishing again records once (the same Idempotency-Key)', T, async (t) => {
    const topic = uniq('desk-retry');
    const desk = await openDesk(t, { topics: topic });
    // The first POST reaches tickerd, which records it; its answer is dropped before the page sees it.
    const first = {};
    await desk.route('**/api/items/**', async (route) => {
      const res = await route.fetch();
      Object.assign(first, { key: route.request().headers()['idempotency-key'], body: await res.json() });
      await route.abort('connectionreset');
    }, { times: 1 });
    await desk.getByLabel('Topic', { exact: true }).fill(topic);
    await desk.getByLabel('Headline').fill('Sent twice, recorded once');
    await desk.getByRole('button', { name: 'Publish', exact: true }).click();
    await waitText(desk.locator('#status'), 'No answer from tickerd (network): publish again to retry; it will be recorded once.');
    assert.match(first.key, /^[0-9a-f-]{36}$/);
    assert.equal(first.body.item.headline, 'Sent twice, recorded once');

    const again = desk.waitForRequest((r) => r.url().includes('/api/items/') && r.method() === 'POST');
    const r = await publish(desk, {});
    assert.equal((await again).headers()['idempotency-key'], first.key);
    assert.equal(r.status, 201);
    assert.deepEqual([r.body.seq, r.body.item.id], [first.body.seq, first.body.item.id], 'the first answer again');
    await waitText(desk.locator('#preview li .headline'), 'Sent twice, recorded once');
    await desk.locator('#items li').waitFor({ timeout: 3000 });
    assert.equal(await desk.locator('#items li').count(), 1);
    assert.equal(await desk.locator('#preview li').count(), 1);

    // Something else is a new publish, with a new key.
    const next = desk.waitForRequest((x) => x.url().includes('/api/items/') && x.method() === 'POST');
    const n = await publish(desk, { Headline: 'Another one' });
    assert.equal(n.status, 201);
    assert.notEqual((await next).headers()['idempotency-key'], first.key);
    assert.notEqual(n.body.seq, first.body.seq);
  });

  test('from the keyboard alone: paste the key, write, publish; the key stays out of the page', T, async (t) => {
    const topic = uniq('desk-kb');
    const desk = await openDesk(t, { key: null, topics: topic });
    await desk.getByLabel('Key', { exact: true }).focus();
    await desk.keyboard.type(KEY);
    await desk.keyboard.press('Enter');
    await waitText(desk.locator('#status'), 'Key saved for this tab.');
    assert.equal(await desk.evaluate(() => document.activeElement.id), 'f-headline');
    await desk.keyboard.type('Typed at the desk');
    // Tab on through priority, label, link, premium, embargo, expiry to Publish, each visibly
    // focused as Tab reaches it (a date and time field then has more stops inside it).
    const order = [];
    for (let i = 0; i < 40 && order.at(-1) !== 'submit'; i++) {
      await desk.keyboard.press('Tab');
      const id = await desk.evaluate((last) => {
        const a = document.activeElement;
        const style = getComputedStyle(a);
        const seen = a.matches(':focus-visible') && style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0;
        return a.id === last || seen ? a.id : `${a.id} (no visible focus)`;
      }, order.at(-1));
      if (id !== order.at(-1)) order.push(id);
    }
    assert.deepEqual(order, ['f-priority', 'f-label', 'f-url', 'f-premium', 'f-embargo', 'f-expires', 'submit']);
    const answer = desk.waitForResponse((r) => r.url().includes('/api/items/'));
    await desk.keyboard.press('Enter');
    assert.equal((await answer).status(), 201);
    await waitText(desk.locator('#preview li .headline'), 'Typed at the desk');
    await desk.locator('#items li .headline').filter({ hasText: 'Typed at the desk' }).waitFor({ timeout: 3000 });

    // The key: in this tab's sessionStorage, nowhere in the DOM nor in localStorage.
    const where = await desk.evaluate((k) => ({
      session: sessionStorage.getItem('tickerd-desk-key') === k,
      dom: document.documentElement.outerHTML.includes(k),
      input: document.getElementById('key').value,
      local: JSON.stringify(localStorage).includes(k),
    }), KEY);
    assert.deepEqual(where, { session: true, dom: false, input: '', local: false });
    assert.deepEqual([desk.errors, desk.csp], [[], []]);
  });

  // With reduced motion the tickers stand still: axe-core cannot judge the contrast of text
  // moving under a clip (it takes a headline scrolled out of view for one on the red LIVE badge).
  test('axe-core: no serious or critical violation on the desk (items listed) nor on the demo page', T, async (t) => {
    const topic = uniq('desk-axe');
    const desk = await openDesk(t, { topics: topic, reducedMotion: 'reduce' });
    const r = await publish(desk, { Topic: topic, Headline: 'Checked by axe-core', Priority: 'urgent' });
    assert.equal(r.status, 201);
    await desk.locator('#items li').waitFor({ timeout: 3000 });
    await desk.locator('#preview li').waitFor({ state: 'attached', timeout: 3000 });
    assert.deepEqual(await axeViolations(desk), []);

    const index = await env.page(t, { reducedMotion: 'reduce' });
    await index.goto(`${env.tickerd.url}/`);
    await waitState(index, 'live');
    assert.deepEqual(await axeViolations(index), []);
    assert.deepEqual([desk.errors, index.errors], [[], []]);
  });
});
