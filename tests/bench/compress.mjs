// compress.mjs: permessage-deflate's figures (run.sh's `compress` scenario,
// or alone): bytes on the wire per delivery for a typical item and for a
// 50-item snapshot, tickerd's CPU per delivery and RSS per idle connection,
// for clients that offer the extension and clients that do not, on one
// tickerd (CPU 0) and a private redis-server, with raw-socket clients here
// (CPU 1) that only read frame headers and count bytes (no inflating: what
// the server does is what is measured).
//
//   node tests/bench/compress.mjs [--clients N] [--items M] [--rate R] [--rounds K]
//
// Prints `RESULT scenario=compress ...` lines and a small table; the
// ratios are deflate / plain.  TICKERD_BIN picks the build.

import net from 'node:net';
import { execFileSync } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  startRedis, startTickerd, publish, publishMany, processCpuSeconds, procStatusKb, wsKey, getMetrics,
} from '../e2e/harness.mjs';

const arg = (name, def) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
};
const N = arg('clients', 5000);
const M = arg('items', 50);
const RATE = arg('rate', 5);
const ROUNDS = arg('rounds', 3);
const OFFER = 'permessage-deflate; client_max_window_bits';

// Headlines as a desk writes them: words drawn at random, so that no two
// items are alike (deflate gains from JSON's names and the words' letters,
// not from repeats).
const WORDS = ('minister budget talks council storm warning flood river rail strike union pay deal court '
  + 'ruling appeal election poll vote leader party markets shares oil price rise fall record heat wave '
  + 'fire crews hospital nurses school teachers police inquiry report city mayor plan housing rents '
  + 'climate summit leaders agree new rules energy bills winter').split(' ');
let seed = 42;
const rnd = (n) => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed % n; };
function item(i) {
  const words = Array.from({ length: 12 }, () => WORDS[rnd(WORDS.length)]);
  const headline = words.join(' ').replace(/^./, (c) => c.toUpperCase());
  return JSON.stringify({
    id: `bench-${i}-${rnd(1e9)}`,
    headline,
    url: `https://news.example/${words[0]}/${words[1]}-${words[2]}-${i}`,
    priority: i % 10 ? 'routine' : 'urgent',
  });
}

/** One raw WebSocket client: counts bytes and text frames (headers only). */
function client(port, offer, counts) {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port });
    const c = { s, bytes: 0, texts: 0, frameBytes: [], head: null, buf: Buffer.alloc(0), need: 0, rsv: 0 };
    s.setNoDelay(true);
    s.on('error', reject);
    s.once('connect', () => s.write(`GET /ws?topics=bench HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n`
      + `Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${wsKey()}\r\n`
      + `Sec-WebSocket-Version: 13\r\n${offer ? `Sec-WebSocket-Extensions: ${offer}\r\n` : ''}\r\n`));
    s.on('data', (d) => {
      if (!c.head) {
        c.buf = Buffer.concat([c.buf, d]);
        const end = c.buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        c.head = c.buf.subarray(0, end).toString('latin1');
        if (!c.head.startsWith('HTTP/1.1 101')) { reject(new Error(c.head)); s.destroy(); return; }
        d = c.buf.subarray(end + 4);
        c.buf = Buffer.alloc(0);
        resolve(c);
      }
      c.bytes += d.length;
      counts.bytes += d.length;
      // Frame headers only: skip payloads without copying them.
      let off = 0;
      while (off < d.length) {
        if (c.need) { const take = Math.min(c.need, d.length - off); c.need -= take; off += take; continue; }
        c.buf = Buffer.concat([c.buf, d.subarray(off, off + 14)]);
        const b = c.buf;
        if (b.length < 2) { off = d.length; break; }
        let len = b[1] & 0x7f, hl = 2;
        if (len === 126) { if (b.length < 4) { off = d.length; break; } len = b.readUInt16BE(2); hl = 4; }
        else if (len === 127) { if (b.length < 10) { off = d.length; break; } len = Number(b.readBigUInt64BE(2)); hl = 10; }
        const used = hl - (b.length - Math.min(14, d.length - off));
        off += Math.max(0, used);
        c.buf = Buffer.alloc(0);
        if ((b[0] & 0x0f) === 1) {
          c.texts++;
          counts.texts++;
          if (c.texts <= 2 || c === counts.probe) c.frameBytes.push({ n: hl + len, rsv: b[0] & 0x40 });
        }
        c.need = len;
      }
    });
  });
}

