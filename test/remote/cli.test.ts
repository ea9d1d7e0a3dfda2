// `slayer run PLAN --on HOST`, `slayer runs`, `slayer attach`, `slayer cancel` through the real
// RunService: on localhost and over the test sshd.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runCommand } from '../../src/cli/commands/run';
import { Capture, startCliRig, type CliRig } from './harness/cliRig';
import { missingTools, SSHD } from './harness/sshd';
import { FAKE_RUNNER_DIR, tinyLayerMap } from './fixtures/tinyPlan';
import { PROJECT_PYTHON } from '../helpers/python';

const skip = missingTools([SSHD, '/usr/bin/ssh', PROJECT_PYTHON]);

describe('slayer run / runs / attach / cancel', { timeout: 120_000 }, () => {
  let rig: CliRig;
  let dir: string;
  let common: string[];
  let plan: string;
  before(async () => {
    rig = await startCliRig('slayer-cli-', { runner: FAKE_RUNNER_DIR, sshd: !skip, hosts: () => ({ localhost: {}, 'slayer-test': {} }) });
    ({ dir, common } = rig);
    plan = join(dir, 'plan.layermap.json');
    writeFileSync(plan, JSON.stringify(tinyLayerMap()));
  });
  after(() => rig?.stop());

  test('run on localhost streams metrics to the terminal and exits 0', async () => {
    const io = new Capture();
    const code = await runCommand('run', [plan, '--on', 'localhost', '--tiny', '--max-steps', '5', ...common], io);
    assert.equal(code, 0, io.stderr);
    assert.match(io.stderr, /uploading .* to localhost/);
    assert.match(io.stderr, /» succeeded \(exit 0\)/);
    assert.equal((io.stdout.match(/\[cpt\] step \d+ loss/g) ?? []).length, 5);
    const list = new Capture();
    assert.equal(await runCommand('runs', common, list), 0);
    assert.match(list.stdout, /r-\S+ {2}localhost {2}succeeded\(0\) loss/);
  });

  test('run --detach over SSH, then cancel and attach to the end', { skip: skip ?? false }, async () => {
    const io = new Capture();
    assert.equal(await runCommand('run', [plan, '--on', 'slayer-test', '--tiny', '--max-steps', '100000', '--detach', ...common], io), 0, io.stderr);
    const id = io.stdout.trim();
    assert.match(id, /^r-/);
    const c = new Capture();
    assert.equal(await runCommand('cancel', [id, ...common], c), 0, c.stderr);
    assert.match(c.stdout, /stopped process group/);
    const a = new Capture();
    assert.equal(await runCommand('attach', [id, ...common], a), 130, a.stderr);
    assert.match(a.stderr, /» cancelled/);
  });

  test('runs asks the host (a run cancelled behind its back shows cancelled); --cached does not', async () => {
    const io = new Capture();
    assert.equal(await runCommand('run', [plan, '--on', 'localhost', '--tiny', '--max-steps', '100000', '--detach', ...common], io), 0, io.stderr);
    const id = io.stdout.trim();
    const c = new Capture();
    assert.equal(await runCommand('cancel', [id, ...common], c), 0, c.stderr);
    const cached = new Capture();
    assert.equal(await runCommand('runs', ['--cached', ...common], cached), 0);
    assert.match(cached.stdout, new RegExp(`${id} {2}localhost {2}running `), 'the record as last seen');
    const fresh = new Capture();
    assert.equal(await runCommand('runs', common, fresh), 0, fresh.stderr);
    assert.match(fresh.stdout, new RegExp(`${id} {2}localhost {2}cancelled\\(\\d+\\)`));
    assert.match(fresh.stdout, new RegExp(`${id} .* plan-\\d+ `), 'the run is listed with its name');
    // The refreshed state is kept: offline listing now says cancelled too.
    const after = new Capture();
    assert.equal(await runCommand('runs', ['--cached', ...common], after), 0);
    assert.match(after.stdout, new RegExp(`${id} {2}localhost {2}cancelled`));
  });

  test('usage errors exit 2; a .slayer plan needs the compiler', async () => {
    const io = new Capture();
    assert.equal(await runCommand('run', ['--on'], io), 2);
    const io2 = new Capture();
    writeFileSync(join(dir, 'p.slayer'), 'model tiny\n');
    assert.equal(await runCommand('run', [join(dir, 'p.slayer'), '--on', 'localhost', ...common], io2), 1);
    assert.match(io2.stderr, /cannot compile \.slayer plans/);
  });
});
