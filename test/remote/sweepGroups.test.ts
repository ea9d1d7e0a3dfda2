// The Runs view's grouping of a host's runs (what runsTreeView.ts draws): a sweep's runs under one
// parent in variant order, placed by its newest run among the other runs, with the variants that
// have no run (waiting, or never started and why); the sweep table's rows for the same group.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { RunState } from '../../src/remote/runStatus';
import { RunStore, type RunRecord } from '../../src/remote/runStore';
import { failedVariants, hostEntries, sweepSummary } from '../../src/remote/sweepGroups';
import { findSweep, listSweeps, saveSweep, type SweepRecord } from '../../src/remote/sweepStore';
import { buildSweepTable, renderSweepTable } from '../../src/report/sweepTable';

const SWEEP = 's-20261205-100000-abcdef';

function run(id: string, createdAt: number, state: RunState, sweep?: { variant: string; index: number }, host = 'gpu1'): RunRecord {
  return {
    id, label: id, host, planFile: '/ws/p.slayer', remoteDir: `~/runs/${id}`, scheduler: 'none', jobId: null, pid: null, state, createdAt,
    startedAt: createdAt, finishedAt: null, exitCode: null, lastStep: null, lastLoss: null, etaS: null, message: null, name: id,
    ...(sweep ? { sweep: { id: SWEEP, name: 'placement', ...sweep } } : {}),
  };
}

const record = (variants: { name: string; runId: string | null; error?: string }[]): SweepRecord => ({
  id: SWEEP, name: 'placement', planFile: '/ws/p.slayer', host: 'gpu1', createdAt: 15, parallel: false,
  variants: variants.map((v, index) => ({ name: v.name, index, expand: '(1+1)x2', train: 'new', blocks: 6, total: 1000, trainable: 200, runId: v.runId, error: v.error ?? null })),
});

test('a host\'s runs: the sweep is one entry, its runs in variant order, placed by its newest run', () => {
  // Newest first, as the registry lists them; the sweep's variants started out of index order on Slurm.
  const runs = [
    run('r-later', 40, 'running'),
    run('r-top', 30, 'failed', { variant: 'top', index: 2 }),
    run('r-inter', 20, 'succeeded', { variant: 'interleaved', index: 0 }),
    run('r-other-host', 25, 'succeeded', undefined, 'gpu2'),
    run('r-bottom', 25, 'succeeded', { variant: 'bottom', index: 1 }),
    run('r-first', 10, 'succeeded'),
  ];
  const entries = hostEntries(runs, 'gpu1', [record([{ name: 'interleaved', runId: 'r-inter' }, { name: 'bottom', runId: 'r-bottom' }, { name: 'top', runId: 'r-top' }, { name: 'last2', runId: null }])]);
  assert.deepEqual(entries.map((e) => (e.kind === 'run' ? e.run.id : `sweep ${e.group.name}`)), ['r-later', 'sweep placement', 'r-first']);
  const group = entries[1]!.kind === 'sweep' ? entries[1]!.group : null;
  assert.ok(group);
  assert.deepEqual(group.runs.map((r) => r.sweep!.variant), ['interleaved', 'bottom', 'top']);
  assert.deepEqual(group.waiting, [{ name: 'last2', error: null }]);
  assert.equal(sweepSummary(group), '4 variants · 2 succeeded · 1 failed · 1 waiting');
  assert.deepEqual(failedVariants(group), ['top']);
  // Another host sees nothing of it.
  assert.deepEqual(hostEntries(runs, 'gpu2', []).map((e) => e.kind === 'run' && e.run.id), ['r-other-host']);
});

test('without its record a sweep still groups by its runs; a variant never started says why', () => {
  const runs = [run('r-b', 20, 'succeeded', { variant: 'b', index: 1 }), run('r-a', 10, 'cancelled', { variant: 'a', index: 0 })];
  const [only] = hostEntries(runs, 'gpu1');
  assert.ok(only?.kind === 'sweep');
  assert.deepEqual(only.group.runs.map((r) => r.id), ['r-a', 'r-b']);
  assert.equal(sweepSummary(only.group), '2 variants · 1 succeeded · 1 cancelled');
  const stopped = record([{ name: 'a', runId: 'r-a' }, { name: 'b', runId: 'r-b' }, { name: 'c', runId: null, error: 'not started: the sweep was stopped' }]);
  const [again] = hostEntries(runs, 'gpu1', [stopped]);
  assert.ok(again?.kind === 'sweep');
  assert.equal(sweepSummary(again.group), '3 variants · 1 succeeded · 1 cancelled · 1 not run');
  assert.deepEqual(failedVariants(again.group), ['a', 'c']);
});

test('sweep records persist in the run store; the table lists every variant, run or not', () => {
  const dir = mkdtempSync(join(tmpdir(), 'slayer-sweeps-'));
  try {
    const store = new RunStore(dir);
    const rec = record([{ name: 'interleaved', runId: 'r-inter' }, { name: 'top', runId: null, error: 'upload failed' }]);
    saveSweep(dir, rec);
    saveSweep(dir, { ...rec, id: 's-20261205-110000-000000', createdAt: 99 });
    assert.deepEqual(listSweeps(dir).map((s) => s.id), ['s-20261205-110000-000000', SWEEP]);
    assert.equal(findSweep(dir, 'placement')!.id, 's-20261205-110000-000000', 'a name finds its newest sweep');
    assert.equal(findSweep(dir, SWEEP)!.createdAt, 15);
    assert.throws(() => saveSweep(dir, { ...rec, id: '../x' }), /bad sweep id/);
    store.put(run('r-inter', 20, 'succeeded', { variant: 'interleaved', index: 0 }));
    const table = buildSweepTable(rec, (id) => (store.get(id) ? { record: store.get(id)!, events: [] } : undefined));
    assert.deepEqual(table.rows, [
      ['interleaved', '(1+1)x2', 'new', '6', '200', 'succeeded', ''],
      ['top', '(1+1)x2', 'new', '6', '200', 'not run', ''],
    ]);
    assert.equal(renderSweepTable(table, 'csv'), 'variant,expansion,train,blocks,trainable,state,final loss\ninterleaved,(1+1)x2,new,6,200,succeeded,\ntop,(1+1)x2,new,6,200,not run,\n');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
