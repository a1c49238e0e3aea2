// Per-test scenario() wrapper (resource teardown, logs on failure) plus fixturesAvailable and uniq.

import fs from 'node:fs';
import { REPO, TICKERD_BIN, FIXTURES } from './config.mjs';
import { startRedis, startTickerd, tickerdAvailable } from './processes.mjs';
import assert from 'node:assert/strict';
import { connect, openWebSocket } from './ws.mjs';
import { publish } from './redis.mjs';
import { connectSSE } from './sse.mjs';

// ---------------------------------------------------------------------------
// Per-test scenario helper: processes created through `h` are torn down by
// t.after hooks; on failure the logs are attached to the error.

/**
 * Wrap a test body: `test('x', scenario(async (t, h) => { ... }))`.
 * h.redis(opts), h.tickerd(opts), h.client(url) create resources that are
 * disposed of in t.after even when the test fails. h.env(opts) starts both.
 */
export function scenario(fn) {
  return async (t) => {
    if (!tickerdAvailable()) {
      // Deliberately a failure, not a skip: an e2e run without the binary
      // must not pass silently.
      throw new Error(`tickerd binary not found at ${TICKERD_BIN} (build it with make -C ${REPO}, or set TICKERD_BIN)`);
    }
    const tickerds = [];
    const redises = [];
    const clients = [];
    const deferred = [];
    t.after(async () => {
      for (const fn of deferred.splice(0).reverse()) {
        try { await fn(); } catch { /* best effort */ }
      }
      for (const c of clients) c.close();
      for (const td of tickerds) await td.stop('SIGTERM', 2000).catch(() => {});
      for (const r of redises) await r.dispose().catch(() => {});
    });
    const h = {
      async redis(opts) {
        const r = await startRedis(opts);
        redises.push(r);
        return r;
      },
      async tickerd(opts) {
        const td = await startTickerd(opts);
        tickerds.push(td);
        return td;
      },
      async client(url, opts) {
        const c = await connect(url, opts);
        clients.push(c);
        return c;
      },
      /** Open a Server-Sent Events stream (see connectSSE); closed at teardown. */
      async sse(port, urlPath, opts) {
        const c = await connectSSE(port, urlPath, opts);
        clients.push(c);
        return c;
      },
      /** Run fn first thing at teardown (before clients and processes go), also on failure. */
      defer(fn) {
        deferred.push(fn);
      },
      /** Start redis + tickerd (extra tickerd opts allowed). */
      async env(opts = {}) {
        const redis = await h.redis(opts.redis);
        const tickerd = await h.tickerd({ redisUrl: redis.url, ...opts });
        return { redis, tickerd };
      },
      tickerds,
      redises,
      clients,
    };
    try {
      await fn(t, h);
    } catch (err) {
      const parts = [];
      for (const td of tickerds) parts.push(`--- tickerd stderr (pid ${td.pid}, args ${td.args.join(' ')}) ---\n${td.log()}`);
      for (const c of clients) parts.push(`--- client ${c.url}: ${c.describe(20)}`);
      const extra = parts.join('\n');
      if (extra) {
        if (err && typeof err === 'object') {
          try {
            err.message = `${err.message}\n${extra}`;
            if (typeof err.stack === 'string') err.stack = `${err.stack}\n${extra}`;
          } catch { /* read-only */ }
        }
      }
      throw err;
    }
  };
}

/** Resolve true if the fixtures folder exists. */
export function fixturesAvailable() {
  return fs.existsSync(FIXTURES) && fs.statSync(FIXTURES).isDirectory();
}

/** Unique-ish suffix so headlines never collide between tests. */
export function uniq(prefix = 'h') {
  return `${prefix}-${process.pid}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}

/**
 * itemPublisher(redis, tag) -> async (k = 1) => headline: publishes k JSON
 * items "<tag>-<n>" on ticker:world, asserting tickerd heard each; resolves
 * with the last headline.
 */
export function itemPublisher(redis, tag) {
  let n = 0;
  return async (k = 1) => {
    for (let i = 0; i < k; i++) {
      n++;
      const got = await publish(redis.port, 'ticker:world', JSON.stringify({ id: `${tag}-${n}`, headline: `${tag} item ${n}` }));
      assert.equal(got, 1, 'tickerd is not subscribed');
    }
    return `${tag} item ${n}`;
  };
}

/** openWebSocket() whose client the scenario h tears down. */
export async function trackedWebSocket(h, url, opts) {
  const r = await openWebSocket(url, opts);
  if (r.client) h.clients.push(r.client);
  return r;
}
