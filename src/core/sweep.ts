// The `sweep` section: several variants of one plan — same model, data, stages and eval — written
// once, one line each (the paper's Table 3, LLaMA Pro's placement ablation, the usual controls):
//
//   sweep placement
//     interleaved  (1+1)x4
//     bottom       (4+4)
//     last2        none  train last 2       # no expansion, fine-tune the deepest 2 blocks
//     full         none  train all          # full fine-tuning
//
// A variant line is `NAME [EXPANSION] [train …] [init …] [final …] [zero …]`. The expansion is the
// words before the first override key (absent: the plan's own; `none`: no expansion, every block
// kept). Each variant is compiled as the plan with those statements replaced, so it gets exactly
// the checks of a plan; its diagnostics are mapped back onto the variant's line (positions of
// the words it wrote), and problems it causes elsewhere (memory on the `run` line, …) are shown
// on its name as SL071.
import { findStatement, type PlanAst, type Setting, type SweepBlock, type Word } from './ast';
import type { AnalyzeOptions, PlanAnalysis } from './analyze';
import { diagnostic, nearest, type PlanDiagnostic, type PlanFix } from './diagnostics';
import { showLimit } from './limits';
import type { LayerMap, ModelShape } from '../protocol/layerMap';
import type { Span } from './text';

/** Statements a variant may override, after its expansion. */
export const SWEEP_OVERRIDES = ['train', 'init', 'final', 'zero'] as const;
export type SweepOverride = (typeof SWEEP_OVERRIDES)[number];
/** The expansion word of a control without new blocks: every original block kept. */
export const NO_EXPANSION = 'none';
/** Each variant is compiled as a whole plan: past this many, a hostile plan would cost too much (docs/limits.md). */
export const MAX_SWEEP_VARIANTS = 64;
/** Sweep and variant names become run names (`placement-bottom`) and file names: kept plain. */
export const SWEEP_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$/;

export interface SweepVariant {
  name: string;
  nameSpan: Span;
  /** The variant's line, from its name to its last word. */
  span: Span;
  /** The expansion as written; null = the plan's own; `none` = no expansion. */
  expand: string | null;
  overrides: Partial<Record<SweepOverride, string>>;
  /** The variant compiled as a plan; null when it cannot be (no model shape for `none`). */
  analysis: PlanAnalysis | null;
  layerMap: LayerMap | null;
}

export interface SweepAnalysis {
  name: string | null;
  nameSpan: Span | null;
  variants: SweepVariant[];
  diagnostics: PlanDiagnostic[];
}

/** What the sweep check needs of the plan it varies. */
export interface SweepBase {
  shape: ModelShape | null;
  diagnostics: readonly PlanDiagnostic[];
}

type Analyze = (text: string, opts: AnalyzeOptions) => PlanAnalysis;

/** One piece of a variant's text: copied from the plan (`orig`) or written for the variant (`src`: the words it stands for). */
interface Piece {
  text: string;
  newStart: number;
  orig: number | null;
  src: Span | null;
}

interface Edit {
  start: number;
  end: number;
  text: string;
  src: Span;
}

export function analyzeSweep(text: string, ast: PlanAst, base: SweepBase, opts: AnalyzeOptions, analyze: Analyze): SweepAnalysis {
  const diags: PlanDiagnostic[] = [];
  for (const dup of ast.sweeps.slice(1)) {
    diags.push(diagnostic('SL003', 'error', dup.header.key.span, 'a second "sweep" section; only the first one counts', { related: [{ span: ast.sweeps[0]!.header.key.span, message: 'first sweep section' }], tags: ['unnecessary'] }));
  }
  const block = ast.sweeps[0]!;
  checkSweepShape(block, diags);
  const blanked = blankSweeps(text, ast.sweeps);
  const seen = new Map<string, Word>();
  const variants: SweepVariant[] = [];
  if (block.variants.length > MAX_SWEEP_VARIANTS) {
    const extra = block.variants[MAX_SWEEP_VARIANTS]!;
    diags.push(diagnostic('SL070', 'error', extra.key.span, `a sweep may list at most ${MAX_SWEEP_VARIANTS} variants; this is variant ${MAX_SWEEP_VARIANTS + 1} of ${showLimit(block.variants.length)} (see docs/limits.md)`));
  }
  for (const line of block.variants.slice(0, MAX_SWEEP_VARIANTS)) {
    const name = line.key;
    const prev = seen.get(name.text);
    if (prev) {
      diags.push(diagnostic('SL070', 'error', name.span, `variant "${name.text}" is listed twice; variant names name the runs`, { related: [{ span: prev.span, message: 'first listed here' }] }));
      continue;
    }
    seen.set(name.text, name);
    variants.push(compileVariant(text, blanked, ast, line, base, opts, analyze, diags));
  }
  return { name: block.name?.text ?? null, nameSpan: block.name?.span ?? null, variants, diagnostics: diags };
}

