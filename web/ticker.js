// ticker.js: the <news-ticker> element for tickerd, and the connection and
// item rendering that the wall display (wall.html) shares. No dependencies,
// no build step. Headlines reach the page as text nodes and attributes only.
//
//   <script type="module" src="https://ticker.example.org/ticker.js"></script>
//   <news-ticker topics="breaking,world" lang="fr"></news-ticker>
//
// Attributes: topics (comma-separated; default all), lang (interface language),
//   src (WebSocket URL; default /ws on the host that served this file),
//   max-items (per topic, default 30), flash-timeout (seconds a flash holds
//   the bar, default 60; 0 = until dismissed).
// Theme with CSS custom properties on the element: --ticker-bg, --ticker-fg,
//   --ticker-muted, --ticker-accent (bulletin), --ticker-urgent,
//   --ticker-flash-bg, --ticker-flash-fg, --ticker-font, --ticker-font-size,
//   --ticker-height, --ticker-radius, --ticker-speed (pixels per second);
//   or style its parts: ::part(bar | state | toggle | track | flash).

const RTL = /^(ar|he|iw|fa|ur|ps|yi|dv|ckb)\b/i;

/** The default WebSocket URL: /ws on the host that served this script. */
export const DEFAULT_SRC = (() => {
  const u = new URL('/ws', import.meta.url);
  u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
  return u.href;
})();

// The words around the headlines, per language; English fills any gap.
const WORDS = {
  en: { flash: 'Flash', bulletin: 'Bulletin', urgent: 'Urgent', live: 'Live', connecting: 'Connecting…',
    reconnecting: 'Reconnecting…', offline: 'Offline since', premium: 'Subscribers', related: 'Related',
    pause: 'Pause the ticker', play: 'Play the ticker', dismiss: 'Dismiss', region: 'Latest news',
    stale: 'headlines may be out of date' },
  fr: { bulletin: 'Alerte', live: 'En direct', connecting: 'Connexion…', reconnecting: 'Reconnexion…',
    offline: 'Hors ligne depuis', premium: 'Abonnés', related: 'Lire aussi', pause: 'Mettre en pause',
    play: 'Reprendre le défilement', dismiss: 'Fermer', region: 'Dernières infos',
    stale: 'les titres peuvent être périmés' },
  de: { flash: 'Eilmeldung', bulletin: 'Meldung', urgent: 'Dringend', live: 'Live', connecting: 'Verbinde…',
    reconnecting: 'Verbinde neu…', offline: 'Offline seit', premium: 'Abo', related: 'Mehr dazu',
    pause: 'Anhalten', play: 'Fortsetzen', dismiss: 'Schließen', region: 'Neueste Meldungen',
    stale: 'Meldungen evtl. veraltet' },
  es: { flash: 'Última hora', bulletin: 'Boletín', live: 'En directo', connecting: 'Conectando…',
    reconnecting: 'Reconectando…', offline: 'Sin conexión desde', premium: 'Suscriptores',
    related: 'Relacionado', pause: 'Pausar', play: 'Reanudar', dismiss: 'Cerrar', region: 'Últimas noticias',
    stale: 'los titulares pueden estar desactualizados' },
  ar: { flash: 'عاجل', bulletin: 'نشرة', urgent: 'هام', live: 'مباشر', connecting: 'جارٍ الاتصال…',
    reconnecting: 'جارٍ إعادة الاتصال…', offline: 'غير متصل منذ', premium: 'للمشتركين', related: 'ذو صلة',
    pause: 'إيقاف مؤقت', play: 'تشغيل', dismiss: 'إغلاق', region: 'آخر الأخبار',
    stale: 'قد تكون العناوين قديمة' },
};

/** The interface words for a language tag ("fr-CA" -> French). */
export function words(lang = 'en') {
  return { ...WORDS.en, ...WORDS[lang.slice(0, 2).toLowerCase()] };
}

/** "rtl" for right-to-left languages, else "ltr". */
export const dirOf = (lang) => (RTL.test(lang || '') ? 'rtl' : 'ltr');

