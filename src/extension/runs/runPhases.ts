// Which phases a run does, chosen per run in a quick pick and remembered per plan. Layer
// importance is offered ticked while the plan's model has no measurement yet, so the Importance
// view fills after the first run.
import * as vscode from 'vscode';
import type { RunPhase } from '../../protocol/runConfig';
import type { RunRecord } from '../../remote/runStore';

/** The order the runner runs them in. */
export const PHASE_ORDER: readonly RunPhase[] = ['doctor', 'surgery', 'importance', 'train'];

const PHASE_TEXT: Record<RunPhase, string> = {
  doctor: 'check versions, devices, memory and disk inside the run',
  surgery: 'build the expanded model (new blocks, deletions, final block)',
  importance: 'measure layer importance of the base model (the Importance view)',
  train: 'train the trainable blocks on the plan\'s stages',
};

const memoryKey = (planFile: string | null) => `slayer.phases:${planFile ?? '(no plan file)'}`;

/** True when an earlier run of the same model measured (or is measuring) its layer importance. */
export function modelHasMeasurement(model: string, runs: readonly RunRecord[], hasImportanceEvents: (runId: string) => boolean): boolean {
  return runs.some((r) => r.model === model && (r.phases ?? []).includes('importance') && r.state !== 'failed' && hasImportanceEvents(r.id));
}

/** Doctor, surgery, train; importance too while the model has no measurement. */
export function defaultPhases(measured: boolean): RunPhase[] {
  return PHASE_ORDER.filter((p) => p !== 'importance' || !measured);
}

/** Puts phases in the runner's order; training needs the expanded model, so it brings surgery. */
export function normalizePhases(picked: readonly RunPhase[]): RunPhase[] {
  const set = new Set(picked);
  if (set.has('train')) set.add('surgery');
  return PHASE_ORDER.filter((p) => set.has(p));
}

export async function pickPhases(memento: vscode.Memento, planFile: string | null, measured: boolean): Promise<RunPhase[] | undefined> {
  const remembered = memento.get<RunPhase[]>(memoryKey(planFile));
  const initial = new Set(remembered ?? defaultPhases(measured));
  const items = PHASE_ORDER.map((p) => ({
    label: p, phase: p, picked: initial.has(p),
    description: PHASE_TEXT[p] + (p === 'importance' && !measured ? ' · not measured for this model yet' : ''),
  }));
  const picked = await vscode.window.showQuickPick(items, {
    canPickMany: true, title: 'SLayer: phases of this run',
    placeHolder: 'Enter runs the ticked phases (remembered for this plan)',
  });
  if (!picked) return undefined;
  const phases = normalizePhases(picked.map((i) => i.phase));
  if (!phases.length) return undefined;
  await memento.update(memoryKey(planFile), phases);
  return phases;
}
