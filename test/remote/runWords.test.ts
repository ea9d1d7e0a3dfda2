// What a run says in words (loss lines, the closing summary, the end notice) and which phases a
// run proposes, from real records and events (validated by the protocol's own parser).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseEventLine, type RunnerEvent } from '../../src/protocol/runnerEvents';
import { defaultPhases, modelHasMeasurement, normalizePhases } from '../../src/remote/phaseChoice';
import { endMessage, LossLineThrottle, lossLine, runSummaryLines } from '../../src/remote/runSummary';
import { formatDuration } from '../../src/shared/format';
import type { RunRecord } from '../../src/remote/runStore';

const ev = (seq: number, kind: string, fields: Record<string, unknown>): RunnerEvent =>
  parseEventLine(JSON.stringify({ v: 1, t: 1000 + seq, run: 'r-1', seq, kind, ...fields }));
const metric = (seq: number, step: number, loss: number) =>
  ev(seq, 'metric', { stage: 'cpt', step, tokens: step * 512, loss, lr: 0.003, grad_norm: 1, tokens_per_s: 1534, gpu_mem: null });

function record(over: Partial<RunRecord> = {}): RunRecord {
  return {
    id: 'r-1', label: 'demo.slayer · tiny-llama (2+1)x2 | 2 | 1◇', host: 'localhost', planFile: '/ws/demo.slayer',
    remoteDir: '~/.slayer/runs/r-1', scheduler: 'none', jobId: null, pid: 1, state: 'succeeded', createdAt: 0,
    startedAt: 1_000, finishedAt: 73_000, exitCode: 0, lastStep: 300, lastLoss: 1.2, etaS: null, message: null,
    name: 'demo-3', color: 0, model: '/ws/tiny-llama', phases: ['doctor', 'surgery', 'train'], ...over,
  };
}

test('loss lines are throttled per run and say step, loss, lr, throughput and ETA', () => {
  assert.equal(lossLine(metric(0, 120, 2.13421) as never, 40), '[cpt] step 120 · loss 2.1342 · lr 3.0e-3 · 1.5k tok/s · ETA 40s');
  const t = new LossLineThrottle(10_000);
  assert.equal(t.due('a', 0), true);
  assert.equal(t.due('a', 5_000), false);
  assert.equal(t.due('b', 5_000), true, 'each run has its own clock');
  assert.equal(t.due('a', 10_000), true);
  assert.equal(formatDuration(72_000), '1m12s');
});

test('a succeeded run ends with its result, duration, final loss and where the model is', () => {
  const events = [metric(0, 299, 1.5), metric(1, 300, 1.2345), ev(2, 'artifact', { name: 'model', path: 'out/model', bytes: 10 }), ev(3, 'done', { status: 'succeeded', exit_code: 0 })];
  assert.deepEqual(runSummaryLines(record(), events), [
    '── demo-3 succeeded (exit 0) after 1m12s on localhost ──',
    'final loss 1.2345 at step 300 of stage cpt (153.6k tokens)',
    'model: ~/.slayer/runs/r-1/out/model on localhost',
  ]);
  assert.equal(endMessage(record(), events), 'demo-3 succeeded in 1m12s, final loss 1.2345 (step 300)');
});

test('a failed run names its error; a cancelled one with a checkpoint says it can resume', () => {
  const failed = [metric(0, 3, 4), ev(1, 'error', { message: 'RuntimeError: out of memory', where: 'train', traceback: null }), ev(2, 'done', { status: 'failed', exit_code: 1 })];
  const r = record({ state: 'failed', exitCode: 1 });
  assert.match(runSummaryLines(r, failed).join('\n'), /error in train: RuntimeError: out of memory/);
  assert.equal(endMessage(r, failed), 'demo-3 failed in 1m12s, final loss 4.0000 (step 3): RuntimeError: out of memory');
  const cancelled = [metric(0, 8, 3), ev(1, 'log', { level: 'info', msg: 'checkpoint stage0-step00000008' })];
  assert.match(runSummaryLines(record({ state: 'cancelled', exitCode: 143 }), cancelled).at(-1)!, /Resume Run/);
  assert.match(runSummaryLines(record({ name: null }), []).join('\n'), /^── demo\.slayer · tiny-llama/, 'records from before names show their label');
});

test('phases: importance proposed until the model is measured; training brings surgery; runner order', () => {
  assert.deepEqual(defaultPhases(false), ['doctor', 'surgery', 'importance', 'train']);
  assert.deepEqual(defaultPhases(true), ['doctor', 'surgery', 'train']);
  assert.deepEqual(normalizePhases(['train', 'importance']), ['surgery', 'importance', 'train']);
  assert.deepEqual(normalizePhases(['importance']), ['importance']);
  const runs = [
    record({ id: 'a', model: '/m/x', phases: ['importance'], state: 'succeeded' }),
    record({ id: 'b', model: '/m/y', phases: ['importance'], state: 'failed' }),
    record({ id: 'c', model: '/m/z', phases: ['doctor', 'surgery'] }),
  ];
  const measuredIds = new Set(['a', 'b', 'c']);
  assert.equal(modelHasMeasurement('/m/x', runs, (id) => measuredIds.has(id)), true);
  assert.equal(modelHasMeasurement('/m/x', runs, () => false), false, 'no importance events: not measured');
  assert.equal(modelHasMeasurement('/m/y', runs, (id) => measuredIds.has(id)), false, 'a failed run is no measurement');
  assert.equal(modelHasMeasurement('/m/z', runs, (id) => measuredIds.has(id)), false, 'importance was not among its phases');
});
