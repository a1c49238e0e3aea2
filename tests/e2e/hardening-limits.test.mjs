// Issue 6, limits (spec: "Issue 6 additions"): what one client may send
// (--max-message -> close 1009, --max-rate -> close 1008, both counted in
// tickerd_clients_closed_total{code}), how many may connect (--max-clients
// -> 503, --max-per-ip -> 429, counted in tickerd_handshakes_refused_total),
// how long a handshake may take (--handshake-timeout: slowloris) and how
// long a silent peer is kept (--ping-interval). In every test a well-behaved
// client connected alongside receives every item (checker against XRANGE).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import fs from 'node:fs';
import { execFileSync } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  scenario, publish, getMetrics, openWebSocket, connectSSE, assertReceivedAll,
  itemPublisher as publisher, trackedWebSocket as ws,
} from './harness.mjs';

const T = { timeout: 30_000 };
const CLOSED = 'tickerd_clients_closed_total';
const REFUSED = 'tickerd_handshakes_refused_total';



/** Resolve with { code, reason, ms } when the client closes, or fail after ms. */
async function closedWithin(client, ms, what) {
  const t0 = Date.now();
  const r = await Promise.race([client.closed, sleep(ms).then(() => null)]);
  assert.ok(r, `${what}: still open after ${ms} ms; ${client.describe()}`);
  return { ...r, ms: Date.now() - t0 };
}

async function delta(port, m0, name, labels) {
  const m1 = await getMetrics(port);
  return m1.value(name, labels) - m0.value(name, labels);
}

test('--max-message: a message past the limit gets close 1009 (also when sent in fragments) and is counted; one at the limit is fine', T, scenario(async (t, h) => {
  const { redis, tickerd } = await h.env({ args: ['--max-message', '1000'] });
  const pub = publisher(redis, 'size');
  const good = await h.client(tickerd.wsUrl());
  await good.ready();
  await pub(2);
  const m0 = await getMetrics(tickerd.port);

  // Exactly the limit, text and binary: allowed, the client keeps receiving.
  const fine = (await ws(h, tickerd.wsUrl())).client;
  await fine.ready();
  fine.ws.send('a'.repeat(1000));
  fine.ws.send(Buffer.alloc(1000, 0x62));
  let last = await pub(1);
  await fine.nextItem(last);
  assert.equal(fine.closeCode, null, `a ${1000}-byte message (the limit) must be accepted: ${fine.describe()}`);

  // One byte over, in one frame.
  const big = (await ws(h, tickerd.wsUrl())).client;
  await big.ready();
  big.ws.send('x'.repeat(1001));
  const c1 = await closedWithin(big, 3000, '1001-byte message');
  assert.equal(c1.code, 1009, `close code for a 1001-byte message with --max-message 1000: ${JSON.stringify(c1)}`);
  await pub(1);

  // Over the limit as fragments of 400 bytes (no single frame is too large).
  const frag = (await ws(h, tickerd.wsUrl())).client;
  await frag.ready();
  for (let i = 0; i < 3; i++) frag.ws.send('y'.repeat(400), { fin: false });
  frag.ws.send('y', { fin: true });
  const c2 = await closedWithin(frag, 3000, 'fragmented 1201-byte message');
  assert.equal(c2.code, 1009, `close code for a fragmented 1201-byte message: ${JSON.stringify(c2)}`);

  last = await pub(2);
  await fine.nextItem(last);
  assert.equal(fine.closeCode, null);
  assert.equal(await delta(tickerd.port, m0, CLOSED, { code: '1009' }), 2, `${CLOSED}{code="1009"} must grow by one per 1009 close`);
  assert.equal(await delta(tickerd.port, m0, CLOSED, { code: '1008' }), 0);
  await assertReceivedAll(redis.port, good);
}));

test('--max-rate: a flood gets close 1008 and is counted; a burst of exactly N and a steady trickle below N/s are fine', T, scenario(async (t, h) => {
  const { redis, tickerd } = await h.env({ args: ['--max-rate', '5'] });
  const pub = publisher(redis, 'rate');
  const good = await h.client(tickerd.wsUrl());
  await good.ready();
  await pub(2);
  const m0 = await getMetrics(tickerd.port);

  // A burst of exactly 5 (the bucket), then 1 every 400 ms (2.5/s) for 2.4 s.
  const polite = (await ws(h, tickerd.wsUrl())).client;
  await polite.ready();
  for (let i = 0; i < 5; i++) polite.ws.send(`burst ${i}`);
  await sleep(1100); // the bucket refills
  const trickle = (async () => {
    for (let i = 0; i < 6; i++) {
      polite.ws.send(`trickle ${i}`);
      await sleep(400);
    }
  })();

  // A flood: 50 messages at once.
  const flood = (await ws(h, tickerd.wsUrl())).client;
  await flood.ready();
  for (let i = 0; i < 50; i++) flood.ws.send(`flood ${i}`);
  const c = await closedWithin(flood, 3000, 'flooding client');
  assert.equal(c.code, 1008, `close code for 50 messages at once with --max-rate 5: ${JSON.stringify(c)}`);
  await pub(2);
  await trickle;
  const last = await pub(1);
  await polite.nextItem(last);
  assert.equal(polite.closeCode, null, `a client within the rate must stay: ${polite.describe()}`);
  assert.equal(await delta(tickerd.port, m0, CLOSED, { code: '1008' }), 1, `${CLOSED}{code="1008"} must grow by one`);
  assert.equal(await delta(tickerd.port, m0, CLOSED, { code: '1009' }), 0);
  await assertReceivedAll(redis.port, good);
}));

