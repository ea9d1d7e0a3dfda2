// The evaluation end to end through the CLI and the real runner on localhost: `slayer eval` scores
// the base model (held-out perplexity and a local lm-evaluation-harness task on a tiny Llama with
// its own BPE tokenizer), `slayer run` trains and scores the final model with the base served from
// the host cache, `slayer compare` renders the comparison, `slayer report` includes it.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { compareCommand } from '../../src/cli/commands/compare';
import { reportCommand } from '../../src/cli/commands/report';
import { runCommand } from '../../src/cli/commands/run';
import { compilePlanFile } from '../../src/modelfiles/planFile';
import { parseEventLine, type EvalEvent } from '../../src/protocol/runnerEvents';
import { PROJECT_PYTHON } from '../helpers/python';
import { Capture, startCliRig, type CliRig } from './harness/cliRig';
import { missingTools, SSHD } from './harness/sshd';

const ROOT = join(__dirname, '..', '..');

/** A tiny Llama + BPE tokenizer (the runner tests' builder), a local multiple-choice task, held-out text. */
export function makeEvalFixture(dir: string): { plan: string } {
  execFileSync(PROJECT_PYTHON, ['-c', 'import sys; from pathlib import Path; from tests.test_evaluation import build_hf_model; build_hf_model(Path(sys.argv[1]))', join(dir, 'model')],
    { cwd: join(ROOT, 'runner'), env: { ...process.env, PYTHONPATH: join(ROOT, 'runner') }, stdio: 'pipe' });
  mkdirSync(join(dir, 'tasks'));
  const rows = [['the cat sat on the', ['mat', 'park'], 0], ['paris is in', ['france', 'italy'], 0], ['two plus two is', ['four', 'mat'], 0], ['rome is in', ['france', 'italy'], 1]];
  writeFileSync(join(dir, 'tasks', 'mc.jsonl'), rows.map(([q, choices, label]) => JSON.stringify({ q, choices, label })).join('\n') + '\n');
  writeFileSync(join(dir, 'tasks', 'mc.yaml'), `task: tiny_mc\ndataset_path: json\ndataset_kwargs:\n  data_files:\n    test: ${join(dir, 'tasks', 'mc.jsonl')}\ntest_split: test\noutput_type: multiple_choice\ndoc_to_text: "{{q}}"\ndoc_to_choice: "{{choices}}"\ndoc_to_target: label\nmetric_list:\n  - metric: acc\n    aggregation: mean\n    higher_is_better: true\nmetadata:\n  version: 1.0\n`);
  writeFileSync(join(dir, 'heldout.txt'), 'the cat sat on the mat. two plus two is four. paris is in france. '.repeat(8));
  const plan = join(dir, 'plan.slayer');
  writeFileSync(plan, `model ./model\nexpand (1+1)x2\ntrain new\n\nstage cpt\n  data sample\n  steps 2\n  lr 1e-2\n  batch 2 x 32\n  precision fp32\n\neval\n  when base, final\n  general ${join(dir, 'tasks', 'mc.yaml')}\n  perplexity domain ${join(dir, 'heldout.txt')}\n  seq 32\n  batch 2\n`);
  return { plan };
}

function runDirs(work: string): string[] {
  if (!existsSync(work)) return [];
  return readdirSync(work).map((d) => join(work, d)).filter((d) => existsSync(join(d, 'events.jsonl')));
}

const scoresOf = (dir: string): EvalEvent[] => readFileSync(join(dir, 'events.jsonl'), 'utf8').split('\n').filter((l) => l.trim())
  .map(parseEventLine).filter((e): e is EvalEvent => e.kind === 'eval');

