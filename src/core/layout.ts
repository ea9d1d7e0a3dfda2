// From an expansion expression and the base depth L to the resulting stack: which original blocks
// each segment covers, which output blocks it produces, what is deleted, and the updated final block.
import { diagnostic, type PlanDiagnostic, type RelatedInfo } from './diagnostics';
import type { ExpansionExpr, Segment } from './expansion';
import type { BlockInit, LayerSource, OutputBlock } from '../protocol/layerMap';

export interface Range {
  /** Half-open [start, end). */
  start: number;
  end: number;
}

export interface SegmentLayout {
  segment: Segment;
  /** Base blocks consumed (0-based). */
  original: Range;
  /** Output blocks produced (0-based); empty for deletions. */
  output: Range;
  /** Output indices of the new blocks this segment inserts. */
  newBlocks: number[];
  /** This `1` is the updated final block. */
  isFinal: boolean;
}

export interface Layout {
  baseLayers: number;
  segments: SegmentLayout[];
  /** Base blocks covered by the segments. */
  covered: number;
  /** Deep-end blocks deleted because the segments stop short of L. */
  implicitDeleted: number[];
  /** Every deleted base block, ascending. */
  deleted: number[];
  final: { original: number; output: number; sources: number[] } | null;
  blocks: OutputBlock[];
  newCount: number;
  numLayers: number;
}

export interface LayoutOptions {
  init: 'copy' | 'average';
  zero: string[];
  final: 'average' | 'average-deleted' | 'keep';
  train: ReadonlySet<'new' | 'final' | 'kept'>;
  /** `train last N`: the deepest N kept original blocks train too (a control without new blocks). */
  trainLast?: number;
}

/** Index of the segment that is the updated final block, or -1 (see docs/plan-language.md). */
export function finalSegmentIndex(segments: readonly Segment[], implicitDeleted: number): number {
  let last = segments.length - 1;
  let trailing = 0;
  while (last >= 0 && segments[last]!.kind === 'delete') {
    trailing += (segments[last] as { count: number }).count;
    last--;
  }
  if (last < 1) return -1;
  const seg = segments[last]!;
  const prev = segments[last - 1]!;
  if (seg.kind !== 'keep' || seg.count !== 1 || prev.kind !== 'keep') return -1;
  return trailing + implicitDeleted > 0 ? last : -1;
}

const covers = (s: Segment): number => (s.kind === 'group' ? s.keep * s.repeat : s.count);

export function computeLayout(expr: ExpansionExpr, L: number, opts: LayoutOptions): { layout: Layout; diagnostics: PlanDiagnostic[] } {
  const diagnostics: PlanDiagnostic[] = [];
  const covered = expr.segments.reduce((a, s) => a + covers(s), 0);
  const implicit = Math.max(0, L - covered);
  const finalIdx = finalSegmentIndex(expr.segments, implicit);
  const blocks: OutputBlock[] = [];
  const segments: SegmentLayout[] = [];
  const deleted: number[] = [];
  let orig = 0;
  let fallbackReported = false;
  let final: Layout['final'] = null;

  const kept = (layer: number): void => {
    blocks.push({ index: blocks.length, role: 'kept', init: 'kept', sources: [{ layer, weight: 1 }], zero: [], trainable: opts.train.has('kept') });
  };

  expr.segments.forEach((seg, si) => {
    const oStart = blocks.length;
    const origStart = orig;
    const newBlocks: number[] = [];
    if (seg.kind === 'group') {
      for (let r = 0; r < seg.repeat && orig < L; r++) {
        for (let k = 0; k < seg.keep && orig < L; k++) kept(orig++);
        const after = orig - 1;
        for (let m = 0; m < seg.insert; m++) {
          let init: BlockInit = opts.init;
          let sources: LayerSource[] = [{ layer: after, weight: 1 }];
          if (opts.init === 'average') {
            if (after + 1 < L) sources = [{ layer: after, weight: 0.5 }, { layer: after + 1, weight: 0.5 }];
            else {
              init = 'copy';
              if (!fallbackReported) {
                fallbackReported = true;
                diagnostics.push(diagnostic('SL026', 'warning', seg.span,
                  `the new block after block ${after} (the last block of the model) has no next block to average with; it is initialised as a copy of block ${after}`));
              }
            }
          }
          newBlocks.push(blocks.length);
          blocks.push({ index: blocks.length, role: 'new', init, sources, zero: [...opts.zero], trainable: opts.train.has('new') });
        }
      }
      orig = origStart + seg.keep * seg.repeat;
    } else if (seg.kind === 'keep') {
      if (si === finalIdx) {
        const last = orig;
        const deep: number[] = [];
        for (let b = last + 1; b < L; b++) deep.push(b);
        const srcLayers = opts.final === 'keep' ? [last] : opts.final === 'average-deleted' ? deep : [last, ...deep];
        const init: BlockInit = opts.final === 'keep' ? 'final-keep' : opts.final === 'average-deleted' ? 'final-average-deleted' : 'final-average';
        const w = 1 / srcLayers.length;
        final = { original: last, output: blocks.length, sources: srcLayers };
        blocks.push({ index: blocks.length, role: 'final', init, sources: srcLayers.map((layer) => ({ layer, weight: w })), zero: [], trainable: opts.train.has('final') });
        orig++;
      } else {
        for (let k = 0; k < seg.count && orig < L; k++) kept(orig++);
        orig = origStart + seg.count;
      }
    } else {
      for (let k = 0; k < seg.count; k++) if (orig + k < L) deleted.push(orig + k);
      orig += seg.count;
    }
    segments.push({ segment: seg, original: { start: origStart, end: Math.min(orig, L) }, output: { start: oStart, end: blocks.length }, newBlocks, isFinal: si === finalIdx });
  });
  if (opts.trainLast) for (const b of blocks.filter((x) => x.role === 'kept').slice(-opts.trainLast)) b.trainable = true;
  const implicitDeleted: number[] = [];
  for (let b = covered; b < L; b++) implicitDeleted.push(b);
  for (const b of implicitDeleted) deleted.push(b);
  deleted.sort((a, b) => a - b);
  const newCount = blocks.filter((b) => b.role === 'new').length;
  return {
    layout: { baseLayers: L, segments, covered, implicitDeleted, deleted, final, blocks, newCount, numLayers: blocks.length },
    diagnostics,
  };
}

/** Blocks as users count them: 0-based, the paper's 1-based in parentheses. */
export function blockRange(a: number, b: number): string {
  return a === b ? `block ${a} (${a + 1})` : `blocks ${a}–${b} (${a + 1}–${b + 1})`;
}

/** Where an expression deletes, for a deletion warning to point at: each `-n`, and the end of a short expression. */
export function deletionPlaces(expr: ExpansionExpr, layout: Layout): RelatedInfo[] {
  const out: RelatedInfo[] = [];
  for (const s of layout.segments) {
    if (s.segment.kind === 'delete' && s.original.end > s.original.start) {
      out.push({ span: s.segment.span, message: `deletes ${blockRange(s.original.start, s.original.end - 1)}` });
    }
  }
  const imp = layout.implicitDeleted;
  const last = expr.segments[expr.segments.length - 1];
  if (imp.length && last) {
    out.push({ span: last.span, message: `the segments stop here, so ${blockRange(imp[0]!, imp[imp.length - 1]!)} are deleted` });
  }
  return out;
}
