// LayerMap: the compiled plan, the one contract between the plan core and the Python runner.
// Wire format is JSON with camelCase keys; documented in docs/layermap.md. Bump
// LAYER_MAP_VERSION on any incompatible change; readers refuse versions they do not know.
// The schema both languages validate with is contracts/layermap.schema.json.
import { LAYER_MAP_SCHEMA } from './contracts';
import type { EvalPlan } from './evalPlan';
import { SchemaError } from './jsonSchema';

export const LAYER_MAP_VERSION = 1 as const;
export const LAYER_MAP_KIND = 'slayer.layermap' as const;

/** The shape of a Llama-family decoder, as read from config.json or the catalogue. */
export interface ModelShape {
  /** Hugging Face `model_type`, one of contracts/model-families.json (llama, mistral, qwen2, qwen3, gemma2, gemma3_text, phi3). */
  modelType: string;
  numLayers: number;
  hiddenSize: number;
  intermediateSize: number;
  numHeads: number;
  numKvHeads: number;
  headDim: number;
  vocabSize: number;
  tieEmbeddings: boolean;
  /** q/k/v projections carry biases (Qwen2). */
  qkvBias: boolean;
  /** o_proj carries a bias (rare; Llama `attention_bias` sets q/k/v/o). */
  oBias: boolean;
  /** MLP projections carry biases (Llama `mlp_bias`). */
  mlpBias: boolean;
  rmsNormEps: number;
  ropeTheta: number;
  maxPositionEmbeddings: number;
  /** Numeric type of the stored weights (`torch_dtype`): bfloat16, float16, float32. */
  dtype: string;
}

export interface LayerSource {
  /** 0-based index of a block in the base model. */
  layer: number;
  /** Averaging weight; the weights of one block sum to 1. */
  weight: number;
}

/**
 * kept: an original block, unchanged. copy / average: a new block (LLaMA Pro copy, or the
 * paper's eq. 5 mean of neighbours). final-average: the updated final block (mean of the last
 * kept block and the deleted ones). final-average-deleted: mean of the deleted ones only.
 * final-keep: the last kept block, unchanged but trainable.
 */
export type BlockInit = 'kept' | 'copy' | 'average' | 'final-average' | 'final-average-deleted' | 'final-keep';
export type BlockRole = 'kept' | 'new' | 'final';

export interface OutputBlock {
  /** 0-based index in the resulting model. */
  index: number;
  role: BlockRole;
  init: BlockInit;
  sources: LayerSource[];
  /** Tensor-name suffixes inside the block that are set to zero, e.g. `self_attn.o_proj.weight`. */
  zero: string[];
  trainable: boolean;
}

/** Non-block tensors that a plan can make trainable. */
export type ExtraTensor = 'embed' | 'head' | 'norm';

export interface ParamCounts {
  /** Parameters of the resulting model. */
  total: number;
  /** Parameters that require gradients: trainable blocks plus trainable extras. */
  trainable: number;
  trainableBlocks: number;
  perBlock: number;
  embed: number;
  /** 0 when the head is tied to the embeddings. */
  head: number;
  norm: number;
  /** Parameters of the base model, before surgery. */
  base: number;
}

export interface DataSource {
  /** Dataset name or path as written in the plan; hosts map names to paths. */
  name: string;
  /** Relative sampling weight. */
  weight: number;
}

export interface StageSpec {
  name: string;
  kind: 'cpt' | 'sft';
  data: DataSource[];
  /** Token budget of the stage (one epoch); null when steps or epochs decide. */
  tokens: number | null;
  steps: number | null;
  epochs: number;
  lr: number;
  schedule: 'cosine' | 'linear' | 'constant';
  /** Warm-up as a fraction of the stage's steps (2% = 0.02). */
  warmup: number;
  /** Global batch: sequences per optimizer step, and tokens per sequence. */
  batchSequences: number;
  seqLen: number;
  precision: 'bf16' | 'fp16' | 'fp32';
  weightDecay: number;
  clip: number;
  /** Save a resumable checkpoint every N optimizer steps (0 = only at the end). */
  checkpointEvery: number;
}

