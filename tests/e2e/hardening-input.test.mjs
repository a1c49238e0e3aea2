// Issue 6, publisher input (spec: "Issue 6 additions", rejections): each
// hostile or broken payload is rejected whole: a log line names the reason,
// tickerd_payloads_rejected_total{reason="<that reason>"} grows by exactly
// one (no other reason moves), nothing reaches a client or the change log,
// the server keeps running and the next good item arrives. HTML in a
// headline is not rejected: it is delivered byte for byte, as text.
// (tests/e2e/invalid.test.mjs covers more shapes against /healthz; this file
// asserts the per-reason counters of /metrics.)

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { scenario, publish, getMetrics, assertReceivedAll, assertItemShape } from './harness.mjs';
import { readLog } from './checker.mjs';

const REJECTED = 'tickerd_payloads_rejected_total';
const REASONS = ['payload_too_large', 'invalid_utf8', 'bad_json', 'bad_headline', 'bad_field', 'bad_url', 'bad_time',
  'bad_priority', 'bad_status', 'bad_topic', 'embargoed', 'expired'];

const b = (...parts) => Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'utf8') : Buffer.from(p))));
const deep = (n) => `{"id":"deep","headline":"Deep","extra":${'['.repeat(n)}${']'.repeat(n)}}`;
const deepObj = (n) => `{"id":"deepo","headline":"Deep","extra":${'{"a":'.repeat(n)}1${'}'.repeat(n)}}`;

const CASES = [
  // bad JSON and what the JSON parser must refuse
  { name: 'bad JSON (unterminated object)', reason: 'bad_json', payload: '{"id":"bj","headline":"Broken" ' },
  { name: 'bad JSON (trailing comma)', reason: 'bad_json', payload: '{"id":"bj2","headline":"Broken",}' },
  { name: '\\u0000 in a JSON string', reason: 'bad_json', payload: '{"id":"nul","headline":"NUL \\u0000 inside"}' },
  { name: 'lone high surrogate \\ud800', reason: 'bad_json', payload: '{"id":"sur1","headline":"Lone \\ud800 high"}' },
  { name: 'lone low surrogate \\udc00', reason: 'bad_json', payload: '{"id":"sur2","headline":"Lone \\udc00 low"}' },
  { name: 'surrogates in the wrong order', reason: 'bad_json', payload: '{"id":"sur3","headline":"Swapped \\ude00\\ud83d"}' },
  { name: 'duplicate keys (headline)', reason: 'bad_json', payload: '{"id":"dup","headline":"First","headline":"Second"}' },
  { name: 'duplicate keys (id)', reason: 'bad_json', payload: '{"id":"dup-a","headline":"Dup id","id":"dup-b"}' },
  { name: 'arrays nested 5,000 deep', reason: 'bad_json', payload: deep(5000) },
  { name: 'objects nested 5,000 deep', reason: 'bad_json', payload: deepObj(5000) },
  // bytes that are not UTF-8
  { name: 'invalid UTF-8 in plain text', reason: 'invalid_utf8', payload: b('Bad ', [0xff, 0xfe], ' bytes') },
  { name: 'invalid UTF-8 inside a JSON string', reason: 'invalid_utf8', payload: b('{"id":"u8","headline":"x', [0xc3, 0x28], '"}') },
  { name: 'overlong UTF-8 encoding of "/"', reason: 'invalid_utf8', payload: b('Overlong ', [0xc0, 0xaf], ' slash') },
  { name: 'UTF-8-encoded surrogate (CESU)', reason: 'invalid_utf8', payload: b('Surrogate ', [0xed, 0xa0, 0x80], ' bytes') },
  { name: 'truncated UTF-8 sequence at the end', reason: 'invalid_utf8', payload: b('Truncated ', [0xe2, 0x82]) },
  // size
  { name: '10 MB payload', reason: 'payload_too_large', payload: Buffer.alloc(10 * 1024 * 1024, 'A') },
  { name: '10 MB JSON payload', reason: 'payload_too_large', payload: `{"id":"big","headline":"Big","pad":"${'p'.repeat(10 * 1024 * 1024)}"}` },
  // wrong types
  { name: 'headline 42 (a number)', reason: 'bad_headline', payload: '{"id":"h42","headline":42}' },
  { name: 'headline as an array', reason: 'bad_headline', payload: '{"id":"harr","headline":["a"]}' },
  { name: 'premium "yes" (not a boolean)', reason: 'bad_field', payload: '{"id":"prem","headline":"Premium?","premium":"yes"}' },
  { name: 'version "abc"', reason: 'bad_field', payload: '{"id":"ver","headline":"Version?","version":"abc"}' },
  // priorities
  { name: 'unknown priority "extreme"', reason: 'bad_priority', payload: '{"id":"pri","headline":"Priority?","priority":"extreme"}' },
  { name: 'urgency 0', reason: 'bad_priority', payload: '{"id":"urg","headline":"Urgency?","urgency":0}' },
  // URLs
  { name: 'javascript: URL', reason: 'bad_url', payload: '{"id":"js","headline":"Click","url":"javascript:alert(1)"}' },
  { name: 'JavaScript: URL (mixed case)', reason: 'bad_url', payload: '{"id":"js2","headline":"Click","url":"JaVaScRiPt:alert(1)"}' },
  { name: 'javascript: URL after blanks', reason: 'bad_url', payload: '{"id":"js3","headline":"Click","url":" javascript:alert(1)"}' },
  { name: 'data: URL', reason: 'bad_url', payload: '{"id":"data","headline":"Click","url":"data:text/html,<script>alert(1)</script>"}' },
  { name: 'vbscript: URL', reason: 'bad_url', payload: '{"id":"vbs","headline":"Click","url":"vbscript:msgbox(1)"}' },
  { name: 'data: URL in related[]', reason: 'bad_url', payload: '{"id":"rdata","headline":"Main","related":[{"headline":"Rel","url":"data:text/html,x"}]}' },
  // control characters in the headline
  { name: 'BEL (\\u0007) in a JSON headline', reason: 'bad_headline', payload: '{"id":"bel","headline":"Bell \\u0007 here"}' },
  { name: 'ESC in a plain-text headline', reason: 'bad_headline', payload: 'Escape \u001b[31m red' },
  { name: 'raw NUL byte in a plain-text headline', reason: 'bad_headline', payload: b('NUL ', [0x00], ' byte') },
  { name: 'DEL (0x7f) in a headline', reason: 'bad_headline', payload: 'Delete \u007f here' },
  { name: 'C1 control U+0085 in a headline', reason: 'bad_headline', payload: '{"id":"c1","headline":"Next line \\u0085 here"}' },
  { name: 'newline inside a JSON headline', reason: 'bad_headline', payload: '{"id":"nl","headline":"Two\\nlines"}' },
  // times that can't be right
  { name: 'expires already past', reason: 'expired', payload: '{"id":"gone","headline":"Gone","expires":"2023-05-31T00:00:00+02:00"}' },
  { name: 'embargo more than a year ahead', reason: 'embargoed', payload: '{"id":"far","headline":"Far","embargoed":"2999-01-01T00:00:00Z"}' },
];

