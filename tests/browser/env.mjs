// Browser test environment: a real redis-server and a real tickerd (serving
// web/) on spare ports, and headless Chromium driven by playwright-core.
//
// One stack per test file: `const env = await startStack()` in before(),
// `await env.stop()` in after() (which runs on failure too). Every process is
// ours, started here and stopped by its pid.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { chromium } from 'playwright-core';
import {
  FIXTURES, REPO, TICKERD_BIN, WEB_DIR, freePort, redisCommands, RedisError, startRedis, tickerdAvailable,
  waitForHealth,
} from '../e2e/harness.mjs';

export { FIXTURES, REPO };
export const ARTIFACTS = path.join(REPO, 'tests', 'artifacts');
export const CHROMIUM = process.env.CHROMIUM_BIN || '/usr/bin/chromium';

const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** Launch headless Chromium (Debian's; nothing is downloaded). */
export function launchBrowser() {
  if (!fs.existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_BIN)`);
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
}

/**
 * tickerd on a fixed port, so that it can be stopped and started again where
 * the browser expects it (which is why this is not the e2e harness's
 * startTickerd: that picks a new port each time). `args` are added to the
 * command line. stop() sends SIGTERM (SIGKILL after 3 s).
 */
function tickerdOn(port, redisUrl, args = []) {
  let child = null;
  let log = '';
  const api = {
    port,
    url: `http://127.0.0.1:${port}`,
    log: () => log,
    async start() {
      const c = (child = spawn(TICKERD_BIN,
        ['--listen', `127.0.0.1:${port}`, '--redis', redisUrl, '--web', WEB_DIR, ...args],
        { stdio: ['ignore', 'ignore', 'pipe'] }));
      c.stderr.on('data', (d) => { log += d; });
      c.exited = new Promise((resolve) => c.on('exit', resolve));
      await waitForHealth(port, (h) => h.status === 200, { timeoutMs: 10_000, what: 'tickerd up' })
        .catch((e) => { e.message += `\n--- tickerd stderr ---\n${log}`; throw e; });
    },
    async stop() {
      const c = child;
      child = null;
      if (!c || c.exitCode !== null || c.signalCode !== null) return;
      c.kill('SIGTERM');
      const timer = setTimeout(() => c.kill('SIGKILL'), 3000);
      await c.exited;
      clearTimeout(timer);
    },
  };
  return api;
}

/**
 * Start redis-server, two sites for test pages, tickerd and Chromium. tickerd
 * refuses WebSocket and EventSource handshakes from pages on origins it does
 * not list: it is started with `--allow-origin <env.site's origin>` (plus
 * `tickerdArgs`), so env.site is a site that embeds the ticker and
 * env.elsewhere one that tickerd does not know. Returns
 * { redis, tickerd, browser, site, elsewhere, publish(topic, payload),
 *   burst(commands), page(t, opts), serve(t, body, site), host(t, html, opts),
 *   open(t, body, opts), stop() }.
 */
