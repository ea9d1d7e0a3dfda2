// Plans from evidence: from a layer-importance profile, a budget, deletions and a placement strategy
// to an expansion in the plan notation, checked by the analyzer itself (docs/suggestions.md).
//   slayer      the paper: new blocks interleaved evenly over the shallow half (first ⌊L/2⌋ blocks)
//   importance  new blocks after the shallow blocks that matter most (largest score of the profile)
//   llama-pro   LLaMA Pro: interleaved evenly over every kept block
//   bottom/top  LLaMA Pro's ablations: all new blocks stacked after the first / the last kept block
//   dus         SOLAR-style depth up-scaling: the middle N blocks each duplicated
// Deletions take the least important blocks of the deepest quarter (ties: the deeper one). When they
// are the deepest blocks, the last kept block becomes the updated final block (`… | 13 | 1◇`).
// Pure: no I/O; the shape and the profile are passed in.
import type { ModelShape, ParamCounts } from '../protocol/layerMap';
import type { ImportanceFile } from '../protocol/runnerEvents';
import type { PlanOverlay } from './overlay';
import { paramsPerBlock } from './accounting';
import { analyzePlan, type TrainItem } from './analyze';
import { MAX_BLOCKS, MAX_EXPANSION_COUNT, showLimit } from './limits';
import { shapeToHfConfig } from './models';
import { planOverlay } from './overlay';

export type SuggestStrategy = 'slayer' | 'importance' | 'llama-pro' | 'bottom' | 'top' | 'dus';
export const SUGGEST_STRATEGIES: readonly SuggestStrategy[] = ['slayer', 'importance', 'llama-pro', 'bottom', 'top', 'dus'];
export const STRATEGY_TEXT: Readonly<Record<SuggestStrategy, string>> = {
  slayer: 'the paper: interleave evenly in the shallow half',
  importance: 'after the shallow blocks that matter most',
  'llama-pro': 'LLaMA Pro: interleave evenly over the whole stack',
  bottom: 'LLaMA Pro ablation: all new blocks at the bottom',
  top: 'LLaMA Pro ablation: all new blocks on top',
  dus: 'SOLAR-style depth up-scaling: duplicate the middle blocks',
};
/** The initialisation each strategy's source uses: the paper averages (◇), LLaMA Pro and SOLAR copy. */
export const STRATEGY_INIT: Readonly<Record<SuggestStrategy, 'copy' | 'average'>> = {
  slayer: 'average', importance: 'average', 'llama-pro': 'copy', bottom: 'copy', top: 'copy', dus: 'copy',
};

/** How many new blocks: a count, a trainable-parameter budget, or the resulting depth. */
export type SuggestBudget = { kind: 'blocks' | 'params' | 'depth'; value: number };
/** Blocks to delete: a count, or every deep block whose normalised importance is at most `threshold`. */
export type SuggestDeletion = { kind: 'count'; count: number } | { kind: 'auto'; threshold: number };
export const DEFAULT_AUTO_THRESHOLD = 0.05;

/** One importance score per base block (0-based); higher means the block matters more. */
export interface ImportanceProfile {
  scores: number[];
  /** What the scores are (`removal_drop`, `angular_all`, `weight distance`), for the reasons shown. */
  metric: string;
  /** The model the profile was measured on, when known. */
  model: string | null;
}

export interface SuggestRequest {
  shape: ModelShape;
  profile: ImportanceProfile | null;
  budget: SuggestBudget;
  deletion: SuggestDeletion;
  strategy: SuggestStrategy;
  /** What trains (the plan's `train`); default `new, final`. */
  train?: readonly TrainItem[];
  /** Default: the strategy's (STRATEGY_INIT). */
  init?: 'copy' | 'average';
}

