// Real-world payloads from the shared fixtures (read at test time; no fixture
// text is kept in the repo). Skipped, with a message, when the folder is absent.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { scenario, publish, FIXTURES, fixturesAvailable, assertItemShape, assertSeqIncreasing, assertAllJsonText, getMetrics } from './harness.mjs';

const T = { timeout: 30_000 };

function withFixtures(fn) {
  const run = scenario(fn);
  return async (t) => {
    if (!fixturesAvailable()) {
      t.skip(`${FIXTURES} (…/shared/fixtures) not found: fixture-based test skipped`);
      return;
    }
    await run(t);
  };
}

/** Split a Buffer on \n into line Buffers (byte-exact, no decoding). */
function splitLines(buf) {
  const out = [];
  let start = 0;
  for (;;) {
    const i = buf.indexOf(0x0a, start);
    if (i < 0) { out.push(buf.subarray(start)); break; }
    out.push(buf.subarray(start, i));
    start = i + 1;
  }
  return out;
}

const ASCII_WS = /^[ \t\r\n\f\v]|[ \t\r\n\f\v]$/;

test('scraped French page: lead paragraph and "Lire aussi" lines arrive byte for byte', T, withFixtures(async (t, h) => {
  const file = path.join(FIXTURES, '000_8e6ad587408bc601.txt');
  const bytes = fs.readFileSync(file);
  const lines = splitLines(bytes);
  const texts = lines.map((b) => b.toString('utf8'));

  // Lead paragraph: first non-empty line after the header block (which ends at the first blank line).
  const firstBlank = texts.findIndex((s) => s === '');
  assert.ok(firstBlank > 0, 'fixture layout: header block followed by a blank line');
  const leadIdx = texts.findIndex((s, i) => i > firstBlank && s !== '');
  assert.ok(leadIdx > firstBlank, 'fixture layout: a lead paragraph');
  assert.ok(lines[leadIdx].length > 100, 'lead paragraph is a long line');
  // The three "Lire aussi | Article réservé à nos abonnés …" lines (README), found by shape.
  const lireIdx = texts.map((s, i) => (/^Lire\s[^|]*\|\s/u.test(s) ? i : -1)).filter((i) => i >= 0);
  assert.equal(lireIdx.length, 3, 'fixture has three "Lire aussi" lines');
  // The paragraph with « » guillemets (so they are part of the round trip as well).
  const guilIdx = texts.findIndex((s) => s.includes('\u00AB') && s.includes('\u00BB'));
  assert.ok(guilIdx >= 0, 'fixture has a paragraph with « »');

  const chosen = [...new Set([leadIdx, ...lireIdx, guilIdx])].sort((a, b) => a - b);
  for (const i of chosen) {
    assert.ok(!ASCII_WS.test(texts[i]), `fixture line ${i + 1} has surrounding ASCII whitespace`);
  }

  const { redis, tickerd } = await h.env();
  const cAll = await h.client(tickerd.wsUrl());
  const cWorld = await h.client(tickerd.wsUrl('?topics=world'));
  await cAll.ready();
  await cWorld.ready();

  for (const i of chosen) {
    const n = await publish(redis.port, 'ticker:world', lines[i]);
    assert.ok(n >= 1, 'tickerd is subscribed');
  }

  const arrived = [];
  for (const c of [cAll, cWorld]) {
    for (const i of chosen) {
      const m = await c.nextItem(texts[i], 5000);
      const raw = c.last.raw;
      assertItemShape(m.item);
      assert.equal(m.item.topic, 'world');
      const got = Buffer.from(m.item.headline, 'utf8');
      assert.ok(got.equals(lines[i]), `line ${i + 1}: headline bytes differ from the fixture line`);
      // Not \u-escaped on the wire: the JSON string literal appears verbatim in the frame.
      const literal = Buffer.from(JSON.stringify(texts[i]), 'utf8');
      assert.ok(raw.includes(literal), `line ${i + 1}: frame does not carry the UTF-8 bytes verbatim:\n${raw.toString('utf8')}`);
      arrived.push(got);
    }
  }
  // Spot-check the characters that must survive (README), in what arrived.
  const all = Buffer.concat(arrived).toString('utf8');
  for (const [ch, name] of [['é', 'e acute'], ['\u2019', 'U+2019 apostrophe'], ['\u00AB', '«'], ['\u00BB', '»'], ['\u00A0', 'U+00A0 no-break space']]) {
    assert.ok(all.includes(ch), `${name} missing from what arrived`);
  }
  // Lead paragraph carries a no-break space ("22 juin").
  assert.ok(Buffer.from(cAll.ofType('item')[0].item.headline, 'utf8').includes(Buffer.from([0xc2, 0xa0])),
    'U+00A0 (C2 A0) missing from the lead paragraph');

  // Same in a new client's snapshot, oldest first.
  const late = await h.client(tickerd.wsUrl());
  const { snapshot } = await late.ready();
  assert.deepEqual(snapshot.items.map((it) => it.headline), chosen.map((i) => texts[i]));
  for (const c of [cAll, cWorld]) {
    assertAllJsonText(c);
    assertSeqIncreasing(c);
  }
}));