export async function startStack({ tickerdArgs = [] } = {}) {
  if (!tickerdAvailable()) throw new Error(`tickerd binary not found at ${TICKERD_BIN}: make -C ${REPO}`);
  const env = { redis: null, tickerd: null, browser: null, site: null, elsewhere: null };
  env.stop = async () => {
    await env.browser?.close().catch(() => {});
    await env.site?.close();
    await env.elsewhere?.close();
    await env.tickerd?.stop().catch(() => {});
    await env.redis?.dispose().catch(() => {});
  };
  try {
    env.pages = new Map();
    env.site = await serveHtml((req) => env.pages.get(req.url));
    env.elsewhere = await serveHtml((req) => env.pages.get(req.url));
    env.redis = await startRedis();
    env.tickerd = tickerdOn(await freePort(), env.redis.url, ['--allow-origin', env.site.origin, ...tickerdArgs]);
    await env.tickerd.start();
    env.browser = await launchBrowser();
  } catch (e) {
    await env.stop();
    throw e;
  }

  /** PUBLISH ticker:<topic> <payload>; payload objects are sent as JSON. */
  env.publish = async (topic, payload) => {
    const body = typeof payload === 'string' ? payload : JSON.stringify(payload);
    const [n] = await redisCommands(env.redis.port, [['PUBLISH', `ticker:${topic}`, body]]);
    if (n instanceof RedisError) throw n;
    return n;
  };

  /** Many commands, pipelined on one connection; resolves with their replies. */
  env.burst = (commands) => redisCommands(env.redis.port, commands, { timeoutMs: 20_000 });

  /**
   * A new page in its own context (Paris time, English UI by default);
   * closed by the caller's t.after. Page errors are collected in page.errors.
   */
  env.page = async (t, opts = {}) => {
    const context = await env.browser.newContext({ timezoneId: 'Europe/Paris', locale: 'en-GB', ...opts });
    t.after(() => context.close().catch(() => {}));
    const page = await context.newPage();
    page.errors = [];
    page.on('pageerror', (e) => page.errors.push(e));
    return page;
  };

  /**
   * The URL of a test page holding `body`, served from a plain node http
   * server (a different origin from tickerd, as on a site that embeds the
   * ticker: env.site, which tickerd lists, unless `site` says otherwise) and
   * loading ticker.js from tickerd. Removed by the caller's t.after.
   */
  env.serve = (t, body, site = env.site) => env.host(t, testPage(body, `${env.tickerd.url}/ticker.js`), { site });

  /**
   * The URL of a page that is exactly `html`, on `site` (env.site unless
   * told), sent with the extra response `headers` (a Content-Security-Policy,
   * say). Removed by the caller's t.after.
   */
  env.host = (t, html, { site = env.site, headers = {} } = {}) => {
    const name = `${uniq('page')}.html`;
    env.pages.set(`/${name}`, { html, headers });
    t.after(() => env.pages.delete(`/${name}`));
    return site.url + name;
  };

  /** A new page showing env.serve(t, body, opts.site); the other opts are the context's. */
  env.open = async (t, body, { site, ...opts } = {}) => {
    const page = await env.page(t, opts);
    await page.goto(env.serve(t, body, site));
    return page;
  };
  return env;
}

/** A minimal page that loads ticker.js and holds `body`. */
export const testPage = (body, src = '/ticker.js') => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>test</title>
<style>body{margin:0;background:#fff;font-family:Arial,sans-serif}</style>
<script type="module" src="${src}"></script></head><body>${body}</body></html>`;

/**
 * A plain node http server on a spare port; page(req) returns the html for a
 * request (a string, or { html, headers } to send more headers), or undefined
 * for 404. Resolves { url, origin, close() }.
 */
export async function serveHtml(page) {
  const server = http.createServer((req, res) => {
    const found = page(req);
    const { html, headers = {} } = typeof found === 'string' ? { html: found } : found ?? {};
    res.writeHead(html === undefined ? 404 : 200, { 'content-type': 'text/html; charset=utf-8', ...headers });
    res.end(html ?? 'not found');
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}/`,
    origin: `http://127.0.0.1:${server.address().port}`,
    close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(resolve); }),
  };
}

/** Wait until the ticker's connection state is `state` (live, reconnecting, offline). */
export function waitState(page, state, timeout = 5000, sel = 'news-ticker') {
  return page.waitForFunction(([s, st]) => document.querySelector(s)?.shadowRoot
    ?.querySelector('.bar')?.dataset.state === st, [sel, state], { timeout });
}

/** Poll until locator's text is `want`, any space matching any space (Intl puts U+00A0 in places). */
export async function waitText(locator, want, timeout = 2000) {
  const end = Date.now() + timeout;
  let got;
  for (;;) {
    got = await locator.textContent({ timeout: Math.max(1, end - Date.now()) }).catch((e) => `(${e.message})`);
    if (got.replace(/\s/g, ' ') === want) return;
    if (Date.now() > end) throw new Error(`expected text ${JSON.stringify(want)}, last saw ${JSON.stringify(got)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Unique names so tests never see each other's items. */
let n = 0;
export const uniq = (p) => `${p}-${process.pid}-${++n}`;

/** Save a screenshot into tests/artifacts/. */
export async function shoot(target, name) {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  await target.screenshot({ path: path.join(ARTIFACTS, name) });
}

/** Read the shared French fixture, or null when the fixtures folder is absent. */
export function frenchFixture() {
  const file = path.join(FIXTURES, '000_8e6ad587408bc601.txt');
  return fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : null;
}
