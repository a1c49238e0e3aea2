// Screen health: named screens report the last seq they drew and whether
// they are visible; /screens lists them (lag, stale), /metrics counts them
// and the readers of each topic; bad reports get their documented answer.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { scenario, publish, uniq, httpGet, getMetrics, connectSSE, freePort, assertTickerctl, runTickerctl } from './harness.mjs';

const T = { timeout: 60_000 };

const report = (name, seq, visible = true) => JSON.stringify({ type: 'screen', name, seq, visible });

async function screens(port) {
  const r = await httpGet(port, '/screens');
  assert.equal(r.status, 200, r.text);
  assert.match(r.headers['content-type'], /^application\/json/);
  return JSON.parse(r.text);
}

const byName = (list, name) => list.screens.find((s) => s.name === name);

/** Poll /screens until pred(list) holds; returns the list. */
async function screensUntil(port, pred, what, timeoutMs = 8000) {
  const end = Date.now() + timeoutMs;
  let last;
  while (Date.now() < end) {
    last = await screens(port);
    if (pred(last)) return last;
    await sleep(100);
  }
  assert.fail(`${what}: ${JSON.stringify(last)}`);
}

const count = (text, re) => (text.match(re) || []).length;

/** Wait (a little) for a log line: stderr is read as it comes. */
async function logged(tickerd, re, timeoutMs = 2000) {
  const end = Date.now() + timeoutMs;
  while (!re.test(tickerd.log()) && Date.now() < end) await sleep(50);
  assert.match(tickerd.log(), re);
}

