// The Slurm path against a real single-node Slurm (munge + slurmctld + slurmd) reached over the
// test sshd: submit, stream the job's log while it runs, final state and exit code, failure,
// scancel with every process gone, a two-task srun + torchrun rendezvous, the real runner's FSDP2
// under srun + torchrun (two processes on one node), hostile settings.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Collector } from './harness/collect';
import { processesMatching, waitFor } from './harness/processes';
import { makeRig, type Rig } from './harness/remoteFixture';
import { SLURM_TOOLS, TestSlurm } from './harness/slurm';
import { missingTools, SSHD, TestSshd } from './harness/sshd';
import { tinyLayerMap, tinyRunConfig } from './fixtures/tinyPlan';
import { PROJECT_PYTHON } from '../helpers/python';

const RUNNER_DIR = join(__dirname, '..', '..', 'runner', 'slayer_runner');

const skip = missingTools([SSHD, '/usr/bin/ssh', PROJECT_PYTHON, ...SLURM_TOOLS]);

describe('remote runs on Slurm over SSH', { skip: skip ?? false, timeout: 240_000 }, () => {
  let slurm: TestSlurm;
  let sshd: TestSshd;
  let rig: Rig;
  before(async () => {
    slurm = await TestSlurm.start();
    sshd = await TestSshd.start({ SLURM_CONF: slurm.conf });
    rig = makeRig(sshd, {
      'slayer-test': { scheduler: 'slurm', gpusPerNode: 1, slurm: { partition: 'debug', account: null, time: '00:10:00', packTasksOnOneNode: true } },
    }, {}, undefined, undefined, { pollMs: 300, lostAfterPolls: 1 }); // one poll suffices to call a run lost: outages show at once
  });
  after(async () => {
    await rig?.dispose();
    await sshd?.stop();
    await slurm?.stop();
  });

  test('sbatch submit, the log streams while the job runs, final state and exit code', async () => {
    const rec = await rig.service.dispatch({
      host: 'slayer-test', layerMap: tinyLayerMap(), runConfig: tinyRunConfig(40), secrets: { SLAYER_FAKE_INTERVAL: '0.05', HF_TOKEN: 'hf_x' },
    });
    assert.equal(rec.state, 'queued');
    assert.match(rec.jobId ?? '', /^\d+$/);
    const c = new Collector();
    let logWhileRunning = 0;
    const listener = {
      ...c,
      onEvents: c.onEvents.bind(c), onNotice: c.onNotice.bind(c), onRecord: c.onRecord.bind(c),
      onLog: (id: string, lines: string[]) => {
        if (rig.store.get(id)?.state === 'running' && !existsSync(join(rig.workDir, id, 'exit_code'))) logWhileRunning += lines.length;
        c.onLog(id, lines);
      },
    };
    const final = await rig.service.attach(rec.id, listener).finished;
    assert.equal(final.state, 'succeeded', slurm.logs());
    assert.equal(final.exitCode, 0);
    assert.ok(logWhileRunning > 5, `log lines arrived while the job ran (${logWhileRunning})`);
    assert.ok(c.states.includes('running'));
    assert.equal(c.events.length, 40 * 2 + 4);
    assert.deepEqual(c.seqProblems(), []);
    assert.ok(c.log.some((l) => l.includes('héllo ✓ 中文')));
  });

  test('a failing job ends failed with its exit code', async () => {
    const rec = await rig.service.dispatch({
      host: 'slayer-test', layerMap: tinyLayerMap(), runConfig: tinyRunConfig(10), secrets: { SLAYER_FAKE_FAIL: '1' },
    });
    const c = new Collector();
    const final = await rig.service.attach(rec.id, c).finished;
    assert.equal(final.state, 'failed');
    assert.equal(final.exitCode, 3);
    assert.ok(c.events.some((e) => e.kind === 'error'));
  });

  test('scancel cancels the job and leaves none of its processes', async () => {
    const rec = await rig.service.dispatch({
      host: 'slayer-test', layerMap: tinyLayerMap(), runConfig: tinyRunConfig(100_000), secrets: { SLAYER_FAKE_INTERVAL: '0.05' },
    });
    const c = new Collector();
    const mon = rig.service.attach(rec.id, c);
    const runDir = join(rig.workDir, rec.id);
    await waitFor(() => c.events.length > 4, 60_000, 'the job to start');
    assert.ok(processesMatching(runDir).length > 0);
    assert.match(await rig.service.cancel(rec.id), /scancel/);
    const final = await mon.finished;
    assert.equal(final.state, 'cancelled');
    await waitFor(() => processesMatching(runDir).length === 0, 20_000, 'every process of the job to exit');
  });

  test('a controller outage during a job is not taken for a lost job', async () => {
    const rec = await rig.service.dispatch({
      host: 'slayer-test', layerMap: tinyLayerMap(), runConfig: tinyRunConfig(100), secrets: { SLAYER_FAKE_INTERVAL: '0.1' },
    });
    const c = new Collector();
    const mon = rig.service.attach(rec.id, c);
    await waitFor(() => c.events.length > 6, 60_000, 'the job to run');
    await slurm.stopController();
    try {
      // More failed polls than it takes to call a run lost, then the job finishes meanwhile.
      await new Promise((r) => setTimeout(r, 6000));
      assert.ok(!c.states.includes('lost'), `states: ${c.states.join(',')}`);
    } finally {
      await slurm.startController();
    }
    const final = await mon.finished;
    assert.equal(final.state, 'succeeded', slurm.logs());
    assert.equal(c.events.length, 100 * 2 + 4);
  });

  test('two tasks through srun form one distributed world (RANK, WORLD_SIZE from Slurm)', async () => {
    const rec = await rig.service.dispatch({
      host: 'slayer-test', layerMap: tinyLayerMap(), runConfig: tinyRunConfig(3, { nnodes: 2, nproc_per_node: 1 }),
    });
    const final = await rig.service.attach(rec.id, new Collector()).finished;
    const runDir = join(rig.workDir, rec.id);
    assert.equal(final.state, 'succeeded', readFileSync(join(runDir, 'runner.log'), 'utf8').slice(-3000));
    assert.equal(readFileSync(join(runDir, 'out', 'rank-0.txt'), 'utf8'), '0 2\n');
    assert.equal(readFileSync(join(runDir, 'out', 'rank-1.txt'), 'utf8'), '1 2\n');
  });

  test('the real runner under srun + torchrun, two processes on one node, trains with FSDP2 (gloo)', async () => {
    const real = makeRig(sshd, {
      'slayer-test': { scheduler: 'slurm', gpusPerNode: 0, slurm: { partition: 'debug', account: null, time: '00:10:00', packTasksOnOneNode: true } },
    }, {}, undefined, RUNNER_DIR);
    try {
      const rec = await real.service.dispatch({
        host: 'slayer-test', layerMap: tinyLayerMap(), secrets: { SLAYER_FSDP: '1', OMP_NUM_THREADS: '1' },
        runConfig: tinyRunConfig(3, { nnodes: 1, nproc_per_node: 2 }),
      });
      const c = new Collector();
      const final = await real.service.attach(rec.id, c).finished;
      const runDir = join(real.workDir, rec.id);
      assert.equal(final.state, 'succeeded', readFileSync(join(runDir, 'runner.log'), 'utf8').slice(-3000));
      assert.deepEqual(c.seqProblems(), []);
      const logs = c.events.flatMap((e) => (e.kind === 'log' ? [e.msg] : []));
      assert.ok(logs.some((m) => m.includes('FSDP over 2 processes')), logs.join('\n'));
      assert.deepEqual(c.events.flatMap((e) => (e.kind === 'metric' ? [e.step] : [])), [1, 2, 3]);
      assert.ok(existsSync(join(runDir, 'out', 'model', 'model.safetensors')));
    } finally {
      await real.dispose();
    }
  });

  test('hostile Slurm settings are passed quoted: sbatch refuses them and nothing runs', async () => {
    const marker = `/tmp/pwned-slurm-${process.pid}`;
    const evil = makeRig(sshd, {
      'slayer-test': { scheduler: 'slurm', gpusPerNode: 0, slurm: { partition: `x;touch ${marker}`, account: `$(touch ${marker})`, time: null, packTasksOnOneNode: false } },
    });
    try {
      await assert.rejects(
        evil.service.dispatch({ host: 'slayer-test', layerMap: tinyLayerMap(), runConfig: tinyRunConfig(2) }),
        /sbatch on slayer-test failed/,
      );
      assert.ok(!existsSync(marker));
    } finally {
      await evil.dispose();
    }
  });
});
