// Parameter and training-memory accounting. Per block (Llama family):
//   q,o: 2·h·(heads·d)   k,v: 2·h·(kv·d)   gate,up,down: 3·h·i   two RMSNorms: 2·h   (+ biases)
// plus, by family (contracts/model-families.json), q/k norms (2·d, Qwen3, Gemma 3) and the
// feed-forward pre/post norms (2·h, Gemma 2/3); Phi-3's fused projections hold the same counts.
// Reproduces the paper's Table 4 exactly (see docs/plan-language.md, "What is trained").
import { BYTES_PER_PARAMETER } from '../protocol/contracts';
import type { ExtraTensor, ModelShape, ParamCounts } from '../protocol/layerMap';
import { modelFamily } from './families';

export function paramsPerBlock(s: ModelShape): number {
  const q = s.numHeads * s.headDim;
  const kv = s.numKvHeads * s.headDim;
  let n = 2 * s.hiddenSize * q + 2 * s.hiddenSize * kv + 3 * s.hiddenSize * s.intermediateSize + 2 * s.hiddenSize;
  if (s.qkvBias) n += q + 2 * kv;
  if (s.oBias) n += s.hiddenSize;
  if (s.mlpBias) n += 2 * s.intermediateSize + s.hiddenSize;
  const block = modelFamily(s.modelType)?.block;
  if (block?.qkNorm) n += 2 * s.headDim;
  if (block?.feedforwardNorms) n += 2 * s.hiddenSize;
  return n;
}

export function embedParams(s: ModelShape): number {
  return s.vocabSize * s.hiddenSize;
}

/** 0 when the output head shares the embedding matrix. */
export function headParams(s: ModelShape): number {
  return s.tieEmbeddings ? 0 : s.vocabSize * s.hiddenSize;
}

export function modelParams(s: ModelShape): number {
  return s.numLayers * paramsPerBlock(s) + embedParams(s) + headParams(s) + s.hiddenSize;
}

/** Counts for a resulting model of `numLayers` blocks, `trainableBlocks` of which train, plus extras. */
export function countParams(base: ModelShape, numLayers: number, trainableBlocks: number, extras: readonly ExtraTensor[]): ParamCounts {
  const perBlock = paramsPerBlock(base);
  const embed = embedParams(base);
  const head = headParams(base);
  const norm = base.hiddenSize;
  let extra = 0;
  // A tied head is the embedding matrix: training either trains that one matrix once.
  const trainsSharedMatrix = extras.includes('embed') || (extras.includes('head') && base.tieEmbeddings);
  if (trainsSharedMatrix) extra += embed;
  if (extras.includes('head') && !base.tieEmbeddings) extra += head;
  if (extras.includes('norm')) extra += norm;
  return {
    total: numLayers * perBlock + embed + head + norm,
    trainable: trainableBlocks * perBlock + extra,
    trainableBlocks: trainableBlocks * perBlock,
    perBlock,
    embed,
    head,
    norm,
    base: modelParams(base),
  };
}

export type ParallelStrategy = 'ddp' | 'fsdp';
export type Precision = 'bf16' | 'fp16' | 'fp32';

export interface MemoryEstimate {
  strategy: ParallelStrategy;
  gpus: number;
  /** Bytes per GPU for each part, and their sum. Activations are not included (they depend on batch and checkpointing). */
  weights: number;
  gradients: number;
  optimizer: number;
  master: number;
  total: number;
}

/**
 * Training memory per GPU, by the one rule of contracts/training-memory.json (the runner's doctor
 * and trainer apply the same, runner/slayer_runner/memory.py). Mixed precision (bf16/fp16): 2-byte
 * weights for the whole model, 2-byte gradients, a 4-byte fp32 master copy and 8 bytes of AdamW
 * moments per trainable parameter (16 bytes per trainable, 2 per frozen). fp32: 4-byte weights and
 * gradients, 8 bytes of moments, no master copy. DDP replicates all of it on each GPU; fully sharded
 * (FSDP) divides it by N.
 */
export function memoryPerGpu(params: Pick<ParamCounts, 'total' | 'trainable'>, gpus: number, strategy: ParallelStrategy, precision: Precision = 'bf16'): MemoryEstimate {
  const b = BYTES_PER_PARAMETER[precision];
  const shard = strategy === 'fsdp' ? Math.max(1, gpus) : 1;
  const weights = (params.total * b.weights) / shard;
  const gradients = (params.trainable * b.gradients) / shard;
  const optimizer = (params.trainable * b.optimizer) / shard;
  const master = (params.trainable * b.master) / shard;
  return { strategy, gpus, weights, gradients, optimizer, master, total: weights + gradients + optimizer + master };
}

/** How a plan fits devices of `deviceBytes` each: replicated (DDP), only sharded (FSDP), or not at all. */
export type FitVerdict = 'ddp' | 'fsdp' | 'none';

/** The one fit rule: per-GPU bytes at most the device's memory; DDP when that fits, else FSDP, else none. */
export function fitVerdict(memory: { ddp: MemoryEstimate; fsdp: MemoryEstimate }, deviceBytes: number): FitVerdict {
  if (memory.ddp.total <= deviceBytes) return 'ddp';
  return memory.fsdp.total <= deviceBytes ? 'fsdp' : 'none';
}

