// `slayer explain` (src/cli/commands/explain.ts) spawned: every block with its sources, and the totals.
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { buildCli, slayer } from '../spawnCli';

before(buildCli);

test('slayer explain shows every block with 0-based and paper 1-based sources, and the totals', () => {
  const r = slayer('explain', 'examples/slayer-8b.slayer');
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /^2\s+new\s+mean\(1 \(2\), 2 \(3\)\)\s+average\s+o_proj, down_proj\s+yes$/m);
  assert.match(r.out, /^37\s+final\s+mean\(29 \(30\), 30 \(31\), 31 \(32\)\)\s+final-average\s+—\s+yes$/m);
  assert.match(r.out, /depth {4}32 \+ 8 new − 2 deleted = 38 blocks/);
  assert.match(r.out, /total 7,952,715,776/);
  assert.match(r.out, /with the head 1,952,522,240/);
});
