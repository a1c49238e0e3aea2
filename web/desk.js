// desk.js: the editors' desk (desk.html): publish, correct and kill headlines
// through tickerd's HTTP API with a publisher key kept in this tab's
// sessionStorage, list the live items of the watched topics, and preview them
// on the real <news-ticker>. Item text reaches the page only as text.

const $ = (sel) => document.querySelector(sel);
const KEY = 'tickerd-desk-key';
const TOPIC = /^[\w.-]{1,64}$/;
const form = $('#publish');
const status = $('#status');
const preview = $('#preview');
let editing = null; // the item being corrected, or null for a new one
let pending = null; // { text, id }: a publish that got no answer, and its Idempotency-Key for a retry

/** The key for this tab, or ''. */
const key = () => sessionStorage.getItem(KEY) || '';

/** Say something in the status region (read out politely); `bad` styles it as an error. */
function say(text, bad = false) {
  status.textContent = text;
  status.classList.toggle('bad', bad);
}

/** An element with attributes and children (text, never HTML). */
function h(tag, attrs = {}, ...kids) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) if (v != null && v !== false) el.setAttribute(k, v === true ? '' : v);
  el.append(...kids.filter((k) => k != null && k !== false));
  return el;
}

// The key form, or "a key is in use" with a way to forget it.
function showKey() {
  $('#key-form').hidden = !!key();
  $('#key-set').hidden = !key();
}

$('#key-form').addEventListener('submit', (e) => {
  e.preventDefault();
  const input = $('#key');
  const k = input.value.trim();
  if (!k) return fieldError(input, 'Paste the publisher key here.');
  clearErrors();
  sessionStorage.setItem(KEY, k);
  input.value = '';
  showKey();
  say('Key saved for this tab.');
  $('#f-headline').focus();
  refresh();
});

$('#forget').addEventListener('click', () => {
  sessionStorage.removeItem(KEY);
  showKey();
  list([]);
  say('Key forgotten.');
  $('#key').focus();
});

/** Call the API: { status, body, headers } (body the parsed JSON, or null); throws on a network error. */
async function api(method, path, body, idempotency) {
  const headers = { Authorization: 'Bearer ' + key() };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (idempotency) headers['Idempotency-Key'] = idempotency;
  const r = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), cache: 'no-store' });
  let json = null;
  try { json = await r.json(); } catch { /* not JSON */ }
  return { status: r.status, body: json, headers: r.headers };
}

/** What an answer other than 2xx means, in words, for the status region. */
function trouble({ status: code, body, headers }) {
  const b = body || {};
  switch (code) {
    case 401: return 'tickerd refused the key (401): check it, or paste it again.';
    case 403: return `This key may not publish to or read the topic “${b.topic ?? '?'}” (403).`;
    case 413: return `Too large: tickerd takes at most ${b.limit ?? '?'} bytes (413).`;
    case 429: return `Too many publishes with this key: try again in ${headers.get('Retry-After') || 'a few'} s (429).`;
    case 503: return 'tickerd could not record it (Redis is unavailable): nothing was published, try again (503).';
    default: return `tickerd answered ${code}${b.error ? ` (${b.error})` : ''}${b.message ? `: ${b.message}` : ''}.`;
  }
}

/**
 * Put message next to field (an element of the page): a <p> the field is
 * described by, aria-invalid on the field, focus on it. False when field is
 * not a form field here (then the caller says it in the status region).
 */
function fieldError(field, message) {
  if (!field?.closest?.('.field')) return false;
  const id = `err-${field.id}`;
  let p = document.getElementById(id);
  if (!p) {
    p = h('p', { id, class: 'error' });
    field.closest('.field').append(p);
  }
  p.textContent = message;
  field.setAttribute('aria-invalid', 'true');
  const ids = (field.getAttribute('aria-describedby') || '').split(' ').filter((x) => x && x !== id);
  field.setAttribute('aria-describedby', [id, ...ids].join(' '));
  field.focus();
  return true;
}

