// Code actions from the core's fixes: one quick fix per fix of each diagnostic in the range
// (make an implied deletion explicit, adjust the keep segment, nearest key, normalise notation, …),
// and a "fix all" source action applying every fix marked safe, when they do not overlap.
import { CodeActionKind, type CodeAction, type CodeActionParams, type Diagnostic, type TextEdit } from 'vscode-languageserver';
import { makeDeletionExplicit, type PlanAnalysis, type PlanFix } from '@slayer/core';
import { toLspDiagnostic, type DiagnosticContext } from './diagnostics';
import { rangesOverlap, toRange } from './ranges';

export const FIX_ALL_KIND = `${CodeActionKind.SourceFixAll}.slayer`;

const wanted = (only: string[] | undefined, kind: string): boolean => !only || only.some((k) => kind === k || kind.startsWith(`${k}.`));

function edits(a: PlanAnalysis, fix: PlanFix): TextEdit[] {
  return fix.edits.map((e) => ({ range: toRange(a.lines, e.span), newText: e.newText }));
}

const sameDiagnostic = (x: Diagnostic, y: Diagnostic): boolean =>
  x.code === y.code && x.range.start.line === y.range.start.line && x.range.start.character === y.range.start.character
  && x.range.end.line === y.range.end.line && x.range.end.character === y.range.end.character;

export function codeActions(a: PlanAnalysis, p: CodeActionParams, ctx: DiagnosticContext): CodeAction[] {
  const only = p.context.only;
  const out: CodeAction[] = [];
  if (wanted(only, CodeActionKind.QuickFix)) {
    for (const d of a.diagnostics) {
      if (!d.fixes.length) continue;
      const lsp = toLspDiagnostic(a, d, ctx);
      if (!rangesOverlap(lsp.range, p.range)) continue;
      const reported = p.context.diagnostics.find((x) => sameDiagnostic(x, lsp)) ?? lsp;
      for (const fix of d.fixes) {
        out.push({ title: fix.title, kind: CodeActionKind.QuickFix, diagnostics: [reported], isPreferred: fix.preferred, edit: { changes: { [ctx.uri]: edits(a, fix) } } });
      }
    }
  }
  if (wanted(only, CodeActionKind.RefactorRewrite)) out.push(...explicitDeletion(a, p, ctx.uri));
  if (wanted(only, FIX_ALL_KIND)) {
    const fixAll = fixAllEdits(a);
    if (fixAll.length) out.push({ title: 'Fix all safe SLayer problems', kind: FIX_ALL_KIND, edit: { changes: { [ctx.uri]: fixAll } } });
  }
  return out;
}

/**
 * "Make the deletion explicit" as a rewrite on the expression whenever blocks are deleted
 * implicitly; SL023 offers it as its quick fix only where the implied deletion is reported.
 */
function explicitDeletion(a: PlanAnalysis, p: CodeActionParams, uri: string): CodeAction[] {
  const expr = a.ast.expansion?.expr;
  const n = a.layout?.implicitDeleted.length ?? 0;
  if (!expr || !n || a.diagnostics.some((d) => d.code === 'SL023' || d.code === 'SL021' || d.code === 'SL022')) return [];
  if (!rangesOverlap(toRange(a.lines, expr.span), p.range)) return [];
  const fix = makeDeletionExplicit(expr, n);
  return [{ title: fix.title, kind: CodeActionKind.RefactorRewrite, edit: { changes: { [uri]: edits(a, fix) } } }];
}

/** Every preferred fix, skipping any whose edits overlap one already taken. */
export function fixAllEdits(a: PlanAnalysis): TextEdit[] {
  const taken: { start: number; end: number }[] = [];
  const out: TextEdit[] = [];
  for (const d of a.diagnostics) {
    for (const fix of d.fixes.filter((f) => f.preferred)) {
      const clash = fix.edits.some((e) => taken.some((t) => e.span.start < t.end && t.start < e.span.end || (e.span.start === t.start && e.span.end === t.end)));
      if (clash) continue;
      taken.push(...fix.edits.map((e) => e.span));
      out.push(...edits(a, fix));
    }
  }
  return out;
}