test('--max-clients 3: the 4th client (WebSocket or EventSource) gets 503 and is counted; a freed slot is usable again', T, scenario(async (t, h) => {
  const { redis, tickerd } = await h.env({ args: ['--max-clients', '3'] });
  const pub = publisher(redis, 'full');
  const good = await h.client(tickerd.wsUrl());
  await good.ready();
  const second = (await ws(h, tickerd.wsUrl())).client;
  await second.ready();
  const third = await connectSSE(tickerd.port, '/events');
  h.clients.push(third);
  assert.equal(third.status, 200);
  await third.ready();
  await pub(2);
  const m0 = await getMetrics(tickerd.port);
  assert.equal(m0.value('tickerd_clients'), 3);

  const r4 = await ws(h, tickerd.wsUrl());
  assert.equal(r4.status, 503, `4th WebSocket with --max-clients 3: HTTP ${r4.status}`);
  await pub(1);
  const s4 = await connectSSE(tickerd.port, '/events');
  h.clients.push(s4);
  assert.equal(s4.status, 503, `4th client as EventSource: HTTP ${s4.status} ${s4.rawText.slice(0, 200)}`);
  assert.doesNotMatch(String(s4.headers['content-type'] ?? ''), /event-stream/i);
  // From another address too: the limit is a total.
  const r5 = await ws(h, tickerd.wsUrl(), { localAddress: '127.0.0.2' });
  assert.equal(r5.status, 503, `4th WebSocket from 127.0.0.2: HTTP ${r5.status}`);
  assert.equal(await delta(tickerd.port, m0, REFUSED, { reason: 'max_clients' }), 3, `${REFUSED}{reason="max_clients"} must grow by one per refusal`);
  assert.equal(await delta(tickerd.port, m0, REFUSED, { reason: 'max_per_ip' }), 0);
  assert.equal(await delta(tickerd.port, m0, REFUSED, { reason: 'origin' }), 0);

  // A client leaves: its slot can be taken.
  second.close();
  await second.closed;
  let again;
  for (let i = 0; i < 40; i++) { // the server notices the close asynchronously
    again = await ws(h, tickerd.wsUrl());
    if (again.status === 101) break;
    await sleep(50);
  }
  assert.equal(again.status, 101, 'a slot freed by a leaving client must be usable');
  await again.client.ready();
  const last = await pub(2);
  await again.client.nextItem(last);
  await third.nextItem(last);
  const m1 = await getMetrics(tickerd.port);
  assert.equal(m1.value('tickerd_clients'), 3);
  await assertReceivedAll(redis.port, good);
}));

test('--max-per-ip 2: a 3rd client from one address gets 429 and is counted; other addresses (127.0.0.2, 127.0.0.3) are still admitted', T, scenario(async (t, h) => {
  const { redis, tickerd } = await h.env({ args: ['--max-per-ip', '2'] });
  const pub = publisher(redis, 'perip');
  const good = await h.client(tickerd.wsUrl()); // 127.0.0.1 #1
  await good.ready();
  const mate = (await ws(h, tickerd.wsUrl())).client; // 127.0.0.1 #2
  await mate.ready();
  await pub(2);
  const m0 = await getMetrics(tickerd.port);

  const r3 = await ws(h, tickerd.wsUrl());
  assert.equal(r3.status, 429, `3rd WebSocket from 127.0.0.1 with --max-per-ip 2: HTTP ${r3.status}`);
  const s3 = await connectSSE(tickerd.port, '/events');
  h.clients.push(s3);
  assert.equal(s3.status, 429, `3rd client from 127.0.0.1 as EventSource: HTTP ${s3.status}`);
  await pub(1);

  const others = [];
  for (const addr of ['127.0.0.2', '127.0.0.2', '127.0.0.3']) {
    const r = await ws(h, tickerd.wsUrl(), { localAddress: addr });
    assert.equal(r.status, 101, `WebSocket from ${addr} must be admitted: HTTP ${r.status}`);
    await r.client.ready();
    others.push(r.client);
  }
  const r6 = await ws(h, tickerd.wsUrl(), { localAddress: '127.0.0.2' });
  assert.equal(r6.status, 429, `3rd WebSocket from 127.0.0.2: HTTP ${r6.status}`);
  assert.equal(await delta(tickerd.port, m0, REFUSED, { reason: 'max_per_ip' }), 3, `${REFUSED}{reason="max_per_ip"} must grow by one per refusal`);
  assert.equal(await delta(tickerd.port, m0, REFUSED, { reason: 'max_clients' }), 0);

  // One leaves 127.0.0.1: another from there is admitted.
  mate.close();
  await mate.closed;
  let again;
  for (let i = 0; i < 40; i++) {
    again = await ws(h, tickerd.wsUrl());
    if (again.status === 101) break;
    await sleep(50);
  }
  assert.equal(again.status, 101, 'a per-address slot freed by a leaving client must be usable');
  await again.client.ready();
  const last = await pub(2);
  for (const c of [...others, again.client]) await c.nextItem(last);
  assert.equal((await getMetrics(tickerd.port)).value('tickerd_clients'), 5);
  await assertReceivedAll(redis.port, good);
}));

