// A publisher that makes numbered attempts at a steady pace until stopped,
// and keeps what each got: the shape SeqPublisher (checker.mjs) and the
// Sentinel and Cluster publishers (redis-sentinel.mjs, redis-cluster.mjs)
// share.

import { setTimeout as sleep } from 'node:timers/promises';

export class PacedPublisher {
  /** opts: { intervalMs = 50, timeoutMs = 1000 (per attempt), first = 1 }. */
  constructor({ intervalMs = 50, timeoutMs = 1000, first = 1 } = {}) {
    this.intervalMs = intervalMs;
    this.timeoutMs = timeoutMs;
    this.nextN = first;
    this.attempts = []; // { n, id, at, done, acked, error?, ... what _send() adds }
    this.running = false;
    this.loop = null;
  }

  /** The item id of attempt n (a subclass says). */
  idOf(n) { return `n-${String(n).padStart(6, '0')}`; }

  /** Make attempt a (a.n): set a.acked when it was acknowledged, or throw. */
  async _send(a) { throw new Error(`${this.constructor.name} has no _send (${a.n})`); }

  start() {
    if (this.running) return this;
    this.running = true;
    this.loop = this._run();
    return this;
  }

  async _run() {
    while (this.running) {
      const n = this.nextN++;
      const a = { n, id: this.idOf(n), at: Date.now(), acked: false };
      this.attempts.push(a);
      try {
        await this._send(a);
      } catch (e) {
        a.error = String(e.message || e);
      }
      a.done = Date.now();
      const wait = this.intervalMs - (a.done - a.at);
      if (wait > 0) await sleep(wait);
    }
  }

  async stop() {
    this.running = false;
    if (this.loop) await this.loop;
  }

  /** Acknowledged attempts started at or after t0 and done before t1. */
  received(t0 = 0, t1 = Infinity) {
    return this.attempts.filter((a) => a.acked && a.at >= t0 && a.done !== undefined && a.done < t1);
  }

  /** " (3x connect ECONNREFUSED N.N.N.N:N; ...)" for the errors seen, or "". */
  errorSummary() {
    const errs = new Map();
    for (const a of this.attempts) {
      if (!a.error) continue;
      const k = a.error.replace(/\d+/g, 'N').slice(0, 60);
      errs.set(k, (errs.get(k) || 0) + 1);
    }
    return errs.size ? ` (${[...errs].map(([k, v]) => `${v}x ${k}`).join('; ')})` : '';
  }
}
