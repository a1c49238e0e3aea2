// wall.js: the newsroom wall display (wall.html; its query parameters are listed
// there), built on the ticker's modules (web/ticker/). A file, not an inline
// script: tickerd serves every page with Content-Security-Policy script-src
// 'self'. Styles change only through the CSSOM (element.style), which that
// policy allows; never through style attributes.

import { TickerFeed, itemKey } from './ticker/feed.js';
import { dirOf } from './ticker/format.js';
import { h, refreshTimes, renderItem } from './ticker/item.js';
import { stateText, words } from './ticker/words.js';

const q = new URLSearchParams(location.search);
const lang = q.get('lang') || navigator.language || 'en';
const w = words(lang);
const topics = (q.get('topics') || '').split(',').map((t) => t.trim()).filter(Boolean);
const max = Math.max(1, Math.min(50, +q.get('max') || 8));
const flashSeconds = Number(q.get('flash') ?? 120);
const $ = (sel) => document.querySelector(sel);

document.documentElement.lang = lang;
document.documentElement.dir = dirOf(lang);
$('.brand').textContent = q.get('title') || 'tickerd';
document.documentElement.style.setProperty('--size', topics.length > 2 ? 3.4 : topics.length === 2 ? 4.2 : 5);

// One column per topic, or one for everything.
const columns = (topics.length ? topics : ['']).map((topic) => {
  const list = h('ol');
  $('.columns').append(h('section', {}, h('h2', {}, topic || w.region), list));
  return { topic, list };
});

const feed = new TickerFeed(q.get('src') || undefined, { topics: topics.join(','), max, screen: q.get('screen') });
const shown = new Map(); // itemKey -> { li, item }: only what is on screen, so bounded by the columns
const fresh = new WeakSet(); // items that arrived live (not from a snapshot): highlighted
let frame = 0;

// Bring the columns in line with the feed, touching only what changed.
function render() {
  frame = 0;
  const items = feed.list();
  for (const { topic, list } of columns) {
    const lis = items.filter((i) => !topic || i.topic === topic).slice(0, max).map((item) => {
      let e = shown.get(itemKey(item));
      if (!e) {
        shown.set(itemKey(item), (e = { li: h('li', { class: fresh.has(item) ? 'new' : null }) }));
        e.li.addEventListener('animationend', () => e.li.classList.remove('new'));
      }
      if (e.item !== item) renderItem(e.li, (e.item = item), lang);
      return e.li;
    });
    lis.forEach((li, i) => list.children[i] !== li && list.insertBefore(li, list.children[i] || null));
    while (list.children.length > lis.length) list.lastChild.remove();
  }
  for (const [key, e] of shown) if (!e.li.isConnected) shown.delete(key);
}
const later = () => (frame ||= requestAnimationFrame(render));

// Flash: the whole screen, until a key, a click or flashSeconds.
let flashTimer = 0;
let flashKey = null; // itemKey of the flash on screen
function flash(item) {
  flashKey = item ? itemKey(item) : null;
  $('.flash').hidden = !item;
  clearTimeout(flashTimer);
  if (!item) return;
  renderItem($('.flash .item'), item, lang);
  $('.flash .word').textContent = item.label || w.flash;
  if (flashSeconds > 0) flashTimer = setTimeout(() => flash(null), flashSeconds * 1000);
}
addEventListener('keydown', () => flash(null));
addEventListener('click', () => flash(null));

feed.onitem = (item, old, fromSnapshot) => {
  if (!old && !fromSnapshot) fresh.add(item);
  if (item.priority === 'flash' && !fromSnapshot) flash(item);
  else if (flashKey === itemKey(item)) flash(null);
  later();
};
feed.onremove = (item) => {
  if (flashKey === itemKey(item)) flash(null);
  later();
};
// The state in the corner; and a banner while headlines may be out of date: offline
// ("Offline since 09:30: headlines may be out of date"), or connected while tickerd
// says its feed is degraded (Redis away: "Headlines may be out of date").
feed.onstate = (state) => {
  const stale = stateText('stale', null, lang);
  document.body.dataset.state = state;
  $('.state').textContent = stateText(state === 'stale' ? 'live' : state, feed.since, lang);
  $('.stale').hidden = state !== 'offline' && state !== 'stale';
  $('.stale').textContent = state === 'offline' ? `${stateText(state, feed.since, lang)}: ${stale}`
    : stale[0].toUpperCase() + stale.slice(1);
};
feed.onstate(feed.state);
feed.connect();

// The clock, on the second.
const time = new Intl.DateTimeFormat(lang, { hour: '2-digit', minute: '2-digit', second: '2-digit' });
const date = new Intl.DateTimeFormat(lang, { dateStyle: 'full' });
(function tick() {
  const now = new Date();
  $('.clock .time').textContent = time.format(now);
  $('.clock .date').textContent = date.format(now);
  setTimeout(tick, 1000 - (now % 1000));
})();

// Ages stay current; and against burn-in, the whole screen drifts a few pixels, slowly.
let step = 0;
setInterval(() => refreshTimes(document), 30000);
setInterval(() => {
  const a = (step++ % 12) * (Math.PI / 6);
  $('#screen').style.transform = `translate(${Math.round(Math.cos(a) * 6)}px, ${Math.round(Math.sin(a) * 6)}px)`;
}, 60000);
