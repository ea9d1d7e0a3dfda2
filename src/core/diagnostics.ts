// Diagnostics of the plan core. Codes are stable: each has an anchor in docs/plan-language.md
// (`#sl021`), which editors link to. A diagnostic may carry fixes: text edits the language server
// offers as quick fixes, so fixes and the checks that need them live in one place.
import type { Span } from './text';

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
  SL001: 'Syntax error',
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
  SL060: 'Unknown evaluation task',
  SL061: 'Evaluation setting differs from the published protocol',
  SL062: 'Evaluation measures nothing or no forgetting',
} as const;

export type DiagnosticCode = keyof typeof DIAGNOSTIC_CODES;

export function diagnostic(
  code: DiagnosticCode,
  severity: Severity,
  span: Span,
  message: string,
  extra: Partial<Pick<PlanDiagnostic, 'related' | 'tags' | 'fixes'>> = {},
): PlanDiagnostic {
  return { code, severity, message, span, related: extra.related ?? [], tags: extra.tags ?? [], fixes: extra.fixes ?? [] };
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