export interface Suggestion {
  strategy: SuggestStrategy;
  /** Canonical notation, accepted by the analyzer without errors. */
  expand: string;
  init: 'copy' | 'average';
  train: TrainItem[];
  baseLayers: number;
  newCount: number;
  /** Resulting depth: L + N − D. */
  depth: number;
  /** New blocks per base block they follow (0-based), ascending. */
  insertAfter: { block: number; count: number }[];
  /** Deleted base blocks, 0-based, ascending. */
  deleted: number[];
  /** The base block that becomes the updated final block, or null. */
  final: number | null;
  params: ParamCounts;
  /** Trainable parameters with the output head: the paper's Table 4 figure. */
  trainableWithHead: number;
  /** For drawing the suggestion over the importance charts. */
  overlay: PlanOverlay;
  /** Why these blocks, each naming blocks as `0-based (1-based)`. */
  reasons: string[];
  /** The analyzer's warnings on the suggested plan (e.g. SL024 beyond 2 deletions). */
  warnings: string[];
}

export class SuggestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SuggestError';
  }
}

/** A block as every surface shows it: 0-based, with the paper's 1-based in parentheses. */
export const blockLabel = (i: number): string => `${i} (${i + 1})`;
export const blocksLabel = (xs: readonly number[]): string => (xs.length ? xs.map(blockLabel).join(', ') : 'none');

// ---------------------------------------------------------------------------------------------
// Inputs

const IMPORTANCE_METRICS = ['removal_drop', 'angular_all', 'angular_last', 'insert_average_drop', 'insert_copy_drop'] as const;
export type ProfileMetric = (typeof IMPORTANCE_METRICS)[number];
export const PROFILE_METRICS: readonly ProfileMetric[] = IMPORTANCE_METRICS;

/**
 * A measured importance.json as a profile: by default the drop when a block is removed (the
 * paper's Figure 2b, "the layers whose deletion drops performance most are the most critical"),
 * else the angular distance (Figure 2a: larger distance, more important).
 */
export function profileFromImportance(file: ImportanceFile, metric?: ProfileMetric): ImportanceProfile {
  const pick = metric ?? (file.removal_drop ? 'removal_drop' : 'angular_all');
  const scores = file[pick];
  if (!scores) throw new SuggestError(`importance.json has no "${pick}" measurement (the run did not measure it)`);
  return { scores: [...scores], metric: pick, model: file.model };
}

/**
 * Weight-space similarity as a profile: block i scores the angular distance arccos(cos)/π between
 * its weights and block i + 1's (similar neighbours are redundant); the last block, which has no
 * successor, takes its predecessor's pair. Undefined cosines count as 0 distance.
 */
export function profileFromSimilarity(blockCosine: readonly (number | null)[], model: string | null = null): ImportanceProfile {
  if (!blockCosine.length) throw new SuggestError('the weight similarity needs at least two blocks');
  const dist = blockCosine.map((c) => (c === null ? 0 : Math.acos(Math.max(-1, Math.min(1, c))) / Math.PI));
  return { scores: [...dist, dist[dist.length - 1]!], metric: 'weight distance to the next block', model };
}

/** `8`, `8blocks`, `1.8Bparams` / `1800000000params`, `38depth` (a space before the unit is fine). */
export function parseBudget(text: string): SuggestBudget {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([KMBT])?\s*(blocks?|params?|depth)?\s*$/i.exec(text);
  if (!m) throw new SuggestError(`budget "${text.slice(0, 40)}": use N (new blocks), Nblocks, Nparams (e.g. 1.8Bparams) or Ndepth`);
  const unit = (m[3] ?? 'blocks').toLowerCase();
  const kind: SuggestBudget['kind'] = unit.startsWith('block') ? 'blocks' : unit.startsWith('param') ? 'params' : 'depth';
  const scale = m[2] ? { K: 1e3, M: 1e6, B: 1e9, T: 1e12 }[m[2].toUpperCase() as 'K' | 'M' | 'B' | 'T'] : 1;
  if (m[2] && kind !== 'params') throw new SuggestError(`budget "${text.slice(0, 40)}": K/M/B/T only go with params`);
  const value = Math.round(Number(m[1]) * scale);
  if (kind !== 'params' && !Number.isInteger(Number(m[1]))) throw new SuggestError(`budget "${text.slice(0, 40)}": a count of ${kind} is a whole number`);
  if (!(value > 0)) throw new SuggestError(`budget "${text.slice(0, 40)}" must be positive`);
  return { kind, value };
}

