// Checkpoint inspection from headers alone: per-block parameter counts, dtypes and bytes, tied
// embeddings, the attention layout read off the projection shapes, and every disagreement with
// config.json as a diagnostic. Pure: the checkpoint and config text come in, a JSON-able report
// goes out (the CLI prints it, the language server turns its diagnostics into plan diagnostics).
import { ModelConfigError, modelFamily, modelParams, parseHfConfig } from '../core';
import { withThousands } from '../shared/format';
import type { ModelShape } from '../protocol/layerMap';
import { BLOCK_TENSOR_RE, checkpointDataBytes, groupBlocks, missingBlocks, type Checkpoint, type CheckpointTensor } from './checkpoint';
import type { SafetensorsError } from './safetensors';

export type CheckpointSeverity = 'error' | 'warning' | 'info';

export interface CheckpointDiagnostic {
  severity: CheckpointSeverity;
  /** Stable identifier, e.g. `layer-count`, `shape`, `vocab`. */
  code: string;
  message: string;
}

export interface DtypeSummary {
  dtype: string;
  tensors: number;
  params: number;
  bytes: number;
}

export interface AttentionLayout {
  /** Output rows of q_proj and k_proj (= heads × head_dim, kv heads × head_dim). */
  qRows: number;
  kvRows: number;
  /** Query heads per kv head: qRows / kvRows, known from shapes alone. */
  groupSize: number | null;
  /** From config.json's head_dim (or hidden_size / num_attention_heads); null without config. */
  headDim: number | null;
  heads: number | null;
  kvHeads: number | null;
}

export interface LayerReport {
  index: number;
  tensors: number;
  params: number;
  bytes: number;
  dtypes: string[];
  attention: AttentionLayout | null;
  intermediate: number | null;
  biases: string[];
}

export interface NamedTensorSummary {
  name: string;
  dtype: string;
  shape: number[];
  params: number;
}

export interface CheckpointReport {
  dir: string;
  shards: number;
  tensorCount: number;
  params: number;
  bytes: number;
  dtypes: DtypeSummary[];
  embed: NamedTensorSummary | null;
  head: NamedTensorSummary | null;
  norm: NamedTensorSummary | null;
  /** No lm_head.weight stored: the head is the embedding matrix. Null when there is no checkpoint. */
  tiedEmbeddings: boolean | null;
  layers: LayerReport[];
  /** Tensors outside the blocks, embeddings, final norm and head. */
  other: NamedTensorSummary[];
  /** What the tensors alone say (no config needed). */
  inferred: { numLayers: number; hiddenSize: number | null; vocabSize: number | null; intermediateSize: number | null };
  /** config.json parsed by the plan core; null when absent or unreadable (see diagnostics). */
  config: ModelShape | null;
  /** The core's parameter count for `config` (accounting.modelParams). */
  configParams: number | null;
  diagnostics: CheckpointDiagnostic[];
}

const EMBED = 'model.embed_tokens.weight';
const HEAD = 'lm_head.weight';
const NORM = 'model.norm.weight';
const STORED_DTYPE: Record<string, string> = { bfloat16: 'BF16', float16: 'F16', float32: 'F32', float64: 'F64' };

const summary = (t: CheckpointTensor): NamedTensorSummary => ({ name: t.name, dtype: t.dtype, shape: t.shape, params: t.numel });
const fmtShape = (s: readonly number[]): string => `[${s.join(', ')}]`;

/** "block 3", "blocks 0–3, 7": a count-aware label for a list of block indices. */
export function blocksLabel(xs: readonly number[]): string {
  return `${xs.length === 1 ? 'block' : 'blocks'} ${formatIndices(xs)}`;
}

/** Compact list of block indices: 0–3, 7, 9–11. */
function formatIndices(xs: readonly number[]): string {
  const out: string[] = [];
  for (let i = 0; i < xs.length; i++) {
    let j = i;
    while (j + 1 < xs.length && xs[j + 1] === xs[j]! + 1) j++;
    out.push(j === i ? String(xs[i]) : `${xs[i]}–${xs[j]}`);
    i = j;
  }
  return out.join(', ');
}

