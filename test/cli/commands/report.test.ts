// `slayer report` (src/cli/commands/report.ts) spawned on a run directory: the files and the summary.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { makeRunDir, ROOT as root } from '../../report/runDirFixture';

test('slayer report writes the files and prints the summary', () => {
  const b = spawnSync(process.execPath, [join(root, 'scripts', 'build.mjs')], { encoding: 'utf8' });
  assert.equal(b.status, 0, b.stderr);
  const dir = makeRunDir();
  const out = join(dir, 'pictures');
  const r = spawnSync(process.execPath, [join(root, 'bin', 'slayer.js'), 'report', dir, '--out', out], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /cpt: 10 steps/);
  for (const f of ['loss.svg', 'lr.svg', 'importance.svg', 'report.html']) assert.ok(readFileSync(join(out, f), 'utf8').length > 200, f);
  const missing = spawnSync(process.execPath, [join(root, 'bin', 'slayer.js'), 'report', join(dir, 'nope')], { encoding: 'utf8' });
  assert.equal(missing.status, 1);
  assert.match(missing.stderr, /no events\.jsonl \(is this a run directory\?\)/);
});
