// A sweep's record in the run store: DIR/sweeps/ID.json, written before its first variant is
// dispatched and after each, so a variant that never got a run (its upload failed, the sweep was
// stopped before its turn) still shows in the group, with why. The runs themselves are ordinary
// records carrying `sweep: { id, name, variant, index }`; this file adds the variants' plan
// figures (expansion, depth, trainable parameters) that the sweep table prints.
import { mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { LayerMap } from '../protocol/layerMap';

export const SWEEP_ID_PATTERN = /^s-[A-Za-z0-9._-]{1,120}$/;
const SWEEP_RECORD_VERSION = 1;

export interface SweepVariantRecord {
  name: string;
  index: number;
  /** Canonical expansion of the variant (`32` for a control without new blocks). */
  expand: string;
  /** The train set as the variant says it (`new, final`, `last 4`, `all`). */
  train: string;
  blocks: number;
  total: number;
  trainable: number;
  /** The variant's run, once dispatched. */
  runId: string | null;
  /** Why the variant has no run (dispatch failed, sweep stopped); null otherwise. */
  error: string | null;
}

export interface SweepRecord {
  id: string;
  name: string;
  planFile: string | null;
  host: string;
  createdAt: number;
  /** Variants run at once (Slurm jobs) or one after another on the host. */
  parallel: boolean;
  variants: SweepVariantRecord[];
}

export function newSweepId(now = new Date()): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `s-${now.getUTCFullYear()}${p(now.getUTCMonth() + 1)}${p(now.getUTCDate())}-${p(now.getUTCHours())}${p(now.getUTCMinutes())}${p(now.getUTCSeconds())}-${randomBytes(3).toString('hex')}`;
}

/** A variant's figures from its compiled plan. */
export function variantFigures(name: string, index: number, layerMap: LayerMap, train: string): SweepVariantRecord {
  return {
    name, index, expand: layerMap.plan.expand, train, blocks: layerMap.result.numLayers,
    total: layerMap.params.total, trainable: layerMap.params.trainable, runId: null, error: null,
  };
}

const sweepsDir = (storeDir: string): string => join(storeDir, 'sweeps');

export function saveSweep(storeDir: string, sweep: SweepRecord): void {
  if (!SWEEP_ID_PATTERN.test(sweep.id)) throw new Error(`bad sweep id ${JSON.stringify(sweep.id)}`);
  mkdirSync(sweepsDir(storeDir), { recursive: true });
  const file = join(sweepsDir(storeDir), `${sweep.id}.json`);
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify({ v: SWEEP_RECORD_VERSION, sweep }, null, 1));
  renameSync(tmp, file);
}

/** Every readable sweep record, newest first. */
export function listSweeps(storeDir: string): SweepRecord[] {
  let names: string[];
  try {
    names = readdirSync(sweepsDir(storeDir));
  } catch {
    return [];
  }
  const out: SweepRecord[] = [];
  for (const n of names) {
    if (!n.endsWith('.json') || !SWEEP_ID_PATTERN.test(n.slice(0, -5))) continue;
    try {
      const parsed = JSON.parse(readFileSync(join(sweepsDir(storeDir), n), 'utf8')) as { v: number; sweep: SweepRecord };
      if (parsed.v === SWEEP_RECORD_VERSION && parsed.sweep.id === n.slice(0, -5)) out.push(parsed.sweep);
    } catch {
      // being written by another process, or not ours
    }
  }
  return out.sort((a, b) => b.createdAt - a.createdAt);
}

/** A sweep by id, or the newest sweep of that name. */
export function findSweep(storeDir: string, idOrName: string): SweepRecord | undefined {
  const all = listSweeps(storeDir);
  return all.find((s) => s.id === idOrName) ?? all.find((s) => s.name === idOrName);
}
