// words.js: the interface's words per language, English filling gaps.

import { clock } from './format.js';

const WORDS = {
  en: { flash: 'Flash', bulletin: 'Bulletin', urgent: 'Urgent', premium: 'Subscribers', related: 'Related',
    pause: 'Pause the ticker', play: 'Play the ticker', dismiss: 'Dismiss', region: 'Latest news',
    connecting: 'Connecting…', live: 'Live', reconnecting: 'Reconnecting…', offline: 'Offline since',
    stale: 'headlines may be out of date' },
  fr: { bulletin: 'Alerte', premium: 'Abonnés', related: 'Lire aussi', pause: 'Mettre en pause',
    play: 'Reprendre le défilement', dismiss: 'Fermer', region: 'Dernières infos',
    connecting: 'Connexion…', live: 'En direct', reconnecting: 'Reconnexion…', offline: 'Hors ligne depuis',
    stale: 'les titres peuvent être périmés' },
  de: { flash: 'Eilmeldung', bulletin: 'Meldung', urgent: 'Dringend', premium: 'Abo', related: 'Mehr dazu',
    pause: 'Anhalten', play: 'Fortsetzen', dismiss: 'Schließen', region: 'Neueste Meldungen',
    connecting: 'Verbinde…', reconnecting: 'Verbinde neu…', offline: 'Offline seit',
    stale: 'Meldungen evtl. veraltet' },
  es: { flash: 'Última hora', bulletin: 'Boletín', premium: 'Suscriptores', related: 'Relacionado',
    pause: 'Pausar', play: 'Reanudar', dismiss: 'Cerrar', region: 'Últimas noticias',
    connecting: 'Conectando…', live: 'En directo', reconnecting: 'Reconectando…', offline: 'Sin conexión desde',
    stale: 'los titulares pueden estar desactualizados' },
  ar: { flash: 'عاجل', bulletin: 'نشرة', urgent: 'هام', premium: 'للمشتركين', related: 'ذو صلة',
    pause: 'إيقاف مؤقت', play: 'تشغيل', dismiss: 'إغلاق', region: 'آخر الأخبار',
    connecting: 'جارٍ الاتصال…', live: 'مباشر', reconnecting: 'جارٍ إعادة الاتصال…', offline: 'غير متصل منذ',
    stale: 'قد تكون العناوين قديمة' },
};

/** The interface words for a language tag ("fr-CA": fr), over English. */
export const words = (lang = 'en') => ({ ...WORDS.en, ...WORDS[lang.slice(0, 2).toLowerCase()] });

/** A feed state in words: "Live", "Offline since 09:30" (since: when lost). */
export const stateText = (state, since, lang) =>
  state === 'offline' ? `${words(lang).offline} ${clock(since ?? new Date(), lang)}` : words(lang)[state];
