// permessage-deflate (README "Caching and compression", "Wire protocol"):
// negotiated in tickerd's handshake, each message deflated once and the same
// bytes sent to every client that took it; clients that did not offer it get
// exactly what they got before.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import zlib from 'node:zlib';
import {
  scenario, publish, publishMany, getMetrics, uniq, rawWsOpen, wsFrame, OP,
} from './harness.mjs';

const T = { timeout: 60_000 };
const TAIL = Buffer.from([0x00, 0x00, 0xff, 0xff]);

/** A message's frames (first, continuations) put back together: { rsv, payload }. */
function messages(frames) {
  const out = [];
  let cur = null;
  for (const f of frames) {
    if (f.opcode >= 8) continue;
    if (f.opcode !== OP.CONT) cur = { rsv: f.rsv, opcode: f.opcode, parts: [], contRsv: [] };
    else cur.contRsv.push(f.rsv);
    cur.parts.push(f.payload);
    if (f.fin) {
      out.push({ rsv: cur.rsv, opcode: cur.opcode, contRsv: cur.contRsv, payload: Buffer.concat(cur.parts) });
      cur = null;
    }
  }
  return out;
}

/** The text of a message as RFC 7692 says to read it (RSV1: inflate with the tail put back). */
function textOf(m) {
  return (m.rsv & 4 ? zlib.inflateRawSync(Buffer.concat([m.payload, TAIL]), { finishFlush: zlib.constants.Z_SYNC_FLUSH }) : m.payload).toString('utf8');
}

const headlineOf = (i, tag) => `Compressed ${tag} headline number ${i}: ministers meet as talks on the budget go on into the night`;

/** Publish n items on world and wait for c (a Client) to get the last. */
async function seed(redis, c, n, tag) {
  await publishMany(redis.port, 'ticker:world', Array.from({ length: n }, (_, i) => headlineOf(i, tag)));
  await c.nextItem(headlineOf(n - 1, tag));
}

/** Wait for the raw client to have received n messages (beyond its first). */
async function rawMessages(ws, n, ms = 5000) {
  let got = [];
  await ws.conn.waitUntil(() => {
    ws._take();
    got = messages(ws.frames);
    return got.length >= n;
  }, ms);
  return got;
}

