// The checker and compiler: from a parsed plan to diagnostics, the resolved model, the block
// layout, parameter and memory accounting, and the LayerMap when the plan compiles.
import { LAYER_MAP_KIND, LAYER_MAP_VERSION, outputProjectionSuffixes, type ExtraTensor, type LayerMap, type ModelShape, type ParamCounts, type RunTarget, type StageSpec } from '../protocol/layerMap';
import { countParams, fitVerdict, memoryPerGpu, type MemoryEstimate } from './accounting';
import { formatBytes } from '../shared/format';
import { findStatement, type PlanAst, type Statement, type Word } from './ast';
import { deepEnd, deleteTwoFix, fitFix } from './deletionFixes';
import { capDiagnosticsPerLine, diagnostic, nearest, type PlanDiagnostic, type PlanFix } from './diagnostics';
import { MAX_BLOCKS, MAX_PLAN_CHARS, showLimit } from './limits';
import { formatExpansion, hasDiamond, type ExpansionExpr } from './expansion';
import { computeLayout, deletionPlaces, type Layout } from './layout';
import { catalogueIds, lookupCatalogue, ModelConfigError, parseHfConfig } from './models';
import { parsePlan } from './parser';
import { checkStageOrder, compileRun, compileStage } from './stages';
import { compileEval } from './evaluation';
import type { EvalPlan } from '../protocol/evalPlan';
import { analyzeSweep, type SweepAnalysis } from './sweep';
import { LineIndex } from './text';

/** What a remote-model resolver (`host:/path`) answers; the core itself never does I/O. */
export type RemoteModelAnswer =
  | { status: 'ok'; configJson: string }
  | { status: 'pending' }
  | { status: 'error'; message: string };

export interface AnalyzeOptions {
  /** The plan's own path, recorded in the LayerMap. */
  fileName?: string;
  /** Directory that relative model directories are resolved against (the plan file's folder). */
  baseDir?: string;
  homeDir?: string;
  /**
   * Reads a file by absolute path; undefined when it does not exist. Throws (an Error whose
   * message says why) for a file that exists but is refused: too large, not a regular file.
   */
  readFile?: (path: string) => string | undefined;
  remoteModel?: (host: string, path: string) => RemoteModelAnswer | undefined;
  /** Set when analysing one variant of a sweep (its sweep section is not analysed again). */
  insideSweep?: boolean;
}

export type ModelSource = 'catalogue' | 'local' | 'remote';

export interface ModelResolution {
  ref: Word;
  source: ModelSource | null;
  /** Catalogue id, absolute directory, or host:/path. */
  id: string;
  shape: ModelShape | null;
}

export type TrainItem = 'new' | 'final' | 'kept' | 'head' | 'norm' | 'embed';
export const TRAIN_ITEMS: readonly TrainItem[] = ['new', 'final', 'kept', 'head', 'norm', 'embed'];
/** What a `train` list may say: the items, `all` (full fine-tuning) and `last N` (the deepest N kept blocks). */
export const TRAIN_WORDS: readonly string[] = [...TRAIN_ITEMS, 'all', 'last'];
export const INIT_METHODS = ['copy', 'average'] as const;
export const FINAL_METHODS = ['average', 'average-deleted', 'keep'] as const;
export const ZERO_TARGETS = ['o_proj', 'down_proj', 'none'] as const;

export interface PlanAnalysis {
  ast: PlanAst;
  lines: LineIndex;
  diagnostics: PlanDiagnostic[];
  model: ModelResolution | null;
  layout: Layout | null;
  init: 'copy' | 'average';
  train: TrainItem[];
  /** `train last N`: the deepest N kept original blocks are trainable; null without it. */
  trainLast: number | null;
  params: ParamCounts | null;
  /** Trainable parameters of the blocks plus the output head: the paper's Table 4 figure. */
  trainableWithHead: number | null;
  memory: { ddp: MemoryEstimate; fsdp: MemoryEstimate } | null;
  stages: StageSpec[];
  run: (RunTarget & { gpuMemory: number | null }) | null;
  /** The eval section, compiled; null without one (or when it names nothing). */
  evaluation: EvalPlan | null;
  /** The sweep section's variants, each compiled as its own plan; null without a sweep section. */
  sweep: SweepAnalysis | null;
  /** Canonical notation of the expansion. */
  canonicalExpansion: string | null;
  layerMap: LayerMap | null;
}

