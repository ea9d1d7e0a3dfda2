// Document symbols: the model, the expansion (with its segments), each stage (with its settings),
// and the run line, for the outline and breadcrumbs.
import { SymbolKind, type DocumentSymbol } from 'vscode-languageserver';
import { findStatement, type PlanAnalysis, type Statement } from '@slayer/core';
import { toRange } from './ranges';

export function documentSymbols(a: PlanAnalysis): DocumentSymbol[] {
  const sym = (name: string, detail: string, kind: SymbolKind, s: { start: number; end: number }, sel: { start: number; end: number }, children?: DocumentSymbol[]): DocumentSymbol => ({
    name: name || '(empty)', detail, kind, range: toRange(a.lines, s), selectionRange: toRange(a.lines, sel), ...(children ? { children } : {}),
  });
  const out: { at: number; s: DocumentSymbol }[] = [];
  const stmt = (s: Statement | undefined, kind: SymbolKind, detail: string, children?: DocumentSymbol[]): void => {
    if (s) out.push({ at: s.span.start, s: sym(`${s.key.text} ${s.value.text}`.trim(), detail, kind, s.span, s.key.span, children) });
  };
  const model = findStatement(a.ast, 'model');
  stmt(model, SymbolKind.Module, a.model?.shape ? `${a.model.source ?? ''} · ${a.model.shape.numLayers} blocks` : '');
  const exp = a.ast.expansion;
  if (exp) {
    const segs = a.layout?.segments ?? [];
    const children = exp.expr.segments.map((seg, i) => {
      const l = segs[i];
      const detail = l ? (l.output.end > l.output.start ? `→ output ${l.output.start}–${l.output.end - 1}` : `deletes ${l.original.start}–${l.original.end - 1}`) : '';
      return sym(a.lines.text.slice(seg.span.start, seg.span.end), detail, SymbolKind.Operator, seg.span, seg.span);
    });
    stmt(exp.statement, SymbolKind.Function, a.layout ? `${a.layout.numLayers} blocks` : '', children);
  }
  for (const key of ['init', 'zero', 'final', 'train'] as const) stmt(findStatement(a.ast, key), SymbolKind.Property, '');
  for (const st of a.ast.stages) {
    const children = st.settings.map((s) => sym(`${s.key.text} ${s.value.text}`.trim(), '', SymbolKind.Field, s.span, s.key.span));
    out.push({ at: st.span.start, s: sym(`stage ${[st.name?.text, st.kind?.text].filter(Boolean).join(' ')}`.trim(), '', SymbolKind.Namespace, st.span, st.header.key.span, children) });
  }
  stmt(findStatement(a.ast, 'run'), SymbolKind.Event, a.run ? `${a.run.gpus * a.run.nodes} GPU(s)` : '');
  return out.sort((x, y) => x.at - y.at).map((x) => x.s);
}
