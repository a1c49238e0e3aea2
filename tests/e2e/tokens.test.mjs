// Private topics and readers' tokens (issue 15): a JWT on /ws and /events
// (?token=) or in a token message opens the private topics its `topics`
// claim lists; every way a token can be wrong is refused with its reason
// (HTTP 403 {"error":"token","reason"}, or an access message) and counted
// in tickerd_token_refusals_total; public topics work for everyone; a
// private item reaches no snapshot, resume, output or stream of a reader
// not granted it; renewal keeps the topic, expiry drops only it; no token
// is ever logged.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { scenario, publish, getMetrics, httpGet, openWebSocket, makeTmpDir, removeTmpDir } from './harness.mjs';
import { mint, keyPair, tamper, nowS, tokenRefusals } from './lib/tokens.mjs';

const T = { timeout: 60_000 };
const SECRET = 'correct horse battery staple';
const ISO_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;

const item = (id, topic, headline) => JSON.stringify({ id, topic, headline });
const itemIds = (msgs) => msgs.filter((m) => m.type === 'item').map((m) => m.item.id);
const snapIds = (snap) => snap.items.map((i) => i.id).sort();

/** Open /ws<query> and expect an upgrade: the client, ready (hello, snapshot). */
async function ready(h, tickerd, query) {
  const r = await openWebSocket(tickerd.wsUrl(query));
  assert.equal(r.status, 101, `${query}: ${r.status} ${r.body}`);
  h.clients.push(r.client);
  await r.client.ready();
  return r.client;
}

/** Open /ws<query> and expect 403 {"error":"token","reason":reason}. */
async function refusedWs(tickerd, query, reason) {
  const r = await openWebSocket(tickerd.wsUrl(query));
  if (r.client) r.client.close();
  assert.equal(r.status, 403, `${reason}: upgraded instead of 403`);
  assert.match(r.headers['content-type'], /^application\/json/);
  assert.deepEqual(JSON.parse(r.body), { error: 'token', reason });
}

/** Publish items and wait until a reader of every topic has them all. */
async function publishSeen(h, redis, tickerd, items, all) {
  for (const [id, topic, headline] of items) await publish(redis.port, `ticker:${topic}`, item(id, topic, headline));
  for (const [id] of items) await all.next((m) => m.type === 'item' && m.item.id === id, 5000, id);
}

/** Start redis + tickerd with private topic `markets` and HS256 tokens, and
 * a public and a private item logged; `all` holds every topic (granted). */
async function marketsEnv(h, args = [], claims = {}) {
  const { redis, tickerd } = await h.env({ args: ['--private-topics', 'markets,insider-*', '--token-secret', SECRET, '--log-level', 'info', ...args] });
  const all = await ready(h, tickerd, `?token=${mint('HS256', SECRET, { topics: ['markets', 'insider-gold'], ...claims })}`);
  await publishSeen(h, redis, tickerd, [['w1', 'world', 'Public news'], ['m1', 'markets', 'Private markets news'], ['i1', 'insider-gold', 'Insider']], all);
  return { redis, tickerd, all };
}