export const DEFAULT_GPU_MEMORY = 80 * 1024 ** 3; // A100 80 GB

function joinPath(base: string, rel: string): string {
  const parts = (rel.startsWith('/') ? rel : `${base}/${rel}`).split('/');
  const out: string[] = [];
  for (const p of parts) {
    if (p === '' || p === '.') continue;
    if (p === '..') out.pop();
    else out.push(p);
  }
  return `/${out.join('/')}`;
}

const REMOTE_RE = /^([A-Za-z0-9_][A-Za-z0-9._@-]*):((?:\/|~).*)$/;

function resolveModel(stmt: Statement, opts: AnalyzeOptions, diags: PlanDiagnostic[]): ModelResolution {
  const ref = stmt.value;
  const text = ref.text;
  const res: ModelResolution = { ref, source: null, id: text, shape: null };
  if (stmt.args.length > 1) {
    diags.push(diagnostic('SL004', 'error', { start: stmt.args[1]!.span.start, end: ref.span.end }, 'model takes one value: a Hub id, a local directory, or host:/path'));
  }
  const fromConfig = (json: string, where: string): void => {
    try {
      res.shape = parseHfConfig(json);
    } catch (e) {
      diags.push(diagnostic('SL012', 'error', ref.span, `${where}: ${(e as ModelConfigError).message}`));
    }
  };
  const remote = REMOTE_RE.exec(text);
  if (remote) {
    res.source = 'remote';
    const answer = opts.remoteModel?.(remote[1]!, remote[2]!);
    if (!answer) diags.push(diagnostic('SL013', 'info', ref.span, `the model on ${remote[1]} is not checked here (no connection to the host); the plan is checked against it when it runs`));
    else if (answer.status === 'pending') diags.push(diagnostic('SL013', 'info', ref.span, `reading ${remote[2]}/config.json on ${remote[1]}…`));
    else if (answer.status === 'error') diags.push(diagnostic('SL012', 'error', ref.span, `cannot read the model on ${remote[1]}: ${answer.message}`));
    else fromConfig(answer.configJson, `${text}/config.json`);
    return res;
  }
  const looksLikePath = /^(\.{1,2}\/|\/|~\/)/.test(text) || text === '.' || text === '..';
  if (!looksLikePath) {
    const hit = lookupCatalogue(text);
    if (hit) {
      res.source = 'catalogue';
      res.id = hit.id;
      res.shape = hit.shape;
      return res;
    }
  }
  const home = opts.homeDir ?? '/';
  const dir = text.startsWith('~/') ? joinPath(home, text.slice(2)) : joinPath(opts.baseDir ?? '/', text);
  let config: string | undefined;
  try {
    config = opts.readFile?.(`${dir}/config.json`);
  } catch (e) {
    res.source = 'local';
    res.id = dir;
    diags.push(diagnostic('SL012', 'error', ref.span, `${dir}/config.json: ${(e as Error).message}`));
    return res;
  }
  if (config !== undefined) {
    res.source = 'local';
    res.id = dir;
    fromConfig(config, `${dir}/config.json`);
    return res;
  }
  const guess = looksLikePath ? undefined : nearest(text, catalogueIds());
  diags.push(diagnostic('SL011', 'error', ref.span,
    looksLikePath
      ? `no config.json in ${dir}: give a directory holding a Hugging Face checkpoint`
      : `unknown model "${text}": not in the built-in catalogue${opts.readFile ? ` and no config.json in ${dir}` : ''}${guess ? `; did you mean "${guess}"?` : ''}`,
    { fixes: guess ? [{ title: `Change to "${guess}"`, edits: [{ span: ref.span, newText: guess }], preferred: false }] : [] }));
  return res;
}

