// GET /items.json and GET /feed.atom (issue 14): the history's items for a
// topics= over plain HTTP. The feed is read by a real feed parser (Debian's
// python3-feedparser, run by /usr/bin/python3) and checked field by field,
// French fixture text and markup characters included; /items.json must be
// the very items a WebSocket client's snapshot carries; both revalidate
// (ETag, Last-Modified, 304), filter by topics, refuse a bad topics= as
// /ws does, and drop killed and expired items.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { scenario, publish, FIXTURES, fixturesAvailable, rawRequest, buildRequest, hostOf, getMetrics } from './harness.mjs';

const T = { timeout: 60_000 };
const PYTHON = '/usr/bin/python3'; // Debian's, where python3-feedparser is
const ATOM_TYPE = 'application/atom+xml; charset=utf-8';
const ETAG_RE = /^"[0-9a-f]{16}"$/;
const UUID_URN_RE = /^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const HEADER_MARKUP = 'Tom & Jerry <b>"quoted"</b> \'single\' </title> ]]> &amp; done';

/** GET (or HEAD) a path with request headers; resolves {status, headers, body, text}. */
function get(port, urlPath, headers = {}, method = 'GET') {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: urlPath, method, agent: false, headers }, (res) => {
      const chunks = [];
      res.on('data', (d) => chunks.push(d));
      res.on('end', () => {
        const body = Buffer.concat(chunks);
        resolve({ status: res.statusCode, headers: res.headers, body, text: body.toString('utf8') });
      });
      res.on('error', reject);
    });
    req.setTimeout(5000, () => req.destroy(new Error(`${method} ${urlPath}: timeout`)));
    req.on('error', reject);
    req.end();
  });
}

// The feed as feedparser reads it, as JSON: whether it was well-formed
// (bozo), the feed's fields and each entry's.
const PARSE = String.raw`
import json, sys, feedparser
d = feedparser.parse(sys.stdin.buffer.read(), response_headers={'content-location': sys.argv[1], 'content-type': sys.argv[2]})
links = lambda o: [{'rel': l.get('rel'), 'href': l.get('href'), 'type': l.get('type'), 'title': l.get('title')} for l in o.get('links', [])]
print(json.dumps({
  'bozo': bool(d.bozo), 'error': str(d.get('bozo_exception', '')), 'version': d.get('version'),
  'feed': {'id': d.feed.get('id'), 'title': d.feed.get('title'), 'updated': d.feed.get('updated'),
           'author': d.feed.get('author'), 'links': links(d.feed)},
  'entries': [{'id': e.get('id'), 'title': e.get('title'), 'title_type': e.title_detail.get('type'),
               'lang': e.title_detail.get('language'), 'updated': e.get('updated'),
               'author': e.get('author'), 'tags': [t.get('term') for t in e.get('tags', [])],
               'summary': e.get('summary'), 'content': [c.get('value') for c in e.get('content', [])],
               'links': links(e)} for e in d.entries]}))
`;

/** Fetch /feed.atom<query> and parse it with feedparser; resolves { res, feed }. */
async function atom(tickerd, query = '') {
  const res = await get(tickerd.port, `/feed.atom${query}`);
  assert.equal(res.status, 200, `/feed.atom${query}: ${res.text}`);
  assert.equal(res.headers['content-type'], ATOM_TYPE);
  const url = `${tickerd.httpUrl}/feed.atom${query}`;
  const p = spawnSync(PYTHON, ['-c', PARSE, url, res.headers['content-type']], { input: res.body, timeout: 20_000 });
  assert.equal(p.status, 0, `feedparser (${PYTHON}; deploy/install-deps.sh installs python3-feedparser): ${p.stderr}`);
  const feed = JSON.parse(p.stdout.toString('utf8'));
  assert.equal(feed.bozo, false, `the feed is not well-formed XML: ${feed.error}\n${res.text}`);
  assert.equal(feed.version, 'atom10');
  return { res, feed };
}

/** Fetch /items.json<query>; resolves { res, items }. */
async function itemsJson(tickerd, query = '') {
  const res = await get(tickerd.port, `/items.json${query}`);
  assert.equal(res.status, 200, `/items.json${query}: ${res.text}`);
  assert.equal(res.headers['content-type'], 'application/json');
  return { res, items: JSON.parse(res.text) };
}

/** A fresh WebSocket client's snapshot for query: { items, raw } (raw: the frame's bytes). */
async function snapshotOf(h, tickerd, query = '') {
  const c = await h.client(tickerd.wsUrl(query));
  const { snapshot } = await c.ready();
  const raw = c.last.raw;
  c.close();
  return { items: snapshot.items, raw };
}

