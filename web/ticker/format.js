// format.js: dates and ages in the reader's time zone, text direction. No DOM.

const RTL = /^(ar|he|iw|fa|ur|ps|yi|dv|ckb)\b/i;

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
