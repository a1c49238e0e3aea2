// state.js: the connection state in words (live, reconnecting, offline since
// HH:MM, headlines may be out of date), in the interface languages, for the
// ticker and the wall.

import { clock } from './format.js';
import { pick } from './words.js';

const WORDS = {
  en: { connecting: 'Connecting…', live: 'Live', reconnecting: 'Reconnecting…', offline: 'Offline since',
    stale: 'headlines may be out of date' },
  fr: { connecting: 'Connexion…', live: 'En direct', reconnecting: 'Reconnexion…', offline: 'Hors ligne depuis',
    stale: 'les titres peuvent être périmés' },
  de: { connecting: 'Verbinde…', live: 'Live', reconnecting: 'Verbinde neu…', offline: 'Offline seit',
    stale: 'Meldungen evtl. veraltet' },
  es: { connecting: 'Conectando…', live: 'En directo', reconnecting: 'Reconectando…', offline: 'Sin conexión desde',
    stale: 'los titulares pueden estar desactualizados' },
  ar: { connecting: 'جارٍ الاتصال…', live: 'مباشر', reconnecting: 'جارٍ إعادة الاتصال…', offline: 'غير متصل منذ',
    stale: 'قد تكون العناوين قديمة' },
};

/** A feed state in words: "Live", "Offline since 09:30" (since: when lost). */
export function stateText(state, since, lang) {
  const w = pick(WORDS, lang);
  return state === 'offline' ? `${w.offline} ${clock(since ?? new Date(), lang)}` : w[state];
}
