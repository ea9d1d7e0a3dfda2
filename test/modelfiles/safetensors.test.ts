// The safetensors reader and writer on real files: round trips, header-only reads, streaming,
// sharded checkpoints, and a hand-built byte-level fixture for every error the reader reports.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { readCheckpoint, readSafetensorsHeader, createTensorStream } from '../../src/modelfiles/files';
import { parseSafetensors, SafetensorsError, type SafetensorsErrorCode } from '../../src/modelfiles/safetensors';
import { encodeSafetensors, writeCheckpoint, writeSafetensors, type TensorToWrite } from '../helpers/safetensorsWriter';
import { rawFile, readTensorBytes, tempDir } from './helpers';

const dir = tempDir();

function expectError(fn: () => unknown, code: SafetensorsErrorCode, message: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof SafetensorsError, `expected SafetensorsError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    assert.match(e.message, message);
    return true;
  });
}

async function expectFileError(path: string, code: SafetensorsErrorCode, message: RegExp): Promise<void> {
  await assert.rejects(readSafetensorsHeader(path), (e: unknown) => {
    assert.ok(e instanceof SafetensorsError, `expected SafetensorsError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    assert.match(e.message, message);
    return true;
  });
}

const mixed: TensorToWrite[] = [
  { name: 'a.f32', dtype: 'F32', shape: [3, 5], data: randomBytes(60) },
  { name: 'b.bf16', dtype: 'BF16', shape: [7], data: randomBytes(14) },
  { name: 'c.scalar', dtype: 'F64', shape: [], data: randomBytes(8) },
  { name: 'd.empty', dtype: 'F16', shape: [0, 4], data: new Uint8Array(0) },
  { name: 'e.i64', dtype: 'I64', shape: [2, 1, 2], data: randomBytes(32) },
  { name: 'f.u8', dtype: 'U8', shape: [3], data: randomBytes(3) },
  { name: 'g.ünïcode ✓', dtype: 'BOOL', shape: [1], data: new Uint8Array([1]) },
];

describe('round trips', () => {
  test('a file written by our writer reads back exactly: names, dtypes, shapes, metadata, bytes', async () => {
    const path = join(dir, 'mixed.safetensors');
    await writeSafetensors(path, mixed, { format: 'pt', note: 'x "quoted" ✓' });
    const { header, size } = await readSafetensorsHeader(path);
    assert.equal(size, readFileSync(path).length);
    assert.equal(header.dataStart % 8, 0, 'data region aligned to 8');
    assert.deepEqual(header.metadata, { format: 'pt', note: 'x "quoted" ✓' });
    assert.deepEqual(header.tensors.map((t) => [t.name, t.dtype, t.shape]), mixed.map((t) => [t.name, t.dtype, t.shape]));
    // The same bytes in memory and on disk.
    assert.deepEqual(readFileSync(path), encodeSafetensors(mixed, { format: 'pt', note: 'x "quoted" ✓' }));
  });

  test('tensor data streams back byte-exact from its own range only', async () => {
    const sub = join(dir, 'single');
    await writeCheckpoint(sub, [mixed]);
    const c = await readCheckpoint(sub);
    for (const t of mixed) {
      const ct = c.byName.get(t.name)!;
      assert.deepEqual(new Uint8Array(await readTensorBytes(c, ct)), new Uint8Array(t.data!), t.name);
    }
    // Small highWaterMark: many chunks, same bytes.
    const big = c.byName.get('a.f32')!;
    const chunks: Buffer[] = [];
    for await (const ch of createTensorStream(c, big, 7)) chunks.push(ch as Buffer);
    assert.ok(chunks.length > 5);
    assert.deepEqual(new Uint8Array(Buffer.concat(chunks)), new Uint8Array(mixed[0]!.data!));
  });

  test('sharded checkpoint through the index: tensors found in their shards, offsets absolute', async () => {
    const sub = join(dir, 'sharded');
    await writeCheckpoint(sub, [mixed.slice(0, 3), mixed.slice(3, 5), mixed.slice(5)], { model_type: 'llama' });
    const c = await readCheckpoint(sub);
    assert.equal(c.shards.length, 3);
    assert.deepEqual(c.tensors.map((t) => t.name), mixed.map((t) => t.name));
    assert.equal(c.byName.get('e.i64')!.shard, 'model-00002-of-00003.safetensors');
    assert.equal(c.index!.totalSize, mixed.reduce((n, t) => n + t.data!.length, 0));
    assert.deepEqual(new Uint8Array(await readTensorBytes(c, c.byName.get('f.u8')!)), new Uint8Array(mixed[5]!.data!));
  });
});