/** `2`, `0`, `auto`, `auto:0.1`. */
export function parseDeletion(text: string): SuggestDeletion {
  const t = text.trim();
  if (/^\d+$/.test(t)) return { kind: 'count', count: Number(t) };
  const m = /^auto(?::(\d*\.?\d+))?$/.exec(t);
  if (!m) throw new SuggestError(`delete "${t.slice(0, 40)}": use a number of blocks, "auto" or "auto:THRESHOLD" (0–1)`);
  const threshold = m[1] === undefined ? DEFAULT_AUTO_THRESHOLD : Number(m[1]);
  if (threshold > 1) throw new SuggestError(`delete "${t.slice(0, 40)}": the threshold is a fraction of the importance range, 0–1`);
  return { kind: 'auto', threshold };
}

// ---------------------------------------------------------------------------------------------
// Deletions

/** Scores scaled to 0–1 over the whole stack (all equal: 0). */
export function normalisedScores(scores: readonly number[]): number[] {
  const lo = Math.min(...scores);
  const hi = Math.max(...scores);
  return scores.map((s) => (hi > lo ? (s - lo) / (hi - lo) : 0));
}

/** The deepest quarter, where deletions are picked (at least one block from 4 blocks up). */
export const deletionWindow = (L: number): number => Math.floor(L / 4);

function pickDeletions(L: number, profile: ImportanceProfile | null, deletion: SuggestDeletion, reasons: string[]): number[] {
  const w = deletionWindow(L);
  const window = Array.from({ length: w }, (_, k) => L - w + k);
  if (deletion.kind === 'count') {
    const n = deletion.count;
    if (n === 0) return [];
    if (n > w) throw new SuggestError(`cannot delete ${n} blocks: deletions are picked from the deepest quarter, ${w} of ${L} blocks${w ? ` (blocks ${blockLabel(L - w)} to ${blockLabel(L - 1)})` : ''}; the paper deletes 2 of 32`);
    if (!profile) {
      reasons.push(`deleted: the deepest ${n} (no importance profile to choose by)`);
      return window.slice(w - n);
    }
    const chosen = [...window].sort((a, b) => profile.scores[a]! - profile.scores[b]! || b - a).slice(0, n).sort((a, b) => a - b);
    reasons.push(`deleted: the ${n} least important of the deepest quarter by ${profile.metric}: ${chosen.map((b) => `${blockLabel(b)} = ${fmt(profile.scores[b]!)}`).join(', ')}`);
    return chosen;
  }
  if (!profile) throw new SuggestError('deleting "auto" needs an importance profile (--importance or --checkpoint)');
  const norm = normalisedScores(profile.scores);
  const chosen = window.filter((b) => norm[b]! <= deletion.threshold);
  reasons.push(chosen.length
    ? `deleted: the blocks of the deepest quarter whose ${profile.metric} is at most ${deletion.threshold} of the stack's range: ${chosen.map((b) => `${blockLabel(b)} at ${fmt(norm[b]!)}`).join(', ')}`
    : `deleted: none (no block of the deepest quarter is at most ${deletion.threshold} of the ${profile.metric} range)`);
  return chosen;
}

const fmt = (x: number): string => (Math.abs(x) >= 0.01 || x === 0 ? x.toFixed(3) : x.toExponential(2));

// ---------------------------------------------------------------------------------------------
// Placement: how many new blocks go after each base block

/** `count` over `blocks` split into `min(count, blocks.length)` even consecutive groups (shorter groups first, extra blocks on the shallowest). */
function interleave(blocks: readonly number[], count: number, inserts: number[]): void {
  const S = blocks.length;
  if (!S) throw new SuggestError('there is no block to insert after');
  const G = Math.min(count, S);
  const q = Math.floor(S / G);
  const r = S % G;
  const a = Math.floor(count / G);
  const b = count % G;
  let at = 0;
  for (let g = 0; g < G; g++) {
    at += q + (g >= G - r ? 1 : 0);
    inserts[blocks[at - 1]!]! += a + (g < b ? 1 : 0);
  }
}