/**
 * Publish [topic, payload, headline?] (payload an object, sent as JSON, or
 * text) and wait until a client of all topics has each: the item with that
 * headline (the text's, or the object's), or the retraction of a kill.
 */
async function publishAll(h, redis, tickerd, list) {
  const c = await h.client(tickerd.wsUrl());
  await c.ready();
  for (const [topic, payload] of list) {
    const n = await publish(redis.port, `ticker:${topic}`, typeof payload === 'string' ? payload : JSON.stringify(payload));
    assert.equal(n, 1, 'tickerd is subscribed');
  }
  for (const [, payload, headline] of list) {
    if (headline !== undefined) await c.nextItem(headline);
    else if (typeof payload === 'string') await c.nextItem(payload);
    else if (payload.status) await c.next((m) => m.type === 'retract' && m.id === payload.id, 5000, `kill of ${payload.id}`);
    else await c.nextItem(payload.headline);
  }
  c.close();
}

/** The scraped French page's lead paragraph, "Lire aussi" lines and « » paragraph, byte for byte. */
function frenchLines() {
  const texts = fs.readFileSync(path.join(FIXTURES, '000_8e6ad587408bc601.txt'), 'utf8').split('\n');
  const firstBlank = texts.indexOf('');
  const lead = texts.findIndex((s, i) => i > firstBlank && s !== '');
  const lire = texts.map((s, i) => (/^Lire\s[^|]*\|\s/u.test(s) ? i : -1)).filter((i) => i >= 0);
  const guil = texts.findIndex((s) => s.includes('\u00AB') && s.includes('\u00BB'));
  const chosen = [...new Set([lead, ...lire, guil])].sort((a, b) => a - b).map((i) => texts[i]);
  assert.ok(chosen.length >= 3, 'fixture layout: lead, "Lire aussi" lines, « » paragraph');
  return chosen;
}

