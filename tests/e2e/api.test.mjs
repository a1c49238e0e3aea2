// The HTTP publish API (POST /api/items, GET /api/items) against a real
// redis-server and tickerd: each answer's status and JSON, the key's name in
// the log entry (XRANGE and tickerctl tail) and never on a reader's wire,
// Idempotency-Key under a retried request, a key limited to topics, the rate,
// Redis away, corrections and kills reaching a WebSocket client, a SIGHUP that
// adds and removes keys, and 1,000 publishes at once.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {
  scenario, keySetting, apiRequest, apiPublish, logEntries, getMetrics, rawRequest, buildRequest,
  hostOf, SEQ_RE, startTickerctl, assertTickerctl, makeTmpDir, removeTmpDir, httpGet, uniq,
} from './harness.mjs';
import { waitUntil } from './checker.mjs';

const T = { timeout: 60_000 };
const DESK = 'desk-key-7f3a9c';
const WIRE = 'wire-key-51be20';
const keys = ['--publisher-key', keySetting('desk', DESK), '--publisher-key', keySetting('wire', WIRE, ['wire', 'markets'])];
const apiCount = (m, status) => m.value('tickerd_api_requests_total', { status: String(status) }) ?? 0;

test('201: the seq, the key name and the item as read back; the log entry says by=desk; readers never see by; GET /api/items and tickerctl tail do', T, scenario(async (t, h) => {
  assertTickerctl();
  const { redis, tickerd } = await h.env({ args: keys });
  const c = await h.client(tickerd.wsUrl('?topics=world'));
  await c.next((j) => j.type === 'snapshot', 5000, 'the snapshot');
  const m0 = await getMetrics(tickerd.port);
  const tail = startTickerctl(['--redis', redis.url, 'tail', '--since', '0-0']);
  h.defer(() => tail.stop());

  const r = await apiPublish(tickerd.port, DESK, 'world', { id: 'mali-visit', headline: 'Visite officielle à Moscou', url: 'https://example.org/mali', priority: 'bulletin' });
  assert.equal(r.status, 201, r.text);
  assert.match(r.headers['content-type'], /^application\/json/);
  assert.match(r.json.seq, SEQ_RE);
  assert.equal(r.json.by, 'desk');
  assert.deepEqual(
    { id: r.json.item.id, seq: r.json.item.seq, topic: r.json.item.topic, headline: r.json.item.headline, priority: r.json.item.priority },
    { id: 'mali-visit', seq: r.json.seq, topic: 'world', headline: 'Visite officielle à Moscou', priority: 'bulletin' });

  // The reader gets the same item with the same seq, and no `by`.
  const got = await c.next((j) => j.type === 'item' && j.item.id === 'mali-visit', 5000, 'the item on the WebSocket');
  assert.equal(got.item.seq, r.json.seq);
  assert.deepEqual(got.item, r.json.item, 'the 201 carries the item as the wire encodes it');
  assert.ok(!('by' in got.item), 'readers never see by');
  const raw = c.messages.map((m) => m.text).join('\n');
  assert.ok(!raw.includes('"by"'), 'no "by" anywhere on the reader\'s wire');
  const items = await httpGet(tickerd.port, '/items.json?topics=world');
  assert.ok(!items.body.includes('"by"'), `/items.json carries no by: ${items.body}`);

  // The log entry keeps the key's name beside the payload.
  const entry = (await logEntries(redis.port)).find((e) => e.id === r.json.seq);
  assert.ok(entry, 'the log holds the entry');
  assert.equal(entry.fields.by, 'desk');
  assert.equal(entry.fields.topic, 'world');

  // The desk's list shows who published it.
  const list = await apiRequest(tickerd.port, 'GET', '/api/items?topics=world', { key: DESK });
  assert.equal(list.status, 200, list.text);
  const mine = list.json.items.find((i) => i.id === 'mali-visit');
  assert.equal(mine.by, 'desk');
  assert.equal(mine.seq, r.json.seq);

  // tickerctl tail prints it.
  const line = await tail.waitLine((l) => l.includes('Visite officielle'), 5000);
  assert.match(line, / world bulletin \[by desk\] Visite officielle à Moscou$/);

  // An entry recorded without a key (PUBLISH) still reads, without by.
  await redis.publish('ticker:world', 'Sans clé');
  const plain = await c.next((j) => j.type === 'item' && j.item.headline === 'Sans clé', 5000, 'a PUBLISHed item');
  const plainEntry = (await logEntries(redis.port)).find((e) => e.id === plain.item.seq);
  assert.equal(plainEntry.fields.by, undefined);
  await tail.waitLine((l) => / world routine Sans clé$/.test(l), 5000);
  const m1 = await getMetrics(tickerd.port);
  assert.equal(apiCount(m1, 201) - apiCount(m0, 201), 1);
  assert.equal(apiCount(m1, 200) - apiCount(m0, 200), 1);
}));