function oneWord<T extends string>(stmt: Statement, allowed: readonly T[], diags: PlanDiagnostic[]): T | null {
  const w = stmt.args[0];
  if (!w) {
    diags.push(diagnostic('SL004', 'error', stmt.key.span, `"${stmt.key.text}" needs a value: ${allowed.join(' or ')}`));
    return null;
  }
  for (const extra of stmt.args.slice(1)) diags.push(diagnostic('SL004', 'error', extra.span, `unexpected "${extra.text}" after ${stmt.key.text} ${w.text}`));
  if ((allowed as readonly string[]).includes(w.text)) return w.text as T;
  const guess = nearest(w.text, allowed);
  diags.push(diagnostic('SL004', 'error', w.span, `"${w.text}" is not a valid ${stmt.key.text}; use ${allowed.join(' or ')}`,
    { fixes: guess ? [{ title: `Change to "${guess}"`, edits: [{ span: w.span, newText: guess }], preferred: true }] : [] }));
  return null;
}

/** Items of a comma- or space-separated list (`train new, final, head`), with their spans. */
function listItems(stmt: Statement): Word[] {
  const out: Word[] = [];
  for (const w of stmt.args) {
    let offset = w.span.start;
    for (const part of w.text.split(',')) {
      if (part) out.push({ text: part, span: { start: offset, end: offset + part.length } });
      offset += part.length + 1;
    }
  }
  return out;
}

/** The output depth of an expansion that covers at most L blocks, computed without building it. */
function outputDepth(expr: ExpansionExpr): number {
  return expr.segments.reduce((n, s) => n + (s.kind === 'group' ? (s.keep + s.insert) * s.repeat : s.kind === 'keep' ? s.count : 0), 0);
}

/** A plan too long to analyse: one diagnostic, nothing parsed. */
function oversizePlan(text: string): PlanAnalysis {
  const { ast } = parsePlan('');
  const d = diagnostic('SL001', 'error', { start: 0, end: 0 }, `the plan is ${showLimit(text.length)} characters long; plans are limited to ${showLimit(MAX_PLAN_CHARS)} (see docs/limits.md)`);
  return {
    ast: { ...ast, length: text.length }, lines: new LineIndex(text), diagnostics: [d], model: null, layout: null, init: 'copy', train: [], trainLast: null, params: null,
    trainableWithHead: null, memory: null, stages: [], run: null, evaluation: null, sweep: null, canonicalExpansion: null, layerMap: null,
  };
}

/** The refactoring behind SL023: write the implied deletion as a trailing `| -n`. */
export function makeDeletionExplicit(expr: ExpansionExpr, n: number): PlanFix {
  return { title: `Make the deletion explicit (| -${n})`, edits: [{ span: { start: expr.span.end, end: expr.span.end }, newText: ` | -${n}` }], preferred: false };
}

/** SL030 for `train … final …` without an updated final block; the fix drops `final` from the list. */
function noFinalBlock(trainStmt: Statement): PlanDiagnostic {
  const rest = [...new Set(listItems(trainStmt).map((w) => w.text).filter((t) => t !== 'final'))];
  const args = trainStmt.args;
  const span = { start: args[0]!.span.start, end: args[args.length - 1]!.span.end };
  return diagnostic('SL030', 'warning', trainStmt.span, '"final" is in the train set but the plan has no updated final block (a "1" after a keep segment, before the deleted deep blocks)',
    { fixes: rest.length ? [{ title: `Train ${rest.join(', ')} (drop "final")`, edits: [{ span, newText: rest.join(', ') }], preferred: false }] : [] });
}

type RunLine = RunTarget & { gpuMemory: number | null };

/** What the passes share: the parsed plan and what each earlier pass settled. Passes run in order. */
interface AnalysisContext {
  readonly text: string;
  readonly opts: AnalyzeOptions;
  readonly ast: PlanAst;
  readonly lines: LineIndex;
  /** Every pass appends here; the order is the order users read them in. */
  readonly diags: PlanDiagnostic[];
  readonly expr: ExpansionExpr | null;
  /** The expansion carries ◇, which asks for average init unless `init` says otherwise. */
  readonly diamond: boolean;
  model: ModelResolution | null;
  init: 'copy' | 'average';
  zeroTargets: string[];
  finalMethod: (typeof FINAL_METHODS)[number];
  train: TrainItem[];
  trainLast: number | null;
  /** `train all`: full fine-tuning, which asks for no updated final block of its own. */
  trainAll: boolean;
  layout: Layout | null;
  stages: StageSpec[];
  run: RunLine | null;
  evaluation: EvalPlan | null;
  params: ParamCounts | null;
  trainableWithHead: number | null;
  memory: PlanAnalysis['memory'];
  sweep: SweepAnalysis | null;
}