test('HS256: a valid token opens the private topics it lists; without one they are locked and public ones work', T, scenario(async (t, h) => {
  const { redis, tickerd, all } = await marketsEnv(h);
  const token = mint('HS256', SECRET, { topics: ['markets'] });
  assert.deepEqual(all.hello.private, ['insider-gold', 'markets']);
  assert.match(all.hello.token_exp, ISO_RE);

  const granted = await ready(h, tickerd, `?topics=world,markets&token=${token}`);
  assert.deepEqual(granted.hello.private, ['markets']);
  assert.equal(granted.hello.locked, undefined);
  assert.match(granted.hello.token_exp, ISO_RE);
  assert.deepEqual(snapIds(granted.snapshot), ['m1', 'w1']);

  const locked = await ready(h, tickerd, '?topics=world,markets');
  assert.deepEqual(locked.hello.locked, ['markets']);
  assert.equal(locked.hello.private, undefined);
  assert.equal(locked.hello.token_exp, undefined);
  assert.deepEqual(snapIds(locked.snapshot), ['w1']);

  // "All topics": every public one, plus what the token grants.
  const anyone = await ready(h, tickerd, '');
  assert.deepEqual(snapIds(anyone.snapshot), ['w1']);
  assert.deepEqual(anyone.hello.locked, ['markets']); // the exact names; insider-* is a pattern
  const onlyMarkets = await ready(h, tickerd, `?token=${token}`);
  assert.deepEqual(snapIds(onlyMarkets.snapshot), ['m1', 'w1']);

  // Live: the private item goes to the granted only; the public one to all.
  await publish(redis.port, 'ticker:markets', item('m2', 'markets', 'Rates'));
  await publish(redis.port, 'ticker:world', item('w2', 'world', 'Public again'));
  for (const c of [granted, onlyMarkets]) {
    await c.next((m) => m.type === 'item' && m.item.id === 'm2', 5000, 'm2');
    await c.next((m) => m.type === 'item' && m.item.id === 'w2', 5000, 'w2');
  }
  for (const c of [locked, anyone]) {
    await c.next((m) => m.type === 'item' && m.item.id === 'w2', 5000, 'w2');
    assert.deepEqual(itemIds(c.afterSnapshot().map((m) => m.json)), ['w2'], 'no private item in a public stream');
  }

  // A private item appears in no output, with or without a token.
  for (const p of ['/items.json', '/items.json?topics=markets', '/items.json?topics=world,markets', `/items.json?topics=markets&token=${token}`,
    '/feed.atom', '/feed.atom?topics=markets', `/feed.atom?topics=markets&token=${token}`]) {
    const r = await httpGet(tickerd.port, p);
    assert.equal(r.status, 200, p);
    assert.ok(!r.text.includes('m1') && !r.text.includes('Private markets') && !r.text.includes('Rates') && !r.text.includes('Insider'), `${p} leaks a private item: ${r.text.slice(0, 300)}`);
  }
  const json = JSON.parse((await httpGet(tickerd.port, '/items.json')).text);
  assert.ok(JSON.stringify(json).includes('w1'), '/items.json still has the public item');

  // A resume (since=) from before the private items carries none of them
  // to a reader not granted, and all of them to one granted.
  const firstSeq = all.messages.find((m) => m.json?.type === 'item' && m.json.item.id === 'w1').json.item.seq;
  const o = await openWebSocket(tickerd.wsUrl(`?topics=world,markets&since=${firstSeq}`));
  h.clients.push(o.client);
  const r = o.client;
  await r.next((m) => m.type === 'item' && m.item.id === 'w2', 5000, 'w2 on resume');
  const got = r.messages.map((m) => m.json);
  assert.ok(!got.some((m) => (m.type === 'item' && m.item.topic === 'markets') || (m.type === 'snapshot' && m.items.some((i) => i.topic === 'markets'))), `resume leaks: ${r.describe(10)}`);
  const resumedGranted = await openWebSocket(tickerd.wsUrl(`?topics=world,markets&since=${firstSeq}&token=${token}`));
  h.clients.push(resumedGranted.client);
  await resumedGranted.client.next((m) => m.type === 'item' && m.item.id === 'm2', 5000, 'm2 on a granted resume');

  // /events: the token by ?token=; a private topic without one is refused.
  const ev = await h.sse(tickerd.port, `/events?topics=world,markets&token=${token}`);
  assert.equal(ev.status, 200);
  const hello = await ev.next((m) => m.type === 'hello');
  assert.deepEqual(hello.private, ['markets']);
  const snap = await ev.next((m) => m.type === 'snapshot');
  assert.deepEqual(snapIds(snap), ['m1', 'm2', 'w1', 'w2']);
  const noTok = await httpGet(tickerd.port, '/events?topics=markets');
  assert.equal(noTok.status, 403);
  assert.deepEqual(JSON.parse(noTok.text), { error: 'token', reason: 'missing' });
  const pub = await h.sse(tickerd.port, '/events?topics=world');
  assert.equal(pub.status, 200, 'public topics on /events need no token');

  // Readers per topic count those granted it, not those locked out.
  const metrics = await getMetrics(tickerd.port);
  assert.equal(metrics.value('tickerd_readers', { topic: 'markets' }), 3, 'granted, its resume, the EventSource');
  assert.equal(metrics.value('tickerd_readers', { topic: 'world' }), 6);
  const m = tokenRefusals(metrics);
  assert.equal(m.missing, 3, 'missing: /ws locked twice (topics=world,markets, then its resume), /events once');
  assert.equal(m.signature, 0);
  assert.ok(!tickerd.log().includes(token.split('.')[2]) && !tickerd.log().includes(SECRET), 'a token or the secret is in the log');
}));

