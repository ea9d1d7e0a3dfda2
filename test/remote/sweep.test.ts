// A sweep end to end on localhost with the real runner: `slayer sweep` runs three variants of a
// tiny plan (random weights, a few steps, held-out perplexity) one after another, each an ordinary
// run named SWEEP-VARIANT with the sweep in its run.json and record; `slayer sweep-table` prints a
// row per variant filled from what the runs wrote. Then a sweep whose middle variant is refused
// by the doctor: the others still run and the sweep record says which failed. On the test Slurm
// (over the test sshd) a sweep's variants are submitted together as parallel jobs.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { sweepCommand, sweepTableCommand } from '../../src/cli/commands/sweep';
import { parseEventLine, type EvalEvent, type MetricEvent, type RunnerEvent } from '../../src/protocol/runnerEvents';
import { validateRunConfig } from '../../src/protocol/runConfig';
import { RunStore } from '../../src/remote/runStore';
import { runSweep } from '../../src/remote/sweepRunner';
import { listSweeps } from '../../src/remote/sweepStore';
import { PROJECT_PYTHON } from '../helpers/python';
import { Capture } from './harness/cliRig';
import { killLeftoverRuns, makeRig } from './harness/remoteFixture';
import { SLURM_TOOLS, TestSlurm } from './harness/slurm';
import { missingTools, SSHD, TestSshd } from './harness/sshd';
import { TINY_CONFIG, tinyLayerMap, tinyRunConfig } from './fixtures/tinyPlan';

const ROOT = join(__dirname, '..', '..');
const RUNNER_DIR = join(ROOT, 'runner', 'slayer_runner');

const eventsOf = (dir: string): RunnerEvent[] => readFileSync(join(dir, 'events.jsonl'), 'utf8').split('\n').filter((l) => l.trim()).map(parseEventLine);

