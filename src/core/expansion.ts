// The expansion notation (normative: docs/plan-language.md): segments separated by `|` or white
// space, consuming the base model's blocks in order from block 0.
//   (k+m)xn  n groups of k kept blocks followed by m new ones   (x, ×, * are the same; xn optional)
//   n        keep n blocks          -n   delete n blocks          suffix ◇ (<>, ~): average init
// The parser recovers from errors: a bad segment is reported with its exact span and skipped, so
// the rest still yields a usable layout.
import { clipQuoted, diagnostic, type PlanDiagnostic } from './diagnostics';
import { MAX_DIAGNOSTICS_PER_LINE, MAX_EXPANSION_COUNT, showLimit } from './limits';
import type { Span } from './text';

export interface GroupSegment {
  kind: 'group';
  keep: number;
  insert: number;
  repeat: number;
  span: Span;
  /** Span of the ◇ marker when present. */
  diamond: Span | null;
  /** True when the multiplier was written with a non-canonical symbol (×, *) or spacing. */
  canonical: boolean;
}
export interface KeepSegment { kind: 'keep'; count: number; span: Span; diamond: Span | null; canonical: boolean }
export interface DeleteSegment { kind: 'delete'; count: number; span: Span; diamond: null; canonical: boolean }
export type Segment = GroupSegment | KeepSegment | DeleteSegment;

export interface ExpansionExpr {
  segments: Segment[];
  span: Span;
  /** Span of every `|` separator, for semantic highlighting. */
  separators: Span[];
}

const isDigit = (c: string | undefined): boolean => c !== undefined && c >= '0' && c <= '9';
const isSpace = (c: string | undefined): boolean => c === ' ' || c === '\t';
const MULTIPLY = new Set(['x', 'X', '×', '*']);
const MINUS = new Set(['-', '−']);

/**
 * Parses an expansion expression found at `base` offset of the document (the text is the
 * expression alone, without the `expand` key). Diagnostics carry document offsets.
 */
