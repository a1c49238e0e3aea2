// tickerctl, the publishers' tool, run as a shell script would run it: its
// exit status, stdout and stderr; tail kept running and read line by line.

import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { REPO, TICKERD_BIN } from './config.mjs';
import { spawnTracked, stopTracked } from './processes.mjs';

/** Beside the tickerd under test (build/ or build-sanitize/), unless set. */
export const TICKERCTL_BIN = process.env.TICKERCTL_BIN || path.join(path.dirname(TICKERD_BIN), 'tickerctl');

/** Fail, not skip, without the binary: `make build/tickerctl` makes it. */
export function assertTickerctl() {
  try {
    fs.accessSync(TICKERCTL_BIN, fs.constants.X_OK);
  } catch {
    throw new Error(`tickerctl not found at ${TICKERCTL_BIN} (make -C ${REPO} build/tickerctl, or set TICKERCTL_BIN)`);
  }
}

/** The environment without the caller's TICKERD_* (they would change what tickerctl does). */
function ctlEnv(extra = {}) {
  const env = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith('TICKERD_')) delete env[k];
  return { ...env, ...extra };
}

/**
 * Run tickerctl to completion: resolves { code, signal, stdout, stderr }.
 * opts: { env (TICKERD_* and others), input (stdin: string or Buffer), timeoutMs }.
 */
export async function runTickerctl(args, { env = {}, input, timeoutMs = 10_000 } = {}) {
  const p = spawnTracked(TICKERCTL_BIN, args, {
    env: ctlEnv(env), cwd: REPO, stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
  });
  if (input !== undefined) p.child.stdin.end(input);
  const timer = setTimeout(() => { try { process.kill(p.child.pid, 'SIGKILL'); } catch { /* gone */ } }, timeoutMs);
  const res = await p.exited;
  clearTimeout(timer);
  await Promise.race([p.closed, sleep(1000)]);
  return { ...res, stdout: p.stdout(), stderr: p.stderr() };
}

/**
 * Start `tickerctl ...args` (tail) and leave it running. Returns
 * { lines() (stdout so far, by line), waitLine(pred, timeoutMs), stderr(),
 *   stop(signal) -> { code, signal } }.
 */
export function startTickerctl(args, { env = {} } = {}) {
  const p = spawnTracked(TICKERCTL_BIN, args, { env: ctlEnv(env), cwd: REPO });
  const lines = () => p.stdout().split('\n').filter((l) => l !== '');
  return {
    pid: p.child.pid,
    lines,
    stderr: p.stderr,
    isRunning: p.isRunning,
    async waitLine(pred, timeoutMs = 5000) {
      const end = Date.now() + timeoutMs;
      for (;;) {
        const hit = lines().find(pred);
        if (hit !== undefined) return hit;
        if (!p.isRunning() || Date.now() > end) {
          throw new Error(`tickerctl ${args.join(' ')}: no such line after ${timeoutMs} ms` +
            `${p.isRunning() ? '' : ' (it exited)'}; stdout: ${JSON.stringify(lines())}; stderr: ${p.stderr()}`);
        }
        await sleep(25);
      }
    },
    async stop(signal = 'SIGINT') {
      const res = await stopTracked(p, signal, 3000);
      await Promise.race([p.closed, sleep(1000)]);
      return res;
    },
  };
}
