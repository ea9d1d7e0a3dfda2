// End to end with the real runner (runner/slayer_runner): a tiny plan dispatched over the real
// sshd, doctor, surgery and a few training steps on a random tiny model, metrics streamed back.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { defaultHostSettings } from '../../src/remote/hostSettings';
import { buildRunConfig } from '../../src/remote/runConfigBuilder';
import { Collector } from './harness/collect';
import { makeRig, type Rig } from './harness/remoteFixture';
import { missingTools, SSHD, TestSshd } from './harness/sshd';
import { tinyLayerMap } from './fixtures/tinyPlan';
import { PROJECT_PYTHON } from '../helpers/python';

const RUNNER = join(__dirname, '..', '..', 'runner', 'slayer_runner');
const skip = missingTools([SSHD, '/usr/bin/ssh', PROJECT_PYTHON])
  ?? (existsSync(join(RUNNER, '__main__.py')) ? null : 'the runner (runner/slayer_runner) is not in this tree yet');

describe('end to end with the real runner over SSH', { skip: skip ?? false, timeout: 300_000 }, () => {
  let sshd: TestSshd;
  let rig: Rig;
  before(async () => {
    sshd = await TestSshd.start();
    rig = makeRig(sshd, {}, {}, undefined, RUNNER);
  });
  after(async () => {
    await rig?.dispose();
    await sshd?.stop();
  });

  test('a tiny plan is compiled into a run, trains, and its metrics stream back', async () => {
    const layerMap = tinyLayerMap();
    const settings = { ...defaultHostSettings('slayer-test'), python: PROJECT_PYTHON, workDir: rig.workDir };
    const rec = await rig.service.dispatch({
      host: 'slayer-test', layerMap, runConfig: buildRunConfig(layerMap, settings, { tinyModel: true, maxSteps: 2, device: 'cpu' }),
    });
    const c = new Collector();
    const final = await rig.service.attach(rec.id, c).finished;
    assert.equal(final.state, 'succeeded', `${final.message ?? ''}\n${c.log.slice(-30).join('\n')}`);
    assert.deepEqual(c.seqProblems(), []);
    const metrics = c.events.filter((e) => e.kind === 'metric');
    assert.ok(metrics.length >= 1, 'training metrics arrived');
    assert.ok(metrics.every((m) => m.kind === 'metric' && Number.isFinite(m.loss)));
    const done = c.events[c.events.length - 1];
    assert.ok(done?.kind === 'done' && done.status === 'succeeded');
  });
});
