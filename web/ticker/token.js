// token.js: keeps a <news-ticker>'s token fresh with its tokenProvider, loaded
// only when a page gives one. The token is never logged nor put in the DOM.

/** A JWT's exp claim in ms since the epoch; NaN if it has none. */
export function expiry(jwt) {
  try {
    return JSON.parse(atob(jwt.split('.')[1].replace(/-/g, '+').replace(/_/g, '/'))).exp * 1000;
  } catch {
    return NaN;
  }
}

/**
 * TokenKeeper: asks the element's tokenProvider for a token when there is
 * none, before the one in use expires (a minute before, or halfway for short
 * tokens), and when tickerd says it is expiring or expired; then sends it over
 * the feed's open connection. A token refused for another reason (a bad
 * signature, say) is followed by a new question 30 s later, not at once, and
 * a provider that gives back the token in use is not asked again until the
 * next reason: a provider handing out bad tokens cannot make a loop.
 */
export class TokenKeeper {
  #el;
  #feed = null;
  #timer = 0;
  #asking = false;

  constructor(el) {
    this.#el = el;
    el.addEventListener('ticker:access', ({ detail: { expiring, refused } }) => {
      if (expiring || refused === 'expired') this.#renew();
      else if (refused) this.#later(30e3);
      else this.#plan();
    });
  }

  /** Keep this feed's token fresh (the element's feed changes when it reconnects). */
  keep(feed) {
    if (!feed) return;
    this.#feed = feed;
    feed.token ? this.#plan() : this.#renew();
  }

  // Renew before exp: 60 s before, or halfway for a token shorter than 2 min.
  #plan() {
    clearTimeout(this.#timer);
    const left = expiry(this.#feed?.token) - Date.now();
    if (left > 0) this.#later(Math.max(1000, left > 120e3 ? left - 60e3 : left / 2));
  }

  #later(ms) {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.#renew(), ms);
  }

  async #renew() {
    const feed = this.#feed;
    const provider = this.#el.tokenProvider;
    if (this.#asking || !provider || !this.#el.isConnected) return;
    clearTimeout(this.#timer);
    this.#asking = true;
    try {
      const token = await provider();
      if (feed !== this.#feed) return;
      if (typeof token === 'string' && token && token !== feed.token) feed.sendToken(token);
      this.#plan();
    } catch (e) {
      console.warn('news-ticker: tokenProvider failed:', e?.message ?? e); // not the token
      this.#later(15e3);
    } finally {
      this.#asking = false;
    }
  }
}
