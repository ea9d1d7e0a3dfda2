// Which phases a run does: the runner's order, the default for a plan (layer importance while its
// model has no measurement yet) and the rule that training brings surgery. Pure; the editor's
// quick pick (src/extension/runs/runPhases.ts) builds on it.
import { RUN_PHASES, type RunPhase } from '../protocol/runConfig';
import type { RunRecord } from './runStore';

/** The order the runner runs them in (the run.json schema's phase list). */
export const PHASE_ORDER: readonly RunPhase[] = RUN_PHASES;

/** True when an earlier run of the same model measured (or is measuring) its layer importance. */
export function modelHasMeasurement(model: string, runs: readonly RunRecord[], hasImportanceEvents: (runId: string) => boolean): boolean {
  return runs.some((r) => r.model === model && (r.phases ?? []).includes('importance') && r.state !== 'failed' && hasImportanceEvents(r.id));
}

/** Doctor, surgery, train; importance too while the model has no measurement; eval when the plan has an eval section. */
export function defaultPhases(measured: boolean, hasEval = false): RunPhase[] {
  return PHASE_ORDER.filter((p) => (p !== 'importance' || !measured) && (p !== 'eval' || hasEval));
}

/** Puts phases in the runner's order; training needs the expanded model, so it brings surgery. */
export function normalizePhases(picked: readonly RunPhase[]): RunPhase[] {
  const set = new Set(picked);
  if (set.has('train')) set.add('surgery');
  return PHASE_ORDER.filter((p) => set.has(p));
}
