// Issue 14's hostile inputs through the real CLI process, with resource bounds: each must end with
// a clear message (position or path, and the limit) in a few seconds and under a few hundred MB of
// peak RSS. The originals: 89 s and 4.6 GB then a V8 abort; SIGTRAP on "invalid size"; "Maximum
// call stack size exceeded"; 25 s and 2.15 GB on a sparse config.json; hangs on FIFOs; EISDIR.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { runSlayer, ROOT, type BoundedResult } from '../helpers/boundedCli';

// CPU time is the bound (a shared CI machine may make wall time anything); a hang is caught by the
// wall-clock kill in runSlayer (60 s), which leaves a signal.
const CPU_BOUND_MS = 10_000;
const RSS_BOUND_MB = 400;
let dir: string;

before(() => {
  const r = spawnSync(process.execPath, [join(ROOT, 'scripts', 'build.mjs')], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  dir = mkdtempSync(join(tmpdir(), 'slayer-hostile-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

function withinBounds(r: BoundedResult): void {
  assert.equal(r.signal, null, `killed by ${r.signal} after ${r.ms} ms; stderr: ${r.err.slice(0, 500)}`);
  assert.ok(r.cpuMs < CPU_BOUND_MS, `used ${r.cpuMs.toFixed(0)} ms of CPU (bound ${CPU_BOUND_MS}), ${r.ms} ms wall`);
  assert.ok(r.maxRssMb < RSS_BOUND_MB, `peak RSS ${r.maxRssMb.toFixed(0)} MB (bound ${RSS_BOUND_MB})`);
}

function plan(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

const mkfifo = (p: string): void => {
  const r = spawnSync('mkfifo', [p]);
  assert.equal(r.status, 0, String(r.stderr));
};

test('case 1: slayer check on expand (1+999999999) and (0+999999999)x999999999', async () => {
  for (const expr of ['(1+999999999)', '(0+999999999)x999999999']) {
    const p = plan('repeat.slayer', `model meta-llama/Llama-2-7b-hf\nexpand ${expr}\n`);
    const r = await runSlayer(['check', p]);
    withinBounds(r);
    assert.equal(r.code, 1);
    assert.match(r.out, new RegExp(`${p}:2:(10|11|22|23): error: 999999999 is too large: a count in an expansion is at most 4,096 \\(see docs/limits.md\\) \\[SL021\\]`));
  }
});

test('case 2: a config.json with num_hidden_layers 999999999 or 1e15', async () => {
  for (const n of ['999999999', '1e15']) {
    const m = join(dir, `m-${n}`);
    mkdirSync(m, { recursive: true });
    writeFileSync(join(m, 'config.json'), JSON.stringify({ model_type: 'llama', hidden_size: 64, intermediate_size: 128, num_attention_heads: 4, vocab_size: 100 }).replace('}', `,"num_hidden_layers":${n}}`));
    const p = plan('cfg.slayer', `model ./m-${n}\nexpand (2+1)x8 | 13 | 1◇\n`);
    const r = await runSlayer(['check', p]);
    withinBounds(r);
    assert.equal(r.code, 1);
    assert.match(r.out, new RegExp(`cfg.slayer:1:7: error: .*/m-${n}/config.json: config.json "num_hidden_layers" is (999,999,999|1e\\+15), too large: at most 4,096 is accepted`));
  }
});

test('case 3: 200,000 "|" on one line', async () => {
  const p = plan('bars.slayer', `model meta-llama/Llama-2-7b-hf\nexpand ${'|'.repeat(200_000)}\n`);
  const r = await runSlayer(['check', p]);
  withinBounds(r);
  assert.equal(r.code, 1);
  const lines = r.out.trim().split('\n');
  assert.equal(lines.length, 20);
  assert.match(lines[19]!, /199,981 more problems in this expansion are not shown \(at most 20 per line\) \[SL021\]$/);
  assert.doesNotMatch(r.err, /cannot read|Maximum call stack/);
});

test('case 6: a 2 GB sparse config.json is "too large", read not at all', async () => {
  const m = join(dir, 'sparse');
  mkdirSync(m, { recursive: true });
  const fd = openSync(join(m, 'config.json'), 'w');
  closeSync(fd);
  spawnSync('truncate', ['-s', '2G', join(m, 'config.json')]);
  const p = plan('sparse.slayer', 'model ./sparse\nexpand (2+1)x8 | 13 | 1◇\n');
  const r = await runSlayer(['check', p]);
  withinBounds(r);
  assert.equal(r.code, 1);
  assert.match(r.out, /sparse.slayer:1:7: error: .*\/sparse\/config.json: is 2.0 GiB, too large: at most 4.0 MiB is read \(see docs\/limits.md\) \[SL012\]/);
  const i = await runSlayer(['inspect', m]);
  withinBounds(i);
  assert.match(i.out, /config.json is 2.0 GiB, too large/);
});

test('case 7: a FIFO as a shard or as config.json; slayer inspect answers at once', async () => {
  const m = join(dir, 'fifo-shard');
  mkdirSync(m, { recursive: true });
  mkfifo(join(m, 'model.safetensors'));
  const r = await runSlayer(['inspect', m]);
  withinBounds(r);
  assert.equal(r.code, 1);
  assert.match(r.out, /error: .*fifo-shard\/model.safetensors: a FIFO, not a regular file \[checkpoint\]/);
  const c = join(dir, 'fifo-config');
  mkdirSync(c, { recursive: true });
  mkfifo(join(c, 'config.json'));
  const p = plan('fifo.slayer', 'model ./fifo-config\nexpand (2+1)x8\n');
  const k = await runSlayer(['check', p]);
  withinBounds(k);
  assert.match(k.out, /fifo.slayer:1:7: error: .*\/fifo-config\/config.json: is a FIFO, not a regular file \[SL012\]/);
  mkfifo(join(dir, 'plan-fifo.slayer'));
  const f = await runSlayer(['check', join(dir, 'plan-fifo.slayer')]);
  withinBounds(f);
  assert.match(f.err, /plan-fifo.slayer: cannot read: is a FIFO, not a regular file/);
});

test('case 7: slayer report on an events.jsonl that is a FIFO', async () => {
  const run = join(dir, 'run-fifo');
  mkdirSync(run, { recursive: true });
  mkfifo(join(run, 'events.jsonl'));
  const r = await runSlayer(['report', run]);
  withinBounds(r);
  assert.equal(r.code, 1);
  assert.equal(r.err, `slayer report: ${run}/events.jsonl is a FIFO, not a regular file\n`);
});

test('case 10: slayer report on a directory named events.jsonl says so (no EISDIR)', async () => {
  const run = join(dir, 'run-dir');
  mkdirSync(join(run, 'events.jsonl'), { recursive: true });
  const r = await runSlayer(['report', run]);
  withinBounds(r);
  assert.equal(r.code, 1);
  assert.equal(r.err, `slayer report: ${run}/events.jsonl is a directory, not a regular file\n`);
});

test('case 12: absurd stage and run values through slayer check', async () => {
  const p = plan('absurd.slayer', 'model meta-llama/Llama-2-7b-hf\nexpand (2+1)x8 | 13 | 1◇\nstage cpt\n  data web\n  epochs 1e300\n  steps 99999999999999999999999\nrun on localhost gpus 99999999999999 gpu-memory 0GB\n');
  const r = await runSlayer(['check', p]);
  withinBounds(r);
  assert.deepEqual(r.out.trim().split('\n').map((l) => l.slice(p.length + 1)), [
    '5:10: error: epochs 1e300 is too large: at most 1,000 (see docs/limits.md) [SL042]',
    '6:9: error: steps 99999999999999999999999 is too large: at most 1,000,000,000 (see docs/limits.md) [SL042]',
    '7:23: error: gpus 99999999999999 is too large: at most 65,536 (see docs/limits.md) [SL042]',
    '7:49: error: gpu-memory 0GB is no memory at all: give the memory of one GPU, such as 80GB [SL042]',
  ]);
});
