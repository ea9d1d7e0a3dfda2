// Model shapes: Hugging Face config.json parsing for the decoder families of
// contracts/model-families.json (Llama 2/3, Mistral, Qwen2/2.5/3, Gemma 2/3, Phi-3) and a catalogue
// of published configs for offline use. An unknown model is never guessed.
import type { ModelShape } from '../protocol/layerMap';
import { biasOn, modelFamily, SUPPORTED_MODEL_TYPES } from './families';

export { SUPPORTED_MODEL_TYPES } from './families';
import { CONFIG_LIMITS, showLimit } from './limits';

export class ModelConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ModelConfigError';
  }
}

/** rope theta of the full-attention layers: transformers 5's rope_parameters (per layer type for
 * Gemma 3), else 4.x's rope_theta, else the family's default. */
function ropeTheta(c: Record<string, unknown>, fallback: number): number {
  const rec = (v: unknown): Record<string, unknown> | undefined => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined);
  let params = rec(c.rope_parameters);
  if (params && rec(params.full_attention)) params = rec(params.full_attention);
  const theta = params?.rope_theta ?? c.rope_theta;
  return typeof theta === 'number' ? theta : fallback;
}

/** Parses the text of a config.json into a ModelShape; throws ModelConfigError saying what is wrong. */
export function parseHfConfig(text: string): ModelShape {
  let raw: unknown;
  try {
    raw = JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text); // a BOM is not part of the JSON
  } catch (e) {
    throw new ModelConfigError(`config.json is not valid JSON: ${(e as Error).message}`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new ModelConfigError('config.json is not a JSON object');
  const c = raw as Record<string, unknown>;
  const modelType = typeof c.model_type === 'string' ? c.model_type : '';
  const family = modelFamily(modelType);
  if (!family) {
    throw new ModelConfigError(`model_type "${modelType || '(missing)'}" is not a supported decoder (${SUPPORTED_MODEL_TYPES.join(', ')})`);
  }
  const d = family.defaults;
  const int = (k: string, fallback?: number): number => {
    const v = c[k];
    if (v === undefined || v === null) {
      if (fallback !== undefined) return fallback;
      throw new ModelConfigError(`config.json has no "${k}"`);
    }
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw new ModelConfigError(`config.json "${k}" must be a positive integer, got ${JSON.stringify(v)?.slice(0, 40)}`);
    // Sizes drive allocations (one entry per block): refused past the limit before anything is built.
    const max = CONFIG_LIMITS[k];
    if (max !== undefined && v > max) throw new ModelConfigError(`config.json "${k}" is ${v > 1e12 ? v.toExponential() : showLimit(v)}, too large: at most ${showLimit(max)} is accepted (see docs/limits.md)`);
    return v;
  };
  const numOr = (k: string, fallback: number): number => (typeof c[k] === 'number' ? (c[k] as number) : fallback);
  const hiddenSize = int('hidden_size');
  const numHeads = int('num_attention_heads');
  const numKvHeads = int('num_key_value_heads', numHeads);
  const headDim = int('head_dim', d.head_dim ?? Math.floor(hiddenSize / numHeads));
  if (numHeads % numKvHeads !== 0) throw new ModelConfigError(`num_attention_heads (${numHeads}) is not a multiple of num_key_value_heads (${numKvHeads})`);
  if ((c.head_dim === undefined || c.head_dim === null) && d.head_dim === null && hiddenSize % numHeads !== 0) throw new ModelConfigError(`hidden_size (${hiddenSize}) is not divisible by num_attention_heads (${numHeads})`);
  const dtype = typeof c.torch_dtype === 'string' ? c.torch_dtype : typeof c.dtype === 'string' ? c.dtype : 'float32';
  return {
    modelType,
    numLayers: int('num_hidden_layers'),
    hiddenSize,
    intermediateSize: int('intermediate_size'),
    numHeads,
    numKvHeads,
    headDim,
    vocabSize: int('vocab_size'),
    tieEmbeddings: typeof c.tie_word_embeddings === 'boolean' ? c.tie_word_embeddings : d.tie_word_embeddings,
    qkvBias: biasOn(family.block.qkvBias, c),
    oBias: biasOn(family.block.oBias, c),
    mlpBias: biasOn(family.block.mlpBias, c),
    rmsNormEps: numOr('rms_norm_eps', d.rms_norm_eps),
    ropeTheta: ropeTheta(c, d.rope_theta),
    maxPositionEmbeddings: int('max_position_embeddings', d.max_position_embeddings),
    dtype,
  };
}

/** The shape written back as a config.json object (what the runner's tiny models use). */
export function shapeToHfConfig(shape: ModelShape): Record<string, unknown> {
  return {
    architectures: [modelFamily(shape.modelType)?.architecture ?? 'LlamaForCausalLM'],
    model_type: shape.modelType,
    hidden_size: shape.hiddenSize,
    intermediate_size: shape.intermediateSize,
    num_hidden_layers: shape.numLayers,
    num_attention_heads: shape.numHeads,
    num_key_value_heads: shape.numKvHeads,
    head_dim: shape.headDim,
    vocab_size: shape.vocabSize,
    tie_word_embeddings: shape.tieEmbeddings,
    attention_bias: shape.oBias,
    mlp_bias: shape.mlpBias,
    rms_norm_eps: shape.rmsNormEps,
    rope_theta: shape.ropeTheta,
    max_position_embeddings: shape.maxPositionEmbeddings,
    torch_dtype: shape.dtype,
  };
}

interface CatalogueEntry {
  id: string;
  aliases?: string[];
  shape: ModelShape;
}

function shape(p: Partial<ModelShape> & Pick<ModelShape, 'numLayers' | 'hiddenSize' | 'intermediateSize' | 'numHeads' | 'numKvHeads' | 'vocabSize'>): ModelShape {
  return {
    modelType: 'llama', tieEmbeddings: false, qkvBias: false, oBias: false, mlpBias: false,
    rmsNormEps: 1e-5, ropeTheta: 10000, maxPositionEmbeddings: 4096, dtype: 'bfloat16',
    headDim: p.hiddenSize / p.numHeads, ...p,
  };
}

const llama2 = (L: number, h: number, i: number, heads: number, kv: number): ModelShape =>
  shape({ numLayers: L, hiddenSize: h, intermediateSize: i, numHeads: heads, numKvHeads: kv, vocabSize: 32000, dtype: 'float16' });
const llama3 = (L: number, h: number, i: number, heads: number, maxPos: number): ModelShape =>
  shape({ numLayers: L, hiddenSize: h, intermediateSize: i, numHeads: heads, numKvHeads: 8, vocabSize: 128256, ropeTheta: 500000, maxPositionEmbeddings: maxPos });
const qwen25 = (L: number, h: number, i: number, heads: number, kv: number, vocab: number, tied: boolean, maxPos: number): ModelShape =>
  shape({ modelType: 'qwen2', numLayers: L, hiddenSize: h, intermediateSize: i, numHeads: heads, numKvHeads: kv, vocabSize: vocab, tieEmbeddings: tied, qkvBias: true, rmsNormEps: 1e-6, ropeTheta: 1000000, maxPositionEmbeddings: maxPos });
const smol = (L: number, h: number, i: number, heads: number, kv: number, theta: number): ModelShape =>
  shape({ numLayers: L, hiddenSize: h, intermediateSize: i, numHeads: heads, numKvHeads: kv, vocabSize: 49152, tieEmbeddings: true, ropeTheta: theta, maxPositionEmbeddings: 8192 });

/** Published configs (config.json on the Hub), for offline checking. */
export const CATALOGUE: readonly CatalogueEntry[] = [
  { id: 'meta-llama/Llama-2-7b-hf', aliases: ['meta-llama/Llama-2-7b-chat-hf'], shape: llama2(32, 4096, 11008, 32, 32) },
  { id: 'meta-llama/Llama-2-13b-hf', aliases: ['meta-llama/Llama-2-13b-chat-hf'], shape: llama2(40, 5120, 13824, 40, 40) },
  { id: 'meta-llama/Llama-2-70b-hf', aliases: ['meta-llama/Llama-2-70b-chat-hf'], shape: llama2(80, 8192, 28672, 64, 8) },
  { id: 'meta-llama/Meta-Llama-3-8B', aliases: ['meta-llama/Meta-Llama-3-8B-Instruct'], shape: llama3(32, 4096, 14336, 32, 8192) },
  { id: 'meta-llama/Meta-Llama-3-70B', aliases: ['meta-llama/Meta-Llama-3-70B-Instruct'], shape: llama3(80, 8192, 28672, 64, 8192) },
  { id: 'meta-llama/Llama-3.1-8B', aliases: ['meta-llama/Meta-Llama-3.1-8B', 'meta-llama/Llama-3.1-8B-Instruct'], shape: llama3(32, 4096, 14336, 32, 131072) },
  { id: 'meta-llama/Llama-3.1-70B', aliases: ['meta-llama/Meta-Llama-3.1-70B', 'meta-llama/Llama-3.1-70B-Instruct'], shape: llama3(80, 8192, 28672, 64, 131072) },
  { id: 'mistralai/Mistral-7B-v0.1', aliases: ['mistralai/Mistral-7B-Instruct-v0.1'], shape: shape({ modelType: 'mistral', numLayers: 32, hiddenSize: 4096, intermediateSize: 14336, numHeads: 32, numKvHeads: 8, vocabSize: 32000, maxPositionEmbeddings: 32768 }) },
  { id: 'Qwen/Qwen2.5-0.5B', aliases: ['Qwen/Qwen2.5-0.5B-Instruct'], shape: qwen25(24, 896, 4864, 14, 2, 151936, true, 32768) },
  { id: 'Qwen/Qwen2.5-1.5B', aliases: ['Qwen/Qwen2.5-1.5B-Instruct'], shape: qwen25(28, 1536, 8960, 12, 2, 151936, true, 131072) },
  { id: 'Qwen/Qwen2.5-3B', aliases: ['Qwen/Qwen2.5-3B-Instruct'], shape: qwen25(36, 2048, 11008, 16, 2, 151936, true, 32768) },
  { id: 'Qwen/Qwen2.5-7B', aliases: ['Qwen/Qwen2.5-7B-Instruct'], shape: qwen25(28, 3584, 18944, 28, 4, 152064, false, 131072) },
  { id: 'Qwen/Qwen2.5-14B', aliases: ['Qwen/Qwen2.5-14B-Instruct'], shape: qwen25(48, 5120, 13824, 40, 8, 152064, false, 131072) },
  { id: 'Qwen/Qwen2.5-32B', aliases: ['Qwen/Qwen2.5-32B-Instruct'], shape: qwen25(64, 5120, 27648, 40, 8, 152064, false, 131072) },
  { id: 'Qwen/Qwen2.5-72B', aliases: ['Qwen/Qwen2.5-72B-Instruct'], shape: qwen25(80, 8192, 29568, 64, 8, 152064, false, 131072) },
  { id: 'TinyLlama/TinyLlama-1.1B-intermediate-step-1431k-3T', aliases: ['TinyLlama/TinyLlama-1.1B-Chat-v1.0'], shape: shape({ numLayers: 22, hiddenSize: 2048, intermediateSize: 5632, numHeads: 32, numKvHeads: 4, vocabSize: 32000, maxPositionEmbeddings: 2048, dtype: 'float32' }) },
  { id: 'HuggingFaceTB/SmolLM2-135M', aliases: ['HuggingFaceTB/SmolLM2-135M-Instruct'], shape: smol(30, 576, 1536, 9, 3, 100000) },
  { id: 'HuggingFaceTB/SmolLM2-360M', aliases: ['HuggingFaceTB/SmolLM2-360M-Instruct'], shape: smol(32, 960, 2560, 15, 5, 100000) },
  { id: 'HuggingFaceTB/SmolLM2-1.7B', aliases: ['HuggingFaceTB/SmolLM2-1.7B-Instruct'], shape: smol(24, 2048, 8192, 32, 32, 130000) },
];

/** Every id the catalogue answers to (canonical ids first). */
export function catalogueIds(): string[] {
  return [...CATALOGUE.map((e) => e.id), ...CATALOGUE.flatMap((e) => e.aliases ?? [])];
}

/** Exact id or alias, case-insensitive (Hub ids are case-insensitive in URLs). */
export function lookupCatalogue(id: string): { id: string; shape: ModelShape } | undefined {
  const lower = id.toLowerCase();
  const entry = CATALOGUE.find((e) => e.id.toLowerCase() === lower || (e.aliases ?? []).some((a) => a.toLowerCase() === lower));
  return entry ? { id: entry.id, shape: { ...entry.shape } } : undefined;
}