test('the Atom feed, read by feedparser, carries every field, French text and markup intact; /items.json is the snapshot', T, scenario(async (t, h) => {
  const { redis, tickerd } = await h.env();
  const list = [
    ['world', { id: 'markup', headline: HEADER_MARKUP, url: 'https://example.org/a?x=1&y=<2>', lang: 'en',
      source: 'Desk & "Co"', label: 'Bulletin <live>', priority: 'bulletin', time: '2025-06-24T09:30:00+02:00',
      related: [{ headline: 'Read & "see"', url: 'https://example.org/r?a=1&b=2' }, { headline: 'no url' }] }],
    ['breaking', 'Plain text, no url: « content » & <nothing> else'],
  ];
  let french = [];
  if (fixturesAvailable()) {
    french = frenchLines();
    french.forEach((line, i) => list.push(['world', { id: `fr-${i}`, headline: line, lang: 'fr', source: 'Le Monde',
      url: `https://example.org/fr/${i}`, time: `2025-06-22T0${i}:00:00Z` }]));
    const ninjs = fs.readFileSync(path.join(FIXTURES, 'ninjs', '2.1-dpa_text.json'), 'utf8');
    list.push(['agency', ninjs, JSON.parse(ninjs).headlines.find((x) => x.role === 'main').value]);
  } else {
    t.diagnostic(`${FIXTURES} (…/shared/fixtures) not found: the French fixture items are left out`);
  }
  await publishAll(h, redis, tickerd, list);

  // /items.json: the snapshot's items, in its order, and its very bytes.
  for (const query of ['', '?topics=world', '?topics=world,breaking']) {
    const { res, items } = await itemsJson(tickerd, query);
    const snap = await snapshotOf(h, tickerd, query);
    assert.deepEqual(items, snap.items, `/items.json${query} is the snapshot's items`);
    const spliced = Buffer.from(`"items":${res.text.replace(/\n$/, '')}`, 'utf8');
    assert.ok(snap.raw.includes(spliced), `/items.json${query}: the snapshot's bytes, not a re-encoding`);
    assert.equal(items.length, query === '?topics=world' ? 1 + french.length : query ? 2 + french.length : list.length,
      `/items.json${query}: ${items.map((it) => it.headline.slice(0, 30)).join(' | ')}`);
  }

  // /feed.atom: every field, through a real parser.
  const { res, feed } = await atom(tickerd);
  const snapshot = (await snapshotOf(h, tickerd)).items;
  assert.match(feed.feed.id, UUID_URN_RE);
  assert.equal(feed.feed.title, 'tickerd: all topics');
  assert.equal(feed.feed.author, 'tickerd');
  const newestChange = snapshot.map((it) => it.seq).sort((a, b) => {
    const [am, an] = a.split('-').map(BigInt);
    const [bm, bn] = b.split('-').map(BigInt);
    return am === bm ? Number(an - bn) : Number(am - bm);
  }).pop();
  const changedAt = new Date(Math.floor(Number(newestChange.split('-')[0]) / 1000) * 1000);
  assert.equal(feed.feed.updated, changedAt.toISOString().replace('.000Z', 'Z'), 'feed updated: the last change');
  assert.deepEqual(feed.feed.links.map((l) => [l.rel, l.href, l.type]), [
    ['self', `${tickerd.httpUrl}/feed.atom`, 'application/atom+xml'],
    ['alternate', `${tickerd.httpUrl}/wall.html`, 'text/html'],
  ]);
  assert.equal(feed.entries.length, snapshot.length);
  // Newest first: the snapshot's order reversed.
  const ids = new Set();
  feed.entries.forEach((e, k) => {
    const it = snapshot[snapshot.length - 1 - k];
    const where = `entry ${k} (${it.topic}/${it.id})`;
    assert.match(e.id, UUID_URN_RE, where);
    ids.add(e.id);
    assert.equal(e.title, it.headline, `${where}: title is the headline, byte for byte`);
    assert.equal(e.title_type, 'text/plain', where);
    assert.equal(e.updated, it.time, `${where}: updated is the item's time`);
    assert.equal(e.lang ?? undefined, it.lang, `${where}: xml:lang`);
    assert.equal(e.author ?? undefined, it.source, `${where}: author is the source`);
    assert.deepEqual(e.tags, [it.topic], `${where}: a category for its topic`);
    // feedparser gives the content as the summary when there is none.
    assert.equal(e.summary ?? undefined, it.label ?? (it.url ? undefined : it.headline), `${where}: summary is the label`);
    const alternate = e.links.filter((l) => l.rel === 'alternate').map((l) => l.href);
    const related = e.links.filter((l) => l.rel === 'related').map((l) => [l.href, l.title]);
    if (it.url) {
      assert.deepEqual(alternate, [it.url], `${where}: alternate link is the url`);
      assert.deepEqual(e.content, [], where);
    } else {
      assert.deepEqual(alternate, [], where);
      assert.deepEqual(e.content, [it.headline], `${where}: no url, so the headline is the content`);
    }
    assert.deepEqual(related, (it.related || []).filter((r) => r.url).map((r) => [r.url, r.headline]), `${where}: related links`);
  });
  assert.equal(ids.size, feed.entries.length, 'entry ids are distinct');
  // The markup went out escaped, never as markup.
  assert.ok(!res.text.includes('<b>'), 'no raw markup from a headline');
  assert.ok(res.text.includes('Tom &amp; Jerry &lt;b&gt;&quot;quoted&quot;&lt;/b&gt;'), res.text);
  if (french.length) {
    const all = feed.entries.map((e) => e.title).join('\n');
    for (const [ch, name] of [['é', 'e acute'], ['\u2019', 'U+2019'], ['\u00AB', '«'], ['\u00BB', '»'], ['\u00A0', 'no-break space']]) {
      assert.ok(all.includes(ch), `${name} missing from the feed's titles`);
    }
    // Raw UTF-8 in the document, not character references.
    assert.ok(res.body.includes(Buffer.from(french[0], 'utf8')) || french[0].includes('"') || french[0].includes('&'),
      'the lead paragraph is in the document byte for byte');
    const dpa = feed.entries.find((e) => e.tags[0] === 'agency');
    assert.equal(dpa.author, 'dpa');
    assert.equal(dpa.lang, 'de');
  }

  // A correction keeps its entry id and changes its title; topics= keeps others out.
  const before = feed.entries.find((e) => e.title === HEADER_MARKUP).id;
  await publishAll(h, redis, tickerd, [['world', { id: 'markup', headline: 'Corrected <again>' }]]);
  const world = (await atom(tickerd, '?topics=world')).feed;
  assert.equal(world.feed.title, 'tickerd: world');
  assert.equal(world.feed.links[0].href, `${tickerd.httpUrl}/feed.atom?topics=world`);
  assert.ok(world.entries.every((e) => e.tags[0] === 'world'), 'only the world topic');
  const corrected = world.entries.find((e) => e.id === before);
  assert.ok(corrected, 'the correction keeps the entry id');
  assert.equal(corrected.title, 'Corrected <again>');
}));

