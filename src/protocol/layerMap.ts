// LayerMap: the compiled plan, the one contract between the plan core and the Python runner.
// Wire format is JSON with camelCase keys; documented in docs/layermap.md. Bump
// LAYER_MAP_VERSION on any incompatible change; readers refuse versions they do not know.
import { validateEvalPlan, type EvalPlan } from './evalPlan';

export const LAYER_MAP_VERSION = 1 as const;
export const LAYER_MAP_KIND = 'slayer.layermap' as const;

/** The shape of a Llama-family decoder, as read from config.json or the catalogue. */
export interface ModelShape {
  /** Hugging Face `model_type`: llama, mistral, qwen2. */
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
// Validation at the boundary: anything read from disk or another process goes through here.

export class LayerMapError extends Error {
  constructor(readonly path: string, message: string) {
    super(`${path}: ${message}`);
    this.name = 'LayerMapError';
  }
}

type Json = unknown;

function obj(v: Json, path: string): Record<string, Json> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new LayerMapError(path, 'expected an object');
  return v as Record<string, Json>;
}
function arr(v: Json, path: string): Json[] {
  if (!Array.isArray(v)) throw new LayerMapError(path, 'expected an array');
  return v;
}
function int(v: Json, path: string, min = 0): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) throw new LayerMapError(path, `expected an integer ≥ ${min}`);
  return v;
}
function num(v: Json, path: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new LayerMapError(path, 'expected a finite number');
  return v;
}
function str(v: Json, path: string): string {
  if (typeof v !== 'string') throw new LayerMapError(path, 'expected a string');
  return v;
}
function bool(v: Json, path: string): boolean {
  if (typeof v !== 'boolean') throw new LayerMapError(path, 'expected a boolean');
  return v;
}
function oneOf<T extends string>(v: Json, path: string, allowed: readonly T[]): T {
  if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) {
    throw new LayerMapError(path, `expected one of ${allowed.join(', ')}`);
  }
  return v as T;
}

export function validateModelShape(v: Json, path = 'shape'): ModelShape {
  const o = obj(v, path);
  return {
    modelType: str(o.modelType, `${path}.modelType`),
    numLayers: int(o.numLayers, `${path}.numLayers`, 1),
    hiddenSize: int(o.hiddenSize, `${path}.hiddenSize`, 1),
    intermediateSize: int(o.intermediateSize, `${path}.intermediateSize`, 1),
    numHeads: int(o.numHeads, `${path}.numHeads`, 1),
    numKvHeads: int(o.numKvHeads, `${path}.numKvHeads`, 1),
    headDim: int(o.headDim, `${path}.headDim`, 1),
    vocabSize: int(o.vocabSize, `${path}.vocabSize`, 1),
    tieEmbeddings: bool(o.tieEmbeddings, `${path}.tieEmbeddings`),
    qkvBias: bool(o.qkvBias, `${path}.qkvBias`),
    oBias: bool(o.oBias, `${path}.oBias`),
    mlpBias: bool(o.mlpBias, `${path}.mlpBias`),
    rmsNormEps: num(o.rmsNormEps, `${path}.rmsNormEps`),
    ropeTheta: num(o.ropeTheta, `${path}.ropeTheta`),
    maxPositionEmbeddings: int(o.maxPositionEmbeddings, `${path}.maxPositionEmbeddings`, 1),
    dtype: str(o.dtype, `${path}.dtype`),
  };
}

const INITS: readonly BlockInit[] = ['kept', 'copy', 'average', 'final-average', 'final-average-deleted', 'final-keep'];
const ROLES: readonly BlockRole[] = ['kept', 'new', 'final'];
const EXTRAS: readonly ExtraTensor[] = ['embed', 'head', 'norm'];

function validateStage(v: Json, path: string): StageSpec {
  const o = obj(v, path);
  const nullable = (x: Json, p: string): number | null => (x === null ? null : num(x, p));
  return {
    name: str(o.name, `${path}.name`),
    kind: oneOf(o.kind, `${path}.kind`, ['cpt', 'sft'] as const),
    data: arr(o.data, `${path}.data`).map((d, i) => {
      const dd = obj(d, `${path}.data[${i}]`);
      return { name: str(dd.name, `${path}.data[${i}].name`), weight: num(dd.weight, `${path}.data[${i}].weight`) };
    }),
    tokens: nullable(o.tokens, `${path}.tokens`),
    steps: nullable(o.steps, `${path}.steps`),
    epochs: num(o.epochs, `${path}.epochs`),
    lr: num(o.lr, `${path}.lr`),
    schedule: oneOf(o.schedule, `${path}.schedule`, ['cosine', 'linear', 'constant'] as const),
    warmup: num(o.warmup, `${path}.warmup`),
    batchSequences: int(o.batchSequences, `${path}.batchSequences`, 1),
    seqLen: int(o.seqLen, `${path}.seqLen`, 1),
    precision: oneOf(o.precision, `${path}.precision`, ['bf16', 'fp16', 'fp32'] as const),
    weightDecay: num(o.weightDecay, `${path}.weightDecay`),
    clip: num(o.clip, `${path}.clip`),
    checkpointEvery: int(o.checkpointEvery, `${path}.checkpointEvery`),
  };
}