/** The tensors config.json implies for one block, by suffix, with shapes and why. */
function expectedBlockTensors(s: ModelShape): Map<string, { shape: number[]; why: string }> {
  const h = s.hiddenSize;
  const q = s.numHeads * s.headDim;
  const kv = s.numKvHeads * s.headDim;
  const i = s.intermediateSize;
  const qWhy = `num_attention_heads ${s.numHeads} × head_dim ${s.headDim} = ${q}, hidden_size ${h}`;
  const kvWhy = `num_key_value_heads ${s.numKvHeads} × head_dim ${s.headDim} = ${kv}, hidden_size ${h}`;
  const mWhy = `intermediate_size ${i}, hidden_size ${h}`;
  const m = new Map<string, { shape: number[]; why: string }>([
    ['input_layernorm.weight', { shape: [h], why: `hidden_size ${h}` }],
    ['self_attn.q_proj.weight', { shape: [q, h], why: qWhy }],
    ['self_attn.k_proj.weight', { shape: [kv, h], why: kvWhy }],
    ['self_attn.v_proj.weight', { shape: [kv, h], why: kvWhy }],
    ['self_attn.o_proj.weight', { shape: [h, q], why: qWhy }],
    ['post_attention_layernorm.weight', { shape: [h], why: `hidden_size ${h}` }],
    ['mlp.gate_proj.weight', { shape: [i, h], why: mWhy }],
    ['mlp.up_proj.weight', { shape: [i, h], why: mWhy }],
    ['mlp.down_proj.weight', { shape: [h, i], why: mWhy }],
  ]);
  if (s.qkvBias) {
    m.set('self_attn.q_proj.bias', { shape: [q], why: qWhy });
    m.set('self_attn.k_proj.bias', { shape: [kv], why: kvWhy });
    m.set('self_attn.v_proj.bias', { shape: [kv], why: kvWhy });
  }
  if (s.oBias) m.set('self_attn.o_proj.bias', { shape: [h], why: `hidden_size ${h}` });
  if (s.mlpBias) {
    m.set('mlp.gate_proj.bias', { shape: [i], why: mWhy });
    m.set('mlp.up_proj.bias', { shape: [i], why: mWhy });
    m.set('mlp.down_proj.bias', { shape: [h], why: `hidden_size ${h}` });
  }
  const block = modelFamily(s.modelType)?.block;
  if (block?.qkNorm) {
    m.set('self_attn.q_norm.weight', { shape: [s.headDim], why: `head_dim ${s.headDim}` });
    m.set('self_attn.k_norm.weight', { shape: [s.headDim], why: `head_dim ${s.headDim}` });
  }
  if (block?.feedforwardNorms) {
    m.set('pre_feedforward_layernorm.weight', { shape: [h], why: `hidden_size ${h}` });
    m.set('post_feedforward_layernorm.weight', { shape: [h], why: `hidden_size ${h}` });
  }
  if (block?.fused) fuse(m, s);
  return m;
}

/** Phi-3: q/k/v are one qkv_proj (rows q + 2·kv), gate/up one gate_up_proj (rows 2·i). */
function fuse(m: Map<string, { shape: number[]; why: string }>, s: ModelShape): void {
  const h = s.hiddenSize;
  const rows = (s.numHeads + 2 * s.numKvHeads) * s.headDim;
  for (const k of ['q', 'k', 'v']) {
    m.delete(`self_attn.${k}_proj.weight`);
    m.delete(`self_attn.${k}_proj.bias`);
  }
  m.delete('mlp.gate_proj.weight');
  m.delete('mlp.up_proj.weight');
  m.set('self_attn.qkv_proj.weight', { shape: [rows, h], why: `(num_attention_heads ${s.numHeads} + 2 × num_key_value_heads ${s.numKvHeads}) × head_dim ${s.headDim} = ${rows}, hidden_size ${h}` });
  m.set('mlp.gate_up_proj.weight', { shape: [2 * s.intermediateSize, h], why: `2 × intermediate_size ${s.intermediateSize}, hidden_size ${h}` });
}

function parseConfig(configText: string | null, diags: CheckpointDiagnostic[]): ModelShape | null {
  if (configText === null) {
    diags.push({ severity: 'info', code: 'no-config', message: 'no config.json: the shape comes from the tensors alone (head counts need head_dim from config.json)' });
    return null;
  }
  try {
    return parseHfConfig(configText);
  } catch (e) {
    if (!(e instanceof ModelConfigError)) throw e;
    diags.push({ severity: 'error', code: 'config', message: e.message });
    return null;
  }
}

/** Inspects a checkpoint (null when its headers could not be read) against its config.json text. */
/**
 * `readError`: why the headers could not be read. A directory without any weights ('no-checkpoint')
 * is told apart from weights that cannot be read ('checkpoint'): the language server shows only the latter.
 */