test('validators: ETag and Last-Modified, 304 on either, a new ETag only when those topics change', T, scenario(async (t, h) => {
  const { redis, tickerd } = await h.env();
  await publishAll(h, redis, tickerd, [['world', { id: 'w1', headline: 'world one' }], ['sport', { id: 's1', headline: 'sport one' }]]);
  // Wait out the second of the last change: Last-Modified is then that second.
  await new Promise((r) => setTimeout(r, 1100));
  for (const out of ['/items.json', '/feed.atom']) {
    const url = `${out}?topics=world`;
    const a = await get(tickerd.port, url);
    assert.equal(a.status, 200);
    assert.match(a.headers.etag, ETAG_RE, `${out}: ETag`);
    assert.ok(a.headers['last-modified'], `${out}: Last-Modified`);
    assert.equal(a.headers['cache-control'], 'no-cache', `${out}: caches revalidate`);
    assert.equal(a.headers['access-control-allow-origin'], '*');
    const again = await get(tickerd.port, url);
    assert.equal(again.headers.etag, a.headers.etag, `${out}: the same items, the same ETag`);
    assert.ok(again.body.equals(a.body), `${out}: the same bytes`);

    const inm = await get(tickerd.port, url, { 'If-None-Match': a.headers.etag });
    assert.equal(inm.status, 304, `${out}: If-None-Match`);
    assert.equal(inm.body.length, 0);
    assert.equal(inm.headers.etag, a.headers.etag);
    const list = await get(tickerd.port, url, { 'If-None-Match': `"0000000000000000", W/${a.headers.etag}` });
    assert.equal(list.status, 304, `${out}: If-None-Match as a list, weakly compared`);
    const ims = await get(tickerd.port, url, { 'If-Modified-Since': a.headers['last-modified'] });
    assert.equal(ims.status, 304, `${out}: If-Modified-Since`);
    const old = await get(tickerd.port, url, { 'If-Modified-Since': 'Thu, 01 Jan 2015 00:00:00 GMT' });
    assert.equal(old.status, 200, `${out}: an older copy`);
    const head = await get(tickerd.port, url, {}, 'HEAD');
    assert.equal(head.status, 200);
    assert.equal(head.headers.etag, a.headers.etag, `${out}: HEAD`);
    assert.equal(head.headers['content-length'], String(a.body.length));
  }
  const was = {};
  for (const out of ['/items.json', '/feed.atom']) was[out] = (await get(tickerd.port, `${out}?topics=world`)).headers;

  // Another topic's item changes nothing for world.
  await publishAll(h, redis, tickerd, [['sport', { id: 's2', headline: 'sport two' }]]);
  for (const out of ['/items.json', '/feed.atom']) {
    const r = await get(tickerd.port, `${out}?topics=world`, { 'If-None-Match': was[out].etag });
    assert.equal(r.status, 304, `${out}: sport's item leaves world's ETag`);
    const r2 = await get(tickerd.port, `${out}?topics=world`, { 'If-Modified-Since': was[out]['last-modified'] });
    assert.equal(r2.status, 304, `${out}: and its Last-Modified`);
  }

  // A new world item: 200 with a new ETag, on both validators.
  await publishAll(h, redis, tickerd, [['world', { id: 'w2', headline: 'world two' }]]);
  for (const out of ['/items.json', '/feed.atom']) {
    const r = await get(tickerd.port, `${out}?topics=world`, { 'If-None-Match': was[out].etag });
    assert.equal(r.status, 200, `${out}: a new item`);
    assert.notEqual(r.headers.etag, was[out].etag, `${out}: a new ETag`);
    assert.ok(r.text.includes('world two'));
    const r2 = await get(tickerd.port, `${out}?topics=world`, { 'If-Modified-Since': was[out]['last-modified'] });
    assert.equal(r2.status, 200, `${out}: modified since`);
    const r3 = await get(tickerd.port, `${out}?topics=world`, { 'If-None-Match': r.headers.etag });
    assert.equal(r3.status, 304, `${out}: the new ETag revalidates`);
  }
}));