function place(strategy: SuggestStrategy, L: number, N: number, kept: readonly number[], profile: ImportanceProfile | null): { inserts: number[]; reason: string } {
  const inserts = new Array<number>(L).fill(0);
  const reasons: string[] = [];
  const shallow = kept.filter((b) => b < Math.floor(L / 2));
  switch (strategy) {
    case 'slayer':
      interleave(shallow.length ? shallow : kept, N, inserts);
      reasons.push(`new blocks: ${N} interleaved evenly over the shallow half, blocks 0–${Math.floor(L / 2) - 1} (paper 1–${Math.floor(L / 2)}), as the paper does`);
      break;
    case 'llama-pro':
      interleave(kept, N, inserts);
      reasons.push(`new blocks: ${N} interleaved evenly over all ${kept.length} kept blocks (LLaMA Pro)`);
      break;
    case 'bottom':
      inserts[kept[0]!] = N;
      reasons.push(`new blocks: all ${N} stacked after block ${blockLabel(kept[0]!)} (LLaMA Pro's "bottom" ablation; a new block needs a block before it)`);
      break;
    case 'top':
      inserts[kept[kept.length - 1]!] = N;
      reasons.push(`new blocks: all ${N} stacked after block ${blockLabel(kept[kept.length - 1]!)}, the last kept block (LLaMA Pro's "top" ablation)`);
      break;
    case 'dus': {
      const n = Math.min(N, kept.length);
      const from = Math.floor((kept.length - n) / 2);
      interleave(kept.slice(from, from + n), N, inserts);
      reasons.push(`new blocks: the middle ${n} blocks, ${blockLabel(kept[from]!)} to ${blockLabel(kept[from + n - 1]!)}, each followed by its duplicate (SOLAR's depth up-scaling repeats them as a second stack; the notation places each copy after its original)`);
      break;
    }
    case 'importance': {
      if (!profile) throw new SuggestError('the "importance" strategy needs an importance profile (--importance or --checkpoint)');
      const pool = shallow.length ? shallow : kept;
      const ranked = [...pool].sort((a, b) => profile.scores[b]! - profile.scores[a]! || a - b);
      for (let k = 0; k < N; k++) inserts[ranked[k % ranked.length]!]!++;
      const top = ranked.slice(0, Math.min(N, ranked.length));
      reasons.push(`new blocks: after the ${top.length} shallow blocks with the largest ${profile.metric}: ${[...top].sort((a, b) => a - b).map((b) => `${blockLabel(b)} = ${fmt(profile.scores[b]!)}`).join(', ')}`);
      break;
    }
  }
  return { inserts, reason: reasons.join(' ') };
}

// ---------------------------------------------------------------------------------------------
// Encoding in the notation

type Seg = { kind: 'group'; keep: number; insert: number; repeat: number } | { kind: 'keep'; count: number } | { kind: 'delete'; count: number };

/**
 * The notation for a placement. `finalForm`: the deleted blocks are the deepest D and the last kept
 * block is written as the updated final block `| 1`, the deletion implicit (the paper's form).
 */
function encode(L: number, inserts: readonly number[], deleted: ReadonlySet<number>, finalForm: boolean, average: boolean): string {
  const segs: Seg[] = [];
  const end = finalForm ? L - deleted.size - 1 : L;
  let run = 0;
  let dels = 0;
  const push = (s: Seg): void => {
    const last = segs[segs.length - 1];
    if (s.kind === 'group' && last?.kind === 'group' && last.keep === s.keep && last.insert === s.insert) last.repeat++;
    else segs.push(s);
  };
  const flushDeletes = (): void => {
    if (dels) push({ kind: 'delete', count: dels });
    dels = 0;
  };
  for (let b = 0; b < end; b++) {
    if (deleted.has(b)) {
      if (run) push({ kind: 'keep', count: run });
      run = 0;
      dels++;
      continue;
    }
    flushDeletes();
    run++;
    if (inserts[b]! > 0) {
      push({ kind: 'group', keep: run, insert: inserts[b]!, repeat: 1 });
      run = 0;
    }
  }
  flushDeletes();
  if (run) push({ kind: 'keep', count: run });
  if (finalForm) push({ kind: 'keep', count: 1 });
  const parts = segs.map((s) => (s.kind === 'group' ? (s.repeat === 1 ? `(${s.keep}+${s.insert})` : `(${s.keep}+${s.insert})x${s.repeat}`) : s.kind === 'keep' ? String(s.count) : `-${s.count}`));
  if (average) {
    let idx = -1;
    segs.forEach((s, j) => { if (s.kind !== 'delete') idx = j; });
    if (idx >= 0) parts[idx] = `${parts[idx]}◇`;
  }
  return parts.join(' | ');
}