function checkSweepShape(block: SweepBlock, diags: PlanDiagnostic[]): void {
  if (!block.name) diags.push(diagnostic('SL070', 'error', block.header.key.span, 'a sweep needs a name, e.g. "sweep placement": its runs are named placement-VARIANT'));
  else if (!SWEEP_NAME_RE.test(block.name.text)) diags.push(diagnostic('SL070', 'error', block.name.span, `"${block.name.text}" cannot name a sweep: use up to 32 letters, digits, ".", "_" or "-"`));
  for (const v of block.variants) {
    if (!SWEEP_NAME_RE.test(v.key.text)) diags.push(diagnostic('SL070', 'error', v.key.span, `"${v.key.text}" cannot name a variant: use up to 32 letters, digits, ".", "_" or "-"`));
  }
  if (block.variants.length === 0) diags.push(diagnostic('SL070', 'warning', block.header.span, 'the sweep lists no variants: add indented lines such as "  bottom  (4+1)x2"'));
  else if (block.variants.length === 1) diags.push(diagnostic('SL070', 'warning', block.header.span, 'a sweep of one variant is a single run: add the variants to compare it with'));
}

/** The plan without its sweep sections, offsets unchanged (every character but line ends becomes a space). */
function blankSweeps(text: string, sweeps: readonly SweepBlock[]): string {
  let out = text;
  for (const s of sweeps) {
    const { start, end } = { start: s.header.span.start, end: s.span.end };
    out = out.slice(0, start) + out.slice(start, end).replace(/[^\r\n]/g, ' ') + out.slice(end);
  }
  return out;
}

/** Splits a variant line into its expansion words and its overrides (key word, value words). */
function splitVariant(line: Setting, diags: PlanDiagnostic[]): { expr: Word[]; overrides: { key: Word; args: Word[] }[] } {
  const keys: readonly string[] = SWEEP_OVERRIDES;
  const expr: Word[] = [];
  const overrides: { key: Word; args: Word[] }[] = [];
  for (const word of line.args) {
    // A misspelt override key would otherwise read as bad notation: reported, then read as the key.
    const guess = !overrides.length && /^[a-z]{3,}$/.test(word.text) && word.text !== NO_EXPANSION && !keys.includes(word.text) ? nearest(word.text, SWEEP_OVERRIDES) : undefined;
    if (guess) {
      diags.push(diagnostic('SL002', 'error', word.span, `"${word.text}" is not part of an expansion; did you mean "${guess}"?`,
        { fixes: [{ title: `Change to "${guess}"`, edits: [{ span: word.span, newText: guess }], preferred: true }] }));
    }
    const w = guess ? { text: guess, span: word.span } : word;
    if (keys.includes(w.text)) {
      const prev = overrides.find((o) => o.key.text === w.text);
      if (prev) diags.push(diagnostic('SL003', 'error', w.span, `"${w.text}" is given twice in variant ${line.key.text}; only the first one counts`, { related: [{ span: prev.key.span, message: 'first given here' }] }));
      overrides.push({ key: w, args: [] });
    } else if (overrides.length) overrides[overrides.length - 1]!.args.push(w);
    else expr.push(w);
  }
  return { expr, overrides: overrides.filter((o, i) => overrides.findIndex((x) => x.key.text === o.key.text) === i) };
}

const spanOf = (words: readonly Word[]): Span => ({ start: words[0]!.span.start, end: words[words.length - 1]!.span.end });

