// The run path as the editor and the CLI walk it, on localhost with the real runner: a doctor
// refusal ends the run as failed everywhere (record, host files, events, log); runs get names and
// colours; a cancelled run with a checkpoint resumes; `refreshStates` asks each host once.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { DoctorError } from '../../src/remote/runService';
import { cleanRunName, nextRunIdentity, planStem, RUN_COLORS } from '../../src/remote/runIdentity';
import { parseEventLine } from '../../src/protocol/runnerEvents';
import { makeRig, type Rig } from './harness/remoteFixture';
import { waitFor } from './harness/processes';
import { tinyLayerMap, tinyRunConfig } from './fixtures/tinyPlan';

const RUNNER_DIR = resolve(__dirname, '..', '..', 'runner', 'slayer_runner');

describe('run identity: names and colours', () => {
  test('runs of a plan are numbered past the highest name, colours differ from recent runs', () => {
    assert.equal(planStem('/ws/demo.slayer'), 'demo');
    assert.equal(planStem(null), 'run');
    assert.equal(planStem('/p/plan.layermap.json'), 'plan');
    const earlier = [
      { name: 'demo-1', color: 0, planFile: '/ws/demo.slayer', createdAt: 1 },
      { name: 'demo-4', color: 1, planFile: '/ws/demo.slayer', createdAt: 2 },
      { name: 'other-9', color: 2, planFile: '/ws/other.slayer', createdAt: 3 },
      { name: 'renamed by hand', color: 3, planFile: '/ws/demo.slayer', createdAt: 4 },
    ];
    assert.deepEqual(nextRunIdentity('/ws/demo.slayer', earlier), { name: 'demo-5', color: 4 });
    assert.deepEqual(nextRunIdentity('/ws/new.slayer', []), { name: 'new-1', color: 0 });
    // Every colour in use among the recent runs: still a valid palette index.
    const many = RUN_COLORS.map((_, i) => ({ name: `p-${i + 1}`, color: i, planFile: 'p.slayer', createdAt: i }));
    const next = nextRunIdentity('p.slayer', many);
    assert.equal(next.name, `p-${RUN_COLORS.length + 1}`);
    assert.ok(next.color >= 0 && next.color < RUN_COLORS.length);
    assert.equal(cleanRunName('  lr 3e-3\nwarm  '), 'lr 3e-3 warm');
    assert.equal(cleanRunName(' \n '), null);
  });
});