describe('slayer sweep on localhost with the real runner', { timeout: 900_000 }, () => {
  let dir: string;
  let common: string[];
  const savedCache = process.env.XDG_CACHE_HOME;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'slayer-sweep-'));
    mkdirSync(join(dir, 'tiny'));
    writeFileSync(join(dir, 'tiny', 'config.json'), JSON.stringify(TINY_CONFIG));
    writeFileSync(join(dir, 'heldout.txt'), 'the cat sat on the mat. two plus two is four. paris is in france. '.repeat(6));
    process.env.XDG_CACHE_HOME = join(dir, 'cache');
    writeFileSync(join(dir, 'hosts.json'), JSON.stringify({ localhost: { python: PROJECT_PYTHON, workDir: join(dir, 'work') } }));
    common = ['--hosts', join(dir, 'hosts.json'), '--store', join(dir, 'store'), '--runner', RUNNER_DIR];
  });
  after(() => {
    if (savedCache === undefined) delete process.env.XDG_CACHE_HOME;
    else process.env.XDG_CACHE_HOME = savedCache;
    killLeftoverRuns(join(dir, 'work'));
    rmSync(dir, { recursive: true, force: true });
  });

  test('three variants run one after another; the table holds each run\'s final loss and perplexity', async () => {
    const plan = join(dir, 'placement.slayer');
    writeFileSync(plan, `model ./tiny
expand (1+1)x2 | 2
train new

stage cpt
  data sample
  steps 3
  lr 1e-3
  batch 2 x 32
  precision fp32
  weight-decay 0
  checkpoint-every 0

eval
  when base, final
  perplexity domain ${join(dir, 'heldout.txt')}
  seq 32
  batch 2

run on localhost weights random

sweep placement
  interleaved                           # the plan's own expansion
  deep         2 (1+1)x2                # new blocks among the deep half
  last1        none  train last 1       # control: no new block, the deepest block trained
`);
    const io = new Capture();
    assert.equal(await sweepCommand.run([plan, '--host', 'localhost', ...common], io), 0, io.stderr + io.stdout);
    assert.match(io.stderr, /sweep placement: 3 variants on localhost, one after another/);
    assert.match(io.stdout, /^\[interleaved\] \[cpt\] step 3 loss/m);
    assert.match(io.stdout, /^\[last1\] \[cpt\] step 3 loss/m);

    // Three ordinary runs, one after another, each with the sweep in run.json and its record.
    const store = new RunStore(join(dir, 'store'));
    const [sweep] = listSweeps(join(dir, 'store'));
    assert.ok(sweep);
    assert.equal(sweep.name, 'placement');
    const runs = sweep.variants.map((v) => store.get(v.runId!)!);
    assert.deepEqual(runs.map((r) => [r.name, r.state, r.sweep?.variant, r.sweep?.id]), [
      ['placement-interleaved', 'succeeded', 'interleaved', sweep.id],
      ['placement-deep', 'succeeded', 'deep', sweep.id],
      ['placement-last1', 'succeeded', 'last1', sweep.id],
    ]);
    for (let i = 1; i < runs.length; i++) assert.ok(runs[i]!.startedAt! >= runs[i - 1]!.finishedAt!, 'sequential: each starts after the previous one ended');
    const hostDirs = runs.map((r) => join(dir, 'work', r.id));
    for (const [i, d] of hostDirs.entries()) {
      assert.deepEqual(validateRunConfig(JSON.parse(readFileSync(join(d, 'run.json'), 'utf8'))).sweep, { id: sweep.id, name: 'placement', variant: sweep.variants[i]!.name, index: i });
    }
    // The variants' LayerMaps as their lines say: the control has 4 blocks, the deepest trainable.
    const lm = hostDirs.map((d) => JSON.parse(readFileSync(join(d, 'layermap.json'), 'utf8')) as { plan: { expand: string }; blocks: { trainable: boolean }[] });
    assert.deepEqual(lm.map((m) => m.plan.expand), ['(1+1)x2 | 2', '2 | (1+1)x2', '4']);
    assert.deepEqual(lm[2]!.blocks.map((b) => b.trainable), [false, false, false, true]);
    assert.deepEqual(sweep.variants.map((v) => [v.name, v.blocks, v.train]), [['interleaved', 6, 'new'], ['deep', 6, 'new'], ['last1', 4, 'last 1']]);

    // The table, from the store's mirrors, against what each run wrote on the host.
    const expected = hostDirs.map((d) => {
      const evs = eventsOf(d);
      const metrics = evs.filter((e): e is MetricEvent => e.kind === 'metric');
      const ppl = evs.filter((e): e is EvalEvent => e.kind === 'eval');
      return { loss: metrics[metrics.length - 1]!.loss, base: ppl.find((e) => e.model === 'base')!.value, final: ppl.find((e) => e.model === 'final')!.value };
    });
    // Same random base everywhere: one base perplexity (the first run measured it, the others read the cache).
    assert.equal(new Set(expected.map((e) => e.base)).size, 1);
    const csv = new Capture();
    assert.equal(await sweepTableCommand.run(['placement', '--format', 'csv', '--store', join(dir, 'store')], csv), 0, csv.stderr);
    const rows = csv.stdout.trim().split('\n').map((l) => l.split(','));
    assert.deepEqual(rows[0], ['variant', 'expansion', 'train', 'blocks', 'trainable', 'state', 'final loss', 'heldout.txt (perplexity)', 'verdict']);
    assert.deepEqual(rows[1]!.slice(0, 1), ['base']);
    assert.equal(rows[1]![7], expected[0]!.base.toFixed(3));
    const trainable = sweep.variants.map((v) => String(v.trainable));
    expected.forEach((e, i) => {
      const r = rows[i + 2]!;
      assert.deepEqual(r.slice(0, 7), [sweep.variants[i]!.name, lm[i]!.plan.expand, sweep.variants[i]!.train, String(lm[i]!.blocks.length), trainable[i], 'succeeded', e.loss.toFixed(4)]);
      assert.equal(r[7], e.final.toFixed(3));
      assert.match(r[8]!, /^[+−±]\d+\.\d domain$/);
    });
    // The control trains one original block of 4: hidden 64, MLP 128 → 4·64·64·… per block; the
    // interleaved variant two new blocks: twice as many.
    assert.equal(Number(trainable[0]), 2 * Number(trainable[2]));
    const md = new Capture();
    assert.equal(await sweepTableCommand.run([sweep.id, '--format', 'md', '--store', join(dir, 'store')], md), 0, md.stderr);
    assert.match(md.stdout, /^\| variant \| expansion \| train \| blocks \| trainable \| state \| final loss \| heldout\.txt \(perplexity\) \| verdict \|\n\|---\|---\|---\|---:\|---:\|---\|---:\|---:\|---\|\n/);
    assert.match(md.stdout, new RegExp(`^\\| last1 \\| 4 \\| last 1 \\| 4 \\| [\\d,]+ \\| succeeded \\| ${expected[2]!.loss.toFixed(4)} \\| ${expected[2]!.final.toFixed(3)} \\|`, 'm'));
    const none = new Capture();
    assert.equal(await sweepTableCommand.run(['nosuch', '--store', join(dir, 'store')], none), 1);
    assert.match(none.stderr, /no sweep "nosuch"/);
  });

  test('a variant refused by the doctor fails alone: the others run and the sweep says which failed', async () => {
    const rig = makeRig(null, {}, {}, undefined, RUNNER_DIR, { pollMs: 300 });
    try {
      const bare = join(rig.workDir, 'config-only');
      mkdirSync(bare);
      writeFileSync(join(bare, 'config.json'), '{}');
      const quick = tinyRunConfig(1, { phases: ['doctor'] });
      const sweep = await runSweep(rig.service, {
        host: 'localhost', name: 'robust', planFile: '/plans/tiny.slayer', parallel: false,
        variants: [
          { name: 'a', layerMap: tinyLayerMap(), train: 'new', runConfig: quick },
          // The doctor looks for the weights a surgery would read: a config.json alone is refused.
          { name: 'refused', layerMap: tinyLayerMap(), train: 'new', runConfig: { ...quick, phases: ['doctor', 'surgery'], source_model: bare, tiny_model: null } },
          { name: 'c', layerMap: tinyLayerMap(), train: 'new', runConfig: quick },
        ],
        follow: (rec) => rig.service.attach(rec.id, {}).finished,
      });
      const states = sweep.variants.map((v) => [v.name, rig.store.get(v.runId!)?.state, v.error !== null]);
      assert.deepEqual(states, [['a', 'succeeded', false], ['refused', 'failed', true], ['c', 'succeeded', false]]);
      assert.match(sweep.variants[1]!.error!, /no weights/);
      // The record on disk says the same (what the Runs view and sweep-table read).
      assert.deepEqual(listSweeps(rig.storeDir)[0]!.variants.map((v) => v.runId), sweep.variants.map((v) => v.runId));
      assert.ok(readdirSync(rig.workDir).filter((d) => existsSync(join(rig.workDir, d, 'run.json'))).length === 3);
    } finally {
      await rig.dispose();
    }
  });
});

