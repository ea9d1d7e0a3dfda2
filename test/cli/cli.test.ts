// The CLI spawned as a real process, as users and CI call it.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validateLayerMap } from '../../src/protocol/layerMap';

const root = join(__dirname, '..', '..');
const slayer = (...args: string[]): { code: number | null; out: string; err: string } => {
  const r = spawnSync(process.execPath, [join(root, 'bin', 'slayer.js'), ...args], { encoding: 'utf8', cwd: root });
  return { code: r.status, out: r.stdout, err: r.stderr };
};

before(() => {
  const r = spawnSync(process.execPath, [join(root, 'scripts', 'build.mjs')], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
});

test('slayer compile prints a valid LayerMap for the paper plan', () => {
  const r = slayer('compile', 'examples/slayer-8b.slayer');
  assert.equal(r.code, 0, r.err);
  const map = validateLayerMap(JSON.parse(r.out));
  assert.equal(map.result.numLayers, 38);
  assert.deepEqual(map.deleted, [30, 31]);
  assert.equal(map.params.total, 7_952_715_776);
  assert.equal(map.params.trainable, 1_952_522_240);
  assert.deepEqual(map.blocks.filter((b) => b.trainable).map((b) => b.index), [2, 5, 8, 11, 14, 17, 20, 23, 37]);
});

test('slayer check prints file:line:col: severity: message and exits 1 on errors', () => {
  const dir = mkdtempSync(join(tmpdir(), 'slayer-cli-'));
  const bad = join(dir, 'bad.slayer');
  writeFileSync(bad, 'model meta-llama/Llama-2-7b-hf\nexpand (2+1)x8 | 1q3\nmodle x\n');
  const r = slayer('check', bad, 'examples/llama-pro.slayer');
  assert.equal(r.code, 1);
  const lines = r.out.trim().split('\n');
  assert.deepEqual(lines, [
    `${bad}:2:19: error: unexpected "q3" after the segment "1" [SL021]`,
    `${bad}:3:1: error: unknown key "modle"; did you mean "model"? [SL002]`,
  ]);
  const ok = slayer('check', 'examples/slayer-8b.slayer', 'examples/llama-pro.slayer');
  assert.equal(ok.code, 0, ok.out + ok.err);
  assert.equal(ok.out, '');
  // --verbose adds hints: the paper's implied deletion (room for the final block) is none.
  const verbose = slayer('check', '--verbose', 'examples/slayer-8b.slayer');
  assert.equal(verbose.out, '');
  const hinted = join(dir, 'hinted.slayer');
  writeFileSync(hinted, 'model meta-llama/Llama-2-7b-hf\nexpand (4+1)x7 | 2\ntrain new, head\n');
  assert.match(slayer('check', '--verbose', hinted).out, /hinted.slayer:2:8: hint: the segments cover 30 of 32 blocks, so the deepest 2 \(blocks 30–31\) are deleted \[SL023\]/);
});

test('slayer explain shows every block with 0-based and paper 1-based sources, and the totals', () => {
  const r = slayer('explain', 'examples/slayer-8b.slayer');
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /^2\s+new\s+mean\(1 \(2\), 2 \(3\)\)\s+average\s+o_proj, down_proj\s+yes$/m);
  assert.match(r.out, /^37\s+final\s+mean\(29 \(30\), 30 \(31\), 31 \(32\)\)\s+final-average\s+—\s+yes$/m);
  assert.match(r.out, /depth {4}32 \+ 8 new − 2 deleted = 38 blocks/);
  assert.match(r.out, /total 7,952,715,776/);
  assert.match(r.out, /with the head 1,952,522,240/);
});

test('a local model directory relative to the plan file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'slayer-cli-'));
  mkdirSync(join(dir, 'tiny'));
  writeFileSync(join(dir, 'tiny', 'config.json'), JSON.stringify({ model_type: 'llama', hidden_size: 64, intermediate_size: 128, num_hidden_layers: 6, num_attention_heads: 4, num_key_value_heads: 2, vocab_size: 256, torch_dtype: 'float32' }));
  writeFileSync(join(dir, 'plan.slayer'), 'model ./tiny\nexpand (1+1)x2 | 2 | 1◇\n');
  const r = slayer('compile', join(dir, 'plan.slayer'));
  assert.equal(r.code, 0, r.err);
  const map = validateLayerMap(JSON.parse(r.out));
  assert.equal(map.plan.model, join(dir, 'tiny'));
  assert.equal(map.result.numLayers, 7);
});

test('usage errors and unknown commands exit 2', () => {
  assert.equal(slayer().code, 2);
  assert.equal(slayer('frobnicate').code, 2);
  assert.equal(slayer('compile').code, 2);
  assert.equal(slayer('--help').code, 0);
});

test('slayer run refuses bad phases, datasets and step caps before touching any host', () => {
  const bad = (args: string[], message: RegExp): void => {
    const r = slayer('run', 'examples/demo.slayer', '--on', 'localhost', ...args, '--store', mkdtempSync(join(tmpdir(), 'slayer-store-')));
    assert.equal(r.code, 2, r.err);
    assert.match(r.err, message);
  };
  bad(['--phases', 'doctor,fly'], /unknown phase "fly" \(phases: doctor, surgery, importance, train, eval\)/);
  bad(['--data', 'nopath'], /--data needs NAME=PATH, got "nopath"/);
  bad(['--max-steps', '0'], /--max-steps takes a whole number ≥ 1, got "0"/);
});
