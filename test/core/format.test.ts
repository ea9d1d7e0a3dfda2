import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { analyzePlan, formatPlan } from '../../src/core';

test('formatting aligns keys, canonicalises the notation, keeps comments, and is idempotent', () => {
  const text = 'model meta-llama/Llama-2-7b-hf   # base\nexpand (2+1)×8 13 1<>\ntrain new,final\nstage cpt\n    data a: 1\n  lr 2e-4 cosine\n  precision bf16 clip 1.0\n';
  const out = formatPlan(text);
  assert.equal(out, 'model   meta-llama/Llama-2-7b-hf  # base\nexpand  (2+1)x8 | 13 | 1◇\ntrain   new,final\nstage cpt\n  data       a: 1\n  lr         2e-4 cosine\n  precision  bf16  clip 1.0\n');
  assert.equal(formatPlan(out), out);
  // Formatting never changes what the plan means.
  assert.deepEqual(analyzePlan(out).layerMap, analyzePlan(text).layerMap);
});

test("the paper's plan file formats to a fixed point with the same LayerMap", () => {
  const text = readFileSync(`${__dirname}/../../examples/slayer-8b.slayer`, 'utf8');
  const out = formatPlan(text);
  assert.equal(formatPlan(out), out);
  assert.deepEqual(analyzePlan(out).layerMap, analyzePlan(text).layerMap);
});