export function parseExpansion(text: string, base: number): { expr: ExpansionExpr; diagnostics: PlanDiagnostic[] } {
  const diagnostics: PlanDiagnostic[] = [];
  const segments: Segment[] = [];
  const separators: Span[] = [];
  let i = 0;
  const at = (s: number, e: number): Span => ({ start: base + s, end: base + e });
  // An expression is one line: past the per-line cap (less one for the summary), errors are only counted (200,000 "|" would
  // otherwise build 200,000 diagnostics to throw away), and summed up at the end.
  let suppressed: Span | null = null;
  let suppressedCount = 0;
  const err = (s: number, e: number, msg: string): void => {
    const span = at(Math.min(s, text.length), Math.min(Math.max(e, s + 1), text.length));
    if (diagnostics.length < MAX_DIAGNOSTICS_PER_LINE - 1) diagnostics.push(diagnostic('SL021', 'error', span, msg));
    else {
      suppressed ??= span;
      suppressedCount++;
    }
  };
  // A number above the limit is reported at its digits and its segment dropped, so no count
  // larger than MAX_EXPANSION_COUNT ever reaches the layout (and none is shown clamped).
  let oversize = false;
  const readInt = (): { value: number; start: number; end: number } | null => {
    const start = i;
    while (isDigit(text[i])) i++;
    if (i === start) return null;
    const digits = text.slice(start, i);
    const value = digits.length > 9 ? Infinity : Number(digits);
    if (value > MAX_EXPANSION_COUNT) {
      oversize = true;
      err(start, i, `${clipQuoted(digits.replace(/^0+(?=\d)/, ''))} is too large: a count in an expansion is at most ${showLimit(MAX_EXPANSION_COUNT)} (see docs/limits.md)`);
    }
    return { value, start, end: i };
  };
  const skipSpaces = (): boolean => {
    const s = i;
    while (isSpace(text[i])) i++;
    return i > s;
  };
  const readDiamond = (): Span | null => {
    const len = text[i] === '◇' || text[i] === '~' ? 1 : text.startsWith('<>', i) ? 2 : 0;
    if (len === 0) return null;
    i += len;
    return at(i - len, i);
  };
  const diamondCanonical = (d: Span | null): boolean => d === null || text.slice(d.start - base, d.end - base) === '◇';
  // Skip to the next separator after an error, so one mistake yields one diagnostic.
  const recover = (): void => {
    while (i < text.length && text[i] !== '|' && !isSpace(text[i])) i++;
  };

  skipSpaces();
  let expectSegment = true;
  while (i < text.length) {
    const c = text[i]!;
    if (c === '|') {
      if (expectSegment) err(i, i + 1, segments.length === 0 ? 'expected a segment before "|"' : 'expected a segment between two "|"');
      separators.push(at(i, i + 1));
      i++;
      skipSpaces();
      expectSegment = true;
      continue;
    }
    const start = i;
    oversize = false;
    if (c === '(') {
      i++;
      skipSpaces();
      const k = readInt();
      if (!k) { err(i, i + 1, 'expected the number of kept blocks after "(", as in (2+1)'); recover(); expectSegment = false; skipSpaces(); continue; }
      skipSpaces();
      if (text[i] !== '+') { err(i, i + 1, 'expected "+" in a group, as in (2+1)'); recover(); expectSegment = false; skipSpaces(); continue; }
      i++;
      skipSpaces();
      const m = readInt();
      if (!m) { err(i, i + 1, 'expected the number of new blocks after "+", as in (2+1)'); recover(); expectSegment = false; skipSpaces(); continue; }
      skipSpaces();
      if (text[i] !== ')') { err(i, i + 1, 'expected ")" to close the group'); recover(); expectSegment = false; skipSpaces(); continue; }
      i++;
      const afterParen = i;
      skipSpaces();
      let repeat = 1;
      let canonical = afterParen - start === `(${k.value}+${m.value})`.length;
      if (MULTIPLY.has(text[i] ?? '')) {
        if (text[i] !== 'x' || i !== afterParen) canonical = false;
        i++;
        const wsBefore = skipSpaces();
        const n = readInt();
        if (!n) { err(i, i + 1, 'expected a repeat count after "x", as in (2+1)x8'); recover(); expectSegment = false; skipSpaces(); continue; }
        if (wsBefore) canonical = false;
        repeat = n.value;
        if (repeat === 1) canonical = false; // canonical form omits x1
        if (repeat === 0) err(n.start, n.end, 'a group repeated 0 times has no effect; remove it or repeat at least once');
      } else {
        i = afterParen;
      }
      if (k.value === 0) err(k.start, k.end, 'a group must keep at least one block before its new ones (there is no block to copy before block 0)');
      const diamond = readDiamond();
      segments.push({ kind: 'group', keep: k.value, insert: m.value, repeat, span: at(start, i), diamond, canonical: canonical && diamondCanonical(diamond) });
    } else if (isDigit(c)) {
      const n = readInt()!;
      const diamond = readDiamond();
      if (n.value === 0) err(n.start, n.end, 'keeping 0 blocks has no effect; remove the segment');
      segments.push({ kind: 'keep', count: n.value, span: at(start, i), diamond, canonical: diamondCanonical(diamond) });
    } else if (MINUS.has(c)) {
      i++;
      const n = readInt();
      if (!n) { err(start, i, 'expected a number after "-", as in -2 (delete the next 2 blocks)'); recover(); expectSegment = false; skipSpaces(); continue; }
      if (n.value === 0) err(start, n.end, 'deleting 0 blocks has no effect; remove the segment');
      segments.push({ kind: 'delete', count: n.value, span: at(start, i), diamond: null, canonical: c === '-' });
    } else {
      err(i, i + 1, `unexpected "${c}" in the expansion; segments look like (2+1)x8, 13, -2, with ◇ for average init`);
      i++;
      recover();
      expectSegment = false;
      skipSpaces();
      continue;
    }
    if (oversize) segments.pop();
    // A segment must be followed by a separator, white space or the end.
    else if (i < text.length && text[i] !== '|' && !isSpace(text[i])) {
      const s = i;
      recover();
      err(s, i, `unexpected "${clipQuoted(text.slice(s, i))}" after the segment "${clipQuoted(text.slice(start, s))}"`);
      segments.pop(); // a malformed segment would only add confusing follow-on diagnostics
    }
    skipSpaces();
    expectSegment = false;
  }
  if (expectSegment && separators.length > 0 && segments.length > 0) {
    const last = separators[separators.length - 1]!;
    err(last.start - base, last.end - base, 'expected a segment after the last "|"');
  }
  if (suppressed) {
    diagnostics.push(diagnostic('SL021', 'error', suppressed, `${showLimit(suppressedCount)} more problems in this expansion are not shown (at most ${MAX_DIAGNOSTICS_PER_LINE} per line)`));
  }
  return { expr: { segments, span: at(0, text.length), separators }, diagnostics };
}

/** Canonical notation: `(k+m)xn` (no `x1`), `n`, `-n`, joined by ` | `, one ◇ on the last segment. */
export function formatExpansion(expr: ExpansionExpr, average: boolean): string {
  const parts = expr.segments.map((s) => {
    if (s.kind === 'group') return s.repeat === 1 ? `(${s.keep}+${s.insert})` : `(${s.keep}+${s.insert})x${s.repeat}`;
    if (s.kind === 'keep') return String(s.count);
    return `-${s.count}`;
  });
  if (average) {
    // The paper writes ◇ on the last segment that is not a deletion.
    let idx = -1;
    expr.segments.forEach((s, j) => { if (s.kind !== 'delete') idx = j; });
    if (idx >= 0) parts[idx] = `${parts[idx]}◇`;
  }
  return parts.join(' | ');
}

export function hasDiamond(expr: ExpansionExpr): boolean {
  return expr.segments.some((s) => s.diamond !== null);
}