/** The paper's form needs the deleted blocks at the deep end and two plain kept blocks before them. */
function finalFormPossible(L: number, inserts: readonly number[], deleted: readonly number[], trainsFinal: boolean): boolean {
  const D = deleted.length;
  if (!D || !trainsFinal || deleted[0] !== L - D) return false;
  const f = L - D - 1;
  return f >= 1 && inserts[f] === 0 && inserts[f - 1] === 0;
}

// ---------------------------------------------------------------------------------------------

function newBlocksFor(req: SuggestRequest, L: number, D: number, hasFinal: boolean, train: readonly TrainItem[]): number {
  const { budget } = req;
  if (budget.kind === 'blocks') return budget.value;
  if (budget.kind === 'depth') {
    const n = budget.value - L + D;
    if (n < 1) throw new SuggestError(`a depth of ${budget.value} leaves no room for a new block: ${L} blocks − ${D} deleted is already ${L - D}`);
    return n;
  }
  if (!train.includes('new')) throw new SuggestError('a parameter budget counts trainable new blocks, but the train set has no "new"');
  const per = paramsPerBlock(req.shape);
  const fixed = (hasFinal && train.includes('final') ? per : 0) + (train.includes('kept') ? (L - D - (hasFinal ? 1 : 0)) * per : 0);
  const n = Math.floor((budget.value - fixed) / per);
  if (n < 1) throw new SuggestError(`${budget.value.toLocaleString('en-US')} trainable parameters do not pay for one new block: a block has ${per.toLocaleString('en-US')}${fixed ? `, and ${fixed.toLocaleString('en-US')} already train` : ''}`);
  return n;
}

const VIRTUAL_DIR = '/suggested-model';

/** The suggestion for a request; throws SuggestError with a reason when the request cannot be met. */
export function suggestExpansion(req: SuggestRequest): Suggestion {
  const L = req.shape.numLayers;
  const train: TrainItem[] = req.train?.length ? [...req.train] : ['new', 'final'];
  const init = req.init ?? STRATEGY_INIT[req.strategy];
  if (req.profile && req.profile.scores.length !== L) {
    throw new SuggestError(`the importance profile has ${req.profile.scores.length} blocks but the model has ${L}`);
  }
  if (req.profile && req.profile.scores.some((s) => !Number.isFinite(s))) throw new SuggestError('the importance profile holds a value that is not a finite number');
  if (L < 2) throw new SuggestError('the model has fewer than 2 blocks');
  const deletionReasons: string[] = [];
  const deleted = pickDeletions(L, req.profile, req.deletion, deletionReasons);
  const deletedSet = new Set(deleted);
  const kept = Array.from({ length: L }, (_, b) => b).filter((b) => !deletedSet.has(b));
  const tailDeletion = deleted.length > 0 && deleted[0] === L - deleted.length && train.includes('final');
  // The final block's presence changes a parameter budget; it depends on where the blocks go, so
  // place once assuming it, and again without it if the placement leaves no room for it.
  let N = newBlocksFor(req, L, deleted.length, tailDeletion, train);
  // Checked before anything of that size is built (a budget of 1e15 parameters is not a hang).
  if (N > MAX_EXPANSION_COUNT || L + N - deleted.length > MAX_BLOCKS) {
    throw new SuggestError(`${showLimit(N)} new blocks would make ${showLimit(L + N - deleted.length)} blocks; a plan may make at most ${showLimit(MAX_BLOCKS)}`);
  }
  let placed = place(req.strategy, L, N, kept, req.profile);
  let finalForm = finalFormPossible(L, placed.inserts, deleted, train.includes('final'));
  if (tailDeletion && !finalForm && req.budget.kind === 'params') {
    N = newBlocksFor(req, L, deleted.length, false, train);
    placed = place(req.strategy, L, N, kept, req.profile);
    finalForm = finalFormPossible(L, placed.inserts, deleted, train.includes('final'));
  }
  const inserts = placed.inserts;
  const reasons = [placed.reason, ...deletionReasons];
  const expand = encode(L, inserts, deletedSet, finalForm, init === 'average');
  if (finalForm) reasons.push(`updated final block: ${blockLabel(L - deleted.length - 1)}, re-initialised from itself and the deleted blocks, trained`);
  else if (tailDeletion) reasons.push('no updated final block: the new blocks leave no plain kept block before the deleted ones');

  // The analyzer is the judge: the suggestion is a plan it accepts, with its own accounting.
  const defaultTrain = train.length === 2 && train[0] === 'new' && train[1] === 'final';
  const plan = `model ./\nexpand ${expand}\n${defaultTrain ? '' : `train ${train.join(', ')}\n`}`;
  const config = JSON.stringify(shapeToHfConfig(req.shape));
  const a = analyzePlan(plan, { baseDir: VIRTUAL_DIR, readFile: (p) => (p === `${VIRTUAL_DIR}/config.json` ? config : undefined) });
  const errors = a.diagnostics.filter((d) => d.severity === 'error');
  if (errors.length || !a.layout || !a.params || a.trainableWithHead === null) {
    throw new SuggestError(`internal: the suggested expansion "${expand}" does not check: ${errors.map((d) => d.message).join('; ') || 'no layout'}`);
  }
  const insertAfter = inserts.flatMap((count, block) => (count ? [{ block, count }] : []));
  return {
    strategy: req.strategy,
    expand,
    init,
    train,
    baseLayers: L,
    newCount: a.layout.newCount,
    depth: a.layout.numLayers,
    insertAfter,
    deleted: a.layout.deleted,
    final: a.layout.final?.original ?? null,
    params: a.params,
    trainableWithHead: a.trainableWithHead,
    overlay: planOverlay(a.layout, { planFile: null, expand, init }),
    reasons,
    warnings: a.diagnostics.filter((d) => d.severity === 'warning').map((d) => `${d.message} [${d.code}]`),
  };
}

