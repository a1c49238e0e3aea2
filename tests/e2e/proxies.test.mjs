// tickerd behind Debian's nginx, configured with deploy/nginx/tickerd.conf
// (only addresses and paths replaced): TLS at nginx (https:// and wss://,
// with a certificate made here), the page's WebSocket on a port other than
// 443, and EventSource through nginx's default buffering.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import https from 'node:https';
import http from 'node:http';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import WebSocket from 'ws';
import { scenario, publish, uniq, freePort, makeTmpDir, removeTmpDir, connectSSE, REPO, WEB_DIR } from './harness.mjs';
import { startNginxWith } from './lib/proxy-servers.mjs';

const SITE = path.join(REPO, 'deploy', 'nginx', 'tickerd.conf');

/** A self-signed certificate for 127.0.0.1 in dir: { cert, key, pem }. */
function makeCertificate(dir) {
  const cert = path.join(dir, 'cert.pem');
  const key = path.join(dir, 'key.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1',
    '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=127.0.0.1',
    '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
  return { cert, key, pem: fs.readFileSync(cert) };
}

/**
 * deploy/'s site with this test's addresses and paths in it: upstreams,
 * listening ports (loopback only), certificate.
 */
function renderSite({ upstreams, httpPort, tlsPort, cert, key }) {
  let site = fs.readFileSync(SITE, 'utf8');
  const servers = upstreams.map((p) => `server 127.0.0.1:${p};`).join('\n    ');
  site = site.replace(/server 127\.0\.0\.1:8080;\s*server 127\.0\.0\.1:8081;/, servers);
  site = site.replace(/^\s*listen \[::\]:\d+.*$/gm, '');
  site = site.replace('listen 80;', `listen 127.0.0.1:${httpPort};`);
  site = site.replace('listen 443 ssl;', `listen 127.0.0.1:${tlsPort} ssl;`);
  site = site.replace('/etc/ssl/certs/news.example.pem', cert);
  site = site.replace('/etc/ssl/private/news.example.key', key);
  for (const what of ['8080', '8081', 'listen 80', 'listen 443', 'news.example.pem', 'news.example.key']) {
    assert.ok(!site.includes(what), `deploy/nginx/tickerd.conf changed: "${what}" was not replaced`);
  }
  return site;
}

/** nginx serving deploy/'s site (rendered) in front of upstreams. */
async function startSite(h, upstreams, tls) {
  const httpPort = await freePort();
  const tlsPort = await freePort();
  const site = renderSite({ upstreams, httpPort, tlsPort, ...tls });
  const nginx = await startNginxWith((dir) => {
    fs.writeFileSync(path.join(dir, 'site.conf'), site);
    return `  include ${dir}/site.conf;`;
  }, tlsPort);
  h.defer(() => nginx.stop());
  return { httpPort, tlsPort };
}

/** A GET over TLS (ca: the PEM to trust); { status, headers, body }. */
function httpsGet(port, urlPath, ca, headers = {}) {
  return new Promise((resolve, reject) => {
    const req = https.get({ host: '127.0.0.1', port, path: urlPath, ca, agent: false, headers }, (res) => {
      const chunks = [];
      res.on('data', (d) => chunks.push(d));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.setTimeout(5000, () => req.destroy(new Error(`GET ${urlPath}: timeout`)));
  });
}

/** A plain GET; { status, headers }. */
function httpGetHead(port, urlPath) {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: urlPath, agent: false, headers: { Host: `127.0.0.1:${port}` } }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers }));
    });
    req.on('error', reject);
  });
}

