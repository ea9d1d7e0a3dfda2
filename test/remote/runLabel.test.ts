// Run labels: short and specific, whatever form the model reference takes.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runLabel, shortModelName } from '../../src/remote/runLabel';
import { tinyLayerMap } from './fixtures/tinyPlan';

test('model references shorten to what a user would call them', () => {
  assert.equal(shortModelName('meta-llama/Llama-2-7b-hf'), 'meta-llama/Llama-2-7b-hf');
  assert.equal(shortModelName('/tmp/x/ws/tiny/'), 'tiny');
  assert.equal(shortModelName('~/models/llama'), 'llama');
  assert.equal(shortModelName('gpu1:/models/Llama-2-7b-hf'), 'gpu1:Llama-2-7b-hf');
  assert.equal(shortModelName('/'), '/');
});

test('a run is labelled by its plan file, model and expansion', () => {
  const map = tinyLayerMap();
  assert.equal(runLabel(map), 'tiny.slayer · tiny (2+1) | 2');
  assert.equal(runLabel(map, null), 'tiny (2+1) | 2');
});
