// What installing tickerd uses: its man page and example config (printed from the table of
// settings), the systemd units (systemd-analyze verify), the Debian package's version.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { scenario, runTickerd, makeTmpDir, removeTmpDir, REPO, TICKERD_BIN } from './harness.mjs';

const T = { timeout: 30_000 };
const has = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;

// The settings as --help-markdown lists them: flag, short flag, variable, default.
async function settings() {
  const r = await runTickerd(['--help-markdown']);
  assert.equal(r.code, 0, r.stderr);
  return [...r.stdout.matchAll(/^\| (?:`(-[a-zA-Z])`, )?`(--[a-z-]+) [^`]*` \| `(TICKERD_[A-Z_]+)` \| (?:`([^`]*)`|none) \|/gm)]
    .map(([, short, flag, variable, def]) => ({ short, flag, variable, def }));
}

test('tickerd --help-man: tickerd(8) names every setting with its variable and default, every action, and groff renders it without a warning', T, scenario(async (t) => {
  const r = await runTickerd(['--help-man']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^\.\\" tickerd\(8\)/);
  assert.match(r.stdout, /^\.TH TICKERD 8 /m);
  const dir = makeTmpDir('tickerd-e2e-man-');
  t.after(() => removeTmpDir(dir));
  const page = path.join(dir, 'tickerd.8');
  fs.writeFileSync(page, r.stdout);

  // -ww: every warning groff has; -P-cbou: plain text out.
  const g = spawnSync('groff', ['-ww', '-man', '-Tutf8', '-P-c', '-P-b', '-P-o', '-P-u', page], { encoding: 'utf8', env: { ...process.env, LANG: 'C.UTF-8' } });
  assert.equal(g.status, 0, g.stderr);
  assert.equal(g.stderr, '', `groff warns:\n${g.stderr}`);
  // One line per paragraph, hyphens and minus signs as '-' (groff may render \- as U+2212).
  const text = g.stdout.replace(/[\u2010\u2212]/g, '-').replace(/\s+/g, ' ');
  const rows = await settings();
  assert.ok(rows.length >= 15, `settings: ${rows.length}`);
  const web = (await runTickerd(['--print-config'])).stdout.match(/^# web = (.*)$/m)[1];
  for (const s of rows) {
    assert.ok(text.includes(`${s.short ? `${s.short}, ` : ''}${s.flag} `), `the man page lacks ${s.flag}`);
    assert.ok(text.includes(s.variable), `the man page lacks ${s.variable}`);
    // --web's default is this build's folder, not the README's $(PREFIX).
    const def = s.flag === '--web' ? web : s.def;
    if (def) assert.ok(text.includes(`default ${def}.`), `the man page lacks ${s.flag}'s default ${def}`);
  }
  for (const a of ['--print-config', '--help', '--version', '--help-config', '--help-man', '--help-markdown', 'SIGHUP', 'SIGTERM', 'WATCHDOG=1', 'READY=1']) {
    assert.ok(text.includes(a), `the man page lacks ${a}`);
  }
  assert.ok(text.includes(`${web}/`), `FILES does not name ${web}`);

  // man -l, as a reader would: no warning either (man-db passes --warnings to groff).
  if (has('man')) {
    const m = spawnSync('man', ['--warnings=w', '-l', page], { encoding: 'utf8', env: { ...process.env, MANPAGER: 'cat', PAGER: 'cat', MANWIDTH: '80', LANG: 'C.UTF-8' } });
    assert.equal(m.status, 0, m.stderr);
    assert.equal(m.stderr, '', `man -l warns:\n${m.stderr}`);
    assert.match(m.stdout, /TICKERD\(8\)/);
  } else {
    t.diagnostic('man is not installed: man -l not tried');
  }
}));

test('deploy/tickerd.conf.example is what tickerd --help-config prints, and as a --config file leaves every setting at its default', T, scenario(async () => {
  const r = await runTickerd(['--help-config']);
  assert.equal(r.code, 0, r.stderr);
  const file = path.join(REPO, 'deploy', 'tickerd.conf.example');
  assert.equal(fs.readFileSync(file, 'utf8'), r.stdout,
    'deploy/tickerd.conf.example differs from `tickerd --help-config`; regenerate it: build/tickerd --help-config > deploy/tickerd.conf.example');
  for (const s of await settings()) {
    if (s.flag === '--config') continue;
    assert.match(r.stdout, new RegExp(`^# ${s.flag.slice(2)} = `, 'm'), `no line for ${s.flag}`);
    assert.ok(r.stdout.includes(s.variable), `no ${s.variable}`);
  }
  assert.ok(r.stdout.split('\n').every((l) => l === '' || l.startsWith('#')), 'a line that is not a comment');
  assert.ok(r.stdout.split('\n').every((l) => l.length <= 79), 'a line longer than 79');
  const p = await runTickerd(['--print-config', '--config', file]);
  assert.equal(p.code, 0, p.stderr);
  assert.deepEqual(p.stdout.split('\n').filter((l) => /^[a-z-]+ = /.test(l)), [], 'the example sets something');
}));

const UNITS = ['tickerd.service', 'tickerd@.service'];
const unitText = (u) => fs.readFileSync(path.join(REPO, 'deploy', 'systemd', u), 'utf8');
const directive = (text, key) => [...text.matchAll(new RegExp(`^${key}=(.*)$`, 'gm'))].map((m) => m[1]);

test('the systemd units: Type=notify with a watchdog tickerd can pet, a reload, the config, a sandbox', T, scenario(async () => {
  for (const u of UNITS) {
    const text = unitText(u);
    assert.deepEqual(directive(text, 'Type'), ['notify'], u);
    // tickerd pets the watchdog from its 1 s sweep: WatchdogSec must leave room for it.
    const wd = directive(text, 'WatchdogSec');
    assert.equal(wd.length, 1, u);
    assert.ok(Number(wd[0]) >= 3, `${u}: WatchdogSec=${wd[0]} is less than 3 s`);
    assert.deepEqual(directive(text, 'ExecReload'), ['/bin/kill -HUP $MAINPID'], u);
    assert.match(directive(text, 'ExecStart')[0], /^\/usr\/bin\/tickerd --config \/etc\/tickerd\/(tickerd|%i)\.conf$/, u);
    for (const [k, v] of [['ProtectSystem', 'strict'], ['ProtectHome', 'yes'], ['NoNewPrivileges', 'yes'], ['PrivateTmp', 'yes'],
      ['RestrictAddressFamilies', 'AF_INET AF_INET6 AF_UNIX'], ['LimitNOFILE', '65536'], ['DynamicUser', 'yes'], ['User', 'tickerd']]) {
      assert.deepEqual(directive(text, k), [v], `${u}: ${k}`);
    }
  }
}));

test('systemd-analyze verify accepts both units (and refuses a broken one)', T, scenario(async (t) => {
  if (!has('systemd-analyze')) {
    t.skip('systemd-analyze is not installed (Debian package systemd)');
    return;
  }
  const dir = makeTmpDir('tickerd-e2e-units-');
  t.after(() => removeTmpDir(dir));
  // verify checks that ExecStart's binary exists: point it at the one under test.
  const write = (name, text) => {
    const f = path.join(dir, name);
    fs.writeFileSync(f, text.replaceAll('/usr/bin/tickerd', TICKERD_BIN));
    return f;
  };
  const files = [write('tickerd.service', unitText('tickerd.service')), write('tickerd@8081.service', unitText('tickerd@.service'))];
  const verify = (f) => spawnSync('systemd-analyze', ['verify', '--man=no', f], { encoding: 'utf8', env: { ...process.env, SYSTEMD_LOG_COLOR: '0' } });
  for (const f of files) {
    const v = verify(f);
    assert.equal(v.status, 0, `${path.basename(f)}: ${v.stderr}`);
    const ours = v.stderr.split('\n').filter((l) => l.includes(path.basename(f)) || l.includes(dir));
    assert.deepEqual(ours, [], `${path.basename(f)}: systemd-analyze says:\n${v.stderr}`);
  }
  const broken = verify(write('broken.service', unitText('tickerd.service').replace('Type=notify', 'Type=notifyy').replace('ProtectSystem=strict', 'ProtectSystem=very')));
  assert.notEqual(broken.stderr.trim(), '', 'systemd-analyze verify says nothing of a broken unit: is it working here?');
}));

test("debian/changelog's version is tickerd --version's", T, scenario(async () => {
  const r = await runTickerd(['--version']);
  const v = r.stdout.trim().replace(/^tickerd\//, '');
  const top = fs.readFileSync(path.join(REPO, 'debian', 'changelog'), 'utf8').split('\n')[0];
  assert.match(top, /^tickerd \(([^)]+)\) /);
  assert.equal(top.match(/\(([^)]+)\)/)[1].replace(/-[^-]*$/, ''), v, top);
}));