/** A raw TCP connection that sends `text` one byte every `everyMs` (never completing it). */
function slowloris(port, text, everyMs) {
  const sock = net.connect({ host: '127.0.0.1', port });
  const t0 = Date.now();
  let sent = 0;
  let got = '';
  let timer;
  const closed = new Promise((resolve) => {
    sock.on('close', () => { clearInterval(timer); resolve({ ms: Date.now() - t0, sent, got }); });
  });
  sock.on('error', () => {});
  sock.on('data', (d) => { got += d.toString('latin1'); });
  sock.once('connect', () => {
    if (!text) return;
    timer = setInterval(() => {
      if (sent < text.length) sock.write(text[sent++]);
    }, everyMs);
  });
  return { sock, closed };
}

test('--handshake-timeout 2: a slowloris (a header byte every 500 ms) and a silent connection are closed within ~2-4 s while a normal client works', T, scenario(async (t, h) => {
  const { redis, tickerd } = await h.env({ args: ['--handshake-timeout', '2'] });
  const pub = publisher(redis, 'slow');
  const good = await h.client(tickerd.wsUrl());
  await good.ready();
  await pub(1);
  const partial = `GET /ws HTTP/1.1\r\nHost: 127.0.0.1:${tickerd.port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n`
    + 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nX-Padding: ' + 'p'.repeat(200);
  const loris = slowloris(tickerd.port, partial, 500);
  const silent = slowloris(tickerd.port, '', 0);
  h.defer(() => { loris.sock.destroy(); silent.sock.destroy(); });

  // Meanwhile a normal client connects and is served.
  await sleep(700);
  const fresh = await h.client(tickerd.wsUrl());
  await fresh.ready();
  let last = await pub(2);
  await fresh.nextItem(last);

  // Wait longer than the bound, so that a failure says when it did close.
  const deadline = sleep(12_000).then(() => null);
  const [l, s] = await Promise.all([Promise.race([loris.closed, deadline]), Promise.race([silent.closed, deadline])]);
  assert.ok(l, `the slowloris connection (a byte every 500 ms) was still open after 12 s (${loris.sock.bytesWritten} bytes sent) with --handshake-timeout 2`);
  assert.ok(s, 'a connection that sent nothing was still open after 12 s with --handshake-timeout 2');
  t.diagnostic(`slowloris closed after ${l.ms} ms (${l.sent} bytes sent); silent connection closed after ${s.ms} ms`);
  for (const [what, r] of [['slowloris', l], ['silent connection', s]]) {
    assert.ok(r.ms >= 1500 && r.ms <= 4500, `${what}: closed after ${r.ms} ms, expected ~2-4 s with --handshake-timeout 2`);
    assert.doesNotMatch(r.got, /^HTTP\/1\.1 101/, `${what}: must never be upgraded`);
  }
  last = await pub(2);
  await fresh.nextItem(last);
  await assertReceivedAll(redis.port, good);
  await assertReceivedAll(redis.port, fresh, { name: 'client connected during the slowloris' });
}));

