// Issue 6, security headers on the front-end's files and the /metrics
// endpoint (spec: "Issue 6 additions"). Static files carry exactly the
// spec's Content-Security-Policy, with frame-ancestors listing 'self' and
// each --allow-origin origin (* for '*'), plus X-Content-Type-Options:
// nosniff, Referrer-Policy and CORS. /metrics is Prometheus text (0.0.4):
// every line parses, every family listed in the spec is there with HELP and
// TYPE, and each moves when it should.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  scenario, publish, httpGet, getMetrics, openWebSocket, assertReceivedAll, followLog, waitForHealth,
} from './harness.mjs';
import { waitUntil } from './checker.mjs';

const T = { timeout: 30_000 };
const CSP_BASE = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
  + "connect-src 'self'; manifest-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors";
const PAGES = ['/', '/wall.html', '/index.html', '/ticker.js'];

function assertSecurityHeaders(r, page, frameAncestors) {
  assert.equal(r.status, 200, `GET ${page}: HTTP ${r.status}`);
  const csp = r.headers['content-security-policy']; // node joins a repeated header with ", ": exact match = one header
  assert.equal(csp, `${CSP_BASE} ${frameAncestors}`, `Content-Security-Policy of ${page} (exactly one header, exactly the spec's text)`);
  assert.equal(r.headers['x-content-type-options'], 'nosniff', `X-Content-Type-Options of ${page}`);
  assert.equal(r.headers['referrer-policy'], 'strict-origin-when-cross-origin', `Referrer-Policy of ${page}`);
  assert.equal(r.headers['access-control-allow-origin'], '*', `Access-Control-Allow-Origin of ${page}`);
  assert.doesNotMatch(csp, /'unsafe-inline'|'unsafe-eval'/, 'no unsafe-* in the CSP');
}

test('security headers: exactly the spec CSP on /, /wall.html and the other static files, frame-ancestors = self + --allow-origin origins; nosniff', T, scenario(async (t, h) => {
  const { redis, tickerd } = await h.env({ args: ['--allow-origin', 'https://news.example,https://wall.example:8443', '--allow-origin', 'https://desk.example'] });
  const good = await h.client(tickerd.wsUrl());
  await good.ready();
  let n = 0;
  for (const page of PAGES) {
    await publish(redis.port, 'ticker:world', `headers item ${++n}`);
    const r = await httpGet(tickerd.port, page);
    assertSecurityHeaders(r, page, "'self' https://news.example https://wall.example:8443 https://desk.example");
  }
  // The CSP really fits the pages: no inline script or style in them.
  for (const page of ['/', '/wall.html']) {
    const html = (await httpGet(tickerd.port, page)).text;
    assert.doesNotMatch(html, /<script(?![^>]*\bsrc=)[^>]*>/i, `${page} has an inline <script>, which script-src 'self' blocks`);
    assert.doesNotMatch(html, /<style[\s>]/i, `${page} has an inline <style>, which style-src 'self' blocks`);
    assert.doesNotMatch(html, /<[a-z][^>]*\son[a-z]+\s*=/i, `${page} has an inline event handler attribute`);
  }
  await publish(redis.port, 'ticker:world', `headers item ${++n}`);
  await assertReceivedAll(redis.port, good);
}));

test("security headers: frame-ancestors is 'self' alone without --allow-origin, * with --allow-origin '*', and follows TICKERD_ALLOW_ORIGIN", T, scenario(async (t, h) => {
  const redis = await h.redis();
  const plain = await h.tickerd({ redisUrl: redis.url });
  const star = await h.tickerd({ redisUrl: redis.url, args: ['--allow-origin', '*'] });
  const env = await h.tickerd({ redisUrl: redis.url, env: { TICKERD_ALLOW_ORIGIN: 'https://env.example' } });
  const good = await h.client(plain.wsUrl());
  await good.ready();
  for (const page of ['/', '/wall.html']) {
    assertSecurityHeaders(await httpGet(plain.port, page), page, "'self'");
    assertSecurityHeaders(await httpGet(star.port, page), page, '*');
    assertSecurityHeaders(await httpGet(env.port, page), page, "'self' https://env.example");
    await publish(redis.port, 'ticker:world', `frame item ${page}`);
  }
  // And the variable really is the allow-list: that origin may connect, another may not.
  const ok = await openWebSocket(env.wsUrl(), { origin: 'https://env.example' });
  if (ok.client) h.clients.push(ok.client);
  assert.equal(ok.status, 101);
  const no = await openWebSocket(env.wsUrl(), { origin: 'https://other.example' });
  assert.equal(no.status, 403);
  await assertReceivedAll(redis.port, good);
}));