type Pass = (ctx: AnalysisContext) => void;

function newContext(text: string, opts: AnalyzeOptions): AnalysisContext {
  const { ast, diagnostics, lines } = parsePlan(text);
  const expr = ast.expansion?.expr ?? null;
  const diamond = expr ? hasDiamond(expr) : false;
  return {
    text, opts, ast, lines, diags: diagnostics, expr, diamond,
    model: null, init: diamond ? 'average' : 'copy', zeroTargets: ['o_proj', 'down_proj'], finalMethod: 'average', train: ['new', 'final'], trainLast: null, trainAll: false,
    layout: null, stages: [], run: null, evaluation: null, params: null, trainableWithHead: null, memory: null, sweep: null,
  };
}

/** Top-level statements given twice: the first one counts, so the later one fades in editors. */
function checkDuplicateStatements(ctx: AnalysisContext): void {
  const seen = new Map<string, Statement>();
  for (const s of ctx.ast.statements) {
    const prev = seen.get(s.key.text);
    if (prev && s.key.text !== 'stage') {
      ctx.diags.push(diagnostic('SL003', 'error', s.key.span, `"${s.key.text}" is given twice; only the first one counts`, { related: [{ span: prev.span, message: 'first given here' }], tags: ['unnecessary'] }));
    } else seen.set(s.key.text, s);
  }
}

/** Everything after needs the model's shape: catalogue, local config.json or the host's. */
function resolveModelLine(ctx: AnalysisContext): void {
  const stmt = findStatement(ctx.ast, 'model');
  if (!stmt) ctx.diags.push(diagnostic('SL010', 'error', { start: 0, end: 0 }, 'the plan names no model: add a line such as "model meta-llama/Llama-2-7b-hf"'));
  else if (!stmt.args.length) ctx.diags.push(diagnostic('SL004', 'error', stmt.key.span, 'model needs a value: a Hub id, a local directory, or host:/path'));
  else ctx.model = resolveModel(stmt, ctx.opts, ctx.diags);
}

/** `init` overrides the ◇ of the expansion; a conflict is named at both places. */
function readInit(ctx: AnalysisContext): void {
  const stmt = findStatement(ctx.ast, 'init');
  const v = stmt ? oneWord(stmt, INIT_METHODS, ctx.diags) : null;
  if (!stmt || !v) return;
  if (ctx.diamond && v === 'copy') {
    ctx.diags.push(diagnostic('SL028', 'warning', stmt.args[0]!.span, 'the expansion carries ◇ (average init) but "init copy" asks for copies; "init" wins', {
      related: ctx.expr!.segments.filter((s) => s.diamond).map((s) => ({ span: s.diamond!, message: '◇ here' })),
    }));
  }
  ctx.init = v;
}

/** Which output projections of the new blocks start at zero (the paper zeroes both). */
function readZero(ctx: AnalysisContext): void {
  const stmt = findStatement(ctx.ast, 'zero');
  if (!stmt) return;
  const items = listItems(stmt);
  if (!items.length) ctx.diags.push(diagnostic('SL004', 'error', stmt.key.span, 'zero needs a value: o_proj, down_proj, or none'));
  ctx.zeroTargets = [];
  for (const it of items) {
    if (it.text === 'none') {
      if (items.length > 1) ctx.diags.push(diagnostic('SL004', 'error', it.span, '"none" cannot be combined with other projections'));
    } else if (it.text === 'o_proj' || it.text === 'down_proj') ctx.zeroTargets.push(it.text);
    else {
      const guess = nearest(it.text, ZERO_TARGETS);
      ctx.diags.push(diagnostic('SL004', 'error', it.span, `cannot zero "${it.text}"; use o_proj, down_proj or none`,
        { fixes: guess ? [{ title: `Change to "${guess}"`, edits: [{ span: it.span, newText: guess }], preferred: true }] : [] }));
    }
  }
}

