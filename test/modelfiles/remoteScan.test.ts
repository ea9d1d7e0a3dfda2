// The one-command remote scan run by a real /bin/sh (the localhost transport) and over a real
// sshd: its report equals the local reader's, byte for byte in the diagnostics, for good and
// broken checkpoints, hostile names, and the sparse 70B-shaped checkpoint — in one round trip.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { checkpointScan, parseScanOutput, scanCommand } from '../../src/modelfiles/remoteScan';
import { encodeSafetensors, writeCheckpoint } from '../helpers/safetensorsWriter';
import { LocalTransport } from '../../src/remote/localTransport';
import { createCheckpointCache } from '../../src/remote/remoteModelCache';
import type { Transport } from '../../src/remote/transport';
import { useCountingSsh } from '../remote/harness/countingSsh';
import { missingTools, SSHD } from '../remote/harness/sshd';
import { inspectCheckpoint, LLAMA2_70B, llamaConfig, llamaTensors, shardBySize, tempDir, type LlamaDims } from './helpers';

const dir = tempDir();
const tiny: LlamaDims = { layers: 2, hidden: 8, intermediate: 12, heads: 2, kvHeads: 1, vocab: 10 };
const local = new LocalTransport();

async function scan(t: Transport, path: string) {
  const r = await t.exec(scanCommand(path), { timeoutMs: 30_000 });
  assert.equal(r.code, 0, r.stderr);
  return checkpointScan.parse(r.stdout);
}

async function tinyCheckpoint(name: string, shards = 3): Promise<string> {
  const p = join(dir, name);
  const ts = llamaTensors(tiny, 'BF16', (n) => randomBytes(2 * n));
  const per = Math.ceil(ts.length / shards);
  await writeCheckpoint(p, Array.from({ length: shards }, (_, i) => ts.slice(i * per, (i + 1) * per)), llamaConfig(tiny));
  return p;
}