test('permessage-deflate: offered by ws clients (window 15 and 10) and raw ones, each message compressed (RSV1) once; a client that did not offer it gets the plain bytes; all read the same messages', T, scenario(async (t, h) => {
  const { redis, tickerd } = await h.env();
  const plain = await h.client(tickerd.wsUrl());
  await plain.ready();
  const tag = uniq();
  await seed(redis, plain, 30, tag);
  const before = await getMetrics(tickerd.port);

  const z15 = await h.client(tickerd.wsUrl(), { perMessageDeflate: true });
  const z10 = await h.client(tickerd.wsUrl(), { perMessageDeflate: { serverMaxWindowBits: 10 } });
  assert.equal(z15.ws.extensions, 'permessage-deflate');
  assert.equal(z10.ws.extensions, 'permessage-deflate');
  const late = await h.client(tickerd.wsUrl()); // plain again, after them
  const [r15, r10, rPlain] = await Promise.all([
    rawWsOpen(tickerd.port, '/ws', { headers: [['Sec-WebSocket-Extensions', 'permessage-deflate; client_max_window_bits']] }),
    rawWsOpen(tickerd.port, '/ws', { headers: [['Sec-WebSocket-Extensions', 'permessage-deflate; server_max_window_bits=10']] }),
    rawWsOpen(tickerd.port, '/ws'),
  ]);
  t.after(() => { r15.conn.destroy(); r10.conn.destroy(); rPlain.conn.destroy(); });
  assert.equal(r15.response.headers['sec-websocket-extensions'],
    'permessage-deflate; server_no_context_takeover; client_no_context_takeover');
  assert.equal(r10.response.headers['sec-websocket-extensions'],
    'permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=10');
  assert.equal(rPlain.response.headers['sec-websocket-extensions'], undefined);

  for (const c of [z15, z10, late]) await c.ready();
  // The same snapshot for all of them.
  for (const c of [z15, z10]) assert.deepEqual(c.snapshot, late.snapshot);
  assert.equal(late.snapshot.items.length, 30);

  const greet = { r15: await rawMessages(r15.ws, 2), r10: await rawMessages(r10.ws, 2), plain: await rawMessages(rPlain.ws, 2) };
  // The snapshot: compressed for the clients that offered it, plain for the other.
  assert.equal(greet.r15[1].rsv, 4, 'snapshot frame to a deflate client has RSV1');
  assert.equal(greet.r10[1].rsv, 4);
  assert.equal(greet.plain[1].rsv, 0, 'a client that did not offer deflate never sees RSV1');
  const plainSnapshot = greet.plain[1].payload.toString('utf8');
  assert.equal(textOf(greet.r15[1]), plainSnapshot);
  assert.equal(textOf(greet.r10[1]), plainSnapshot);
  assert.ok(greet.r15[1].payload.length * 2.5 <= greet.plain[1].payload.length,
    `30-item snapshot: ${greet.r15[1].payload.length} bytes compressed vs ${greet.plain[1].payload.length}`);
  t.diagnostic(`snapshot of 30 items: ${greet.plain[1].payload.length} B plain, ${greet.r15[1].payload.length} B (window 15), ${greet.r10[1].payload.length} B (window 10)`);

  // A live item: the same message everywhere, compressed once per window.
  const headline = `Live compressed headline ${uniq()}: markets rally as markets rally as markets rally`;
  await publish(redis.port, 'ticker:world', headline);
  const got = await Promise.all([z15, z10, plain, late].map((c) => c.nextItem(headline)));
  for (const m of got) assert.deepEqual(m, got[0]);
  const live = { r15: await rawMessages(r15.ws, 3), r10: await rawMessages(r10.ws, 3), plain: await rawMessages(rPlain.ws, 3) };
  const plainItem = live.plain[2];
  assert.equal(plainItem.rsv, 0);
  assert.ok(plainItem.payload.toString('utf8').includes(headline));
  for (const k of ['r15', 'r10']) {
    assert.equal(live[k][2].rsv, 4, `${k}: item frame has RSV1`);
    assert.equal(textOf(live[k][2]), plainItem.payload.toString('utf8'), `${k}: inflates to the plain item's bytes`);
  }
  // The ws clients' bytes are the plain clients' bytes, once inflated.
  assert.ok(z15.last.raw.equals(plainItem.payload));
  assert.ok(z10.last.raw.equals(plainItem.payload));

  const after = await getMetrics(tickerd.port);
  const m = (k, s) => s.value(k) ?? 0;
  assert.equal(m('tickerd_ws_deflate_total', after) - m('tickerd_ws_deflate_total', before), 4);
  // Once per message and window, not per client: one shared snapshot for
  // both windows, and the item for both (hellos, one per client, go plain).
  const deflated = m('tickerd_messages_deflated_total', after) - m('tickerd_messages_deflated_total', before);
  assert.ok(deflated >= 2 && deflated <= 4, `messages deflated: ${deflated}`);
  for (const k of ['r15', 'r10']) assert.equal(greet[k][0].rsv, 0, `${k}: the hello goes plain`);
}));

test('permessage-deflate: offers tickerd cannot take are declined, never refused; --compress=no declines every offer', T, scenario(async (t, h) => {
  const { tickerd } = await h.env();
  const declined = [
    'permessage-deflate; server_max_window_bits=8',
    'permessage-deflate; server_max_window_bits=16',
    'permessage-deflate; bogus_param',
    'permessage-deflate; server_no_context_takeover=yes',
    'permessage-deflate; server_max_window_bits="10',
    'x-webkit-deflate-frame',
  ];
  for (const offer of declined) {
    const r = await rawWsOpen(tickerd.port, '/ws', { headers: [['Sec-WebSocket-Extensions', offer]] });
    assert.equal(r.status, 101, `offer "${offer}"`);
    assert.equal(r.response.headers['sec-websocket-extensions'], undefined, `offer "${offer}" declined`);
    await r.ws.ready();
    assert.ok(r.ws.frames.every((f) => f.rsv === 0), `offer "${offer}": no RSV1`);
    r.conn.destroy();
  }
  // Two offers, the first declined: the second is taken.
  const two = await rawWsOpen(tickerd.port, '/ws', { headers: [['Sec-WebSocket-Extensions', 'permessage-deflate; server_max_window_bits=8, permessage-deflate; server_max_window_bits=12']] });
  assert.match(two.response.headers['sec-websocket-extensions'], /server_max_window_bits=12$/);
  two.conn.destroy();

  const off = await h.tickerd({ redisUrl: tickerd.redisUrl ?? h.redises[0].url, args: ['--compress=no'] });
  const r = await rawWsOpen(off.port, '/ws', { headers: [['Sec-WebSocket-Extensions', 'permessage-deflate']] });
  assert.equal(r.status, 101);
  assert.equal(r.response.headers['sec-websocket-extensions'], undefined);
  const z = await h.client(off.wsUrl(), { perMessageDeflate: true });
  assert.equal(z.ws.extensions, '');
  await z.ready();
  r.conn.destroy();
}));