describe('run path on localhost with the real runner', { timeout: 240_000 }, () => {
  let rig: Rig;
  before(() => {
    rig = makeRig(null, {}, {}, undefined, RUNNER_DIR, { pollMs: 300 });
  });
  after(async () => rig?.dispose());

  test('a doctor refusal ends the run as failed: record, exit_code, events, runner.log and mirrors agree', async () => {
    const bare = join(rig.workDir, 'config-only');
    mkdirSync(bare);
    writeFileSync(join(bare, 'config.json'), '{}');
    const err = await rig.service.dispatch({
      host: 'localhost', layerMap: tinyLayerMap(), planFile: '/plans/tiny.slayer',
      runConfig: tinyRunConfig(2, { source_model: bare, tiny_model: null, phases: ['doctor', 'surgery', 'train'] }),
    }).then(() => null, (e: unknown) => e);
    assert.ok(err instanceof DoctorError, `expected a DoctorError, got ${String(err)}`);
    assert.match(err.problems.join('\n'), /has a config\.json but no weights/);
    const rec = rig.store.get(err.runId!)!;
    assert.equal(rec.state, 'failed');
    assert.equal(rec.exitCode, 1);
    assert.equal(rec.name, 'tiny-1');
    assert.match(rec.message ?? '', /no weights/);
    const dir = join(rig.workDir, rec.id);
    assert.equal(readFileSync(join(dir, 'exit_code'), 'utf8').trim(), '1');
    const events = readFileSync(join(dir, 'events.jsonl'), 'utf8').trim().split('\n').map(parseEventLine);
    assert.deepEqual(events.map((e) => e.kind), ['error', 'done']);
    assert.equal(events[1]!.kind === 'done' && events[1]!.status, 'failed');
    assert.match(readFileSync(join(dir, 'runner.log'), 'utf8'), /doctor: cannot run/);
    assert.equal(rig.store.readMirror(rec.id, 'events.jsonl'), readFileSync(join(dir, 'events.jsonl'), 'utf8'));
    assert.equal(rig.store.readMirror(rec.id, 'runner.log'), readFileSync(join(dir, 'runner.log'), 'utf8'));
    // A status poll (what a monitor, another window or `slayer runs` does) reads "failed" too.
    rig.store.update(rec.id, { state: 'queued' });
    const [h] = await rig.service.refreshStates((r) => r.id === rec.id);
    assert.deepEqual(h, { host: 'localhost', runs: 1, error: null });
    assert.equal(rig.store.get(rec.id)!.state, 'failed');
  });

  test('a missing interpreter is a refusal too, with the shell\'s own words', async () => {
    const other = makeRig(null, { localhost: { python: '/no/such/python3' } }, {}, undefined, RUNNER_DIR);
    try {
      const err = await other.service.dispatch({ host: 'localhost', layerMap: tinyLayerMap(), planFile: '/plans/tiny.slayer', runConfig: tinyRunConfig(2) })
        .then(() => null, (e: unknown) => e);
      assert.ok(err instanceof DoctorError, `expected a DoctorError, got ${String(err)}`);
      assert.equal(err.exitCode, 127);
      assert.match(err.problems.join('\n'), /no\/such\/python3/);
      assert.equal(other.store.get(err.runId!)!.state, 'failed');
      assert.equal(readFileSync(join(other.workDir, err.runId!, 'exit_code'), 'utf8').trim(), '127');
    } finally {
      await other.dispose();
    }
  });

  test('a cancelled run with a checkpoint resumes from it; renaming keeps the id', async () => {
    const rec = await rig.service.dispatch({
      host: 'localhost', layerMap: { ...tinyLayerMap(), stages: tinyLayerMap().stages.map((s) => ({ ...s, steps: 100000, checkpointEvery: 5 })) },
      planFile: '/plans/tiny.slayer', runConfig: tinyRunConfig(100000, { phases: ['surgery', 'train'] }),
    });
    assert.equal(rec.name, 'tiny-2', 'numbered after the refused tiny-1');
    assert.notEqual(rec.color, rig.store.list().find((r) => r.name === 'tiny-1')!.color);
    const dir = join(rig.workDir, rec.id);
    await waitFor(() => existsSync(join(dir, 'out', 'checkpoints', 'latest')), 120_000, 'a first checkpoint');
    await rig.service.cancel(rec.id);
    const [h] = await rig.service.refreshStates((r) => r.id === rec.id);
    assert.equal(h!.error, null);
    assert.equal(rig.store.get(rec.id)!.state, 'cancelled');
    const resumed = await rig.service.resume(rec.id);
    assert.equal(resumed.state, 'running');
    assert.ok(!existsSync(join(dir, 'exit_code')) || readFileSync(join(dir, 'exit_code'), 'utf8') === '', 'exit_code cleared');
    await waitFor(() => /resuming from/.test(readFileSync(join(dir, 'runner.log'), 'utf8')), 60_000, 'the runner to resume');
    assert.equal(rig.service.rename(rec.id, ' lr sweep 3e-3 ').name, 'lr sweep 3e-3');
    assert.equal(rig.store.get(rec.id)!.id, rec.id);
    await rig.service.cancel(rec.id);
    // Nothing to resume from: the host says why.
    await assert.rejects(rig.service.resume((await rig.service.dispatch({
      host: 'localhost', layerMap: tinyLayerMap(), planFile: null, runConfig: tinyRunConfig(1, { phases: ['surgery'] }),
    }).then(async (r) => {
      await waitFor(() => existsSync(join(rig.workDir, r.id, 'exit_code')), 60_000, 'surgery to end');
      rig.store.update(r.id, { state: 'failed' });
      return r;
    })).id), /no training checkpoint/);
  });
});
