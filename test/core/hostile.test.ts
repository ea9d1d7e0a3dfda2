// Issue 14's hostile plans, as they were reported: each is refused at the offending text with a
// message that names the limit, within a generous time bound (the originals took 89 s and 4.6 GB,
// or crashed the process).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { analyzePlan, LineIndex, parseHfConfig } from '../../src/core';
import { MAX_BLOCKS, MAX_DIAGNOSTICS_PER_LINE, MAX_PLAN_CHARS } from '../../src/core/limits';

const LLAMA = 'model meta-llama/Llama-2-7b-hf\n';

/** Analyses `text`, asserting it takes under `ms`; returns the analysis. */
function bounded(text: string, ms = 5000): ReturnType<typeof analyzePlan> {
  const t0 = performance.now();
  const a = analyzePlan(text);
  const took = performance.now() - t0;
  assert.ok(took < ms, `analysis took ${took.toFixed(0)} ms (bound ${ms} ms)`);
  return a;
}

const at = (text: string, a: ReturnType<typeof analyzePlan>, code: string): string[] =>
  a.diagnostics.filter((d) => d.code === code).map((d) => `${text.slice(d.span.start, d.span.end)}: ${d.message}`);

test('case 1: expand (1+999999999) is "too large" at the digits, and nothing is built', () => {
  const text = `${LLAMA}expand (1+999999999)\n`;
  const a = bounded(text);
  assert.deepEqual(at(text, a, 'SL021'), ['999999999: 999999999 is too large: a count in an expansion is at most 4,096 (see docs/limits.md)']);
  assert.equal(a.layout, null);
});

test('case 1: (0+999999999)x999999999 — both counts too large; (0+4096)x4096 is refused by depth before building', () => {
  const text = `${LLAMA}expand (0+999999999)x999999999\n`;
  const a = bounded(text);
  assert.equal(at(text, a, 'SL021').filter((m) => m.includes('too large')).length, 2);
  const deep = `${LLAMA}expand (0+4096)x4096\n`;
  const b = bounded(deep);
  assert.deepEqual(at(deep, b, 'SL022'), ['(0+4096)x4096: the expansion makes 16,777,216 blocks; a plan may make at most 4,096 (see docs/limits.md)']);
  assert.equal(b.layout, null);
  // The limit itself is accepted: a 32-block model grown to exactly MAX_BLOCKS blocks.
  const edge = `${LLAMA}expand (32+${MAX_BLOCKS - 32})\n`;
  const c = bounded(edge);
  assert.equal(c.layout?.numLayers, MAX_BLOCKS);
});

test('case 3: 200,000 "|" on one line give at most 20 diagnostics, not a stack overflow', () => {
  const text = `${LLAMA}expand ${'|'.repeat(200_000)}\n`;
  const a = bounded(text, 10_000);
  const onLine = a.diagnostics.filter((d) => a.lines.positionAt(d.span.start).line === 1);
  assert.equal(onLine.length, MAX_DIAGNOSTICS_PER_LINE);
  assert.match(onLine[onLine.length - 1]!.message, /^199,981 more problems in this expansion are not shown \(at most 20 per line\)$/);
  // Any other line past the cap is summed up by line.
  const many = analyzePlan(`${LLAMA}train ${'zz '.repeat(100)}\n`);
  assert.equal(many.diagnostics.filter((d) => many.lines.positionAt(d.span.start).line === 1).length, MAX_DIAGNOSTICS_PER_LINE + 1);
  assert.ok(many.diagnostics.some((d) => /^80 more problems on line 2 are not shown \(at most 20 per line\)$/.test(d.message)), JSON.stringify(many.diagnostics.map((d) => d.message)));
});

test('a plan longer than the limit is one diagnostic, not an analysis', () => {
  const a = bounded(`${LLAMA}#${'x'.repeat(MAX_PLAN_CHARS)}\n`);
  assert.equal(a.diagnostics.length, 1);
  assert.match(a.diagnostics[0]!.message, /plans are limited to 1,048,576/);
});

test('case 12: a UTF-8 BOM is not part of the first key', () => {
  const a = bounded(`\ufeff${LLAMA}expand (2+1)x8 | 13 | 1◇\n`);
  assert.deepEqual(a.diagnostics.filter((d) => d.severity === 'error'), []);
  assert.ok(a.layerMap);
  assert.equal(parseHfConfig('\ufeff{"model_type":"llama","hidden_size":64,"intermediate_size":128,"num_attention_heads":4,"num_hidden_layers":2,"vocab_size":100}').numLayers, 2);
});

