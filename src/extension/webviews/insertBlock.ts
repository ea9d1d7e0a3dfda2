// "Add a new block between base blocks b and b+1", as an edit of the plan's expansion notation.
// Pure: takes the plan text, returns the replacement for the expression's exact range. Only the
// segment holding block b changes (the user's other segments keep their shape); neighbouring
// groups that become identical merge, so `(2+1)x8 | 13` + a block after 17 gives `(2+1)x9 | 11`.
import { finalSegmentIndex, formatExpansion, parsePlan, type Segment } from '../../core';
import { hasDiamond } from '../../core/expansion';

export type InsertResult =
  | { ok: true; expand: string; span: { start: number; end: number }; before: string }
  | { ok: false; reason: string };

const NO_SPAN = { start: 0, end: 0 };
const group = (keep: number, insert: number, repeat: number): Segment => ({ kind: 'group', keep, insert, repeat, span: NO_SPAN, diamond: null, canonical: true });
const keep = (count: number): Segment => ({ kind: 'keep', count, span: NO_SPAN, diamond: null, canonical: true });
const covers = (s: Segment): number => (s.kind === 'group' ? s.keep * s.repeat : s.count);

/** The segments that replace `seg` when one new block goes after its `offset`-th covered block. */
function split(seg: Segment, offset: number): Segment[] {
  if (seg.kind === 'keep') {
    const j = offset + 1;
    return seg.count - j > 0 ? [group(j, 1, 1), keep(seg.count - j)] : [group(j, 1, 1)];
  }
  if (seg.kind !== 'group') throw new Error('cannot split a deletion');
  const r = Math.floor(offset / seg.keep);
  const p = offset % seg.keep;
  const out: Segment[] = [];
  if (r > 0) out.push(group(seg.keep, seg.insert, r));
  if (p === seg.keep - 1) out.push(group(seg.keep, seg.insert + 1, 1));
  else out.push(group(p + 1, 1, 1), group(seg.keep - p - 1, seg.insert, 1));
  if (seg.repeat - r - 1 > 0) out.push(group(seg.keep, seg.insert, seg.repeat - r - 1));
  return out;
}

function mergeGroups(segs: Segment[]): Segment[] {
  const out: Segment[] = [];
  for (const s of segs) {
    const prev = out[out.length - 1];
    if (prev && prev.kind === 'group' && s.kind === 'group' && prev.keep === s.keep && prev.insert === s.insert) {
      out[out.length - 1] = group(s.keep, s.insert, prev.repeat + s.repeat);
    } else out.push(s);
  }
  return out;
}

/**
 * New expansion notation with one more block right after base block `after` (0-based), for a
 * base model of `numLayers` blocks. Refuses, with a reason to show, where the notation cannot
 * say it (a deleted block, after the updated final block, just before it).
 */
export function insertBlockAfter(planText: string, after: number, numLayers: number): InsertResult {
  const { ast, diagnostics } = parsePlan(planText);
  const expr = ast.expansion?.expr;
  if (!expr || expr.segments.length === 0) return { ok: false, reason: 'the plan has no expansion to add a block to' };
  if (diagnostics.some((d) => d.code === 'SL021')) return { ok: false, reason: 'fix the expansion notation first (it has a syntax error)' };
  if (!Number.isInteger(after) || after < 0 || after >= numLayers) return { ok: false, reason: `block ${after} is outside the model (0–${numLayers - 1})` };
  const segs = expr.segments;
  const covered = segs.reduce((a, s) => a + covers(s), 0);
  if (covered > numLayers) return { ok: false, reason: `the expansion covers ${covered} blocks but the model has ${numLayers}` };
  if (after >= covered) return { ok: false, reason: `block ${after} is deleted (the expansion stops at block ${covered - 1})` };
  const finalIdx = finalSegmentIndex(segs, numLayers - covered);
  let start = 0;
  for (let si = 0; si < segs.length; si++) {
    const seg = segs[si]!;
    const n = covers(seg);
    if (after < start + n) {
      if (seg.kind === 'delete') return { ok: false, reason: `block ${after} is deleted by the plan` };
      if (si === finalIdx) return { ok: false, reason: `block ${after} is the updated final block: only deleted blocks come after it` };
      const offset = after - start;
      if (si + 1 === finalIdx && seg.kind === 'keep' && offset === seg.count - 1) {
        return { ok: false, reason: `a new block right before the updated final block cannot be written (the final 1 must follow kept blocks); add it after block ${after - 1} instead` };
      }
      const next = mergeGroups([...segs.slice(0, si), ...split(seg, offset), ...segs.slice(si + 1)]);
      const expand = formatExpansion({ segments: next, span: expr.span, separators: [] }, hasDiamond(expr));
      // Replace the written expression without the white space around it (a comment may follow).
      const written = planText.slice(expr.span.start, expr.span.end);
      const lead = written.length - written.trimStart().length;
      const span = { start: expr.span.start + lead, end: expr.span.start + lead + written.trim().length };
      return { ok: true, expand, span, before: planText.slice(span.start, span.end) };
    }
    start += n;
  }
  return { ok: false, reason: `block ${after} is not covered by the expansion` };
}