/** Wait for a new stderr line naming this rejection; returns it. */
async function rejectionLine(tickerd, from, bytes, reason) {
  const re = new RegExp(`rejected ${bytes}-byte payload on ticker:world: ${reason}: \\S`);
  for (let i = 0; i < 40; i++) {
    const line = tickerd.log().slice(from).split('\n').find((l) => re.test(l));
    if (line) return line;
    await sleep(25);
  }
  assert.fail(`no log line matching ${re} after the rejection; new log:\n${tickerd.log().slice(from).slice(-1500)}`);
}

test('publisher input: each hostile or broken payload is rejected with its reason (log line + per-reason counter), reaches nobody, and the next good item arrives', { timeout: 60_000 }, scenario(async (t, h) => {
  const { redis, tickerd } = await h.env();
  const good = await h.client(tickerd.wsUrl());
  await good.ready();
  const sse = await h.sse(tickerd.port, '/events');
  await sse.ready();
  let k = 0;
  for (const c of CASES) {
    await t.test(`${c.name} -> ${c.reason}`, async () => {
      const m0 = await getMetrics(tickerd.port);
      for (const r of REASONS) assert.notEqual(m0.value(REJECTED, { reason: r }), undefined, `${REJECTED}{reason="${r}"} missing from /metrics`);
      const logFrom = tickerd.log().length;
      const before = good.messages.length;
      const bytes = Buffer.byteLength(c.payload);
      assert.equal(await publish(redis.port, 'ticker:world', c.payload), 1, 'tickerd is not subscribed');
      const sentinel = `good item ${++k} after: ${c.name}`;
      assert.equal(await publish(redis.port, 'ticker:world', sentinel), 1);
      await good.nextItem(sentinel);
      await sse.nextItem(sentinel);
      // Nothing but the sentinel reached the client.
      const got = good.messages.slice(before);
      assert.deepEqual(got.map((m) => m.json?.item?.headline), [sentinel],
        `only the next good item may arrive; got ${got.map((m) => m.text.slice(0, 150)).join(' | ')}`);
      const m1 = await getMetrics(tickerd.port);
      for (const r of REASONS) {
        const d = m1.value(REJECTED, { reason: r }) - m0.value(REJECTED, { reason: r });
        assert.equal(d, r === c.reason ? 1 : 0, `${REJECTED}{reason="${r}"} went up by ${d}`);
      }
      assert.equal(m1.value('tickerd_payloads_received_total') - m0.value('tickerd_payloads_received_total'), 2);
      assert.equal(m1.value('tickerd_items_published_total') - m0.value('tickerd_items_published_total'), 1);
      const line = await rejectionLine(tickerd, logFrom, bytes, c.reason);
      t.diagnostic(line.replace(/^\[[^\]]*\]\s*/, ''));
      assert.ok(tickerd.isRunning(), 'tickerd must keep running');
    });
  }
  // The change log holds only the good items: nothing rejected was recorded.
  const log = await readLog(redis.port);
  assert.deepEqual(log.map((e) => e.payload.toString('utf8')), CASES.map((c, i) => `good item ${i + 1} after: ${c.name}`));
  await assertReceivedAll(redis.port, good);
  await assertReceivedAll(redis.port, sse, { name: 'EventSource client' });
  const health = await tickerd.health();
  assert.equal(health.status, 200);
}));