test('refusals: 400 names the reason and the field, 401 with WWW-Authenticate, 403 for another topic, 405, 411, 413 at once; each counted, nothing recorded', T, scenario(async (t, h) => {
  const { redis, tickerd } = await h.env({ args: keys });
  const port = tickerd.port;
  const m0 = await getMetrics(port);
  const cases = [
    [{ headline: 'x', url: 'ftp://example.org/' }, 'bad_url', 'url'],
    [{ id: 'a', headline: '   ' }, 'bad_headline', 'headline'],
    [{ headline: 'x', priority: 'whenever' }, 'bad_priority', 'priority'],
    [{ headline: 'x', time: 'yesterday' }, 'bad_time', 'time'],
    ['[1,2,3]', 'not_an_object', undefined],
    ['{"headline":', 'bad_json', undefined],
  ];
  for (const [payload, error, field] of cases) {
    const r = await apiPublish(port, DESK, 'world', payload);
    assert.equal(r.status, 400, `${JSON.stringify(payload)}: ${r.text}`);
    assert.equal(r.json.error, error, r.text);
    assert.equal(r.json.field, field, r.text);
    assert.equal(typeof r.json.message, 'string');
  }
  // The topic: the path's, ?topic= and the payload's must agree.
  let r = await apiRequest(port, 'POST', '/api/items/world?topic=sport', { key: DESK, body: 'x' });
  assert.equal(r.status, 400);
  assert.deepEqual([r.json.error, r.json.field], ['bad_topic', 'topic']);
  r = await apiRequest(port, 'POST', '/api/items', { key: DESK, body: '{"topic":"sport","headline":"x"}', headers: {} });
  assert.equal(r.status, 201, `the payload's topic is enough: ${r.text}`);
  assert.equal(r.json.item.topic, 'sport');
  r = await apiRequest(port, 'POST', '/api/items/world', { key: DESK, body: '{"topic":"sport","headline":"x"}' });
  assert.equal(r.status, 400);
  assert.equal(r.json.field, 'topic');
  r = await apiRequest(port, 'POST', '/api/items', { key: DESK, body: 'no topic anywhere' });
  assert.equal(r.status, 400);
  assert.equal(r.json.field, 'topic');

  // 401: no key, an unknown one, another scheme; the key never in the log.
  for (const headers of [{}, { Authorization: 'Bearer not-a-key-9d1' }, { Authorization: `Basic ${DESK}` }]) {
    r = await apiRequest(port, 'POST', '/api/items/world', { body: 'x', headers });
    assert.equal(r.status, 401, JSON.stringify(headers));
    assert.deepEqual(r.json, { error: 'unauthorized' });
    assert.match(r.headers['www-authenticate'], /^Bearer/);
  }
  assert.ok(!tickerd.log().includes('not-a-key-9d1') && !tickerd.log().includes(DESK), 'no key in the log');

  // 403: wire may publish to wire and markets only.
  r = await apiPublish(port, WIRE, 'world', 'x');
  assert.equal(r.status, 403);
  assert.deepEqual(r.json, { error: 'forbidden', topic: 'world' });
  r = await apiPublish(port, WIRE, 'markets', 'CAC 40 +1%');
  assert.equal(r.status, 201, r.text);
  assert.equal(r.json.by, 'wire');

  // 405: other methods.
  r = await apiRequest(port, 'PUT', '/api/items', { key: DESK, body: 'x' });
  assert.equal(r.status, 405);
  assert.equal(r.json.error, 'method');
  assert.match(r.headers.allow, /POST/);
  r = await apiRequest(port, 'DELETE', '/api/items/world', { key: DESK });
  assert.equal(r.status, 405);

  // 411: chunked; 413: a Content-Length past 256 KiB, answered before the body.
  const host = hostOf(port);
  const chunked = await rawRequest(port, buildRequest('POST', '/api/items/world', { host, headers: { Authorization: `Bearer ${DESK}`, 'Transfer-Encoding': 'chunked' } }) + '5\r\nhello\r\n0\r\n\r\n');
  assert.equal(chunked.status, 411, chunked.headText);
  assert.equal(JSON.parse(chunked.text).error, 'length');
  const big = await rawRequest(port, buildRequest('POST', '/api/items/world', { host, headers: { Authorization: `Bearer ${DESK}`, 'Content-Length': String(300 * 1024) } }));
  assert.equal(big.status, 413, big.headText);
  assert.deepEqual(JSON.parse(big.text), { error: 'too_large', limit: 262144 });

  const m1 = await getMetrics(port);
  for (const [status, n] of [[400, 9], [401, 3], [403, 1], [405, 2], [411, 1], [413, 1], [201, 2]])
    assert.equal(apiCount(m1, status) - apiCount(m0, status), n, `tickerd_api_requests_total{status="${status}"}`);
  const entries = await logEntries(redis.port);
  assert.equal(entries.length, 2, `only the two 201s were recorded: ${JSON.stringify(entries.map((e) => e.fields))}`);
}));

