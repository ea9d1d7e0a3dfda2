// Source positions. The core works in UTF-16 offsets (JavaScript string indices, also LSP's default
// position encoding); LineIndex converts to 0-based line/character for editors and to 1-based
// line:col for the CLI.

export interface Span {
  start: number;
  end: number;
}

export interface Position {
  line: number;
  character: number;
}

/** Lines end at \n, \r\n or a lone \r, as LSP counts them (a CR-only file is not one long line). */
export class LineIndex {
  private readonly starts: number[] = [0];
  /** End of each line's text, before its line break. */
  private readonly ends: number[] = [];

  constructor(readonly text: string) {
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c !== 10 && c !== 13) continue;
      this.ends.push(i);
      if (c === 13 && text.charCodeAt(i + 1) === 10) i++;
      this.starts.push(i + 1);
    }
    this.ends.push(text.length);
  }

  get lineCount(): number {
    return this.starts.length;
  }

  positionAt(offset: number): Position {
    const o = Math.max(0, Math.min(offset, this.text.length));
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.starts[mid]! <= o) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo, character: o - this.starts[lo]! };
  }

  offsetAt(pos: Position): number {
    if (pos.line < 0) return 0;
    if (pos.line >= this.starts.length) return this.text.length;
    const start = this.starts[pos.line]!;
    return Math.min(start + Math.max(0, pos.character), this.ends[pos.line]!);
  }

  lineStart(line: number): number {
    return this.starts[Math.max(0, Math.min(line, this.starts.length - 1))]!;
  }

  /** End of the line's text, before its newline. */
  lineEnd(line: number): number {
    return this.ends[Math.max(0, Math.min(line, this.ends.length - 1))]!;
  }
}

export const spanContains = (s: Span, offset: number): boolean => offset >= s.start && offset <= s.end;
