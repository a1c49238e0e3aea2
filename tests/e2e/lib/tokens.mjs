// Readers' tokens for the private-topics tests: JWTs minted with node:crypto
// (HS256 with a secret, RS256 and ES256 with generated key pairs), and the
// broken ones a server must refuse (alg none, the HS256-with-the-PEM
// confusion, tampered claims, ...).

import crypto from 'node:crypto';

const b64url = (buf) => Buffer.from(buf).toString('base64url');

/** Seconds since the epoch, now. */
export const nowS = () => Math.floor(Date.now() / 1000);

/**
 * A JWT of claims (exp defaults to an hour from now; pass exp: undefined
 * in claims to leave it out), signed as alg says with key: a secret
 * (HS256), a KeyObject (RS256, ES256), or nothing (none).
 * header overrides header fields.
 */
export function mint(alg, key, claims = {}, header = {}) {
  const body = { exp: nowS() + 3600, ...claims };
  for (const k of Object.keys(body)) if (body[k] === undefined) delete body[k];
  const head = b64url(JSON.stringify({ alg, typ: 'JWT', ...header }));
  const input = `${head}.${b64url(JSON.stringify(body))}`;
  let sig = '';
  if (alg === 'HS256') sig = b64url(crypto.createHmac('sha256', key).update(input).digest());
  else if (alg === 'RS256') sig = b64url(crypto.sign('sha256', Buffer.from(input), key));
  else if (alg === 'ES256') sig = b64url(crypto.sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' }));
  return `${input}.${sig}`;
}

/** An RSA (2048) or EC P-256 key pair: { privateKey, publicKey, pem }. */
export function keyPair(kind) {
  const { privateKey, publicKey } = kind === 'rsa'
    ? crypto.generateKeyPairSync('rsa', { modulusLength: 2048 })
    : crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { privateKey, publicKey, pem: publicKey.export({ type: 'spki', format: 'pem' }) };
}

/** token with its claims part replaced by claims (the signature kept). */
export function tamper(token, claims) {
  const [h, , s] = token.split('.');
  return `${h}.${b64url(JSON.stringify(claims))}.${s}`;
}

export const TOKEN_REASONS = ['missing', 'malformed', 'too_large', 'algorithm', 'signature', 'expired',
  'not_yet_valid', 'audience', 'issuer', 'not_granted'];

/** tickerd_token_refusals_total{reason} of a parsed /metrics, every reason. */
export function tokenRefusals(m) {
  return Object.fromEntries(TOKEN_REASONS.map((r) => [r, m.value('tickerd_token_refusals_total', { reason: r })]));
}
