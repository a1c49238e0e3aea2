// Wire-contract constants and shared assertions on items, seqs and what clients received.

import assert from 'node:assert/strict';

/** Shape of item/hello times on the wire: UTC ISO 8601, seconds precision. */
export const TIME_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;
/** Derived ids: "h-<16 hex>". */
export const DERIVED_ID_RE = /^h-[0-9a-f]{16}$/;
/** Item keys in wire order (spec: "keys in that order"). */
export const ITEM_REQUIRED_KEYS = ['id', 'seq', 'topic', 'headline', 'time', 'priority'];

/** A seq is a Redis Stream entry id, "<ms>-<n>". */
export const SEQ_RE = /^[0-9]+-[0-9]+$/;

/** A seq as one BigInt that orders like the stream does (ms, then n). */
export function seqKey(seq) {
  const [ms, n] = seq.split('-');
  return (BigInt(ms) << 64n) + BigInt(n);
}
export const ITEM_ALLOWED_KEYS = new Set([
  ...ITEM_REQUIRED_KEYS,
  'label', 'url', 'source', 'lang', 'premium', 'related', 'expires', 'version',
]);

// ---------------------------------------------------------------------------
// Assertions shared by several files

export const PRIORITIES = ['flash', 'bulletin', 'urgent', 'routine'];
const ITEM_KEY_ORDER = [...ITEM_ALLOWED_KEYS];
const TOPIC_RE = /^[A-Za-z0-9_.-]{1,64}$/;