const median = (a) => {
  const s = [...a].sort((x, y) => x - y);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

async function until(pred, ms, what, poll = null) {
  const t0 = Date.now();
  for (;;) {
    if (poll) await poll();
    if (pred()) return;
    if (Date.now() - t0 > ms) throw new Error(`timed out: ${what}`);
    await sleep(20);
  }
}

/** A fresh tickerd on CPU 0 (so that RSS per connection is not memory freed by the last round). */
async function freshTickerd(redis) {
  const tickerd = await startTickerd({
    redisUrl: redis.url,
    args: ['--max-clients', String(N + 10), '--max-per-ip', String(N + 10), '--log-level', 'warn'],
  });
  try { execFileSync('taskset', ['-pc', '0', String(tickerd.pid)], { stdio: 'ignore' }); } catch { /* no taskset */ }
  // Its history read back from the log: the 50-item snapshot is there.
  let items = 0;
  await until(() => items >= 50, 10_000, 'the history read from the log', async () => {
    items = (await getMetrics(tickerd.port)).value('tickerd_history_items') ?? 0;
  });
  return tickerd;
}

async function main() {
  try { execFileSync('taskset', ['-pc', '1', String(process.pid)], { stdio: 'ignore' }); } catch { /* no taskset */ }
  const redis = await startRedis();
  const out = {};
  let tickerd = null;
  try {
    // The history: 50 items, the snapshot a newcomer gets, recorded in the
    // log by a tickerd (each fresh one reads them back).
    const seeder = await startTickerd({ redisUrl: redis.url });
    await publishMany(redis.port, 'ticker:bench', Array.from({ length: 50 }, (_, i) => item(i)));
    let seeded = 0;
    await until(() => seeded >= 50, 10_000, 'the history recorded', async () => {
      seeded = (await getMetrics(seeder.port)).value('tickerd_history_items') ?? 0;
    });
    await seeder.stop();
    let next = 50;
    const rounds = { plain: [], deflate: [] };
    for (let r = 0; r < ROUNDS; r++) {
      // Alternating which goes first, so that neither gains from its place.
      for (const kind of r % 2 ? ['deflate', 'plain'] : ['plain', 'deflate']) {
        tickerd = await freshTickerd(redis);
        const counts = { bytes: 0, texts: 0, probe: null };
        // One client first: what is made once (the snapshot, a compressor)
        // is not a connection's cost.
        const first = await client(tickerd.port, kind === 'deflate' ? OFFER : null, counts);
        await until(() => counts.texts >= 2, 10_000, `${kind}: the first greeting`);
        await sleep(500);
        const rss0 = procStatusKb(tickerd.pid);
        const clients = [first];
        for (let i = 1; i < N; i += 200) {
          const batch = await Promise.all(Array.from({ length: Math.min(200, N - i) },
            () => client(tickerd.port, kind === 'deflate' ? OFFER : null, counts)));
          clients.push(...batch);
        }
        counts.probe = clients[0];
        await until(() => counts.texts >= 2 * N, 30_000, `${kind}: greetings`);
        await sleep(1000);
        const rss1 = procStatusKb(tickerd.pid);
        if (rss0 === undefined || rss1 === undefined) throw new Error('no VmRSS for tickerd');
        const snap = clients[0].frameBytes[1];
        const bytes0 = counts.bytes;
        const texts0 = counts.texts;
        const cpu0 = processCpuSeconds(tickerd.pid);
        for (let i = 0; i < M; i++) {
          await publish(redis.port, 'ticker:bench', item(next++));
          await sleep(1000 / RATE);
        }
        await until(() => counts.texts - texts0 >= N * M, 60_000, `${kind}: deliveries`);
        const cpu1 = processCpuSeconds(tickerd.pid);
        const deliveries = counts.texts - texts0;
        const itemFrames = clients[0].frameBytes.slice(2);
        const res = {
          snapshot_bytes: snap.n,
          snapshot_rsv1: snap.rsv ? 1 : 0,
          item_bytes: (counts.bytes - bytes0) / deliveries,
          item_rsv1: itemFrames.filter((f) => f.rsv).length / itemFrames.length,
          cpu_us_per_delivery: ((cpu1 - cpu0) * 1e6) / deliveries,
          rss_per_conn_b: ((rss1 - rss0) * 1024) / (N - 1),
          load: execFileSync('cat', ['/proc/loadavg'], { encoding: 'utf8' }).split(' ').slice(0, 3).join(','),
        };
        rounds[kind].push(res);
        console.log(`RESULT scenario=compress kind=${kind} round=${r + 1} clients=${N} items=${M} rate=${RATE} `
          + Object.entries(res).map(([k, v]) => `${k}=${typeof v === 'number' ? +v.toFixed(3) : v}`).join(' '));
        for (const c of clients) c.s.destroy();
        await tickerd.stop();
        tickerd = null;
      }
    }
    for (const kind of ['plain', 'deflate']) {
      out[kind] = {};
      for (const k of ['snapshot_bytes', 'item_bytes', 'cpu_us_per_delivery', 'rss_per_conn_b']) {
        out[kind][k] = median(rounds[kind].map((x) => x[k]));
      }
    }
    const ratio = {};
    for (const k of ['snapshot_bytes', 'item_bytes', 'cpu_us_per_delivery', 'rss_per_conn_b']) {
      ratio[k] = median(rounds.plain.map((p, i) => rounds.deflate[i][k] / p[k]));
    }
    const row = (what, k, unit, target) => {
      const p = out.plain[k], z = out.deflate[k];
      console.log(`compress  ${what.padEnd(34)} ${p.toFixed(2).padStart(10)} ${z.toFixed(2).padStart(10)} ${ratio[k].toFixed(3).padStart(7)} x  ${unit}${target ? `  (target ${target})` : ''}`);
    };
    console.log(`compress  ${'(medians; ratio: of per-round ratios)'.padEnd(34)} ${'plain'.padStart(10)} ${'deflate'.padStart(10)}   ratio`);
    row('bytes per 50-item snapshot', 'snapshot_bytes', 'B', '<= 0.4 x');
    row('bytes per item delivery', 'item_bytes', 'B', '<= 0.8 x');
    row('server CPU per delivery', 'cpu_us_per_delivery', 'us', '<= 1.05 x');
    row('RSS per idle connection', 'rss_per_conn_b', 'B', 'unchanged');
  } finally {
    await tickerd?.stop();
    await redis.dispose();
  }
}

main().catch((e) => { console.error(e); process.exit(1); });
