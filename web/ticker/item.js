// item.js: one headline drawn into an element, for the ticker and the wall.
// Item text reaches the page only as text nodes and attributes, never as HTML.

import { age, clock, dirOf, fullDate } from './format.js';
import { words } from './words.js';

/** An element; null/false attributes left out. */
export function h(tag, attrs = {}, ...kids) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) if (v != null && v !== false) el.setAttribute(k, v === true ? '' : v);
  el.append(...kids.filter((k) => k || k === 0));
  return el;
}

const safeUrl = (u) => (/^https?:\/\//i.test(u) ? u : null);
const link = (text, url, cls) => h(safeUrl(url) ? 'a' : 'span', { class: cls, href: safeUrl(url) }, text);

/** The label of a flash, bulletin or urgent item. */
export const labelOf = (item, lang) => (item.priority === 'routine' ? '' : item.label || words(lang)[item.priority]);

/** What a screen reader says for an item. */
export const spoken = (item) => [labelOf(item, item.lang || 'en'), item.headline].filter(Boolean).join(': ');

/** A <time>'s text: today's time or the full date, then the age. */
export function fillTime(el, lang = el.closest('[lang]')?.lang || 'en', now = new Date()) {
  const d = new Date(el.dateTime);
  el.title = fullDate(d, lang);
  el.replaceChildren(h('span', { class: 'at' }, d.toDateString() === now.toDateString() ? clock(d, lang) : el.title),
    ' · ', h('span', { class: 'age' }, age(d, lang, now)));
}

/** Refresh every <time> under root. */
export function refreshTimes(root) {
  const now = new Date();
  for (const t of root.querySelectorAll('time')) fillTime(t, undefined, now);
}

/** Fill el with an item, in its language, else ui: a correction stays where it stands. */
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
