// JSON field mapping (our names and ninjs names) and the item's key order.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { scenario, publish, uniq, DERIVED_ID_RE, assertItemShape, assertItemKeyOrder } from './harness.mjs';

const T = { timeout: 30_000 };

test('JSON with every optional field: values pass through, time converted to UTC, keys in spec order', T, scenario(async (t, h) => {
  const { redis, tickerd } = await h.env();
  const c = await h.client(tickerd.wsUrl());
  await c.ready();
  const id = `full-${uniq()}`;
  const headline = `Full item ${uniq()} « été »`;
  const payload = {
    id,
    headline,
    time: '2025-06-24T10:15:00+02:00',
    priority: 'flash',
    lang: 'fr',
    label: 'Bulletin',
    url: 'https://example.org/a?b=1',
    source: 'Test Wire',
    premium: true,
    related: [
      { headline: 'Related one', url: 'https://example.org/r1', premium: true },
      { headline: 'Related two' },
    ],
    version: 3,
    expires: '2099-06-25T00:00:00Z',
  };
  // Shuffle the input order to show the output order is the server's.
  const shuffled = Object.fromEntries(Object.entries(payload).reverse());
  await publish(redis.port, 'ticker:world', JSON.stringify(shuffled));
  const m = await c.nextItem(headline);
  const it = m.item;
  assertItemShape(it);
  assert.equal(it.id, id);
  assert.equal(it.time, '2025-06-24T08:15:00Z');
  assert.equal(it.priority, 'flash');
  assert.equal(it.lang, 'fr');
  assert.equal(it.label, 'Bulletin');
  assert.equal(it.url, 'https://example.org/a?b=1');
  assert.equal(it.source, 'Test Wire');
  assert.equal(it.premium, true);
  assert.equal(it.related.length, 2);
  assert.equal(it.related[0].headline, 'Related one');
  assert.equal(it.related[0].url, 'https://example.org/r1');
  assert.equal(it.related[0].premium, true);
  assert.equal(it.related[1].headline, 'Related two');
  assert.ok(!('url' in it.related[1]), 'no url invented for related two');
  assert.equal(it.expires, '2099-06-25T00:00:00Z');
  if ('version' in it) assert.equal(it.version, 3);
  assertItemKeyOrder(it);
}));

test('ninjs names map to our fields (uri, headlines[0].value, versioncreated, urgency, pubstatus, language, copyrightholder)', T, scenario(async (t, h) => {
  const { redis, tickerd } = await h.env();
  const c = await h.client(tickerd.wsUrl());
  await c.ready();
  const cases = [
    [1, 'flash'], [2, 'bulletin'], [3, 'urgent'], [4, 'routine'], [5, 'routine'], [9, 'routine'],
  ];
  for (const [urgency, priority] of cases) {
    const uri = `urn:test:${uniq()}`;
    const head = `urgency ${urgency} ${uniq()}`;
    await publish(redis.port, 'ticker:world', JSON.stringify({
      uri, version: '2', versioncreated: '2024-01-01T00:10:00-05:30', pubstatus: 'usable',
      urgency, language: 'pt-BR', copyrightholder: 'Holder', headlines: [{ role: 'main', value: head }],
    }));
    const m = await c.nextItem(head);
    assertItemShape(m.item);
    assert.equal(m.item.id, uri);
    assert.equal(m.item.priority, priority, `urgency ${urgency}`);
    assert.equal(m.item.time, '2024-01-01T05:40:00Z');
    assert.equal(m.item.lang, 'pt-BR');
    assert.equal(m.item.source, 'Holder');
    if ('version' in m.item) assert.equal(m.item.version, 2);
  }
  // ninjs 3.x camelCase names.
  const uri = `urn:test:${uniq()}`;
  const head = `camelCase ${uniq()}`;
  await publish(redis.port, 'ticker:world', JSON.stringify({
    uri, versionCreated: '2024-02-29T23:59:59Z', pubStatus: 'usable', copyrightHolder: 'Camel', headlines: [{ value: head }],
  }));
  const m = await c.nextItem(head);
  assert.equal(m.item.id, uri);
  assert.equal(m.item.time, '2024-02-29T23:59:59Z');
  assert.equal(m.item.source, 'Camel');
  assert.equal(m.item.priority, 'routine');
}));

test('derived ids are deterministic: same payload, same id on another tickerd', T, scenario(async (t, h) => {
  const head = `Derived ${uniq()}`;
  const json = JSON.stringify({ headline: `${head} json` });
  const ids = [];
  for (let i = 0; i < 2; i++) {
    const { redis, tickerd } = await h.env();
    const c = await h.client(tickerd.wsUrl());
    await c.ready();
    await publish(redis.port, 'ticker:world', head);
    await publish(redis.port, 'ticker:world', json);
    const a = await c.nextItem(head);
    const b = await c.nextItem(`${head} json`);
    assert.match(a.item.id, DERIVED_ID_RE);
    assert.match(b.item.id, DERIVED_ID_RE);
    assert.notEqual(a.item.id, b.item.id);
    ids.push([a.item.id, b.item.id]);
  }
  assert.deepEqual(ids[0], ids[1]);
}));