test('case 12: CR-only line ends count as line breaks (as LSP counts them)', () => {
  const text = 'model meta-llama/Llama-2-7b-hf\rexpand (2+1)x8 | 13 | 1q\rmodle x\r';
  const a = bounded(text);
  const where = a.diagnostics.filter((d) => d.severity === 'error').map((d) => a.lines.positionAt(d.span.start));
  assert.deepEqual(where, [{ line: 1, character: 23 }, { line: 2, character: 0 }]);
  const mixed = new LineIndex('a\r\nb\rc\nd');
  assert.deepEqual([0, 1, 2, 3].map((l) => [mixed.lineStart(l), mixed.lineEnd(l)]), [[0, 1], [3, 4], [5, 6], [7, 8]]);
  assert.equal(mixed.offsetAt({ line: 1, character: 99 }), 4);
});

test('case 12: numbers of 10+ digits are "too large" at the digits, never shown clamped to 2^53', () => {
  const text = `${LLAMA}expand (2+1)x8 | 9007199254740993 | 1\n`;
  const a = bounded(text);
  assert.deepEqual(at(text, a, 'SL021'), ['9007199254740993: 9007199254740993 is too large: a count in an expansion is at most 4,096 (see docs/limits.md)']);
  assert.ok(!a.diagnostics.some((d) => d.message.includes('9007199254740992')));
});

test('case 12: absurd epochs, steps, gpus and gpu-memory 0GB are refused at the value', () => {
  const text = `${LLAMA}expand (2+1)x8 | 13 | 1◇\nstage cpt\n  data web\n  epochs 1e300\n  steps 99999999999999999999999\nrun on localhost gpus 99999999999999 gpu-memory 0GB\n`;
  const a = bounded(text);
  assert.deepEqual(at(text, a, 'SL042'), [
    '1e300: epochs 1e300 is too large: at most 1,000 (see docs/limits.md)',
    '99999999999999999999999: steps 99999999999999999999999 is too large: at most 1,000,000,000 (see docs/limits.md)',
    '99999999999999: gpus 99999999999999 is too large: at most 65,536 (see docs/limits.md)',
    '0GB: gpu-memory 0GB is no memory at all: give the memory of one GPU, such as 80GB',
  ]);
  assert.equal(a.layerMap, null);
});

test('case 2: num_hidden_layers 999999999 or 1e15 in config.json is a diagnostic on the model line', () => {
  for (const n of ['999999999', '1e15']) {
    const config = `{"model_type":"llama","hidden_size":64,"intermediate_size":128,"num_attention_heads":4,"num_hidden_layers":${n},"vocab_size":100}`;
    const text = 'model ./m\nexpand (2+1)x8 | 13 | 1◇\n';
    const t0 = performance.now();
    const a = analyzePlan(text, { baseDir: '/w', readFile: (p) => (p === '/w/m/config.json' ? config : undefined) });
    assert.ok(performance.now() - t0 < 5000);
    const d = a.diagnostics.find((x) => x.code === 'SL012');
    assert.ok(d, JSON.stringify(a.diagnostics));
    assert.equal(text.slice(d.span.start, d.span.end), './m');
    assert.match(d.message, /"num_hidden_layers" is (999,999,999|1e\+15), too large: at most 4,096 is accepted/);
  }
});

test('a refused config.json (readFile throws) is a diagnostic on the model line, not "no config.json"', () => {
  const a = analyzePlan('model ./m\nexpand (2+1)x8\n', { baseDir: '/w', readFile: () => { throw new Error('2.0 GiB, too large: config.json is read only up to 4 MiB'); } });
  const d = a.diagnostics.find((x) => x.code === 'SL012');
  assert.equal(d?.message, '/w/m/config.json: 2.0 GiB, too large: config.json is read only up to 4 MiB');
});

test('at most 1,000 diagnostics per plan (errors first), the rest summed up — found by the language-server fuzzer', () => {
  const text = `${LLAMA}expand (2+1)x8 | 13 | 1◇\n${'model x\n'.repeat(3000)}`;
  const a = bounded(text);
  assert.equal(a.diagnostics.length, 1001);
  assert.match(a.diagnostics[1000]!.message, /^2,\d{3} more problems in this plan are not shown \(at most 1,000 per plan\)$/);
  assert.ok(a.diagnostics.slice(0, 1000).every((d) => d.severity === 'error'));
});