describe('errors: hand-built bytes', () => {
  const ok = '{"t":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}';

  test('the valid base fixture parses (so each error below is due to its one change)', () => {
    const h = parseSafetensors(rawFile(ok, 8));
    assert.deepEqual(h.tensors[0], { name: 't', dtype: 'F32', shape: [2], begin: 0, end: 8, numel: 2 });
  });
  test('truncated: fewer than 8 bytes', () => {
    expectError(() => parseSafetensors(Buffer.from([1, 0, 0])), 'truncated', /truncated: 3 bytes/);
    expectError(() => parseSafetensors(Buffer.alloc(0)), 'truncated', /truncated: 0 bytes/);
  });
  test('header length beyond the file', () => {
    expectError(() => parseSafetensors(rawFile(ok, 0, 500)), 'header-beyond-file', /header length 500 reaches beyond the end of the file \(62 bytes\)/);
  });
  test('header length absurdly large (u64 near 2^64) is refused before allocating', () => {
    expectError(() => parseSafetensors(rawFile(ok, 8, 0xffffffffffffffffn)), 'header-too-large', /header length 18446744073709551615 is larger than/);
  });
  test('invalid JSON, invalid UTF-8, not an object', () => {
    expectError(() => parseSafetensors(rawFile('{"t":{"dtype":"F32",', 8)), 'invalid-json', /header is not valid JSON/);
    expectError(() => parseSafetensors(rawFile(new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]))), 'invalid-utf8', /not valid UTF-8/);
    expectError(() => parseSafetensors(rawFile('[1,2,3]')), 'not-an-object', /not an object/);
    expectError(() => parseSafetensors(rawFile('{"t":5}')), 'bad-entry', /tensor "t": entry is not an object/);
  });
  test('unknown dtype', () => {
    expectError(() => parseSafetensors(rawFile('{"t":{"dtype":"F12","shape":[2],"data_offsets":[0,8]}}', 8)), 'unknown-dtype', /tensor "t": unknown dtype "F12"/);
  });
  test('bad shape and offsets', () => {
    expectError(() => parseSafetensors(rawFile('{"t":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}', 8)), 'bad-entry', /shape must be an array of non-negative integers/);
    expectError(() => parseSafetensors(rawFile('{"t":{"dtype":"F32","shape":[2],"data_offsets":[0]}}', 8)), 'bad-entry', /data_offsets must be \[begin, end\]/);
    expectError(() => parseSafetensors(rawFile('{"t":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}}', 8)), 'out-of-range', /end before they begin/);
  });
  test('shape × dtype size ≠ byte range', () => {
    expectError(() => parseSafetensors(rawFile('{"t":{"dtype":"BF16","shape":[2],"data_offsets":[0,8]}}', 8)), 'size-mismatch', /shape \[2\] of BF16 needs 4 bytes, but data_offsets \[0, 8\] hold 8/);
  });
  test('overlapping offsets', () => {
    const h = '{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}';
    expectError(() => parseSafetensors(rawFile(h, 12)), 'overlap', /"a" \[0, 8\] and "b" \[4, 12\] overlap/);
  });
  test('non-contiguous offsets (a gap)', () => {
    const h = '{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}';
    expectError(() => parseSafetensors(rawFile(h, 12)), 'gap', /bytes \[4, 8\) of the data belong to no tensor/);
    expectError(() => parseSafetensors(rawFile('{"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}', 8)), 'gap', /bytes \[0, 4\)/);
  });
  test('offsets beyond the file (truncated data) and bytes after the last tensor', () => {
    expectError(() => parseSafetensors(rawFile(ok, 5)), 'out-of-range', /"t" ends at data byte 8, but the file holds only 5 bytes of data/);
    expectError(() => parseSafetensors(rawFile(ok, 9)), 'trailing-bytes', /1 bytes after the last tensor/);
  });
  test('__metadata__ must be string → string', () => {
    expectError(() => parseSafetensors(rawFile('{"__metadata__":{"format":1}}')), 'bad-metadata', /__metadata__ "format" is 1/);
    expectError(() => parseSafetensors(rawFile('{"__metadata__":["x"]}')), 'bad-metadata', /must be an object of string → string/);
  });
  test('header shorter than its declared length', () => {
    expectError(() => parseSafetensors(rawFile('{}', 0, 10), 100), 'truncated', /header needs 10 bytes after the length, only 2 present/);
  });
});

