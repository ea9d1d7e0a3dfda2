// The sweep section: variants of one plan compiled as plans of their own (the paper's Table 3, the
// LLaMA Pro placement ablation, the controls `train last N` and `train all`), with diagnostics at
// the exact words of the variant line that caused them.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { analyzePlan, formatPlan, parsePlan, type PlanDiagnostic } from '../../src/core';
import { validateLayerMap } from '../../src/protocol/layerMap';

const at = (text: string, needle: string, nth = 0): { start: number; end: number } => {
  let i = -1;
  for (let k = 0; k <= nth; k++) i = text.indexOf(needle, i + 1);
  assert.ok(i >= 0, needle);
  return { start: i, end: i + needle.length };
};
const spanText = (text: string, d: PlanDiagnostic): string => text.slice(d.span.start, d.span.end);
const loud = (ds: readonly PlanDiagnostic[]): PlanDiagnostic[] => ds.filter((d) => d.severity === 'error' || d.severity === 'warning');

const LLAMA = 'model meta-llama/Llama-2-7b-hf\n';
const STAGES = 'stage cpt\n  data proof-pile-2\n  tokens 5B\n';

test('the paper\'s Table 3 as one sweep: every variant compiles to the LayerMap its notation says', () => {
  const text = `${LLAMA}expand (2+1)x8 | 13 | 1◇\n${STAGES}
sweep table3
  llama-pro     (4+1)x8                  train new
  mixed         (2+1)x3 (4+1)x3 (7+1)x2  train new
  top           16 (2+1)x8               train new
  bottom        (2+1)x8 | 16             train new
  bottom-avg    (2+1)x8 | 16◇            train new
  third         (2+1)x6 | 17 | 1◇
  delete4       (2+1)x8 | 11 | 1◇
  slayer
`;
  const a = analyzePlan(text);
  // Only what the paper itself warns about: deleting 4 blocks.
  assert.deepEqual(loud(a.diagnostics).map((d) => [d.code, spanText(text, d)]), [['SL024', '(2+1)x8 | 11 | 1◇']]);
  assert.match(loud(a.diagnostics)[0]!.message, /^variant delete4: 4 blocks are deleted/);
  assert.equal(a.sweep!.name, 'table3');
  const byName = new Map(a.sweep!.variants.map((v) => [v.name, v]));
  assert.deepEqual([...byName.keys()], ['llama-pro', 'mixed', 'top', 'bottom', 'bottom-avg', 'third', 'delete4', 'slayer']);
  const trainable = (name: string): number[] => byName.get(name)!.layerMap!.blocks.filter((b) => b.trainable).map((b) => b.index);
  // The docs' table (docs/plan-language.md), output indices of the trainable blocks, L = 32.
  assert.deepEqual(trainable('llama-pro'), [4, 9, 14, 19, 24, 29, 34, 39]);
  assert.deepEqual(trainable('mixed'), [2, 5, 8, 13, 18, 23, 31, 39]);
  assert.deepEqual(trainable('top'), [18, 21, 24, 27, 30, 33, 36, 39]);
  assert.deepEqual(trainable('bottom'), [2, 5, 8, 11, 14, 17, 20, 23]);
  assert.deepEqual(trainable('third'), [2, 5, 8, 11, 14, 17, 35]);
  assert.deepEqual(trainable('slayer'), [2, 5, 8, 11, 14, 17, 20, 23, 37]);
  assert.equal(byName.get('bottom')!.layerMap!.blocks[2]!.init, 'copy');
  assert.equal(byName.get('bottom-avg')!.layerMap!.blocks[2]!.init, 'average');
  // Table 4's figures: SLayer-8B 7,952,715,776 / 1,821,450,240; LLaMA Pro 8,357,482,496 / 1,619,066,880.
  assert.deepEqual([byName.get('slayer')!.layerMap!.params.total, byName.get('slayer')!.layerMap!.params.trainable], [7_952_715_776, 1_821_450_240]);
  assert.deepEqual([byName.get('llama-pro')!.layerMap!.params.total, byName.get('llama-pro')!.layerMap!.params.trainable], [8_357_482_496, 1_619_066_880]);
  // Same stages in every variant, and each LayerMap passes the contract's validator.
  for (const v of a.sweep!.variants) {
    assert.deepEqual(v.layerMap!.stages, a.layerMap!.stages);
    validateLayerMap(JSON.parse(JSON.stringify(v.layerMap)));
  }
});