test('429 past --publish-rate, with Retry-After; another key has its own bucket', T, scenario(async (t, h) => {
  const { tickerd } = await h.env({ args: [...keys, '--publish-rate', '3/m'] });
  for (let i = 0; i < 3; i++) {
    const r = await apiPublish(tickerd.port, DESK, 'world', `rate ${i}`);
    assert.equal(r.status, 201, r.text);
  }
  const r = await apiPublish(tickerd.port, DESK, 'world', 'rate 3');
  assert.equal(r.status, 429, r.text);
  assert.deepEqual(r.json.error, 'rate');
  assert.ok(Number(r.headers['retry-after']) >= 1, `Retry-After: ${r.headers['retry-after']}`);
  const other = await apiPublish(tickerd.port, WIRE, 'wire', 'other key');
  assert.equal(other.status, 201, other.text);
}));

test('503 {"error":"redis"} while Redis is away, and nothing is queued for later', T, scenario(async (t, h) => {
  const { redis, tickerd } = await h.env({ args: keys });
  await redis.stop();
  await waitUntil(async () => (await tickerd.health()).status === 503, 10_000, 'tickerd degraded');
  const r = await apiPublish(tickerd.port, DESK, 'world', 'lost?');
  assert.equal(r.status, 503, r.text);
  assert.equal(r.json.error, 'redis');
  const m = await getMetrics(tickerd.port);
  assert.equal(apiCount(m, 503), 1);
}));

