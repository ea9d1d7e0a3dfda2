// Random corruptions of real headers (and of the remote scan's output): the reader never crashes or hangs, and every rejection is a
// SafetensorsError with a message naming the problem. Accepted mutants must still be consistent
// (tensors tile the data exactly). Seeded: a failure prints the seed that replays it.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { readSafetensorsHeader } from '../../src/modelfiles/files';
import { inspectScan, parseScanOutput } from '../../src/modelfiles/remoteScan';
import { DTYPE_SIZES, parseSafetensors, SafetensorsError, type SafetensorsHeader } from '../../src/modelfiles/safetensors';
import { encodeSafetensors } from '../helpers/safetensorsWriter';
import { prng, tempDir } from './helpers';

const base = encodeSafetensors(
  [
    { name: 'model.layers.0.self_attn.q_proj.weight', dtype: 'BF16', shape: [4, 6], data: new Uint8Array(48).fill(1) },
    { name: 'model.layers.0.mlp.up_proj.weight', dtype: 'F32', shape: [3, 2], data: new Uint8Array(24).fill(2) },
    { name: 'bias', dtype: 'F16', shape: [5], data: new Uint8Array(10).fill(3) },
    { name: 'empty', dtype: 'I64', shape: [0], data: new Uint8Array(0) },
  ],
  { format: 'pt' },
);
const headerEnd = 8 + Number(base.readBigUInt64LE(0));
const JSONISH = '{}[]",:0123456789-+eE. \\"_abcdefFTBIU\u00e9\u2713\n';

type Mutation = (b: Buffer, r: () => number) => Buffer;
const pick = <T>(xs: readonly T[], r: () => number): T => xs[Math.floor(r() * xs.length)]!;
const at = (r: () => number, n: number): number => Math.floor(r() * Math.max(0, n));
/** Where the header ends in a (possibly already mutated) buffer. */
const hEnd = (b: Buffer): number => Math.max(9, Math.min(headerEnd, b.length));

const MUTATIONS: Record<string, Mutation> = {
  flipBit: (b, r) => { const c = Buffer.from(b); const i = at(r, Math.min(headerEnd, b.length)); c[i] = c[i]! ^ (1 << at(r, 8)); return c; },
  jsonChar: (b, r) => { const c = Buffer.from(b); if (b.length > 8) c.write(pick([...JSONISH], r), 8 + at(r, hEnd(b) - 9)); return c; },
  deleteRange: (b, r) => { const i = 8 + at(r, hEnd(b) - 8); return Buffer.concat([b.subarray(0, i), b.subarray(Math.min(b.length, i + 1 + at(r, 12)))]); },
  insert: (b, r) => { const i = Math.min(b.length, 8 + at(r, hEnd(b) - 8)); return Buffer.concat([b.subarray(0, i), Buffer.from(pick([...JSONISH], r).repeat(1 + at(r, 4))), b.subarray(i)]); },
  truncate: (b, r) => b.subarray(0, at(r, b.length)),
  extend: (b, r) => Buffer.concat([b, Buffer.alloc(1 + at(r, 9))]),
  lengthPrefix: (b, r) => {
    const c = Buffer.from(b);
    if (c.length < 8) return c;
    const choices = [BigInt(at(r, headerEnd + 16)), 2n ** BigInt(at(r, 64)), 0xffffffffffffffffn, BigInt(headerEnd - 8) + BigInt(at(r, 5)) - 2n];
    c.writeBigUInt64LE(BigInt.asUintN(64, pick(choices, r)), 0);
    return c;
  },
  number: (b, r) => {
    // Rewrites one number in the JSON: offsets and shapes are where the interesting checks live.
    const text = b.subarray(8, hEnd(b)).toString('utf8');
    const nums = [...text.matchAll(/\d+/g)];
    if (!nums.length) return b;
    const m = pick(nums, r);
    const v = pick(['0', '1', String(Number(m[0]) + 1), String(Number(m[0]) - 1), '-1', '1e400', '9007199254740993', '0.5', '99999999999999999999'], r);
    const json = Buffer.from(text.slice(0, m.index) + v + text.slice(m.index! + m[0].length), 'utf8');
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(json.length));
    return Buffer.concat([len, json, b.subarray(hEnd(b))]);
  },
  shiftTensor: (b, r) => {
    // Moves one tensor's whole byte range: its size stays right, so only the layout checks can catch it.
    const text = b.subarray(8, hEnd(b)).toString('utf8');
    const ranges = [...text.matchAll(/"data_offsets":\[(\d+),(\d+)\]/g)];
    if (!ranges.length) return b;
    const m = pick(ranges, r);
    const k = pick([-8, -4, -2, 2, 4, 8, 1000], r);
    const moved = `"data_offsets":[${Number(m[1]) + k},${Number(m[2]) + k}]`;
    const json = Buffer.from(text.slice(0, m.index) + moved + text.slice(m.index! + m[0].length), 'utf8');
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(json.length));
    return Buffer.concat([len, json, b.subarray(hEnd(b))]);
  },
  dtype: (b, r) => {
    const text = b.subarray(8, hEnd(b)).toString('utf8').replace(/"(BF16|F32|F16|I64)"/, `"${pick([...Object.keys(DTYPE_SIZES), 'F12', 'bf16', ''], r)}"`);
    const json = Buffer.from(text, 'utf8');
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(json.length));
    return Buffer.concat([len, json, b.subarray(hEnd(b))]);
  },
};