test('controls are one line each: no expansion with the last N blocks trained, and all parameters', () => {
  const text = `${LLAMA}expand (4+1)x8\ntrain new\n${STAGES}run on localhost gpus 8\nsweep controls\n  llama-pro\n  last8   none  train last 8\n  full    none  train all\n`;
  const a = analyzePlan(text);
  assert.deepEqual(loud(a.diagnostics), [], 'no SL029 for a control that trains original blocks');
  const [pro, last8, full] = a.sweep!.variants.map((v) => v.layerMap!);
  assert.equal(pro!.params.trainable, 1_619_066_880);
  // No new blocks: 32 blocks, the deepest 8 trainable (8 × 202,383,360).
  assert.equal(last8!.result.numLayers, 32);
  assert.deepEqual(last8!.blocks.filter((b) => b.trainable).map((b) => b.index), [24, 25, 26, 27, 28, 29, 30, 31]);
  assert.equal(last8!.params.trainable, 8 * 202_383_360);
  assert.deepEqual(last8!.trainableExtras, []);
  // Everything: Llama-2-7B's 6,738,415,616 parameters.
  assert.equal(full!.params.total, 6_738_415_616);
  assert.equal(full!.params.trainable, full!.params.total);
  assert.deepEqual([...full!.trainableExtras].sort(), ['embed', 'head', 'norm']);
  assert.ok(full!.blocks.every((b) => b.trainable));
});

test('train last N and train all work in a plain plan too, with positioned errors', () => {
  const ok = analyzePlan(`${LLAMA}expand 30 | -2\ntrain last 2, head\n`);
  assert.deepEqual(loud(ok.diagnostics), []);
  assert.deepEqual(ok.layerMap!.blocks.filter((b) => b.trainable).map((b) => b.index), [28, 29]);
  assert.deepEqual(ok.layerMap!.trainableExtras, ['head']);
  // Without a number, and beyond the kept blocks.
  const t1 = `${LLAMA}expand (2+1)x8 | 13 | 1◇\ntrain new, last\n`;
  const e1 = analyzePlan(t1).diagnostics.find((d) => d.code === 'SL004')!;
  assert.deepEqual(e1.span, at(t1, 'last'));
  const t2 = `${LLAMA}expand (4+1)x8\ntrain new, last 99\n`;
  const e2 = analyzePlan(t2).diagnostics.find((d) => d.code === 'SL042')!;
  assert.match(e2.message, /more blocks than the 32 original blocks/);
  assert.deepEqual(e2.span, at(t2, 'train new, last 99'));
  // A plain plan without new blocks that trains none of the original ones still gets SL029.
  assert.ok(analyzePlan(`${LLAMA}expand 32\ntrain head\n`).diagnostics.some((d) => d.code === 'SL029'));
});

test('variant diagnostics land on the words of the variant line; the plan\'s own are not repeated', () => {
  const text = `${LLAMA}expand (2+1)x8 | 13 | 1◇\ntrain new, final\nstage cpt\n  data sample\n  lr 2\nrun on localhost gpus 1\nsweep s\n  wide   (2+1)x8 | 40\n  odd    (2+1)x8|16◇  train new\n  typo   (4+1)x8  trian new\n  full   none  train all\n  wide   (4+1)x8\n  bad/name  (4+1)x8\n`;
  const a = analyzePlan(text);
  const ds = a.diagnostics;
  const find = (code: string, needle: string): PlanDiagnostic => {
    const d = ds.find((x) => x.code === code && spanText(text, x) === needle);
    assert.ok(d, `${code} at "${needle}" in ${JSON.stringify(ds.map((x) => [x.code, spanText(text, x)]))}`);
    return d;
  };
  // The plan's own out-of-range lr once, at the plan (not once per variant).
  assert.equal(ds.filter((d) => d.code === 'SL042').length, 1);
  // Too many blocks: at the variant's expression, with a fix that edits the variant's digits.
  const wide = find('SL022', '(2+1)x8 | 40');
  assert.match(wide.message, /^variant wide: the segments cover 56 blocks/);
  assert.deepEqual(wide.fixes[0]!.edits, [{ span: at(text, '40'), newText: '16' }]);
  // Canonical notation: the fix rewrites the variant's expression in place.
  const odd = find('SL031', '(2+1)x8|16◇');
  assert.deepEqual(odd.fixes[0]!.edits, [{ span: at(text, '(2+1)x8|16◇'), newText: '(2+1)x8 | 16◇' }]);
  // A misspelt override key.
  assert.deepEqual(find('SL002', 'trian').fixes[0]!.edits, [{ span: at(text, 'trian'), newText: 'train' }]);
  assert.equal(a.sweep!.variants.find((v) => v.name === 'typo')!.layerMap, null, 'a variant with an error on its line does not compile');
  // A variant's problem outside its line (the inherited train set has `final`; memory on one GPU)
  // is shown on its name, pointing at where it arises.
  const inherited = ds.find((d) => d.code === 'SL071' && d.message.startsWith('variant wide:') && d.message.endsWith('[SL030]'))!;
  assert.deepEqual(inherited.span, at(text, 'wide'));
  assert.equal(inherited.severity, 'warning');
  assert.deepEqual(inherited.related[0]!.span, at(text, 'train new, final'));
  const memory = ds.find((d) => d.code === 'SL071' && d.message.startsWith('variant full:') && d.message.endsWith('[SL051]'))!;
  assert.equal(memory.severity, 'error', 'full fine-tuning of a 7B model does not fit one 80 GiB GPU');
  assert.deepEqual(memory.span, at(text, 'full'));
  assert.deepEqual(memory.related[0]!.span, at(text, 'run on localhost gpus 1'));
  assert.equal(a.layerMap, null, 'a plan whose sweep has an error does not compile');
  // Names: a duplicate and one that cannot name a run.
  assert.deepEqual(find('SL070', 'wide').related[0]!.span, at(text, 'wide'));
  assert.equal(find('SL070', 'wide').span.start, at(text, 'wide', 1).start);
  find('SL070', 'bad/name');
});

