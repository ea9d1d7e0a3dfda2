// `slayer check` (src/cli/commands/check.ts) spawned as users and CI call it: file:line:col diagnostics,
// exit 1 on errors, --verbose hints.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { buildCli, slayer } from '../spawnCli';

before(buildCli);

test('slayer check prints file:line:col: severity: message and exits 1 on errors', () => {
  const dir = mkdtempSync(join(tmpdir(), 'slayer-cli-'));
  const bad = join(dir, 'bad.slayer');
  writeFileSync(bad, 'model meta-llama/Llama-2-7b-hf\nexpand (2+1)x8 | 1q3\nmodle x\n');
  const r = slayer('check', bad, 'examples/llama-pro.slayer');
  assert.equal(r.code, 1);
  const lines = r.out.trim().split('\n');
  assert.deepEqual(lines, [
    `${bad}:2:19: error: unexpected "q3" after the segment "1" [SL021]`,
    `${bad}:3:1: error: unknown key "modle"; did you mean "model"? [SL002]`,
  ]);
  const ok = slayer('check', 'examples/slayer-8b.slayer', 'examples/llama-pro.slayer');
  assert.equal(ok.code, 0, ok.out + ok.err);
  assert.equal(ok.out, '');
  // --verbose adds hints: the paper's implied deletion (room for the final block) is none.
  const verbose = slayer('check', '--verbose', 'examples/slayer-8b.slayer');
  assert.equal(verbose.out, '');
  const hinted = join(dir, 'hinted.slayer');
  writeFileSync(hinted, 'model meta-llama/Llama-2-7b-hf\nexpand (4+1)x7 | 2\ntrain new, head\n');
  assert.match(slayer('check', '--verbose', hinted).out, /hinted.slayer:2:8: hint: the segments cover 30 of 32 blocks, so the deepest 2 \(blocks 30–31\) are deleted \[SL023\]/);
});
