// The plan core's public API. Pure: no `vscode`, no I/O (file reading is passed in), so the
// language server, the extension and the CLI share one implementation.
//
//   analyzePlan(text, options)  → diagnostics, model, layout, params, memory, stages, LayerMap
//   parsePlan(text)             → syntax tree with exact spans, and syntax diagnostics
//   formatPlan(text)            → canonical aligned text (comments kept)
//   parseHfConfig(json)         → ModelShape;  lookupCatalogue(id), CATALOGUE
//   countParams / paramsPerBlock / memoryPerGpu → accounting
export { analyzePlan, makeDeletionExplicit, DEFAULT_GPU_MEMORY, FINAL_METHODS, INIT_METHODS, TRAIN_ITEMS, TRAIN_WORDS, ZERO_TARGETS } from './analyze';
export type { AnalyzeOptions, ModelResolution, ModelSource, PlanAnalysis, RemoteModelAnswer, TrainItem } from './analyze';
export { parsePlan } from './parser';
export type { ParseResult } from './parser';
export { STAGE_KEYS, TOP_LEVEL_KEYS, findStatement } from './ast';
export type { EvalBlock, SweepBlock, LineInfo, PlanAst, Setting, StageBlock, Statement, Word } from './ast';
export { EVAL_DEFAULTS, EVAL_KEYS, EVAL_TASKS, PAPER_PROTOCOL_SNIPPET, TASK_OPTIONS, WHEN_WORDS, catalogueTask, compileEval } from './evaluation';
export type { CatalogueTask } from './evaluation';
export { parseExpansion, formatExpansion } from './expansion';
export type { ExpansionExpr, Segment } from './expansion';
export { blockRange, computeLayout, finalSegmentIndex } from './layout';
export type { Layout, SegmentLayout, Range } from './layout';
export { DIAGNOSTIC_CODES, nearest } from './diagnostics';
export type { DiagnosticCode, PlanDiagnostic, PlanFix, Severity, TextEdit } from './diagnostics';
export { CATALOGUE, catalogueIds, lookupCatalogue, parseHfConfig, shapeToHfConfig, ModelConfigError } from './models';
export { modelFamily, SUPPORTED_MODEL_TYPES } from './families';
export type { ModelFamily } from './families';
export { countParams, embedParams, fitVerdict, headParams, memoryPerGpu, modelParams, paramsPerBlock } from './accounting';
export type { MemoryEstimate, ParallelStrategy } from './accounting';
export { parseCount, parseFraction, parseMemorySize, SCHEDULES, PRECISIONS, RUN_OPTIONS } from './stages';
export { formatPlan } from './format';
export { explainText, formatDiagnostic } from './explain';
export { analyzeSweep, NO_EXPANSION, SWEEP_NAME_RE, SWEEP_OVERRIDES } from './sweep';
export type { SweepAnalysis, SweepOverride, SweepVariant } from './sweep';
export { LineIndex } from './text';
export type { Position, Span } from './text';
export { layerMapOverlay, planOverlay } from './overlay';
export type { OverlayBlock, PlanOverlay } from './overlay';
export { measuredOnPlanModel, modelName } from './modelIdentity';
export type { MeasuredModel, PlanModel } from './modelIdentity';
export {
  blockLabel, blocksLabel, DEFAULT_AUTO_THRESHOLD, deletionWindow, normalisedScores, parseBudget, parseDeletion, profileFromImportance, profileFromSimilarity,
  PROFILE_METRICS, STRATEGY_INIT, STRATEGY_TEXT, SUGGEST_STRATEGIES, SuggestError, suggestExpansion, suggestionLines, suggestionPreview,
} from './suggest';
export type { ImportanceProfile, ProfileMetric, SuggestBudget, SuggestDeletion, SuggestRequest, SuggestStrategy, Suggestion } from './suggest';
