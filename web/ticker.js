// ticker.js: <news-ticker>, the one script a site loads (README: its API).

import { TickerFeed, itemKey, newestFirst } from './ticker/feed.js';
import { dirOf } from './ticker/format.js';
import { h, refreshTimes, renderItem, spoken } from './ticker/item.js';
import { styleRoot } from './ticker/style.js';
import { stateText, words } from './ticker/words.js';

/** <news-ticker>: the crawl (or, with reduced motion, one item at a time). */
class NewsTicker extends HTMLElement {
  static observedAttributes = ['src', 'topics', 'lang', 'max-items', 'token'];
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
  #provider; #keeper;
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
    // Keyboard focus (not a click) on a headline holds the crawl.
    this.#view.addEventListener('focusin', (e) => {
      if (!e.target.matches(':focus-visible')) return;
      this.#hold('focus', true);
      this.#reveal(e.target.closest('li'));
    });
    this.#view.addEventListener('focusout', (e) => this.#view.contains(e.relatedTarget) || this.#hold('focus', false));
    this.#still.addEventListener('change', () => this.#feed && this.#restart());
  }

  // Properties mirror the attributes (lang is HTMLElement's own).
  get topics() { return this.getAttribute('topics') ?? ''; }
  set topics(v) { this.#attr('topics', v); }
  get src() { return this.getAttribute('src') ?? ''; }
  set src(v) { this.#attr('src', v); }
  get maxItems() { return +this.getAttribute('max-items') || 30; }
  set maxItems(v) { this.#attr('max-items', v); }
  get flashTimeout() { return +(this.getAttribute('flash-timeout') ?? 60); }
  set flashTimeout(v) { this.#attr('flash-timeout', v); }
  get tokenProvider() { return this.#provider; }
  set tokenProvider(f) { this.#provider = f; this.#keep(); }

  // null or undefined removes it.
  #attr(name, v) {
    v == null ? this.removeAttribute(name) : this.setAttribute(name, v);
  }

  get #lang() {
    return this.lang || document.documentElement.lang || navigator.language || 'en';
  }

  connectedCallback() {
    this.#upgrade();
    this.#relabel();
    this.#open();
    this.#timers = [
      setInterval(() => { refreshTimes(this.#bar); this.#changed(); }, 30000),
      setInterval(() => this.#still.matches && !this.#holds.size && this.#show(this.#shown + 1), 7000),
    ];
  }

  disconnectedCallback() {
    this.#close();
    this.#timers.forEach(clearInterval);
  }

  attributeChangedCallback(name, old, value) {
    if (!this.#feed || old === value) return;
    if (name === 'lang') this.#relabel();
    else if (name === 'max-items') this.#feed.limit(this.maxItems);
    else if (name !== 'token') this.#open();
    else if (value) this.#feed.sendToken(value);
    else this.#open(this.#feed.token = null);
  }

  // A property set before this script ran hides its setter: pass it on.
  #upgrade() {
    for (const p of ['topics', 'src', 'maxItems', 'flashTimeout', 'tokenProvider']) {
      if (!Object.hasOwn(this, p)) continue;
      const v = this[p];
      delete this[p];
      this[p] = v;
    }
  }

  // Connect (again), with the items starting over.
  #open() {
    const token = this.#feed?.token ?? this.getAttribute('token');
    this.#close();
    const feed = (this.#feed = new TickerFeed(this.src || undefined, { topics: this.topics, max: this.maxItems, screen: this.getAttribute('screen'), token }));
    feed.onitem = (...a) => this.#onItem(...a);
    feed.onremove = (item) => this.#onRemove(itemKey(item));
    feed.onretract = (m) => this.#emit('retract', m);
    feed.onaccess = (m) => this.#emit('access', m);
    feed.onstate = () => this.#onState();
    this.#onState();
    feed.connect();
    this.#keep();
  }

  // With a tokenProvider, ticker/token.js keeps the token fresh.
  async #keep() {
    if (this.#provider) (await (this.#keeper ??= import('./ticker/token.js').then((m) => new m.TokenKeeper(this)))).keep(this.#feed);
  }

  #close() {
    this.#feed?.close();
    this.#feed = null;
    this.#anim?.cancel();
    this.#anim = null;
    for (const key of [...this.#els.keys()]) this.#onRemove(key);
  }

  #emit(name, detail) {
    this.dispatchEvent(new CustomEvent('ticker:' + name, { bubbles: true, detail }));
  }

  // The interface language: words, direction, items.
  #relabel() {
    const lang = this.#lang;
    const w = words(lang);
    this.#bar.dir = dirOf(lang);
    this.#bar.setAttribute('aria-label', w.region);
    this.#ack.setAttribute('aria-label', w.dismiss);
    this.#hold();
    if (!this.#feed) return;
    this.#onState(false);
    for (const [key, item] of this.#feed.items) renderItem(this.#els.get(key), item, lang);
    const flash = this.#feed.items.get(this.#flashKey);
    if (flash) renderItem(this.#flashItem, flash, lang);
    this.#restart(0);
  }

  #onItem(item, old, fromSnapshot) {
    const key = itemKey(item);
    let li = this.#els.get(key);
    if (!li) {
      this.#els.set(key, (li = h('li', { hidden: this.#still.matches })));
      this.#track.append(li); // the next pass sorts it
    }
    renderItem(li, item, this.#lang);
    if (item.priority === 'flash' && !fromSnapshot) this.#startFlash(item);
    else if (this.#flashKey === key) this.#endFlash();
    else if (!old && !fromSnapshot) this.#announce(item);
    if (!old && !fromSnapshot && this.#still.matches && !this.#holds.size) this.#show([...this.#track.children].indexOf(li));
    this.#changed();
    this.#emit('item', { ...item });
  }

  #onRemove(key) {
    this.#els.get(key)?.remove();
    this.#els.delete(key);
    if (this.#flashKey === key) this.#endFlash();
    this.#changed();
  }

  #onState(tell = true) {
    const { state, since } = this.#feed;
    this.#bar.dataset.state = state;
    this.#stateEl.textContent = stateText(state, since, this.#lang);
    if (tell) this.#emit('state', { state, since });
  }

  // A burst is one polite announcement.
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
    const s = this.flashTimeout;
    if (s > 0) this.#flashTimer = setTimeout(() => this.#endFlash(), s * 1000);
  }

  #endFlash() {
    this.#flashKey = null;
    this.#flashEl.hidden = true;
    clearTimeout(this.#flashTimer);
    this.#hold('flash', false);
  }

  // Motion runs only when no reason holds it.
  #hold(why, on) {
    if (why) on ? this.#holds.add(why) : this.#holds.delete(why);
    const user = this.#holds.has('user');
    const label = words(this.#lang)[user ? 'play' : 'pause'];
    this.#toggle.toggleAttribute('data-paused', user);
    this.#toggle.setAttribute('aria-label', label);
    this.#toggle.title = label;
    const a = this.#anim;
    if (a && this.#holds.size) a.pause();
    else if (a?.playState === 'paused') a.play();
  }

  // At most once a frame, re-aim the crawl from where it is.
  #changed() {
    this.#frame ||= requestAnimationFrame(() => {
      this.#frame = 0;
      if (this.#still.matches) this.#show(this.#shown);
      else if (this.#anim) this.#run(this.#pos());
      else this.#restart(0); // from a standstill: bar full
    });
  }

  // A new pass, newest first, from offset `from` (default: the far edge).
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

  // From `from` until the track has left the view, at --ticker-speed.
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

  #pos() {
    const a = this.#anim;
    return this.#from + (this.#to - this.#from) * (a.currentTime / a.effect.getTiming().duration);
  }

  // A focused item off screen comes to the start of the view.
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