// ---------------------------------------------------------------------------
// /metrics

const GAUGES = ['tickerd_up_seconds', 'tickerd_redis_up', 'tickerd_clients', 'tickerd_history_items', 'tickerd_ring_used', 'tickerd_ring_capacity',
  'tickerd_screens_connected', 'tickerd_screens_stale', 'tickerd_readers'];
const COUNTERS = ['tickerd_payloads_received_total', 'tickerd_payloads_rejected_total', 'tickerd_items_published_total',
  'tickerd_items_retracted_total', 'tickerd_items_duplicate_total', 'tickerd_deliveries_total', 'tickerd_clients_culled_total',
  'tickerd_resyncs_total', 'tickerd_handshakes_refused_total', 'tickerd_clients_closed_total', 'tickerd_redis_subscriptions_total',
  'tickerd_record_errors_total', 'tickerd_redis_data_lost_total', 'tickerd_writes_total', 'tickerd_pings_total',
  'tickerd_clients_silent_total', 'tickerd_accept_pauses_total', 'tickerd_http_responses_total', 'tickerd_clients_culled_unsent_total',
  'tickerd_screen_reports_total', 'tickerd_screens_stale_total', 'tickerd_screen_reports_refused_total',
  'tickerd_api_requests_total'];
const LABELS = {
  tickerd_payloads_rejected_total: ['reason', ['payload_too_large', 'invalid_utf8', 'bad_json', 'bad_headline', 'bad_field', 'bad_url',
    'bad_time', 'bad_priority', 'bad_status', 'bad_topic', 'embargoed', 'expired', 'out_of_memory', 'not_an_object']],
  tickerd_handshakes_refused_total: ['reason', ['origin', 'max_clients', 'max_per_ip', 'unfinished', 'timeout', 'bad_request',
    'too_large', 'method', 'not_found', 'ws_version', 'bad_topics', 'shutting_down', 'proxy_header']],
  tickerd_clients_closed_total: ['code', ['1002', '1007', '1008', '1009']],
  tickerd_http_responses_total: ['code', ['101', '200', '201', '304', '400', '401', '403', '404', '405', '408', '409', '411', '413', '426', '429',
    '431', '500', '503', '505']],
  tickerd_api_requests_total: ['status', ['200', '201', '400', '401', '403', '404', '405', '409', '411', '413', '429', '503']],
  tickerd_screen_reports_refused_total: ['reason', ['bad_json', 'bad_name', 'bad_seq', 'bad_visible', 'too_large', 'name_changed',
    'name_taken', 'too_frequent', 'full']],
  tickerd_readers: ['topic', null], // the topics readers chose (exact in screens.test.mjs)
};

