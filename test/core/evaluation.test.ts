// The plan's eval section: parsed, checked with positioned diagnostics, compiled into the LayerMap
// and run.json; formatting keeps it; the paper's protocol snippet compiles to the pinned settings.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyzePlan, formatPlan, PAPER_PROTOCOL_SNIPPET, EVAL_TASKS } from '../../src/core';
import { validateLayerMap } from '../../src/protocol/layerMap';
import { validateRunConfig } from '../../src/protocol/runConfig';
import { buildRunConfig } from '../../src/remote/runConfigBuilder';

const HEAD = 'model meta-llama/Llama-2-7b-hf\nexpand (2+1)x8 | 13 | 1◇\n';

const at = (text: string, needle: string, nth = 0): { start: number; end: number } => {
  let i = -1;
  for (let k = 0; k <= nth; k++) i = text.indexOf(needle, i + 1);
  assert.ok(i >= 0, needle);
  return { start: i, end: i + needle.length };
};

test('eval section compiles: tasks with catalogue defaults and overrides, perplexity, when, section defaults', () => {
  const text = `${HEAD}stage cpt\n  data sample\neval\n  when base, each-stage, final\n  domain gsm8k\n  domain ./tasks/legal.yaml shots 5 metric acc limit 50%\n  general arc_challenge limit 100 chat-template on\n  perplexity domain heldout/math.txt, proof.txt\n  perplexity general web.txt\n  limit 200\n  batch 8\n  seq 1024\n  seed 7\nrun on localhost gpus 1\n`;
  const a = analyzePlan(text);
  assert.deepEqual(a.diagnostics.filter((d) => d.severity === 'error' || d.severity === 'warning'), []);
  const ev = a.evaluation!;
  assert.deepEqual(ev.when, ['base', 'stages', 'final']);
  assert.deepEqual([ev.batch_size, ev.seq_len, ev.seed], [8, 1024, 7]);
  assert.deepEqual(ev.tasks[0], { name: 'gsm8k', group: 'domain', shots: 5, metric: 'exact_match,strict-match', limit: 200, chat_template: false, config: null, unsafe_code: false });
  assert.deepEqual(ev.tasks[1], { name: 'legal', group: 'domain', shots: 5, metric: 'acc', limit: 0.5, chat_template: false, config: './tasks/legal.yaml', unsafe_code: false });
  assert.deepEqual(ev.tasks[2], { name: 'arc_challenge', group: 'general', shots: 25, metric: 'acc_norm', limit: 100, chat_template: true, config: null, unsafe_code: false });
  assert.deepEqual(ev.perplexity, [
    { name: 'math.txt+proof.txt', group: 'domain', files: ['heldout/math.txt', 'proof.txt'] },
    { name: 'web.txt', group: 'general', files: ['web.txt'] },
  ]);
  // Into the LayerMap (validated round trip) and run.json with the eval phase.
  const lm = validateLayerMap(JSON.parse(JSON.stringify(a.layerMap)));
  assert.deepEqual(lm.evaluation, ev);
  const run = buildRunConfig(lm, { gpusPerNode: 1 } as Parameters<typeof buildRunConfig>[1]);
  assert.deepEqual(run.phases, ['doctor', 'surgery', 'train', 'eval']);
  assert.deepEqual(validateRunConfig({ ...run, run_id: 'r1' }).eval, ev);
});

test('eval diagnostics carry positions: unknown task (warning + fix), unknown key, bad values, off-protocol shots', () => {
  const text = `${HEAD}eval\n  domain gsm8kk\n  general wikitext\n  genral hellaswag\n  general mmlu shots 0 metric acc_norm\n  general winogrande shots x\n  general hellaswag colour red\n  when base, tomorrow\n  chat-template maybe\n  perplexity both a.txt\n  limit 150%\n`;
  const a = analyzePlan(text);
  const find = (code: string, needle: string, nth = 0) => {
    const d = a.diagnostics.find((x) => x.code === code && x.span.start === at(text, needle, nth).start);
    assert.ok(d, `${code} at "${needle}": ${JSON.stringify(a.diagnostics.map((x) => [x.code, text.slice(x.span.start, x.span.end)]))}`);
    return d;
  };
  const typo = find('SL060', 'gsm8kk');
  assert.equal(typo.severity, 'warning');
  assert.equal(typo.fixes[0]?.edits[0]?.newText, 'gsm8k');
  assert.equal(find('SL060', 'wikitext').severity, 'warning');
  assert.equal(find('SL002', 'genral').fixes[0]?.edits[0]?.newText, 'general');
  assert.equal(find('SL061', '0 metric').severity, 'info');
  assert.equal(find('SL061', 'acc_norm').severity, 'info');
  find('SL004', 'x\n');
  find('SL002', 'colour');
  find('SL004', 'tomorrow');
  find('SL004', 'maybe');
  find('SL004', 'both');
  find('SL042', '150%');
  assert.ok(a.layerMap === null); // errors stop compilation
});

test('an empty eval section is a warning; a second one an error; no general task is an info', () => {
  const a = analyzePlan(`${HEAD}eval\n  when base\n`);
  assert.equal(a.diagnostics.find((d) => d.code === 'SL062')?.severity, 'warning');
  assert.equal(a.evaluation, null);
  const b = analyzePlan(`${HEAD}eval\n  domain gsm8k\neval\n  general mmlu\n`);
  assert.equal(b.diagnostics.find((d) => d.code === 'SL003')?.severity, 'error');
  assert.equal(b.diagnostics.find((d) => d.code === 'SL062')?.severity, 'info');
});

test('stage settings after an eval section and eval keys after a stage stay in their own blocks', () => {
  const a = analyzePlan(`${HEAD}stage cpt\n  data sample\n  batch 4 x 32\neval\n  batch 8\n  domain gsm8k\nstage sft\n  data qa\n`);
  assert.deepEqual(a.diagnostics.filter((d) => d.severity === 'error'), []);
  assert.equal(a.stages[0]!.batchSequences, 4);
  assert.equal(a.evaluation!.batch_size, 8);
  assert.equal(a.stages.length, 2);
});

test('the formatter aligns eval keys and is idempotent', () => {
  const text = `${HEAD}eval\n  domain   gsm8k\n    general arc_challenge\n  perplexity   domain a.txt\n`;
  const f = formatPlan(text);
  assert.ok(f.includes('\n  domain      gsm8k\n  general     arc_challenge\n  perplexity  domain a.txt\n'), f);
  assert.equal(formatPlan(f), f);
});

test("the paper's protocol snippet compiles cleanly with every catalogue setting pinned", () => {
  const a = analyzePlan(`${HEAD}${PAPER_PROTOCOL_SNIPPET.join('\n')}\n`);
  assert.deepEqual(a.diagnostics.filter((d) => d.severity !== 'hint'), []);
  const ev = a.evaluation!;
  for (const t of ev.tasks) {
    const c = EVAL_TASKS.find((x) => x.name === t.name)!;
    assert.equal(t.shots, c.shots);
    assert.equal(t.metric, c.metric);
    assert.equal(t.group, c.group);
  }
  assert.deepEqual(ev.tasks.map((t) => t.name).sort(), ['arc_challenge', 'gsm8k', 'hellaswag', 'humaneval', 'mmlu', 'truthfulqa_mc2', 'winogrande']);
});
