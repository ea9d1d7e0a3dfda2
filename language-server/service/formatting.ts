// Formatting: the core's canonical layout (aligned key columns, canonical notation) as one edit
// over the whole document, or none when the text is already formatted.
import type { TextEdit } from 'vscode-languageserver';
import { formatPlan, type PlanAnalysis } from '@slayer/core';

export function formatDocument(a: PlanAnalysis): TextEdit[] {
  const text = a.lines.text;
  const formatted = formatPlan(text);
  if (formatted === text) return [];
  return [{ range: { start: { line: 0, character: 0 }, end: a.lines.positionAt(text.length) }, newText: formatted }];
}
