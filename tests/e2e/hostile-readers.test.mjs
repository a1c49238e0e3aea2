// Hostile and vanishing readers on the newest endpoints: token clients
// (--private-topics, HS256) that send a token message and vanish, 200 in a
// row and 50 at once; one that floods 1,000 token messages (cut off with
// 1008, its refusals counted, the others served); ones that leave in the
// middle of a renewal whose access message and fresh snapshot are about to
// follow; and /items.json, /feed.atom, /screens under slowloris, 200 at
// once, query strings at the head's limit, and readers of large answers
// that read nothing and vanish. After each episode the server is checked
// alive and correct (lib/hostile.mjs). Publishers: hostile-clients.test.mjs.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  scenario, publish, getMetrics, httpGet, openWebSocket, rawConnect, rawRequest, rawWsOpen, buildRequest,
  wsFrame, OP,
} from './harness.mjs';
import { mint, tokenRefusals } from './lib/tokens.mjs';
import { assertAlive, fdCount, waitFdsBack } from './lib/hostile.mjs';

const T = { timeout: 30_000 };
const SECRET = 'hostile horse battery staple';
const TOKEN_ARGS = ['--private-topics', 'markets', '--token-secret', SECRET];
const tokenMsg = (token) => wsFrame({ opcode: OP.TEXT, payload: JSON.stringify({ type: 'token', token }) });
const clientsGauge = (m) => m.value('tickerd_clients') ?? 0;

/** A reader of world and markets granted by ?token=, ready. */
async function grantedReader(h, tickerd) {
  const o = await openWebSocket(tickerd.wsUrl(`?topics=world,markets&token=${mint('HS256', SECRET, { topics: ['markets'] })}`));
  assert.equal(o.status, 101, `granted reader: ${o.status} ${o.body}`);
  h.clients.push(o.client);
  await o.client.ready();
  return o.client;
}

/** Open /ws?topics=world,markets without a token (locked), send a token message, vanish. */
async function tokenAndVanish(port, token, { waitReady = false } = {}) {
  const o = await rawWsOpen(port, '/ws?topics=world,markets');
  assert.equal(o.status, 101, `upgrade: ${o.status}`);
  if (waitReady) await o.ws.ready(5000);
  await o.ws.send(tokenMsg(token));
  o.conn.destroy();
}

/** The gauge tickerd_clients back to n (clients that vanished let go). */
async function clientsBackTo(port, n, what) {
  const deadline = Date.now() + 10_000;
  let m;
  for (;;) {
    m = await getMetrics(port);
    if (clientsGauge(m) === n) return m;
    if (Date.now() > deadline) assert.fail(`${what}: tickerd_clients is ${clientsGauge(m)}, not ${n}, 10 s on`);
    await sleep(50);
  }
}