/** How the updated final block is initialised; the layout needs it. */
function readFinal(ctx: AnalysisContext): void {
  const stmt = findStatement(ctx.ast, 'final');
  ctx.finalMethod = (stmt && oneWord(stmt, FINAL_METHODS, ctx.diags)) || 'average';
}

/** The train set decides which blocks are trainable and which extras count as trainable. */
function readTrain(ctx: AnalysisContext): void {
  const stmt = findStatement(ctx.ast, 'train');
  if (!stmt) return;
  ctx.train = [];
  const items = listItems(stmt);
  if (!items.length) ctx.diags.push(diagnostic('SL004', 'error', stmt.key.span, `train needs a list: ${TRAIN_WORDS.join(', ')}`));
  for (let i = 0; i < items.length; i++) {
    const it = items[i]!;
    if (it.text === 'all') {
      // Full fine-tuning: every block and every other tensor (the final block only where there is one).
      ctx.trainAll = true;
      for (const t of TRAIN_ITEMS) if (!ctx.train.includes(t)) ctx.train.push(t);
    } else if (it.text === 'last') {
      const n = items[i + 1];
      if (n && /^[1-9]\d{0,5}$/.test(n.text)) {
        ctx.trainLast = Number(n.text);
        i++;
      } else ctx.diags.push(diagnostic('SL004', 'error', n ? { start: it.span.start, end: n.span.end } : it.span, '"last" needs a number of blocks: "train last 4" trains the deepest 4 original blocks'));
    } else if ((TRAIN_ITEMS as readonly string[]).includes(it.text)) {
      if (!ctx.train.includes(it.text as TrainItem)) ctx.train.push(it.text as TrainItem);
    } else {
      const guess = nearest(it.text, TRAIN_WORDS);
      ctx.diags.push(diagnostic('SL004', 'error', it.span, `cannot train "${it.text}"; use ${TRAIN_WORDS.join(', ')}`,
        { fixes: guess ? [{ title: `Change to "${guess}"`, edits: [{ span: it.span, newText: guess }], preferred: true }] : [] }));
    }
  }
}

/** The plan asks for an updated final block (`train all` trains whatever blocks there are). */
const wantsFinal = (ctx: AnalysisContext): boolean => ctx.train.includes('final') && !ctx.trainAll;

/** A plan without an expansion describes no surgery. */
function checkExpandLine(ctx: AnalysisContext): void {
  const stmt = findStatement(ctx.ast, 'expand');
  if (!stmt) ctx.diags.push(diagnostic('SL020', 'error', { start: 0, end: 0 }, 'the plan has no expansion: add a line such as "expand (2+1)x8 | 13 | 1◇"'));
  else if (!stmt.args.length) ctx.diags.push(diagnostic('SL021', 'error', stmt.key.span, 'expand needs an expression such as (2+1)x8 | 13 | 1◇'));
}

/** With a syntax error in the expression, its counts and its canonical form would mislead. */
const expansionHasErrors = (ctx: AnalysisContext): boolean => ctx.diags.some((d) => d.code === 'SL021');

/** One way to write each expansion, offered as a fix, so plans read alike. */
function checkCanonicalNotation(ctx: AnalysisContext): void {
  const expr = ctx.expr;
  if (!expr || !expr.segments.length || expansionHasErrors(ctx)) return;
  const written = ctx.text.slice(expr.span.start, expr.span.end).trim();
  const formatted = formatExpansion(expr, ctx.diamond);
  if (written !== formatted) {
    ctx.diags.push(diagnostic('SL031', 'hint', expr.span, `canonical notation: ${formatted}`, { fixes: [{ title: `Normalise notation to "${formatted}"`, edits: [{ span: expr.span, newText: formatted }], preferred: true }] }));
  }
}

