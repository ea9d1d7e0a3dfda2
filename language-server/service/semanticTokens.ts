// Semantic tokens: keys, stage settings, values by kind, and the expansion expression down to its
// digits and operators (a deletion's count is marked `deprecated`: those blocks go away).
import { SemanticTokensBuilder, type SemanticTokens, type SemanticTokensLegend } from 'vscode-languageserver';
import {
  EVAL_KEYS, FINAL_METHODS, INIT_METHODS, PRECISIONS, RUN_OPTIONS, SCHEDULES, STAGE_KEYS, TOP_LEVEL_KEYS, TRAIN_WORDS, ZERO_TARGETS, type PlanAnalysis, type Setting, type Word,
} from '@slayer/core';

export const TOKEN_TYPES = ['keyword', 'property', 'parameter', 'number', 'operator', 'string', 'comment', 'enumMember', 'namespace', 'type', 'variable', 'macro'] as const;
export const TOKEN_MODIFIERS = ['declaration', 'readonly', 'deprecated'] as const;
export type TokenType = (typeof TOKEN_TYPES)[number];
type TokenModifier = (typeof TOKEN_MODIFIERS)[number];

export const SEMANTIC_LEGEND: SemanticTokensLegend = { tokenTypes: [...TOKEN_TYPES], tokenModifiers: [...TOKEN_MODIFIERS] };

interface Token {
  start: number;
  length: number;
  type: TokenType;
  mods: TokenModifier[];
}

const RUN_OPTION_SET = new Set(RUN_OPTIONS);
/** The values the plan core accepts for init, final, zero, train, schedule and precision. */
const ENUM_WORDS = new Set<string>([...INIT_METHODS, ...FINAL_METHODS, ...ZERO_TARGETS, ...TRAIN_WORDS, ...SCHEDULES, ...PRECISIONS]);
const OPERATOR_WORDS = new Set(['x', '×', '*']);
const isNumberLike = (t: string): boolean => /^[+-]?\d[\d_.]*(e[+-]?\d+)?[%kKmMbBtTGgiB]*$/.test(t);

export function planTokens(a: PlanAnalysis): Token[] {
  const out: Token[] = [];
  const push = (start: number, length: number, type: TokenType, mods: TokenModifier[] = []): void => {
    if (length > 0) out.push({ start, length, type, mods });
  };
  const word = (w: Word, type: TokenType, mods: TokenModifier[] = []): void => push(w.span.start, w.span.end - w.span.start, type, mods);
  /** Comma-separated items of a word, each classified on its own. */
  const listWord = (w: Word): void => {
    let off = w.span.start;
    for (const part of w.text.split(',')) {
      if (part) push(off, part.length, ENUM_WORDS.has(part) ? 'enumMember' : OPERATOR_WORDS.has(part) ? 'operator' : isNumberLike(part) ? 'number' : 'string');
      off += part.length + 1;
    }
  };
  const value = (s: Setting): void => {
    const key = s.key.text;
    if (key === 'data') return dataList(s);
    for (const w of s.args) {
      if (key === 'model') word(w, 'string');
      else if (isNumberLike(w.text)) word(w, 'number');
      else listWord(w);
    }
  };
  const dataList = (s: Setting): void => {
    let off = s.value.span.start;
    for (const part of s.value.text.split(',')) {
      const m = /^(\s*)(.*?)(?:(\s*:\s*)(\S+))?\s*$/.exec(part)!;
      const nameStart = off + m[1]!.length;
      push(nameStart, m[2]!.length, 'string');
      if (m[4]) push(nameStart + m[2]!.length + m[3]!.length, m[4].length, 'number');
      off += part.length + 1;
    }
  };

  for (const l of a.ast.lines) {
    if (l.comment) push(l.comment.start, l.comment.end - l.comment.start, 'comment');
    for (const s of l.settings) {
      const key = s.key.text;
      if (l.kind === 'stage') {
        word(s.key, 'keyword');
        if (s.args[0]) word(s.args[0], 'variable', ['declaration']);
        if (s.args[1]) word(s.args[1], 'type');
      } else if (l.kind === 'setting') {
        if ((STAGE_KEYS as readonly string[]).includes(key) || (EVAL_KEYS as readonly string[]).includes(key)) word(s.key, 'property');
        value(s);
      } else if ((TOP_LEVEL_KEYS as readonly string[]).includes(key)) {
        word(s.key, 'keyword');
        if (key === 'expand') expansion(a, s, push);
        else if (key === 'run') {
          s.args.forEach((w, i) => {
            const prev = s.args[i - 1]?.text;
            if (RUN_OPTION_SET.has(w.text)) word(w, 'parameter');
            else if (prev === 'on') word(w, 'namespace');
            else if (isNumberLike(w.text)) word(w, 'number');
          });
        } else value(s);
      }
    }
  }
  return out.sort((x, y) => x.start - y.start);
}

function expansion(a: PlanAnalysis, s: Setting, push: (start: number, length: number, type: TokenType, mods?: TokenModifier[]) => void): void {
  const text = a.lines.text;
  const deletes = (a.ast.expansion?.statement === s ? a.ast.expansion.expr.segments : []).filter((g) => g.kind === 'delete').map((g) => g.span);
  const inDelete = (o: number): boolean => deletes.some((d) => o >= d.start && o < d.end);
  const re = /(\d+)|(<>|[◇~])|([()+x×*|\-−X])/g;
  const value = text.slice(s.value.span.start, s.value.span.end);
  for (let m = re.exec(value); m; m = re.exec(value)) {
    const at = s.value.span.start + m.index;
    if (m[1]) push(at, m[1].length, 'number', inDelete(at) ? ['deprecated'] : []);
    else if (m[2]) push(at, m[2].length, 'macro');
    else push(at, m[3]!.length, 'operator', inDelete(at) ? ['deprecated'] : []);
  }
}

export function semanticTokens(a: PlanAnalysis): SemanticTokens {
  const b = new SemanticTokensBuilder();
  for (const t of planTokens(a)) {
    const p = a.lines.positionAt(t.start);
    const mods = t.mods.reduce((acc, m) => acc | (1 << TOKEN_MODIFIERS.indexOf(m)), 0);
    b.push(p.line, p.character, t.length, TOKEN_TYPES.indexOf(t.type), mods);
  }
  return b.build();
}
