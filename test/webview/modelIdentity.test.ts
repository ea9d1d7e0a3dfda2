// Model identity for the importance view: a measurement is drawn under the plan only when it is
// of the plan's model — same depth and same model name, or a run of this very plan.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { measuredOnPlanModel, modelName } from '../../src/extension/webviews/modelIdentity';

const plan = { id: 'meta-llama/Llama-2-7b-hf', numLayers: 32, planFile: '/ws/slayer-8b.slayer' };

test('the model name of Hub ids, directories and host:/path', () => {
  assert.equal(modelName('meta-llama/Llama-2-7b-hf'), 'llama-2-7b-hf');
  assert.equal(modelName('/data/models/Llama-2-7b-hf/'), 'llama-2-7b-hf');
  assert.equal(modelName('gpu-box:/m/Llama-2-7b-hf'), 'llama-2-7b-hf');
  assert.equal(modelName('gpu-box:~/Llama-2-7b-hf'), 'llama-2-7b-hf');
});

test('same depth is not enough: another model of 32 blocks is not the plan\'s', () => {
  assert.equal(measuredOnPlanModel({ ref: '/data/Llama-2-7b-hf', numLayers: 32 }, plan), true);
  assert.equal(measuredOnPlanModel({ ref: '/data/Mistral-7B-v0.1', numLayers: 32 }, plan), false);
  assert.equal(measuredOnPlanModel({ ref: '/data/Llama-2-7b-hf', numLayers: 8 }, plan), false);
  assert.equal(measuredOnPlanModel({ ref: '', numLayers: 32 }, plan), false);
});

test('a run of this plan measured its model (even a random model of its shape in out/base)', () => {
  const tiny = { id: '/ws/tiny-llama', numLayers: 8, planFile: '/ws/demo.slayer' };
  assert.equal(measuredOnPlanModel({ ref: '/home/u/.slayer/runs/r-1/out/base', numLayers: 8, runPlanFile: '/ws/demo.slayer' }, tiny), true);
  assert.equal(measuredOnPlanModel({ ref: '/home/u/.slayer/runs/r-1/out/base', numLayers: 8, runPlanFile: '/ws/other.slayer' }, tiny), false);
  assert.equal(measuredOnPlanModel({ ref: '/home/u/.slayer/runs/r-1/out/base', numLayers: 32, runPlanFile: '/ws/demo.slayer' }, tiny), false, 'the plan now names a model of another depth');
});