test('token clients that send a token message and vanish, 200 in a row and 50 at once: clients and descriptors back, each counted, the others served', T, scenario(async (t, h) => {
  const { redis, tickerd } = await h.env({ args: TOKEN_ARGS });
  const reader = await grantedReader(h, tickerd);
  const m0 = await getMetrics(tickerd.port);
  const fd0 = fdCount(tickerd.pid);
  const good = mint('HS256', SECRET, { topics: ['markets'] });
  const bad = mint('HS256', 'not the secret', { topics: ['markets'] });
  for (let i = 0; i < 200; i++) await tokenAndVanish(tickerd.port, i % 2 ? bad : good);
  await Promise.all(Array.from({ length: 50 }, (_, i) => tokenAndVanish(tickerd.port, i % 2 ? bad : good)));
  const m1 = await clientsBackTo(tickerd.port, clientsGauge(m0), 'after 250 token clients vanished');
  await waitFdsBack(tickerd.pid, fd0, { what: 'after 250 token clients vanished' });
  // Each upgrade named the private topic without a token: counted missing.
  assert.equal(tokenRefusals(m1).missing - tokenRefusals(m0).missing, 250, 'each locked upgrade counted missing');
  assert.ok(tokenRefusals(m1).signature >= tokenRefusals(m0).signature, 'the signature count went back');

  await publish(redis.port, 'ticker:markets', JSON.stringify({ id: 'm-after', topic: 'markets', headline: 'Markets after' }));
  await reader.next((m) => m.type === 'item' && m.item.id === 'm-after', 5000, 'the private item on the granted reader');
  assert.equal(reader.closeCode, null, 'the granted reader was dropped');
  await assertAlive(h, redis, tickerd, 'token clients vanishing');
  // Private topics still private: a locked reader gets the public item
  // published after the private one, and not the private one.
  const o = await openWebSocket(tickerd.wsUrl('?topics=world,markets'));
  assert.equal(o.status, 101);
  h.clients.push(o.client);
  await o.client.ready();
  await publish(redis.port, 'ticker:markets', JSON.stringify({ id: 'm-secret', topic: 'markets', headline: 'Secret' }));
  await publish(redis.port, 'ticker:world', JSON.stringify({ id: 'w-public', headline: 'Public' }));
  await o.client.next((m) => m.type === 'item' && m.item.id === 'w-public', 5000, 'the public item');
  assert.ok(!o.client.messages.some((m) => m.text.includes('m-secret')), `a locked reader got a private item: ${o.client.describe()}`);
  await reader.next((m) => m.type === 'item' && m.item.id === 'm-secret', 5000, 'the private item on the granted reader');
}));

test('a client flooding 1,000 token messages is cut off with 1008; its refusals are counted; other clients keep getting items', T, scenario(async (t, h) => {
  const { redis, tickerd } = await h.env({ args: TOKEN_ARGS });
  const reader = await grantedReader(h, tickerd);
  const m0 = await getMetrics(tickerd.port);
  const fd0 = fdCount(tickerd.pid);
  const o = await rawWsOpen(tickerd.port, '/ws?topics=world,markets');
  assert.equal(o.status, 101);
  h.defer(() => o.conn.destroy());
  await o.ws.ready(5000);
  const good = mint('HS256', SECRET, { topics: ['markets'] });
  const kinds = [mint('HS256', 'wrong', { topics: ['markets'] }), 'not.a.jwt', good, mint('none', '', { topics: ['markets'] })];
  const flood = Buffer.concat(Array.from({ length: 1000 }, (_, i) => tokenMsg(kinds[i % kinds.length])));
  await o.ws.send(flood);

  const cf = await o.ws.closeFrame(10_000);
  assert.ok(cf, `the flooder was neither cut off with a close frame: ${o.conn.describe()}`);
  assert.equal(cf.code, 1008, `close code: ${JSON.stringify(cf)}`);
  await o.conn.waitClosed(5000);

  // The frames taken before the cut were each judged and counted (their
  // answers may not have gone out before the close).
  const m1 = await getMetrics(tickerd.port);
  const r0 = tokenRefusals(m0);
  const r1 = tokenRefusals(m1);
  const judged = Object.keys(r1).reduce((n, k) => n + r1[k] - r0[k], 0) - 1; // less the upgrade's missing
  assert.equal(r1.missing - r0.missing, 1, 'the upgrade without a token counted missing');
  assert.ok(r1.signature - r0.signature >= 1 && r1.malformed - r0.malformed >= 1, `signature and malformed refusals counted: ${JSON.stringify(r1)}`);
  assert.ok(judged >= 2 && judged < 1000, `refusals counted for the flood: ${judged}`);
  assert.equal((m1.value('tickerd_clients_closed_total', { code: '1008' }) ?? 0) - (m0.value('tickerd_clients_closed_total', { code: '1008' }) ?? 0), 1);
  await publish(redis.port, 'ticker:markets', JSON.stringify({ id: 'm-flood', topic: 'markets', headline: 'After the flood' }));
  await reader.next((m) => m.type === 'item' && m.item.id === 'm-flood', 5000, 'the granted reader goes on');
  await clientsBackTo(tickerd.port, clientsGauge(m0), 'after the flooder');
  await waitFdsBack(tickerd.pid, fd0, { what: 'after the flooder' });
  await assertAlive(h, redis, tickerd, 'the token flood');
}));

