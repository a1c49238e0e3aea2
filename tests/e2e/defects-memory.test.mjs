// Defect: memory amplification by readers that never read. A client that
// connects, sends a valid WebSocket upgrade (or GET /events) and then never
// calls recv must cost tickerd at most the unsent bound (FAN_UNSENT_MAX in
// server/fanout.c, 1 MiB) plus the kernel's socket buffer, and be culled
// (counted in tickerd_clients_culled_unsent_total, one notice line each);
// clients that read get everything, a greeting of several MB included,
// also one that reads it slowly (64 KiB/s: still in its greeting for twice
// as long as the never-readers last).
//
// The history holds 50 items close to the maximum size in each of three
// topics (a 1,000-byte headline and 20 related stories with 1,000-byte
// headlines and 2,000-byte URLs: ~62 KB each), so every new client's
// greeting snapshot is ~9 MB, far more than the loopback socket buffers
// take from a client that does not read. Before the fix, twenty such
// clients made lws keep a copy of each one's snapshot: tickerd's RSS grew
// by 178 MB (VmRSS +178,004 kB) and none of them was ever culled.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  scenario, publishMany, getMetrics, procStatusKb, assertReceivedAll,
} from './harness.mjs';
import { waitUntil, readLog } from './checker.mjs';

const TOPICS = ['world', 'sport', 'breaking'];
const HISTORY = 50;
const MORE = 10; // items per topic published while the never-readers hang on
const NEVER_WS = 14;
const NEVER_SSE = 6;
const NEVER = NEVER_WS + NEVER_SSE;
const MIB = 1024 * 1024;
const SLOW_RATE = 64 * 1024; // bytes per second the slow reader takes
// FAN_UNSENT_MAX in server/fanout.c: what one client may be owed unsent.
const UNSENT_BOUND = MIB;
const SANITIZED = /build-sanitize/.test(process.env.TICKERD_BIN || '') || 'ASAN_OPTIONS' in process.env;

/** An item close to the maximum size tickerd accepts (~62 KB of JSON). */
function bigPayload(topic, n) {
  const pad = (s, len, c) => s + c.repeat(len - Buffer.byteLength(s));
  return JSON.stringify({
    id: `${topic}-${n}`,
    headline: pad(`${topic} item ${n} `, 1000, 'h'),
    related: Array.from({ length: 20 }, (_, i) => ({
      headline: pad(`related ${n}.${i} `, 1000, 'r'),
      url: pad(`https://example.org/${topic}/${n}/${i}/`, 2000, 'u'),
    })),
  });
}

/**
 * Make a WebSocket client's socket deliver about rate bytes a second: it
 * reads only while it is behind that pace (ws resumes the socket itself
 * whenever its parser drains: only the pace decides here). Returns
 * { bytes(), stop() }: stop() lets it read freely again.
 */
function throttle(socket, rate) {
  let got = 0;
  let open = false;
  const t0 = Date.now();
  const resume = socket.resume.bind(socket);
  const behind = () => got < rate * (Date.now() - t0) / 1000;
  socket.resume = () => (open ? resume() : socket);
  socket.on('data', (d) => {
    got += d.length;
    if (open && !behind()) { open = false; socket.pause(); }
  });
  socket.pause();
  const timer = setInterval(() => {
    open = behind();
    if (open) resume(); else socket.pause();
  }, 20);
  return {
    bytes: () => got,
    stop: () => { clearInterval(timer); socket.resume = resume; resume(); },
  };
}

/**
 * A raw TCP client that sends one complete request (a WebSocket upgrade, or
 * GET /events) and never reads a byte, not even the response head: the
 * socket is paused before it connects. Resolves once the request is sent.
 */
function neverReader(port, path) {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.pause();
    const timer = setTimeout(() => { socket.destroy(); reject(new Error(`never-reader ${path}: no connection in 5 s`)); }, 5000);
    socket.once('error', (e) => { clearTimeout(timer); reject(e); });
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.on('error', () => { /* reset once culled: expected */ });
      const head = path === '/ws'
        ? `GET /ws HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n`
          + `Sec-WebSocket-Key: ${Buffer.from('never-reads-0123').toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`
        : `GET /events HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAccept: text/event-stream\r\n\r\n`;
      socket.write(head, () => resolve(socket));
    });
  });
}

