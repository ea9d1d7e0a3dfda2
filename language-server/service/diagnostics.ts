// Plan diagnostics → LSP diagnostics: severity, stable code with a link to its anchor in
// docs/plan-language.md, related information (e.g. the first of two duplicates), tags.
import { DiagnosticSeverity, DiagnosticTag, type Diagnostic } from 'vscode-languageserver';
import type { PlanAnalysis, PlanDiagnostic, Severity } from '@slayer/core';
import type { RelatedInfo } from '@slayer/core/diagnostics';
import { toRange } from './ranges';

const SEVERITY: Record<Severity, DiagnosticSeverity> = {
  error: DiagnosticSeverity.Error,
  warning: DiagnosticSeverity.Warning,
  info: DiagnosticSeverity.Information,
  hint: DiagnosticSeverity.Hint,
};

export interface DiagnosticContext {
  uri: string;
  /** docs/plan-language.md as a URL; `#slNNN` is appended. */
  docsUrl: string;
  /** The client shows related information (otherwise it is folded into the message). */
  relatedInformation: boolean;
}

export function toLspDiagnostic(a: PlanAnalysis, d: PlanDiagnostic, ctx: DiagnosticContext): Diagnostic {
  const out: Diagnostic = {
    range: toRange(a.lines, d.span),
    severity: SEVERITY[d.severity],
    code: d.code,
    codeDescription: { href: `${ctx.docsUrl}#${d.code.toLowerCase()}` },
    source: 'slayer',
    message: d.message,
  };
  const tags = d.tags.map((t) => (t === 'unnecessary' ? DiagnosticTag.Unnecessary : DiagnosticTag.Deprecated));
  // Statements that have no effect fade: the ignored duplicate, a `final` without a final block.
  if ((d.code === 'SL003' && d.severity === 'error') || d.code === 'SL027') tags.push(DiagnosticTag.Unnecessary);
  if (tags.length) out.tags = [...new Set(tags)];
  const related = [...d.related, ...(DELETION_CODES.has(d.code) ? deletionRelated(a) : [])];
  if (related.length) {
    if (ctx.relatedInformation) {
      out.relatedInformation = related.map((r) => ({ location: { uri: ctx.uri, range: toRange(a.lines, r.span) }, message: r.message }));
    } else {
      out.message += ` (${related.map((r) => `${r.message}: line ${a.lines.positionAt(r.span.start).line + 1}`).join('; ')})`;
    }
  }
  return out;
}

const DELETION_CODES = new Set(['SL024', 'SL025']);

/** Blocks as the hovers name them: 0-based, the paper's 1-based in parentheses. */
export function blockRange(a: number, b: number): string {
  return a === b ? `block ${a} (${a + 1})` : `blocks ${a}–${b} (${a + 1}–${b + 1})`;
}

/** A deletion warning points at what deletes: each `-n` segment, and the end of a short expression. */
function deletionRelated(a: PlanAnalysis): RelatedInfo[] {
  const layout = a.layout;
  const expr = a.ast.expansion?.expr;
  if (!layout || !expr) return [];
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

export function toLspDiagnostics(a: PlanAnalysis, ctx: DiagnosticContext): Diagnostic[] {
  return a.diagnostics.map((d) => toLspDiagnostic(a, d, ctx));
}