test('token messages faster than their answers go out: a valid token then a refused one leaves the valid one in force (its topics granted), as the README says', T, scenario(async (t, h) => {
  const { redis, tickerd } = await h.env({ args: TOKEN_ARGS });
  const o = await rawWsOpen(tickerd.port, '/ws?topics=world,markets');
  assert.equal(o.status, 101);
  h.defer(() => o.conn.destroy());
  await o.ws.ready(5000);
  const good = mint('HS256', SECRET, { topics: ['markets'] });
  const wrong = mint('HS256', 'wrong', { topics: ['markets'] });
  // In one write: refused, valid, refused (the last is a refused renewal).
  await o.ws.send(Buffer.concat([tokenMsg(wrong), tokenMsg(good), tokenMsg(wrong)]));
  const texts = () => o.ws.frames.filter((f) => f.opcode === OP.TEXT).map((f) => JSON.parse(f.payload.toString('utf8')));
  // The last access message (the sweep tells one owed within a second or two).
  const ok = await o.conn.waitUntil(() => {
    o.ws._take();
    const acc = texts().filter((j) => j.type === 'access');
    return acc.length && acc[acc.length - 1].refused === 'signature' && acc.length >= 2;
  }, 5000);
  const acc = texts().filter((j) => j.type === 'access');
  assert.ok(ok, `no answer to the last token message: ${JSON.stringify(acc)}`);
  const last = acc[acc.length - 1];
  assert.deepEqual(last.private, ['markets'], `the valid token is no longer in force after a refused renewal: ${JSON.stringify(acc)}`);
  assert.deepEqual(last.locked, []);
  await publish(redis.port, 'ticker:markets', JSON.stringify({ id: 'm-kept', topic: 'markets', headline: 'Kept' }));
  const got = await o.conn.waitUntil(() => { o.ws._take(); return texts().some((j) => j.type === 'item' && j.item.id === 'm-kept'); }, 5000);
  assert.ok(got, `the granted topic delivers nothing: ${JSON.stringify(texts().slice(-4))}`);
  await assertAlive(h, redis, tickerd, 'token messages faster than their answers');
}));

test('clients leaving in the middle of a renewal (access and a fresh snapshot about to follow) while items flow: the others get every item, nothing leaks', T, scenario(async (t, h) => {
  const { redis, tickerd } = await h.env({ args: [...TOKEN_ARGS, '--history', '200'] });
  const reader = await grantedReader(h, tickerd);
  for (let i = 0; i < 50; i++) await publish(redis.port, 'ticker:markets', JSON.stringify({ id: `m-old-${i}`, topic: 'markets', headline: `Old ${i} ${'x'.repeat(400)}` }));
  await reader.next((m) => m.type === 'item' && m.item.id === 'm-old-49', 5000, 'the old items');
  const m0 = await getMetrics(tickerd.port);
  const fd0 = fdCount(tickerd.pid);
  const good = mint('HS256', SECRET, { topics: ['markets'] });

  // Items keep flowing meanwhile.
  let n = 0;
  let flowing = true;
  const flow = (async () => {
    while (flowing) {
      await publish(redis.port, `ticker:${n % 2 ? 'world' : 'markets'}`, JSON.stringify({ id: `flow-${n}`, topic: n % 2 ? 'world' : 'markets', headline: `Flow ${n}` }));
      n++;
      await sleep(5);
    }
  })();
  // A locked client's grant: access, then a snapshot of markets (regroup).
  for (let i = 0; i < 60; i++) await tokenAndVanish(tickerd.port, good, { waitReady: i % 2 === 0 });
  await Promise.all(Array.from({ length: 40 }, (_, i) => tokenAndVanish(tickerd.port, good, { waitReady: i % 2 === 0 })));
  // A granted client's renewal (access alone), and one whose renewal
  // comes while it reads nothing, then vanishes.
  await Promise.all(Array.from({ length: 20 }, async (_, i) => {
    const o = await rawWsOpen(tickerd.port, `/ws?topics=world,markets&token=${good}`);
    assert.equal(o.status, 101);
    if (i % 2) o.conn.socket.pause();
    await o.ws.send(tokenMsg(mint('HS256', SECRET, { topics: ['markets'], exp: Math.floor(Date.now() / 1000) + 7200 })));
    await sleep(i * 5);
    o.conn.destroy();
  }));
  flowing = false;
  await flow;
  const last = n - 1;
  await reader.next((m) => m.type === 'item' && m.item.id === `flow-${last}`, 10_000, `flow-${last}`);
  const ids = reader.messages.filter((m) => m.json?.type === 'item').map((m) => m.json.item.id).filter((id) => id.startsWith('flow-'));
  assert.deepEqual(ids, Array.from({ length: n }, (_, i) => `flow-${i}`), 'the granted reader got every item once, in order');
  await clientsBackTo(tickerd.port, clientsGauge(m0), 'after the renewals left');
  await waitFdsBack(tickerd.pid, fd0, { what: 'after the renewals left' });
  await assertAlive(h, redis, tickerd, 'renewals left halfway');
}));

