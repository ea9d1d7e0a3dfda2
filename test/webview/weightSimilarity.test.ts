// The importance view's weight-similarity source: which checkpoint a plan names, and the adjacent
// block cosines read from a real safetensors checkpoint with known answers.
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { analyzePlan } from '../../src/core';
import { computeWeightSimilarity, localCheckpointOf } from '../../src/extension/webviews/weightSimilarity';
import { encodeFromFloat32 } from '../../src/modelfiles/dtype';
import { writeCheckpoint } from '../helpers/safetensorsWriter';
import { llamaConfig, llamaTensors, prng, tempDir, type LlamaDims } from '../modelfiles/helpers';

const d: LlamaDims = { layers: 4, hidden: 8, intermediate: 12, heads: 2, kvHeads: 1, vocab: 10 };

function analyze(dir: string, modelLine: string) {
  return analyzePlan(`model ${modelLine}\nexpand (2+1)x1 | 2\n`, { fileName: join(dir, 'p.slayer'), baseDir: dir, readFile: (p) => { try { return readFileSync(p, 'utf8'); } catch { return undefined; } } });
}

test('blocks 0 = 1 = X, 2 = −X, 3 = 2X: cosines 1, −1, −1 from the plan\'s local checkpoint', async () => {
  const dir = tempDir('slayer-wsim-');
  const ckpt = join(dir, 'ckpt');
  const r = prng(3);
  const base = new Map<string, number[]>();
  const tensors = llamaTensors(d, 'F32', (numel, name) => {
    const m = /^model\.layers\.(\d+)\.(.+)$/.exec(name);
    if (!m) return encodeFromFloat32('F32', Array.from({ length: numel }, () => r() - 0.5));
    if (!base.has(m[2]!)) base.set(m[2]!, Array.from({ length: numel }, () => r() - 0.5));
    const scale = [1, 1, -1, 2][Number(m[1])]!;
    return encodeFromFloat32('F32', base.get(m[2]!)!.map((x) => x * scale));
  });
  await writeCheckpoint(ckpt, [tensors], llamaConfig(d, 'float32'));
  const where = localCheckpointOf(analyze(dir, './ckpt'));
  assert.ok('dir' in where, JSON.stringify(where));
  const progress: number[] = [];
  const s = await computeWeightSimilarity(where.dir, { onProgress: (done, total) => progress.push(done / total) });
  assert.equal(s.source, ckpt);
  assert.deepEqual(s.blockCosine.map((c) => Number(c!.toFixed(6))), [1, -1, -1]);
  assert.deepEqual(s.meanCosine.map((c) => Number(c!.toFixed(6))), [1, -1, -1]);
  assert.equal(progress[progress.length - 1], 1);
  const abort = new AbortController();
  abort.abort();
  await assert.rejects(computeWeightSimilarity(where.dir, { signal: abort.signal }), /cancelled/);
});

test('plans without a local checkpoint say why', () => {
  const dir = tempDir('slayer-wsim-');
  const why = (a: ReturnType<typeof analyze>) => {
    const w = localCheckpointOf(a);
    assert.ok('why' in w);
    return w.why;
  };
  assert.match(why(analyze(dir, 'meta-llama/Llama-2-7b-hf')), /a catalogue entry \(no weights here\)/);
  mkdirSync(join(dir, 'cfg'));
  writeFileSync(join(dir, 'cfg', 'config.json'), JSON.stringify(llamaConfig(d)));
  assert.match(why(analyze(dir, './cfg')), /has a config\.json but no safetensors weights/);
});
