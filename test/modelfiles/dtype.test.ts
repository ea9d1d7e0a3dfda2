// Element decoding against known IEEE bit patterns (normals, subnormals, ±0, ±inf, NaN), from
// unaligned bytes, plus the encoder's rounding and an exhaustive fp16 round trip.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeToFloat32, encodeFromFloat32, numberToF16Bits } from '../../src/modelfiles/dtype';

/** Decodes u16 patterns from a deliberately unaligned buffer (offset 1), like a stream chunk. */
function decode16(dtype: string, bits: number[]): number[] {
  const raw = new Uint8Array(1 + bits.length * 2);
  bits.forEach((b, i) => { raw[1 + 2 * i] = b & 0xff; raw[2 + 2 * i] = b >> 8; });
  return [...decodeToFloat32(dtype, raw.subarray(1), bits.length, new Float32Array(bits.length))];
}

test('bf16 bit patterns', () => {
  const got = decode16('BF16', [0x3f80, 0xc000, 0x3e80, 0x4049, 0x0000, 0x8000, 0x7f80, 0xff80, 0x7fc0, 0x0001, 0x007f, 0x7f7f]);
  assert.deepEqual(got.slice(0, 4), [1, -2, 0.25, 3.140625]);
  assert.ok(Object.is(got[4], 0) && Object.is(got[5], -0), 'signed zeros');
  assert.deepEqual(got.slice(6, 8), [Infinity, -Infinity]);
  assert.ok(Number.isNaN(got[8]));
  assert.equal(got[9], 2 ** -133, 'smallest bf16 subnormal');
  assert.equal(got[10], 127 * 2 ** -133, 'largest bf16 subnormal');
  assert.equal(got[11], (2 - 2 ** -7) * 2 ** 127, 'largest finite bf16');
});

test('fp16 bit patterns', () => {
  const got = decode16('F16', [0x3c00, 0xc000, 0x7bff, 0x0001, 0x03ff, 0x0400, 0x7c00, 0xfc00, 0x7e00, 0x3555, 0x8000, 0x8001]);
  assert.deepEqual(got.slice(0, 3), [1, -2, 65504]);
  assert.equal(got[3], 2 ** -24, 'smallest subnormal');
  assert.equal(got[4], 1023 * 2 ** -24, 'largest subnormal');
  assert.equal(got[5], 2 ** -14, 'smallest normal');
  assert.deepEqual(got.slice(6, 8), [Infinity, -Infinity]);
  assert.ok(Number.isNaN(got[8]));
  assert.equal(got[9], 0.333251953125);
  assert.ok(Object.is(got[10], -0));
  assert.equal(got[11], -(2 ** -24));
});

test('fp32, fp64, fp8 and integer dtypes', () => {
  const f32 = new Float32Array([1.5, -0, Infinity, 1e-45]);
  const raw32 = new Uint8Array(17);
  raw32.set(new Uint8Array(f32.buffer), 1);
  assert.deepEqual([...decodeToFloat32('F32', raw32.subarray(1), 4, new Float32Array(4))], [1.5, -0, Infinity, 1e-45].map(Math.fround));
  const f64 = new DataView(new ArrayBuffer(16));
  f64.setFloat64(0, 0.1, true);
  f64.setFloat64(8, -1e300, true);
  assert.deepEqual([...decodeToFloat32('F64', new Uint8Array(f64.buffer), 2, new Float32Array(2))], [Math.fround(0.1), -Infinity]);
  assert.deepEqual([...decodeToFloat32('F8_E4M3', new Uint8Array([0x38, 0x7e, 0x01, 0xb8]), 4, new Float32Array(4))], [1, 448, 2 ** -9, -1]);
  assert.ok(Number.isNaN(decodeToFloat32('F8_E4M3', new Uint8Array([0x7f]), 1, new Float32Array(1))[0]));
  assert.deepEqual([...decodeToFloat32('F8_E5M2', new Uint8Array([0x3c, 0x7c, 0x01]), 3, new Float32Array(3))], [1, Infinity, 2 ** -16]);
  const ints = new DataView(new ArrayBuffer(8));
  ints.setInt16(0, -2, true);
  ints.setUint16(2, 65535, true);
  assert.deepEqual([...decodeToFloat32('I16', new Uint8Array(ints.buffer, 0, 2), 1, new Float32Array(1))], [-2]);
  assert.deepEqual([...decodeToFloat32('U16', new Uint8Array(ints.buffer, 2, 2), 1, new Float32Array(1))], [65535]);
  const i64 = new DataView(new ArrayBuffer(8));
  i64.setBigInt64(0, -5n, true);
  assert.deepEqual([...decodeToFloat32('I64', new Uint8Array(i64.buffer), 1, new Float32Array(1))], [-5]);
  assert.deepEqual([...decodeToFloat32('I8', new Uint8Array([0xff, 0x7f]), 2, new Float32Array(2))], [-1, 127]);
  assert.throws(() => decodeToFloat32('F16', new Uint8Array(3), 2, new Float32Array(2)), /need 4 bytes/);
});

test('encoder: bf16 rounds to nearest even; every finite fp16 pattern round-trips', () => {
  const bits = (dtype: 'BF16' | 'F16', v: number): number => { const b = encodeFromFloat32(dtype, [v]); return b[0]! | (b[1]! << 8); };
  assert.equal(bits('BF16', 1 + 2 ** -8), 0x3f80, 'halfway rounds down to even');
  assert.equal(bits('BF16', 1 + 3 * 2 ** -8), 0x3f82, 'halfway rounds up to even');
  assert.equal(bits('BF16', -2), 0xc000);
  assert.ok(Number.isNaN(decode16('BF16', [bits('BF16', NaN)])[0]));
  assert.equal(bits('F16', 65519), 0x7bff);
  assert.equal(bits('F16', 65520), 0x7c00, 'rounds to infinity');
  const all: number[] = [];
  for (let h = 0; h < 65536; h++) if ((h & 0x7c00) !== 0x7c00 || (h & 0x3ff) === 0) all.push(h);
  const values = decode16('F16', all);
  values.forEach((v, i) => assert.equal(numberToF16Bits(v), all[i], `pattern 0x${all[i]!.toString(16)}`));
});

test('aligned fast paths (two elements per 32-bit load) agree with the byte-wise path, odd counts included', () => {
  const all = new Uint8Array(2 * 65536);
  for (let h = 0; h < 65536; h++) { all[2 * h] = h & 0xff; all[2 * h + 1] = h >> 8; }
  for (const dtype of ['BF16', 'F16']) {
    for (const count of [65536, 65535, 1, 0]) {
      const aligned = new Uint8Array(new ArrayBuffer(all.length + 8), 4, all.length);
      aligned.set(all);
      const unaligned = new Uint8Array(new ArrayBuffer(all.length + 8), 1, all.length);
      unaligned.set(all);
      const a = decodeToFloat32(dtype, aligned, count, new Float32Array(count));
      const u = decodeToFloat32(dtype, unaligned, count, new Float32Array(count));
      assert.deepEqual(new Uint32Array(a.buffer), new Uint32Array(u.buffer), `${dtype} × ${count}: same bit patterns`);
    }
  }
});