const noSlurm = missingTools([SSHD, '/usr/bin/ssh', PROJECT_PYTHON, ...SLURM_TOOLS]);

describe('a sweep on Slurm over SSH', { skip: noSlurm ?? false, timeout: 240_000 }, () => {
  let slurm: TestSlurm;
  let sshd: TestSshd;
  let rig: ReturnType<typeof makeRig>;
  before(async () => {
    slurm = await TestSlurm.start();
    sshd = await TestSshd.start({ SLURM_CONF: slurm.conf });
    rig = makeRig(sshd, {
      'slayer-test': { scheduler: 'slurm', gpusPerNode: 1, slurm: { partition: 'debug', account: null, time: '00:10:00', packTasksOnOneNode: true } },
    }, {}, undefined, undefined, { pollMs: 300 });
  });
  after(async () => {
    await rig?.dispose();
    await sshd?.stop();
    await slurm?.stop();
  });

  test('the variants are parallel jobs; the refused one fails alone', async () => {
    // The transport fixture's doctor refuses a run that asks for CUDA (there is none here).
    const sweep = await runSweep(rig.service, {
      host: 'slayer-test', name: 'par', planFile: null, parallel: true, secrets: { SLAYER_FAKE_INTERVAL: '0.05' },
      variants: [
        { name: 'a', layerMap: tinyLayerMap(), train: 'new', runConfig: tinyRunConfig(200) },
        { name: 'cuda', layerMap: tinyLayerMap(), train: 'new', runConfig: tinyRunConfig(200, { device: 'cuda' }) },
        { name: 'c', layerMap: tinyLayerMap(), train: 'new', runConfig: tinyRunConfig(200) },
      ],
      follow: (rec) => rig.service.attach(rec.id, {}).finished,
    });
    const [a, refused, c] = sweep.variants.map((v) => rig.store.get(v.runId!)!);
    assert.deepEqual([a!.state, refused!.state, c!.state], ['succeeded', 'failed', 'succeeded'], slurm.logs());
    assert.match(sweep.variants[1]!.error!, /CUDA/);
    assert.match(a!.jobId ?? '', /^\d+$/);
    assert.match(c!.jobId ?? '', /^\d+$/);
    // Parallel: the last job was submitted before the first one had finished.
    assert.ok(c!.createdAt < a!.finishedAt!, `c submitted at ${c!.createdAt}, a finished at ${a!.finishedAt}`);
    assert.deepEqual([a, refused, c].map((r) => r!.name), ['par-a', 'par-cuda', 'par-c']);
  });
});
