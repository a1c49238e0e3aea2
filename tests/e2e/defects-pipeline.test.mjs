// Attacks from outside, HTTP side, part 3 (parts 1 and 2 are the
// defects-http*.test.mjs files): a client that pipelines thousands of
// requests for files on one kept-alive connection and does not read the
// answers. The door (server/door.c) answers a connection's requests one at
// a time, in order, and only once what it wrote before has all gone out:
// when the socket stops taking its answers, it keeps the rest of the one
// answer it was writing and stops reading that connection until the
// client reads. So such a client costs one answer and one request buffer
// (16 kB), however much it asks for; the requests it sent wait in the
// kernel's socket buffers, other clients are answered as usual, and when
// it reads it gets every answer, whole and in order. (No defect was found
// here: this holds the door to that. A client that reads nothing for
// --handshake-timeout after its last request was taken up is closed: not
// tested here.)
//
// The requests carry a 1,000-byte header (as cookies do), so that the
// ones tickerd has not read are far more than it could have read and
// answered into the kernel's buffers: reading them all would show.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  scenario, WEB_DIR, procStatusKb, processCpuSeconds, rawRequest, buildRequest, hostOf,
} from './harness.mjs';

const N = 2000; // requests pipelined in one write
const PAD = 1000; // bytes of the X-Pad header each one carries
const STALL_MS = 3000; // how long the client reads nothing
const HANDSHAKE_TIMEOUT = 10; // s: it must read before this
// Every 4th request is another file, so that order shows.
const OTHERS = ['/wall.js', '/index.css', '/wall.html', '/'];
const pathOf = (i) => (i % 4 === 3 ? OTHERS[(i >> 2) % OTHERS.length] : '/ticker.js');
// What tickerd may grow by while this runs: the answer it was writing and
// its request buffer are ~30 kB; the rest is the allocator's and
// /healthz's. Holding the answers it has not written (~20 MB) would be far
// over. Under ASan, freed memory waits in a quarantine (16 MB here).
const SANITIZED = /build-sanitize/.test(process.env.TICKERD_BIN || '') || 'ASAN_OPTIONS' in process.env;
const GROWTH_BOUND_KB = (SANITIZED ? 24 : 4) * 1024;
const HEALTHZ_DEADLINE_MS = 1000;
// Requests tickerd may have read beyond those it answered: its request
// buffer (16 kB in door.c), with room to spare; reading them all is ~1.6 MB.
const READ_AHEAD_BOUND = 64 * 1024;

/**
 * The IPv4 TCP socket from localPort to remotePort in /proc/net/tcp:
 * { tx, rx } (bytes not yet acknowledged by the peer, bytes not yet read
 * by the process), or null.
 */
function tcpQueues(localPort, remotePort) {
  const hex = (p) => `:${p.toString(16).toUpperCase().padStart(4, '0')}`;
  for (const line of fs.readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length > 4 && f[1].endsWith(hex(localPort)) && f[2].endsWith(hex(remotePort))) {
      const [tx, rx] = f[4].split(':').map((x) => parseInt(x, 16));
      return { tx, rx };
    }
  }
  return null;
}

/** Connect without reading: the socket is paused before any byte arrives. */
function connectPaused(port) {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.pause();
    socket.once('error', reject);
    socket.once('connect', () => resolve(socket));
  });
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

