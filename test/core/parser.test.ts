// Parser and checker error paths: every mistake is reported, each with its exact range.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyzePlan, parsePlan, type PlanDiagnostic } from '../../src/core';

/** The text a diagnostic points at. */
const at = (text: string, d: PlanDiagnostic): string => text.slice(d.span.start, d.span.end);
const find = (ds: PlanDiagnostic[], code: string): PlanDiagnostic[] => ds.filter((d) => d.code === code);

const MODEL = 'model meta-llama/Llama-2-7b-hf\n';

const EXPANSION_ERRORS: [string, string, RegExp][] = [
  ['(2+1)x8 | 1q3 | 1◇', 'q3', /unexpected "q3"/],
  ['(2+)x8', ')', /number of new blocks/],
  ['(+1)x8', '+', /number of kept blocks/],
  ['(2-1)x8', '-', /expected "\+"/],
  ['(2+1 x8', 'x', /expected "\)"/],
  ['(2+1)x', '', /repeat count/],
  ['(2+1)x8 || 13', '|', /between two "\|"/],
  ['| (2+1)x8', '|', /before "\|"/],
  ['(2+1)x8 |', '|', /after the last "\|"/],
  ['(2+1)x8 | 13 | 1◇ | @', '@', /unexpected "@"/],
  ['(0+1)x8', '0', /keep at least one block/],
  ['(2+1)x0', '0', /repeated 0 times/],
  ['(2+1)x8 -', '-', /number after "-"/],
];

for (const [expr, pointed, message] of EXPANSION_ERRORS) {
  test(`expansion error in "${expr}" points at "${pointed}"`, () => {
    const text = `${MODEL}expand ${expr}\n`;
    const errs = find(analyzePlan(text).diagnostics, 'SL021');
    assert.equal(errs.length, 1, JSON.stringify(errs));
    assert.match(errs[0]!.message, message);
    if (pointed) assert.equal(at(text, errs[0]!), pointed);
    else assert.equal(errs[0]!.span.start, text.indexOf('\n', MODEL.length)); // at the end of the expression
  });
}

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

test('covering more blocks than the model has is an error with a fix on the keep segment', () => {
  assert.deepEqual(find(analyzePlan(`${MODEL}expand (2+1)x8 | 15 | 1◇\n`).diagnostics, 'SL022'), []);
  const text2 = `${MODEL}expand (2+1)x8 | 16 | 1◇\ntrain new, final, head\n`;
  const d2 = find(analyzePlan(text2).diagnostics, 'SL022')[0]!;
  assert.match(d2.message, /cover 33 blocks .* has 32 .* 1 too many/);
  assert.equal(at(text2, d2), '(2+1)x8 | 16 | 1◇');
  // Keeping 15 would cover all 32 and leave no final block for `train final` (SL030): keep 14.
  const fix = d2.fixes[0]!.edits[0]!;
  assert.equal(text2.slice(fix.span.start, fix.span.end), '16');
  assert.equal(fix.newText, '14');
  const fixed = analyzePlan(text2.slice(0, fix.span.start) + fix.newText + text2.slice(fix.span.end));
  assert.deepEqual(fixed.diagnostics.map((d) => d.code), []);
  assert.equal(fixed.layout!.final!.original, 30);
  // Without `final` in the train set the plan may simply cover the model.
  const noFinal = `${MODEL}expand (2+1)x8 | 16 | 1◇\ntrain new, head\n`;
  assert.equal(find(analyzePlan(noFinal).diagnostics, 'SL022')[0]!.fixes[0]!.edits[0]!.newText, '15');
});

test('the paper\'s implied deletion (room for the final block) is no hint; one without a final block is', () => {
  assert.deepEqual(analyzePlan(`${MODEL}expand (2+1)x8 | 13 | 1◇\ntrain new, final, head\n`).diagnostics, []);
  const text = `${MODEL}expand (4+1)x7 | 2\n`;
  const d = find(analyzePlan(text).diagnostics, 'SL023')[0]!;
  assert.equal(d.severity, 'hint');
  assert.match(d.message, /blocks 30–31/);
  const edit = d.fixes[0]!.edits[0]!;
  const fixed = text.slice(0, edit.span.start) + edit.newText + text.slice(edit.span.end);
  assert.equal(fixed, `${MODEL}expand (4+1)x7 | 2 | -2\n`);
  const again = analyzePlan(fixed);
  assert.deepEqual(again.diagnostics, []);
  assert.deepEqual(again.layerMap!.deleted, [30, 31]);
});