test('permessage-deflate: a client\'s compressed messages are inflated (fragments, a ping between them); corrupt data gets 1002, a bomb 1009, RSV1 without the extension 1002', T, scenario(async (t, h) => {
  const { redis, tickerd } = await h.env({ args: ['--max-message', '4096'] });
  const offer = [['Sec-WebSocket-Extensions', 'permessage-deflate']];
  const deflate = (s) => {
    const z = zlib.deflateRawSync(Buffer.from(s), { finishFlush: zlib.constants.Z_SYNC_FLUSH });
    return z.subarray(0, z.length - 4);
  };
  const outcome = async (ws) => {
    const c = await ws.closeFrame(3000);
    return c ? `close ${c.code}` : 'no close';
  };

  // A compressed UTF-8 text, in two fragments with a ping between: fine.
  const ok = await rawWsOpen(tickerd.port, '/ws', { headers: offer });
  await rawMessages(ok.ws, 2);
  const body = deflate('hello there, ' + 'é'.repeat(200));
  await ok.ws.send(wsFrame({ opcode: OP.TEXT, rsv: 4, fin: false, payload: body.subarray(0, 10) }));
  await ok.ws.send(wsFrame({ opcode: OP.PING, payload: 'mid' }));
  await ok.ws.send(wsFrame({ opcode: OP.CONT, payload: body.subarray(10) }));
  const pong = await ok.ws.nextFrame((f) => f.opcode === OP.PONG || f.opcode === OP.CLOSE, 3000);
  assert.equal(pong?.opcode, OP.PONG, `compressed fragments: ${ok.ws.describe()}`);
  const headline = `After a compressed message ${uniq()}`;
  await publish(redis.port, 'ticker:world', headline);
  const item = await ok.ws.nextFrame((f) => f.opcode === OP.TEXT && f.rsv === 4
    && textOf({ rsv: 4, payload: f.payload }).includes(headline), 3000);
  assert.ok(item, `still fed after its compressed message: ${ok.ws.describe()}`);
  ok.conn.destroy();

  // Compressed text that is not UTF-8 once inflated: 1007.
  const cases = [
    ['invalid UTF-8 inside', offer, wsFrame({ opcode: OP.TEXT, rsv: 4, payload: deflate(Buffer.from([0xc3, 0x28])) }), 'close 1007'],
    ['corrupt deflate data', offer, wsFrame({ opcode: OP.TEXT, rsv: 4, payload: Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff]) }), 'close 1002'],
    ['a bomb past --max-message', offer, wsFrame({ opcode: OP.TEXT, rsv: 4, payload: deflate('a'.repeat(200_000)) }), 'close 1009'],
    ['RSV1 on a continuation', offer, Buffer.concat([
      wsFrame({ opcode: OP.TEXT, rsv: 4, fin: false, payload: deflate('ab') }),
      wsFrame({ opcode: OP.CONT, rsv: 4, payload: Buffer.alloc(0) })]), 'close 1002'],
    ['RSV1 on a ping', offer, wsFrame({ opcode: OP.PING, rsv: 4, payload: 'x' }), 'close 1002'],
    ['RSV1 without the extension', [], wsFrame({ opcode: OP.TEXT, rsv: 4, payload: deflate('hi') }), 'close 1002'],
  ];
  const got = [];
  for (const [what, headers, frame, want] of cases) {
    const r = await rawWsOpen(tickerd.port, '/ws', { headers });
    await rawMessages(r.ws, 2);
    await r.ws.send(frame);
    got.push([what, await outcome(r.ws)]);
    r.conn.destroy();
    assert.equal(got.at(-1)[1], want, what);
  }
  t.diagnostic(JSON.stringify(got));
  assert.ok(tickerd.isRunning());
  const m = await getMetrics(tickerd.port);
  assert.ok(m.value('tickerd_clients_closed_total', { code: '1009' }) >= 1, 'the bomb is counted');
}));
