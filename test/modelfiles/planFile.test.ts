// Plan files (src/cli/planFile.ts) through `slayer compile`: a local model directory is relative to the plan.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { validateLayerMap } from '../../src/protocol/layerMap';
import { buildCli, slayer } from '../cli/spawnCli';

before(buildCli);

test('a local model directory relative to the plan file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'slayer-cli-'));
  mkdirSync(join(dir, 'tiny'));
  writeFileSync(join(dir, 'tiny', 'config.json'), JSON.stringify({ model_type: 'llama', hidden_size: 64, intermediate_size: 128, num_hidden_layers: 6, num_attention_heads: 4, num_key_value_heads: 2, vocab_size: 256, torch_dtype: 'float32' }));
  writeFileSync(join(dir, 'plan.slayer'), 'model ./tiny\nexpand (1+1)x2 | 2 | 1◇\n');
  const r = slayer('compile', join(dir, 'plan.slayer'));
  assert.equal(r.code, 0, r.err);
  const map = validateLayerMap(JSON.parse(r.out));
  assert.equal(map.plan.model, join(dir, 'tiny'));
  assert.equal(map.result.numLayers, 7);
});
