// The safetensors writer (tests and benchmarks only; the product never writes weights): tensors packed in the given order, the JSON
// header padded with spaces to a multiple of 8 so the data starts aligned. A tensor given without
// data is left as a hole (ftruncate), which is how the sparse 70B-shaped fixtures are made.
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { INDEX_FILE } from '../../src/modelfiles/checkpoint';
import { dtypeSize, SafetensorsError } from '../../src/modelfiles/safetensors';

export interface TensorToWrite {
  name: string;
  dtype: string;
  shape: readonly number[];
  /** Raw little-endian bytes; null = a sparse hole of the right size (reads back as zeros). */
  data: Uint8Array | null;
}

export interface HeaderLayout {
  header: Buffer;
  /** Absolute offset of each tensor's data, in the given order. */
  offsets: number[];
  fileSize: number;
}

function byteLength(t: TensorToWrite): number {
  return t.shape.reduce((n, d) => n * d, 1) * dtypeSize(t.dtype);
}

/** The 8-byte length + padded JSON header for `tensors`, and where each tensor's data goes. */
export function layoutSafetensors(tensors: readonly TensorToWrite[], metadata?: Record<string, string>): HeaderLayout {
  const obj: Record<string, unknown> = {};
  if (metadata) obj.__metadata__ = metadata;
  const rel: number[] = [];
  let at = 0;
  for (const t of tensors) {
    const n = byteLength(t);
    if (t.data && t.data.length !== n) throw new SafetensorsError('size-mismatch', t.name, `shape [${t.shape.join(', ')}] of ${t.dtype} needs ${n} bytes, data has ${t.data.length}`);
    if (t.name in obj) throw new SafetensorsError('duplicate-tensor', t.name, 'tensor name written twice');
    obj[t.name] = { dtype: t.dtype, shape: [...t.shape], data_offsets: [at, at + n] };
    rel.push(at);
    at += n;
  }
  let json = Buffer.from(JSON.stringify(obj), 'utf8');
  const pad = (8 - (json.length % 8)) % 8;
  if (pad) json = Buffer.concat([json, Buffer.alloc(pad, 0x20)]);
  const header = Buffer.alloc(8 + json.length);
  header.writeBigUInt64LE(BigInt(json.length), 0);
  json.copy(header, 8);
  return { header, offsets: rel.map((r) => header.length + r), fileSize: header.length + at };
}

/** The whole file in memory (small tensors, tests). */
export function encodeSafetensors(tensors: readonly TensorToWrite[], metadata?: Record<string, string>): Buffer {
  const { header, offsets, fileSize } = layoutSafetensors(tensors, metadata);
  const out = Buffer.alloc(fileSize);
  header.copy(out, 0);
  tensors.forEach((t, i) => t.data && out.set(t.data, offsets[i]!));
  return out;
}

/** Writes a file without holding more than one tensor in memory; data-less tensors stay holes. */
export async function writeSafetensors(path: string, tensors: readonly TensorToWrite[], metadata?: Record<string, string>): Promise<number> {
  const { header, offsets, fileSize } = layoutSafetensors(tensors, metadata);
  const fh = await fsp.open(path, 'w');
  try {
    await fh.write(header, 0, header.length, 0);
    for (let i = 0; i < tensors.length; i++) {
      const d = tensors[i]!.data;
      if (d && d.length) await fh.write(d, 0, d.length, offsets[i]!);
    }
    await fh.truncate(fileSize);
  } finally {
    await fh.close();
  }
  return fileSize;
}

/**
 * A sharded checkpoint in the Hugging Face layout: model-0000i-of-0000n.safetensors files plus
 * model.safetensors.index.json (one shard = a single model.safetensors, no index), and
 * config.json when given. Returns the shard file names.
 */
export async function writeCheckpoint(dir: string, shards: readonly (readonly TensorToWrite[])[], config?: Record<string, unknown>): Promise<string[]> {
  await fsp.mkdir(dir, { recursive: true });
  const n = shards.length;
  const names = n === 1 ? ['model.safetensors'] : shards.map((_, i) => `model-${String(i + 1).padStart(5, '0')}-of-${String(n).padStart(5, '0')}.safetensors`);
  const weightMap: Record<string, string> = {};
  let total = 0;
  for (let i = 0; i < n; i++) {
    const size = await writeSafetensors(join(dir, names[i]!), shards[i]!, { format: 'pt' });
    total += size - layoutSafetensors(shards[i]!, { format: 'pt' }).header.length;
    for (const t of shards[i]!) weightMap[t.name] = names[i]!;
  }
  // Hugging Face writes the weight map sorted by tensor name (model.layers.10 before model.layers.2).
  const sorted = Object.fromEntries(Object.keys(weightMap).sort().map((k) => [k, weightMap[k]!]));
  if (n > 1) await fsp.writeFile(join(dir, INDEX_FILE), `${JSON.stringify({ metadata: { total_size: total }, weight_map: sorted }, null, 2)}\n`);
  if (config) await fsp.writeFile(join(dir, 'config.json'), `${JSON.stringify(config, null, 2)}\n`);
  return names;
}
