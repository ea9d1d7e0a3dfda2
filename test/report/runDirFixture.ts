// A run directory as the runner leaves it, for the report tests: 10 steps of metrics, a resume that
// repeats steps 6–7, a damaged line, importance for 8 blocks, and the demo plan's LayerMap.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { analyzePlan } from '../../src/core';
import type { ImportanceFile } from '../../src/protocol/runnerEvents';

export const ROOT = join(__dirname, '..', '..');

function metric(seq: number, step: number, loss: number): string {
  return JSON.stringify({ v: 1, t: 1700000000 + seq, run: 'r1', seq, kind: 'metric', stage: 'cpt', step, tokens: step * 512, loss, lr: 1e-3, grad_norm: 1, tokens_per_s: 1000, gpu_mem: null });
}

/** A run directory: 10 steps, a resume that repeats steps 6–7, importance for 8 blocks, the demo plan. */
export function makeRunDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'slayer-report-'));
  const lines: string[] = [];
  let seq = 0;
  for (let s = 0; s < 8; s++) lines.push(metric(seq++, s, 5 - s * 0.1));
  for (let s = 6; s < 10; s++) lines.push(metric(seq++, s, 4 - s * 0.1)); // resumed from the step-6 checkpoint
  lines.push('{"v":1,"kind":"metric"}'); // a damaged line is reported, not fatal
  lines.push(JSON.stringify({ v: 1, t: 1700000100, run: 'r1', seq: seq++, kind: 'done', status: 'succeeded', exit_code: 0 }));
  writeFileSync(join(dir, 'events.jsonl'), `${lines.join('\n')}\n`);
  const plan = readFileSync(join(ROOT, 'examples', 'demo.slayer'), 'utf8');
  const a = analyzePlan(plan, { fileName: join(ROOT, 'examples', 'demo.slayer'), baseDir: join(ROOT, 'examples'), readFile: (p) => readFileSync(p, 'utf8') });
  assert.ok(a.layerMap, 'the demo plan compiles');
  writeFileSync(join(dir, 'layermap.json'), JSON.stringify(a.layerMap));
  const imp: ImportanceFile = {
    v: 1, model: 'tiny', num_layers: 8,
    calibration: { source: 'sample.txt', sequences: 4, tokens: 256, seq_len: 64 },
    baseline_loglik: -5.2,
    angular_all: [0.3, 0.1, 0.12, 0.08, 0.09, 0.1, 0.11, 0.2],
    angular_last: [0.31, 0.11, 0.13, 0.09, 0.1, 0.12, 0.1, 0.25],
    removal_drop: [2, 0.1, 0.2, 0.05, 0.1, 0.1, 0.2, 0.6],
    insert_copy_drop: null, insert_average_drop: null,
  };
  mkdirSync(join(dir, 'out'));
  writeFileSync(join(dir, 'out', 'importance.json'), JSON.stringify(imp));
  return dir;
}