/** The suggestion as lines of text (the CLI's output, a hover, a quick pick's detail). */
export function suggestionLines(s: Suggestion): string[] {
  const p = s.params;
  const c = (n: number): string => n.toLocaleString('en-US');
  return [
    `expand   ${s.expand}`,
    `strategy ${s.strategy} (${STRATEGY_TEXT[s.strategy]}), init ${s.init}, train ${s.train.join(', ')}`,
    `depth    ${s.baseLayers} + ${s.newCount} new − ${s.deleted.length} deleted = ${s.depth} blocks`,
    `new      after base blocks, 0-based (paper 1-based): ${s.insertAfter.map((x) => `${blockLabel(x.block)}${x.count > 1 ? ` ×${x.count}` : ''}`).join(', ')}`,
    `deleted  0-based (paper 1-based): ${blocksLabel(s.deleted)}`,
    `final    ${s.final === null ? 'none' : `${blockLabel(s.final)} (updated final block)`}`,
    `params   total ${c(p.total)}, trainable ${c(p.trainable)} (${c(p.trainableBlocks / p.perBlock)} blocks × ${c(p.perBlock)}), with the head ${c(s.trainableWithHead)}`,
  ];
}

/**
 * A suggested expansion previewed over the importance charts before it is applied
 * (SLayer: Suggest Expansion…, docs/suggestions.md). Blocks in `lines` and `reasons` are already
 * labelled 0-based with the paper's 1-based in parentheses.
 */
export interface SuggestionPreview {
  planFile: string;
  strategy: string;
  expand: string;
  /** What the suggested plan does to each base block (drawn like the plan's overlay, dashed). */
  overlay: PlanOverlay;
  /** The suggestion and its accounting, one line each (`expand …`, `depth …`, `params …`). */
  lines: string[];
  reasons: string[];
  warnings: string[];
}

/** What the importance view previews before the suggestion is applied to `planFile`. */
export function suggestionPreview(s: Suggestion, planFile: string, profile: ImportanceProfile): SuggestionPreview {
  return {
    planFile, strategy: s.strategy, expand: s.expand, overlay: s.overlay,
    lines: suggestionLines(s), reasons: [`from ${profile.metric}${profile.model ? ` of ${profile.model}` : ''}`, ...s.reasons], warnings: s.warnings,
  };
}