test('Idempotency-Key: a retried request (the first answer lost) records once and gets the same seq', T, scenario(async (t, h) => {
  const { redis, tickerd } = await h.env({ args: keys });
  const port = tickerd.port;
  const body = JSON.stringify({ id: 'retry-me', headline: 'Once only' });
  const headers = { Authorization: `Bearer ${DESK}`, 'Idempotency-Key': 'order-42/attempt', 'Content-Length': String(Buffer.byteLength(body)) };
  // The first attempt: the client goes away before reading its answer.
  const { rawConnect } = await import('./lib/rawhttp.mjs');
  const conn = await rawConnect(port);
  await conn.write(buildRequest('POST', '/api/items/world', { host: hostOf(port), headers }) + body);
  conn.destroy();
  await waitUntil(async () => (await logEntries(redis.port)).length === 1, 5000, 'the first attempt recorded');
  // The retries, one after another and two at once.
  const again = await apiPublish(port, DESK, 'world', body, { headers: { 'Idempotency-Key': 'order-42/attempt' } });
  const both = await Promise.all([0, 1].map(() => apiPublish(port, DESK, 'world', body, { headers: { 'Idempotency-Key': 'order-42/attempt' } })));
  for (const r of [again, ...both]) assert.equal(r.status, 201, r.text);
  const entries = await logEntries(redis.port);
  assert.equal(entries.length, 1, 'one entry');
  for (const r of [again, ...both]) assert.equal(r.json.seq, entries[0].id);
  // Another key with the same Idempotency-Key is another request.
  const other = await apiPublish(port, WIRE, 'wire', body, { headers: { 'Idempotency-Key': 'order-42/attempt' } });
  assert.equal(other.status, 201);
  assert.notEqual(other.json.seq, entries[0].id);
  const bad = await apiPublish(port, DESK, 'world', 'x', { headers: { 'Idempotency-Key': 'x'.repeat(129) } });
  assert.equal(bad.status, 400);
  assert.equal(bad.json.error, 'idempotency_key');
}));

test('a correction and a kill through the API reach a WebSocket client; a stale version is answered 409; the log says who killed it', T, scenario(async (t, h) => {
  const { redis, tickerd } = await h.env({ args: keys });
  const c = await h.client(tickerd.wsUrl('?topics=world'));
  await c.next((j) => j.type === 'snapshot', 5000, 'the snapshot');
  const first = await apiPublish(tickerd.port, DESK, 'world', { id: 'story', headline: 'First take' });
  assert.equal(first.status, 201);
  await c.next((j) => j.type === 'item' && j.item.headline === 'First take', 5000, 'the first version');
  const fix = await apiPublish(tickerd.port, DESK, 'world', { id: 'story', headline: 'Corrected take', version: 2 });
  assert.equal(fix.status, 201, fix.text);
  assert.equal(fix.json.item.version, 2);
  const upd = await c.next((j) => j.type === 'item' && j.item.headline === 'Corrected take', 5000, 'the correction');
  assert.equal(upd.item.id, 'story');
  assert.equal(upd.item.seq, fix.json.seq);
  // A version no newer than the one shown: recorded, skipped by the reader, answered 409.
  const stale = await apiPublish(tickerd.port, DESK, 'world', { id: 'story', headline: 'Old take', version: 1 });
  assert.equal(stale.status, 409, stale.text);
  assert.equal(stale.json.error, 'stale');
  assert.ok((await logEntries(redis.port)).some((e) => e.id === stale.json.seq), 'the stale version is in the log');
  const kill = await apiPublish(tickerd.port, WIRE, 'wire', { id: 'story', status: 'canceled' });
  assert.equal(kill.status, 201, 'a kill on another topic is another item');
  const killed = await apiPublish(tickerd.port, DESK, 'world', { id: 'story', status: 'canceled' });
  assert.equal(killed.status, 201, killed.text);
  assert.deepEqual(killed.json.retract, { id: 'story', topic: 'world' });
  assert.equal(killed.json.by, 'desk');
  const gone = await c.next((j) => j.type === 'retract', 5000, 'the kill');
  assert.deepEqual([gone.id, gone.topic, gone.seq], ['story', 'world', killed.json.seq]);
  const entry = (await logEntries(redis.port)).find((e) => e.id === killed.json.seq);
  assert.equal(entry.fields.by, 'desk', 'who killed this story? desk');
}));

