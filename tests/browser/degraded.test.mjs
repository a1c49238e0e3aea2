// tickerd says its feed is degraded (Redis frozen with SIGSTOP): the ticker
// and the wall say headlines may be out of date, in the interface language,
// while their own connection stays up, and stop saying so when tickerd says
// the feed is ok again; a page opened meanwhile says so from its greeting.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { shoot, startStack, uniq, waitState } from './env.mjs';

const T = { timeout: 28_000 };
let env;
before(async () => { env = await startStack(); });
after(async () => { await env?.stop(); });

/** A page whose ticker:state events are recorded in window.__states ({ state, since (ms or null) }). */
async function recorded(t, body, opts) {
  const page = await env.page(t, opts);
  await page.addInitScript(() => {
    window.__states = [];
    document.addEventListener('ticker:state', (e) => window.__states.push({
      state: e.detail.state, since: e.detail.since instanceof Date ? +e.detail.since : e.detail.since,
    }));
  });
  await page.goto(env.serve(t, body));
  return page;
}

const states = (page) => page.evaluate(() => window.__states);
const wallState = (page, state, timeout) => page.waitForFunction((s) => document.body.dataset.state === s, state, { timeout });

describe('degraded feed', () => {
  test('Redis frozen: the ticker (French) and the wall say headlines may be out of date, a page opened meanwhile too; all clear when tickerd says ok', T, async (t) => {
    const topic = uniq('dg');
    const ticker = await recorded(t, `<news-ticker topics="${topic}" lang="fr"></news-ticker>`);
    await waitState(ticker, 'live');
    const wall = await env.page(t, { viewport: { width: 1280, height: 720 } });
    await wall.goto(`${env.tickerd.url}/wall.html?topics=${topic}&lang=en-GB`);
    await wallState(wall, 'live', 5000);
    await env.publish(topic, { id: 'dg-1', headline: 'Publiée avant la panne', lang: 'fr' });
    await ticker.locator('news-ticker li[data-id="dg-1"]').waitFor({ state: 'attached', timeout: 1000 });
    const pill = ticker.locator('news-ticker .state');
    assert.equal(await pill.textContent(), 'En direct');
    assert.equal(await wall.locator('.stale').isHidden(), true);

    const pid = env.redis.pid();
    let frozen = true;
    t.after(() => frozen && process.kill(pid, 'SIGCONT'));
    process.kill(pid, 'SIGSTOP');
    const stopAt = Date.now();
    await waitState(ticker, 'stale', 8000);
    const toldAt = Date.now();
    t.diagnostic(`the ticker said stale ${toldAt - stopAt} ms after SIGSTOP`);
    assert.equal(await pill.textContent(), 'les titres peuvent être périmés');
    assert.equal(await ticker.locator('news-ticker .state').evaluate((e) => getComputedStyle(e).textTransform), 'uppercase');
    assert.deepEqual(await ticker.locator('news-ticker li').evaluateAll((lis) => lis.map((li) => li.dataset.id)), ['dg-1'],
      'the headlines stay');
    await wallState(wall, 'stale', 2000);
    assert.equal(await wall.locator('.stale').textContent(), 'Headlines may be out of date');
    assert.equal(await wall.locator('.stale').isVisible(), true);
    assert.equal(await wall.locator('.state').textContent(), 'Live', 'its own connection is up');
    await shoot(wall, 'wall-degraded.png');

    // Opened during the outage: told by its greeting, never shown as live.
    const late = await recorded(t, `<news-ticker topics="${topic}"></news-ticker>`);
    await waitState(late, 'stale', 5000);
    assert.equal(await late.locator('news-ticker .state').textContent(), 'headlines may be out of date');
    assert.deepEqual((await states(late)).map((s) => s.state), ['connecting', 'stale']);
    await late.locator('news-ticker li[data-id="dg-1"]').waitFor({ state: 'attached', timeout: 1000 });

    process.kill(pid, 'SIGCONT');
    frozen = false;
    const contAt = Date.now();
    await waitState(ticker, 'live', 10_000);
    t.diagnostic(`the ticker said live ${Date.now() - contAt} ms after SIGCONT`);
    assert.equal(await pill.textContent(), 'En direct');
    await waitState(late, 'live', 2000);
    await wallState(wall, 'live', 2000);
    assert.equal(await wall.locator('.stale').isHidden(), true);

    // ticker:state: live, stale (since when the trouble began), live again.
    const seen = await states(ticker);
    assert.deepEqual(seen.map((s) => s.state), ['connecting', 'live', 'stale', 'live']);
    assert.ok(seen[2].since >= Math.floor(stopAt / 1000) * 1000 && seen[2].since <= toldAt, `since ${new Date(seen[2].since).toISOString()}`);
    assert.deepEqual([seen[1].since, seen[3].since], [null, null]);

    await env.publish(topic, { id: 'dg-2', headline: 'Publiée après la panne', lang: 'fr' });
    await ticker.locator('news-ticker li[data-id="dg-2"]').waitFor({ state: 'attached', timeout: 2000 });
    await sleep(100);
    assert.deepEqual([...ticker.errors, ...wall.errors, ...late.errors], []);
  });
});
