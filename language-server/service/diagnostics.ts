// Plan diagnostics → LSP diagnostics: severity, stable code with a link to its anchor in
// docs/plan-language.md, related information and tags as the core gives them (the adapter knows no codes).
import { DiagnosticSeverity, DiagnosticTag, type Diagnostic } from 'vscode-languageserver';
import type { PlanAnalysis, PlanDiagnostic, Severity } from '@slayer/core';
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
  if (tags.length) out.tags = [...new Set(tags)];
  if (d.related.length) {
    if (ctx.relatedInformation) {
      out.relatedInformation = d.related.map((r) => ({ location: { uri: ctx.uri, range: toRange(a.lines, r.span) }, message: r.message }));
    } else {
      out.message += ` (${d.related.map((r) => `${r.message}: line ${a.lines.positionAt(r.span.start).line + 1}`).join('; ')})`;
    }
  }
  return out;
}

export function toLspDiagnostics(a: PlanAnalysis, ctx: DiagnosticContext): Diagnostic[] {
  return a.diagnostics.map((d) => toLspDiagnostic(a, d, ctx));
}