const ROUTES = ['/items.json', '/feed.atom', '/screens'];

/** Start tickerd with a short --handshake-timeout and enough items to make the outputs large. */
async function outputsEnv(h) {
  const { redis, tickerd } = await h.env({ args: ['--handshake-timeout', '3', '--history', '200'] });
  const c = await h.client(tickerd.wsUrl('?topics=world'));
  await c.ready();
  for (let i = 0; i < 200; i++) await publish(redis.port, 'ticker:world', JSON.stringify({ id: `big-${i}`, headline: `${'Long headline '.repeat(40)}${i}` }));
  await c.next((m) => m.type === 'item' && m.item.id === 'big-199', 10_000, 'the items');
  c.close();
  return { redis, tickerd };
}

/** A well-behaved reader: each route answers 200. */
async function wellBehaved(port, what) {
  for (const p of ROUTES) {
    const r = await httpGet(port, p, { timeoutMs: 10_000 });
    assert.equal(r.status, 200, `${what}: ${p} answered ${r.status}`);
    if (p !== '/screens') assert.ok(r.body.length > 10_000, `${what}: ${p} is only ${r.body.length} bytes`);
  }
}

test('outputs under slowloris (one byte per 200 ms) and 200 requests at once: a well-behaved reader is served meanwhile; the slow ones get 408', T, scenario(async (t, h) => {
  const { redis, tickerd } = await outputsEnv(h);
  const fd0 = fdCount(tickerd.pid);
  const m0 = await getMetrics(tickerd.port);
  const slow = await Promise.all(Array.from({ length: 12 }, async (_, i) => {
    const c = await rawConnect(tickerd.port);
    const head = buildRequest('GET', ROUTES[i % 3], { host: `127.0.0.1:${tickerd.port}`, headers: { Accept: '*/*', 'User-Agent': 'x'.repeat(200) } });
    c.drip = (async () => {
      for (let k = 0; k < head.length - 2 && !c.isClosed; k++) {
        if (!(await c.write(head[k]))) break;
        await sleep(200);
      }
    })();
    return c;
  }));
  h.defer(() => slow.forEach((c) => c.destroy()));

  await wellBehaved(tickerd.port, 'during slowloris');
  const many = await Promise.all(Array.from({ length: 200 }, (_, i) => httpGet(tickerd.port, ROUTES[i % 3], { timeoutMs: 15_000 })));
  assert.deepEqual([...new Set(many.map((r) => r.status))], [200], 'the 200 at once');
  await wellBehaved(tickerd.port, 'after 200 at once, during slowloris');

  for (const [i, c] of slow.entries()) {
    const { closed } = await c.waitClosed(15_000);
    assert.ok(closed, `slowloris ${i} still open 15 s on: ${c.describe()}`);
    assert.match(c.received.toString('latin1'), /^HTTP\/1\.1 408 /, `slowloris ${i}: ${c.describe()}`);
    await c.drip;
  }
  const m1 = await getMetrics(tickerd.port);
  const refused = (m) => m.value('tickerd_handshakes_refused_total', { reason: 'timeout' }) ?? 0;
  assert.equal(refused(m1) - refused(m0), 12, 'each slowloris counted a timeout');
  assert.equal((m1.value('tickerd_http_responses_total', { code: '408' }) ?? 0) - (m0.value('tickerd_http_responses_total', { code: '408' }) ?? 0), 12);
  await waitFdsBack(tickerd.pid, fd0, { what: 'after slowloris and 200 at once' });
  await assertAlive(h, redis, tickerd, 'slowloris and 200 at once');
}));

