// Folding: each stage block, and each run of two or more comment lines.
import { FoldingRangeKind, type FoldingRange } from 'vscode-languageserver';
import type { PlanAnalysis } from '@slayer/core';

export function foldingRanges(a: PlanAnalysis): FoldingRange[] {
  const out: FoldingRange[] = [];
  for (const st of a.ast.stages) {
    const start = st.header.line;
    const end = a.lines.positionAt(st.span.end).line;
    if (end > start) out.push({ startLine: start, endLine: end });
  }
  let run: number | null = null;
  const lines = a.ast.lines;
  lines.forEach((l, i) => {
    const isComment = l.kind === 'comment';
    if (isComment && run === null) run = i;
    const next = lines[i + 1];
    if (run !== null && (!next || next.kind !== 'comment')) {
      if (i > run) out.push({ startLine: run, endLine: i, kind: FoldingRangeKind.Comment });
      run = null;
    }
  });
  return out.sort((x, y) => x.startLine - y.startLine);
}
