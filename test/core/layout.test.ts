// The block layout (src/core/layout.ts) through the compiler: every plan of the paper's Table 3 and
// of the spec's table, init and final-block sources, deletions, other model shapes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyzePlan } from '../../src/core';
import { validateLayerMap } from '../../src/protocol/layerMap';

const range = (from: number, step: number, count: number): number[] => Array.from({ length: count }, (_, i) => from + i * step);

interface Case { plan: string; blocks: number; deleted: number[]; trainable: number[]; init: 'copy' | 'average' }
// L = 32 (Llama-2-7B). Spec table + the rest of Table 3 (orderings of the same groups).
const CASES: Case[] = [
  { plan: '(4+1)x8', blocks: 40, deleted: [], trainable: range(4, 5, 8), init: 'copy' },
  { plan: '(2+1)x3 (4+1)x3 (7+1)x2', blocks: 40, deleted: [], trainable: [2, 5, 8, 13, 18, 23, 31, 39], init: 'copy' },
  { plan: '(2+1)x3 (7+1)x2 (4+1)x3', blocks: 40, deleted: [], trainable: [2, 5, 8, 16, 24, 29, 34, 39], init: 'copy' },
  { plan: '(4+1)x3 (2+1)x3 (7+1)x2', blocks: 40, deleted: [], trainable: [4, 9, 14, 17, 20, 23, 31, 39], init: 'copy' },
  { plan: '(4+1)x3 (7+1)x2 (2+1)x3', blocks: 40, deleted: [], trainable: [4, 9, 14, 22, 30, 33, 36, 39], init: 'copy' },
  { plan: '(7+1)x2 (4+1)x3 (2+1)x3', blocks: 40, deleted: [], trainable: [7, 15, 20, 25, 30, 33, 36, 39], init: 'copy' },
  { plan: '(7+1)x2 (2+1)x3 (4+1)x3', blocks: 40, deleted: [], trainable: [7, 15, 18, 21, 24, 29, 34, 39], init: 'copy' },
  { plan: '16 (2+1)x8', blocks: 40, deleted: [], trainable: range(18, 3, 8), init: 'copy' },
  { plan: '(2+1)x8 16', blocks: 40, deleted: [], trainable: range(2, 3, 8), init: 'copy' },
  { plan: '(2+1)x8 | 16◇', blocks: 40, deleted: [], trainable: range(2, 3, 8), init: 'average' },
  { plan: '(2+1)x6 | 17 | 1◇', blocks: 36, deleted: [30, 31], trainable: [...range(2, 3, 6), 35], init: 'average' },
  { plan: '(2+1)x8 | 13 | 1◇', blocks: 38, deleted: [30, 31], trainable: [...range(2, 3, 8), 37], init: 'average' },
  { plan: '(2+1)x8 | 12 | 1◇', blocks: 37, deleted: [29, 30, 31], trainable: [...range(2, 3, 8), 36], init: 'average' },
  { plan: '(2+1)x8 | 11 | 1◇', blocks: 36, deleted: [28, 29, 30, 31], trainable: [...range(2, 3, 8), 35], init: 'average' },
];

for (const c of CASES) {
  test(`Llama-2-7B ${c.plan}: ${c.blocks} blocks, trainable ${c.trainable.join(',')}`, () => {
    const a = analyzePlan(`model meta-llama/Llama-2-7b-hf\nexpand ${c.plan}\n`);
    assert.deepEqual(a.diagnostics.filter((d) => d.severity === 'error'), []);
    const map = validateLayerMap(JSON.parse(JSON.stringify(a.layerMap)));
    assert.equal(map.result.numLayers, c.blocks);
    assert.equal(map.blocks.length, c.blocks);
    assert.deepEqual(map.deleted, c.deleted);
    assert.deepEqual(map.blocks.filter((b) => b.trainable).map((b) => b.index), c.trainable);
    assert.equal(a.init, c.init);
    // Every kept original block appears once, in order, and no deleted block is kept.
    const kept = map.blocks.filter((b) => b.role === 'kept').map((b) => b.sources[0]!.layer);
    assert.deepEqual(kept, [...kept].sort((x, y) => x - y));
    for (const d of map.deleted) assert.ok(!kept.includes(d));
  });
}