function assertWellFormed(m) {
  assert.match(String(m.headers['content-type']), /^text\/plain; version=0\.0\.4(; charset=utf-8)?$/i, 'content-type of /metrics');
  for (const name of [...GAUGES, ...COUNTERS]) {
    const fam = m.families.get(name);
    assert.ok(fam, `family ${name} missing from /metrics:\n${m.text}`);
    assert.ok(fam.help && fam.help.trim().length > 0, `${name} has no HELP text`);
    assert.equal(fam.type, GAUGES.includes(name) ? 'gauge' : 'counter', `TYPE of ${name}`);
    const samples = m.byName(name);
    assert.ok(samples.length >= 1, `${name} has no sample`);
    if (LABELS[name]) {
      const [label, values] = LABELS[name];
      assert.deepEqual(samples.map((s) => Object.keys(s.labels)), samples.map(() => [label]), `${name}: every sample labelled by ${label} only`);
      if (values) assert.deepEqual(samples.map((s) => s.labels[label]).sort(), [...values].sort(), `${name}: one sample per ${label}`);
    } else {
      assert.equal(samples.length, 1, `${name}: one unlabelled sample`);
      assert.deepEqual(samples[0].labels, {}, `${name}: no labels`);
    }
  }
  for (const s of m.samples) {
    assert.ok(m.families.get(s.name)?.type, `sample ${s.line} has no TYPE line`);
    assert.ok(Number.isInteger(s.value) && s.value >= 0, `sample ${s.line}: expected a whole non-negative number`);
    if (m.families.get(s.name).type === 'counter') assert.match(s.name, /_total$/, `counter ${s.name} should end in _total`);
  }
}

/** Differences (after - before) of every sample whose value changed. */
function diff(a, b) {
  const out = {};
  for (const s of b.samples) {
    const before = a.value(s.name, s.labels) ?? 0;
    if (s.value !== before) {
      const key = Object.keys(s.labels).length ? `${s.name}{${Object.entries(s.labels).map(([k, v]) => `${k}="${v}"`).join(',')}}` : s.name;
      out[key] = s.value - before;
    }
  }
  delete out.tickerd_up_seconds;
  // Every /healthz and /metrics poll is a response: tested on their own.
  for (const k of Object.keys(out)) if (k.startsWith('tickerd_http_responses_total')) delete out[k];
  return out;
}

// The writes in diff d (taken out of it): how many depends on how messages
// happen to share a loop turn, so callers bound it rather than pin it.
function takeWrites(d) {
  const w = d.tickerd_writes_total ?? 0;
  delete d.tickerd_writes_total;
  return w;
}

