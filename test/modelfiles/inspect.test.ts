// Inspection on real checkpoints written to disk: counts against the plan core's accounting,
// attention layout from shapes, every config.json disagreement as a diagnostic, and a sparse
// checkpoint with the full shape of Llama-2-70B proving that only headers are read.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { lookupCatalogue, modelParams, paramsPerBlock, parseHfConfig } from '../../src/core';
import { loadAndInspect, LocalCheckpointCache } from '../../src/modelfiles';
import { writeCheckpoint } from '../helpers/safetensorsWriter';
import { bytesReadByProcess, inspectCheckpoint, LLAMA2_70B, llamaConfig, llamaTensors, shardBySize, tempDir, type LlamaDims } from './helpers';

const dir = tempDir();
const tiny: LlamaDims = { layers: 3, hidden: 16, intermediate: 40, heads: 4, kvHeads: 2, vocab: 50 };
const rand = (dtype: string) => (numel: number) => randomBytes(numel * (dtype === 'F32' ? 4 : 2));

async function write(name: string, d: LlamaDims, config: Record<string, unknown> | undefined, edit?: (ts: ReturnType<typeof llamaTensors>) => ReturnType<typeof llamaTensors>, shards = 2) {
  const p = join(dir, name);
  let ts = llamaTensors(d, 'BF16', rand('BF16'));
  if (edit) ts = edit(ts);
  const per = Math.ceil(ts.length / shards);
  await writeCheckpoint(p, Array.from({ length: shards }, (_, i) => ts.slice(i * per, (i + 1) * per)), config);
  return p;
}

const codes = (r: { diagnostics: { code: string }[] }) => r.diagnostics.map((d) => d.code);
const messages = (r: { diagnostics: { message: string }[] }) => r.diagnostics.map((d) => d.message).join('\n');

describe('a consistent checkpoint', () => {
  test('counts match the core accounting; GQA layout read from shapes and head_dim', async () => {
    const p = await write('tiny', tiny, llamaConfig(tiny));
    const r = await inspectCheckpoint(p);
    assert.deepEqual(r.diagnostics, []);
    const shape = parseHfConfig(JSON.stringify(llamaConfig(tiny)));
    assert.equal(r.params, modelParams(shape));
    assert.equal(r.configParams, r.params);
    assert.equal(r.bytes, r.params * 2);
    assert.equal(r.shards, 2);
    assert.deepEqual(r.dtypes, [{ dtype: 'BF16', tensors: r.tensorCount, params: r.params, bytes: r.bytes }]);
    assert.equal(r.layers.length, 3);
    for (const l of r.layers) {
      assert.equal(l.params, paramsPerBlock(shape));
      assert.equal(l.bytes, 2 * l.params);
      assert.deepEqual(l.attention, { qRows: 16, kvRows: 8, groupSize: 2, headDim: 4, heads: 4, kvHeads: 2 });
      assert.equal(l.intermediate, 40);
    }
    assert.equal(r.tiedEmbeddings, false);
    assert.deepEqual(r.inferred, { numLayers: 3, hiddenSize: 16, vocabSize: 50, intermediateSize: 40 });
    assert.deepEqual(r.head?.shape, [50, 16]);
  });

  test('tied embeddings: no lm_head stored, config says tied; counts still match', async () => {
    const d = { ...tiny, tied: true };
    const r = await inspectCheckpoint(await write('tied', d, llamaConfig(d)));
    assert.deepEqual(r.diagnostics, []);
    assert.equal(r.tiedEmbeddings, true);
    assert.equal(r.head, null);
    assert.equal(r.params, modelParams(parseHfConfig(JSON.stringify(llamaConfig(d)))));
  });

  test('without config.json: shape from tensors, query heads per kv head from shapes, an info note', async () => {
    const r = await inspectCheckpoint(await write('noconfig', tiny, undefined));
    assert.deepEqual(codes(r), ['no-config']);
    assert.equal(r.config, null);
    assert.deepEqual(r.layers[0]!.attention, { qRows: 16, kvRows: 8, groupSize: 2, headDim: null, heads: null, kvHeads: null });
  });
});