test('outputs: a query string just under the head limit is served, just over it is 431; readers of large answers that read nothing and vanish leave nothing behind', T, scenario(async (t, h) => {
  const { redis, tickerd } = await outputsEnv(h);
  const fd0 = fdCount(tickerd.pid);
  const host = `127.0.0.1:${tickerd.port}`;
  /** A GET of route whose head is exactly `size` bytes (a query string pads it). */
  const headOf = (route, size) => {
    const base = buildRequest('GET', `${route}?pad=`, { host });
    return buildRequest('GET', `${route}?pad=${'a'.repeat(size - base.length)}`, { host });
  };
  for (const route of ROUTES) {
    const under = headOf(route, 8192);
    assert.equal(under.length, 8192);
    const r1 = await rawRequest(tickerd.port, under, { timeoutMs: 10_000 });
    assert.equal(r1.status, 200, `${route} with a head of 8,192 bytes: ${r1.status} ${r1.text.slice(0, 200)}`);
    for (const size of [8193, 8300, 20_000]) {
      const r2 = await rawRequest(tickerd.port, headOf(route, size), { timeoutMs: 10_000 });
      assert.equal(r2.status, 431, `${route} with a head of ${size} bytes: ${r2.status}`);
      assert.ok(r2.closed, `${route}: the connection stays open after 431`);
    }
  }

  // 20 readers pipelining 40 requests each for the large outputs, reading
  // nothing (their sockets paused), while a well-behaved reader is served.
  const stuck = await Promise.all(Array.from({ length: 20 }, async (_, i) => {
    const c = await rawConnect(tickerd.port);
    c.socket.pause();
    const req = buildRequest('GET', ROUTES[i % 2], { host });
    await c.write(req.repeat(40));
    return c;
  }));
  h.defer(() => stuck.forEach((c) => c.destroy()));
  await sleep(500);
  await wellBehaved(tickerd.port, 'while 20 readers read nothing');
  assert.ok(fdCount(tickerd.pid) >= fd0 + 20, `the 20 readers that read nothing are not all held: ${fdCount(tickerd.pid)} descriptors, baseline ${fd0}`);
  // Past --handshake-timeout the server lets them go by itself, though
  // they are still open on this side.
  await waitFdsBack(tickerd.pid, fd0, { timeoutMs: 15_000, what: 'readers that read nothing, past --handshake-timeout' });
  assert.ok(stuck.every((c) => !c.socket.destroyed), 'a stuck reader was destroyed here');
  for (const c of stuck) c.destroy();
  // And 40 that ask once and vanish at once.
  await Promise.all(Array.from({ length: 40 }, async (_, i) => {
    const c = await rawConnect(tickerd.port);
    await c.write(buildRequest('GET', ROUTES[i % 3], { host }));
    c.destroy();
  }));
  await waitFdsBack(tickerd.pid, fd0, { what: 'after the readers that read nothing vanished' });
  await wellBehaved(tickerd.port, 'after the readers that read nothing vanished');
  await assertAlive(h, redis, tickerd, 'huge query strings and unread answers');
}));
