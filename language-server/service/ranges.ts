// Core spans (UTF-16 offsets, LSP's default position encoding) to LSP ranges.
import type { Position as LspPosition, Range as LspRange } from 'vscode-languageserver';
import type { LineIndex, Span } from '@slayer/core';

export function toRange(lines: LineIndex, span: Span): LspRange {
  return { start: lines.positionAt(span.start), end: lines.positionAt(span.end) };
}

export const spanContains = (s: Span, offset: number): boolean => offset >= s.start && offset <= s.end;

export const rangesOverlap = (a: LspRange, b: LspRange): boolean =>
  !(comparePos(a.end, b.start) < 0 || comparePos(b.end, a.start) < 0);

export function comparePos(a: LspPosition, b: LspPosition): number {
  return a.line - b.line || a.character - b.character;
}
