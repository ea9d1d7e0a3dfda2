// run.json's model backend and attention kernel: chosen per host (slayer.hosts) or per dispatch,
// validated on the way out; the runner reads them (pipeline.py, doctor.py).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { analyzePlan } from '../../src/core';
import { validateRunConfig } from '../../src/protocol/runConfig';
import { hostSettingsFrom } from '../../src/remote/hostSettings';
import { buildRunConfig } from '../../src/remote/runConfigBuilder';

const layerMap = analyzePlan('model meta-llama/Llama-2-7b-hf\nexpand (2+1)x8 | 13 | 1◇\n').layerMap!;

test('backend and attn_implementation default to auto and follow the host, then the dispatch choice', () => {
  const plain = buildRunConfig(layerMap, hostSettingsFrom('h', {}));
  assert.equal(plain.backend, 'auto');
  assert.equal(plain.attn_implementation, 'auto');
  const host = hostSettingsFrom('gpu', { backend: 'transformers', attnImplementation: 'flash_attention_2' });
  const fromHost = buildRunConfig(layerMap, host);
  assert.deepEqual([fromHost.backend, fromHost.attn_implementation], ['transformers', 'flash_attention_2']);
  const chosen = buildRunConfig(layerMap, host, { backend: 'builtin', attnImplementation: 'sdpa' });
  assert.deepEqual([chosen.backend, chosen.attn_implementation], ['builtin', 'sdpa']);
  assert.doesNotThrow(() => validateRunConfig({ ...chosen, run_id: 'r1' }));
});

test('unknown backends and kernels are refused in host settings and in run.json; absent ones are fine', () => {
  assert.throws(() => hostSettingsFrom('h', { backend: 'vllm' }), /"backend" must be one of auto, transformers, builtin/);
  assert.throws(() => hostSettingsFrom('h', { attnImplementation: 'flash' }), /"attnImplementation" must be one of/);
  const rc = { ...buildRunConfig(layerMap, hostSettingsFrom('h', {})), run_id: 'r1' };
  assert.throws(() => validateRunConfig({ ...rc, backend: 'vllm' }), /"backend"/);
  assert.throws(() => validateRunConfig({ ...rc, attn_implementation: 'flash' }), /"attn_implementation"/);
  const { backend: _b, attn_implementation: _a, ...older } = rc;
  assert.doesNotThrow(() => validateRunConfig(older));
});