function clearErrors() {
  for (const p of document.querySelectorAll('p.error')) {
    const field = document.querySelector(`[aria-describedby~="${p.id}"]`);
    if (field) {
      field.removeAttribute('aria-invalid');
      const rest = field.getAttribute('aria-describedby').split(' ').filter((x) => x !== p.id);
      rest.length ? field.setAttribute('aria-describedby', rest.join(' ')) : field.removeAttribute('aria-describedby');
    }
    p.remove();
  }
}

// A datetime-local value (the editor's time zone) as ISO 8601 UTC, or undefined.
const iso = (v) => (v ? new Date(v).toISOString() : undefined);
// An ISO time as a datetime-local value in the editor's time zone.
function local(t) {
  if (!t) return '';
  const d = new Date(t);
  return new Date(d - d.getTimezoneOffset() * 60000).toISOString().slice(0, 16);
}

/** The payload the form describes (a correction keeps the id and bumps the version). */
function payload() {
  const f = form.elements;
  const p = { headline: f.headline.value, priority: f.priority.value };
  if (editing) Object.assign(p, { id: editing.id, version: (editing.version || 1) + 1 });
  if (f.label.value.trim()) p.label = f.label.value.trim();
  if (f.url.value.trim()) p.url = f.url.value.trim();
  if (f.premium.checked) p.premium = true;
  if (f.embargo.value) p.embargo = iso(f.embargo.value);
  if (f.expires.value) p.expires = iso(f.expires.value);
  if (editing?.lang) p.lang = editing.lang;
  if (editing?.source) p.source = editing.source;
  if (editing?.related) p.related = editing.related;
  return p;
}

form.addEventListener('submit', async (e) => {
  e.preventDefault();
  clearErrors();
  const topic = form.elements.topic.value.trim();
  if (!key()) {
    say('Paste a publisher key first.', true);
    return $('#key').focus();
  }
  if (!TOPIC.test(topic)) return fieldError(form.elements.topic, 'A topic is 1 to 64 of A–Z, a–z, 0–9, “_”, “.” and “-”.');
  const body = payload();
  const text = JSON.stringify([topic, body]);
  // The same publish sent again after no answer keeps its Idempotency-Key: recorded once.
  if (pending?.text !== text) pending = { text, id: crypto.randomUUID() };
  const button = $('#submit');
  button.disabled = true;
  say('Publishing…');
  try {
    const r = await api('POST', `/api/items/${encodeURIComponent(topic)}`, body, pending.id);
    pending = null;
    if (r.status === 201) {
      const item = r.body?.item;
      say(`${editing ? 'Corrected' : 'Published'} on ${topic}: “${item?.headline ?? body.headline}” (seq ${r.body?.seq ?? '?'}, by ${r.body?.by ?? '?'}).`);
      endEditing(true);
      refresh();
    } else if (r.status === 400 && fieldError(form.elements.namedItem(r.body?.field || ''), r.body?.message || r.body?.error || 'Refused.')) {
      say('Not published: tickerd refused one field, see the message next to it.', true);
    } else {
      say(`Not published. ${trouble(r)}`, true);
    }
  } catch {
    say('No answer from tickerd (network): publish again to retry; it will be recorded once.', true);
  } finally {
    button.disabled = false;
  }
});

// Fill the form with an item to correct it.
function startEditing(item) {
  clearErrors();
  editing = item;
  const f = form.elements;
  f.topic.value = item.topic;
  f.topic.readOnly = true;
  f.headline.value = item.headline;
  f.priority.value = item.priority || 'routine';
  f.label.value = item.label || '';
  f.url.value = item.url || '';
  f.premium.checked = !!item.premium;
  f.embargo.value = '';
  f.expires.value = local(item.expires);
  $('#correcting').textContent = `Correcting “${item.headline}” (${item.topic}, version ${item.version || 1}).`;
  $('#correcting').hidden = false;
  $('#submit').textContent = 'Publish the correction';
  $('#cancel').hidden = false;
  f.headline.focus();
}

// Back to a new item (the form emptied when `clear`).
function endEditing(clear) {
  editing = null;
  form.elements.topic.readOnly = false;
  $('#correcting').hidden = true;
  $('#submit').textContent = 'Publish';
  $('#cancel').hidden = true;
  if (!clear) return;
  for (const n of ['headline', 'label', 'url', 'embargo', 'expires']) form.elements[n].value = '';
  form.elements.priority.value = 'routine'; // a flash must never be left over for the next item
  form.elements.premium.checked = false;
}