/** The block layout: only for an expansion that fits the model and stays within MAX_BLOCKS. */
function layOutBlocks(ctx: AnalysisContext): void {
  const expr = ctx.expr;
  const shape = ctx.model?.shape;
  if (!expr || !expr.segments.length || !shape) return;
  const L = shape.numLayers;
  const covered = expr.segments.reduce((a, s) => a + (s.kind === 'group' ? s.keep * s.repeat : s.count), 0);
  if (covered > L) {
    if (!expansionHasErrors(ctx)) reportOvercover(ctx, expr, covered, L);
  } else if (outputDepth(expr) > MAX_BLOCKS) {
    // Checked before building: (0+999999999)x999999999 would otherwise allocate every block.
    ctx.diags.push(diagnostic('SL022', 'error', expr.span, `the expansion makes ${showLimit(outputDepth(expr))} blocks; a plan may make at most ${showLimit(MAX_BLOCKS)} (see docs/limits.md)`));
  } else {
    const trainedBlocks = new Set(ctx.train.filter((t): t is 'new' | 'final' | 'kept' => t === 'new' || t === 'final' || t === 'kept'));
    const zero = ctx.zeroTargets.flatMap((t) => outputProjectionSuffixes(shape).filter((s) => s.includes(t)));
    const r = computeLayout(expr, L, { init: ctx.init, zero, final: ctx.finalMethod, train: trainedBlocks, trainLast: ctx.trainLast ?? 0 });
    ctx.layout = r.layout;
    for (const d of r.diagnostics) ctx.diags.push(d);
    // Layout kept for hovers; its deletion counts are not reported until the expression parses.
    if (!expansionHasErrors(ctx)) checkDeletions(ctx, expr, r.layout);
    checkLayoutEffects(ctx, expr, r.layout);
  }
}

/** SL022 with a fix that trims the deep end; and the final-block warning, which holds whatever the counts. */
function reportOvercover(ctx: AnalysisContext, expr: ExpansionExpr, covered: number, L: number): void {
  const fix = fitFix(ctx.text, expr, L, wantsFinal(ctx));
  ctx.diags.push(diagnostic('SL022', 'error', expr.span, `the segments cover ${covered} blocks but ${ctx.model!.id} has ${L} (0–${L - 1}): ${covered - L} too many`, { fixes: fix ? [fix] : [] }));
  // An expression not ending "… | k | 1" has no updated final block.
  const trainStmt = findStatement(ctx.ast, 'train');
  if (wantsFinal(ctx) && trainStmt && !deepEnd(expr).finalShaped) ctx.diags.push(noFinalBlock(trainStmt));
}

/** How many deep blocks go: named when implied by a miscount, warned when more than the paper deletes. */
function checkDeletions(ctx: AnalysisContext, expr: ExpansionExpr, layout: Layout): void {
  const L = layout.baseLayers;
  const D = layout.deleted.length;
  // Implied deletion is the paper's notation when it makes room for the updated final block
  // (`(2+1)x8 | 13 | 1◇`); without a final block it more likely means a miscount, so it is named.
  if (layout.implicitDeleted.length && !layout.final) {
    const a = layout.implicitDeleted[0]!;
    const b = layout.implicitDeleted[layout.implicitDeleted.length - 1]!;
    const n = layout.implicitDeleted.length;
    ctx.diags.push(diagnostic('SL023', 'hint', expr.span, `the segments cover ${layout.covered} of ${L} blocks, so the deepest ${n} (${a === b ? `block ${a}` : `blocks ${a}–${b}`}) are deleted`,
      { fixes: [makeDeletionExplicit(expr, n)] }));
  }
  // Layer pruning work deletes 25–50% on purpose (ShortGPT: 9 of 32), so both are warnings.
  const related = D > 2 ? deletionPlaces(expr, layout) : [];
  if (D > L / 4) ctx.diags.push(diagnostic('SL025', 'warning', expr.span, `${D} of ${L} blocks are deleted; more than a quarter of the model is gone`, { related }));
  else if (D > 2) {
    const fix = deleteTwoFix(ctx.text, expr, L, wantsFinal(ctx));
    ctx.diags.push(diagnostic('SL024', 'warning', expr.span, `${D} blocks are deleted; the paper's Table 3 shows quality falling off beyond 2`, { fixes: fix ? [fix] : [], related }));
  }
}