// From the spec / ninjs README table (non-text properties; headline and uri are read from the file).
const NINJS = [
  { file: '2.1-dpa_text.json', lang: 'de', time: '2019-05-10T14:02:28Z', priority: 'routine', version: 2, source: 'dpa' },
  // Its expires (2023-05-31) is past: refused as expired, never shown.
  { file: '2.1-tt_text_image_2.json', lang: 'sv', time: '2021-05-26T11:40:18Z', priority: 'urgent', version: 1, source: 'TT', refused: 'expired' },
  { file: '3.0-ntb_text.json', lang: 'nb-NO', time: '2019-08-09T09:46:53Z', priority: 'routine', version: 6, source: 'NTB' },
  { file: '3.1-005_complex_text_article.json', lang: 'en', time: '2013-07-09T10:37:00Z', priority: 'routine', version: 1, source: undefined },
];

test('ninjs fixtures published as JSON normalise as the spec table says', T, withFixtures(async (t, h) => {
  const { redis, tickerd } = await h.env();
  const clients = [];
  for (let i = 0; i < 2; i++) {
    const c = await h.client(tickerd.wsUrl());
    await c.ready();
    clients.push(c);
  }
  const expected = [];
  for (const e of NINJS) {
    const raw = fs.readFileSync(path.join(FIXTURES, 'ninjs', e.file));
    const doc = JSON.parse(raw.toString('utf8'));
    const headline = doc.headlines[0].value;
    if (!e.refused) expected.push({ ...e, headline, id: doc.uri, doc });
    const n = await publish(redis.port, 'ticker:world', raw); // raw file bytes
    assert.ok(n >= 1, 'tickerd is subscribed');
  }
  const refused = NINJS.filter((e) => e.refused);

  for (const c of clients) {
    for (const e of expected) {
      const m = await c.nextItem(e.headline, 5000).catch((err) => {
        err.message = `${e.file}: ${err.message}`;
        throw err;
      });
      const it = m.item;
      const raw = c.last.raw.toString('utf8');
      assertItemShape(it, e.file);
      assert.equal(it.id, e.id, `${e.file}: id = uri`);
      assert.equal(it.topic, 'world', `${e.file}: topic`);
      assert.equal(it.headline, e.headline, `${e.file}: headline`);
      assert.equal(it.lang, e.lang, `${e.file}: lang`);
      assert.equal(it.time, e.time, `${e.file}: time (UTC)`);
      assert.equal(it.priority, e.priority, `${e.file}: priority`);
      if ('version' in it) assert.equal(it.version, e.version, `${e.file}: version`);
      assert.equal(it.source, e.source, `${e.file}: source (copyrightholder)`);
      if (e.doc.expires !== undefined) {
        assert.ok('expires' in it, `${e.file}: expires should be passed through`);
        const norm = new Date(e.doc.expires).toISOString().replace(/\.\d{3}Z$/, 'Z');
        assert.ok(it.expires === e.doc.expires || it.expires === norm,
          `${e.file}: expires ${JSON.stringify(it.expires)} is neither ${e.doc.expires} nor ${norm}`);
      }
      // Bodies (HTML) never reach the ticker.
      assert.ok(!/<(p|section|div|br)\b/i.test(raw), `${e.file}: HTML body leaked into the frame: ${raw.slice(0, 300)}`);
      assert.ok(!/bod(y|ies)/i.test(Object.keys(it).join(',')), `${e.file}: body field in item`);
    }
    assertAllJsonText(c);
    assertSeqIncreasing(c);
  }

  const late = await h.client(tickerd.wsUrl());
  const { snapshot } = await late.ready();
  assert.deepEqual(snapshot.items.map((i) => i.id), expected.map((e) => e.id));
  const m = await getMetrics(tickerd.port);
  for (const reason of new Set(refused.map((e) => e.refused))) {
    assert.equal(m.value('tickerd_payloads_rejected_total', { reason }), refused.filter((e) => e.refused === reason).length,
      `refused as ${reason}: ${refused.map((e) => e.file).join(', ')}`);
  }

  // Re-publishing the same file (same uri, same version) is stale: ignored.
  const sentinel = `sentinel after ninjs re-publish ${Date.now()}`;
  await publish(redis.port, 'ticker:world', fs.readFileSync(path.join(FIXTURES, 'ninjs', NINJS[0].file)));
  await publish(redis.port, 'ticker:world', sentinel);
  for (const c of clients) {
    await c.nextItem(sentinel);
    assert.equal(c.ofType('item').filter((m) => m.item.id === expected[0].id).length, 1,
      `re-published ${NINJS[0].file} was delivered twice: ${c.describe()}`);
  }
}));
