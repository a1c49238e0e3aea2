// The front-end every site loads, ticker.js and the modules it imports
// statically, stays under 10 KB gzipped (10,000 bytes), measured as README
// says, and README gives the figure as it is. ticker/token.js, which only a
// page that gives a tokenProvider loads (a dynamic import()), is measured on
// its own; no other module may escape the count.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { REPO } from '../e2e/lib/config.mjs';

const BUDGET = 10_000;
const ON_DEMAND = ['token.js']; // in web/ticker/, imported with import() only
const ON_DEMAND_BUDGET = 1_500;

const gz = (files) => execFileSync('gzip', ['-9'], { input: Buffer.concat(files.map((f) => fs.readFileSync(f))) }).length;
const readme = () => fs.readFileSync(path.join(REPO, 'README.md'), 'utf8');

test(`ticker.js and the modules it imports: at most ${BUDGET.toLocaleString('en')} bytes gzipped together, the figure README gives`, () => {
  const dir = path.join(REPO, 'web', 'ticker');
  const modules = fs.readdirSync(dir).filter((f) => f.endsWith('.js')).sort();
  // Every module is loaded up front, except those imported on demand.
  const src = fs.readFileSync(path.join(REPO, 'web', 'ticker.js'), 'utf8');
  for (const f of ON_DEMAND) {
    assert.match(src, new RegExp(`import\\('\\./ticker/${f.replace('.', '\\.')}'\\)`), `${f} is imported on demand`);
    assert.doesNotMatch(src, new RegExp(`from '\\./ticker/${f.replace('.', '\\.')}'`), `${f} is not imported up front`);
  }
  const files = [path.join(REPO, 'web', 'ticker.js'),
    ...modules.filter((f) => !ON_DEMAND.includes(f)).map((f) => path.join(dir, f))];
  // cat web/ticker.js web/ticker/[!t]*.js | gzip -9 | wc -c
  const size = gz(files);
  assert.ok(size <= BUDGET, `${size} bytes gzipped: over the ${BUDGET}-byte budget`);
  assert.match(readme(), new RegExp(`gzip -9 \\| wc -c\`: ${size.toLocaleString('en')} bytes`), `README should say ${size.toLocaleString('en')} bytes`);
});

test(`ticker/token.js, loaded only with a tokenProvider: at most ${ON_DEMAND_BUDGET.toLocaleString('en')} bytes gzipped, the figure README gives`, () => {
  const size = gz([path.join(REPO, 'web', 'ticker', 'token.js')]);
  assert.ok(size <= ON_DEMAND_BUDGET, `${size} bytes gzipped: over ${ON_DEMAND_BUDGET}`);
  assert.match(readme(), new RegExp(`token\\.js \\| gzip -9 \\| wc -c\`: ${size.toLocaleString('en')} bytes`), `README should say ${size.toLocaleString('en')} bytes`);
});
