// Invalid payloads are rejected whole: no client sees anything, the log says
// why, /healthz "rejected" counts them, and the next valid item still flows.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { scenario, publish, uniq, getHealth, assertItemShape, assertAllJsonText } from './harness.mjs';

const T = { timeout: 30_000 };

const rejectLines = (log) => log.split('\n').filter((l) => /reject/i.test(l));

/**
 * Publish each bad payload then a sentinel; check that every client's first
 * message after the snapshot is the sentinel, that the rejected counter grew
 * by bad.length and that the log has one rejection line per bad payload.
 */
async function rejectAll(h, bad, { clientsN = 2 } = {}) {
  const { redis, tickerd } = await h.env();
  const clients = [];
  for (let i = 0; i < clientsN; i++) {
    const c = await h.client(tickerd.wsUrl(i === 1 ? '?topics=world' : ''));
    await c.ready();
    clients.push(c);
  }
  const h0 = await getHealth(tickerd.port);
  assert.equal(h0.status, 200);
  assert.equal(typeof h0.json.rejected, 'number');
  const log0 = rejectLines(tickerd.log()).length;

  for (const b of bad) {
    const n = await publish(redis.port, b.channel || 'ticker:world', b.payload);
    assert.ok(n >= 1, `${b.name}: tickerd not subscribed (PUBLISH reached ${n})`);
  }
  const sentinel = `Valid sentinel ${uniq()}`;
  await publish(redis.port, 'ticker:world', sentinel);

  for (const c of clients) {
    await c.nextItem(sentinel, 5000);
    const after = c.afterSnapshot();
    assert.equal(after[0].json?.item?.headline, sentinel,
      `first message after the snapshot must be the sentinel; ${c.url} got: ${after.slice(0, 5).map((m) => m.text.slice(0, 200)).join(' | ')}`);
    assertItemShape(after[0].json.item);
    assertAllJsonText(c);
  }

  // Counter and log (give the log a moment: stderr is read asynchronously).
  const h1 = await getHealth(tickerd.port);
  assert.equal(h1.json.rejected - h0.json.rejected, bad.length,
    `/healthz rejected went ${h0.json.rejected} -> ${h1.json.rejected}, expected +${bad.length}`);
  let lines = [];
  for (let i = 0; i < 20; i++) {
    lines = rejectLines(tickerd.log()).slice(log0);
    if (lines.length >= bad.length) break;
    await sleep(50);
  }
  assert.ok(lines.length >= bad.length,
    `expected a rejection log line per bad payload (${bad.length}); got ${lines.length}:\n${lines.join('\n')}`);
  // Lines carry a reason, i.e. they are not all the same text.
  const strip = (l) => l.replace(/[0-9]+/g, '#').replace(/ticker:[^\s"]*/g, '');
  if (bad.length > 1) {
    assert.ok(new Set(lines.map(strip)).size > 1, `rejection lines give no reason:\n${lines.join('\n')}`);
  }

  // Nothing rejected is in the history either.
  const late = await h.client(tickerd.wsUrl());
  const { snapshot } = await late.ready();
  assert.deepEqual(snapshot.items.map((i) => i.headline), [sentinel]);
  return { redis, tickerd, clients, lines };
}

test('invalid payloads reach no client; the next valid item does', T, scenario(async (t, h) => {
  const bad = [
    { name: 'bad JSON', payload: '{"id":"bad-json","headline":"Broken JSON" ' },
    { name: 'invalid UTF-8 in text', payload: Buffer.concat([Buffer.from('Bad bytes '), Buffer.from([0xff, 0xfe]), Buffer.from(' in text')]) },
    { name: 'empty JSON headline', payload: '{"id":"bad-empty","headline":""}' },
    { name: 'whitespace-only text', payload: ' \t  \r\n ' },
    { name: '1 MB payload', payload: Buffer.alloc(1024 * 1024, 'M') },
    { name: 'javascript: url', payload: '{"id":"bad-url","headline":"Click me","url":"javascript:alert(1)"}' },
  ];
  const { lines } = await rejectAll(h, bad);
  t.diagnostic(`rejection log lines:\n${lines.join('\n')}`);
}));

test('more invalid payloads: long headline, control chars, bad url scheme, retract without id, invalid UTF-8 in JSON, bad topic', T, scenario(async (t, h) => {
  const bad = [
    { name: 'headline > 1000 bytes', payload: JSON.stringify({ id: 'bad-long', headline: 'é'.repeat(501) }) },
    { name: 'plain text > 1000 bytes', payload: 'x'.repeat(1001) },
    { name: 'control char in headline', payload: JSON.stringify({ id: 'bad-ctl', headline: 'Bell \u0007 here' }) },
    { name: 'control char in plain text', payload: 'Escape \u001b[31m red' },
    { name: 'ftp url', payload: JSON.stringify({ id: 'bad-ftp', headline: 'FTP link', url: 'ftp://example.com/x' }) },
    { name: 'retract without id', payload: JSON.stringify({ status: 'canceled' }) },
    { name: 'JSON without headline', payload: JSON.stringify({ id: 'bad-nohead', priority: 'flash' }) },
    { name: 'invalid UTF-8 inside JSON', payload: Buffer.concat([Buffer.from('{"id":"bad-utf8","headline":"x'), Buffer.from([0xc3, 0x28]), Buffer.from('"}')]) },
    { name: 'trailing garbage after JSON', payload: '{"id":"bad-trailing","headline":"ok"} trailing' },
    { name: 'invalid topic (space)', channel: 'ticker:bad topic', payload: 'Bad topic channel' },
    { name: 'invalid topic (too long)', channel: `ticker:${'t'.repeat(65)}`, payload: 'Too long topic' },
  ];
  await rejectAll(h, bad);
}));

test('payload size limit: 256 KiB', T, scenario(async (t, h) => {
  const { redis, tickerd } = await h.env();
  const c = await h.client(tickerd.wsUrl());
  await c.ready();
  // Just under the limit, valid JSON (padding in an ignored field): accepted.
  const okHead = `Big but fine ${uniq()}`;
  const base = JSON.stringify({ id: uniq('big'), headline: okHead, pad: '' });
  const okPayload = base.replace('"pad":""', `"pad":"${'p'.repeat(256 * 1024 - base.length - 16)}"`);
  assert.ok(okPayload.length < 256 * 1024);
  await publish(redis.port, 'ticker:world', okPayload);
  await c.nextItem(okHead);

  // Just over the limit: rejected.
  const h0 = await getHealth(tickerd.port);
  const overHead = `Too big ${uniq()}`;
  const base2 = JSON.stringify({ id: uniq('big'), headline: overHead, pad: '' });
  const over = base2.replace('"pad":""', `"pad":"${'p'.repeat(256 * 1024 - base2.length + 16)}"`);
  assert.ok(over.length > 256 * 1024);
  const sentinel = `sentinel ${uniq()}`;
  await publish(redis.port, 'ticker:world', over);
  await publish(redis.port, 'ticker:world', sentinel);
  await c.nextItem(sentinel);
  assert.ok(!c.ofType('item').some((m) => m.item.headline === overHead), `over-size payload delivered: ${c.describe()}`);
  const h1 = await getHealth(tickerd.port);
  assert.equal(h1.json.rejected - h0.json.rejected, 1);
}));
