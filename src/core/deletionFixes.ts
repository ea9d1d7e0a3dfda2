// Fixes that change how many deep blocks a plan deletes (SL022 covers too many, SL024 deletes too
// many). Each fix must leave the plan clean, so it works on the "deep end" as a whole: the keep
// segment that the deletion borders (the one before the updated final `1`, else the last keep),
// the trailing `-n` segments and the implied deletion. Growing that keep segment by g deletes g
// fewer blocks; trailing `-n` shrink only as far as needed to keep the plan inside the model.
import type { PlanFix, TextEdit } from './diagnostics';
import type { DeleteSegment, ExpansionExpr, KeepSegment } from './expansion';

export interface DeepEnd {
  /** The keep segment whose size sets how far the plan reaches. */
  keep: KeepSegment | null;
  /** `-n` segments after the last kept or expanded block, in order. */
  trailing: DeleteSegment[];
  /** Blocks deleted by `-n` segments elsewhere (not at the deep end). */
  midDeleted: number;
  /** Base blocks the segments cover, deletions included. */
  covered: number;
  /** The expression ends `… | k | 1` (a keep then a single kept block): the paper's final-block shape. */
  finalShaped: boolean;
}

const covers = (s: ExpansionExpr['segments'][number]): number => (s.kind === 'group' ? s.keep * s.repeat : s.count);

export function deepEnd(expr: ExpansionExpr): DeepEnd {
  const segs = expr.segments;
  let last = segs.length - 1;
  const trailing: DeleteSegment[] = [];
  while (last >= 0 && segs[last]!.kind === 'delete') trailing.unshift(segs[last--] as DeleteSegment);
  const seg = segs[last];
  const prev = segs[last - 1];
  const finalShaped = seg?.kind === 'keep' && seg.count === 1 && prev?.kind === 'keep';
  let keep: KeepSegment | null = null;
  if (finalShaped) keep = prev as KeepSegment;
  else for (let i = last; i >= 0 && !keep; i--) if (segs[i]!.kind === 'keep') keep = segs[i] as KeepSegment;
  const trailingSet = new Set<DeleteSegment>(trailing);
  const midDeleted = segs.filter((s): s is DeleteSegment => s.kind === 'delete' && !trailingSet.has(s)).reduce((a, s) => a + s.count, 0);
  return { keep, trailing, midDeleted, covered: segs.reduce((a, s) => a + covers(s), 0), finalShaped };
}

const countSpan = (s: KeepSegment | DeleteSegment, text: string): { start: number; end: number } => {
  // The digits of a segment: after the minus sign of a deletion, before any ◇.
  const from = s.kind === 'delete' ? s.span.start + 1 : s.span.start;
  let to = from;
  while (to < s.span.end && text[to]! >= '0' && text[to]! <= '9') to++;
  return { start: from, end: to };
};

/**
 * Edits that make the deep end delete exactly `target` blocks (implied plus trailing `-n`), by
 * resizing the keep segment and shrinking trailing `-n` segments; null when the keep segment would
 * drop below one block or there is no keep segment.
 */
export function resizeDeepEnd(text: string, expr: ExpansionExpr, L: number, target: number): { edits: TextEdit[]; keepFrom: number; keepTo: number; trailingFrom: number; trailingTo: number } | null {
  const end = deepEnd(expr);
  if (!end.keep || target < 0) return null;
  const T = end.trailing.reduce((a, s) => a + s.count, 0);
  const deepNow = L - end.covered + T; // negative or short when the plan covers too many
  const keepTo = end.keep.count + (deepNow - target);
  if (keepTo < 1) return null;
  const edits: TextEdit[] = [];
  if (keepTo !== end.keep.count) edits.push({ span: countSpan(end.keep, text), newText: String(keepTo) });
  // Keep at most `target` blocks deleted explicitly; the rest of the deletion stays implied.
  let excess = Math.max(0, T - target);
  for (let i = end.trailing.length - 1; i >= 0 && excess > 0; i--) {
    const s = end.trailing[i]!;
    const cut = Math.min(excess, s.count);
    excess -= cut;
    if (cut < s.count) edits.push({ span: countSpan(s, text), newText: String(s.count - cut) });
    else edits.push({ span: { start: precedingSeparator(text, s.span.start, expr.span.start), end: s.span.end }, newText: '' });
  }
  return { edits, keepFrom: end.keep.count, keepTo, trailingFrom: T, trailingTo: Math.min(T, target) };
}

/** Start of the ` | ` (or white space) before a segment, so removing the segment leaves no dangling separator. */
function precedingSeparator(text: string, start: number, exprStart: number): number {
  let i = start;
  while (i > exprStart && (text[i - 1] === ' ' || text[i - 1] === '\t' || text[i - 1] === '|')) i--;
  return i;
}

const blocks = (n: number): string => (n === 1 ? '1 block' : `${n} blocks`);

function describe(r: NonNullable<ReturnType<typeof resizeDeepEnd>>): string {
  const parts: string[] = [];
  if (r.keepTo !== r.keepFrom) parts.push(`Keep ${r.keepTo} blocks instead of ${r.keepFrom}`);
  if (r.trailingTo !== r.trailingFrom) parts.push(r.trailingTo === 0 ? `drop the explicit -${r.trailingFrom}` : `delete ${r.trailingTo} instead of ${r.trailingFrom} explicitly`);
  const s = parts.join(', ');
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/**
 * SL022's fix: fit the plan inside the model's L blocks. A plan shaped for an updated final block
 * that trains it keeps deleting at least one block (without a deletion there is no final block,
 * and `train final` would select nothing); explicit deletions are kept up to 2 (Table 3's limit).
 */
export function fitFix(text: string, expr: ExpansionExpr, L: number, wantsFinal: boolean): PlanFix | null {
  const end = deepEnd(expr);
  const T = end.trailing.reduce((a, s) => a + s.count, 0);
  const room = Math.max(0, 2 - end.midDeleted);
  let target = Math.min(T, room);
  if (end.finalShaped && wantsFinal) target = Math.max(target, 1);
  const r = resizeDeepEnd(text, expr, L, target);
  if (!r || !r.edits.length) return null;
  const why = target > 0 && end.finalShaped && wantsFinal
    ? ` so the plan fits ${L} blocks and still deletes ${blocks(target)} (the last kept block stays the updated final block)`
    : ` so the plan covers ${L}`;
  return { title: `${describe(r)}${why}`, edits: r.edits, preferred: false };
}

/** SL024's fix: delete only 2 blocks in all (Table 3's limit), keeping the updated final block. */
export function deleteTwoFix(text: string, expr: ExpansionExpr, L: number, wantsFinal: boolean): PlanFix | null {
  const end = deepEnd(expr);
  const target = 2 - end.midDeleted;
  if (target < 0 || (end.finalShaped && wantsFinal && target < 1)) return null;
  const r = resizeDeepEnd(text, expr, L, target);
  if (!r || !r.edits.length) return null;
  return { title: `${describe(r)} so only 2 blocks are deleted`, edits: r.edits, preferred: false };
}
