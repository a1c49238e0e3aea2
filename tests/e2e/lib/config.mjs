// Paths and binaries the e2e harness uses (repo root, tickerd, redis-server, web/, fixtures).

import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const REPO = path.resolve(here, '..', '..', '..');
export const TICKERD_BIN = process.env.TICKERD_BIN || path.join(REPO, 'build', 'tickerd');
export const WEB_DIR = path.join(REPO, 'web');
export const FIXTURES = process.env.TICKERD_FIXTURES || path.resolve(REPO, '..', 'shared', 'fixtures');
export const REDIS_BIN = process.env.REDIS_SERVER_BIN || 'redis-server';