describe('slayer eval / run with an eval section / compare / report, on localhost', { timeout: 900_000 }, () => {
  let rig: CliRig;
  let dir: string;
  let common: string[];
  let plan: string;
  const savedCache = process.env.XDG_CACHE_HOME;
  before(async () => {
    rig = await startCliRig('slayer-eval-', { runner: join(ROOT, 'runner', 'slayer_runner'), sshd: false, hosts: () => ({ localhost: {} }) });
    ({ dir, common } = rig);
    plan = makeEvalFixture(dir).plan;
    process.env.XDG_CACHE_HOME = join(dir, 'cache'); // the host cache of base scores (localhost inherits it)
  });
  after(async () => {
    if (savedCache === undefined) delete process.env.XDG_CACHE_HOME;
    else process.env.XDG_CACHE_HOME = savedCache;
    await rig?.stop();
  });

  test('eval scores the base; run trains, takes the base from the cache and scores the final model; compare and report', async () => {
    const ev = new Capture();
    assert.equal(await runCommand('eval', [plan, '--on', 'localhost', ...common], ev, { compilePlan: compilePlanFile }), 0, ev.stderr + ev.stdout);
    assert.match(ev.stdout, /eval base general mc acc,none \d+\.\d+%/);
    assert.match(ev.stdout, /eval base domain heldout\.txt perplexity \d+\.\d{3}/);
    const [evalDir] = runDirs(join(dir, 'work'));
    const base = scoresOf(evalDir!);
    assert.deepEqual(base.map((s) => [s.model, s.cached]), [['base', false], ['base', false]]);
    assert.equal(JSON.parse(readFileSync(join(evalDir!, 'run.json'), 'utf8')).phases.join(','), 'doctor,eval');

    const run = new Capture();
    assert.equal(await runCommand('run', [plan, '--on', 'localhost', ...common], run, { compilePlan: compilePlanFile }), 0, run.stderr + run.stdout);
    const runDir = runDirs(join(dir, 'work')).find((d) => d !== evalDir)!;
    const scores = scoresOf(runDir);
    assert.deepEqual(scores.map((s) => [s.model, s.cached]), [['base', true], ['base', true], ['final', false], ['final', false]]);
    for (const s of scores.filter((x) => x.model === 'base')) assert.equal(s.value, base.find((b) => b.task === s.task)!.value);
    assert.ok(existsSync(join(runDir, 'out', 'eval', 'final.json')));

    for (const format of ['table', 'md', 'csv']) {
      const c = new Capture();
      assert.equal(await compareCommand.run([evalDir!, runDir, '--format', format], c), 0, c.stderr);
      assert.match(c.stdout, /\bmc\b/);
      if (format === 'md') assert.match(c.stdout, /^\| group \| task \| metric \| base \|/);
      if (format === 'csv') assert.match(c.stdout, /^group,task,metric,base,/);
    }
    const table = new Capture();
    await compareCommand.run([runDir], table);
    assert.match(table.stdout, /\(final\): [+−±]\d+\.\d domain, [+−±]\d+\.\d general/);

    const rep = new Capture();
    assert.equal(await reportCommand.run([runDir, '--out', join(dir, 'report')], rep), 0, rep.stderr);
    assert.match(rep.stdout, /evaluation \(final vs base\): /);
    assert.match(readFileSync(join(dir, 'report', 'eval.md'), 'utf8'), /\| general \| mc \| acc,none \|/);
    assert.match(readFileSync(join(dir, 'report', 'report.html'), 'utf8'), /<h2>Evaluation<\/h2>/);
  });

  test('slayer eval refuses a plan without an eval section, and --when after training', async () => {
    const noEval = join(dir, 'noeval.slayer');
    writeFileSync(noEval, 'model ./model\nexpand (1+1)x2\n');
    const io = new Capture();
    assert.equal(await runCommand('eval', [noEval, '--on', 'localhost', ...common], io, { compilePlan: compilePlanFile }), 2);
    assert.match(io.stderr, /the plan has no eval section/);
    const io2 = new Capture();
    assert.equal(await runCommand('eval', [plan, '--on', 'localhost', '--when', 'final', ...common], io2, { compilePlan: compilePlanFile }), 2);
    assert.match(io2.stderr, /evaluates base and\/or expanded/);
  });
});

const noSshd = missingTools([SSHD, '/usr/bin/ssh', PROJECT_PYTHON]);

describe('slayer run with an eval section over the real sshd', { skip: noSshd ?? false, timeout: 900_000 }, () => {
  let rig: CliRig;
  let dir: string;
  let common: string[];
  let plan: string;
  before(async () => {
    rig = await startCliRig('slayer-eval-ssh-', { runner: join(ROOT, 'runner', 'slayer_runner'), sshd: true, hosts: (d) => ({ 'slayer-test': { activate: join(d, 'activate.sh') } }) });
    ({ dir, common } = rig);
    plan = makeEvalFixture(dir).plan;
    // The host's cache of base scores, set the documented way: the host's activate script.
    writeFileSync(join(dir, 'activate.sh'), `export XDG_CACHE_HOME='${join(dir, 'host-cache')}'\n`);
  });
  after(() => rig?.stop());

  test('dispatch over SSH: doctor, surgery, train, eval; base and final scores stream back; the host cache fills', async () => {
    const io = new Capture();
    assert.equal(await runCommand('run', [plan, '--on', 'slayer-test', ...common], io, { compilePlan: compilePlanFile }), 0, io.stderr + io.stdout);
    assert.match(io.stdout, /== eval start: base: 1 task\(s\), 1 perplexity set\(s\)/);
    assert.match(io.stdout, /eval final general mc acc,none \d+\.\d+%/);
    const [runDir] = runDirs(join(dir, 'work'));
    assert.deepEqual(scoresOf(runDir!).map((s) => [s.model, s.source, s.cached]),
      [['base', 'perplexity', false], ['base', 'harness', false], ['final', 'perplexity', false], ['final', 'harness', false]]);
    assert.equal(readdirSync(join(dir, 'host-cache', 'slayer', 'eval')).filter((f) => f.endsWith('.json')).length, 2);
    const c = new Capture();
    assert.equal(await compareCommand.run([runDir!], c), 0, c.stderr);
    assert.match(c.stdout, /\(final\): [+−±]\d+\.\d domain, [+−±]\d+\.\d general/);
  });
});