test(`memory: ${NEVER} clients that never read a ~9 MB greeting cost at most ${UNSENT_BOUND / MIB} MiB each (plus the kernel's buffers), are culled and counted; reading clients get everything`,
  { timeout: 120_000 }, scenario(async (t, h) => {
    const { redis, tickerd } = await h.env({
      args: ['--history', String(HISTORY)],
      // Under ASan, freed memory waits in a 256 MB quarantine before reuse,
      // which would hide what this test measures; a smaller one still
      // catches a use after free of anything freed recently.
      env: SANITIZED ? { ASAN_OPTIONS: `${process.env.ASAN_OPTIONS || ''}:quarantine_size_mb=16` } : {},
    });
    // A polite client from the start: it gets the history live, item by item.
    const early = await h.client(tickerd.wsUrl());
    await early.ready();
    for (const topic of TOPICS) {
      await publishMany(redis.port, `ticker:${topic}`, Array.from({ length: HISTORY }, (_, i) => bigPayload(topic, i + 1)), { batch: 10 });
    }
    // Greeting many clients with ~9 MB each keeps tickerd busy (for seconds
    // under ASan): give /metrics time, and let a poll that times out count
    // as "not yet".
    const metrics = () => getMetrics(tickerd.port, { timeoutMs: 10_000 });
    const poll = (fn) => async () => { try { return await fn(await metrics()); } catch { return false; } };
    const lastOf = (topic, n) => `${topic}-${n}`;
    const hasItem = (c, id) => c.messages.some((m) => m.json?.type === 'item' && m.json.item.id === id);
    await waitUntil(() => TOPICS.every((tp) => hasItem(early, lastOf(tp, HISTORY))), 20_000,
      () => `the early client to get the history (${early.ofType('item').length} items)`);

    // Polite clients that arrive now get the whole history as their
    // greeting, several MB in one snapshot, WebSocket and EventSource.
    const late = await h.client(tickerd.wsUrl());
    const lateSse = await h.sse(tickerd.port, '/events');
    const snapshotOf = (c) => waitUntil(() => c.messages.find((m) => m.json?.type === 'snapshot') || c.closeCode !== null, 20_000,
      () => `a snapshot for ${c.url}: ${c.describe(2)}`);
    const snapLate = (await snapshotOf(late)).json;
    const snapSse = (await snapshotOf(lateSse)).json;
    assert.equal(snapLate?.items?.length, TOPICS.length * HISTORY, `the late WebSocket client's snapshot: ${late.describe(2)}`);
    assert.equal(snapSse?.items?.length, TOPICS.length * HISTORY, `the late EventSource client's snapshot: ${lateSse.describe(2)}`);
    const snapshotBytes = late.messages.find((m) => m.json?.type === 'snapshot').raw.length;
    const polite = [[early, 'early WebSocket client'], [late, 'late WebSocket client'], [lateSse, 'late EventSource client']];

    await sleep(500);
    const m0 = await metrics();
    assert.equal(m0.value('tickerd_clients'), polite.length);
    const admitted = polite.length + 1 + NEVER; // with the slow reader
    const rss0 = procStatusKb(tickerd.pid);
    let maxRss = rss0;
    const sample = () => { try { maxRss = Math.max(maxRss, procStatusKb(tickerd.pid)); } catch { /* gone */ } };
    const sampler = setInterval(sample, 20);
    h.defer(() => clearInterval(sampler));

    // A slow reader arrives with the never-readers: it must not be culled.
    // (How much of its greeting tickerd still owes it, rather than the
    // kernel's buffers holding it, depends on how far the kernel grows its
    // receive buffer: up to tcp_rmem's maximum.)
    const slow = await h.client(tickerd.wsUrl());
    const pace = throttle(slow.ws._socket, SLOW_RATE);
    h.defer(() => pace.stop());
    polite.push([slow, `WebSocket client reading at ${SLOW_RATE / 1024} KiB/s`]);
    const never = [];
    h.defer(() => { for (const s of never) s.destroy(); });
    for (let i = 0; i < NEVER; i++) never.push(await neverReader(tickerd.port, i < NEVER_WS ? '/ws' : '/events'));
    const t0 = Date.now();
    // Every one of them was let in (and greeted, as far as it goes).
    await waitUntil(poll((m) => m.value('tickerd_clients') === admitted
      || m.value('tickerd_clients_culled_total') > m0.value('tickerd_clients_culled_total')), 20_000,
    'tickerd to admit the never-reading clients');
    sample();

    // More news while they hang on: the polite clients must get all of it.
    for (const topic of TOPICS) {
      await publishMany(redis.port, `ticker:${topic}`, Array.from({ length: MORE }, (_, i) => bigPayload(topic, HISTORY + i + 1)), { batch: 5 });
    }
    const culledUnsent = (m) => (m.value('tickerd_clients_culled_unsent_total') ?? 0)
      - (m0.value('tickerd_clients_culled_unsent_total') ?? 0);
    // The sweep runs every second; a client is culled once it has taken
    // nothing for seven seconds while owed more than the bound.
    let cullError = null;
    await waitUntil(poll((m) => culledUnsent(m) >= NEVER), 30_000, () => `the ${NEVER} never-reading clients to be culled`)
      .catch((e) => { cullError = e; });
    const tCulled = Date.now() - t0;
    // The slow reader goes on at its pace for as long again as a never-
    // reader lasted (it started with them): it must still be there.
    if (!cullError) await sleep(tCulled);
    const slowBytes = pace.bytes();
    const slowClosed = slow.closeCode;
    pace.stop();
    for (const [c, name] of polite) {
      await waitUntil(() => TOPICS.every((tp) => hasItem(c, lastOf(tp, HISTORY + MORE))) || c.closeCode !== null, 20_000,
        () => `the ${name} to receive the last items: ${c.describe(2)}`);
    }
    await sleep(300);
    sample();
    clearInterval(sampler);
    const rss1 = procStatusKb(tickerd.pid);
    const m1 = await metrics();
    const culled = m1.value('tickerd_clients_culled_total') - m0.value('tickerd_clients_culled_total');
    const unsentCulls = culledUnsent(m1);
    const notices = tickerd.log().split('\n').filter((l) => /culling a client owed \d+ bytes/.test(l));

    // What the fixed server may hold while this runs, besides the bound for
    // each never-reader: the greeting snapshot they share (its WebSocket
    // frame and its EventSource form), one more snapshot being built per
    // new connection before it is found identical to the shared one, and
    // 8 MB for the 30 new items (their frames and EventSource forms in the
    // ring and the history), lws's per-connection state and the allocator.
    const allowanceKb = Math.ceil((3 * snapshotBytes + 8 * MIB) / 1024);
    const boundKb = Math.ceil(NEVER * UNSENT_BOUND / 1024) + allowanceKb;
    const growthKb = maxRss - rss0;
    t.diagnostic(`snapshot ${snapshotBytes} bytes; ${NEVER} never-readers (${NEVER_WS} WebSocket, ${NEVER_SSE} EventSource): `
      + `tickerd VmRSS ${rss0} kB before, ${maxRss} kB max sampled (+${growthKb} kB), ${rss1} kB after; `
      + `bound ${NEVER} x ${UNSENT_BOUND / 1024} kB + ${allowanceKb} kB = ${boundKb} kB${SANITIZED ? ' (sanitizer build)' : ''}; `
      + `culled ${culled} (unsent bound: ${unsentCulls}) after ${tCulled} ms; the slow reader had read ${slowBytes} bytes ${tCulled} ms later; `
      + `${notices.length} notice line(s); clients now ${m1.value('tickerd_clients')}`);

    assert.ok(growthKb < boundKb, `tickerd's RSS grew by ${growthKb} kB with ${NEVER} never-reading clients: more than `
      + `${NEVER} x the ${UNSENT_BOUND / 1024} kB bound + ${allowanceKb} kB`);
    if (cullError) throw cullError;
    assert.equal(slowClosed, null, `the slow reader was dropped: ${slow.describe(2)}`);
    assert.ok(slowBytes < snapshotBytes, `the slow reader had read ${slowBytes} bytes ${tCulled} ms after the never-readers `
      + `were culled: it was meant to be still in its ${snapshotBytes}-byte greeting`);
    assert.equal(unsentCulls, NEVER, 'every never-reader is culled for the unsent bound, and no reading client');
    assert.equal(culled, NEVER, 'tickerd_clients_culled_total counts them too, and nobody else');
    assert.equal(m1.value('tickerd_clients'), polite.length, 'only the reading clients are left');
    assert.equal(notices.length, NEVER, `one notice per cull:\n${notices.join('\n')}`);
    // The log holds ~11 MB: read it once, with time to spare.
    const log = await readLog(redis.port, 'ticker', { timeoutMs: 20_000 });
    assert.equal(log.length, TOPICS.length * (HISTORY + MORE));
    for (const [c, name] of polite) {
      await assertReceivedAll(redis.port, c, { name, log, timeoutMs: 20_000 });
    }

    // Their connections really end: once they read, they see EOF.
    await Promise.all(never.map((s, i) => new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`never-reader ${i}: still open 10 s after it was culled`)), 10_000);
      s.once('close', () => { clearTimeout(timer); resolve(); });
      s.on('data', () => {});
      s.resume();
    })));
  }));