/** Check an item object against the wire contract (key order, types, shapes). */
export function assertItemShape(item, where = 'item') {
  assert.ok(item && typeof item === 'object' && !Array.isArray(item), `${where}: not an object: ${JSON.stringify(item)}`);
  const keys = Object.keys(item);
  assert.deepEqual(keys.slice(0, ITEM_REQUIRED_KEYS.length), ITEM_REQUIRED_KEYS,
    `${where}: keys must start with ${ITEM_REQUIRED_KEYS.join(',')}; got ${keys.join(',')}`);
  for (const k of keys) assert.ok(ITEM_ALLOWED_KEYS.has(k), `${where}: unexpected key ${JSON.stringify(k)} in ${JSON.stringify(item)}`);
  assert.equal(typeof item.id, 'string', `${where}: id must be a string`);
  assert.ok(item.id.length > 0, `${where}: empty id`);
  assert.match(item.seq, SEQ_RE, `${where}: seq must be a stream entry id "ms-n"`);
  assert.match(item.topic, TOPIC_RE, `${where}: topic`);
  assert.equal(typeof item.headline, 'string', `${where}: headline must be a string`);
  assert.ok(item.headline.length > 0, `${where}: empty headline`);
  assert.match(item.time, TIME_RE, `${where}: time shape`);
  assert.ok(PRIORITIES.includes(item.priority), `${where}: priority ${JSON.stringify(item.priority)}`);
  if ('version' in item) assert.ok(Number.isInteger(item.version) && item.version >= 1, `${where}: version ${JSON.stringify(item.version)}`);
  if ('premium' in item) assert.equal(typeof item.premium, 'boolean', `${where}: premium must be boolean`);
  if ('url' in item) assert.match(item.url, /^https?:\/\//i, `${where}: url scheme`);
  if ('related' in item) assert.ok(Array.isArray(item.related), `${where}: related must be an array`);
}

/** Keys in the order the spec lists them (required, then the optional ones). */
export function assertItemKeyOrder(item, where = 'item') {
  const keys = Object.keys(item);
  assert.deepEqual(keys, [...keys].sort((a, b) => ITEM_KEY_ORDER.indexOf(a) - ITEM_KEY_ORDER.indexOf(b)),
    `${where}: keys out of spec order (${ITEM_KEY_ORDER.join(',')}): got ${keys.join(',')}`);
}

/** Assert a client's live (post-snapshot) item/retract seqs strictly increase. */
export function assertSeqIncreasing(client) {
  let prev = -1n;
  for (const m of client.afterSnapshot()) {
    if (!m.json) continue;
    const seq = m.json.type === 'item' ? m.json.item?.seq : m.json.type === 'retract' ? m.json.seq : undefined;
    if (seq === undefined) continue;
    assert.match(seq, SEQ_RE, `seq must be a stream entry id "ms-n": ${m.text}`);
    const v = seqKey(seq);
    assert.ok(v > prev, `seq not increasing (${prev} then ${v}) for ${client.url}: ${client.describe(20)}`);
    prev = v;
  }
}

/** Every message a client got is a JSON text frame. */
export function assertAllJsonText(client) {
  for (const m of client.messages) {
    assert.equal(m.isBinary, false, `binary frame received on ${client.url}`);
    assert.notEqual(m.json, undefined, `non-JSON frame on ${client.url}: ${m.text.slice(0, 200)}`);
  }
}

/**
 * The well-behaved-client check: wait until `client` (a Client or SSEClient
 * that got hello + snapshot on a fresh connection) has received the last
 * entry of `<prefix>:log` of its topics, then check its stream against the
 * log with checker.mjs (every entry after its snapshot exactly once, in
 * order, nothing extra) and that it is still connected. `log` overrides the
 * XRANGE read (e.g. entries collected while a burst ran past the log's cap).
 * Resolves { log, delivered } (delivered: the number of item/retract frames).
 */
export async function assertReceivedAll(redisPort, client, { name = 'well-behaved client', prefix = 'ticker', log, timeoutMs = 10_000, topics = [] } = {}) {
  const { readLog, streamOf, checkStream, cmpSeq, waitUntil, SEQ_RE: LOG_SEQ_RE } = await import('../checker.mjs');
  const truth = log || await readLog(redisPort, prefix);
  const stream = streamOf(name, client, topics);
  const mine = truth.filter((e) => topics.length === 0 || topics.includes(e.topic));
  if (mine.length) {
    const target = mine[mine.length - 1].seq;
    await waitUntil(() => {
      const last = stream.lastDelivered();
      return (last && LOG_SEQ_RE.test(last) && cmpSeq(last, target) >= 0) || client.closeCode !== null;
    }, timeoutMs, () => `${name} to receive up to the log's last entry ${target} (it is at ${stream.lastDelivered()}); ${client.describe()}`);
  }
  assert.equal(client.closeCode, null, `${name} was disconnected (${client.closeCode}): ${client.describe()}`);
  checkStream(stream, truth);
  const delivered = client.messages.filter((m) => m.json && (m.json.type === 'item' || m.json.type === 'retract')).length;
  return { log: truth, delivered };
}

/** The ids of the items a Client or SSEClient received, in order. */
export function receivedItemIds(c) {
  return c.messages.filter((m) => m.json && m.json.type === 'item').map((m) => m.json.item.id);
}

/**
 * Assert that client received the items `ids` (those of its items whose id
 * passes `filter`) exactly once each, in this order, with increasing seqs.
 */
export function assertItemsInOrder(c, ids, name = c.url, filter = () => true) {
  const got = receivedItemIds(c).filter(filter);
  if (got.length !== ids.length || got.some((id, i) => id !== ids[i])) {
    const have = new Set(got);
    const missing = ids.filter((id) => !have.has(id));
    const firstBad = got.findIndex((id, i) => id !== ids[i]);
    const dups = got.length - have.size;
    assert.fail(`${name}: received ${got.length} of ${ids.length} items; ${missing.length} missing`
      + (missing.length ? ` (${missing.slice(0, 5).join(' ')}${missing.length > 5 ? ` … ${missing.slice(-3).join(' ')}` : ''})` : '')
      + `${dups ? `; ${dups} duplicate(s)` : ''}; first divergence at position ${firstBad < 0 ? got.length : firstBad}: `
      + `got ${got[firstBad] ?? '(nothing)'}, expected ${ids[firstBad < 0 ? got.length : firstBad]}`);
  }
  const seqs = c.messages.filter((m) => m.json && m.json.type === 'item').map((m) => m.json.item.seq);
  for (let i = 1; i < seqs.length; i++) {
    assert.ok(seqKey(seqs[i - 1]) < seqKey(seqs[i]), `${name}: seq not increasing at ${i}: ${seqs[i - 1]} then ${seqs[i]}`);
  }
}
