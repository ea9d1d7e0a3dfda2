// Block similarity on small checkpoints with known answers (identical → 1, negated → −1,
// orthogonal → 0), against a direct float64 computation on random data across chunk boundaries,
// in bf16, fp16 and fp32, and each byte read once.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { blockSimilarity, readCheckpoint, decodeToFloat32, similaritySeries } from '../../src/modelfiles';
import { encodeFromFloat32 } from '../../src/modelfiles/dtype';
import { writeCheckpoint, type TensorToWrite } from '../helpers/safetensorsWriter';
import { llamaBlock, prng, readTensorBytes, tempDir, type LlamaDims } from './helpers';

const dir = tempDir();
const d: LlamaDims = { layers: 4, hidden: 8, intermediate: 12, heads: 2, kvHeads: 1, vocab: 10 };

/**
 * Block 0 = X, 1 = X, 2 = −X, 3 = Y with Y ⟂ X exactly: X repeats each value twice ([a, a, b, b…])
 * and Y alternates sign within each pair ([k, −k, …]), so every pair contributes a·k − a·k = 0.
 */
function knownBlocks(dtype: 'F32' | 'BF16' | 'F16'): TensorToWrite[] {
  const r = prng(7);
  const X = new Map<string, number[]>();
  const Y = new Map<string, number[]>();
  const block = (i: number) => llamaBlock(d, i, dtype, (numel, name) => {
    const suffix = name.replace(/^model\.layers\.\d+\./, '');
    if (!X.has(suffix)) {
      const x: number[] = [];
      const y: number[] = [];
      for (let k = 0; k < numel; k += 2) {
        const a = 1 + Math.floor(r() * 8);
        const b = 1 + Math.floor(r() * 8);
        x.push(a, a);
        y.push(b, -b);
      }
      X.set(suffix, x);
      Y.set(suffix, y);
    }
    const v = i === 3 ? Y.get(suffix)! : X.get(suffix)!.map((x) => (i === 2 ? -x : x));
    return encodeFromFloat32(dtype, v);
  });
  return [0, 1, 2, 3].flatMap(block);
}

describe('known answers', () => {
  for (const dtype of ['BF16', 'F16', 'F32'] as const) {
    test(`${dtype}: identical → 1, negated → −1, orthogonal → 0, for every matrix and the block`, async () => {
      const p = join(dir, `known-${dtype}`);
      await writeCheckpoint(p, [knownBlocks(dtype)]);
      const c = await readCheckpoint(p);
      const s = await blockSimilarity(c, { chunkElements: 5 });
      assert.equal(s.numLayers, 4);
      assert.deepEqual(s.pairs.map((x) => [x.a, x.b]), [[0, 1], [1, 2], [2, 3]]);
      const expected = [1, -1, 0];
      s.pairs.forEach((pair, k) => {
        assert.equal(pair.tensors.length, 7, 'the seven weight matrices; norms left out by default');
        for (const t of pair.tensors) assert.ok(Math.abs(t.cosine! - expected[k]!) < 1e-12, `${pair.a}-${pair.b} ${t.suffix}: ${t.cosine}`);
        assert.ok(Math.abs(pair.meanCosine! - expected[k]!) < 1e-12);
        assert.ok(Math.abs(pair.blockCosine! - expected[k]!) < 1e-12);
      });
      const matrixBytes = c.tensors.filter((t) => t.shape.length === 2).reduce((n, t) => n + t.byteLength, 0);
      assert.equal(s.bytesRead, matrixBytes, 'each byte of each matrix read exactly once');
      const series = similaritySeries(s);
      assert.deepEqual(series.labels, ['0–1', '1–2', '2–3']);
      assert.deepEqual(series.blockCosine.map((x) => Math.round(x!)), [1, -1, 0]);
      assert.equal(series.bySuffix['mlp.down_proj.weight']!.length, 3);
      const withNorms = await blockSimilarity(c, { includeVectors: true });
      assert.equal(withNorms.pairs[0]!.tensors.length, 9);
    });
  }
});

test('random weights: matches a direct float64 computation, whatever the chunk size', async () => {
  const r = prng(42);
  const blocks = [0, 1, 2].flatMap((i) => llamaBlock(d, i, i === 1 ? 'F32' : 'BF16', (numel) => {
    const v = Array.from({ length: numel }, () => r() * 2 - 1);
    return encodeFromFloat32(i === 1 ? 'F32' : 'BF16', v);
  }));
  const p = join(dir, 'random');
  await writeCheckpoint(p, [blocks.slice(0, 10), blocks.slice(10)]);
  const c = await readCheckpoint(p);
  const values = async (name: string): Promise<Float32Array> => {
    const t = c.byName.get(name)!;
    return decodeToFloat32(t.dtype, await readTensorBytes(c, t), t.numel, new Float32Array(t.numel));
  };
  const direct = async (a: number, suffix: string): Promise<number> => {
    const x = await values(`model.layers.${a}.${suffix}`);
    const y = await values(`model.layers.${a + 1}.${suffix}`);
    let dot = 0, nx = 0, ny = 0;
    for (let k = 0; k < x.length; k++) { dot += x[k]! * y[k]!; nx += x[k]! ** 2; ny += y[k]! ** 2; }
    return dot / Math.sqrt(nx * ny);
  };
  for (const chunkElements of [1, 3, 64, 1 << 20]) {
    const s = await blockSimilarity(c, { chunkElements });
    for (const pair of s.pairs) {
      for (const t of pair.tensors) {
        const want = await direct(pair.a, t.suffix);
        assert.ok(Math.abs(t.cosine! - want) < 1e-9, `chunk ${chunkElements} ${pair.a} ${t.suffix}: ${t.cosine} vs ${want}`);
        assert.ok(Math.abs(t.cosine!) < 0.6, 'independent random weights are far from similar');
      }
    }
  }
});

test('tensors not in every block, or of differing shapes, are skipped with the reason', async () => {
  const ts = knownBlocks('BF16').filter((t) => t.name !== 'model.layers.2.mlp.up_proj.weight');
  ts.push({ name: 'model.layers.0.extra.weight', dtype: 'BF16', shape: [2, 2], data: new Uint8Array(8) });
  const p = join(dir, 'skips');
  await writeCheckpoint(p, [ts]);
  const s = await blockSimilarity(await readCheckpoint(p));
  assert.deepEqual(s.skipped, [{ suffix: 'mlp.up_proj.weight', reason: 'not in every block' }, { suffix: 'extra.weight', reason: 'not in every block' }]);
  assert.deepEqual(s.pairs[0]!.tensors.map((t) => t.suffix.split('.')[1]), ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'down_proj'], 'in the order the block computes');
  assert.equal(s.pairs[0]!.tensors.length, 6);
});

test('an all-zero tensor has no cosine (null), not NaN', async () => {
  const p = join(dir, 'zeros');
  await writeCheckpoint(p, [[0, 1].flatMap((i) => llamaBlock(d, i, 'BF16', () => null))]);
  const s = await blockSimilarity(await readCheckpoint(p));
  assert.ok(s.pairs[0]!.tensors.every((t) => t.cosine === null));
  assert.equal(s.pairs[0]!.meanCosine, null);
  assert.equal(JSON.parse(JSON.stringify(s)).pairs[0].blockCosine, null);
});