/** Everything a test through nginx needs: Redis, two tickerd, nginx, a CA. */
async function site(h) {
  const redis = await h.redis();
  const args = ['--trusted-proxy', '127.0.0.1'];
  const tds = [await h.tickerd({ redisUrl: redis.url, args }), await h.tickerd({ redisUrl: redis.url, args })];
  const dir = makeTmpDir('tickerd-nginx-');
  h.defer(() => removeTmpDir(dir));
  const tls = makeCertificate(dir);
  const nginx = await startSite(h, tds.map((td) => td.port), tls);
  return { redis, tds, nginx, ca: tls.pem };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

test('through nginx (deploy/nginx/tickerd.conf): https:// serves the page and ticker.js, http:// redirects, wss:// on a non-default port is accepted with the page\'s own Origin and delivers', { timeout: 30_000 }, scenario(async (t, h) => {
  const { redis, nginx, ca } = await site(h);
  const page = await httpsGet(nginx.tlsPort, '/', ca);
  assert.equal(page.status, 200);
  const js = await httpsGet(nginx.tlsPort, '/ticker.js', ca);
  assert.equal(js.status, 200);
  assert.ok(js.body.equals(fs.readFileSync(path.join(WEB_DIR, 'ticker.js'))), 'ticker.js arrives whole through nginx');
  const health = await httpsGet(nginx.tlsPort, '/healthz', ca);
  assert.equal(health.status, 200, health.body.toString());
  const redirect = await httpGetHead(nginx.httpPort, '/x');
  assert.equal(redirect.status, 301);
  assert.match(redirect.headers.location, /^https:\/\/127\.0\.0\.1/);

  const origin = `https://127.0.0.1:${nginx.tlsPort}`;
  const ws = new WebSocket(`wss://127.0.0.1:${nginx.tlsPort}/ws?topics=world`, { ca, origin, perMessageDeflate: false });
  h.defer(() => ws.terminate());
  const got = [];
  ws.on('message', (d) => got.push(JSON.parse(d.toString())));
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('unexpected-response', (req, res) => reject(new Error(`wss:// refused: HTTP ${res.statusCode}`)));
    ws.once('error', reject);
  });
  const u = uniq();
  await sleep(100);
  assert.equal(await publish(redis.port, 'ticker:world', `Through TLS ${u}`), 2);
  const deadline = Date.now() + 5000;
  while (!got.some((m) => m.type === 'item') && Date.now() < deadline) await sleep(20);
  assert.deepEqual(got.map((m) => m.type), ['hello', 'snapshot', 'item']);
  assert.equal(got[2].item.headline, `Through TLS ${u}`);

  // Another site's page is still refused through the proxy.
  const other = new WebSocket(`wss://127.0.0.1:${nginx.tlsPort}/ws`, { ca, origin: 'https://evil.example', perMessageDeflate: false });
  h.defer(() => other.terminate());
  const status = await new Promise((resolve) => {
    other.once('unexpected-response', (req, res) => resolve(res.statusCode));
    other.once('open', () => resolve(101));
    other.once('error', () => resolve('error'));
  });
  assert.equal(status, 403);
}));

test('EventSource through nginx\'s default buffering (deploy/ site, no proxy_buffering off): each event arrives at once, as directly', { timeout: 30_000 }, scenario(async (t, h) => {
  const { redis, tds, nginx, ca } = await site(h);
  const direct = await connectSSE(tds[0].port, '/events?topics=world');
  h.defer(() => direct.close());
  const proxied = await connectSSE(nginx.tlsPort, '/events?topics=world', { ca });
  h.defer(() => proxied.close());
  assert.equal(proxied.status, 200);
  assert.match(proxied.headers['content-type'], /^text\/event-stream/);
  await direct.next((m) => m && m.type === 'snapshot', 5000, 'snapshot (direct)');
  await proxied.next((m) => m && m.type === 'snapshot', 5000, 'snapshot (through nginx)');
  const lat = { direct: [], proxied: [] };
  for (let i = 0; i < 7; i++) {
    const headline = `Event ${i} ${uniq()}`;
    const at = Date.now();
    await publish(redis.port, 'ticker:world', headline);
    const [a, b] = await Promise.all([
      direct.next((m) => m && m.type === 'item' && m.item.headline === headline, 5000, headline),
      proxied.next((m) => m && m.type === 'item' && m.item.headline === headline, 5000, `${headline} through nginx`),
    ]);
    assert.ok(a && b);
    lat.direct.push(direct.last.at - at);
    lat.proxied.push(proxied.last.at - at);
    await sleep(100);
  }
  t.diagnostic(`EventSource latency (ms), direct: ${lat.direct.join(' ')}; through nginx: ${lat.proxied.join(' ')}`);
  // Buffered, the first event would wait for 4-8 KiB more (seconds, or
  // for ever on a quiet feed).
  assert.ok(Math.max(...lat.proxied) < 1000, `an event waited ${Math.max(...lat.proxied)} ms in nginx`);
  assert.ok(median(lat.proxied) < 100, `median ${median(lat.proxied)} ms through nginx`);
}));