test('deleting 3 is a warning whose fix keeps one more block; more than a quarter is a warning too', () => {
  const text = `${MODEL}expand (2+1)x8 | 12 | 1◇\n`;
  const d = find(analyzePlan(text).diagnostics, 'SL024')[0]!;
  assert.equal(d.severity, 'warning');
  assert.equal(d.fixes[0]!.title, 'Keep 13 blocks instead of 12 so only 2 blocks are deleted');
  const e = d.fixes[0]!.edits[0]!;
  assert.deepEqual(analyzePlan(text.slice(0, e.span.start) + e.newText + text.slice(e.span.end)).diagnostics, []);
  // Layer pruning deletes 25–50% on purpose: a warning, and the plan still compiles.
  const big = analyzePlan(`${MODEL}expand (2+1)x8 | 6 | 1◇\n`);
  assert.equal(find(big.diagnostics, 'SL025')[0]!.severity, 'warning');
  assert.equal(big.layerMap!.deleted.length, 9);
});

test('unknown model: an error that says why, and suggests a near catalogue id', () => {
  const text = 'model meta-llama/Llama-2-7b\nexpand (2+1)x8\n';
  const d = find(analyzePlan(text).diagnostics, 'SL011')[0]!;
  assert.equal(at(text, d), 'meta-llama/Llama-2-7b');
  assert.match(d.message, /not in the built-in catalogue/);
  assert.equal(d.fixes[0]!.edits[0]!.newText, 'meta-llama/Llama-2-7b-hf');
  const far = find(analyzePlan('model someone/some-model\nexpand (2+1)x8\n').diagnostics, 'SL011')[0]!;
  assert.deepEqual(far.fixes, []);
});

test('stage checks: sft before cpt, duplicate stages and settings, ranges, units', () => {
  const text = [MODEL.trim(), 'expand (4+1)x8', 'stage sft', '  data a', 'stage cpt', '  data b', '  lr 5', '  lr 2e-4', '  warmup 150%', '  tokens lots', 'stage cpt', '  data c'].join('\n');
  const ds = analyzePlan(text).diagnostics;
  assert.equal(find(ds, 'SL040').length, 2);
  assert.equal(at(text, find(ds, 'SL041')[0]!), 'cpt');
  assert.equal(find(ds, 'SL003')[0]!.severity, 'warning');
  assert.deepEqual(find(ds, 'SL042').map((d) => at(text, d)), ['5', '150%']);
  assert.equal(at(text, ds.find((d) => d.message.startsWith('tokens takes'))!), 'lots');
});

test('stage settings outside a stage are reported with a fix that indents them', () => {
  const text = `${MODEL}expand (4+1)x8\nstage cpt\n  data a\nlr 2e-4\n`;
  const d = find(analyzePlan(text).diagnostics, 'SL005')[0]!;
  assert.equal(at(text, d), 'lr');
  assert.equal(d.fixes[0]!.edits[0]!.newText, '  ');
});

test('init copy against a ◇ warns and init wins', () => {
  const text = `${MODEL}expand (2+1)x8 | 16◇\ninit copy\n`;
  const a = analyzePlan(text);
  assert.equal(find(a.diagnostics, 'SL028')[0]!.related.length, 1);
  assert.equal(a.layerMap!.blocks[2]!.init, 'copy');
});

test('non-canonical notation gets a hint whose fix normalises it', () => {
  const text = `${MODEL}expand (2+1)×8 13 1<>\n`;
  const d = find(analyzePlan(text).diagnostics, 'SL031')[0]!;
  assert.equal(d.fixes[0]!.edits[0]!.newText, '(2+1)x8 | 13 | 1◇');
  assert.deepEqual(find(analyzePlan(`${MODEL}expand (2+1)x8 | 13 | 1◇\n`).diagnostics, 'SL031'), []);
});

test('comments, CRLF line ends and tabs', () => {
  const text = '# plan\r\nmodel meta-llama/Llama-2-7b-hf # the base\r\nexpand\t(2+1)x8 | 13 | 1◇   # SLayer\r\n';
  const a = analyzePlan(text);
  assert.deepEqual(a.diagnostics.filter((d) => d.severity === 'error'), []);
  assert.equal(a.layerMap!.result.numLayers, 38);
  assert.equal(parsePlan(text).ast.lines[1]!.comment !== null, true);
});