describe('errors: files and checkpoints', () => {
  test('each error reaches the caller from a file on disk, naming the file', async () => {
    const p = join(dir, 'trunc.safetensors');
    writeFileSync(p, Buffer.from([9, 0]));
    await expectFileError(p, 'truncated', new RegExp(`${p}: truncated: 2 bytes`));
    writeFileSync(p, rawFile('{}', 0, 4096));
    await expectFileError(p, 'header-beyond-file', /header length 4096 reaches beyond the end of the file \(10 bytes\)/);
    writeFileSync(p, rawFile('{"t":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}', 3));
    await expectFileError(p, 'out-of-range', /"t" ends at data byte 16, but the file holds only 3 bytes/);
    await expectFileError(join(dir, 'absent.safetensors'), 'missing-shard', /absent\.safetensors: no such file/);
  });

  test('an index naming a missing shard', async () => {
    const sub = join(dir, 'missing-shard');
    await writeCheckpoint(sub, [mixed.slice(0, 2), mixed.slice(2)]);
    const idx = JSON.parse(readFileSync(join(sub, 'model.safetensors.index.json'), 'utf8')) as { weight_map: Record<string, string> };
    idx.weight_map['extra.weight'] = 'model-00003-of-00003.safetensors';
    writeFileSync(join(sub, 'model.safetensors.index.json'), JSON.stringify(idx));
    await assert.rejects(readCheckpoint(sub), (e: Error) => e instanceof SafetensorsError && e.code === 'missing-shard' && /names shard "model-00003-of-00003\.safetensors", which does not exist/.test(e.message));
  });

  test('an index mapping a tensor to a shard without it; a tensor in two shards; an index escaping the dir', async () => {
    const sub = join(dir, 'wrong-map');
    await writeCheckpoint(sub, [mixed.slice(0, 2), mixed.slice(2)]);
    const ip = join(sub, 'model.safetensors.index.json');
    const idx = JSON.parse(readFileSync(ip, 'utf8')) as { weight_map: Record<string, string> };
    idx.weight_map['a.f32'] = 'model-00002-of-00002.safetensors';
    writeFileSync(ip, JSON.stringify(idx));
    await assert.rejects(readCheckpoint(sub), /maps tensor "a\.f32" to model-00002-of-00002\.safetensors, but model-00002-of-00002\.safetensors has no such tensor/);
    idx.weight_map['a.f32'] = '../../etc/passwd';
    writeFileSync(ip, JSON.stringify(idx));
    await assert.rejects(readCheckpoint(sub), (e: Error) => e instanceof SafetensorsError && e.code === 'bad-index');
    writeFileSync(ip, '{"weight_map": 3}');
    await assert.rejects(readCheckpoint(sub), /has no "weight_map" object/);

    const dup = join(dir, 'dup');
    await writeCheckpoint(dup, [mixed.slice(0, 2), mixed.slice(1, 3)]);
    const di = JSON.parse(readFileSync(join(dup, 'model.safetensors.index.json'), 'utf8')) as { weight_map: Record<string, string> };
    assert.equal(di.weight_map['b.bf16'], 'model-00002-of-00002.safetensors');
    await assert.rejects(readCheckpoint(dup), (e: Error) => e instanceof SafetensorsError && e.code === 'duplicate-tensor' && /"b\.bf16" is also in model-00001/.test(e.message));
  });

  test('a directory without safetensors files', async () => {
    await assert.rejects(readCheckpoint(tempDir()), (e: Error) => e instanceof SafetensorsError && e.code === 'no-checkpoint');
  });
});
