// Shared fixtures for the model-file tests: hand-built bytes, temp dirs, a seeded PRNG, and
// Llama-shaped tensor lists built from a config.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { createTensorStream, loadAndInspect, type Checkpoint, type CheckpointReport, type CheckpointTensor } from '../../src/modelfiles';
import type { TensorToWrite } from '../helpers/safetensorsWriter';

/** 8-byte little-endian length + the given header text (no padding), + data bytes. */
export function rawFile(header: string | Uint8Array, data: Uint8Array | number = 0, declaredLength?: bigint | number): Buffer {
  const json = typeof header === 'string' ? Buffer.from(header, 'utf8') : Buffer.from(header);
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(declaredLength ?? json.length));
  const body = typeof data === 'number' ? Buffer.alloc(data) : Buffer.from(data);
  return Buffer.concat([len, json, body]);
}

/** A temp dir removed when the test file finishes. */
export function tempDir(prefix = 'slayer-mf-'): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  after(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

export { prng } from '../helpers/prng';

export interface LlamaDims {
  layers: number;
  hidden: number;
  intermediate: number;
  heads: number;
  kvHeads: number;
  vocab: number;
  tied?: boolean;
}

export function llamaConfig(d: LlamaDims, dtype = 'bfloat16'): Record<string, unknown> {
  return {
    architectures: ['LlamaForCausalLM'], model_type: 'llama', hidden_size: d.hidden, intermediate_size: d.intermediate,
    num_hidden_layers: d.layers, num_attention_heads: d.heads, num_key_value_heads: d.kvHeads, vocab_size: d.vocab,
    tie_word_embeddings: d.tied ?? false, rms_norm_eps: 1e-5, torch_dtype: dtype,
  };
}

/** The tensors of one Llama block `i`, in Hugging Face names; `data(n)` supplies bytes or null. */
export function llamaBlock(d: LlamaDims, i: number, dtype: string, data: (numel: number, name: string) => Uint8Array | null): TensorToWrite[] {
  const hd = d.hidden / d.heads;
  const p = `model.layers.${i}.`;
  const t = (name: string, shape: number[]): TensorToWrite => ({ name: p + name, dtype, shape, data: data(shape.reduce((a, b) => a * b, 1), p + name) });
  return [
    t('input_layernorm.weight', [d.hidden]),
    t('self_attn.q_proj.weight', [d.heads * hd, d.hidden]),
    t('self_attn.k_proj.weight', [d.kvHeads * hd, d.hidden]),
    t('self_attn.v_proj.weight', [d.kvHeads * hd, d.hidden]),
    t('self_attn.o_proj.weight', [d.hidden, d.heads * hd]),
    t('post_attention_layernorm.weight', [d.hidden]),
    t('mlp.gate_proj.weight', [d.intermediate, d.hidden]),
    t('mlp.up_proj.weight', [d.intermediate, d.hidden]),
    t('mlp.down_proj.weight', [d.hidden, d.intermediate]),
  ];
}

/** Every tensor of a Llama model: embeddings, blocks, final norm, head (unless tied). */
export function llamaTensors(d: LlamaDims, dtype: string, data: (numel: number, name: string) => Uint8Array | null): TensorToWrite[] {
  const t = (name: string, shape: number[]): TensorToWrite => ({ name, dtype, shape, data: data(shape.reduce((a, b) => a * b, 1), name) });
  const out = [t('model.embed_tokens.weight', [d.vocab, d.hidden])];
  for (let i = 0; i < d.layers; i++) out.push(...llamaBlock(d, i, dtype, data));
  out.push(t('model.norm.weight', [d.hidden]));
  if (!d.tied) out.push(t('lm_head.weight', [d.vocab, d.hidden]));
  return out;
}

/** Greedy split in tensor order at `maxBytes` per shard, as Hugging Face's max_shard_size does. */
export function shardBySize(tensors: readonly TensorToWrite[], maxBytes: number, elementBytes = 2): TensorToWrite[][] {
  const shards: TensorToWrite[][] = [[]];
  let size = 0;
  for (const t of tensors) {
    const n = t.shape.reduce((a, b) => a * b, 1) * elementBytes;
    if (size + n > maxBytes && shards[shards.length - 1]!.length) {
      shards.push([]);
      size = 0;
    }
    shards[shards.length - 1]!.push(t);
    size += n;
  }
  return shards;
}

/** Llama-2-70B: 80 blocks, hidden 8192, GQA 64/8, MLP 28672, vocab 32000. */
export const LLAMA2_70B: LlamaDims = { layers: 80, hidden: 8192, intermediate: 28672, heads: 64, kvHeads: 8, vocab: 32000 };

/** Bytes this process has read through read(2)-like calls so far (Linux /proc/self/io). */
export function bytesReadByProcess(): number | null {
  try {
    const m = /^rchar: (\d+)$/m.exec(readFileSync('/proc/self/io', 'utf8'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

/** The inspection report alone, for tests that compare reports. */
export async function inspectCheckpoint(dir: string): Promise<CheckpointReport> {
  return (await loadAndInspect(dir)).report;
}

/** A tensor's raw bytes in one buffer (small tensors only). */
export async function readTensorBytes(c: Checkpoint, t: CheckpointTensor): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of createTensorStream(c, t)) chunks.push(chunk as Buffer);
  const out = Buffer.concat(chunks);
  assert.equal(out.length, t.byteLength, `tensor "${t.name}": read ${out.length} of ${t.byteLength} bytes`);
  return out;
}
