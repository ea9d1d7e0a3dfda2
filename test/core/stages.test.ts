// Stage blocks (src/core/stages.ts): order, duplicates, ranges and units, each at its value.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyzePlan, type PlanDiagnostic } from '../../src/core';

/** The text a diagnostic points at. */
const at = (text: string, d: PlanDiagnostic): string => text.slice(d.span.start, d.span.end);
const find = (ds: PlanDiagnostic[], code: string): PlanDiagnostic[] => ds.filter((d) => d.code === code);

const MODEL = 'model meta-llama/Llama-2-7b-hf\n';

test('stage checks: sft before cpt, duplicate stages and settings, ranges, units', () => {
  const text = [MODEL.trim(), 'expand (4+1)x8', 'stage sft', '  data a', 'stage cpt', '  data b', '  lr 5', '  lr 2e-4', '  warmup 150%', '  tokens lots', 'stage cpt', '  data c'].join('\n');
  const ds = analyzePlan(text).diagnostics;
  assert.equal(find(ds, 'SL040').length, 2);
  assert.equal(at(text, find(ds, 'SL041')[0]!), 'cpt');
  assert.equal(find(ds, 'SL003')[0]!.severity, 'warning');
  assert.deepEqual(find(ds, 'SL042').map((d) => at(text, d)), ['5', '150%']);
  assert.equal(at(text, ds.find((d) => d.message.startsWith('tokens takes'))!), 'lots');
});

test('each stage setting reads its own form: schedule after lr, batch spellings, a missing value, words too many', () => {
  const text = [MODEL.trim(), 'expand (4+1)x8', 'stage sft', '  data a: 2, b', '  lr 1e-5 linear', '  batch 64×2048', '  steps 500 more', '  precision', '  schedule daily', '  clip -1'].join('\n');
  const a = analyzePlan(text);
  const spec = a.stages[0]!;
  assert.deepEqual([spec.kind, spec.lr, spec.schedule, spec.batchSequences, spec.seqLen, spec.steps, spec.clip], ['sft', 1e-5, 'linear', 64, 2048, 500, 1]);
  assert.deepEqual(spec.data, [{ name: 'a', weight: 2 }, { name: 'b', weight: 1 }]);
  const errors = a.diagnostics.filter((d) => d.severity === 'error').map((d) => [d.code, at(text, d), d.message]);
  assert.deepEqual(errors, [
    ['SL004', 'more', 'unexpected "more" after steps'],
    ['SL004', '', '"precision" needs a value'],
    ['SL004', 'daily', 'unknown schedule "daily"; use cosine, linear, constant'],
    ['SL004', '-1', 'clip takes a number ≥ 0, got "-1"'],
  ]);
  assert.deepEqual(find(a.diagnostics, 'SL043'), []);
});
