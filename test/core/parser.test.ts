// The parser (src/core/parser.ts): every mistake is reported, each with its exact range, the tree
// stays usable; settings outside a stage, comments, CRLF and tabs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyzePlan, parsePlan, type PlanDiagnostic } from '../../src/core';

/** The text a diagnostic points at. */
const at = (text: string, d: PlanDiagnostic): string => text.slice(d.span.start, d.span.end);
const find = (ds: PlanDiagnostic[], code: string): PlanDiagnostic[] => ds.filter((d) => d.code === code);

const MODEL = 'model meta-llama/Llama-2-7b-hf\n';

test('several mistakes yield all of them, each with its range, and the tree stays usable', () => {
  const text = [
    'modle meta-llama/Llama-2-7b-hf',
    'expand (2+1)x8 | 1q3 | (2+)  | 1◇',
    'train new, finall',
    'stage cpt',
    '  lr abc',
    '  batch 12 y 3',
    '  precison bf16',
    'run on bad$host gpus 0',
  ].join('\n');
  const a = analyzePlan(text);
  const got = a.diagnostics.filter((d) => d.severity === 'error').map((d) => [d.code, at(text, d)]);
  assert.deepEqual(got, [
    ['SL002', 'modle'],
    ['SL021', 'q3'],
    ['SL021', ')'],
    ['SL002', 'precison'],
    ['SL010', ''],
    ['SL004', 'finall'],
    ['SL004', 'abc'],
    ['SL004', '12 y 3'],
    ['SL050', 'bad$host'],
    ['SL004', '0'],
  ]);
  // Usable tree: the stage and its settings, the run line and the good segments are all there.
  assert.equal(a.ast.stages.length, 1);
  assert.equal(a.ast.stages[0]!.settings.length, 3);
  assert.deepEqual(a.ast.expansion!.expr.segments.map((s) => s.kind), ['group', 'keep']);
  // Fixes: "did you mean" on keys.
  const modle = a.diagnostics.find((d) => at(text, d) === 'modle')!;
  assert.equal(modle.fixes[0]!.edits[0]!.newText, 'model');
  assert.equal(a.diagnostics.find((d) => at(text, d) === 'precison')!.fixes[0]!.edits[0]!.newText, 'precision');
  assert.equal(a.diagnostics.find((d) => at(text, d) === 'finall')!.fixes[0]!.edits[0]!.newText, 'final');
});

test('stage settings outside a stage are reported with a fix that indents them', () => {
  const text = `${MODEL}expand (4+1)x8\nstage cpt\n  data a\nlr 2e-4\n`;
  const d = find(analyzePlan(text).diagnostics, 'SL005')[0]!;
  assert.equal(at(text, d), 'lr');
  assert.equal(d.fixes[0]!.edits[0]!.newText, '  ');
});

test('comments, CRLF line ends and tabs', () => {
  const text = '# plan\r\nmodel meta-llama/Llama-2-7b-hf # the base\r\nexpand\t(2+1)x8 | 13 | 1◇   # SLayer\r\n';
  const a = analyzePlan(text);
  assert.deepEqual(a.diagnostics.filter((d) => d.severity === 'error'), []);
  assert.equal(a.layerMap!.result.numLayers, 38);
  assert.equal(parsePlan(text).ast.lines[1]!.comment !== null, true);
});