test('SIGHUP adds and removes keys (--config)', T, scenario(async (t, h) => {
  const dir = makeTmpDir('tickerd-e2e-api-');
  h.defer(() => removeTmpDir(dir));
  const file = path.join(dir, 'tickerd.conf');
  fs.writeFileSync(file, `publisher-key = ${keySetting('desk', DESK)}\n`);
  const { tickerd } = await h.env({ args: ['--config', file] });
  assert.equal((await apiPublish(tickerd.port, DESK, 'world', 'before')).status, 201);
  assert.equal((await apiPublish(tickerd.port, WIRE, 'wire', 'before')).status, 401);
  fs.writeFileSync(file, `publisher-key = ${keySetting('wire', WIRE, ['wire'])}\n`);
  tickerd.kill('SIGHUP');
  await waitUntil(async () => (await apiPublish(tickerd.port, WIRE, 'wire', uniq('after'))).status === 201, 5000, 'wire admitted after SIGHUP');
  const r = await apiPublish(tickerd.port, DESK, 'world', 'after');
  assert.equal(r.status, 401, 'desk removed');
  assert.ok(!tickerd.log().includes(DESK) && !tickerd.log().includes(WIRE), 'no key in the log');
}));

test('Expect: 100-continue is answered before the body; a body that comes in pieces is read whole; GET /api/items shows a limited key only its topics', T, scenario(async (t, h) => {
  const { tickerd } = await h.env({ args: keys });
  const port = tickerd.port;
  const { rawConnect } = await import('./lib/rawhttp.mjs');
  const body = JSON.stringify({ id: 'long', headline: 'Long read', source: 'x'.repeat(150), related: Array.from({ length: 10 }, (_, i) => ({ headline: `related ${i} ${'y'.repeat(100)}` })) });
  assert.ok(body.length > 1024);
  const conn = await rawConnect(port);
  await conn.write(buildRequest('POST', '/api/items/world', { host: hostOf(port), headers: { Authorization: `Bearer ${DESK}`, Expect: '100-continue', 'Content-Length': String(Buffer.byteLength(body)) } }));
  await waitUntil(() => conn.received.toString('latin1').startsWith('HTTP/1.1 100 Continue\r\n\r\n'), 3000, '100 Continue');
  conn.buf = conn.buf.subarray('HTTP/1.1 100 Continue\r\n\r\n'.length);
  await conn.write(body.slice(0, 500));
  await conn.write(body.slice(500));
  const r = await conn.readResponse({ method: 'POST', timeoutMs: 5000 });
  conn.destroy();
  assert.equal(r.status, 201, r.text);
  assert.equal(JSON.parse(r.text).item.related.length, 10);

  assert.equal((await apiPublish(port, WIRE, 'markets', 'Markets item')).status, 201);
  const wire = await apiRequest(port, 'GET', '/api/items', { key: WIRE });
  assert.equal(wire.status, 200, wire.text);
  assert.deepEqual(wire.json.items.map((i) => i.topic), ['markets'], 'wire sees its own topics only');
  const desk = await apiRequest(port, 'GET', '/api/items', { key: DESK });
  assert.deepEqual(desk.json.items.map((i) => [i.topic, i.by]), [['world', 'desk'], ['markets', 'wire']]);
  const bad = await apiRequest(port, 'GET', '/api/items?topics=a%20b', { key: DESK });
  assert.equal(bad.status, 400);
  assert.equal(bad.json.error, 'bad_topics');
  assert.equal((await apiRequest(port, 'GET', '/api/items')).status, 401);
}));

test('the function library: FCALL callers without by work as before, a bad by is refused, and an older library (no by) found loaded is replaced at the first API publish', T, scenario(async (t, h) => {
  const { redis, tickerd } = await h.env({ args: keys });
  const { redisCall } = await import('./lib/redis.mjs');
  const { REPO } = await import('./lib/config.mjs');
  const id = await redisCall(redis.port, ['FCALL', 'tickerd_record', '2', 'ticker:log', 'ticker:seen', 'world', 'Par redis-cli']);
  const byCli = await redisCall(redis.port, ['FCALL', 'tickerd_record', '2', 'ticker:log', 'ticker:seen', 'world', 'Avec by', '10000', '10', 'tok-1', 'cms']);
  await assert.rejects(redisCall(redis.port, ['FCALL', 'tickerd_record', '2', 'ticker:log', 'ticker:seen', 'world', 'x', '10000', '10', 'tok-2', 'bad name']), /by must be/);
  const entries = await logEntries(redis.port);
  assert.deepEqual(entries.map((e) => [e.id, e.fields.by]), [[String(id), undefined], [String(byCli), 'cms']]);

  // An older tickerd's library, without the by argument, loaded over ours.
  const lua = fs.readFileSync(path.join(REPO, 'deploy/redis/tickerd.lua'), 'utf8');
  const older = lua.replace('#args > 6', '#args > 5');
  assert.notEqual(older, lua);
  await redisCall(redis.port, ['FUNCTION', 'LOAD', 'REPLACE', older]);
  const r = await apiPublish(tickerd.port, DESK, 'world', 'After the old library');
  assert.equal(r.status, 201, r.text);
  const last = (await logEntries(redis.port)).at(-1);
  assert.deepEqual([last.id, last.fields.by, last.fields.payload], [r.json.seq, 'desk', 'After the old library']);
  assert.match(tickerd.log(), /function library/);
}));

