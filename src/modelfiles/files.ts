// Local file access: headers read with two small positional reads (8 bytes, then N bytes) so a
// 140 GB checkpoint costs a few hundred kilobytes of I/O; tensor data streamed only on request.
import { createReadStream, promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { MAX_INDEX_BYTES } from '../core/limits';
import { assembleCheckpoint, INDEX_FILE, indexShards, parseIndex, unindexedShards, type Checkpoint, type CheckpointIndex, type CheckpointTensor, type ShardHeader } from './checkpoint';
import { FileRefusedError, openRegularFile } from './regularFile';
import { memberExists, memberPath } from './members';
import { parseHeaderJson, parseHeaderPrefix, SafetensorsError, type SafetensorsHeader } from './safetensors';

function ioError(file: string, e: unknown): SafetensorsError {
  const err = e as NodeJS.ErrnoException;
  if (err instanceof SafetensorsError) return err;
  if (err instanceof FileRefusedError) return new SafetensorsError(err.reason === 'too-large' ? 'too-large' : 'not-a-file', file, err.message);
  return new SafetensorsError(err.code === 'ENOENT' ? 'missing-shard' : 'io', file, err.code === 'ENOENT' ? 'no such file' : err.message);
}

async function readExactly(fh: fsp.FileHandle, length: number, position: number, file: string): Promise<Buffer> {
  const buf = Buffer.allocUnsafe(length);
  let got = 0;
  while (got < length) {
    const { bytesRead } = await fh.read(buf, got, length - got, position + got);
    if (bytesRead === 0) throw new SafetensorsError('truncated', file, `truncated: expected ${length} bytes at offset ${position}, the file ended after ${got}`);
    got += bytesRead;
  }
  return buf;
}

/** Reads and validates the header of one file, touching only its first 8 + N bytes. */
export async function readSafetensorsHeader(path: string): Promise<{ size: number; header: SafetensorsHeader }> {
  let fh: fsp.FileHandle;
  let size: number;
  try {
    // A FIFO or device named like a shard is refused before it is opened (it would block or never end).
    ({ fh, size } = await openRegularFile(path));
  } catch (e) {
    throw ioError(path, e);
  }
  try {
    const first = await readExactly(fh, Math.min(8, size), 0, path);
    const prefix = parseHeaderPrefix(first, size, path);
    const json = await readExactly(fh, prefix.headerLength, 8, path);
    return { size, header: parseHeaderJson(json, prefix, size, path) };
  } catch (e) {
    throw ioError(path, e);
  } finally {
    await fh.close();
  }
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** The index, read through the member rule: a regular file inside the checkpoint, UTF-8, size-capped. */
async function readIndexText(dir: string): Promise<string | null> {
  if (!(await memberExists(dir, INDEX_FILE))) return null;
  const path = join(dir, INDEX_FILE);
  const real = await memberPath(dir, INDEX_FILE);
  const { fh, size } = await openRegularFile(real, MAX_INDEX_BYTES).catch((e: unknown) => { throw ioError(path, e); });
  try {
    const bytes = await readExactly(fh, size, 0, path);
    try {
      return strictUtf8.decode(bytes);
    } catch {
      throw new SafetensorsError('bad-index', path, 'not valid UTF-8');
    }
  } finally {
    await fh.close();
  }
}

/**
 * The checkpoint in `dir`: through model.safetensors.index.json when present, else
 * model.safetensors, else every *.safetensors file in the directory. Every file goes through the
 * member rule (members.ts): nothing outside the checkpoint, nothing but regular files.
 */
export async function readCheckpoint(dir: string): Promise<Checkpoint> {
  const indexText = await readIndexText(dir);
  let index: CheckpointIndex | null = null;
  let files: string[];
  if (indexText !== null) {
    index = parseIndex(indexText, join(dir, INDEX_FILE));
    files = indexShards(index);
  } else {
    let names: string[];
    try {
      names = await fsp.readdir(dir);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new SafetensorsError('no-checkpoint', dir, code === 'ENOENT' ? 'no such directory' : code === 'ENOTDIR' ? 'not a directory' : (e as Error).message);
    }
    files = unindexedShards(dir, names);
  }
  const shards = await Promise.all(
    files.map(async (file): Promise<ShardHeader> => {
      try {
        const real = await memberPath(dir, file, join(dir, INDEX_FILE));
        return { file, ...(await readSafetensorsHeader(real)) };
      } catch (e) {
        if (e instanceof SafetensorsError && e.code === 'missing-shard' && index) {
          throw new SafetensorsError('missing-shard', join(dir, INDEX_FILE), `names shard "${file}", which does not exist in ${dir}`);
        }
        throw e;
      }
    }),
  );
  return assembleCheckpoint(dir, index, shards);
}

/** A stream of a tensor's raw bytes (little-endian elements), read from its byte range only. */
export function createTensorStream(c: Checkpoint, t: CheckpointTensor, highWaterMark = 1 << 20): Readable {
  if (t.byteLength === 0) return Readable.from([]);
  return createReadStream(join(c.dir, t.shard), { start: t.offset, end: t.offset + t.byteLength - 1, highWaterMark });
}

/**
 * Positional reads of tensor data with file handles kept open per shard (similarity reads many
 * tensors chunk by chunk in lockstep). Call close() when done.
 */
export class ShardReader {
  private handles = new Map<string, Promise<fsp.FileHandle>>();
  bytesRead = 0;

  constructor(private readonly c: Checkpoint) {}

  /** Fills `into[0, length)` with tensor bytes from `byteOffset` within the tensor. */
  async read(t: CheckpointTensor, byteOffset: number, into: Buffer, length: number): Promise<void> {
    const path = join(this.c.dir, t.shard);
    let h = this.handles.get(t.shard);
    if (!h) {
      h = fsp.open(path, 'r');
      this.handles.set(t.shard, h);
    }
    const fh = await h;
    let got = 0;
    while (got < length) {
      const { bytesRead } = await fh.read(into, got, length - got, t.offset + byteOffset + got);
      if (bytesRead === 0) throw new SafetensorsError('truncated', path, `tensor "${t.name}": the file ends inside its data`);
      got += bytesRead;
    }
    this.bytesRead += length;
  }

  async close(): Promise<void> {
    const all = [...this.handles.values()];
    this.handles.clear();
    await Promise.all(all.map(async (h) => (await h.catch(() => null))?.close()));
  }
}
