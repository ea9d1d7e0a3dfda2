// Whether a layer-importance measurement was made on the plan's model, so the plan may be drawn
// over it. Depth alone is not enough (every 32-block Llama has 32 blocks): the model's name must
// match too — a Hub id, a local directory or host:/path all end in the model's name
// (`meta-llama/Llama-2-7b-hf`, `/data/Llama-2-7b-hf`, `gpu:/m/Llama-2-7b-hf`) — or the measurement
// comes from a run of this very plan (which measures the plan's model, or a random model of its
// shape). Pure, tested under node.

export interface MeasuredModel {
  /** `model` of importance.json: the directory or id it was measured on. */
  ref: string;
  numLayers: number;
  /** The plan file of the run that measured it, when it came from a run. */
  runPlanFile?: string | null;
}

export interface PlanModel {
  /** The resolved model: catalogue id, absolute directory, or host:/path. */
  id: string;
  numLayers: number;
  planFile: string | null;
}

/** The last path segment of a model reference, lower-case: what names the model. */
export function modelName(ref: string): string {
  const path = ref.replace(/^[A-Za-z0-9_][A-Za-z0-9._@-]*:(?=[/~])/, '').replace(/[/\\]+$/, '');
  const parts = path.split(/[/\\]/);
  return (parts[parts.length - 1] ?? '').toLowerCase();
}

export function measuredOnPlanModel(m: MeasuredModel, plan: PlanModel): boolean {
  if (m.numLayers !== plan.numLayers) return false;
  if (m.runPlanFile && plan.planFile && m.runPlanFile === plan.planFile) return true;
  const a = modelName(m.ref);
  return a !== '' && a === modelName(plan.id);
}
