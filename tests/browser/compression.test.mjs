// permessage-deflate with Chromium's own WebSocket: the ticker's socket
// negotiates it with tickerd (the handshake as Chromium's network stack saw
// it, over the DevTools protocol), Chromium inflates tickerd's shared
// compressed frames, and the widget shows the items.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startStack, uniq, waitState } from './env.mjs';
import { getMetrics, rawWsOpen } from '../e2e/harness.mjs';

const T = { timeout: 30_000 };
let env;
before(async () => { env = await startStack(); });
after(async () => { await env?.stop(); });

describe('compression', () => {
  test('Chromium offers permessage-deflate, tickerd takes it, and the widget shows the compressed snapshot and live items', T, async (t) => {
    const topic = uniq('pmd');
    // A snapshot worth compressing: 20 items before the page opens.
    for (let i = 0; i < 20; i++) {
      await env.publish(topic, { id: `pmd-${i}`, headline: `Compressed headline ${i}: parliament sits late on the budget again` });
    }
    const before = await getMetrics(env.tickerd.port);
    const page = await env.page(t);
    const cdp = await page.context().newCDPSession(page);
    const handshakes = [];
    const offers = [];
    cdp.on('Network.webSocketWillSendHandshakeRequest', (e) => offers.push(e.request.headers));
    cdp.on('Network.webSocketHandshakeResponseReceived', (e) => handshakes.push(e.response));
    await cdp.send('Network.enable');
    const frames = [];
    page.on('websocket', (ws) => ws.on('framereceived', (f) => frames.push(f.payload)));

    await page.goto(env.serve(t, `<news-ticker topics="${topic}"></news-ticker>`));
    await waitState(page, 'live');
    await page.locator('news-ticker li[data-id="pmd-19"]').waitFor({ state: 'attached', timeout: 3000 });
    await env.publish(topic, { id: 'pmd-live', headline: 'A live headline, compressed once for every reader that asked' });
    await page.locator('news-ticker li[data-id="pmd-live"]').waitFor({ state: 'attached', timeout: 3000 });
    assert.equal(await page.locator('news-ticker li').count(), 21);
    assert.deepEqual(page.errors, []);

    // What Chromium offered and what tickerd answered, as Chromium saw them.
    assert.ok(handshakes.length >= 1, 'the DevTools protocol reported the handshake');
    const header = (h, name) => Object.entries(h).find(([k]) => k.toLowerCase() === name)?.[1];
    const offer = header(offers[0], 'sec-websocket-extensions');
    assert.match(offer, /permessage-deflate/, `Chromium's offer: ${offer}`);
    assert.equal(header(handshakes[0].headers, 'sec-websocket-extensions'),
      'permessage-deflate; server_no_context_takeover; client_no_context_takeover');
    // The frames the page read are the plain JSON messages.
    const types = frames.map((p) => JSON.parse(p).type);
    assert.deepEqual(types.slice(0, 2), ['hello', 'snapshot']);
    assert.ok(types.includes('item'));

    // The same offer from a raw client: the answer, and RSV1 on the snapshot.
    const raw = await rawWsOpen(env.tickerd.port, `/ws?topics=${topic}`,
      { headers: [['Sec-WebSocket-Extensions', offer]], origin: env.tickerd.url });
    t.after(() => raw.conn.destroy());
    assert.equal(raw.status, 101);
    assert.equal(raw.response.headers['sec-websocket-extensions'],
      'permessage-deflate; server_no_context_takeover; client_no_context_takeover');
    const snap = await raw.ws.nextFrame((f) => f.opcode === 1 && f.rsv === 4, 3000);
    assert.ok(snap, `the snapshot came compressed: ${raw.ws.describe()}`);

    const m = await getMetrics(env.tickerd.port);
    assert.ok(m.value('tickerd_ws_deflate_total') - (before.value('tickerd_ws_deflate_total') ?? 0) >= 2);
  });
});