describe('disagreements with config.json are diagnostics with clear messages', () => {
  test('block count, kv heads, vocab, MLP width', async () => {
    const cfg = { ...llamaConfig(tiny), num_hidden_layers: 4, num_key_value_heads: 1, vocab_size: 64, intermediate_size: 48 };
    const r = await inspectCheckpoint(await write('mismatch', tiny, cfg));
    const m = messages(r);
    assert.ok(r.diagnostics.every((d) => d.severity === 'error'), m);
    assert.match(m, /config\.json num_hidden_layers is 4, but the checkpoint has 3 blocks \(model\.layers\.0–2\)/);
    assert.match(m, /model\.layers\.N\.self_attn\.k_proj\.weight has shape \[8, 16\] in every block; config\.json implies \[4, 16\] \(num_key_value_heads 1 × head_dim 4 = 4, hidden_size 16\)/);
    assert.match(m, /model\.embed_tokens\.weight has shape \[50, 16\], config\.json implies \[64, 16\] \(vocab_size 64/);
    assert.match(m, /mlp\.down_proj\.weight has shape \[16, 40\] in every block; config\.json implies \[16, 48\]/);
    assert.ok(codes(r).includes('kv-heads') && codes(r).includes('vocab') && codes(r).includes('intermediate-size') && codes(r).includes('layer-count'));
    // head counts are still worked out from config's head_dim where they divide
    assert.deepEqual(r.layers[1]!.attention, { qRows: 16, kvRows: 8, groupSize: 2, headDim: 4, heads: 4, kvHeads: 2 });
  });

  test('missing tensors, a gap in the blocks, an unexpected bias, lm_head vs tie_word_embeddings', async () => {
    const p = await write('holes', { ...tiny, layers: 4 }, llamaConfig({ ...tiny, layers: 4 }), (ts) => [
      ...ts.filter((t) => !t.name.startsWith('model.layers.2.') && t.name !== 'model.layers.1.mlp.up_proj.weight' && t.name !== 'lm_head.weight'),
      { name: 'model.layers.0.self_attn.q_proj.bias', dtype: 'BF16', shape: [16], data: randomBytes(32) },
    ]);
    const r = await inspectCheckpoint(p);
    const m = messages(r);
    assert.match(m, /block 2 is missing \(no model\.layers\.N\.\* tensors\)/);
    assert.match(m, /model\.layers\.N\.mlp\.up_proj\.weight is missing in block 1/);
    assert.match(m, /lm_head\.weight is missing \(config\.json implies \[50, 16\]: vocab_size 50, hidden_size 16; tie_word_embeddings is false\)/);
    assert.match(m, /model\.layers\.N\.self_attn\.q_proj\.bias in block 0 is not part of a llama block \(config\.json says attention_bias is off\)/);
    assert.equal(r.tiedEmbeddings, true, 'no lm_head stored = tied as far as the files go');
  });

  test('config tied but lm_head stored; torch_dtype differs from the stored dtype', async () => {
    const r = await inspectCheckpoint(await write('tiedhead', tiny, { ...llamaConfig(tiny), tie_word_embeddings: true, torch_dtype: 'float16' }));
    assert.deepEqual(r.diagnostics.map((d) => [d.severity, d.code]), [['warning', 'tied-embeddings'], ['info', 'dtype'], ['warning', 'params']]);
    assert.match(messages(r), /config\.json torch_dtype is float16, the weights are stored as BF16/);
  });

  test('a broken config.json and a broken shard are diagnostics, not exceptions', async () => {
    const p = await write('broken', tiny, llamaConfig(tiny));
    writeFileSync(join(p, 'config.json'), '{"model_type": "gpt2"}');
    writeFileSync(join(p, 'model-00002-of-00002.safetensors'), Buffer.from([200, 0, 0, 0, 0, 0, 0, 0, 0x7b]));
    const r = await inspectCheckpoint(p);
    assert.deepEqual(codes(r), ['checkpoint', 'config']);
    assert.match(r.diagnostics[0]!.message, /model-00002-of-00002\.safetensors: header length 200 reaches beyond the end of the file \(9 bytes\)/);
    assert.match(r.diagnostics[1]!.message, /model_type "gpt2" is not a supported/);
    const missing = await inspectCheckpoint(join(dir, 'does-not-exist'));
    assert.deepEqual(codes(missing), ['no-checkpoint', 'no-config']);
    assert.match(missing.diagnostics[0]!.message, /does-not-exist: no such directory/);
  });
});

test('the cached inspector reuses a result until config.json, the index or the directory changes', async () => {
  const p = await write('cached', tiny, llamaConfig(tiny));
  const cache = new LocalCheckpointCache();
  const [a, b] = await Promise.all([cache.get(p), cache.get(p)]);
  assert.equal(a, b);
  assert.equal(await cache.get(p), a);
  writeFileSync(join(p, 'config.json'), JSON.stringify({ ...llamaConfig(tiny), num_hidden_layers: 5 }));
  const c = await cache.get(p);
  assert.notEqual(c, a);
  assert.deepEqual(codes(c.report), ['layer-count']);
  writeFileSync(join(p, 'model-00002-of-00002.safetensors'), Buffer.alloc(3));
  rmSync(join(p, 'model.safetensors.index.json'));
  const d = await cache.get(p);
  assert.deepEqual(codes(d.report), ['checkpoint'], 'no headers, so no shape checks');
  assert.match(d.report.diagnostics[0]!.message, /truncated: 3 bytes/);
});

describe('a sparse checkpoint with the full shape of Llama-2-70B', () => {
  test('headers only: parameter total equals the core accounting, bytes read ≪ file sizes', { timeout: 120_000 }, async () => {
    const p = join(dir, 'llama-2-70b');
    const tensors = llamaTensors(LLAMA2_70B, 'BF16', () => null);
    const shards = shardBySize(tensors, 4.9e9);
    await writeCheckpoint(p, shards, { ...llamaConfig(LLAMA2_70B, 'float16'), torch_dtype: 'bfloat16' });
    let onDisk = 0;
    let apparent = 0;
    for (let i = 0; i < shards.length; i++) {
      const s = statSync(join(p, `model-${String(i + 1).padStart(5, '0')}-of-${String(shards.length).padStart(5, '0')}.safetensors`));
      onDisk += s.blocks * 512;
      apparent += s.size;
    }
    assert.ok(apparent > 137e9 && onDisk < 64e6, `sparse: ${apparent} bytes apparent, ${onDisk} allocated`);

    const before = bytesReadByProcess();
    const t0 = performance.now();
    const { report: r, checkpoint } = await loadAndInspect(p);
    const ms = performance.now() - t0;
    const read = before === null ? null : bytesReadByProcess()! - before;
    assert.deepEqual(r.diagnostics, []);
    const catalogue = lookupCatalogue('meta-llama/Llama-2-70b-hf')!.shape;
    assert.equal(r.params, modelParams(catalogue));
    assert.equal(r.params, 68_976_648_192);
    assert.equal(r.shards, shards.length);
    assert.equal(r.layers.length, 80);
    assert.deepEqual(r.layers[79]!.attention, { qRows: 8192, kvRows: 1024, groupSize: 8, headDim: 128, heads: 64, kvHeads: 8 });
    assert.equal(r.bytes, 2 * r.params);
    const headerBytes = checkpoint!.shards.reduce((n, s) => n + s.header.dataStart, 0);
    if (read !== null) assert.ok(read < headerBytes + 2e6, `read ${read} bytes; the headers are ${headerBytes}`);
    console.log(`# 70B-shaped: ${shards.length} shards, ${(apparent / 1e9).toFixed(1)} GB apparent, headers ${headerBytes} bytes, read ${read ?? '?'} bytes, inspected in ${ms.toFixed(1)} ms`);
    rmSync(p, { recursive: true, force: true });
  });
});
