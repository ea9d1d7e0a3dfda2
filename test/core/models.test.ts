// config.json fuzzing (issue 14): random and hostile configs — huge or fractional sizes, 1e308,
// negative and non-numeric values, deep nesting, a BOM, broken JSON — through parseHfConfig and a
// plan that uses them. parseHfConfig either returns a shape within CONFIG_LIMITS or throws
// ModelConfigError; the analysis never throws and stays bounded. SLAYER_FUZZ_SCALE=N for long runs.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { analyzePlan, ModelConfigError, parseHfConfig } from '../../src/core';
import { CONFIG_LIMITS, MAX_BLOCKS } from '../../src/core/limits';
import { prng } from '../helpers/prng';

const SCALE = Math.max(1, Number(process.env.SLAYER_FUZZ_SCALE) || 1);
const BASE: Record<string, unknown> = {
  model_type: 'llama', hidden_size: 64, intermediate_size: 128, num_attention_heads: 4, num_key_value_heads: 2,
  num_hidden_layers: 8, vocab_size: 100, max_position_embeddings: 512, head_dim: 16, tie_word_embeddings: false,
};
const KEYS = [...Object.keys(BASE), 'rms_norm_eps', 'rope_theta', 'torch_dtype', 'attention_bias', 'mlp_bias'];

function hostileValue(rand: () => number): unknown {
  const pick = Math.floor(rand() * 14);
  switch (pick) {
    case 0: return 999999999;
    case 1: return 1e15;
    case 2: return 1e308;
    case 3: return -1 - Math.floor(rand() * 100);
    case 4: return 0;
    case 5: return rand() * 100;
    case 6: return Number.MAX_SAFE_INTEGER + 2;
    case 7: return String(Math.floor(rand() * 1e6));
    case 8: return null;
    case 9: return [1, 2, 3];
    case 10: return { nested: { deeper: [rand()] } };
    case 11: return 1 + Math.floor(rand() * 5000);
    case 12: return 2 ** Math.floor(rand() * 40);
    default: return true;
  }
}

function hostileText(rand: () => number): string {
  const cfg: Record<string, unknown> = { ...BASE };
  const edits = 1 + Math.floor(rand() * 4);
  for (let e = 0; e < edits; e++) cfg[KEYS[Math.floor(rand() * KEYS.length)]!] = hostileValue(rand);
  let text = JSON.stringify(cfg);
  const shape = rand();
  if (shape < 0.05) text = `\ufeff${text}`;
  else if (shape < 0.1) text = '['.repeat(1 + Math.floor(rand() * 100_000));
  else if (shape < 0.15) text = text.slice(0, Math.floor(rand() * text.length));
  else if (shape < 0.2) text = text.replace(/\d+/, '9'.repeat(1 + Math.floor(rand() * 400)));
  else if (shape < 0.25) text = `{"model_type":"llama","x":${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}}`;
  return text;
}

test('hostile config.json: a bounded shape or a ModelConfigError, and a bounded analysis', () => {
  const rand = prng(20261206);
  const cases = 1500 * SCALE;
  const started = process.cpuUsage();
  let accepted = 0;
  for (let n = 0; n < cases; n++) {
    const text = hostileText(rand);
    try {
      const s = parseHfConfig(text);
      accepted++;
      const sizes: Record<string, number> = {
        num_hidden_layers: s.numLayers, hidden_size: s.hiddenSize, intermediate_size: s.intermediateSize, num_attention_heads: s.numHeads,
        num_key_value_heads: s.numKvHeads, head_dim: s.headDim, vocab_size: s.vocabSize, max_position_embeddings: s.maxPositionEmbeddings,
      };
      for (const [k, v] of Object.entries(sizes)) assert.ok(Number.isSafeInteger(v) && v >= 1 && v <= CONFIG_LIMITS[k]!, `case ${n}: ${k} = ${v} accepted from ${text.slice(0, 200)}`);
    } catch (e) {
      assert.ok(e instanceof ModelConfigError, `case ${n}: ${(e as Error).stack} from ${text.slice(0, 200)}`);
      assert.ok(e.message.length < 500);
    }
    const t0 = process.cpuUsage();
    const a = analyzePlan('model ./m\nexpand (2+1)x3 | 1 | -1\n', { baseDir: '/w', readFile: (p) => (p === '/w/m/config.json' ? text : undefined) });
    const cpu = process.cpuUsage(t0);
    assert.ok((cpu.user + cpu.system) / 1000 < 2000, `case ${n}: analysis took ${(cpu.user + cpu.system) / 1000} ms of CPU`);
    assert.ok((a.layout?.blocks.length ?? 0) <= MAX_BLOCKS);
    if (!a.model?.shape) assert.ok(a.diagnostics.some((d) => d.code === 'SL012' && d.span.start === 6), `case ${n}: a refused config.json is said on the model line`);
  }
  assert.ok(accepted > 0 && accepted < cases, `${accepted} of ${cases} accepted: the fuzzer must exercise both outcomes`);
  const cpu = process.cpuUsage(started);
  assert.ok((cpu.user + cpu.system) / 1000 < 60_000 * SCALE);
});