test('two named screens: lag against what was published, one stops reporting and turns stale once', T, scenario(async (t, h) => {
  const { redis, tickerd } = await h.env({ args: ['--stale-after', '3s'] });
  const tag = uniq('s');
  const lobby = await h.client(tickerd.wsUrl('?topics=breaking'));
  const wall = await h.client(tickerd.wsUrl('?topics=breaking,world'));
  await lobby.ready();
  await wall.ready();

  // Three items on breaking, two on world: each screen sees its own.
  const seqs = [];
  for (const [topic, n] of [['breaking', 1], ['world', 1], ['breaking', 2], ['world', 2], ['breaking', 3]]) {
    const headline = `${tag} ${topic} ${n}`;
    await publish(redis.port, `ticker:${topic}`, JSON.stringify({ id: `${tag}-${topic}-${n}`, headline }));
    seqs.push({ topic, seq: (await wall.nextItem(headline)).item.seq });
  }
  const first = seqs[0].seq;
  // lobby drew only the first breaking item: 2 breaking items behind;
  // wall drew everything: none behind.
  lobby.ws.send(report('lobby', first, true));
  wall.ws.send(report('wall-1', seqs[4].seq, false));
  const list = await screensUntil(tickerd.port, (l) => byName(l, 'lobby') && byName(l, 'wall-1'), 'both screens listed');
  assert.equal(list.stale_after_s, 3);
  const l = byName(list, 'lobby'), w = byName(list, 'wall-1');
  assert.deepEqual(l.topics, ['breaking']);
  assert.deepEqual(w.topics, ['breaking', 'world']);
  assert.equal(l.address, '127.0.0.1');
  assert.equal(l.connected, true);
  assert.equal(l.seq, first);
  assert.equal(l.visible, true);
  assert.equal(w.visible, false);
  assert.equal(l.lag_messages, 2, JSON.stringify(l));
  assert.equal(w.lag_messages, 0, JSON.stringify(w));
  assert.equal(w.lag_s, 0);
  // lag_s: since the oldest breaking item lobby has not drawn was logged.
  const oldestUndrawn = Number(seqs[2].seq.split('-')[0]);
  assert.ok(Math.abs(l.lag_s - Math.floor((Date.now() - oldestUndrawn) / 1000)) <= 1, JSON.stringify(l));
  for (const s of [l, w]) {
    assert.match(s.connected_since, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.match(s.last_heard, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  }
  let m = await getMetrics(tickerd.port);
  assert.equal(m.value('tickerd_screens_connected'), 2);

  // wall-1 keeps reporting; lobby stops: stale within --stale-after, logged once.
  const keep = setInterval(() => wall.ws.send(report('wall-1', seqs[4].seq, true)), 2100);
  t.after(() => clearInterval(keep));
  const stopped = Date.now();
  const stale = await screensUntil(tickerd.port, (x) => byName(x, 'lobby').stale, 'lobby stale', 6000);
  assert.ok(Date.now() - stopped <= 3000 + 1500, `stale ${Date.now() - stopped} ms after its last report`);
  assert.ok(['silent', 'lagging'].includes(byName(stale, 'lobby').stale_reason), JSON.stringify(stale));
  await sleep(2500); // a few sweeps more: still one log line
  const after = await screens(tickerd.port);
  assert.equal(byName(after, 'lobby').stale, true);
  assert.equal(byName(after, 'wall-1').stale, false, JSON.stringify(after));
  assert.equal(count(tickerd.log(), /screen lobby is stale/g), 1, tickerd.log());
  assert.equal(count(tickerd.log(), /screen wall-1 is stale/g), 0, tickerd.log());
  m = await getMetrics(tickerd.port);
  assert.equal(m.value('tickerd_screens_stale'), 1);
  assert.equal(m.value('tickerd_screens_stale_total'), 1);
  assert.ok(m.value('tickerd_screen_reports_total') >= 3);

  // lobby draws everything and reports again (its 2 s have long passed): fresh.
  lobby.ws.send(report('lobby', seqs[4].seq, true));
  const fresh = await screensUntil(tickerd.port, (x) => !byName(x, 'lobby').stale, 'lobby fresh again');
  assert.equal(byName(fresh, 'lobby').lag_messages, 0);
  await logged(tickerd, /screen lobby is fresh again/);
  assert.equal(count(tickerd.log(), /screen lobby is fresh again/g), 1);

  // Gone: still listed, not connected; stale once it has been silent 2 s.
  lobby.close();
  await screensUntil(tickerd.port, (x) => !byName(x, 'lobby').connected, 'lobby disconnected');
  m = await getMetrics(tickerd.port);
  assert.equal(m.value('tickerd_screens_connected'), 1);
  await screensUntil(tickerd.port, (x) => byName(x, 'lobby').stale, 'lobby stale when gone', 6000);
  t.diagnostic(JSON.stringify(await screens(tickerd.port)));
}));

test('a screen that reports but lags past --stale-after is stale (lagging)', T, scenario(async (t, h) => {
  const { redis, tickerd } = await h.env({ args: ['--stale-after', '3s'] });
  const tag = uniq('l');
  const c = await h.client(tickerd.wsUrl('?topics=world'));
  await c.ready();
  const headline = `${tag} world`;
  await publish(redis.port, 'ticker:world', headline);
  await c.nextItem(headline);
  // It keeps saying it drew nothing: one item behind, older and older.
  const keep = setInterval(() => c.ws.send(report('behind', null, true)), 2100);
  t.after(() => clearInterval(keep));
  c.ws.send(report('behind', null, true));
  const l = await screensUntil(tickerd.port, (x) => byName(x, 'behind')?.stale, 'lagging screen stale', 8000);
  const s = byName(l, 'behind');
  assert.equal(s.stale_reason, 'lagging', JSON.stringify(s));
  assert.equal(s.seq, null);
  assert.equal(s.lag_messages, 1);
  assert.ok(s.lag_s >= 3, JSON.stringify(s));
  await logged(tickerd, /screen behind is stale: 1 messages behind/);
}));

test('bad screen reports: their close code and reason, a counter each; anything else is ignored as before', T, scenario(async (t, h) => {
  const { tickerd } = await h.env();
  const cases = [
    ['bad_name', report('x'.repeat(65), null), 1008, /name must be 1-64/],
    ['bad_name', report('lob by', null), 1008, /name must be 1-64/],
    ['bad_name', JSON.stringify({ type: 'screen', name: 42, seq: null, visible: true }), 1008, /name must be/],
    ['bad_seq', JSON.stringify({ type: 'screen', name: 'a', seq: 17, visible: true }), 1008, /seq must be a seq or null/],
    ['bad_seq', report('a', 'yesterday'), 1008, /seq must be/],
    ['bad_visible', JSON.stringify({ type: 'screen', name: 'a', seq: null, visible: 'yes' }), 1008, /visible must be true or false/],
    ['bad_json', '{"type":"screen",', 1008, /not \{"type":"screen"/],
    ['bad_json', '{"type":"hello"}', 1008, /not \{"type":"screen"/],
    ['too_large', JSON.stringify({ type: 'screen', name: 'a', seq: null, visible: true, pad: 'p'.repeat(1100) }), 1009, /over 1024 bytes/],
  ];
  for (const [reason, text, code, why] of cases) {
    const c = await h.client(tickerd.wsUrl());
    await c.ready();
    c.ws.send(text);
    const closed = await Promise.race([c.closed, sleep(3000).then(() => null)]);
    assert.ok(closed, `${reason}: not closed`);
    assert.equal(closed.code, code, `${reason}: ${JSON.stringify(closed)}`);
    assert.match(closed.reason, why, reason);
  }
  // Other text (not begun with '{') and binary messages: ignored, as before.
  const plain = await h.client(tickerd.wsUrl());
  await plain.ready();
  plain.ws.send('hello there');
  plain.ws.send(Buffer.from('{"type":"screen"}'));

  // Too frequent: the second report within 2 s is ignored (counted), the connection stays.
  const fast = await h.client(tickerd.wsUrl());
  await fast.ready();
  fast.ws.send(report('fast', null));
  fast.ws.send(report('fast', null));
  fast.ws.send(report('fast', null));
  // Another name on the same connection: refused with 1008.
  await sleep(2100);
  fast.ws.send(report('slow', null));
  const renamed = await Promise.race([fast.closed, sleep(3000).then(() => null)]);
  assert.equal(renamed?.code, 1008);
  assert.match(renamed.reason, /another name than before/);

  // A name another connection holds and reported on lately: ignored, the
  // newcomer's connection left alone (a second wall of the same name keeps
  // showing the news).
  const holder = await h.client(tickerd.wsUrl('?topics=breaking'));
  await holder.ready();
  holder.ws.send(report('lobby', null));
  await screensUntil(tickerd.port, (x) => byName(x, 'lobby')?.connected, 'lobby named');
  const thief = await h.client(tickerd.wsUrl('?topics=world'));
  await thief.ready();
  thief.ws.send(report('lobby', null));

  await sleep(300);
  assert.equal(plain.closeCode ?? null, null, 'plain text and binary messages are not answered');
  assert.equal(holder.closeCode ?? null, null);
  const m = await getMetrics(tickerd.port);
  const refused = (reason) => m.value('tickerd_screen_reports_refused_total', { reason });
  assert.equal(refused('bad_name'), 3);
  assert.equal(refused('bad_seq'), 2);
  assert.equal(refused('bad_visible'), 1);
  assert.equal(refused('bad_json'), 2);
  assert.equal(refused('too_large'), 1);
  assert.equal(refused('too_frequent'), 2);
  assert.equal(refused('name_changed'), 1);
  assert.equal(refused('name_taken'), 1);
  assert.equal(thief.closeCode ?? null, null, 'name_taken: ignored, not closed');
  assert.equal(refused('full'), 0);
  await logged(tickerd, /screen report from 127\.0\.0\.1 refused: bad_name/);
  const list = await screens(tickerd.port);
  assert.deepEqual(list.screens.map((s) => s.name).sort(), ['fast', 'lobby'], 'only the screens that named themselves');
  assert.deepEqual(byName(list, 'lobby').topics, ['breaking'], 'still the holder');
}));

test('a screen back before its old connection is seen to close takes its name over once the old one is silent 10 s', { timeout: 40_000 }, scenario(async (t, h) => {
  const { tickerd } = await h.env();
  const old = await h.client(tickerd.wsUrl('?topics=breaking'));
  await old.ready();
  old.ws.send(report('lobby', null));
  await screensUntil(tickerd.port, (x) => byName(x, 'lobby')?.connected, 'lobby named');
  const heard = Date.now();
  // The old connection stays open but says nothing more (a frozen page, a
  // half-open socket); the screen comes back on a new one, reporting every 2.1 s.
  const back = await h.client(tickerd.wsUrl('?topics=world'));
  await back.ready();
  back.ws.send(report('lobby', null));
  const keep = setInterval(() => back.ws.send(report('lobby', null)), 2100);
  t.after(() => clearInterval(keep));
  const l = await screensUntil(tickerd.port, (x) => byName(x, 'lobby')?.topics[0] === 'world', 'taken over', 16_000);
  const after = Date.now() - heard;
  assert.ok(after >= 10_000 && after <= 13_500, `taken over ${after} ms after the old connection's last report`);
  assert.equal(byName(l, 'lobby').connected, true);
  await logged(tickerd, /screen lobby taken over by a new connection: the old one sent nothing for 1\d s/);
  const m = await getMetrics(tickerd.port);
  assert.ok(m.value('tickerd_screen_reports_refused_total', { reason: 'name_taken' }) >= 3);
  assert.equal(back.closeCode ?? null, null);
  // The old connection closing now changes nothing: the name is the new one's.
  old.close();
  await sleep(500);
  assert.equal(byName(await screens(tickerd.port), 'lobby').connected, true);
}));

test('/metrics: readers per topic, exact, anonymous and EventSource included; /screens lists named ones only', T, scenario(async (t, h) => {
  const { tickerd } = await h.env();
  const open = async (q) => { const c = await h.client(tickerd.wsUrl(q)); await c.ready(); return c; };
  await open('');
  await open('');
  await open('?topics=breaking');
  await open('?topics=breaking,world');
  const named = await open('?topics=sport');
  named.ws.send(report('foyer', null));
  const sse = await connectSSE(tickerd.port, '/events?topics=world');
  h.clients.push(sse);
  await sse.ready(5000);
  await screensUntil(tickerd.port, (x) => byName(x, 'foyer'), 'foyer named');
  const m = await getMetrics(tickerd.port);
  const readers = Object.fromEntries(m.byName('tickerd_readers').map((s) => [s.labels.topic, s.value]));
  assert.deepEqual(readers, { '*': 2, breaking: 2, world: 2, sport: 1 });
  assert.equal(m.value('tickerd_screens_connected'), 1);
  assert.equal(m.value('tickerd_screens_stale'), 0);
  const list = await screens(tickerd.port);
  assert.equal(list.screens.length, 1);
  assert.equal(list.stale_after_s, 30, 'the default --stale-after');
}));

test('tickerctl screens: the table from /screens; exit 1 when a screen is stale, 3 when tickerd is not there', T, scenario(async (t, h) => {
  assertTickerctl();
  const { redis, tickerd } = await h.env({ args: ['--stale-after', '3s'] });
  const none = await runTickerctl(['screens', '--tickerd', `127.0.0.1:${tickerd.port}`]);
  assert.equal(none.code, 0, none.stderr);
  assert.match(none.stdout, /^NAME\s+STATE\s+SEQ\s+LAG\s+LAG_S\s+VISIBLE\s+ADDRESS\s+LAST_HEARD\s+TOPICS\n$/);

  const c = await h.client(tickerd.wsUrl('?topics=breaking,world'));
  await c.ready();
  const headline = `${uniq('ctl')} on the wall`;
  await publish(redis.port, 'ticker:breaking', headline);
  const seq = (await c.nextItem(headline)).item.seq;
  c.ws.send(report('lobby', seq, true));
  await screensUntil(tickerd.port, (x) => byName(x, 'lobby'), 'lobby named');
  // TICKERD_LISTEN, as tickerd reads it, says where it is.
  const ok = await runTickerctl(['screens'], { env: { TICKERD_LISTEN: `127.0.0.1:${tickerd.port}` } });
  assert.equal(ok.code, 0, ok.stderr);
  const line = ok.stdout.split('\n')[1].split(/\s+/);
  assert.deepEqual(line.slice(0, 7), ['lobby', 'ok', seq, '0', '0', 'yes', '127.0.0.1'], ok.stdout);
  assert.equal(line[8], 'breaking,world');

  c.close(); // gone, then stale
  await screensUntil(tickerd.port, (x) => byName(x, 'lobby').stale, 'lobby stale', 8000);
  const stale = await runTickerctl(['screens', '--tickerd', `127.0.0.1:${tickerd.port}`]);
  assert.equal(stale.code, 1, stale.stderr);
  assert.match(stale.stdout, /\nlobby\s+gone,stale:silent\s/);

  const away = await runTickerctl(['screens', '--tickerd', `127.0.0.1:${await freePort()}`]);
  assert.equal(away.code, 3);
  assert.match(away.stderr, /^tickerctl: tickerd at 127\.0\.0\.1:\d+: Connection refused\n$/);
  const bad = await runTickerctl(['tail', '--tickerd', '127.0.0.1:1']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /tail takes no --tickerd/);
}));
