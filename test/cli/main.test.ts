// The CLI's entry point (src/cli/main.ts) spawned: usage errors and unknown commands exit 2, --help 0.
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { buildCli, slayer } from './spawnCli';

before(buildCli);

test('usage errors and unknown commands exit 2', () => {
  assert.equal(slayer().code, 2);
  assert.equal(slayer('frobnicate').code, 2);
  assert.equal(slayer('compile').code, 2);
  assert.equal(slayer('--help').code, 0);
});
