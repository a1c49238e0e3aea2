// Real proxies in front of tickerd: Debian's HAProxy (TCP, PROXY protocol v1
// or v2) and nginx (HTTP, X-Forwarded-For, the usual WebSocket config),
// each with its configuration rendered into a temp folder, on a spare
// loopback port, in the foreground, stopped by pid.

import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort, makeTmpDir, removeTmpDir, spawnTracked, stopTracked } from './processes.mjs';

/** The path of a binary, or null when it is not installed. */
export function binary(name) {
  for (const dir of ['/usr/sbin', '/usr/bin', '/sbin', '/bin']) {
    const p = path.join(dir, name);
    try { fs.accessSync(p, fs.constants.X_OK); return p; } catch { /* next */ }
  }
  try { return execFileSync('which', [name], { encoding: 'utf8' }).trim() || null; } catch { return null; }
}

/** Resolve once something accepts on 127.0.0.1:port (or throw after ms). */
async function waitListening(port, proc, what, ms = 10_000) {
  const deadline = Date.now() + ms;
  for (;;) {
    if (!proc.isRunning()) throw new Error(`${what} exited: ${JSON.stringify(await proc.exited)}\n${proc.stdout()}${proc.stderr()}`);
    const ok = await new Promise((resolve) => {
      const s = net.connect({ host: '127.0.0.1', port });
      s.once('connect', () => { s.destroy(); resolve(true); });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`${what} not listening on ${port} within ${ms} ms\n${proc.stdout()}${proc.stderr()}`);
    await sleep(25);
  }
}

/** Start a process from a rendered config; returns { port, pid, log(), stop() }. */
async function startProxy(what, bin, args, dir, port, logFile) {
  const proc = spawnTracked(bin, args, { cwd: dir });
  const handle = {
    port,
    pid: proc.child.pid,
    dir,
    log: () => proc.stdout() + proc.stderr() + (logFile && fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8') : ''),
    async stop() {
      await stopTracked(proc, 'SIGTERM', 3000);
      removeTmpDir(dir);
    },
  };
  try {
    await waitListening(port, proc, what);
  } catch (e) {
    await handle.stop();
    throw e;
  }
  return handle;
}

/**
 * HAProxy in the foreground (one process, stopped by its pid) in a temp
 * folder, with the configuration text given; ready once 127.0.0.1:port
 * accepts. Returns { port, pid, dir, log(), stop() }.
 */
export async function startHaproxyWith(config, port) {
  const bin = binary('haproxy');
  if (!bin) throw new Error('haproxy is not installed (deploy/install-deps.sh installs it)');
  const dir = makeTmpDir('tickerd-e2e-haproxy-');
  const cfg = path.join(dir, 'haproxy.cfg');
  fs.writeFileSync(cfg, config);
  return startProxy('haproxy', bin, ['-db', '-f', cfg], dir, port);
}

/**
 * HAProxy in TCP mode on a spare port in front of 127.0.0.1:backendPort,
 * sending it a PROXY header: send = 'send-proxy' (v1) or 'send-proxy-v2'.
 */
export async function startHaproxy(backendPort, { send = 'send-proxy' } = {}) {
  const port = await freePort();
  return startHaproxyWith(`global
  maxconn 4096

defaults
  mode tcp
  timeout connect 5s
  timeout client 60s
  timeout server 60s

frontend readers
  bind 127.0.0.1:${port}
  default_backend tickerd

backend tickerd
  server t1 127.0.0.1:${backendPort} ${send}
`, port);
}

/**
 * nginx in the foreground, in a temp folder of its own (pid, logs, temp
 * files), serving the http {} contents http(dir) returns; ready once
 * 127.0.0.1:port accepts. Returns { port, pid, dir, log(), stop() }.
 */
export async function startNginxWith(http, port) {
  const bin = binary('nginx');
  if (!bin) throw new Error('nginx is not installed (deploy/install-deps.sh installs it)');
  const dir = makeTmpDir('tickerd-e2e-nginx-');
  const conf = path.join(dir, 'nginx.conf');
  const errorLog = path.join(dir, 'error.log');
  const isRoot = process.getuid && process.getuid() === 0;
  fs.writeFileSync(conf, `${isRoot ? 'user root root;' : ''}
daemon off;
master_process off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${errorLog} notice;

events {
  worker_connections 2048;
}

http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
${http(dir)}
}
`);
  return startProxy('nginx', bin, ['-p', `${dir}/`, '-c', conf, '-e', errorLog], dir, port, errorLog);
}

/**
 * nginx on a spare port in front of 127.0.0.1:backendPort, as the usual
 * WebSocket guide configures it: HTTP/1.1, Upgrade and Connection passed
 * on, `Host $host` (which drops the port) and X-Forwarded-For appended.
 * extra: more lines for the location (e.g. an X-Forwarded-Host).
 */
export async function startNginx(backendPort, { extra = '' } = {}) {
  const port = await freePort();
  return startNginxWith(() => `
  map $http_upgrade $connection_upgrade {
    default upgrade;
    '' close;
  }

  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://127.0.0.1:${backendPort};
      proxy_http_version 1.1;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection $connection_upgrade;
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_read_timeout 1h;
      ${extra}
    }
  }`, port);
}
