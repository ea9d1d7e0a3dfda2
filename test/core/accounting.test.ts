import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyzePlan, lookupCatalogue, memoryPerGpu, modelParams, paramsPerBlock } from '../../src/core';

test("Table 4: SLayer-8B 7,952,715,776 total, 1,821,450,240 trainable blocks, 1,952,522,240 with the head", () => {
  const a = analyzePlan('model meta-llama/Llama-2-7b-hf\nexpand (2+1)x8 | 13 | 1◇\n');
  assert.equal(a.params!.perBlock, 202_383_360);
  assert.equal(a.params!.total, 7_952_715_776);
  assert.equal(a.params!.trainableBlocks, 1_821_450_240);
  assert.equal(a.params!.trainable, 1_821_450_240);
  assert.equal(a.trainableWithHead, 1_952_522_240);
  const withHead = analyzePlan('model meta-llama/Llama-2-7b-hf\nexpand (2+1)x8 | 13 | 1◇\ntrain new, final, head\n');
  assert.equal(withHead.params!.trainable, 1_952_522_240);
});

test('Table 4: LLaMA Pro 8,357,482,496 total, 1,619,066,880 trainable blocks, 1,750,138,880 with the head', () => {
  const a = analyzePlan('model meta-llama/Llama-2-7b-hf\nexpand (4+1)x8\ntrain new, head\n');
  assert.equal(a.params!.total, 8_357_482_496);
  assert.equal(a.params!.trainableBlocks, 1_619_066_880);
  assert.equal(a.params!.trainable, 1_750_138_880);
});

test('Llama-3-8B by hand: grouped-query attention (8 kv heads of 128)', () => {
  const s = lookupCatalogue('meta-llama/Meta-Llama-3-8B')!.shape;
  // q,o 2·4096·4096 + k,v 2·4096·1024 + MLP 3·4096·14336 + norms 2·4096
  const perBlock = 2 * 4096 * 4096 + 2 * 4096 * 1024 + 3 * 4096 * 14336 + 2 * 4096;
  assert.equal(perBlock, 218_112_000);
  assert.equal(paramsPerBlock(s), perBlock);
  assert.equal(modelParams(s), 32 * perBlock + 2 * 128256 * 4096 + 4096); // 8,030,261,248: the published 8.03B
  assert.equal(modelParams(s), 8_030_261_248);
});

test('Qwen2.5-0.5B by hand: q/k/v biases and tied embeddings', () => {
  const s = lookupCatalogue('Qwen/Qwen2.5-0.5B')!.shape;
  const perBlock = 2 * 896 * 896 + 2 * 896 * 128 + 3 * 896 * 4864 + 2 * 896 + (896 + 2 * 128);
  assert.equal(paramsPerBlock(s), perBlock);
  assert.equal(modelParams(s), 24 * perBlock + 151936 * 896 + 896); // 494,032,768: the published 0.49B
  const a = analyzePlan('model Qwen/Qwen2.5-0.5B\nexpand (2+1)x4 | 14 | 1◇\ntrain new, final, head\n');
  // A tied head is the embedding matrix: training it adds that matrix once.
  assert.equal(a.params!.trainable, 5 * perBlock + 151936 * 896);
  assert.equal(a.params!.head, 0);
});

test('memory per GPU: 16 bytes per trainable parameter and 2 per frozen one; FSDP divides by N', () => {
  const p = { total: 1000, trainable: 100 };
  const ddp = memoryPerGpu(p, 8, 'ddp');
  assert.equal(ddp.total, 1000 * 2 + 100 * 2 + 100 * 8 + 100 * 4);
  const fsdp = memoryPerGpu(p, 8, 'fsdp');
  assert.equal(fsdp.total, ddp.total / 8);
  const fp32 = memoryPerGpu(p, 1, 'ddp', 'fp32');
  assert.equal(fp32.total, 1000 * 4 + 100 * 4 + 100 * 8);
});

test('a plan that cannot fit is an error on the run line; one that needs FSDP says so', () => {
  const full = analyzePlan('model meta-llama/Llama-2-70b-hf\nexpand (2+1)x8 | 61 | 1◇\ntrain new, final, kept\nrun on big gpus 1\n');
  assert.equal(full.diagnostics.find((d) => d.code === 'SL051')!.severity, 'error');
  const sharded = analyzePlan('model meta-llama/Llama-2-70b-hf\nexpand (2+1)x8 | 61 | 1◇\ntrain new, final, kept\nrun on big gpus 8 nodes 2\n');
  const d = sharded.diagnostics.find((x) => x.code === 'SL051')!;
  assert.equal(d.severity, 'info');
  assert.match(d.message, /FSDP/);
});