test('HTML in a headline is not rejected: it is delivered byte for byte as text (JSON and plain text), and valid surrogate pairs pass', { timeout: 30_000 }, scenario(async (t, h) => {
  const { redis, tickerd } = await h.env();
  const good = await h.client(tickerd.wsUrl());
  await good.ready();
  const sse = await h.sse(tickerd.port, '/events');
  await sse.ready();
  const m0 = await getMetrics(tickerd.port);
  const cases = [
    { headline: '<img src=x onerror=alert(1)>', payload: JSON.stringify({ id: 'html-img', headline: '<img src=x onerror=alert(1)>' }) },
    { headline: '<script>alert("x")</script> & &amp; \'quotes\'', payload: JSON.stringify({ id: 'html-script', headline: '<script>alert("x")</script> & &amp; \'quotes\'' }) },
    { headline: '<b>Plain</b> text <img src=x onerror=alert(1)>', payload: '<b>Plain</b> text <img src=x onerror=alert(1)>' },
    { headline: 'Emoji 😀 via a surrogate pair', payload: '{"id":"pair","headline":"Emoji \\ud83d\\ude00 via a surrogate pair"}' },
  ];
  for (const c of cases) {
    assert.equal(await publish(redis.port, 'ticker:world', c.payload), 1);
    const item = (await good.nextItem(c.headline)).item;
    assertItemShape(item);
    assert.equal(item.headline, c.headline);
    // Byte for byte on the wire: only JSON's own escapes (\" here), no HTML escaping, no \u003c.
    const wire = JSON.stringify(c.headline);
    assert.ok(good.last.raw.includes(Buffer.from(`"headline":${wire}`)),
      `frame must carry the headline as ${wire}: ${good.last.text}`);
    const s = await sse.nextItem(c.headline);
    assert.equal(s.item.headline, c.headline);
    assert.ok(sse.last.raw.equals(good.last.raw), 'EventSource data = the WebSocket frame');
  }
  const m1 = await getMetrics(tickerd.port);
  for (const r of REASONS) assert.equal(m1.value(REJECTED, { reason: r }), m0.value(REJECTED, { reason: r }), `nothing rejected (${r})`);
  // A new client's snapshot carries the same text.
  const late = await h.client(tickerd.wsUrl());
  const { snapshot } = await late.ready();
  assert.deepEqual(snapshot.items.map((i) => i.headline), cases.map((c) => c.headline));
  await assertReceivedAll(redis.port, good);
}));