const formats = new Map();
// One cached Intl formatter per language and kind.
function fmt(lang, kind) {
  const key = lang + kind;
  if (formats.size > 200) formats.clear(); // language tags come from publishers: stay bounded
  if (!formats.has(key)) {
    let f;
    try {
      f = kind === 'rel' ? new Intl.RelativeTimeFormat(lang, { numeric: 'auto', style: 'short' })
        : new Intl.DateTimeFormat(lang, kind === 'date' ? { dateStyle: 'full' } : { timeStyle: 'short' });
    } catch { f = fmt('en', kind); }
    formats.set(key, f);
  }
  return formats.get(key);
}

/** "09:30" in the reader's time zone, in the given language. */
export const clock = (date, lang) => fmt(lang, 'time').format(date);

/** The full date and time, "mardi 24 juin 2025, 09:30". */
export function fullDate(date, lang) {
  return fmt(lang, 'date').format(date) + (/^(ar|fa|ur)/.test(lang) ? '، ' : ', ') + clock(date, lang);
}

const UNITS = [['year', 31536e3], ['month', 2592e3], ['week', 604800], ['day', 86400], ['hour', 3600], ['minute', 60]];

/** A relative age, "il y a 5 min"; "now" under a minute. */
export function age(date, lang, now = Date.now()) {
  const s = Math.min(0, (date - now) / 1000);
  for (const [unit, n] of UNITS) if (-s >= n) return fmt(lang, 'rel').format(Math.round(s / n), unit);
  return fmt(lang, 'rel').format(0, 'second');
}

/**
 * Write a <time> element's text for its datetime: the time alone for today's
 * items, the full date otherwise, then the relative age. Call it again to
 * keep the age current.
 */
export function fillTime(el, lang = el.closest('[lang]')?.lang || 'en', now = new Date()) {
  const d = new Date(el.dateTime);
  const today = d.toDateString() === now.toDateString();
  el.title = fullDate(d, lang);
  el.replaceChildren(h('span', { class: 'at' }, today ? clock(d, lang) : el.title), ' · ',
    h('span', { class: 'age' }, age(d, lang, now)));
}

/** Refresh every time element under root (once a minute or so). */
export function refreshTimes(root) {
  const now = new Date();
  for (const t of root.querySelectorAll('time')) fillTime(t, undefined, now);
}

/** Create an element; attributes with null/false values are left out; strings become text nodes. */
export function h(tag, attrs = {}, ...kids) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) if (v != null && v !== false) el.setAttribute(k, v === true ? '' : v);
  el.append(...kids.filter((k) => k != null && k !== false && k !== ''));
  return el;
}

