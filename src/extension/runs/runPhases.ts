// Which phases a run does, chosen per run in a quick pick and remembered per plan. Layer
// importance is offered ticked while the plan's model has no measurement yet, so the Importance
// view fills after the first run.
import * as vscode from 'vscode';
import type { RunPhase } from '../../protocol/runConfig';
import { defaultPhases, normalizePhases, PHASE_ORDER } from '../../remote/phaseChoice';

export { modelHasMeasurement, normalizePhases } from '../../remote/phaseChoice';

const PHASE_TEXT: Record<RunPhase, string> = {
  doctor: 'check versions, devices, memory and disk inside the run',
  surgery: 'build the expanded model (new blocks, deletions, final block)',
  importance: 'measure layer importance of the base model (the Importance view)',
  train: 'train the trainable blocks on the plan\'s stages',
  eval: 'evaluate base and trained models on the plan\'s eval section (the Evaluation view)',
};

const memoryKey = (planFile: string | null) => `slayer.phases:${planFile ?? '(no plan file)'}`;

export async function pickPhases(memento: vscode.Memento, planFile: string | null, measured: boolean, hasEval = false): Promise<RunPhase[] | undefined> {
  const remembered = memento.get<RunPhase[]>(memoryKey(planFile));
  const initial = new Set(remembered ?? defaultPhases(measured, hasEval));
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