test(`a client pipelines ${N} requests for files (${N * PAD / 1000} kB of requests, ~20 MB of answers) and reads nothing for ${STALL_MS / 1000} s: tickerd stops reading it and grows by < ${GROWTH_BOUND_KB / 1024} MB, /healthz from another connection answers within ${HEALTHZ_DEADLINE_MS} ms throughout, and then every answer arrives whole and in order`,
  { timeout: 60_000 }, scenario(async (t, h) => {
    const { tickerd } = await h.env({
      args: ['--handshake-timeout', String(HANDSHAKE_TIMEOUT)],
      env: SANITIZED ? { ASAN_OPTIONS: `${process.env.ASAN_OPTIONS || ''}:quarantine_size_mb=16` } : {},
    });
    const port = tickerd.port;
    const host = hostOf(port);
    const request = (p) => buildRequest('GET', p, { host, headers: { 'X-Pad': 'p'.repeat(PAD) } });

    // Each file's answer as tickerd sends it on a kept-alive connection
    // (the same bytes every time: there is no Date header).
    const answers = new Map();
    for (const p of ['/ticker.js', ...OTHERS]) {
      const r = await rawRequest(port, request(p), { closeWaitMs: 0 });
      const file = fs.readFileSync(path.join(WEB_DIR, p === '/' ? 'index.html' : p));
      assert.equal(r.status, 200, `GET ${p}: ${r.headText}`);
      assert.ok(r.body.equals(file), `GET ${p}: the file's bytes`);
      assert.equal((r.headers.connection ?? '').toLowerCase(), 'keep-alive', `GET ${p}: ${r.headText}`);
      answers.set(p, Buffer.concat([Buffer.from(`${r.headText}\r\n\r\n`, 'latin1'), r.body]));
    }
    const paths = Array.from({ length: N }, (_, i) => pathOf(i));
    const expected = Buffer.concat(paths.map((p) => answers.get(p)));
    const requests = Buffer.from(paths.map(request).join(''), 'latin1');

    await sleep(200);
    const rss0 = procStatusKb(tickerd.pid);
    let maxRss = rss0;
    const sample = () => { try { maxRss = Math.max(maxRss, procStatusKb(tickerd.pid)); } catch { /* gone */ } };
    const sampler = setInterval(sample, 20);
    h.defer(() => clearInterval(sampler));

    const s = await connectPaused(port);
    h.defer(() => s.destroy());
    s.on('error', () => { /* reported by what it did not receive */ });
    const t0 = Date.now();
    let writtenAt = null;
    s.write(requests, () => { writtenAt = Date.now() - t0; });
    const cpu0 = processCpuSeconds(tickerd.pid);

    // While it reads nothing: /healthz from a second connection, again and again.
    const healthz = [];
    const healthzFailures = [];
    while (Date.now() - t0 < STALL_MS) {
      const a = Date.now();
      try {
        const r = await rawRequest(port, buildRequest('GET', '/healthz', { host, headers: { Connection: 'close' } }),
          { closeWaitMs: 0, timeoutMs: 5000 });
        healthz.push(Date.now() - a);
        if (r.status !== 200) healthzFailures.push(`HTTP ${r.status} at ${a - t0} ms`);
      } catch (e) {
        healthzFailures.push(`no answer at ${a - t0} ms: ${e.message.split(';')[0]}`);
      }
      await sleep(100);
    }
    sample();
    const cpu = processCpuSeconds(tickerd.pid) - cpu0;
    const rssStalled = maxRss;
    // Where the requests are now: the ones tickerd has not read wait in
    // its socket's receive queue, the client's send queue and node; the
    // answers it wrote, in its socket's send queue, the client's receive
    // queue and node.
    const server = tcpQueues(port, s.localPort);
    const client = tcpQueues(s.localPort, port);
    assert.ok(server && client, `the pipelining connection in /proc/net/tcp (port ${port}, client port ${s.localPort})`);
    const taken = requests.length - (server.rx + client.tx + s.writableLength);
    const delivered = server.tx + client.rx + s.readableLength;
    let answered = 0; // whole answers in the kernel's buffers
    for (let at = 0; answered < N && at + answers.get(paths[answered]).length <= delivered;) at += answers.get(paths[answered++]).length;
    // The requests of those and of the answer being written, and what
    // tickerd read beyond them.
    const requestBytes = (k) => paths.slice(0, k).reduce((n, p) => n + request(p).length, 0);
    const beyond = taken - requestBytes(Math.min(answered + 1, N));

    // Now it reads everything.
    const chunks = [];
    let got = 0;
    s.on('data', (d) => { chunks.push(d); got += d.length; });
    const r0 = Date.now();
    s.resume();
    const deadline = r0 + 30_000;
    while (got < expected.length && !s.destroyed && Date.now() < deadline) await sleep(20);
    const readMs = Date.now() - r0;
    await sleep(300); // anything more than the answers would be here by now
    sample();
    clearInterval(sampler);
    const rss1 = procStatusKb(tickerd.pid);
    const received = Buffer.concat(chunks);

    const said = `${N} requests (${requests.length} bytes, written to the kernel ${writtenAt === null ? 'not all while it did not read' : `after ${writtenAt} ms`}); `
      + `answers ${expected.length} bytes; while it read nothing for ${STALL_MS} ms: tickerd had written ${delivered} bytes of answers `
      + `(${answered} whole ones) and read ${taken} bytes of requests, ${beyond} beyond those answered `
      + `(${server.rx} in its receive queue, ${client.tx} in the client's send queue, ${s.writableLength} in node), `
      + `used ${cpu.toFixed(2)} s of CPU, VmRSS ${rss0} kB before, ${rssStalled} kB max (+${rssStalled - rss0} kB); `
      + `/healthz ${healthz.length} times, median ${median(healthz)} ms, max ${Math.max(...healthz)} ms; `
      + `then ${received.length} bytes read in ${readMs} ms; VmRSS ${maxRss} kB max in all (+${maxRss - rss0} kB), ${rss1} kB after`;
    t.diagnostic(said);

    assert.ok(answered < N / 2, `the kernel's buffers took ${answered} of the ${N} answers: too many for this test to mean anything (raise N); ${said}`);
    assert.ok(maxRss - rss0 < GROWTH_BOUND_KB, `tickerd's RSS grew by ${maxRss - rss0} kB (bound ${GROWTH_BOUND_KB} kB): `
      + `the answers not yet taken seem to be buffered; ${said}`);
    assert.ok(beyond < READ_AHEAD_BOUND, `tickerd read ${beyond} bytes of requests beyond the ${answered + 1} it could answer into the socket `
      + `(bound ${READ_AHEAD_BOUND}): it must stop reading a connection whose answers are not taken; ${said}`);
    assert.deepEqual(healthzFailures, [], `/healthz while a client pipelines without reading: ${said}`);
    assert.ok(Math.max(...healthz) < HEALTHZ_DEADLINE_MS, `/healthz took up to ${Math.max(...healthz)} ms (must be < ${HEALTHZ_DEADLINE_MS}): ${said}`);
    assert.ok(cpu < 0.5, `tickerd used ${cpu.toFixed(2)} s of CPU in ${STALL_MS} ms with one client waiting to read: ${said}`);

    // Every answer, whole and in order, and nothing else.
    if (!received.equals(expected)) {
      let i = 0;
      let at = 0;
      while (i < N && at + answers.get(paths[i]).length <= received.length
        && received.subarray(at, at + answers.get(paths[i]).length).equals(answers.get(paths[i]))) at += answers.get(paths[i++]).length;
      assert.fail(`received ${received.length} bytes, expected ${expected.length}: the first ${i} answers are right; `
        + `${i === N ? `then ${received.length - at} bytes more` : `answer ${i + 1} (GET ${paths[i]}) `
          + `${at >= received.length ? 'never came' : `starts ${JSON.stringify(received.subarray(at, at + 80).toString('latin1'))}`}`}; `
        + `${s.destroyed ? 'the connection was closed' : 'the connection is open'}; ${said}`);
    }
    // The connection goes on.
    assert.ok(!s.destroyed, `the connection was closed after the answers: ${said}`);
    chunks.length = 0;
    s.write(buildRequest('GET', '/healthz', { host }));
    const last = Date.now() + 3000;
    while (!Buffer.concat(chunks).includes('\r\n\r\n') && !s.destroyed && Date.now() < last) await sleep(20);
    assert.match(Buffer.concat(chunks).toString('latin1'), /^HTTP\/1\.1 200 /, 'a request after the pipelined ones is answered');
  }));
