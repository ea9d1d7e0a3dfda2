// `slayer suggest` spawned as a real process: from a run's importance.json and from a real
// checkpoint on disk (weights built so that the distance between adjacent blocks is known), the
// expected placement computed here from the strategies' definitions, and the suggested plan
// re-checked by `slayer check`.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { writeCheckpoint } from '../../helpers/safetensorsWriter';
import { validateImportanceFile } from '../../../src/protocol/runnerEvents';
import { llamaBlock, llamaConfig, tempDir, type LlamaDims } from '../../modelfiles/helpers';

const root = join(__dirname, '..', '..', '..');
const slayer = (...args: string[]): { code: number | null; out: string; err: string } => {
  const r = spawnSync(process.execPath, [join(root, 'bin', 'slayer.js'), ...args], { encoding: 'utf8', cwd: root });
  return { code: r.status, out: r.stdout, err: r.stderr };
};
const FIXTURE = join(root, 'test', 'fixtures', 'webview', 'importance.tiny32.json');

before(() => {
  const r = spawnSync(process.execPath, [join(root, 'scripts', 'build.mjs')], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
});

interface SuggestionJson { expand: string; insertAfter: { block: number; count: number }[]; deleted: number[]; final: number | null; depth: number; newCount: number; params: { trainable: number; perBlock: number }; metric: string }

describe('slayer suggest', () => {
  const dir = tempDir('slayer-suggest-');

  it('from importance.json and a plan: the plan\'s budget, the least important deep blocks deleted, a plan that checks clean', () => {
    const file = validateImportanceFile(JSON.parse(readFileSync(FIXTURE, 'utf8')));
    const plan = join(dir, 'pro.slayer');
    writeFileSync(plan, 'model meta-llama/Llama-2-7b-hf\nexpand (4+1)x8\n');
    const r = slayer('suggest', plan, '--importance', FIXTURE, '--delete', '2', '--json');
    assert.equal(r.code, 0, r.err);
    const s = JSON.parse(r.out) as SuggestionJson;
    // The budget is the plan's 8 new blocks; slayer interleaves them after every 2nd shallow block.
    assert.deepEqual(s.insertAfter, [1, 3, 5, 7, 9, 11, 13, 15].map((block) => ({ block, count: 1 })));
    // removal_drop (measured) is the default metric; the two lowest of the deepest quarter (24–31) go.
    assert.equal(s.metric, 'removal_drop');
    const window = [24, 25, 26, 27, 28, 29, 30, 31];
    const lowest = [...window].sort((a, b) => file.removal_drop![a]! - file.removal_drop![b]! || b - a).slice(0, 2).sort((a, b) => a - b);
    assert.deepEqual(s.deleted, lowest);
    assert.equal(s.depth, 32 + 8 - 2);
    const text = slayer('suggest', plan, '--importance', FIXTURE, '--delete', '2');
    assert.equal(text.code, 0, text.err);
    assert.match(text.out, /new {6}after base blocks, 0-based \(paper 1-based\): 1 \(2\), 3 \(4\)/);
    assert.ok(text.out.includes(`deleted  0-based (paper 1-based): ${lowest.map((b) => `${b} (${b + 1})`).join(', ')}`), text.out);
    assert.match(text.out, /apply {4}replace the expand line/);
    // The fixture measured a random model of that shape at /tmp/wv-tiny32: the user is told.
    assert.match(text.err, /warning: the measurement is of \/tmp\/wv-tiny32, not of the plan's model meta-llama\/Llama-2-7b-hf/);
    writeFileSync(plan, `model meta-llama/Llama-2-7b-hf\nexpand ${s.expand}\n`);
    const check = slayer('check', plan);
    assert.equal(check.code, 0, check.out + check.err);
  });

  it('from a checkpoint: the weight distance of adjacent blocks picks where new blocks go and which are deleted', async () => {
    // Every matrix of block i is cos θᵢ·U + sin θᵢ·V with U, V orthogonal of equal norm, so the
    // cosine of blocks i and i + 1 is cos(θᵢ₊₁ − θᵢ) and their angular distance |θᵢ₊₁ − θᵢ|/π.
    const d: LlamaDims = { layers: 8, hidden: 8, intermediate: 16, heads: 2, kvHeads: 2, vocab: 16 };
    const steps = [0.5, 0.1, 0.4, 0.2, 0.3, 0.05, 0.02]; // θᵢ₊₁ − θᵢ, in units of π
    const theta = steps.reduce((t, s) => [...t, t[t.length - 1]! + s * Math.PI], [0]);
    const ckpt = join(dir, 'tiny8');
    const tensors = Array.from({ length: d.layers }, (_, i) => llamaBlock(d, i, 'F32', (n) => {
      const x = new Float32Array(n);
      for (let k = 0; k < n; k++) x[k] = k % 2 === 0 ? Math.cos(theta[i]!) : Math.sin(theta[i]!);
      return new Uint8Array(x.buffer);
    })).flat();
    await writeCheckpoint(ckpt, [tensors], llamaConfig(d, 'float32'));
    const r = slayer('suggest', '--checkpoint', ckpt, '--budget', '2', '--strategy', 'importance', '--delete', 'auto', '--json');
    assert.equal(r.code, 0, r.err);
    const s = JSON.parse(r.out) as SuggestionJson;
    // Block i scores step i (the last block takes its predecessor's); the shallow half is blocks 0–3,
    // whose two largest steps are blocks 0 (0.5) and 2 (0.4).
    const score = [...steps, steps[steps.length - 1]!];
    const shallow = [0, 1, 2, 3].sort((a, b) => score[b]! - score[a]!).slice(0, 2).sort((a, b) => a - b);
    assert.deepEqual(s.insertAfter.map((x) => x.block), shallow);
    // auto (threshold 0.05 of the range): of the deepest quarter (6, 7), those within 0.05 of the minimum.
    const lo = Math.min(...score);
    const hi = Math.max(...score);
    assert.deepEqual(s.deleted, [6, 7].filter((b) => (score[b]! - lo) / (hi - lo) <= 0.05));
    assert.equal(s.final, 5, 'the deepest blocks go, so block 5 becomes the updated final block');
    assert.equal(s.depth, 8 + 2 - 2);
    assert.match(r.err, /weight similarity of .*tiny8/);
    const plan = join(dir, 'tiny.slayer');
    writeFileSync(plan, `model ./tiny8\nexpand ${s.expand}\n`);
    assert.equal(slayer('check', plan).code, 0);
  });

  it('says what is wrong, with exit 2 for usage and 1 for a request it cannot meet', () => {
    const usage = slayer('suggest', '--budget', '8');
    assert.equal(usage.code, 2);
    assert.match(usage.err, /give one of --importance FILE or --checkpoint DIR/);
    assert.equal(slayer('suggest', '--importance', FIXTURE, '--budget', '8', '--strategy', 'middle').code, 2);
    const elsewhere = join(dir, 'elsewhere.json');
    writeFileSync(elsewhere, JSON.stringify({ ...JSON.parse(readFileSync(FIXTURE, 'utf8')), model: join(dir, 'no-such-model') }));
    const noModel = slayer('suggest', '--importance', elsewhere, '--budget', '8');
    assert.equal(noModel.code, 1);
    assert.match(noModel.err, /measured model ".*no-such-model" is neither in the catalogue nor a directory with config.json here; name the model with --model/);
    const tooMany = slayer('suggest', '--importance', FIXTURE, '--model', 'meta-llama/Llama-2-7b-hf', '--budget', '8', '--delete', '9');
    assert.equal(tooMany.code, 1);
    assert.match(tooMany.err, /deepest quarter, 8 of 32 blocks/);
    assert.match(slayer('suggest', '--help').out, /--strategy {4}slayer \(the paper/);
  });
});