export function inspect(dir: string, checkpoint: Checkpoint | null, configText: string | null, readError?: SafetensorsError | string): CheckpointReport {
  const diagnostics: CheckpointDiagnostic[] = [];
  const config = parseConfig(configText, diagnostics);
  const report: CheckpointReport = {
    dir, shards: 0, tensorCount: 0, params: 0, bytes: 0, dtypes: [], embed: null, head: null, norm: null, tiedEmbeddings: null,
    layers: [], other: [], inferred: { numLayers: 0, hiddenSize: null, vocabSize: null, intermediateSize: null },
    config, configParams: config ? modelParams(config) : null, diagnostics,
  };
  if (readError !== undefined) {
    const code = typeof readError !== 'string' && readError.code === 'no-checkpoint' ? 'no-checkpoint' : 'checkpoint';
    diagnostics.unshift({ severity: 'error', code, message: typeof readError === 'string' ? readError : readError.message });
  }
  if (!checkpoint) return report;

  report.shards = checkpoint.shards.length;
  report.tensorCount = checkpoint.tensors.length;
  report.bytes = checkpointDataBytes(checkpoint);
  const dtypes = new Map<string, DtypeSummary>();
  const blocks = groupBlocks(checkpoint.tensors);
  for (const t of checkpoint.tensors) {
    report.params += t.numel;
    const d = dtypes.get(t.dtype) ?? { dtype: t.dtype, tensors: 0, params: 0, bytes: 0 };
    d.tensors++;
    d.params += t.numel;
    d.bytes += t.byteLength;
    dtypes.set(t.dtype, d);
    if (t.name === EMBED) report.embed = summary(t);
    else if (t.name === HEAD) report.head = summary(t);
    else if (t.name === NORM) report.norm = summary(t);
    else if (!BLOCK_TENSOR_RE.test(t.name)) report.other.push(summary(t));
  }
  report.dtypes = [...dtypes.values()].sort((a, b) => b.bytes - a.bytes);
  report.tiedEmbeddings = report.head === null && report.embed !== null;
  const indices = [...blocks.keys()].sort((a, b) => a - b);
  report.layers = indices.map((i) => layerReport(i, blocks.get(i)!, config));
  report.inferred = {
    numLayers: indices.length,
    hiddenSize: report.embed?.shape[1] ?? report.norm?.shape[0] ?? null,
    vocabSize: report.embed?.shape[0] ?? null,
    intermediateSize: report.layers.find((l) => l.intermediate !== null)?.intermediate ?? null,
  };
  const missing = missingBlocks(indices);
  if (missing.length) {
    diagnostics.push({ severity: 'error', code: 'layer-gap', message: `${blocksLabel(missing)} ${missing.length === 1 ? 'is' : 'are'} missing (no model.layers.N.* tensors)` });
  }
  if (report.other.length) {
    diagnostics.push({ severity: 'info', code: 'other-tensors', message: `${report.other.length} tensor(s) outside the blocks, embeddings, norm and head: ${report.other.slice(0, 3).map((t) => t.name).join(', ')}${report.other.length > 3 ? ', …' : ''}` });
  }
  if (config) checkAgainstConfig(report, blocks, config, diagnostics);
  else if (!indices.length) diagnostics.push({ severity: 'warning', code: 'no-blocks', message: 'no model.layers.N.* tensors: not a Llama-family decoder checkpoint' });
  return report;
}

function layerReport(index: number, tensors: Map<string, CheckpointTensor>, config: ModelShape | null): LayerReport {
  let params = 0;
  let bytes = 0;
  const dtypes = new Set<string>();
  for (const t of tensors.values()) {
    params += t.numel;
    bytes += t.byteLength;
    dtypes.add(t.dtype);
  }
  const q = tensors.get('self_attn.q_proj.weight');
  const k = tensors.get('self_attn.k_proj.weight');
  let attention: AttentionLayout | null = null;
  if (q?.shape.length === 2 && k?.shape.length === 2) {
    const qRows = q.shape[0]!;
    const kvRows = k.shape[0]!;
    const headDim = config?.headDim ?? null;
    const div = (a: number, b: number | null): number | null => (b && a % b === 0 ? a / b : null);
    attention = { qRows, kvRows, groupSize: div(qRows, kvRows), headDim, heads: div(qRows, headDim), kvHeads: div(kvRows, headDim) };
  }
  const gate = tensors.get('mlp.gate_proj.weight') ?? tensors.get('mlp.up_proj.weight');
  return {
    index, tensors: tensors.size, params, bytes, dtypes: [...dtypes].sort(), attention,
    intermediate: gate?.shape.length === 2 ? gate.shape[0]! : null,
    biases: [...tensors.keys()].filter((k2) => k2.endsWith('.bias')).sort(),
  };
}