/** Parses and checks a LayerMap read from JSON; throws LayerMapError naming the first bad field. */
export function validateLayerMap(v: Json): LayerMap {
  const o = obj(v, 'layerMap');
  if (o.kind !== LAYER_MAP_KIND) throw new LayerMapError('kind', `expected "${LAYER_MAP_KIND}"`);
  if (o.version !== LAYER_MAP_VERSION) {
    throw new LayerMapError('version', `unsupported LayerMap version ${String(o.version)} (this build reads ${LAYER_MAP_VERSION})`);
  }
  const plan = obj(o.plan, 'plan');
  const base = validateModelShape(o.base, 'base');
  const result = validateModelShape(o.result, 'result');
  const blocks = arr(o.blocks, 'blocks').map((b, i): OutputBlock => {
    const p = `blocks[${i}]`;
    const bo = obj(b, p);
    const block: OutputBlock = {
      index: int(bo.index, `${p}.index`),
      role: oneOf(bo.role, `${p}.role`, ROLES),
      init: oneOf(bo.init, `${p}.init`, INITS),
      sources: arr(bo.sources, `${p}.sources`).map((s, j) => {
        const so = obj(s, `${p}.sources[${j}]`);
        return { layer: int(so.layer, `${p}.sources[${j}].layer`), weight: num(so.weight, `${p}.sources[${j}].weight`) };
      }),
      zero: arr(bo.zero, `${p}.zero`).map((z, j) => str(z, `${p}.zero[${j}]`)),
      trainable: bool(bo.trainable, `${p}.trainable`),
    };
    if (block.index !== i) throw new LayerMapError(`${p}.index`, `expected ${i}: blocks are listed in output order`);
    if (block.sources.length === 0) throw new LayerMapError(`${p}.sources`, 'a block needs at least one source');
    for (const s of block.sources) {
      if (s.layer >= base.numLayers) throw new LayerMapError(`${p}.sources`, `layer ${s.layer} is outside the base model (0–${base.numLayers - 1})`);
    }
    const sum = block.sources.reduce((acc, s) => acc + s.weight, 0);
    if (Math.abs(sum - 1) > 1e-9) throw new LayerMapError(`${p}.sources`, `weights sum to ${sum}, expected 1`);
    return block;
  });
  if (blocks.length !== result.numLayers) {
    throw new LayerMapError('blocks', `${blocks.length} blocks but result.numLayers is ${result.numLayers}`);
  }
  const deleted = arr(o.deleted, 'deleted').map((d, i) => int(d, `deleted[${i}]`));
  const params = obj(o.params, 'params');
  const p = (k: string): number => int(params[k], `params.${k}`);
  return {
    version: LAYER_MAP_VERSION,
    kind: LAYER_MAP_KIND,
    plan: {
      model: str(plan.model, 'plan.model'),
      expand: str(plan.expand, 'plan.expand'),
      file: plan.file === null || plan.file === undefined ? null : str(plan.file, 'plan.file'),
    },
    base,
    result,
    blocks,
    deleted,
    trainableExtras: arr(o.trainableExtras, 'trainableExtras').map((x, i) => oneOf(x, `trainableExtras[${i}]`, EXTRAS)),
    params: {
      total: p('total'), trainable: p('trainable'), trainableBlocks: p('trainableBlocks'), perBlock: p('perBlock'),
      embed: p('embed'), head: p('head'), norm: p('norm'), base: p('base'),
    },
    stages: arr(o.stages, 'stages').map((s, i) => validateStage(s, `stages[${i}]`)),
    run: o.run === null || o.run === undefined ? null : (() => {
      const r = obj(o.run, 'run');
      return { host: str(r.host, 'run.host'), gpus: int(r.gpus, 'run.gpus', 1), nodes: int(r.nodes, 'run.nodes', 1) };
    })(),
    ...(o.evaluation === undefined ? {} : { evaluation: evaluationOf(o.evaluation) }),
  };
}

function evaluationOf(v: unknown): EvalPlan {
  try {
    return validateEvalPlan(v);
  } catch (err) {
    throw new LayerMapError('evaluation', (err as Error).message);
  }
}

/** Tensor-name suffixes zeroed in a new block by default, so the expanded model is function-preserving. */
export function outputProjectionSuffixes(shape: ModelShape): string[] {
  const out = ['self_attn.o_proj.weight', 'mlp.down_proj.weight'];
  if (shape.oBias) out.push('self_attn.o_proj.bias');
  if (shape.mlpBias) out.push('mlp.down_proj.bias');
  return out;
}