test('every wrong token is refused with its reason (HTTP 403 on /ws and /events) and counted; public topics stay open', T, scenario(async (t, h) => {
  const good = { topics: ['markets'], aud: ['other.example', 'news.example'], iss: 'https://login.example' };
  const { tickerd } = await marketsEnv(h, ['--token-audience', 'news.example', '--token-issuer', 'https://login.example'], { aud: 'news.example', iss: good.iss });
  const valid = mint('HS256', SECRET, good);
  const { pem } = keyPair('rsa');
  const cases = {
    expired: mint('HS256', SECRET, { ...good, exp: nowS() - 120 }), // past the 30 s leeway
    not_yet_valid: mint('HS256', SECRET, { ...good, nbf: nowS() + 120 }),
    signature: mint('HS256', 'another secret', good),
    algorithm: mint('none', null, good),
    audience: mint('HS256', SECRET, { ...good, aud: 'elsewhere.example' }),
    issuer: mint('HS256', SECRET, { ...good, iss: 'https://evil.example' }),
    malformed: 'not-a-jwt',
    not_granted: mint('HS256', SECRET, { ...good, topics: ['sport'] }),
  };
  const tampered = tamper(valid, { ...good, topics: ['markets', 'insider-gold'] });
  const rs256 = mint('RS256', keyPair('rsa').privateKey, good);
  const before = tokenRefusals(await getMetrics(tickerd.port));
  for (const [reason, tok] of Object.entries(cases)) {
    await refusedWs(tickerd, `?topics=world,markets&token=${tok}`, reason);
    const ev = await httpGet(tickerd.port, `/events?topics=world,markets&token=${tok}`);
    assert.equal(ev.status, 403, `/events ${reason}`);
    assert.deepEqual(JSON.parse(ev.text), { error: 'token', reason });
  }
  await refusedWs(tickerd, `?topics=world,markets&token=${tampered}`, 'signature');
  await refusedWs(tickerd, `?topics=world&token=${rs256}`, 'algorithm'); // an alg other than the key's
  await refusedWs(tickerd, `?topics=world&token=${mint('HS256', pem, good)}`, 'signature'); // HS256 but not our secret
  const after = tokenRefusals(await getMetrics(tickerd.port));
  for (const reason of Object.keys(cases)) {
    const extra = { signature: 2, algorithm: 1 }[reason] ?? 0;
    assert.equal(after[reason] - before[reason], 2 + extra, `tickerd_token_refusals_total{reason="${reason}"}`);
  }

  // A 64 KB token: over a socket message (within a raised --max-message) it
  // is too_large; in the URL the request head is over 8 KiB (431).
  const big = mint('HS256', SECRET, { ...good, pad: 'x'.repeat(48 * 1024) });
  assert.ok(big.length > 64 * 1024);
  const huge = await httpGet(tickerd.port, `/ws?topics=markets&token=${big}`);
  assert.equal(huge.status, 431);

  // The valid token still works, and public topics work without one.
  const ok = await ready(h, tickerd, `?topics=world,markets&token=${valid}`);
  assert.deepEqual(ok.hello.private, ['markets']);
  const pub = await ready(h, tickerd, '?topics=world');
  assert.deepEqual(snapIds(pub.snapshot), ['w1']);
  const log = tickerd.log();
  for (const tok of [valid, tampered, ...Object.values(cases)]) assert.ok(!log.includes(tok.split('.').pop() || tok), 'a token is in the log');
  assert.ok(!log.includes(SECRET));
}));