test('/metrics: Prometheus text that parses line by line, every family of the spec with HELP and TYPE, and each moves exactly when it should', T, scenario(async (t, h) => {
  const LOG = 20;
  const { redis, tickerd } = await h.env({ args: ['--log-length', String(LOG), '--history', '5', '--allow-origin', 'https://ok.example', '--max-message', '100', '--max-rate', '5'] });
  const follower = followLog(redis.port);
  h.defer(() => follower.stop().catch(() => {}));
  const m0 = await getMetrics(tickerd.port);
  assertWellFormed(m0);
  assert.equal(m0.value('tickerd_redis_up'), 1);
  assert.equal(m0.value('tickerd_clients'), 0);
  assert.equal(m0.value('tickerd_ring_capacity'), LOG);
  assert.equal(m0.value('tickerd_ring_used'), 0);
  assert.equal(m0.value('tickerd_redis_subscriptions_total'), 1);
  for (const s of m0.samples) {
    if (!['tickerd_up_seconds', 'tickerd_redis_up', 'tickerd_ring_capacity', 'tickerd_redis_subscriptions_total', 'tickerd_http_responses_total'].includes(s.name)) {
      assert.equal(s.value, 0, `at start: ${s.line}`);
    }
  }

  // Clients: two WebSockets and an EventSource; greetings are deliveries (hello + snapshot each).
  const good = await h.client(tickerd.wsUrl());
  await good.ready();
  const w2 = await h.client(tickerd.wsUrl('?topics=world'));
  await w2.ready();
  const sse = await h.sse(tickerd.port, '/events');
  await sse.ready();
  const m1 = await getMetrics(tickerd.port);
  const d1 = diff(m0, m1);
  assert.equal(takeWrites(d1), 3, 'each greeting (hello + snapshot) goes in one write');
  assert.deepEqual(d1, { tickerd_clients: 3, tickerd_deliveries_total: 6, 'tickerd_readers{topic="*"}': 2, 'tickerd_readers{topic="world"}': 1 });

  // Three items on world: received, published, kept, in the ring, delivered to each of the 3 clients.
  for (let i = 1; i <= 3; i++) await publish(redis.port, 'ticker:world', JSON.stringify({ id: `m-${i}`, headline: `metrics item ${i}` }));
  await good.nextItem('metrics item 3');
  await w2.nextItem('metrics item 3');
  await sse.nextItem('metrics item 3');
  const m2 = await getMetrics(tickerd.port);
  const d2 = diff(m1, m2);
  const w2writes = takeWrites(d2);
  assert.ok(w2writes >= 3 && w2writes <= 9, `3 items to 3 clients take 3 to 9 writes, not ${w2writes}`);
  assert.deepEqual(d2, {
    tickerd_payloads_received_total: 3, tickerd_items_published_total: 3, tickerd_history_items: 3,
    tickerd_ring_used: 3, tickerd_deliveries_total: 9,
  });

  // An update (new version), a stale version, a new plain item and its repeat, a retraction, a rejection,
  // an item of another topic; each waited for, so each is decided against the history it follows.
  await publish(redis.port, 'ticker:world', JSON.stringify({ id: 'm-1', headline: 'metrics item 1, corrected', version: 2 }));
  await good.nextItem('metrics item 1, corrected');
  await publish(redis.port, 'ticker:world', JSON.stringify({ id: 'm-1', headline: 'metrics item 1, stale', version: 1 }));
  await publish(redis.port, 'ticker:world', 'metrics plain item');
  await good.nextItem('metrics plain item');
  await publish(redis.port, 'ticker:world', 'metrics plain item'); // the same item again (same derived id)
  await publish(redis.port, 'ticker:world', JSON.stringify({ id: 'm-3', status: 'canceled' }));
  await good.next((j) => j.type === 'retract' && j.id === 'm-3', 5000, 'retract of m-3');
  await publish(redis.port, 'ticker:world', '{"id":"m-bad",');
  await publish(redis.port, 'ticker:sport', 'metrics sport item'); // w2 (world only) does not get it
  await good.nextItem('metrics sport item');
  await sse.nextItem('metrics sport item');
  await w2.next((j) => j.type === 'retract' && j.id === 'm-3', 5000, 'retract of m-3');
  const m3 = await getMetrics(tickerd.port);
  const d3 = diff(m2, m3);
  const w3writes = takeWrites(d3);
  assert.ok(w3writes >= 3 && w3writes <= 11, `11 deliveries to 3 clients take 3 to 11 writes, not ${w3writes}`);
  assert.deepEqual(d3, {
    tickerd_payloads_received_total: 7,
    tickerd_items_published_total: 3, // the correction, the plain item, the sport item
    tickerd_items_retracted_total: 1,
    tickerd_items_duplicate_total: 2, // the stale version and the repeat
    'tickerd_payloads_rejected_total{reason="bad_json"}': 1,
    tickerd_history_items: 1, // +plain +sport -m-3 (the correction replaces m-1)
    tickerd_ring_used: 4, // correction, plain, retraction, sport
    tickerd_deliveries_total: 3 * 3 + 2, // correction, plain and retraction to 3 clients, sport to 2
  });
  for (const c of [good, w2, sse]) {
    assert.ok(!c.ofType('item').some((j) => j.item.headline === 'metrics item 1, stale'), 'a stale version reaches nobody');
    assert.equal(c.ofType('item').filter((j) => j.item.headline === 'metrics plain item').length, 1, 'a repeat reaches nobody');
  }

  // Refusals and closes.
  const bad = await openWebSocket(tickerd.wsUrl(), { origin: 'https://evil.example' });
  assert.equal(bad.status, 403);
  const big = (await openWebSocket(tickerd.wsUrl())).client;
  h.clients.push(big);
  await big.ready();
  big.ws.send('x'.repeat(101));
  assert.equal((await big.closed).code, 1009);
  const fast = (await openWebSocket(tickerd.wsUrl())).client;
  h.clients.push(fast);
  await fast.ready();
  for (let i = 0; i < 20; i++) fast.ws.send('hi');
  assert.equal((await fast.closed).code, 1008);
  let m4;
  await waitUntil(async () => { m4 = await getMetrics(tickerd.port); return m4.value('tickerd_clients') === 3; }, 3000, 'closed clients to leave the gauge');
  const d4 = diff(m3, m4);
  assert.equal(takeWrites(d4), 2, 'the two short-lived clients\' greetings, one write each');
  assert.deepEqual(d4, {
    'tickerd_handshakes_refused_total{reason="origin"}': 1,
    'tickerd_clients_closed_total{code="1008"}': 1,
    'tickerd_clients_closed_total{code="1009"}': 1,
    tickerd_deliveries_total: 4, // the two short-lived clients' greetings
  });

  // The ring fills up to its capacity and stays there; an old resume point gets a resync.
  const oldSeq = good.ofType('item')[0].item.seq;
  for (let i = 0; i < LOG + 5; i++) await publish(redis.port, 'ticker:fill', `fill item ${i}`);
  await good.nextItem(`fill item ${LOG + 4}`);
  const m5 = await getMetrics(tickerd.port);
  assert.equal(m5.value('tickerd_ring_used'), LOG, 'ring_used stops at the capacity');
  assert.equal(m5.value('tickerd_ring_capacity'), LOG);
  assert.equal(m5.value('tickerd_history_items'), 3 + 1 + 5, 'history: world 3, sport 1, fill 5 (--history 5)');
  const back = await h.client(tickerd.wsUrl(`?since=${encodeURIComponent(oldSeq)}`));
  await back.next((j) => j.type === 'snapshot', 5000, 'resync snapshot');
  assert.equal(back.ofType('snapshot')[0].resync, true);
  const m6 = await getMetrics(tickerd.port);
  assert.equal(m6.value('tickerd_resyncs_total') - m5.value('tickerd_resyncs_total'), 1, 'tickerd_resyncs_total +1');

  // Uptime moves with the clock.
  await sleep(1100);
  const m7 = await getMetrics(tickerd.port);
  assert.ok(m7.value('tickerd_up_seconds') >= m0.value('tickerd_up_seconds') + 1, 'tickerd_up_seconds must grow');
  for (const name of COUNTERS) {
    for (const s of m7.byName(name)) assert.ok(s.value >= (m0.value(s.name, s.labels) ?? 0), `counter ${s.line} went down`);
  }
  assertWellFormed(m7);
  assert.equal(m7.value('tickerd_record_errors_total'), 0);
  await assertReceivedAll(redis.port, good, { log: await follower.stop() });
}));