/** An accepted header is internally consistent with the bytes it came from. */
function checkAccepted(h: SafetensorsHeader, bytes: Buffer): void {
  assert.equal(h.dataStart + h.dataLength, bytes.length);
  const sorted = [...h.tensors].sort((a, b) => a.begin - b.begin);
  let end = 0;
  for (const t of sorted) {
    assert.equal(t.begin, end);
    assert.equal(t.end - t.begin, t.numel * DTYPE_SIZES[t.dtype]!);
    end = t.end;
  }
}

test('5,000 random header corruptions: a valid header or a clear SafetensorsError, never anything else', { timeout: 60_000 }, () => {
  const names = Object.keys(MUTATIONS);
  const seen = new Map<string, number>();
  let accepted = 0;
  for (let seed = 1; seed <= 5000; seed++) {
    const r = prng(seed);
    let bytes: Buffer = base;
    const steps = 1 + at(r, 3);
    for (let s = 0; s < steps; s++) bytes = MUTATIONS[pick(names, r)]!(bytes, r);
    try {
      checkAccepted(parseSafetensors(bytes), bytes);
      accepted++;
    } catch (e) {
      if (!(e instanceof SafetensorsError)) assert.fail(`seed ${seed}: ${String((e as Error).stack ?? e)}`);
      assert.match(e.message, /^bytes: \S.{8,}/, `seed ${seed}: message too vague: ${e.message}`);
      seen.set(e.code, (seen.get(e.code) ?? 0) + 1);
    }
  }
  // The corpus must reach the checks, not just fail JSON parsing.
  for (const code of ['truncated', 'header-beyond-file', 'header-too-large', 'invalid-json', 'unknown-dtype', 'size-mismatch', 'out-of-range', 'gap', 'overlap', 'trailing-bytes', 'bad-entry', 'invalid-utf8']) {
    assert.ok((seen.get(code) ?? 0) > 0, `no mutant reached "${code}": ${JSON.stringify([...seen])}`);
  }
  assert.ok(accepted > 0 && accepted < 2500, `accepted ${accepted}`);
});

test('300 corrupted files on disk: the header-only file reader behaves the same', { timeout: 60_000 }, async () => {
  const dir = tempDir();
  const names = Object.keys(MUTATIONS);
  for (let seed = 10_001; seed <= 10_300; seed++) {
    const r = prng(seed);
    const bytes = MUTATIONS[pick(names, r)]!(base, r);
    const p = join(dir, `f${seed}.safetensors`);
    writeFileSync(p, bytes);
    let fromBytes: string;
    try {
      parseSafetensors(bytes, bytes.length, p);
      fromBytes = 'ok';
    } catch (e) {
      fromBytes = (e as Error).message;
    }
    try {
      await readSafetensorsHeader(p);
      assert.equal('ok', fromBytes, `seed ${seed}`);
    } catch (e) {
      if (!(e instanceof SafetensorsError)) assert.fail(`seed ${seed}: ${String(e)}`);
      assert.equal(e.message, fromBytes, `seed ${seed}`);
    }
  }
});

test('2,000 corruptions of remote scan output: a report, or a clear error, never a crash', { timeout: 60_000 }, () => {
  const dir = '/ckpt';
  const file = (name: string, bytes: Buffer): Buffer => Buffer.concat([Buffer.from(`shard ${Buffer.byteLength(name)} ${bytes.length} ${headerEnd}\n${name}`), bytes.subarray(0, headerEnd)]);
  const config = '{"model_type":"llama"}';
  const good = Buffer.concat([
    Buffer.from(`SLAYER-SCAN 1\ndir ${dir.length}\n${dir}config ${config.length}\n${config}index -1\n`),
    file('model.safetensors', base),
    Buffer.from('end\n'),
  ]);
  assert.equal(inspectScan(parseScanOutput(good)).report.tensorCount, 4);
  let reports = 0;
  for (let seed = 20_001; seed <= 22_000; seed++) {
    const r = prng(seed);
    const c = Buffer.from(good);
    const kind = at(r, 3);
    let bytes: Buffer;
    if (kind === 0) { c[at(r, c.length)] = at(r, 256); bytes = c; }
    else if (kind === 1) bytes = c.subarray(0, at(r, c.length));
    else { const i = at(r, c.length); bytes = Buffer.concat([c.subarray(0, i), Buffer.from(pick(['\n', ' ', '-1', '9', 'x'], r)), c.subarray(i)]); }
    try {
      inspectScan(parseScanOutput(bytes));
      reports++;
    } catch (e) {
      if (!(e instanceof SafetensorsError) && !/^malformed scan output: \S/.test((e as Error).message)) assert.fail(`seed ${seed}: ${String((e as Error).stack ?? e)}`);
    }
  }
  assert.ok(reports > 100, `${reports} mutants still parsed to a report`);
});