const safeUrl = (u) => (/^https?:\/\//i.test(u || '') ? u : null);
const link = (text, url, cls) => h(safeUrl(url) ? 'a' : 'span', { class: cls, href: safeUrl(url) }, text);

/** The highlighted label of a flash, bulletin or urgent item (none for routine). */
export const labelOf = (item, lang) => (item.priority === 'routine' ? '' : item.label || words(lang)[item.priority]);

/** What a screen reader says for an item. */
export const spoken = (item) => [labelOf(item, item.lang || 'en'), item.headline].filter(Boolean).join(': ');

/**
 * Fill el with one item: label, time, headline (a link when it has a url),
 * subscriber badge, source and related headlines. el keeps its identity, so a
 * correction re-rendered into it stays where it stands.
 */
export function renderItem(el, item, ui = 'en') {
  const lang = item.lang || ui;
  const w = words(lang);
  el.lang = lang;
  el.dir = dirOf(lang);
  el.dataset.id = item.id;
  el.dataset.topic = item.topic;
  el.dataset.priority = item.priority;
  const rel = (item.related || []).filter((r) => r && r.headline);
  el.replaceChildren(...[
    labelOf(item, lang) && h('span', { class: 'label' }, labelOf(item, lang)),
    h('time', { datetime: item.time }),
    link(item.headline, item.url, 'headline'),
    item.premium && h('span', { class: 'premium' }, w.premium),
    item.source && h('span', { class: 'source' }, item.source),
    rel.length && h('span', { class: 'related' }, h('span', { class: 'rel-label' }, w.related),
      ...rel.map((r) => h('span', {}, link(r.headline, r.url), r.premium && h('span', { class: 'premium' }, w.premium)))),
  ].filter(Boolean));
  fillTime(el.querySelector('time'), lang);
}

// A seq is a stream entry id "<ms>-<n>": compare part by part, as numbers.
const seqKey = (s = '') => s.split('-').map((p) => p.padStart(20, '0')).join('-');
const seqCmp = (a, b) => { const x = seqKey(a), y = seqKey(b); return x < y ? -1 : x > y ? 1 : 0; };
/** Sort order: newest first by item time, then by seq. */
export const newestFirst = (a, b) => Date.parse(b.time) - Date.parse(a.time) || seqCmp(b.seq, a.seq);

/**
 * An item is known by its topic and id together (ids are per topic): the same
 * id on another topic is another item. Also works on a retract message and on
 * an element's dataset (renderItem sets data-topic and data-id).
 */
export const itemKey = ({ topic, id }) => `${topic}/${id}`;

/**
 * TickerFeed: one WebSocket to tickerd and the items it has sent, merged by
 * topic and id (itemKey). Set onitem(item, previous, fromSnapshot),
 * onremove(item) and onstate(state) before connect(). state is connecting | live | reconnecting | offline;
 * offlineSince is when the connection was lost. Reconnects with exponential
 * backoff and jitter, resuming with since=<last seq>. Keeps at most max
 * items per topic and 20 * max in all (the oldest go first), and drops items
 * past their expires time.
 */
export class TickerFeed {
  items = new Map(); // itemKey -> item
  state = 'connecting';
  offlineSince = null;
  #ws = null;
  #retry = null;
  #stale = null;
  #sweep = null;
  #tries = 0;
  #seq = '';
  // The browser says the network is back: try now rather than at the next backoff step.
  #wake = () => {
    if (this.state === 'live') return;
    this.#tries = 0;
    this.#reconnect(0);
  };

  constructor(url = DEFAULT_SRC, { topics = '', max = 50, staleAfter = 10000 } = {}) {
    this.url = url;
    this.topics = String(topics).split(',').map((t) => t.trim()).filter((t) => /^[\w.-]{1,64}$/.test(t));
    this.max = max;
    this.staleAfter = staleAfter;
  }

  /** Open the connection (and keep it open until close()). */
  connect() {
    clearTimeout(this.#retry);
    this.#sweep ??= setInterval(() => this.#expire(), 15000);
    addEventListener('online', this.#wake);
    const q = [this.topics.length && 'topics=' + this.topics.join(','), this.#seq && 'since=' + this.#seq];
    const query = q.filter(Boolean).join('&');
    const old = this.#ws;
    const ws = (this.#ws = new WebSocket(this.url + (query ? (this.url.includes('?') ? '&' : '?') + query : '')));
    ws.onmessage = (e) => ws === this.#ws && this.#receive(e.data);
    ws.onclose = () => ws === this.#ws && this.#lost();
    old?.close();
  }

  /** Close for good: no more reconnects, no more callbacks. */
  close() {
    clearTimeout(this.#retry);
    clearTimeout(this.#stale);
    clearInterval(this.#sweep);
    this.#sweep = null;
    removeEventListener('online', this.#wake);
    const ws = this.#ws;
    this.#ws = null;
    ws?.close();
  }

  /** All items, newest first. */
  list() {
    return [...this.items.values()].sort(newestFirst);
  }

  #receive(text) {
    let m;
    try { m = JSON.parse(text); } catch { return; }
    if (m.type === 'hello') {
      this.#tries = 0;
      this.offlineSince = null;
      clearTimeout(this.#stale);
      this.#setState('live');
    } else if (m.type === 'snapshot') {
      const keys = new Set(m.items.map(itemKey));
      if (m.resync) for (const key of this.items.keys()) if (!keys.has(key)) this.#remove(key);
      for (const item of m.items) this.#put(item, true);
    } else if (m.type === 'item') {
      this.#put(m.item, false);
    } else if (m.type === 'retract') {
      this.#seen(m.seq);
      this.#remove(itemKey(m)); // that topic's item only
    }
  }

  #seen(seq) {
    if (seq) this.#seq = seq;
  }

  // Add or replace an item (same topic and id); an older or equal version of
  // a known one (a snapshot repeated after a reconnect) changes nothing.
  #put(item, fromSnapshot) {
    this.#seen(item.seq);
    const key = itemKey(item);
    const old = this.items.get(key);
    if (old && (item.version || 1) <= (old.version || 1)) return;
    if (item.expires && Date.parse(item.expires) < Date.now()) return void (old && this.#remove(key));
    this.items.set(key, item);
    this.onitem?.(item, old, fromSnapshot);
    const all = this.list();
    const mine = all.filter((i) => i.topic === item.topic);
    for (const i of [...mine.slice(this.max), ...all.slice(this.max * 20)]) this.#remove(itemKey(i));
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
    if (!this.offlineSince) { // the first failure since we were live: stale in staleAfter ms
      this.offlineSince = new Date();
      this.#setState('reconnecting');
      this.#stale = setTimeout(() => this.#setState('offline'), this.staleAfter);
    }
    // Exponential steps (0.5 s, 1 s, 2 s ... at most 30 s), each with jitter: a random 50-100 % of it.
    this.#reconnect(Math.min(30000, 500 * 2 ** this.#tries++) * (0.5 + Math.random() / 2));
  }

  #reconnect(delay) {
    if (!this.#ws) return;
    clearTimeout(this.#retry);
    this.#retry = setTimeout(() => this.connect(), delay);
  }
}

const CSS = `
:host{display:block;contain:content;
--bg:var(--ticker-bg,#0b1726);--fg:var(--ticker-fg,#f3f6fa);--muted:var(--ticker-muted,#9fb1c7);
--accent:var(--ticker-accent,#f2b705);--urgent:var(--ticker-urgent,#e4572e);
--flash:var(--ticker-flash-bg,#c8102e);--flash-fg:var(--ticker-flash-fg,#fff);
font:var(--ticker-font-size,15px)/1.2 var(--ticker-font,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif)}
[hidden]{display:none!important}
.bar{position:relative;display:flex;align-items:center;height:var(--ticker-height,46px);background:var(--bg);
color:var(--fg);border-radius:var(--ticker-radius,0);overflow:hidden}
.state{flex:none;display:flex;align-items:center;gap:.5em;align-self:stretch;padding:0 1em;background:#3b4a5e;
color:#fff;font-size:.75em;font-weight:800;letter-spacing:.08em;text-transform:uppercase;white-space:nowrap}
.state::before{content:"";width:.6em;height:.6em;border-radius:50%;background:currentColor}
[data-state=live] .state{background:var(--flash)}
[data-state$=connecting] .state{background:#9a6b00}
[data-state=offline] .view{opacity:.55}
.toggle,.ack{flex:none;border:0;background:none;color:inherit;font:inherit;cursor:pointer}
.toggle{align-self:stretch;width:2.6em;border-inline-end:1px solid #ffffff22}
.toggle span{display:inline-block;width:.7em;height:.8em;box-sizing:border-box;border-inline:.24em solid}
.toggle[data-paused] span{border:0;background:currentColor;clip-path:polygon(0 0,100% 50%,0 100%)}
:focus-visible{outline:2px solid var(--accent);outline-offset:-2px}
.view{position:relative;flex:1;align-self:stretch;overflow:clip;
mask-image:linear-gradient(90deg,#0000,#000 1.5em,#000 calc(100% - 1.5em),#0000)}
ul{position:absolute;inset-block:0;inset-inline-start:0;display:flex;margin:0;padding:0;list-style:none;white-space:nowrap}
li,.item{position:relative;display:flex;align-items:center;gap:.6em;padding-inline:1.4em;unicode-bidi:isolate}
li+li::before{content:"";position:absolute;inset-inline-start:-.2em;width:.4em;height:.4em;background:var(--accent);transform:rotate(45deg)}
.label,.premium{flex:none;padding:.28em .5em;border-radius:3px;font-size:.7em;font-weight:800;letter-spacing:.06em;text-transform:uppercase}
.label{background:var(--accent);color:#111}
[data-priority=urgent] .label{background:var(--urgent);color:#fff}
[data-priority=flash] .label{background:var(--flash);color:#fff}
.premium{border:1px solid;color:var(--accent)}
time,.source,.related{color:var(--muted);font-size:.85em;font-variant-numeric:tabular-nums}
.headline{font-weight:650}
a{color:inherit;text-decoration:none}
a:hover{text-decoration:underline}
.related,.related>span{display:flex;align-items:center;gap:.5em}
.rel-label::after{content:" ›"}
.still ul{position:static;width:100%}
.still li{flex:1;min-width:0;padding-inline:1em}
.still li::before{display:none}
.still .headline{overflow:hidden;text-overflow:ellipsis}
.flash{position:absolute;inset:0;z-index:1;display:flex;align-items:center;background:var(--flash);color:var(--flash-fg)}
.flash .item{flex:1;min-width:0;overflow:hidden}
.flash .label{background:var(--flash-fg);color:var(--flash)}
.flash time,.flash .source{color:inherit;opacity:.85}
.ack{align-self:stretch;padding:0 1em;font-size:1.1em}
.sr{position:absolute;width:1px;height:1px;overflow:hidden;clip-path:inset(50%);white-space:nowrap}
@media (prefers-reduced-motion:no-preference){[data-state=live] .state::before{animation:pulse 2s infinite}}
@keyframes pulse{50%{opacity:.3}}`;

// The shadow tree's styles: one constructed stylesheet, shared by every ticker
// on the page. Unlike a <style> element it is not inline style, so it applies
// under a Content-Security-Policy without style-src 'unsafe-inline' (tickerd's
// own pages, and strict sites that embed the ticker). Browsers without
// constructable stylesheets (Safari before 16.4) get the <style> element.
let sheet = null;
function styleRoot(root) {
  if (!root.adoptedStyleSheets) return root.append(h('style', {}, CSS));
  if (!sheet) (sheet = new CSSStyleSheet()).replaceSync(CSS);
  root.adoptedStyleSheets = [sheet];
}

/** <news-ticker>: the crawl (or, with reduced motion, one item at a time). */
class NewsTicker extends HTMLElement {
  static observedAttributes = ['src', 'topics', 'lang'];
  #feed = null;
  #els = new Map(); // itemKey -> its <li>
  #anim = null;
  #from = 0;
  #to = 0;
  #holds = new Set(); // why the motion is paused: user, hover, focus, flash
  #still = matchMedia('(prefers-reduced-motion: reduce)');
  #shown = 0;
  #queued = [];
  #timers = [];
  #flashKey = null; // itemKey of the flash holding the bar
  #flashTimer = null;
  #frame = 0;
  // Parts of the shadow tree, made once in the constructor.
  #bar; #stateEl; #toggle; #view; #track; #flashEl; #flashItem; #ack; #polite; #assertive;

  constructor() {
    super();
    this.#bar = h('div', { class: 'bar', part: 'bar', role: 'region' },
      (this.#stateEl = h('span', { class: 'state', part: 'state' })),
      (this.#toggle = h('button', { class: 'toggle', type: 'button', part: 'toggle' }, h('span'))),
      (this.#view = h('div', { class: 'view' }, (this.#track = h('ul', { part: 'track' })))),
      (this.#flashEl = h('div', { class: 'flash', part: 'flash', hidden: true },
        (this.#flashItem = h('div', { class: 'item' })),
        (this.#ack = h('button', { class: 'ack', type: 'button' }, '✕')))));
    this.#polite = h('div', { class: 'sr', 'aria-live': 'polite' });
    this.#assertive = h('div', { class: 'sr', 'aria-live': 'assertive', 'aria-atomic': 'true' });
    const root = this.attachShadow({ mode: 'open' });
    styleRoot(root);
    root.append(this.#bar, this.#polite, this.#assertive);

    this.#toggle.onclick = () => this.#hold('user', !this.#holds.has('user'));
    this.#ack.onclick = () => this.#endFlash();
    this.addEventListener('pointerenter', () => this.#hold('hover', true));
    this.addEventListener('pointerleave', () => this.#hold('hover', false));
    // Keyboard focus on a headline holds the crawl (a mouse click does not: no :focus-visible).
    this.#view.addEventListener('focusin', (e) => {
      if (!e.target.matches(':focus-visible')) return;
      this.#hold('focus', true);
      this.#reveal(e.target.closest('li'));
    });
    this.#view.addEventListener('focusout', (e) => this.#view.contains(e.relatedTarget) || this.#hold('focus', false));
    this.#still.addEventListener('change', () => this.#feed && this.#restart());
  }

  get #lang() {
    return this.lang || document.documentElement.lang || navigator.language || 'en';
  }

  connectedCallback() {
    const lang = this.#lang;
    const w = words(lang);
    this.#bar.dir = dirOf(lang);
    this.#bar.setAttribute('aria-label', w.region);
    this.#ack.setAttribute('aria-label', w.dismiss);
    this.#hold();
    const feed = (this.#feed = new TickerFeed(this.getAttribute('src') || DEFAULT_SRC,
      { topics: this.getAttribute('topics') || '', max: +this.getAttribute('max-items') || 30 }));
    feed.onitem = (item, old, snap) => this.#onItem(item, old, snap);
    feed.onremove = (item) => this.#onRemove(itemKey(item));
    feed.onstate = () => this.#onState();
    this.#onState();
    feed.connect();
    this.#timers = [
      setInterval(() => { refreshTimes(this.#bar); this.#changed(); }, 30000),
      setInterval(() => this.#still.matches && !this.#holds.size && this.#show(this.#shown + 1), 7000),
    ];
  }

  disconnectedCallback() {
    this.#feed?.close();
    this.#feed = null;
    this.#timers.forEach(clearInterval);
    this.#anim?.cancel();
    this.#anim = null;
    for (const key of [...this.#els.keys()]) this.#onRemove(key);
  }

  attributeChangedCallback() {
    if (this.#feed) {
      this.disconnectedCallback();
      this.connectedCallback();
    }
  }

  #onItem(item, old, fromSnapshot) {
    const key = itemKey(item);
    let li = this.#els.get(key);
    if (!li) {
      this.#els.set(key, (li = h('li', { hidden: this.#still.matches })));
      this.#track.append(li); // next up in this pass; the next pass sorts newest first
    }
    renderItem(li, item, this.#lang);
    if (item.priority === 'flash' && !fromSnapshot) this.#startFlash(item);
    else if (this.#flashKey === key) this.#endFlash();
    else if (!old && !fromSnapshot) this.#announce(item);
    if (!old && !fromSnapshot && this.#still.matches && !this.#holds.size) this.#show([...this.#track.children].indexOf(li));
    this.#changed();
  }

  #onRemove(key) {
    this.#els.get(key)?.remove();
    this.#els.delete(key);
    if (this.#flashKey === key) this.#endFlash();
    this.#changed();
  }

  #onState() {
    const f = this.#feed;
    const w = words(this.#lang);
    this.#bar.dataset.state = f.state;
    this.#stateEl.textContent = f.state === 'offline' ? `${w.offline} ${clock(f.offlineSince, this.#lang)}` : w[f.state];
  }

  // Polite announcements, gathered for a second so a burst is one message.
  #announce(item) {
    if (this.#queued.push(item) > 1) return;
    setTimeout(() => {
      this.#polite.textContent = this.#queued.slice(-3).map(spoken).join(' — ');
      this.#queued = [];
    }, 1000);
  }

  #startFlash(item) {
    this.#flashKey = itemKey(item);
    renderItem(this.#flashItem, item, this.#lang);
    this.#flashEl.hidden = false;
    this.#assertive.textContent = spoken(item);
    this.#hold('flash', true);
    clearTimeout(this.#flashTimer);
    const s = Number(this.getAttribute('flash-timeout') ?? 60);
    if (s > 0) this.#flashTimer = setTimeout(() => this.#endFlash(), s * 1000);
  }

  #endFlash() {
    this.#flashKey = null;
    this.#flashEl.hidden = true;
    clearTimeout(this.#flashTimer);
    this.#hold('flash', false);
  }

  // Pause or resume for one reason; motion runs only when no reason holds it.
  #hold(why, on) {
    if (why) on ? this.#holds.add(why) : this.#holds.delete(why);
    const user = this.#holds.has('user');
    const w = words(this.#lang);
    this.#toggle.toggleAttribute('data-paused', user);
    this.#toggle.setAttribute('aria-label', user ? w.play : w.pause);
    this.#toggle.title = user ? w.play : w.pause;
    const a = this.#anim;
    if (a && this.#holds.size) a.pause();
    else if (a?.playState === 'paused') a.play();
  }

  // Content changed: at most once a frame, re-aim the crawl from where it is.
  #changed() {
    this.#frame ||= requestAnimationFrame(() => {
      this.#frame = 0;
      if (this.#still.matches) this.#show(this.#shown);
      else if (this.#anim) this.#run(this.#pos());
      else this.#restart(0); // from a standstill: start with the bar full, not empty
    });
  }

  // A new pass: newest first, from offset `from` (by default entering from the
  // far edge); or, with reduced motion, the first item.
  #restart(from = this.#view.clientWidth) {
    const lis = [...this.#track.children];
    const items = this.#feed?.items;
    if (items) lis.sort((a, b) => newestFirst(items.get(itemKey(a.dataset)), items.get(itemKey(b.dataset))));
    this.#track.append(...lis);
    this.#bar.classList.toggle('still', this.#still.matches);
    this.#anim?.cancel();
    this.#anim = null;
    if (this.#still.matches) return this.#show(0);
    lis.forEach((li) => (li.hidden = false));
    this.#run(from);
  }

  // Animate the track from offset `from` until it has left the view, at --ticker-speed.
  #run(from) {
    this.#anim?.cancel();
    this.#anim = null;
    if (!this.#track.firstChild) return;
    const speed = parseFloat(getComputedStyle(this).getPropertyValue('--ticker-speed')) || 80;
    const s = this.#bar.dir === 'rtl' ? -1 : 1;
    const to = -this.#track.scrollWidth;
    const a = this.#track.animate(
      [{ transform: `translateX(${s * from}px)` }, { transform: `translateX(${s * to}px)` }],
      { duration: Math.max(1, ((from - to) / speed) * 1000) });
    [this.#anim, this.#from, this.#to] = [a, from, to];
    a.onfinish = () => this.#restart();
    if (this.#holds.size) a.pause();
  }

  // The track's current offset.
  #pos() {
    const a = this.#anim;
    return this.#from + (this.#to - this.#from) * (a.currentTime / a.effect.getTiming().duration);
  }

  // Keyboard focus on an item off screen: bring it to the start of the view.
  #reveal(li) {
    if (!li || !this.#anim) return;
    const start = this.#bar.dir === 'rtl' ? this.#track.offsetWidth - li.offsetLeft - li.offsetWidth : li.offsetLeft;
    const at = this.#pos() + start;
    if (at < 0 || at + li.offsetWidth > this.#view.clientWidth) this.#run(16 - start);
  }

  // Reduced motion: show item n only.
  #show(n) {
    const lis = [...this.#track.children];
    this.#shown = lis.length ? ((n % lis.length) + lis.length) % lis.length : 0;
    lis.forEach((li, i) => (li.hidden = i !== this.#shown));
  }
}

if (!customElements.get('news-ticker')) customElements.define('news-ticker', NewsTicker);