test('sweep section shape: a name, at least two variants, one section; formatting keeps it', () => {
  const noName = `${LLAMA}expand (4+1)x8\nsweep\n  a (2+1)x8\n  b (4+1)x8\n`;
  assert.deepEqual(analyzePlan(noName).diagnostics.filter((d) => d.code === 'SL070').map((d) => spanText(noName, d)), ['sweep']);
  const one = `${LLAMA}expand (4+1)x8\nsweep s\n  a (2+1)x8\n`;
  assert.deepEqual(analyzePlan(one).diagnostics.filter((d) => d.code === 'SL070').map((d) => [d.severity, spanText(one, d)]), [['warning', 'sweep s']]);
  const two = `${LLAMA}expand (4+1)x8\nsweep s\n  a (2+1)x8\n  b (4+1)x8\nsweep t\n  c (2+1)x8\n`;
  assert.deepEqual(analyzePlan(two).diagnostics.filter((d) => d.code === 'SL003').map((d) => spanText(two, d)), ['sweep']);
  assert.equal(analyzePlan(two).diagnostics.find((d) => d.code === 'SL003')!.span.start, at(two, 'sweep', 1).start);
  // The section ends at the next top-level line; the plan after it is the plan's.
  const after = `${LLAMA}sweep s\n  a (2+1)x8\n  b (4+1)x8\nexpand (4+1)x8\n`;
  const p = parsePlan(after);
  assert.deepEqual(p.ast.sweeps[0]!.variants.map((v) => v.key.text), ['a', 'b']);
  assert.ok(analyzePlan(after).layerMap);
  assert.equal(formatPlan(formatPlan(after)), formatPlan(after));
  assert.match(formatPlan(after), /^sweep s\n {2}a {2}\(2\+1\)x8\n {2}b {2}\(4\+1\)x8$/m);
});

test('a hostile sweep: 20,000 variants of a near-limit plan are cut at 64, each checked once', () => {
  // Every variant is a whole plan; without the cap this would compile the plan 20,000 times.
  const filler = `# ${'x'.repeat(78)}\n`.repeat(2_000);
  const text = `${LLAMA}expand (4+1)x8\n${filler}sweep big\n${Array.from({ length: 20_000 }, (_, i) => `  v${i}  (2+1)x${1 + (i % 8)}\n`).join('')}`;
  const started = process.hrtime.bigint();
  const a = analyzePlan(text);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  assert.equal(a.sweep!.variants.length, 64);
  const cap = a.diagnostics.find((d) => d.code === 'SL070')!;
  assert.deepEqual(cap.span, { start: text.indexOf('  v64 ') + 2, end: text.indexOf('  v64 ') + 5 });
  assert.match(cap.message, /at most 64 variants; this is variant 65 of 20,000/);
  assert.ok(seconds < 30, `a generous bound on a loaded machine: ${seconds.toFixed(1)} s`);
});

test('the shipped example sweep compiles clean: equal budgets for bottom, top and the last-2 control', () => {
  const dir = join(__dirname, '..', '..', 'examples');
  const analysis = analyzePlan(readFileSync(join(dir, 'placement-sweep.slayer'), 'utf8'), {
    baseDir: dir, readFile: (p) => (existsSync(p) ? readFileSync(p, 'utf8') : undefined),
  });
  assert.deepEqual(analysis.diagnostics.map((d) => [d.code, d.message]), []);
  const v = new Map(analysis.sweep!.variants.map((x) => [x.name, x.layerMap!]));
  const trainable = (name: string): number[] => v.get(name)!.blocks.filter((b) => b.trainable).map((b) => b.index);
  assert.deepEqual(trainable('bottom'), [4, 5]);
  assert.deepEqual(trainable('top'), [8, 9]);
  assert.deepEqual(trainable('last2'), [6, 7]);
  assert.equal(v.get('bottom')!.params.trainable, v.get('last2')!.params.trainable);
  assert.equal(v.get('full')!.params.trainable, v.get('full')!.params.total);
});
