// Interop with the Python runner's safetensors writer and reader (runner/slayer_runner): files
// written by `make-tiny` read back exactly here (raw bytes and float32 decoding, hashed by torch
// on the Python side), and files written by our writer read back exactly there.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { modelParams, parseHfConfig } from '../../src/core';
import { decodeToFloat32, loadAndInspect } from '../../src/modelfiles';
import { encodeFromFloat32 } from '../../src/modelfiles/dtype';
import { writeCheckpoint } from '../helpers/safetensorsWriter';
import { PROJECT_PYTHON } from '../helpers/python';
import { readTensorBytes, tempDir } from './helpers';

const root = join(__dirname, '..', '..');
const runnerModule = join(root, 'runner', 'slayer_runner', 'safetensors_io.py');
const skip = !existsSync(runnerModule) ? `the runner's safetensors module (${runnerModule}) is not in the tree` : !existsSync(PROJECT_PYTHON) ? `${PROJECT_PYTHON} is missing (run scripts/setup.sh)` : false;
const env = { ...process.env, PYTHONPATH: join(root, 'runner'), SLAYER_SAFETENSORS: 'builtin' };

/** Per tensor, as torch sees it: dtype name, shape, sha256 of the raw bytes and of the float32 values. */
const PY_HASHES = `
import hashlib, json, sys, torch
from pathlib import Path
from slayer_runner.safetensors_io import open_reader, tensor_bytes, DTYPE_NAMES
out = {}
for f in sorted(Path(sys.argv[1]).glob('*.safetensors')):
    with open_reader(f) as r:
        for k in r.keys():
            t = r.get_tensor(k).contiguous()
            f32 = t.to(torch.float32).contiguous()
            out[k] = [DTYPE_NAMES[t.dtype], list(t.shape), hashlib.sha256(tensor_bytes(t)).hexdigest(), hashlib.sha256(tensor_bytes(f32)).hexdigest()]
print(json.dumps(out))
`;

function python(args: string[]): string {
  const r = spawnSync(PROJECT_PYTHON, args, { env, encoding: 'utf8', cwd: root, timeout: 120_000 });
  assert.equal(r.status, 0, `python ${args.slice(0, 3).join(' ')}: ${r.stderr}`);
  return r.stdout;
}

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

test('checkpoints written by the runner (make-tiny) read back exactly', { skip, timeout: 180_000 }, async () => {
  const dir = tempDir();
  const variants: [string, string[]][] = [
    ['bf16-sharded', ['--dtype', 'bf16', '--shards', '3', '--kv-heads', '2']],
    ['fp16-tied', ['--dtype', 'fp16', '--tie']],
    ['fp32-qkv-bias', ['--dtype', 'fp32', '--qkv-bias', '--shards', '2']],
  ];
  for (const [name, args] of variants) {
    const p = join(dir, name);
    python(['-m', 'slayer_runner', 'make-tiny', '--output', p, '--layers', '3', '--hidden', '64', '--intermediate', '96', '--heads', '4', '--vocab', '300', ...args]);
    const { report, checkpoint } = await loadAndInspect(p);
    assert.deepEqual(report.diagnostics.filter((x) => x.severity !== 'info'), [], `${name}: ${JSON.stringify(report.diagnostics)}`);
    assert.equal(report.params, modelParams(parseHfConfig(readFileSync(join(p, 'config.json'), 'utf8'))), name);
    const torchSide = JSON.parse(python(['-c', PY_HASHES, p])) as Record<string, [string, number[], string, string]>;
    assert.deepEqual(Object.keys(torchSide).sort(), checkpoint!.tensors.map((t) => t.name).sort());
    for (const t of checkpoint!.tensors) {
      const [dtype, shape, rawSha, f32Sha] = torchSide[t.name]!;
      assert.equal(t.dtype, dtype, t.name);
      assert.deepEqual(t.shape, shape, t.name);
      const raw = await readTensorBytes(checkpoint!, t);
      assert.equal(sha(raw), rawSha, `${name} ${t.name}: raw bytes`);
      const f32 = decodeToFloat32(t.dtype, raw, t.numel, new Float32Array(t.numel));
      assert.equal(sha(new Uint8Array(f32.buffer)), f32Sha, `${name} ${t.name}: float32 decoding equals torch's`);
    }
  }
});

test('files written by our writer read back exactly in the runner', { skip, timeout: 120_000 }, async () => {
  const p = join(tempDir(), 'ours');
  const vals = Array.from({ length: 60 }, (_, i) => (i - 30) / 7);
  const tensors = [
    { name: 'a.bf16', dtype: 'BF16', shape: [6, 10], data: encodeFromFloat32('BF16', vals) },
    { name: 'b.f16', dtype: 'F16', shape: [60], data: encodeFromFloat32('F16', vals) },
    { name: 'c.f32', dtype: 'F32', shape: [3, 4, 5], data: encodeFromFloat32('F32', vals) },
    { name: 'd.i64', dtype: 'I64', shape: [2], data: new Uint8Array(new BigInt64Array([-3n, 1n << 40n]).buffer) },
    { name: 'e.empty', dtype: 'F32', shape: [0], data: new Uint8Array(0) },
  ];
  await writeCheckpoint(p, [tensors.slice(0, 2), tensors.slice(2)]);
  const torchSide = JSON.parse(python(['-c', PY_HASHES, p])) as Record<string, [string, number[], string, string]>;
  for (const t of tensors) {
    assert.deepEqual(torchSide[t.name]!.slice(0, 3), [t.dtype, t.shape, sha(t.data)], t.name);
  }
});
