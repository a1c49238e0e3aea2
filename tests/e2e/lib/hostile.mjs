// After a hostile episode: is tickerd alive and still correct? The checks
// the hostile-clients tests share: the process runs, /healthz answers 200,
// a fresh WebSocket client gets an item published now, its stderr holds no
// crash or sanitizer text, and the file descriptors it holds come back to
// a baseline (nothing leaked by the clients that vanished).

import fs from 'node:fs';
import assert from 'node:assert/strict';
import { getHealth } from './metrics.mjs';
import { openWebSocket } from './ws.mjs';
import { publish } from './redis.mjs';

/** What a crash or a sanitizer report leaves on stderr. */
export const CRASH_RE = /AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|runtime error:|SUMMARY: |Segmentation fault|Assertion .* failed|double free|stack smashing|Aborted/;

/** Open file descriptors of pid (Linux /proc). */
export function fdCount(pid) {
  return fs.readdirSync(`/proc/${pid}/fd`).length;
}

/**
 * Wait until pid holds at most baseline + slack descriptors (the clients
 * that left are let go); fails after timeoutMs naming the count.
 */
export async function waitFdsBack(pid, baseline, { slack = 2, timeoutMs = 10_000, what = 'descriptors' } = {}) {
  const deadline = Date.now() + timeoutMs;
  let n;
  for (;;) {
    n = fdCount(pid);
    if (n <= baseline + slack) return n;
    if (Date.now() > deadline) assert.fail(`${what}: tickerd holds ${n} file descriptors ${timeoutMs} ms later; baseline ${baseline} (+${slack})`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * The server is alive and correct after `episode`: running, /healthz 200,
 * a fresh WebSocket reader of `topic` gets an item published on Redis now,
 * and nothing on stderr looks like a crash. Resolves the item received.
 */
export async function assertAlive(h, redis, tickerd, episode, { topic = 'world' } = {}) {
  assert.ok(tickerd.isRunning(), `${episode}: tickerd exited: ${JSON.stringify(await Promise.race([tickerd.exited, 0]))}`);
  const health = await getHealth(tickerd.port);
  assert.equal(health.status, 200, `${episode}: /healthz ${health.status} ${health.text}`);
  const o = await openWebSocket(tickerd.wsUrl(`?topics=${topic}`));
  assert.equal(o.status, 101, `${episode}: a fresh reader was refused: ${o.status} ${o.body}`);
  h.clients.push(o.client);
  await o.client.ready();
  const id = `alive-${Math.random().toString(36).slice(2, 10)}`;
  await publish(redis.port, `ticker:${topic}`, JSON.stringify({ id, headline: `After ${episode}` }));
  const got = await o.client.next((m) => m.type === 'item' && m.item.id === id, 10_000, `the item published after ${episode}`);
  o.client.close();
  assert.doesNotMatch(tickerd.log(), CRASH_RE, `${episode}: crash text on tickerd's stderr`);
  assert.ok(tickerd.isRunning(), `${episode}: tickerd exited`);
  return got;
}