/** Settings the layout makes pointless: no new blocks, `final` with no final block (faded). */
function checkLayoutEffects(ctx: AnalysisContext, expr: ExpansionExpr, layout: Layout): void {
  const trainStmt = findStatement(ctx.ast, 'train');
  const keptCount = layout.blocks.filter((b) => b.role === 'kept').length;
  const last = ctx.trainLast;
  if (last !== null && last > keptCount && trainStmt) ctx.diags.push(diagnostic('SL042', 'error', trainStmt.span, `"last ${last}" asks for more blocks than the ${keptCount} original blocks the expansion keeps`));
  // A control that fine-tunes original blocks (train last N, kept, all) adds no blocks on purpose.
  const trainsOriginal = last !== null || ctx.train.includes('kept');
  if (layout.newCount === 0 && !trainsOriginal) ctx.diags.push(diagnostic('SL029', 'warning', expr.span, 'the expansion inserts no new blocks; groups look like (2+1)x8'));
  if (wantsFinal(ctx) && !layout.final && trainStmt) ctx.diags.push(noFinalBlock(trainStmt));
  const finalStmt = findStatement(ctx.ast, 'final');
  if (finalStmt && !layout.final) ctx.diags.push(diagnostic('SL027', 'warning', finalStmt.span, 'there is no updated final block for "final" to shape', { tags: ['unnecessary'] }));
}

/** Stages compile one by one, then their order (CPT before SFT) is checked across them. */
function compileStages(ctx: AnalysisContext): void {
  const specs = ctx.ast.stages.map((b) => compileStage(b, ctx.diags));
  checkStageOrder(ctx.ast.stages, specs, ctx.diags);
  ctx.stages = specs.filter((s): s is StageSpec => s !== null);
}

/** Where it runs: the GPU count feeds the memory estimate. */
function compileRunLine(ctx: AnalysisContext): void {
  const stmt = findStatement(ctx.ast, 'run');
  ctx.run = stmt ? compileRun(stmt, ctx.diags) : null;
}

/** The first eval section counts; a second one fades like any ignored duplicate. */
function compileEvalSection(ctx: AnalysisContext): void {
  const [first, ...rest] = ctx.ast.evals;
  for (const dup of rest) {
    ctx.diags.push(diagnostic('SL003', 'error', dup.header.key.span, 'a second "eval" section; only the first one counts', { related: [{ span: first!.header.key.span, message: 'first eval section' }], tags: ['unnecessary'] }));
  }
  ctx.evaluation = first ? compileEval(first, ctx.diags) : null;
}

const trainableExtras = (train: readonly TrainItem[]): ExtraTensor[] => train.filter((t): t is ExtraTensor => t === 'head' || t === 'norm' || t === 'embed');

/** Parameter counts and memory per GPU, for hovers and the fit check; needs a layout. */
function countParamsAndMemory(ctx: AnalysisContext): void {
  const shape = ctx.model?.shape;
  const layout = ctx.layout;
  if (!shape || !layout) return;
  const extras = trainableExtras(ctx.train);
  const trainableBlocks = layout.blocks.filter((b) => b.trainable).length;
  const params = countParams(shape, layout.numLayers, trainableBlocks, extras);
  ctx.params = params;
  ctx.trainableWithHead = countParams(shape, layout.numLayers, trainableBlocks, [...new Set<ExtraTensor>([...extras, 'head'])]).trainable;
  const gpus = (ctx.run?.gpus ?? 1) * (ctx.run?.nodes ?? 1);
  const precision = ctx.stages[0]?.precision ?? 'bf16';
  ctx.memory = { ddp: memoryPerGpu(params, gpus, 'ddp', precision), fsdp: memoryPerGpu(params, gpus, 'fsdp', precision) };
  if (params.trainable === 0) {
    const at = findStatement(ctx.ast, 'train') ?? findStatement(ctx.ast, 'expand');
    ctx.diags.push(diagnostic('SL030', 'warning', at!.span, 'nothing is trainable: the train set selects no parameters'));
  }
}