test('a 64 KB token in a token message is refused too_large, and counted', T, scenario(async (t, h) => {
  const { tickerd } = await marketsEnv(h, ['--max-message', '100000']);
  const c = await ready(h, tickerd, '?topics=world,markets');
  const big = mint('HS256', SECRET, { topics: ['markets'], pad: 'x'.repeat(48 * 1024) });
  assert.ok(big.length > 64 * 1024);
  c.ws.send(JSON.stringify({ type: 'token', token: big }));
  const a = await c.next((m) => m.type === 'access', 5000, 'access');
  assert.equal(a.refused, 'too_large');
  assert.deepEqual(a.locked, ['markets']);
  assert.deepEqual(a.private, []);
  assert.equal(tokenRefusals(await getMetrics(tickerd.port)).too_large, 1);
}));

for (const [alg, kind] of [['RS256', 'rsa'], ['ES256', 'ec']]) {
  test(`${alg}: a token signed with the key's pair opens private topics; none, HS256 with the PEM as secret and a wrong key are refused`, T, scenario(async (t, h) => {
    const dir = makeTmpDir('tickerd-tokens-');
    h.defer(() => removeTmpDir(dir));
    const pair = keyPair(kind);
    const other = keyPair(kind);
    const keyFile = path.join(dir, 'key.pem');
    fs.writeFileSync(keyFile, pair.pem);
    const { redis, tickerd } = await h.env({ args: ['--private-topics', 'markets', '--token-key', keyFile] });
    const token = mint(alg, pair.privateKey, { topics: 'markets,sport' }); // the string form
    const c = await ready(h, tickerd, `?topics=world,markets&token=${token}`);
    assert.deepEqual(c.hello.private, ['markets']);
    await publish(redis.port, 'ticker:markets', item('m1', 'markets', 'Private'));
    await c.next((m) => m.type === 'item' && m.item.id === 'm1', 5000, 'm1');
    await refusedWs(tickerd, `?topics=markets&token=${mint('none', null, { topics: ['markets'] })}`, 'algorithm');
    await refusedWs(tickerd, `?topics=markets&token=${mint('HS256', pair.pem, { topics: ['markets'] })}`, 'algorithm');
    await refusedWs(tickerd, `?topics=markets&token=${mint(alg, other.privateKey, { topics: ['markets'] })}`, 'signature');
    const m = tokenRefusals(await getMetrics(tickerd.port));
    assert.equal(m.algorithm, 2);
    assert.equal(m.signature, 1);
  }));
}

