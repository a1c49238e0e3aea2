// feed.js: the connection to tickerd, the client side of the wire protocol.

/** The default URL: /ws on the host that served this script. */
const DEFAULT_SRC = new URL('/ws', import.meta.url).href.replace(/^http/, 'ws');

// A seq is a stream entry id "<ms>-<n>": compare part by part, as numbers.
const seqKey = (s = '') => s.split('-').map((p) => p.padStart(20, '0')).join('-');
const seqCmp = (a, b) => ((a = seqKey(a)) < (b = seqKey(b)) ? -1 : +(a > b));
/** Sort order: newest first by item time, then by seq. */
export const newestFirst = (a, b) => Date.parse(b.time) - Date.parse(a.time) || seqCmp(b.seq, a.seq);

/** An item is its topic and id (ids are per topic); also for a retract or a dataset. */
export const itemKey = ({ topic, id }) => `${topic}/${id}`;

const NAME = /^[\w.-]{1,64}$/; // a topic's, or a screen's

/**
 * TickerFeed: one WebSocket to tickerd and the items it sent (max per topic,
 * none expired), resuming with since=. Callbacks: onitem(item, previous,
 * fromSnapshot), onremove(item), onretract({ id, topic }), onstate(connecting |
 * live | stale | reconnecting | offline), onaccess(message). A named screen
 * reports what it drew; a token goes first on each connection, not in the URL.
 */
export class TickerFeed {
  items = new Map(); // itemKey -> item
  state = 'connecting';
  since = null; // when the connection was lost, or the feed degraded
  #ws = null;
  #retry = null;
  #stale = null;
  #sweep = null;
  #tries = 0;
  #seq = '';
  #sent = 0;
  // Tell tickerd what a named screen shows (at most every 2.5 s).
  #report = () => {
    const ws = this.#ws;
    if (this.screen && ws?.readyState == 1 && Date.now() - this.#sent > 2500) {
      this.#sent = Date.now();
      ws.send(JSON.stringify({ type: 'screen', name: this.screen, seq: this.#seq || null, visible: !document.hidden }));
    }
  };
  // The network is back: try now.
  #wake = () => {
    if (!this.#stale) return;
    this.#tries = 0;
    this.#reconnect(0);
  };

  constructor(url = DEFAULT_SRC, { topics = '', max = 50, staleAfter = 10000, screen, token } = {}) {
    this.url = url;
    this.token = token;
    this.topics = String(topics).split(',').map((t) => t.trim()).filter((t) => NAME.test(t));
    this.screen = NAME.test(screen) && screen;
    this.max = max;
    this.staleAfter = staleAfter;
  }

  /** Open the connection, and keep it open until close(). */
  connect() {
    clearTimeout(this.#retry);
    this.#sweep ??= setInterval(() => this.#expire(this.#report()), 5000);
    addEventListener('online', this.#wake);
    document.addEventListener('visibilitychange', this.#report);
    const query = [this.topics.length && 'topics=' + this.topics, this.#seq && 'since=' + this.#seq].filter(Boolean).join('&');
    const old = this.#ws;
    const ws = (this.#ws = new WebSocket(this.url + (query ? (this.url.includes('?') ? '&' : '?') + query : '')));
    ws.onmessage = (e) => ws === this.#ws && this.#receive(e.data);
    ws.onclose = () => ws === this.#ws && this.#lost();
    ws.onopen = () => this.sendToken(this.token);
    old?.close();
  }

  /** Use this token from now on; sent now if connected. */
  sendToken(token) {
    this.token = token;
    if (token && this.#ws?.readyState == 1) this.#ws.send(JSON.stringify({ type: 'token', token }));
  }

  /** Close for good: no more reconnects, no more callbacks. */
  close() {
    clearTimeout(this.#retry);
    clearTimeout(this.#stale);
    clearInterval(this.#sweep);
    this.#sweep = null;
    removeEventListener('online', this.#wake);
    document.removeEventListener('visibilitychange', this.#report);
    this.#ws?.close();
    this.#ws = null;
  }

  /** All items, newest first. */
  list() {
    return [...this.items.values()].sort(newestFirst);
  }

  /** A new max per topic, applied at once. */
  limit(max) {
    this.max = max;
    this.#trim();
  }

  #receive(text) {
    let m;
    try { m = JSON.parse(text); } catch { return; }
    if (m.type === 'hello') {
      this.#tries = 0;
      clearTimeout(this.#stale);
      this.#stale = 0;
      m = { state: 'ok', ...m.feed }; // then as a feed message
    }
    if (m.state) {
      this.since = m.state === 'degraded' ? new Date(m.since) : null;
      this.#setState(this.since ? 'stale' : 'live');
    } else if (m.type === 'snapshot') { // all there is
      const keys = new Set(m.items.map(itemKey));
      for (const key of this.items.keys()) if (!keys.has(key)) this.#remove(key);
      for (const item of m.items) this.#put(item, true);
      this.#seen(m.seq);
      this.#report();
    } else if (m.type === 'item') {
      this.#put(m.item, false);
    } else if (m.type === 'retract') {
      this.#seen(m.seq);
      this.#remove(itemKey(m)); // that topic's item only
      this.onretract?.({ id: m.id, topic: m.topic });
    } else if (m.type === 'access') this.onaccess?.(m);
  }

  #seen(seq) {
    if (seq) this.#seq = seq;
  }

  // Add or replace an item; an older or equal version changes nothing.
  #put(item, fromSnapshot) {
    this.#seen(item.seq);
    const key = itemKey(item);
    const old = this.items.get(key);
    if (old && (item.version || 1) <= (old.version || 1)) return;
    if (item.expires && Date.parse(item.expires) < Date.now()) return void (old && this.#remove(key));
    this.items.set(key, item);
    this.onitem?.(item, old, fromSnapshot);
    this.#trim();
  }

  // Past max in a topic, past 20 * max in all.
  #trim() {
    const count = {};
    this.list().forEach((i, n) => {
      count[i.topic] = (count[i.topic] || 0) + 1;
      if (count[i.topic] > this.max || n >= this.max * 20) this.#remove(itemKey(i));
    });
  }

  #remove(key) {
    const item = this.items.get(key);
    if (item && this.items.delete(key)) this.onremove?.(item);
  }

  #expire() {
    for (const [key, i] of this.items) if (i.expires && Date.parse(i.expires) < Date.now()) this.#remove(key);
  }

  #setState(s) {
    this.state = s;
    this.onstate?.(s);
  }

  #lost() {
    if (!this.#stale) { // first failure: offline in staleAfter ms
      this.since = new Date();
      this.#setState('reconnecting');
      this.#stale = setTimeout(() => this.#setState('offline'), this.staleAfter);
    }
    // 0.5 s, 1 s, 2 s ... 30 s, each a random 50-100 % of it.
    this.#reconnect(Math.min(30000, 500 * 2 ** this.#tries++) * (0.5 + Math.random() / 2));
  }

  #reconnect(delay) {
    if (!this.#ws) return;
    clearTimeout(this.#retry);
    this.#retry = setTimeout(() => this.connect(), delay);
  }
}