/** Does training fit on the run's GPUs: DDP, only fully sharded (info), or not at all (error). */
function checkFit(ctx: AnalysisContext): void {
  const { run, memory } = ctx;
  const runStmt = findStatement(ctx.ast, 'run');
  if (!memory || !run || !runStmt) return;
  const gpus = run.gpus * run.nodes;
  const cap = run.gpuMemory ?? DEFAULT_GPU_MEMORY;
  const capText = run.gpuMemory ? formatBytes(cap) : '80 GiB (A100 80GB; set gpu-memory to change)';
  const fit = fitVerdict(memory, cap);
  if (fit === 'fsdp') {
    ctx.diags.push(diagnostic('SL051', 'info', runStmt.span, `with DDP each GPU needs ${formatBytes(memory.ddp.total)} before activations, more than ${capText}; fully sharded (FSDP) over ${gpus} GPUs needs ${formatBytes(memory.fsdp.total)}, which the runner will use`));
  } else if (fit === 'none') {
    ctx.diags.push(diagnostic('SL051', 'error', runStmt.span, `training needs ${formatBytes(memory.fsdp.total)} per GPU even fully sharded over ${gpus} GPUs (before activations), more than ${capText}`));
  }
}

/** The sweep's variants are plans of their own (src/core/sweep.ts); their problems are this plan's. */
function analyzeSweepSection(ctx: AnalysisContext): void {
  if (!ctx.ast.sweeps.length || ctx.opts.insideSweep) return;
  ctx.sweep = analyzeSweep(ctx.text, ctx.ast, { shape: ctx.model?.shape ?? null, diagnostics: ctx.diags }, ctx.opts, analyzePlan);
  ctx.diags.push(...ctx.sweep.diagnostics);
}

/** The checks, in the order their diagnostics are listed; each reads what the earlier ones settled. */
const PASSES: readonly Pass[] = [
  checkDuplicateStatements,
  resolveModelLine,
  readInit,
  readZero,
  readFinal,
  readTrain,
  checkExpandLine,
  checkCanonicalNotation,
  layOutBlocks,
  compileStages,
  compileRunLine,
  compileEvalSection,
  countParamsAndMemory,
  checkFit,
  analyzeSweepSection,
];

/** The compile step: a LayerMap only for a plan without errors whose model and layout are known. */
function compileLayerMap(ctx: AnalysisContext, canonicalExpansion: string | null): LayerMap | null {
  const { model, layout, params, run, evaluation } = ctx;
  const shape = model?.shape;
  if (ctx.diags.some((d) => d.severity === 'error') || !shape || !layout || !params) return null;
  return {
    version: LAYER_MAP_VERSION,
    kind: LAYER_MAP_KIND,
    plan: { model: model.id, expand: canonicalExpansion ?? '', file: ctx.opts.fileName ?? null },
    base: shape,
    result: { ...shape, numLayers: layout.numLayers },
    blocks: layout.blocks,
    deleted: layout.deleted,
    trainableExtras: trainableExtras(ctx.train),
    params,
    stages: ctx.stages,
    run: run ? { host: run.host, gpus: run.gpus, nodes: run.nodes, weights: run.weights } : null,
    ...(evaluation ? { evaluation } : {}),
  };
}

export function analyzePlan(text: string, opts: AnalyzeOptions = {}): PlanAnalysis {
  if (text.length > MAX_PLAN_CHARS) return oversizePlan(text);
  const ctx = newContext(text, opts);
  for (const pass of PASSES) pass(ctx);
  const { ast, lines, diags, model, layout, init, train, trainLast, params, trainableWithHead, memory, stages, run, evaluation, sweep, expr } = ctx;
  const canonicalExpansion = expr && expr.segments.length ? formatExpansion(expr, init === 'average') : null;
  const layerMap = compileLayerMap(ctx, canonicalExpansion);
  return { ast, lines, diagnostics: capDiagnosticsPerLine(diags, lines), model, layout, init, train, trainLast, params, trainableWithHead, memory, stages, run, evaluation, sweep, canonicalExpansion, layerMap };
}
