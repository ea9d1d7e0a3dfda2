// Inlay hints: the output block range after each segment, the implied deletion at the end of the
// expression (`−2: blocks 30–31`), and the steps (or tokens) of each training stage.
import { InlayHintKind, type InlayHint, type Range } from 'vscode-languageserver';
import type { PlanAnalysis } from '@slayer/core';
import { formatCount, withThousands } from '@slayer/shared/format';
import { comparePos } from './ranges';

const range = (a: number, b: number): string => (a === b ? `${a}` : `${a}–${b}`);

/** Steps and tokens of a stage: one optimizer step consumes batch × seq tokens. */
export function stageBudget(s: { tokens: number | null; steps: number | null; epochs: number; batchSequences: number; seqLen: number }): string {
  const perStep = s.batchSequences * s.seqLen;
  if (s.steps !== null) return `${withThousands(s.steps * perStep)} tokens (${formatCount(s.steps * perStep)})`;
  if (s.tokens !== null) {
    const steps = Math.ceil((s.tokens * s.epochs) / perStep);
    return `${withThousands(steps)} steps${s.epochs !== 1 ? ` over ${s.epochs} epochs` : ''} (${formatCount(perStep)} tokens/step)`;
  }
  return `${formatCount(perStep)} tokens/step; length set by the data`;
}

export function inlayHints(a: PlanAnalysis, within: Range): InlayHint[] {
  const out: InlayHint[] = [];
  const layout = a.layout;
  const expr = a.ast.expansion?.expr;
  if (layout && expr && a.model?.shape) {
    for (const l of layout.segments) {
      const pos = a.lines.positionAt(l.segment.span.end);
      if (l.segment.kind === 'delete') {
        if (l.original.end > l.original.start) out.push({ position: pos, label: `deletes ${range(l.original.start, l.original.end - 1)}`, kind: InlayHintKind.Type, paddingLeft: true });
      } else if (l.output.end > l.output.start) {
        out.push({ position: pos, label: `→ ${range(l.output.start, l.output.end - 1)}${l.isFinal ? ' final' : ''}`, kind: InlayHintKind.Type, paddingLeft: true });
      }
    }
    const imp = layout.implicitDeleted;
    if (imp.length) {
      out.push({
        position: a.lines.positionAt(expr.span.end),
        label: `−${imp.length}: ${imp.length === 1 ? `block ${imp[0]}` : `blocks ${imp[0]}–${imp[imp.length - 1]}`}`,
        kind: InlayHintKind.Type,
        paddingLeft: true,
        tooltip: 'The segments stop short of the last block, so the deepest blocks are deleted (quick fix: make it explicit).',
      });
    }
  }
  const specs = a.stages;
  for (const st of a.ast.stages) {
    const spec = specs.find((s) => s.name === st.name?.text);
    if (!spec) continue;
    out.push({ position: a.lines.positionAt(st.header.span.end), label: stageBudget(spec), kind: InlayHintKind.Type, paddingLeft: true });
  }
  return out.filter((h) => comparePos(h.position, within.start) >= 0 && comparePos(h.position, within.end) <= 0);
}
