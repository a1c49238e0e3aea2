// words.js: the words around headlines, per interface language (English
// fills gaps). The connection-state words are in state.js.

/** A table's entry for a language tag ("fr-CA": fr), over English. */
export const pick = (table, lang = 'en') => ({ ...table.en, ...table[lang.slice(0, 2).toLowerCase()] });

const WORDS = {
  en: { flash: 'Flash', bulletin: 'Bulletin', urgent: 'Urgent', premium: 'Subscribers', related: 'Related',
    pause: 'Pause the ticker', play: 'Play the ticker', dismiss: 'Dismiss', region: 'Latest news' },
  fr: { bulletin: 'Alerte', premium: 'Abonnés', related: 'Lire aussi', pause: 'Mettre en pause',
    play: 'Reprendre le défilement', dismiss: 'Fermer', region: 'Dernières infos' },
  de: { flash: 'Eilmeldung', bulletin: 'Meldung', urgent: 'Dringend', premium: 'Abo', related: 'Mehr dazu',
    pause: 'Anhalten', play: 'Fortsetzen', dismiss: 'Schließen', region: 'Neueste Meldungen' },
  es: { flash: 'Última hora', bulletin: 'Boletín', premium: 'Suscriptores', related: 'Relacionado',
    pause: 'Pausar', play: 'Reanudar', dismiss: 'Cerrar', region: 'Últimas noticias' },
  ar: { flash: 'عاجل', bulletin: 'نشرة', urgent: 'هام', premium: 'للمشتركين', related: 'ذو صلة',
    pause: 'إيقاف مؤقت', play: 'تشغيل', dismiss: 'إغلاق', region: 'آخر الأخبار' },
};

/** The interface words for a language tag. */
export const words = (lang) => pick(WORDS, lang);