test('/metrics: tickerd_redis_up drops to 0 while Redis is away; back to 1, a new subscription and the data loss counted after a restart without persistence', T, scenario(async (t, h) => {
  const { redis, tickerd } = await h.env();
  const good = await h.client(tickerd.wsUrl());
  await good.ready();
  await publish(redis.port, 'ticker:world', 'before the restart');
  await good.nextItem('before the restart');
  const m0 = await getMetrics(tickerd.port);
  assert.equal(m0.value('tickerd_redis_up'), 1);
  await redis.stop();
  let down;
  await waitUntil(async () => { down = await getMetrics(tickerd.port); return down.value('tickerd_redis_up') === 0; }, 5000, 'tickerd_redis_up to be 0');
  assertWellFormed(down);
  await redis.start(); // same port, empty dataset (no persistence)
  await waitForHealth(tickerd.port, (x) => x.status === 200, { timeoutMs: 10_000, what: '200 after Redis is back' });
  let up;
  await waitUntil(async () => { up = await getMetrics(tickerd.port); return up.value('tickerd_redis_up') === 1 && up.value('tickerd_redis_data_lost_total') >= 1; },
    5000, () => `redis_up 1 and redis_data_lost_total +1 (now ${up?.value('tickerd_redis_up')}, ${up?.value('tickerd_redis_data_lost_total')})`);
  assert.equal(up.value('tickerd_redis_subscriptions_total') - m0.value('tickerd_redis_subscriptions_total'), 1, 'one new subscription');
  assert.equal(up.value('tickerd_redis_data_lost_total') - m0.value('tickerd_redis_data_lost_total'), 1, 'the lost dataset is counted once');
  await publish(redis.port, 'ticker:world', 'after the restart');
  await good.nextItem('after the restart');
  assert.equal(good.closeCode, null);
}));
