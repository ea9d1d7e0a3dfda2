// Diagnostics of the plan core. Codes are stable: each has an anchor in docs/plan-language.md
// (`#sl021`), which editors link to. A diagnostic may carry fixes: text edits the language server
// offers as quick fixes, so fixes and the checks that need them live in one place.
import { MAX_DIAGNOSTICS, MAX_DIAGNOSTICS_PER_LINE, MAX_MESSAGE_CHARS, showLimit } from './limits';
import type { LineIndex, Span } from './text';

export type Severity = 'error' | 'warning' | 'info' | 'hint';

export interface TextEdit {
  span: Span;
  newText: string;
}

export interface PlanFix {
  title: string;
  edits: TextEdit[];
  /** Safe to apply without looking (part of "fix all"). */
  preferred: boolean;
}

export interface RelatedInfo {
  span: Span;
  message: string;
}

export interface PlanDiagnostic {
  code: DiagnosticCode;
  severity: Severity;
  message: string;
  span: Span;
  related: RelatedInfo[];
  /** `unnecessary` fades text in editors (e.g. blocks that will be deleted). */
  tags: ('unnecessary' | 'deprecated')[];
  fixes: PlanFix[];
}

/** Every code with a one-line title; the docs explain each under its anchor. */
export const DIAGNOSTIC_CODES = {
  SL001: 'Plan too large',
  SL002: 'Unknown key',
  SL003: 'Duplicate statement',
  SL004: 'Bad or missing value',
  SL005: 'Setting outside a stage',
  SL010: 'No model',
  SL011: 'Unknown model',
  SL012: 'Unreadable model config',
  SL013: 'Remote model not checked yet',
  SL020: 'No expansion',
  SL021: 'Bad expansion notation',
  SL022: 'Expansion covers more blocks than the model has',
  SL023: 'Implied deletion of the deepest blocks',
  SL024: 'Deleting more than 2 blocks',
  SL025: 'Deleting more than a quarter of the blocks',
  SL026: 'Average init without a next block falls back to copy',
  SL027: 'Segment with no effect',
  SL028: 'Conflicting init',
  SL029: 'No new blocks',
  SL030: 'Nothing to train',
  SL031: 'Notation not in canonical form',
  SL040: 'Stage order',
  SL041: 'Duplicate stage',
  SL042: 'Value out of range',
  SL043: 'Stage without data',
  SL050: 'Bad host name',
  SL051: 'Does not fit in GPU memory',
  SL052: 'Unknown host',
  SL060: 'Unknown evaluation task',
  SL061: 'Evaluation setting differs from the published protocol',
  SL062: 'Evaluation measures nothing or no forgetting',
  SL070: 'Bad sweep section',
  SL071: 'A sweep variant does not compile',
} as const;

export type DiagnosticCode = keyof typeof DIAGNOSTIC_CODES;

export function diagnostic(
  code: DiagnosticCode,
  severity: Severity,
  span: Span,
  message: string,
  extra: Partial<Pick<PlanDiagnostic, 'related' | 'tags' | 'fixes'>> = {},
): PlanDiagnostic {
  const text = message.length > MAX_MESSAGE_CHARS ? `${message.slice(0, MAX_MESSAGE_CHARS - 1)}…` : message;
  const related = extra.related ?? [];
  return { code, severity, message: text, span, related: related.length > MAX_RELATED ? related.slice(0, MAX_RELATED) : related, tags: extra.tags ?? [], fixes: extra.fixes ?? [] };
}

const MAX_RELATED = 20;
const SEVERITY_RANK: Record<Severity, number> = { error: 0, warning: 1, info: 2, hint: 3 };

const worstOf = (ds: readonly PlanDiagnostic[]): PlanDiagnostic => ds.reduce((a, b) => (SEVERITY_RANK[b.severity] < SEVERITY_RANK[a.severity] ? b : a));

/**
 * At most MAX_DIAGNOSTICS_PER_LINE diagnostics per line (in the order found); the rest of a line's
 * become one diagnostic saying how many were left out, as severe as the worst of them. 200,000 "|"
 * on one line thus give 21 diagnostics, not 200,000. Then at most MAX_DIAGNOSTICS in all (errors
 * first), the rest summed up likewise at the first one left out.
 */
export function capDiagnosticsPerLine(diags: readonly PlanDiagnostic[], lines: LineIndex): PlanDiagnostic[] {
  if (diags.length <= MAX_DIAGNOSTICS_PER_LINE) return [...diags];
  const perLine = new Map<number, { shown: number; dropped: PlanDiagnostic[] }>();
  const out: PlanDiagnostic[] = [];
  for (const d of diags) {
    const line = lines.positionAt(d.span.start).line;
    let e = perLine.get(line);
    if (!e) perLine.set(line, (e = { shown: 0, dropped: [] }));
    if (e.shown < MAX_DIAGNOSTICS_PER_LINE) {
      e.shown++;
      out.push(d);
    } else e.dropped.push(d);
  }
  for (const [line, e] of perLine) {
    if (!e.dropped.length) continue;
    const worst = worstOf(e.dropped);
    out.push(diagnostic(worst.code, worst.severity, e.dropped[0]!.span,
      `${showLimit(e.dropped.length)} more problems on line ${line + 1} are not shown (at most ${MAX_DIAGNOSTICS_PER_LINE} per line)`));
  }
  if (out.length <= MAX_DIAGNOSTICS) return out;
  const ranked = out.map((d, i) => ({ d, i })).sort((a, b) => SEVERITY_RANK[a.d.severity] - SEVERITY_RANK[b.d.severity] || a.i - b.i);
  const kept = ranked.slice(0, MAX_DIAGNOSTICS).sort((a, b) => a.i - b.i).map((x) => x.d);
  const rest = ranked.slice(MAX_DIAGNOSTICS).map((x) => x.d);
  const worst = worstOf(rest);
  kept.push(diagnostic(worst.code, worst.severity, rest[0]!.span, `${showLimit(rest.length)} more problems in this plan are not shown (at most ${showLimit(MAX_DIAGNOSTICS)} per plan)`));
  return kept;
}

/** User text quoted in a message, cut to a readable length ("1234567890123…" for a 10,000-digit number). */
export function clipQuoted(text: string, max = 40): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** Edit distance counting an adjacent transposition as one edit ("modle" → "model" is 1). */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[a.length]![b.length]!;
}

/** The closest candidate within a distance that grows with the word's length, or undefined. */
export function nearest(word: string, candidates: readonly string[]): string | undefined {
  if (word.length > 64) return undefined; // no key or value is that long; spares a huge edit-distance table
  const w = word.toLowerCase();
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const dist = editDistance(w, c.toLowerCase());
    if (dist < bestD) {
      bestD = dist;
      best = c;
    }
  }
  const limit = word.length <= 3 ? 1 : Math.max(2, Math.floor(word.length / 3));
  return bestD <= limit ? best : undefined;
}