function checkAgainstConfig(r: CheckpointReport, blocks: Map<number, Map<string, CheckpointTensor>>, c: ModelShape, diags: CheckpointDiagnostic[]): void {
  const err = (code: string, message: string): void => { diags.push({ severity: 'error', code, message }); };
  const warn = (code: string, message: string): void => { diags.push({ severity: 'warning', code, message }); };
  if (r.inferred.numLayers !== c.numLayers) {
    err('layer-count', `config.json num_hidden_layers is ${c.numLayers}, but the checkpoint has ${r.inferred.numLayers} blocks${r.inferred.numLayers ? ` (model.layers.${formatIndices([...blocks.keys()].sort((a, b) => a - b))})` : ''}`);
  }
  const expectTensor = (name: string, t: NamedTensorSummary | null, shape: number[], why: string): void => {
    if (!t) err('missing-tensor', `${name} is missing (config.json implies ${fmtShape(shape)}: ${why})`);
    else if (fmtShape(t.shape) !== fmtShape(shape)) {
      const code = name === EMBED && t.shape[0] !== shape[0] ? 'vocab' : t.shape[t.shape.length - 1] !== c.hiddenSize ? 'hidden-size' : 'shape';
      err(code, `${name} has shape ${fmtShape(t.shape)}, config.json implies ${fmtShape(shape)} (${why})`);
    }
  };
  expectTensor(EMBED, r.embed, [c.vocabSize, c.hiddenSize], `vocab_size ${c.vocabSize}, hidden_size ${c.hiddenSize}`);
  expectTensor(NORM, r.norm, [c.hiddenSize], `hidden_size ${c.hiddenSize}`);
  if (c.tieEmbeddings && r.head) warn('tied-embeddings', `config.json ties the head to the embeddings (tie_word_embeddings true), but ${HEAD} is stored; it will be ignored when loading`);
  if (!c.tieEmbeddings) expectTensor(HEAD, r.head, [c.vocabSize, c.hiddenSize], `vocab_size ${c.vocabSize}, hidden_size ${c.hiddenSize}; tie_word_embeddings is false`);

  // Block tensors, grouped by suffix so 80 blocks with one wrong shape make one diagnostic.
  const expected = expectedBlockTensors(c);
  const indices = [...blocks.keys()].sort((a, b) => a - b);
  for (const [suffix, e] of expected) {
    const missing: number[] = [];
    const wrong = new Map<string, number[]>();
    for (const i of indices) {
      const t = blocks.get(i)!.get(suffix);
      if (!t) missing.push(i);
      else if (fmtShape(t.shape) !== fmtShape(e.shape)) {
        const k = fmtShape(t.shape);
        wrong.set(k, [...(wrong.get(k) ?? []), i]);
      }
    }
    const name = `model.layers.N.${suffix}`;
    if (missing.length) err('missing-tensor', `${name} is missing in ${missing.length === indices.length ? 'every block' : blocksLabel(missing)}`);
    for (const [shape, where] of wrong) {
      err(shapeCode(suffix), `${name} has shape ${shape} in ${where.length === indices.length ? 'every block' : blocksLabel(where)}; config.json implies ${fmtShape(e.shape)} (${e.why})`);
    }
  }
  const unexpected = new Map<string, number[]>();
  for (const i of indices) for (const suffix of blocks.get(i)!.keys()) if (!expected.has(suffix)) unexpected.set(suffix, [...(unexpected.get(suffix) ?? []), i]);
  for (const [suffix, where] of unexpected) {
    const hint = suffix.endsWith('.bias') ? ` (config.json says ${suffix.startsWith('mlp') ? 'mlp_bias' : 'attention_bias'} is off)` : '';
    warn('unexpected-tensor', `model.layers.N.${suffix} in ${where.length === indices.length ? 'every block' : blocksLabel(where)} is not part of a ${c.modelType} block${hint}`);
  }

  const stored = STORED_DTYPE[c.dtype];
  const floats = r.dtypes.filter((d) => d.dtype.startsWith('F') || d.dtype === 'BF16');
  if (stored && floats.length && !floats.some((d) => d.dtype === stored)) {
    diags.push({ severity: 'info', code: 'dtype', message: `config.json torch_dtype is ${c.dtype}, the weights are stored as ${floats.map((d) => d.dtype).join(', ')}` });
  }
  if (r.configParams !== null && r.params !== r.configParams && !diags.some((d) => d.severity === 'error')) {
    warn('params', `the checkpoint holds ${withThousands(r.params)} parameters, config.json implies ${withThousands(r.configParams)}`);
  }
}

function shapeCode(suffix: string): string {
  if (/k_proj|v_proj/.test(suffix)) return 'kv-heads';
  if (/q_proj|o_proj/.test(suffix)) return 'heads';
  if (/mlp\./.test(suffix)) return 'intermediate-size';
  return 'shape';
}
