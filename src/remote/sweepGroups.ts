// How the Runs view shows a host's runs: a sweep's runs under one parent (the sweep, with how many
// variants succeeded, failed or are still to run), every other run on its own. Free of `vscode`
// so the grouping is tested without an editor; runsTreeView.ts draws what this returns.
import type { RunState } from './runStatus';
import type { RunRecord } from './runStore';
import type { SweepRecord } from './sweepStore';

export interface SweepGroup {
  id: string;
  name: string;
  host: string;
  /** The sweep's runs in variant order. */
  runs: RunRecord[];
  /** Variants without a run yet (sequential sweeps) or that never got one, with why. */
  waiting: { name: string; error: string | null }[];
  createdAt: number;
}

export type HostEntry = { kind: 'run'; run: RunRecord } | { kind: 'sweep'; group: SweepGroup };

/**
 * A host's entries, newest first: each sweep where its newest run (or its record) falls, its runs
 * by variant index. The group comes from the runs' own `sweep` field, so a sweep whose record is
 * gone still groups; the record adds the variants that have no run.
 */
export function hostEntries(runs: readonly RunRecord[], host: string, sweeps: readonly SweepRecord[] = []): HostEntry[] {
  const mine = runs.filter((r) => r.host === host);
  const groups = new Map<string, SweepGroup>();
  const entries: { at: number; entry: HostEntry }[] = [];
  for (const r of mine) {
    if (!r.sweep) {
      entries.push({ at: r.createdAt, entry: { kind: 'run', run: r } });
      continue;
    }
    let g = groups.get(r.sweep.id);
    if (!g) {
      g = { id: r.sweep.id, name: r.sweep.name, host, runs: [], waiting: [], createdAt: r.createdAt };
      groups.set(r.sweep.id, g);
    }
    g.runs.push(r);
    g.createdAt = Math.max(g.createdAt, r.createdAt);
  }
  for (const s of sweeps) {
    if (s.host !== host) continue;
    let g = groups.get(s.id);
    if (!g) {
      g = { id: s.id, name: s.name, host, runs: [], waiting: [], createdAt: s.createdAt };
      groups.set(s.id, g);
    }
    const present = new Set(g.runs.map((r) => r.sweep!.variant));
    g.waiting = s.variants.filter((v) => !present.has(v.name) && !(v.runId && mine.some((r) => r.id === v.runId))).map((v) => ({ name: v.name, error: v.error }));
  }
  for (const g of groups.values()) {
    g.runs.sort((a, b) => a.sweep!.index - b.sweep!.index);
    entries.push({ at: g.createdAt, entry: { kind: 'sweep', group: g } });
  }
  return entries.sort((a, b) => b.at - a.at).map((e) => e.entry);
}

const ORDER: RunState[] = ['running', 'uploading', 'queued', 'succeeded', 'failed', 'cancelled', 'lost'];

/** `3 variants · 2 succeeded · 1 failed` (and `· 1 waiting` for variants without a run). */
export function sweepSummary(g: SweepGroup): string {
  const counts = new Map<string, number>();
  for (const r of g.runs) counts.set(r.state, (counts.get(r.state) ?? 0) + 1);
  const waiting = g.waiting.filter((w) => !w.error).length;
  const notRun = g.waiting.length - waiting;
  const parts = ORDER.filter((s) => counts.has(s)).map((s) => `${counts.get(s)} ${s}`);
  if (waiting) parts.push(`${waiting} waiting`);
  if (notRun) parts.push(`${notRun} not run`);
  const total = g.runs.length + g.waiting.length;
  return [`${total} variant${total === 1 ? '' : 's'}`, ...parts].join(' · ');
}

/** The variants that did not succeed (failed, cancelled, lost, never run): what the group flags. */
export function failedVariants(g: SweepGroup): string[] {
  return [
    ...g.runs.filter((r) => r.state === 'failed' || r.state === 'cancelled' || r.state === 'lost').map((r) => r.sweep!.variant),
    ...g.waiting.filter((w) => w.error).map((w) => w.name),
  ];
}