export interface RunTarget {
  host: string;
  gpus: number;
  nodes: number;
  /** `random`: the run builds random weights of the base shape instead of loading the checkpoint. */
  weights: 'checkpoint' | 'random';
}

export interface LayerMap {
  version: typeof LAYER_MAP_VERSION;
  kind: typeof LAYER_MAP_KIND;
  /** The plan as written: model reference and the expansion expression in canonical form. */
  plan: { model: string; expand: string; file: string | null };
  base: ModelShape;
  /** The resulting model's shape (numLayers = L + N - D). */
  result: ModelShape;
  blocks: OutputBlock[];
  /** 0-based indices of deleted base blocks. */
  deleted: number[];
  trainableExtras: ExtraTensor[];
  params: ParamCounts;
  stages: StageSpec[];
  run: RunTarget | null;
  /** The plan's eval section (absent without one); run.json's `eval` is a copy. */
  evaluation?: EvalPlan;
}

// ---------------------------------------------------------------------------------------------
// Validation at the boundary: anything read from disk or another process goes through here. The
// schema is contracts/layermap.schema.json; the checks below are those a schema cannot say.

export class LayerMapError extends Error {
  constructor(readonly path: string, message: string) {
    super(`${path}: ${message}`);
    this.name = 'LayerMapError';
  }
}

/** Parses and checks a LayerMap read from JSON; throws LayerMapError naming the first bad field. */
export function validateLayerMap(v: unknown): LayerMap {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new LayerMapError('layerMap', 'expected an object');
  const o = v as Record<string, unknown>;
  if (o.kind !== LAYER_MAP_KIND) throw new LayerMapError('kind', `expected "${LAYER_MAP_KIND}"`);
  if (o.version !== LAYER_MAP_VERSION) {
    // JSON.stringify: "version": "1" must not read as "unsupported version 1 (this build reads 1)".
    throw new LayerMapError('version', `unsupported LayerMap version ${JSON.stringify(o.version)?.slice(0, 40) ?? 'missing'}${typeof o.version === 'string' ? ' (a string)' : ''}: this build reads version ${LAYER_MAP_VERSION}, the number`);
  }
  try {
    LAYER_MAP_SCHEMA.validate(v);
  } catch (e) {
    if (e instanceof SchemaError) throw new LayerMapError(e.path, e.detail);
    throw e;
  }
  const m = v as LayerMap;
  m.blocks.forEach((block, i) => {
    const p = `blocks[${i}]`;
    if (block.index !== i) throw new LayerMapError(`${p}.index`, `expected ${i}: blocks are listed in output order`);
    for (const s of block.sources) {
      if (s.layer >= m.base.numLayers) throw new LayerMapError(`${p}.sources`, `layer ${s.layer} is outside the base model (0–${m.base.numLayers - 1})`);
    }
    const sum = block.sources.reduce((acc, s) => acc + s.weight, 0);
    if (Math.abs(sum - 1) > 1e-9) throw new LayerMapError(`${p}.sources`, `weights sum to ${sum}, expected 1`);
  });
  if (m.blocks.length !== m.result.numLayers) {
    throw new LayerMapError('blocks', `${m.blocks.length} blocks but result.numLayers is ${m.result.numLayers}`);
  }
  // Optional on the wire, null in memory.
  return { ...m, plan: { ...m.plan, file: m.plan.file ?? null }, run: m.run ? { ...m.run, weights: m.run.weights ?? 'checkpoint' } : null };
}

/** Tensor-name suffixes zeroed in a new block by default, so the expanded model is function-preserving. */
export function outputProjectionSuffixes(shape: ModelShape): string[] {
  const out = ['self_attn.o_proj.weight', 'mlp.down_proj.weight'];
  if (shape.oBias) out.push('self_attn.o_proj.bias');
  if (shape.mlpBias) out.push('mlp.down_proj.bias');
  return out;
}
