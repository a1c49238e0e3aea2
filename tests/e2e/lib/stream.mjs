// MessageStream: what the WebSocket and EventSource test clients share --
// the received messages, a cursor, and waiting for the next one that matches.

/**
 * A subclass pushes { raw, json, text, ... } entries onto .messages and
 * calls _poke(); when its connection ends it sets .closeCode, resolves
 * .closed and calls _poke(). It provides describe() and _endedText().
 */
export class MessageStream {
  constructor(url) {
    this.url = url;
    /** Every message: { raw: Buffer, json, text, isBinary, at, ... } */
    this.messages = [];
    this.cursor = 0;
    this.closeCode = null;
    this._waiter = null;
    this.closed = new Promise((resolve) => { this._resolveClosed = resolve; });
  }

  /** How the end of this kind of connection reads in an error message. */
  _endedText() {
    return `closed (code ${this.closeCode})`;
  }

  _poke() {
    const w = this._waiter;
    if (!w) return;
    for (let i = this.cursor; i < this.messages.length; i++) {
      const m = this.messages[i];
      if (m.json !== undefined && w.pred(m.json, m)) {
        this.cursor = i + 1;
        this._waiter = null;
        clearTimeout(w.timer);
        this.last = m;
        w.resolve(m.json);
        return;
      }
    }
    if (this.closeCode !== null) {
      this._waiter = null;
      clearTimeout(w.timer);
      w.reject(new Error(`${this.url}: ${this._endedText()} while waiting for ${w.desc}; ${this.describe()}`));
    }
  }

  /**
   * Await the next message (from the cursor on) whose parsed JSON satisfies
   * predicate; non-matching messages are skipped (they stay in .messages).
   * Resolves with the parsed JSON; the matching entry is this.last.
   */
  next(pred = () => true, timeoutMs = 5000, desc = 'a matching message') {
    if (this._waiter) return Promise.reject(new Error(`${this.constructor.name}.next: one wait at a time`));
    return new Promise((resolve, reject) => {
      const w = {
        pred,
        desc,
        resolve,
        reject,
        timer: setTimeout(() => {
          if (this._waiter === w) this._waiter = null;
          reject(new Error(`${this.url}: timed out after ${timeoutMs} ms waiting for ${desc}; ${this.describe()}`));
        }, timeoutMs),
      };
      this._waiter = w;
      this._poke();
    });
  }

  /** Await hello then snapshot (must be the first two messages). */
  async ready(timeoutMs = 5000) {
    const hello = await this.next(() => true, timeoutMs, 'hello');
    const snapshot = await this.next(() => true, timeoutMs, 'snapshot');
    if (hello.type !== 'hello' || snapshot.type !== 'snapshot') {
      throw new Error(`${this.url}: expected hello then snapshot, got ${this.describe()}`);
    }
    this.hello = hello;
    this.snapshot = snapshot;
    this.snapshotIndex = this.cursor; // index of first message after the snapshot
    return { hello, snapshot };
  }

  /** Await an {"type":"item"} whose item.headline === headline. Returns the message. */
  nextItem(headline, timeoutMs = 5000) {
    return this.next((m) => m.type === 'item' && m.item && m.item.headline === headline, timeoutMs,
      `item with headline ${JSON.stringify(headline)}`);
  }

  /** All parsed messages of a given type. */
  ofType(type) {
    return this.messages.filter((m) => m.json && m.json.type === type).map((m) => m.json);
  }
}
