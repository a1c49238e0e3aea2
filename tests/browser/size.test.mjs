// The front-end a site loads, ticker.js and the modules it imports, stays
// under 10 KB gzipped (10,000 bytes), measured as README says, and README
// gives the figure as it is.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { REPO } from '../e2e/lib/config.mjs';

const BUDGET = 10_000;

test(`ticker.js and web/ticker/*.js: at most ${BUDGET.toLocaleString('en')} bytes gzipped together, the figure README gives`, () => {
  const dir = path.join(REPO, 'web', 'ticker');
  const files = [path.join(REPO, 'web', 'ticker.js'),
    ...fs.readdirSync(dir).filter((f) => f.endsWith('.js')).sort().map((f) => path.join(dir, f))];
  // cat web/ticker.js web/ticker/*.js | gzip -9 | wc -c
  const size = execFileSync('gzip', ['-9'], { input: Buffer.concat(files.map((f) => fs.readFileSync(f))) }).length;
  assert.ok(size <= BUDGET, `${size} bytes gzipped: over the ${BUDGET}-byte budget`);
  const readme = fs.readFileSync(path.join(REPO, 'README.md'), 'utf8');
  assert.match(readme, new RegExp(`gzip -9 \\| wc -c\`: ${size.toLocaleString('en')} bytes`), `README should say ${size.toLocaleString('en')} bytes`);
});
