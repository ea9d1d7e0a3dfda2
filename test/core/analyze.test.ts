// The checker (src/core/analyze.ts): the model line (catalogue, local and remote configs), coverage
// and deletion checks with their fixes, init against ◇, canonical notation, a whole plan compiled.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { analyzePlan, type PlanDiagnostic } from '../../src/core';

/** The text a diagnostic points at. */
const at = (text: string, d: PlanDiagnostic): string => text.slice(d.span.start, d.span.end);
const find = (ds: PlanDiagnostic[], code: string): PlanDiagnostic[] => ds.filter((d) => d.code === code);

const MODEL = 'model meta-llama/Llama-2-7b-hf\n';

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

test('a local model directory is read through the injected reader, relative to the plan', () => {
  const files: Record<string, string> = {
    '/work/plans/tiny/config.json': JSON.stringify({ model_type: 'llama', hidden_size: 64, intermediate_size: 128, num_hidden_layers: 6, num_attention_heads: 4, num_key_value_heads: 2, vocab_size: 256 }),
  };
  const a = analyzePlan('model ./tiny\nexpand (1+1)x2 | 2 | 1◇\n', { baseDir: '/work/plans', readFile: (p) => files[p] });
  assert.equal(a.model!.source, 'local');
  assert.equal(a.model!.id, '/work/plans/tiny');
  assert.equal(a.layerMap!.result.numLayers, 6 + 2 - 1);
  const missing = analyzePlan('model ./nowhere\nexpand (1+1)x2\n', { baseDir: '/work/plans', readFile: (p) => files[p] });
  const d = missing.diagnostics.find((x) => x.code === 'SL011')!;
  assert.match(d.message, /no config\.json in \/work\/plans\/nowhere/);
});

test('remote models go through the injected resolver', () => {
  const config = JSON.stringify({ model_type: 'llama', hidden_size: 64, intermediate_size: 128, num_hidden_layers: 8, num_attention_heads: 4, vocab_size: 256 });
  const ok = analyzePlan('model gpu1:/data/llama\nexpand (2+1)x2 | 2 | 1◇\n', { remoteModel: (h, p) => (h === 'gpu1' && p === '/data/llama' ? { status: 'ok', configJson: config } : undefined) });
  assert.equal(ok.layerMap!.result.numLayers, 8 + 2 - 1);
  const none = analyzePlan('model gpu1:/data/llama\nexpand (2+1)x2\n');
  assert.equal(none.diagnostics.find((d) => d.code === 'SL013')!.severity, 'info');
  assert.equal(none.layerMap, null);
  const err = analyzePlan('model gpu1:/data/llama\nexpand (2+1)x2\n', { remoteModel: () => ({ status: 'error', message: 'no such file' }) });
  assert.match(err.diagnostics.find((d) => d.code === 'SL012')!.message, /no such file/);
});

test("the spec's sketch compiles with its stages and run target", () => {
  const text = readFileSync(`${__dirname}/../../examples/slayer-8b.slayer`, 'utf8');
  const a = analyzePlan(text);
  assert.deepEqual(a.diagnostics.filter((d) => d.severity === 'error' || d.severity === 'warning'), []);
  const m = a.layerMap!;
  assert.deepEqual(m.stages.map((s) => [s.name, s.kind, s.tokens, s.lr, s.warmup, s.batchSequences, s.seqLen, s.epochs, s.weightDecay, s.clip]), [
    ['cpt', 'cpt', 30e9, 2e-4, 0.02, 1024, 4096, 2, 0.1, 1],
    ['sft', 'sft', null, 1e-5, 0.02, 128, 4096, 1, 0, 1],
  ]);
  assert.deepEqual(m.stages[0]!.data, [{ name: 'proof-pile-2', weight: 5 }, { name: 'the-stack-dedup/python', weight: 2 }]);
  assert.equal(m.stages[1]!.data.length, 4);
  assert.deepEqual(m.run, { host: 'a100-box', gpus: 8, nodes: 1, weights: 'checkpoint' });
  assert.deepEqual(m.trainableExtras, ['head']);
});

test('a plan of only the model and expand lines is complete', () => {
  const a = analyzePlan('model meta-llama/Llama-2-7b-hf\nexpand (2+1)x8 | 13 | 1◇');
  assert.ok(a.layerMap);
  assert.deepEqual(a.layerMap.stages, []);
  assert.equal(a.layerMap.run, null);
});