test('renewal over the socket keeps the private topic; a first-message token opens it with a fresh snapshot', T, scenario(async (t, h) => {
  const { redis, tickerd } = await marketsEnv(h);
  // No token: locked; the token message grants it: access, then a snapshot.
  const c = await ready(h, tickerd, '?topics=world,markets');
  assert.deepEqual(c.hello.locked, ['markets']);
  c.ws.send(JSON.stringify({ type: 'token', token: mint('HS256', SECRET, { topics: ['markets'] }) }));
  const a = await c.next((m) => m.type === 'access', 5000, 'access');
  assert.deepEqual(a.private, ['markets']);
  assert.deepEqual(a.locked, []);
  assert.match(a.token_exp, ISO_RE);
  assert.equal(a.refused, undefined);
  const snap = await c.next(() => true, 5000, 'the message after access');
  assert.equal(snap.type, 'snapshot');
  assert.deepEqual(snapIds(snap), ['m1', 'w1']);

  // A renewal with the same grants: access alone, and the topic goes on.
  const exp2 = nowS() + 7200;
  c.ws.send(JSON.stringify({ type: 'token', token: mint('HS256', SECRET, { topics: ['markets'], exp: exp2 }) }));
  const r = await c.next((m) => m.type === 'access', 5000, 'renewal access');
  assert.deepEqual(r.private, ['markets']);
  assert.equal(r.token_exp, new Date(exp2 * 1000).toISOString().replace('.000Z', 'Z'));
  await publish(redis.port, 'ticker:markets', item('m2', 'markets', 'Renewed'));
  const next = await c.next(() => true, 5000, 'm2');
  assert.equal(next.type, 'item', 'no snapshot after a renewal that keeps the set');
  assert.equal(next.item.id, 'm2');

  // A bad renewal is refused, and the token in force stays.
  c.ws.send(JSON.stringify({ token: mint('HS256', 'wrong', { topics: ['markets'] }), type: 'token' })); // any key order
  const bad = await c.next((m) => m.type === 'access', 5000, 'refused access');
  assert.equal(bad.refused, 'signature');
  assert.deepEqual(bad.private, ['markets']);
  await publish(redis.port, 'ticker:markets', item('m3', 'markets', 'Still'));
  await c.next((m) => m.type === 'item' && m.item.id === 'm3', 5000, 'm3');
}));

test('a token expiring mid-stream drops only the private topic (WebSocket and EventSource)', T, scenario(async (t, h) => {
  const { redis, tickerd } = await marketsEnv(h, ['--token-leeway', '0']);
  const token = mint('HS256', SECRET, { topics: ['markets'], exp: nowS() + 3 });
  const c = await ready(h, tickerd, `?topics=world,markets&token=${token}`);
  const ev = await h.sse(tickerd.port, `/events?topics=world,markets&token=${token}`);
  await ev.next((m) => m.type === 'snapshot');
  assert.deepEqual(snapIds(c.snapshot), ['m1', 'w1']);
  // Within 60 s of exp: told once that it expires.
  const warn = await c.next((m) => m.type === 'access', 5000, 'expiring');
  assert.equal(warn.expiring, true);
  assert.deepEqual(warn.private, ['markets']);
  const gone = await c.next((m) => m.type === 'access', 10_000, 'expired access');
  assert.equal(gone.refused, 'expired');
  assert.deepEqual(gone.private, []);
  assert.deepEqual(gone.locked, ['markets']);
  const snap = await c.next(() => true, 5000, 'snapshot after expiry');
  assert.equal(snap.type, 'snapshot');
  assert.deepEqual(snapIds(snap), ['w1']);
  const evGone = await ev.next((m) => m.type === 'access' && m.refused === 'expired', 10_000);
  assert.equal(ev.last.event, 'access');
  assert.deepEqual(evGone.private, []);
  assert.deepEqual(snapIds(await ev.next((m) => m.type === 'snapshot')), ['w1']);

  await publish(redis.port, 'ticker:markets', item('m9', 'markets', 'After exp'));
  await publish(redis.port, 'ticker:world', item('w9', 'world', 'Public after exp'));
  await c.next((m) => m.type === 'item' && m.item.id === 'w9', 5000, 'w9');
  await ev.next((m) => m.type === 'item' && m.item.id === 'w9', 5000, 'w9');
  for (const s of [c, ev]) assert.ok(!s.messages.some((m) => m.json?.type === 'item' && m.json.item.id === 'm9'), 'a private item after exp');
  assert.ok(c.closeCode === null, 'the connection stays');
  assert.ok(tokenRefusals(await getMetrics(tickerd.port)).expired >= 2);
}));