test('topics= as /ws reads it: a filter, all topics without it, the same 400 for a bad one', T, scenario(async (t, h) => {
  const { redis, tickerd } = await h.env();
  await publishAll(h, redis, tickerd, [
    ['world', { id: 'w', headline: 'in world' }], ['sport', { id: 's', headline: 'in sport' }], ['arts', { id: 'a', headline: 'in arts' }],
  ]);
  const topicsOf = (items) => items.map((it) => it.topic).sort();
  assert.deepEqual(topicsOf((await itemsJson(tickerd, '?topics=sport,world')).items), ['sport', 'world']);
  assert.deepEqual(topicsOf((await itemsJson(tickerd, '?topics=world,sport,world')).items), ['sport', 'world']);
  assert.deepEqual(topicsOf((await itemsJson(tickerd, '')).items), ['arts', 'sport', 'world']);
  assert.deepEqual(topicsOf((await itemsJson(tickerd, '?topics=')).items), ['arts', 'sport', 'world']);
  assert.deepEqual((await itemsJson(tickerd, '?topics=none')).items, []);
  const empty = await atom(tickerd, '?topics=none');
  assert.equal(empty.feed.entries.length, 0);
  assert.equal(empty.feed.feed.updated, '1970-01-01T00:00:00Z', 'a topic never changed');
  // The same feed whatever order the topics come in.
  const a = await get(tickerd.port, '/feed.atom?topics=world,sport');
  const b = await get(tickerd.port, '/feed.atom?topics=sport,world');
  assert.ok(a.body.equals(b.body));

  const tooMany = Array.from({ length: 33 }, (_, i) => `t${i}`).join(',');
  for (const bad of ['bad!', 'a%20b', '../x', 'x'.repeat(65), tooMany, '%ZZ', 'a%00b']) {
    const ws = await rawRequest(tickerd.port, buildRequest('GET', `/ws?topics=${bad}`, {
      host: hostOf(tickerd.port), headers: { Upgrade: 'websocket', Connection: 'Upgrade', 'Sec-WebSocket-Version': '13', 'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==' },
    }));
    for (const out of ['/items.json', '/feed.atom']) {
      const r = await get(tickerd.port, `${out}?topics=${bad}`);
      assert.equal(r.status, 400, `${out}?topics=${bad.slice(0, 20)}`);
      assert.equal(ws.status, 400, `/ws?topics=${bad.slice(0, 20)}`);
      assert.equal(r.text, ws.body.toString('utf8'), 'the same answer as /ws');
    }
  }
}));

test('a kill and an expiry take an item out of both outputs', T, scenario(async (t, h) => {
  const { redis, tickerd } = await h.env();
  const past = new Date(Date.now() - 60_000).toISOString().replace(/\.\d+Z$/, 'Z');
  const soon = new Date(Date.now() + 5_000);
  // Expired on arrival: refused (it would never be shown), so in no output.
  await publish(redis.port, 'ticker:world', JSON.stringify({ id: 'gone', headline: 'expired already', expires: past }));
  await publishAll(h, redis, tickerd, [
    ['world', { id: 'doomed', headline: 'to be killed' }],
    ['world', { id: 'stays', headline: 'stays', expires: '2999-01-01T00:00:00Z' }],
    ['world', { id: 'soon', headline: 'expires soon', expires: soon.toISOString().replace(/\.\d+Z$/, 'Z') }],
    ['sport', { id: 'doomed', headline: 'same id, other topic' }],
  ]);
  const headlines = async () => ({
    json: (await itemsJson(tickerd, '?topics=world,sport')).items.map((it) => it.headline).sort(),
    atom: (await atom(tickerd, '?topics=world,sport')).feed.entries.map((e) => e.title).sort(),
  });
  assert.equal((await getMetrics(tickerd.port)).value('tickerd_payloads_rejected_total', { reason: 'expired' }), 1,
    'the item expired on arrival was refused as expired');
  let got = await headlines();
  const want = ['expires soon', 'same id, other topic', 'stays', 'to be killed'];
  assert.deepEqual(got.json, want, 'an expired item is left out of /items.json');
  assert.deepEqual(got.atom, want, 'and out of the feed');
  const etag = (await get(tickerd.port, '/feed.atom?topics=world,sport')).headers.etag;

  await publishAll(h, redis, tickerd, [['world', { id: 'doomed', status: 'canceled' }]]);
  got = await headlines();
  const afterKill = ['expires soon', 'same id, other topic', 'stays'];
  assert.deepEqual(got.json, afterKill, 'the kill took world/doomed out of /items.json');
  assert.deepEqual(got.atom, afterKill, 'and out of the feed; sport/doomed stays');
  const r = await get(tickerd.port, '/feed.atom?topics=world,sport', { 'If-None-Match': etag });
  assert.equal(r.status, 200, 'a kill changes the ETag');

  // Once its time has passed, the item that expires goes too: a new ETag.
  const e2 = r.headers.etag;
  await new Promise((res) => setTimeout(res, Math.max(0, soon.getTime() - Date.now()) + 1100));
  got = await headlines();
  assert.deepEqual(got.json, ['same id, other topic', 'stays']);
  assert.deepEqual(got.atom, ['same id, other topic', 'stays']);
  const r2 = await get(tickerd.port, '/feed.atom?topics=world,sport', { 'If-None-Match': e2 });
  assert.equal(r2.status, 200, 'an expiry changes the ETag');
}));