test('a POST pipelined with a GET behind it: the GET waits for the publish, both answered in order; a body that stalls gets 408 at --handshake-timeout', T, scenario(async (t, h) => {
  const { tickerd } = await h.env({ args: [...keys, '--handshake-timeout', '2', '--publish-rate', '1000/s'] });
  const port = tickerd.port;
  const host = hostOf(port);
  const { rawConnect } = await import('./lib/rawhttp.mjs');
  const body = 'Pipelined publish';
  const conn = await rawConnect(port);
  await conn.write(
    buildRequest('POST', '/api/items/world', { host, headers: { Authorization: `Bearer ${DESK}`, 'Content-Length': String(body.length) } }) + body
    + buildRequest('GET', '/api/items?topics=world', { host, headers: { Authorization: `Bearer ${DESK}` } }));
  const first = await conn.readResponse({ method: 'POST', timeoutMs: 5000 });
  const second = await conn.readResponse({ method: 'GET', timeoutMs: 5000 });
  conn.destroy();
  assert.equal(first.status, 201, first.text);
  assert.equal(second.status, 200, second.text);
  const seq = JSON.parse(first.text).seq;
  assert.deepEqual(JSON.parse(second.text).items.map((i) => [i.seq, i.headline, i.by]), [[seq, body, 'desk']], 'the GET saw the publish');

  // A 201 is sent once the entry is read back: what follows it sees it.
  for (let i = 0; i < 20; i++) {
    const r = await apiPublish(port, DESK, 'world', `Read back ${i}`);
    assert.equal(r.status, 201, r.text);
    const shown = await httpGet(port, '/items.json?topics=world');
    assert.ok(shown.body.includes(r.json.seq), `publish ${i}: /items.json right after its 201 has seq ${r.json.seq}`);
  }

  const slow = await rawConnect(port);
  await slow.write(buildRequest('POST', '/api/items/world', { host, headers: { Authorization: `Bearer ${DESK}`, 'Content-Length': '100' } }) + 'only part');
  const r = await slow.readResponse({ method: 'POST', timeoutMs: 6000 });
  assert.equal(r.status, 408, r.headText);
  await slow.waitClosed(3000);
  assert.ok(slow.isClosed, 'closed after the 408');
  slow.destroy();
}));

test('a GET /api/items with a body, or without a Host, is refused (400, closed); nothing reads the body as the next request', T, scenario(async (t, h) => {
  const { tickerd } = await h.env({ args: keys });
  const port = tickerd.port;
  const withBody = await rawRequest(port, buildRequest('GET', '/api/items', { host: hostOf(port), headers: { Authorization: `Bearer ${DESK}`, 'Content-Length': '20' } }) + 'GET /healthz HTTP/1.1');
  assert.equal(withBody.status, 400, withBody.headText);
  assert.equal(JSON.parse(withBody.text).error, 'bad_request');
  assert.ok(withBody.closed, 'closed: the body was not read');
  const noHost = await rawRequest(port, 'POST /api/items/world HTTP/1.1\r\nContent-Length: 1\r\n\r\nx');
  assert.equal(noHost.status, 400, noHost.headText);
}));
