// `slayer run` (src/cli/commands/run.ts) spawned: refusals before any host is touched. The run commands
// against real hosts are walked in test/remote/cli.test.ts.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { buildCli, slayer } from '../spawnCli';

before(buildCli);

test('slayer run refuses bad phases, datasets and step caps before touching any host', () => {
  const bad = (args: string[], message: RegExp): void => {
    const r = slayer('run', 'examples/demo.slayer', '--on', 'localhost', ...args, '--store', mkdtempSync(join(tmpdir(), 'slayer-store-')));
    assert.equal(r.code, 2, r.err);
    assert.match(r.err, message);
  };
  bad(['--phases', 'doctor,fly'], /unknown phase "fly" \(phases: doctor, surgery, importance, train, eval\)/);
  bad(['--data', 'nopath'], /--data needs NAME=PATH, got "nopath"/);
  bad(['--max-steps', '0'], /--max-steps takes a whole number ≥ 1, got "0"/);
});
