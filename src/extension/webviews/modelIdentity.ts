// Moved to the plan core (src/core/modelIdentity.ts) so the language server and the CLI match
// measurements to plans by the same rule; kept here for the view's imports.
export { measuredOnPlanModel, modelName } from '../../core/modelIdentity';
export type { MeasuredModel, PlanModel } from '../../core/modelIdentity';
