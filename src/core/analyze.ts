// The checker and compiler: from a parsed plan to diagnostics, the resolved model, the block
// layout, parameter and memory accounting, and the LayerMap when the plan compiles.
import { LAYER_MAP_KIND, LAYER_MAP_VERSION, outputProjectionSuffixes, type ExtraTensor, type LayerMap, type ModelShape, type ParamCounts, type RunTarget, type StageSpec } from '../protocol/layerMap';
import { countParams, fitVerdict, memoryPerGpu, formatBytes, type MemoryEstimate } from './accounting';
import { findStatement, type PlanAst, type Statement, type Word } from './ast';
import { deepEnd, deleteTwoFix, fitFix } from './deletionFixes';
import { capDiagnosticsPerLine, diagnostic, nearest, type PlanDiagnostic, type PlanFix } from './diagnostics';
import { MAX_BLOCKS, MAX_PLAN_CHARS, showLimit } from './limits';
import { formatExpansion, hasDiamond, type ExpansionExpr } from './expansion';
import { computeLayout, type Layout } from './layout';
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

export function analyzePlan(text: string, opts: AnalyzeOptions = {}): PlanAnalysis {
  if (text.length > MAX_PLAN_CHARS) return oversizePlan(text);
  const { ast, diagnostics, lines } = parsePlan(text);
  const diags = diagnostics;

  // Duplicate top-level statements: the first one counts.
  const seen = new Map<string, Statement>();
  for (const s of ast.statements) {
    const prev = seen.get(s.key.text);
    if (prev && s.key.text !== 'stage') {
      diags.push(diagnostic('SL003', 'error', s.key.span, `"${s.key.text}" is given twice; only the first one counts`, { related: [{ span: prev.span, message: 'first given here' }] }));
    } else seen.set(s.key.text, s);
  }

  const modelStmt = findStatement(ast, 'model');
  let model: ModelResolution | null = null;
  if (!modelStmt) diags.push(diagnostic('SL010', 'error', { start: 0, end: 0 }, 'the plan names no model: add a line such as "model meta-llama/Llama-2-7b-hf"'));
  else if (!modelStmt.args.length) diags.push(diagnostic('SL004', 'error', modelStmt.key.span, 'model needs a value: a Hub id, a local directory, or host:/path'));
  else model = resolveModel(modelStmt, opts, diags);

  // init / zero / final / train
  const expr = ast.expansion?.expr ?? null;
  const diamond = expr ? hasDiamond(expr) : false;
  let init: 'copy' | 'average' = diamond ? 'average' : 'copy';
  const initStmt = findStatement(ast, 'init');
  if (initStmt) {
    const v = oneWord(initStmt, INIT_METHODS, diags);
    if (v) {
      if (diamond && v === 'copy') {
        diags.push(diagnostic('SL028', 'warning', initStmt.args[0]!.span, 'the expansion carries ◇ (average init) but "init copy" asks for copies; "init" wins', {
          related: expr!.segments.filter((s) => s.diamond).map((s) => ({ span: s.diamond!, message: '◇ here' })),
        }));
      }
      init = v;
    }
  }
  let zeroTargets: string[] = ['o_proj', 'down_proj'];
  const zeroStmt = findStatement(ast, 'zero');
  if (zeroStmt) {
    const items = listItems(zeroStmt);
    if (!items.length) diags.push(diagnostic('SL004', 'error', zeroStmt.key.span, 'zero needs a value: o_proj, down_proj, or none'));
    zeroTargets = [];
    for (const it of items) {
      if (it.text === 'none') {
        if (items.length > 1) diags.push(diagnostic('SL004', 'error', it.span, '"none" cannot be combined with other projections'));
      } else if (it.text === 'o_proj' || it.text === 'down_proj') zeroTargets.push(it.text);
      else {
        const guess = nearest(it.text, ZERO_TARGETS);
        diags.push(diagnostic('SL004', 'error', it.span, `cannot zero "${it.text}"; use o_proj, down_proj or none`,
          { fixes: guess ? [{ title: `Change to "${guess}"`, edits: [{ span: it.span, newText: guess }], preferred: true }] : [] }));
      }
    }
  }
  const finalStmt = findStatement(ast, 'final');
  const finalMethod = (finalStmt && oneWord(finalStmt, FINAL_METHODS, diags)) || 'average';
  let train: TrainItem[] = ['new', 'final'];
  let trainLast: number | null = null;
  let trainAll = false;
  const trainStmt = findStatement(ast, 'train');
  if (trainStmt) {
    train = [];
    const items = listItems(trainStmt);
    if (!items.length) diags.push(diagnostic('SL004', 'error', trainStmt.key.span, `train needs a list: ${TRAIN_WORDS.join(', ')}`));
    for (let i = 0; i < items.length; i++) {
      const it = items[i]!;
      if (it.text === 'all') {
        // Full fine-tuning: every block and every other tensor (the final block only where there is one).
        trainAll = true;
        for (const t of TRAIN_ITEMS) if (!train.includes(t)) train.push(t);
      } else if (it.text === 'last') {
        const n = items[i + 1];
        if (n && /^[1-9]\d{0,5}$/.test(n.text)) {
          trainLast = Number(n.text);
          i++;
        } else diags.push(diagnostic('SL004', 'error', n ? { start: it.span.start, end: n.span.end } : it.span, '"last" needs a number of blocks: "train last 4" trains the deepest 4 original blocks'));
      } else if ((TRAIN_ITEMS as readonly string[]).includes(it.text)) {
        if (!train.includes(it.text as TrainItem)) train.push(it.text as TrainItem);
      } else {
        const guess = nearest(it.text, TRAIN_WORDS);
        diags.push(diagnostic('SL004', 'error', it.span, `cannot train "${it.text}"; use ${TRAIN_WORDS.join(', ')}`,
          { fixes: guess ? [{ title: `Change to "${guess}"`, edits: [{ span: it.span, newText: guess }], preferred: true }] : [] }));
      }
    }
  }

  // Expansion and layout
  const expandStmt = findStatement(ast, 'expand');
  if (!expandStmt) diags.push(diagnostic('SL020', 'error', { start: 0, end: 0 }, 'the plan has no expansion: add a line such as "expand (2+1)x8 | 13 | 1◇"'));
  else if (!expandStmt.args.length) diags.push(diagnostic('SL021', 'error', expandStmt.key.span, 'expand needs an expression such as (2+1)x8 | 13 | 1◇'));
  const shape = model?.shape ?? null;
  let layout: Layout | null = null;
  const expansionErrors = diags.some((d) => d.code === 'SL021');
  if (expr && expr.segments.length) {
    const written = text.slice(expr.span.start, expr.span.end).trim();
    const formatted = formatExpansion(expr, diamond);
    if (!expansionErrors && written !== formatted) {
      diags.push(diagnostic('SL031', 'hint', expr.span, `canonical notation: ${formatted}`, { fixes: [{ title: `Normalise notation to "${formatted}"`, edits: [{ span: expr.span, newText: formatted }], preferred: true }] }));
    }
  }
  if (expr && expr.segments.length && shape) {
    const L = shape.numLayers;
    const covered = expr.segments.reduce((a, s) => a + (s.kind === 'group' ? s.keep * s.repeat : s.count), 0);
    const wantsFinal = train.includes('final') && !trainAll;
    // With a syntax error in the expression, counts of covered or deleted blocks would mislead.
    if (covered > L && !expansionErrors) {
      const fix = fitFix(text, expr, L, wantsFinal);
      diags.push(diagnostic('SL022', 'error', expr.span, `the segments cover ${covered} blocks but ${model!.id} has ${L} (0–${L - 1}): ${covered - L} too many`, { fixes: fix ? [fix] : [] }));
      // Whatever the counts, an expression not ending "… | k | 1" has no updated final block.
      if (wantsFinal && trainStmt && !deepEnd(expr).finalShaped) diags.push(noFinalBlock(trainStmt));
    } else if (covered <= L && outputDepth(expr) > MAX_BLOCKS) {
      // Checked before building: (0+999999999)x999999999 would otherwise allocate every block.
      diags.push(diagnostic('SL022', 'error', expr.span, `the expansion makes ${showLimit(outputDepth(expr))} blocks; a plan may make at most ${showLimit(MAX_BLOCKS)} (see docs/limits.md)`));
    } else if (covered <= L) {
      const r = computeLayout(expr, L, { init, zero: zeroTargets.flatMap((t) => outputProjectionSuffixes(shape).filter((s) => s.includes(t))), final: finalMethod, train: new Set(train.filter((t): t is 'new' | 'final' | 'kept' => t === 'new' || t === 'final' || t === 'kept')), trainLast: trainLast ?? 0 });
      layout = r.layout;
      for (const d of r.diagnostics) diags.push(d);
      const D = layout.deleted.length;
      if (expansionErrors) {
        // Layout kept for hovers; its counts are not reported until the expression parses.
      } else {
        // Implied deletion is the paper's notation when it makes room for the updated final block
        // (`(2+1)x8 | 13 | 1◇`); without a final block it more likely means a miscount, so it is named.
        if (layout.implicitDeleted.length && !layout.final) {
          const a = layout.implicitDeleted[0]!;
          const b = layout.implicitDeleted[layout.implicitDeleted.length - 1]!;
          const n = layout.implicitDeleted.length;
          diags.push(diagnostic('SL023', 'hint', expr.span, `the segments cover ${layout.covered} of ${L} blocks, so the deepest ${n} (${a === b ? `block ${a}` : `blocks ${a}–${b}`}) are deleted`,
            { fixes: [makeDeletionExplicit(expr, n)] }));
        }
        // Layer pruning work deletes 25–50% on purpose (ShortGPT: 9 of 32), so both are warnings.
        if (D > L / 4) diags.push(diagnostic('SL025', 'warning', expr.span, `${D} of ${L} blocks are deleted; more than a quarter of the model is gone`));
        else if (D > 2) {
          const fix = deleteTwoFix(text, expr, L, wantsFinal);
          diags.push(diagnostic('SL024', 'warning', expr.span, `${D} blocks are deleted; the paper's Table 3 shows quality falling off beyond 2`, { fixes: fix ? [fix] : [] }));
        }
      }
      const keptCount = layout.blocks.filter((b) => b.role === 'kept').length;
      if (trainLast !== null && trainLast > keptCount && trainStmt) diags.push(diagnostic('SL042', 'error', trainStmt.span, `"last ${trainLast}" asks for more blocks than the ${keptCount} original blocks the expansion keeps`));
      // A control that fine-tunes original blocks (train last N, kept, all) adds no blocks on purpose.
      const trainsOriginal = trainLast !== null || train.includes('kept');
      if (layout.newCount === 0 && !trainsOriginal) diags.push(diagnostic('SL029', 'warning', expr.span, 'the expansion inserts no new blocks; groups look like (2+1)x8'));
      if (wantsFinal && !layout.final && trainStmt) diags.push(noFinalBlock(trainStmt));
      if (finalStmt && !layout.final) diags.push(diagnostic('SL027', 'warning', finalStmt.span, 'there is no updated final block for "final" to shape'));
    }
  }

  // Stages and run
  const stageSpecs = ast.stages.map((b) => compileStage(b, diags));
  checkStageOrder(ast.stages, stageSpecs, diags);
  const stages = stageSpecs.filter((s): s is StageSpec => s !== null);
  const runStmt = findStatement(ast, 'run');
  const run = runStmt ? compileRun(runStmt, diags) : null;
  for (const dup of ast.evals.slice(1)) {
    diags.push(diagnostic('SL003', 'error', dup.header.key.span, 'a second "eval" section; only the first one counts', { related: [{ span: ast.evals[0]!.header.key.span, message: 'first eval section' }] }));
  }
  const evaluation = ast.evals[0] ? compileEval(ast.evals[0], diags) : null;

  // Accounting
  let params: ParamCounts | null = null;
  let memory: PlanAnalysis['memory'] = null;
  let trainableWithHead: number | null = null;
  const extras: ExtraTensor[] = train.filter((t): t is ExtraTensor => t === 'head' || t === 'norm' || t === 'embed');
  if (shape && layout) {
    const trainableBlocks = layout.blocks.filter((b) => b.trainable).length;
    params = countParams(shape, layout.numLayers, trainableBlocks, extras);
    trainableWithHead = countParams(shape, layout.numLayers, trainableBlocks, [...new Set<ExtraTensor>([...extras, 'head'])]).trainable;
    const gpus = (run?.gpus ?? 1) * (run?.nodes ?? 1);
    const precision = stages[0]?.precision ?? 'bf16';
    memory = { ddp: memoryPerGpu(params, gpus, 'ddp', precision), fsdp: memoryPerGpu(params, gpus, 'fsdp', precision) };
    if (params.trainable === 0) diags.push(diagnostic('SL030', 'warning', (trainStmt ?? expandStmt)!.span, 'nothing is trainable: the train set selects no parameters'));
    if (run && runStmt) {
      const cap = run.gpuMemory ?? DEFAULT_GPU_MEMORY;
      const capText = run.gpuMemory ? formatBytes(cap) : '80 GiB (A100 80GB; set gpu-memory to change)';
      const fit = fitVerdict(memory, cap);
      if (fit !== 'ddp') {
        if (fit === 'fsdp') {
          diags.push(diagnostic('SL051', 'info', runStmt.span, `with DDP each GPU needs ${formatBytes(memory.ddp.total)} before activations, more than ${capText}; fully sharded (FSDP) over ${gpus} GPUs needs ${formatBytes(memory.fsdp.total)}, which the runner will use`));
        } else {
          diags.push(diagnostic('SL051', 'error', runStmt.span, `training needs ${formatBytes(memory.fsdp.total)} per GPU even fully sharded over ${gpus} GPUs (before activations), more than ${capText}`));
        }
      }
    }
  }

  // The sweep's variants are plans of their own (src/core/sweep.ts); their problems are this plan's.
  const sweep = ast.sweeps.length && !opts.insideSweep ? analyzeSweep(text, ast, { shape, diagnostics: diags }, opts, analyzePlan) : null;
  if (sweep) diags.push(...sweep.diagnostics);

  const canonicalExpansion = expr && expr.segments.length ? formatExpansion(expr, init === 'average') : null;
  const hasErrors = diags.some((d) => d.severity === 'error');
  let layerMap: LayerMap | null = null;
  if (!hasErrors && shape && layout && params && model) {
    layerMap = {
      version: LAYER_MAP_VERSION,
      kind: LAYER_MAP_KIND,
      plan: { model: model.id, expand: canonicalExpansion ?? '', file: opts.fileName ?? null },
      base: shape,
      result: { ...shape, numLayers: layout.numLayers },
      blocks: layout.blocks,
      deleted: layout.deleted,
      trainableExtras: extras,
      params,
      stages,
      run: run ? { host: run.host, gpus: run.gpus, nodes: run.nodes, weights: run.weights } : null,
      ...(evaluation ? { evaluation } : {}),
    };
  }
  return { ast, lines, diagnostics: capDiagnosticsPerLine(diags, lines), model, layout, init, train, trainLast, params, trainableWithHead, memory, stages, run, evaluation, sweep, canonicalExpansion, layerMap };
}