test('--ping-interval 1: a client that never answers pings is hung up within ~2-4 s; a normal client stays past that and gets every item', T, scenario(async (t, h) => {
  const { redis, tickerd } = await h.env({ args: ['--ping-interval', '1'] });
  const pub = publisher(redis, 'ping');
  const good = (await ws(h, tickerd.wsUrl())).client; // ws answers pings itself
  await good.ready();
  let goodPings = 0;
  good.ws.on('ping', () => { goodPings++; });
  const mute = (await ws(h, tickerd.wsUrl(), { autoPong: false })).client;
  await mute.ready();
  let mutePings = 0;
  mute.ws.on('ping', () => { mutePings++; });
  const t0 = Date.now();
  // Items flow during the whole window (the server talking does not make the peer alive).
  let stop = false;
  const flow = (async () => { while (!stop) { await pub(1); await sleep(250); } })();
  const c = await closedWithin(mute, 6000, 'client that never sends a pong');
  const ms = Date.now() - t0;
  t.diagnostic(`the pong-less client was hung up after ${ms} ms (close ${c.code}) having had ${mutePings} ping(s)`);
  assert.ok(mutePings >= 1, 'the server must have pinged the silent client before hanging up');
  assert.ok(ms >= 1500 && ms <= 4500, `hung up after ${ms} ms; expected ~2-4 s (2 x --ping-interval 1) with --ping-interval 1`);
  assert.notEqual(c.code, 1000, 'not a normal close');

  // The well-behaved client stays connected well past that.
  await sleep(Math.max(0, 5500 - (Date.now() - t0)));
  stop = true;
  await flow;
  const last = await pub(1);
  await good.nextItem(last);
  assert.equal(good.closeCode, null, `a client answering pings must stay: ${good.describe()}`);
  assert.ok(goodPings >= 2, `the idle-but-alive client should have been pinged (got ${goodPings} pings in 5.5 s)`);
  await assertReceivedAll(redis.port, good);
}));

test('--ping-interval 1: an idle EventSource stream gets a comment line every interval (so proxies keep it open), and its items', T, scenario(async (t, h) => {
  const { redis, tickerd } = await h.env({ args: ['--ping-interval', '1'] });
  const pub = publisher(redis, 'ssekeep');
  const s = await h.sse(tickerd.port, '/events');
  await s.ready();
  const t0 = Date.now();
  await sleep(2600);
  t.diagnostic(`${s.comments} comment line(s) in ${Date.now() - t0} ms`);
  assert.ok(s.comments >= 1 && s.comments <= 4, `expected 1-4 keep-alive comments in 2.6 s with --ping-interval 1; ${s.describe()}`);
  const last = await pub(1);
  await s.nextItem(last);
  await assertReceivedAll(redis.port, s);
}));

// /proc/<pid>/stat: user + system CPU time in seconds (clock ticks of 1/100 s).
function cpuSeconds(pid) {
  const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = f.slice(f.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

test('out of file descriptors: accepting pauses (no busy loop; said once, counted) and the waiting clients get in when descriptors free up', T, scenario(async (t, h) => {
  const { redis, tickerd } = await h.env();
  const pub = publisher(redis, 'fds');
  const fdsNow = fs.readdirSync(`/proc/${tickerd.pid}/fd`).length;
  const LIMIT = fdsNow + 10; // room for 10 clients, no more
  execFileSync('prlimit', ['--pid', String(tickerd.pid), `--nofile=${LIMIT}:${LIMIT}`]);
  const opened = [];
  for (let i = 0; i < 10; i++) {
    const r = await openWebSocket(tickerd.wsUrl());
    assert.equal(r.status, 101, `client ${i} of the 10 that fit`);
    h.clients.push(r.client);
    await r.client.ready();
    opened.push(r.client);
  }
  // Five more: the kernel completes their TCP handshakes, tickerd can't accept them.
  const waiting = Array.from({ length: 5 }, () => openWebSocket(tickerd.wsUrl(), { timeoutMs: 15_000 }));
  await sleep(300);
  const cpu0 = cpuSeconds(tickerd.pid);
  await sleep(1000);
  const cpu = cpuSeconds(tickerd.pid) - cpu0;
  t.diagnostic(`CPU while unable to accept: ${cpu.toFixed(2)} s in 1 s`);
  assert.ok(cpu < 0.3, `tickerd must not spin while out of descriptors (${cpu} s of CPU in 1 s)`);
  const said = tickerd.log().match(/cannot accept connections: Too many open files/g) || [];
  assert.equal(said.length, 1, `said once, not on every try:\n${tickerd.log()}`);

  for (const c of opened.slice(0, 6)) c.close();
  const late = await Promise.all(waiting);
  for (const r of late) {
    assert.equal(r.status, 101, 'a client that waited gets in');
    h.clients.push(r.client);
    await r.client.ready();
  }
  const last = await pub(1);
  for (const r of late) await r.client.nextItem(last);
  await assertReceivedAll(redis.port, late[0].client, { name: 'a client that waited' });
  assert.match(tickerd.log(), /accepting connections again/);
  const m = await getMetrics(tickerd.port);
  assert.ok(m.value('tickerd_accept_pauses_total') >= 1, 'the pauses are counted');
}));
