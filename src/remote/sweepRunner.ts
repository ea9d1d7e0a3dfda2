// Dispatching a sweep: every variant is an ordinary run (run.json, named SWEEP-VARIANT) carrying
// the sweep's id, so the group can always be rebuilt from the run records. On a host without a
// scheduler the variants run one after another (each would otherwise compete for the same GPUs);
// on a Slurm host they are submitted together as parallel jobs. A variant that fails — refused by
// the doctor, a failed upload, a crash in training — is recorded as failed and the others go on.
import type { LayerMap } from '../protocol/layerMap';
import type { RunConfig } from '../protocol/runConfig';
import { DoctorError, type DispatchStep, type RunService } from './runService';
import type { RunRecord } from './runStore';
import { newSweepId, saveSweep, variantFigures, type SweepRecord, type SweepVariantRecord } from './sweepStore';

export interface SweepVariantPlan {
  name: string;
  layerMap: LayerMap;
  /** The train set as the variant says it, for the table. */
  train: string;
  runConfig: Omit<RunConfig, 'run_id' | 'sweep'>;
}

export interface SweepRequest {
  host: string;
  /** The plan's sweep name (runs are named NAME-VARIANT). */
  name: string;
  planFile: string | null;
  label?: (variant: string) => string;
  variants: SweepVariantPlan[];
  /** Submit every variant at once (Slurm) instead of one after another. */
  parallel: boolean;
  secrets?: Record<string, string>;
  /** Streams a dispatched run until it is finished (the CLI prints it, the editor's registry follows it). */
  follow(record: RunRecord): Promise<RunRecord>;
  onStep?(variant: string, step: DispatchStep | 'start' | 'end', detail: string): void;
  /** Asked before each variant of a sequential sweep: false stops the sweep there. */
  shouldContinue?(): boolean;
}

/** Runs a sweep to its end; the returned record says, per variant, its run or why it has none. */
export async function runSweep(service: RunService, req: SweepRequest): Promise<SweepRecord> {
  const sweep: SweepRecord = {
    id: newSweepId(), name: req.name, planFile: req.planFile, host: req.host, createdAt: Date.now(), parallel: req.parallel,
    variants: req.variants.map((v, i) => variantFigures(v.name, i, v.layerMap, v.train)),
  };
  const storeDir = service.store.dir;
  saveSweep(storeDir, sweep);
  const step = req.onStep ?? (() => undefined);

  const dispatchOne = async (v: SweepVariantPlan, row: SweepVariantRecord): Promise<RunRecord | null> => {
    step(v.name, 'start', `${req.name}-${v.name}: ${v.layerMap.plan.expand}, train ${v.train}`);
    try {
      const rec = await service.dispatch({
        host: req.host, layerMap: v.layerMap, planFile: req.planFile, name: `${req.name}-${v.name}`,
        label: req.label?.(v.name) ?? `${req.name}-${v.name}: ${v.layerMap.plan.expand}`,
        runConfig: { ...v.runConfig, sweep: { id: sweep.id, name: req.name, variant: v.name, index: row.index } },
        secrets: req.secrets, onStep: (s, detail) => step(v.name, s, detail),
      });
      row.runId = rec.id;
      return rec;
    } catch (e) {
      // A refusal leaves a failed run behind (its record says why); other failures may leave none.
      row.runId = e instanceof DoctorError ? e.runId : findRun(service, sweep.id, v.name)?.id ?? null;
      row.error = (e as Error).message;
      step(v.name, 'end', `${req.name}-${v.name} failed: ${(e as Error).message.split('\n')[0]}`);
      return null;
    } finally {
      saveSweep(storeDir, sweep);
    }
  };
  const followOne = async (v: SweepVariantPlan, rec: RunRecord): Promise<void> => {
    try {
      const end = await req.follow(rec);
      step(v.name, 'end', `${req.name}-${v.name} ${end.state}`);
    } catch (e) {
      step(v.name, 'end', `${req.name}-${v.name}: ${(e as Error).message}`);
    }
  };

  if (req.parallel) {
    const started: [SweepVariantPlan, RunRecord | null][] = [];
    for (const [i, v] of req.variants.entries()) started.push([v, await dispatchOne(v, sweep.variants[i]!)]);
    await Promise.all(started.map(([v, rec]) => (rec ? followOne(v, rec) : Promise.resolve())));
  } else {
    for (const [i, v] of req.variants.entries()) {
      if (req.shouldContinue && !req.shouldContinue()) {
        for (const row of sweep.variants.slice(i)) row.error = 'not started: the sweep was stopped';
        saveSweep(storeDir, sweep);
        break;
      }
      const rec = await dispatchOne(v, sweep.variants[i]!);
      if (rec) await followOne(v, rec);
    }
  }
  return sweep;
}

function findRun(service: RunService, sweepId: string, variant: string): RunRecord | undefined {
  return service.store.list().find((r) => r.sweep?.id === sweepId && r.sweep.variant === variant);
}