test('ASCII and Unicode spellings compile to the same LayerMap', () => {
  const spellings = ['(2+1)x8 | 13 | 1◇', '(2+1)×8 | 13 | 1◇', '(2+1)*8 | 13 | 1<>', '(2+1)x8 13 1~', '(2+1)X8|13|1◇'];
  const maps = spellings.map((s) => analyzePlan(`model meta-llama/Llama-2-7b-hf\nexpand ${s}\n`).layerMap);
  for (const m of maps) assert.ok(m);
  for (const m of maps.slice(1)) assert.deepEqual(m!.blocks, maps[0]!.blocks);
  assert.equal(maps[0]!.plan.expand, '(2+1)x8 | 13 | 1◇');
});

test('SLayer-8B: new blocks average their neighbours, output projections zeroed, final block is the mean of 29, 30, 31', () => {
  const map = analyzePlan('model meta-llama/Llama-2-7b-hf\nexpand (2+1)x8 | 13 | 1◇\n').layerMap!;
  const first = map.blocks[2]!;
  assert.equal(first.init, 'average');
  assert.deepEqual(first.sources, [{ layer: 1, weight: 0.5 }, { layer: 2, weight: 0.5 }]);
  assert.deepEqual(first.zero, ['self_attn.o_proj.weight', 'mlp.down_proj.weight']);
  const last = map.blocks[37]!;
  assert.equal(last.role, 'final');
  assert.equal(last.init, 'final-average');
  assert.deepEqual(last.sources.map((s) => s.layer), [29, 30, 31]);
  for (const s of last.sources) assert.equal(s.weight, 1 / 3);
  assert.deepEqual(last.zero, []);
  assert.deepEqual(map.blocks[36]!.sources, [{ layer: 28, weight: 1 }]);
});

test('LLaMA Pro copies the preceding block', () => {
  const map = analyzePlan('model meta-llama/Llama-2-7b-hf\nexpand (4+1)x8\n').layerMap!;
  assert.deepEqual(map.blocks[4]!.sources, [{ layer: 3, weight: 1 }]);
  assert.equal(map.blocks[4]!.init, 'copy');
});

test('average init after the last block falls back to copy, with a warning on the segment', () => {
  const text = 'model meta-llama/Llama-2-7b-hf\nexpand (2+1)x16◇\n';
  const a = analyzePlan(text);
  const last = a.layerMap!.blocks[47]!;
  assert.equal(last.init, 'copy');
  assert.deepEqual(last.sources, [{ layer: 31, weight: 1 }]);
  const w = a.diagnostics.find((d) => d.code === 'SL026')!;
  assert.equal(text.slice(w.span.start, w.span.end), '(2+1)x16◇');
});

test('final average-deleted, final keep, zero none, init statement and explicit deletion', () => {
  const base = 'model meta-llama/Llama-2-7b-hf\nexpand (2+1)x8 | 13 | 1 | -2\n';
  const a1 = analyzePlan(`${base}final average-deleted\nzero none\ninit average\n`).layerMap!;
  assert.deepEqual(a1.blocks[37]!.sources.map((s) => s.layer), [30, 31]);
  assert.deepEqual(a1.blocks[2]!.zero, []);
  assert.equal(a1.blocks[2]!.init, 'average');
  const a2 = analyzePlan(`${base}final keep\n`).layerMap!;
  assert.deepEqual(a2.blocks[37]!.sources, [{ layer: 29, weight: 1 }]);
  assert.equal(a2.blocks[37]!.trainable, true);
  assert.equal(a2.blocks[2]!.init, 'copy');
});

test('middle deletion and a 1 that is not a final block', () => {
  const a = analyzePlan('model meta-llama/Llama-2-7b-hf\nexpand (2+1)x8 | -1 | 14 | 1\n').layerMap!;
  assert.deepEqual(a.deleted, [16]);
  assert.equal(a.blocks.length, 32 + 8 - 1);
  assert.equal(a.blocks[a.blocks.length - 1]!.role, 'kept');
});

test('other shapes: Qwen2.5-0.5B (tied embeddings, q/k/v biases) and Llama-3-8B (grouped-query attention)', () => {
  const q = analyzePlan('model Qwen/Qwen2.5-0.5B\nexpand (2+1)x6 | 10 | 1◇\n');
  assert.equal(q.layerMap!.result.numLayers, 24 + 6 - 1);
  assert.deepEqual(q.layerMap!.deleted, [23]);
  const l3 = analyzePlan('model meta-llama/Meta-Llama-3-8B\nexpand (2+1)x8 | 13 | 1◇\n');
  assert.equal(l3.layerMap!.result.numLayers, 38);
  assert.equal(l3.layerMap!.base.numKvHeads, 8);
});