$('#cancel').addEventListener('click', () => {
  endEditing(true);
  say('Correction cancelled.');
  form.elements.headline.focus();
});

// Kill an item: every screen drops it (status canceled, as README "Publishing" says).
async function kill(item, button) {
  if (!confirm(`Kill “${item.headline}” on ${item.topic}? Every screen drops it.`)) return;
  button.disabled = true;
  try {
    const r = await api('POST', `/api/items/${encodeURIComponent(item.topic)}`, { id: item.id, status: 'canceled' }, crypto.randomUUID());
    if (r.status === 201) {
      say(`Killed on ${item.topic}: “${item.headline}”.`);
      if (editing?.id === item.id && editing.topic === item.topic) endEditing(true);
      refresh();
    } else say(`Not killed. ${trouble(r)}`, true);
  } catch {
    say('No answer from tickerd (network): the item may still be live.', true);
  } finally {
    button.disabled = false;
  }
}

// The watched topics, from the topics field.
const watched = () => $('#topics').value.split(',').map((t) => t.trim()).filter((t) => TOPIC.test(t));

/** Draw the live items, newest first, each with Correct and Kill. */
function list(items) {
  const ul = $('#items');
  ul.replaceChildren(...items.slice().reverse().map((item) => {
    const correct = h('button', { type: 'button', class: 'secondary' }, 'Correct');
    const killer = h('button', { type: 'button', class: 'danger' }, 'Kill');
    const what = `${item.headline} (${item.topic})`;
    correct.setAttribute('aria-label', `Correct: ${what}`);
    killer.setAttribute('aria-label', `Kill: ${what}`);
    correct.addEventListener('click', () => startEditing(item));
    killer.addEventListener('click', () => kill(item, killer));
    const time = new Date(item.time);
    return h('li', { 'data-id': item.id, 'data-topic': item.topic },
      h('div', { class: 'meta' },
        h('span', { class: `tag ${item.priority || 'routine'}` }, item.label || item.priority || 'routine'),
        h('span', {}, item.topic),
        h('time', { datetime: item.time }, isNaN(time) ? '' : time.toLocaleString()),
        h('span', {}, `v${item.version || 1}`),
        item.premium && h('span', {}, 'subscribers'),
        item.by && h('span', { class: 'by' }, `by ${item.by}`)),
      h('p', { class: 'headline', lang: item.lang || null }, item.headline),
      h('div', { class: 'actions' }, correct, killer));
  }));
  $('#items-empty').hidden = items.length > 0;
}

let asking = null;
let again = false;
/** Fetch the watched topics' live items (once at a time; a call meanwhile asks again after). */
async function refresh() {
  if (asking) return void (again = true);
  const topics = watched();
  if (!key() || !topics.length) return list([]);
  asking = api('GET', `/api/items?topics=${topics.map(encodeURIComponent).join(',')}`);
  try {
    const r = await asking;
    if (r.status === 200) list(r.body?.items || []);
    else say(`Could not list the items. ${trouble(r)}`, true);
  } catch {
    say('Could not list the items: no answer from tickerd.', true);
  } finally {
    asking = null;
    if (again) {
      again = false;
      refresh();
    }
  }
}

// The preview's socket saw a change: list again (once per burst).
let soon = 0;
const changed = () => {
  clearTimeout(soon);
  soon = setTimeout(refresh, 250);
};
preview.addEventListener('ticker:item', changed);
preview.addEventListener('ticker:retract', changed);

$('#topics-form').addEventListener('submit', (e) => {
  e.preventDefault();
  clearErrors();
  const topics = watched();
  if (!topics.length) return fieldError($('#topics'), 'Name at least one topic.');
  preview.topics = topics.join(',');
  if (!editing) form.elements.topic.value = topics[0];
  refresh();
  say(`Watching ${topics.join(', ')}.`);
});

showKey();
refresh();
setInterval(() => document.hidden || refresh(), 15000); // and in case a change came through another path
