// The one config.json reader of the TypeScript side against the shared family table
// (contracts/model-families.json), which runner/tests/test_modelconfig.py checks against
// transformers' own config classes, and against the runner's copy of it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { modelFamily, paramsPerBlock, parseHfConfig, SUPPORTED_MODEL_TYPES } from '../../src/core';

const root = join(__dirname, '..', '..');
const table = JSON.parse(readFileSync(join(root, 'contracts', 'model-families.json'), 'utf8')) as {
  families: Record<string, { defaults: Record<string, number | boolean | null> }>;
};
const minimal = (modelType: string, extra: Record<string, unknown> = {}): string => JSON.stringify({
  model_type: modelType, num_hidden_layers: 4, hidden_size: 64, intermediate_size: 96,
  num_attention_heads: 4, num_key_value_heads: 2, vocab_size: 300, ...extra,
});

test('the runner ships a byte-identical copy of the family table', () => {
  assert.equal(readFileSync(join(root, 'runner', 'slayer_runner', 'assets', 'model-families.json'), 'utf8'),
    readFileSync(join(root, 'contracts', 'model-families.json'), 'utf8'));
});

test('every family of the table is supported, and a config.json without the optional keys gets its defaults', () => {
  assert.deepEqual([...SUPPORTED_MODEL_TYPES], Object.keys(table.families));
  assert.ok(['llama', 'mistral', 'qwen2', 'qwen3', 'gemma2', 'gemma3_text', 'phi3'].every((t) => SUPPORTED_MODEL_TYPES.includes(t)));
  for (const [type, f] of Object.entries(table.families)) {
    const s = parseHfConfig(minimal(type));
    const d = f.defaults;
    assert.equal(s.rmsNormEps, d.rms_norm_eps, `${type} rms_norm_eps`);
    assert.equal(s.maxPositionEmbeddings, d.max_position_embeddings, `${type} max_position_embeddings`);
    assert.equal(s.ropeTheta, d.rope_theta, `${type} rope_theta`);
    assert.equal(s.tieEmbeddings, d.tie_word_embeddings, `${type} tie_word_embeddings`);
    assert.equal(s.headDim, d.head_dim ?? 16, `${type} head_dim`);
  }
});

test("biases follow each family's rule: Qwen2 q/k/v always and never o_proj; Llama attention_bias q/k/v/o; Mistral and Phi-3 none", () => {
  const biases = (type: string, extra: Record<string, unknown> = {}): boolean[] => {
    const s = parseHfConfig(minimal(type, extra));
    return [s.qkvBias, s.oBias, s.mlpBias];
  };
  assert.deepEqual(biases('qwen2'), [true, false, false]);
  assert.deepEqual(biases('qwen2', { attention_bias: true }), [true, false, false]);
  assert.deepEqual(biases('llama', { attention_bias: true, mlp_bias: true }), [true, true, true]);
  assert.deepEqual(biases('qwen3', { attention_bias: true }), [true, true, false]);
  assert.deepEqual(biases('mistral', { attention_bias: true }), [false, false, false]);
  assert.deepEqual(biases('phi3', { attention_bias: true }), [false, false, false]);
});

test("transformers 5's rope_parameters and dtype are read (Gemma 3: the full-attention layers' theta)", () => {
  assert.equal(parseHfConfig(minimal('llama', { rope_parameters: { rope_type: 'default', rope_theta: 500000 }, dtype: 'bfloat16' })).ropeTheta, 500000);
  assert.equal(parseHfConfig(minimal('llama', { dtype: 'bfloat16' })).dtype, 'bfloat16');
  const g = parseHfConfig(minimal('gemma3_text', { head_dim: 16, rope_parameters: { full_attention: { rope_theta: 1e6 }, sliding_attention: { rope_theta: 1e4 } } }));
  assert.equal(g.ropeTheta, 1e6);
});

test('a block counts its q/k norms (Qwen3, Gemma 3) and feed-forward norms (Gemma 2/3); fused Phi-3 counts as unfused', () => {
  const llama = paramsPerBlock(parseHfConfig(minimal('llama')));
  const withHeadDim = (type: string): number => paramsPerBlock(parseHfConfig(minimal(type, { head_dim: 16, tie_word_embeddings: false })));
  assert.equal(withHeadDim('qwen3'), llama + 2 * 16);
  assert.equal(withHeadDim('gemma2'), llama + 2 * 64);
  assert.equal(withHeadDim('gemma3_text'), llama + 2 * 64 + 2 * 16);
  assert.equal(withHeadDim('phi3'), llama);
  assert.equal(modelFamily('phi3')?.block.fused, true);
});
