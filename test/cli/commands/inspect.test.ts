// `slayer inspect` (src/cli/commands/inspect.ts) spawned as a real process on checkpoints written to disk: text and JSON
// output, exit codes, --similarity, and HOST:/PATH targets (localhost and a real sshd) going
// through the one-command remote scan.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { CheckpointReport, SimilarityReport } from '../../../src/modelfiles';
import { encodeFromFloat32 } from '../../../src/modelfiles/dtype';
import { writeCheckpoint } from '../../helpers/safetensorsWriter';
import { missingTools, SSHD, TestSshd } from '../../remote/harness/sshd';
import { llamaConfig, llamaTensors, prng, tempDir, type LlamaDims } from '../../modelfiles/helpers';

const root = join(__dirname, '..', '..', '..');
const slayer = (...args: string[]) => {
  const r = spawnSync(process.execPath, [join(root, 'bin', 'slayer.js'), 'inspect', ...args], { encoding: 'utf8', cwd: root, timeout: 60_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
};
const dir = tempDir();
const d: LlamaDims = { layers: 4, hidden: 16, intermediate: 24, heads: 4, kvHeads: 2, vocab: 40 };
const good = join(dir, 'good');
const bad = join(dir, 'bad');

before(async () => {
  const r = spawnSync(process.execPath, [join(root, 'scripts', 'build.mjs')], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const rnd = prng(3);
  // Random bf16 values (random bytes would include NaN patterns).
  const ts = llamaTensors(d, 'BF16', (n) => encodeFromFloat32('BF16', Array.from({ length: n }, () => rnd() - 0.5)));
  await writeCheckpoint(good, [ts.slice(0, 20), ts.slice(20)], llamaConfig(d));
  await writeCheckpoint(bad, [ts], llamaConfig({ ...d, layers: 5 }));
  await writeCheckpoint(join(dir, 'gap'), [ts.filter((t) => !t.name.startsWith('model.layers.1.'))], llamaConfig(d));
});

test('text report: shape, totals, blocks grouped, no diagnostics, exit 0', () => {
  const r = slayer(good);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, new RegExp(`^checkpoint  ${good}  \\(2 shards, 39 tensors, `));
  assert.match(r.out, /config {6}llama, 4 blocks, hidden 16, MLP 24, heads 4\/2 kv \(head_dim 4\), vocab 40, bfloat16/);
  assert.match(r.out, /params {6}[\d,]+ \([\d.]+K\) {2}= config\.json/);
  assert.match(r.out, /\n0–3 +[\d,]+ +[\d.]+ KiB +BF16 +16\/8 → 4\/2 heads \(GQA 2\) +24/);
  assert.doesNotMatch(r.out, /error:|warning:/);
});

test('a mismatch with config.json prints the diagnostic and exits 1; --json is the same report', () => {
  const r = slayer(bad);
  assert.equal(r.code, 1);
  assert.match(r.out, /error: config\.json num_hidden_layers is 5, but the checkpoint has 4 blocks \(model\.layers\.0–3\) \[layer-count\]/);
  const j = slayer(bad, '--json');
  assert.equal(j.code, 1);
  const { report } = JSON.parse(j.out) as { report: CheckpointReport };
  assert.equal(report.layers.length, 4);
  assert.deepEqual(report.diagnostics.map((x) => x.code), ['layer-count']);
});

test('--similarity adds the adjacent-block table (and JSON)', () => {
  const r = slayer(good, '--similarity');
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /similarity of adjacent blocks/);
  assert.match(r.out, /blocks +block +mean +q +k +v +o +gate +up +down/);
  assert.equal(r.out.match(/^[0-2]–[1-3] +-?\d\.\d{4}/gm)?.length, 3);
  const gap = slayer(join(dir, 'gap'), '--similarity');
  assert.equal(gap.code, 1);
  assert.match(gap.err, /slayer inspect: similarity not computed: adjacent blocks cannot be paired: block 1 is missing/);
  assert.match(gap.out, /error: block 1 is missing/);
  const { similarity } = JSON.parse(slayer(good, '--similarity', '--json').out) as { similarity: SimilarityReport };
  assert.equal(similarity.pairs.length, 3);
  assert.ok(similarity.pairs.every((p) => p.tensors.length === 7 && Math.abs(p.blockCosine!) < 0.5));
});

test('localhost:/path goes through the one-command remote scan and reports the same', () => {
  const local = JSON.parse(slayer(good, '--json').out) as { report: CheckpointReport };
  const r = slayer(`localhost:${good}`, '--json');
  assert.equal(r.code, 0, r.err);
  const remote = JSON.parse(r.out) as { report: CheckpointReport };
  assert.deepEqual({ ...remote.report, dir: good }, local.report);
  assert.equal(slayer(`localhost:${good}`, '--similarity').code, 2);
});

test('usage errors exit 2; a broken file is a diagnostic, not a crash', () => {
  assert.equal(slayer().code, 2);
  assert.equal(slayer(good, '--bogus').code, 2);
  assert.match(slayer('--help').out, /usage: slayer inspect/);
  writeFileSync(join(dir, 'junk.safetensors'), 'not a safetensors file at all');
  const r = slayer(dir);
  assert.equal(r.code, 1);
  assert.match(r.out, /error: .*junk\.safetensors: header length \d+ is larger than the 104857600-byte limit/);
});

const noSshd = missingTools([SSHD, '/usr/bin/ssh']);

describe('slayer inspect HOST:/PATH over a real sshd', { skip: noSshd ?? false, timeout: 60_000 }, () => {
  let sshd: TestSshd;
  before(async () => { sshd = await TestSshd.start(); });
  after(async () => { await sshd?.stop(); });

  test('the remote report equals the local one; a missing path is a clear error', () => {
    const local = JSON.parse(slayer(good, '--json').out) as { report: CheckpointReport };
    const r = slayer(`slayer-test:${good}`, '--json', '--ssh-config', sshd.clientConfig);
    assert.equal(r.code, 0, r.err);
    const remote = JSON.parse(r.out) as { report: CheckpointReport };
    assert.deepEqual({ ...remote.report, dir: good }, local.report);
    const missing = slayer(`slayer-test:${good}-absent`, '--ssh-config', sshd.clientConfig);
    assert.equal(missing.code, 1);
    assert.match(missing.err, /slayer inspect: slayer-test:.*-absent: .*No such file or directory/);
  });
});