function compileVariant(text: string, blanked: string, ast: PlanAst, line: Setting, base: SweepBase, opts: AnalyzeOptions, analyze: Analyze, diags: PlanDiagnostic[]): SweepVariant {
  const name = line.key.text;
  const before = diags.length;
  const parts = splitVariant(line, diags);
  const variant: SweepVariant = {
    name, nameSpan: line.key.span, span: line.span, expand: parts.expr.length ? text.slice(spanOf(parts.expr).start, spanOf(parts.expr).end) : null,
    overrides: {}, analysis: null, layerMap: null,
  };
  const edits: Edit[] = [];
  const statement = (key: string, keyWord: Word, args: readonly Word[], value: string | null): void => {
    const src = args.length ? spanOf(args) : keyWord.span;
    const newText = value ?? text.slice(src.start, src.end);
    const stmt = findStatement(ast, key as Parameters<typeof findStatement>[1]);
    if (stmt && stmt.args.length) edits.push({ start: stmt.value.span.start, end: stmt.value.span.end, text: newText, src });
    else if (stmt) edits.push({ start: stmt.key.span.end, end: stmt.key.span.end, text: ` ${newText}`, src });
    else {
      edits.push({ start: text.length, end: text.length, text: `\n${key} `, src: keyWord.span });
      edits.push({ start: text.length, end: text.length, text: newText, src });
    }
  };
  if (parts.expr.length) {
    const none = parts.expr.length === 1 && parts.expr[0]!.text === NO_EXPANSION;
    if (none && !base.shape) return variant; // the plan's model is unknown (reported on its own)
    statement('expand', line.key, parts.expr, none ? String(base.shape!.numLayers) : null);
  }
  for (const o of parts.overrides) {
    if (!o.args.length) {
      diags.push(diagnostic('SL004', 'error', o.key.span, `"${o.key.text}" in variant ${name} needs a value`));
      continue;
    }
    variant.overrides[o.key.text as SweepOverride] = text.slice(spanOf(o.args).start, spanOf(o.args).end);
    statement(o.key.text, o.key, o.args, null);
  }
  const { text: variantText, pieces } = splice(blanked, edits);
  const analysis = analyze(variantText, { ...opts, insideSweep: true });
  variant.analysis = analysis;
  variant.layerMap = analysis.layerMap;
  for (const d of analysis.diagnostics) {
    const mapped = mapDiagnostic(d, pieces, line, base.diagnostics);
    if (mapped) diags.push(mapped);
  }
  // An error on the variant's own line (a misspelt key) leaves it uncompiled, like any plan with an error.
  if (diags.slice(before).some((d) => d.severity === 'error')) variant.layerMap = null;
  return variant;
}

/** Applies edits (sorted by position, several at one position in order) and records where each piece came from. */
function splice(text: string, edits: readonly Edit[]): { text: string; pieces: Piece[] } {
  const sorted = edits.map((e, i) => ({ e, i })).sort((a, b) => a.e.start - b.e.start || a.i - b.i).map((x) => x.e);
  const pieces: Piece[] = [];
  let out = '';
  let at = 0;
  const push = (t: string, orig: number | null, src: Span | null): void => {
    pieces.push({ text: t, newStart: out.length, orig, src });
    out += t;
  };
  for (const e of sorted) {
    if (e.start > at) push(text.slice(at, e.start), at, null);
    push(e.text, null, e.src);
    at = Math.max(at, e.end);
  }
  push(text.slice(at), at, null);
  return { text: out, pieces };
}

/** The piece holding a position of the variant's text (an end position belongs to the piece it ends). */
function pieceAt(pieces: readonly Piece[], pos: number, isEnd: boolean): Piece {
  for (const p of pieces) {
    const end = p.newStart + p.text.length;
    if (pos >= p.newStart && (pos < end || (isEnd && pos === end))) return p;
  }
  return pieces[pieces.length - 1]!;
}

function mapPos(pieces: readonly Piece[], pos: number, isEnd: boolean): number {
  const p = pieceAt(pieces, pos, isEnd);
  const off = pos - p.newStart;
  if (p.orig !== null) return p.orig + off;
  const src = p.src!;
  // Text copied from the variant's own words maps letter by letter; written text (`none` → 32) to its word.
  if (src.end - src.start === p.text.length) return src.start + off;
  return isEnd && off > 0 ? src.end : src.start;
}

/** A span lies in text the variant wrote (exactly, so its edits can be offered as fixes). */
function inVariantText(pieces: readonly Piece[], span: Span): boolean {
  const p = pieceAt(pieces, span.start, false);
  return p.orig === null && span.end <= p.newStart + p.text.length;
}

function mapDiagnostic(d: PlanDiagnostic, pieces: readonly Piece[], line: Setting, baseDiags: readonly PlanDiagnostic[]): PlanDiagnostic | null {
  const span = { start: mapPos(pieces, d.span.start, false), end: mapPos(pieces, d.span.end, true) };
  const name = line.key.text;
  if (inVariantText(pieces, d.span)) {
    const fixes: PlanFix[] = d.fixes
      .filter((f) => f.edits.every((e) => inVariantText(pieces, e.span) && pieceAt(pieces, e.span.start, false).src!.end - pieceAt(pieces, e.span.start, false).src!.start === pieceAt(pieces, e.span.start, false).text.length))
      .map((f) => ({ ...f, edits: f.edits.map((e) => ({ span: { start: mapPos(pieces, e.span.start, false), end: mapPos(pieces, e.span.end, true) }, newText: e.newText })) }));
    return { ...d, message: `variant ${name}: ${d.message}`, span, fixes, related: [] };
  }
  // The plan's own problems are reported once, on the plan.
  if (baseDiags.some((b) => b.code === d.code && b.message === d.message && b.span.start === span.start && b.span.end === span.end)) return null;
  return diagnostic('SL071', d.severity, line.key.span, `variant ${name}: ${d.message} [${d.code}]`, { related: [{ span, message: `${d.code} here, for variant ${name}` }] });
}