describe('scan by the local /bin/sh', () => {
  test('a sharded checkpoint: config.json, index and headers in one command; report equals the local one', async () => {
    const p = await tinyCheckpoint("a b $(touch pwned) 'q'\nline");
    const r = await scan(local, p);
    assert.equal(r.configJson, readFileSync(join(p, 'config.json'), 'utf8'));
    assert.deepEqual(r.report, await inspectCheckpoint(p));
    assert.equal(r.report.shards, 3);
    assert.ok(!existsSync(join(process.cwd(), 'pwned')));
  });

  test('framing survives shard names with spaces, quotes and newlines; the output is exact', async () => {
    const p = join(dir, 'names');
    mkdirSync(p);
    const bytes = encodeSafetensors([{ name: 'w', dtype: 'F32', shape: [2], data: new Uint8Array(8).fill(7) }]);
    writeFileSync(join(p, "we'ird\nname ✓.safetensors"), bytes);
    const r = await local.exec(scanCommand(p));
    const out = parseScanOutput(r.stdout);
    assert.equal(out.dir, p);
    assert.equal(out.configJson, null);
    assert.equal(out.indexJson, null);
    assert.deepEqual(out.files.map((f) => [f.file, f.size, f.head.length]), [["we'ird\nname ✓.safetensors", bytes.length, bytes.length - 8]]);
    assert.deepEqual(out.files[0]!.head, bytes.subarray(0, bytes.length - 8), 'header bytes only, never the data');
    assert.throws(() => parseScanOutput(r.stdout.subarray(0, r.stdout.length - 3)), /malformed scan output/);
    assert.throws(() => parseScanOutput(Buffer.concat([r.stdout, Buffer.from('x')])), /1 bytes after the end marker/);
  });

  test('bash in a UTF-8 locale frames non-ASCII names by bytes too (the script sets LC_ALL=C)', { skip: existsSync('/bin/bash') ? false : 'no /bin/bash' }, () => {
    const p = join(dir, 'bash-ü');
    mkdirSync(p);
    const bytes = encodeSafetensors([{ name: 'w', dtype: 'F32', shape: [1], data: new Uint8Array(4) }]);
    writeFileSync(join(p, 'wé ✓.safetensors'), bytes);
    const out = execFileSync('/bin/bash', ['-c', scanCommand(p)], { env: { ...process.env, LC_ALL: 'C.UTF-8', LANG: 'C.UTF-8' } });
    const r = parseScanOutput(out);
    assert.equal(r.dir, p);
    assert.deepEqual(r.files.map((f) => [f.file, f.size, f.head.length]), [['wé ✓.safetensors', bytes.length, bytes.length - 4]]);
  });

  test('a Hugging Face cache snapshot (every file a symlink into blobs/) reads the same, locally and by the scan', async () => {
    const src = await tinyCheckpoint('hf-src', 2);
    // The cache's real layout: hub/models--ORG--NAME/{snapshots/REV, blobs}; the member rule
    // (members.ts) lets a snapshot's symlinks lead into its own repository's blobs/ only.
    const repo = join(dir, 'hub', 'models--org--tiny');
    const snap = join(repo, 'snapshots', 'abc123');
    mkdirSync(join(repo, 'blobs'), { recursive: true });
    mkdirSync(snap, { recursive: true });
    for (const f of readdirSync(src)) {
      renameSync(join(src, f), join(repo, 'blobs', `sha-${f}`));
      symlinkSync(`../../blobs/sha-${f}`, join(snap, f));
    }
    const local1 = await inspectCheckpoint(snap);
    assert.deepEqual(local1.diagnostics, []);
    assert.equal(local1.shards, 2);
    assert.deepEqual((await scan(local, snap)).report, local1);
  });

  test('broken checkpoints: the same diagnostics as the local reader', async () => {
    const cases: [string, (p: string) => void][] = [
      ['truncated-data', (p) => writeFileSync(join(p, 'model-00002-of-00003.safetensors'), readFileSync(join(p, 'model-00002-of-00003.safetensors')).subarray(0, -5))],
      ['header-beyond', (p) => writeFileSync(join(p, 'model-00001-of-00003.safetensors'), Buffer.from([0, 1, 0, 0, 0, 0, 0, 0, 0x7b, 0x7d]))],
      ['huge-length', (p) => writeFileSync(join(p, 'model-00001-of-00003.safetensors'), Buffer.from([255, 255, 255, 255, 255, 255, 255, 255, 0x7b, 0x7d]))],
      ['tiny-file', (p) => writeFileSync(join(p, 'model-00003-of-00003.safetensors'), Buffer.from([1, 2, 3]))],
      ['missing-shard', (p) => rmSync(join(p, 'model-00003-of-00003.safetensors'))],
      ['bad-json', (p) => { const b = readFileSync(join(p, 'model-00001-of-00003.safetensors')); b[12] = 0x5d; writeFileSync(join(p, 'model-00001-of-00003.safetensors'), b); }],
      ['config-mismatch', (p) => writeFileSync(join(p, 'config.json'), JSON.stringify({ ...llamaConfig(tiny), num_key_value_heads: 2 }))],
    ];
    for (const [name, breakIt] of cases) {
      const p = await tinyCheckpoint(name);
      breakIt(p);
      const local1 = await inspectCheckpoint(p);
      const remote = (await scan(local, p)).report;
      assert.ok(local1.diagnostics.some((x) => x.severity === 'error'), `${name}: ${JSON.stringify(local1.diagnostics)}`);
      assert.deepEqual(remote.diagnostics, local1.diagnostics, name);
    }
    const missingDir = await local.exec(scanCommand(join(dir, 'nope')));
    assert.equal(missingDir.code, 2);
    assert.match(missingDir.stderr, /nope: No such file or directory/);
  });

  test('the sparse 70B-shaped checkpoint: one command reads the headers only', { timeout: 60_000 }, async () => {
    const p = join(dir, '70b');
    const shards = shardBySize(llamaTensors(LLAMA2_70B, 'BF16', () => null), 4.9e9);
    await writeCheckpoint(p, shards, llamaConfig(LLAMA2_70B));
    const t0 = performance.now();
    const r = await local.exec(scanCommand(p));
    const ms = performance.now() - t0;
    const out = parseScanOutput(r.stdout);
    assert.equal(out.files.length, shards.length);
    assert.ok(r.stdout.length < 2e6, `output ${r.stdout.length} bytes`);
    const rep = checkpointScan.parse(r.stdout).report;
    assert.deepEqual(rep, await inspectCheckpoint(p));
    assert.equal(rep.params, 68_976_648_192);
    console.log(`# remote scan of ${shards.length} shards by /bin/sh: ${r.stdout.length} bytes of output in ${ms.toFixed(0)} ms`);
    rmSync(p, { recursive: true, force: true });
  });
});

const skip = missingTools([SSHD, '/usr/bin/ssh']);

describe('scan over SSH through the remote-model cache', { skip: skip ?? false, timeout: 60_000 }, () => {
  const ssh = useCountingSsh();

  test('config.json and every shard header in one round trip; cached', async () => {
    const t = ssh.transport;
    const p = await tinyCheckpoint('over-ssh', 4);
    const cache = createCheckpointCache(() => t);
    const ref = { host: 'slayer-test', path: p };
    const [a, b] = await Promise.all([cache.get(ref), cache.get(ref)]);
    assert.equal(b, a);
    assert.equal(t.calls, 1);
    assert.equal(a.configJson, readFileSync(join(p, 'config.json'), 'utf8'));
    assert.deepEqual(a.report, await inspectCheckpoint(p));
    assert.equal(a.report.shards, 4);
    await assert.rejects(cache.get({ host: 'slayer-test', path: join(dir, 'absent') }), /absent: No such file or directory/);
  });
});
