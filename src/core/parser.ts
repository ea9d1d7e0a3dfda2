// Line-oriented parser with error recovery: every line is parsed on its own, so a mistake on one
// line never hides the next, and the tree is always usable.
import { STAGE_KEYS, TOP_LEVEL_KEYS, type EvalBlock, type LineInfo, type PlanAst, type Setting, type StageBlock, type Statement, type SweepBlock, type Word } from './ast';
import { diagnostic, nearest, type PlanDiagnostic } from './diagnostics';
import { EVAL_KEYS } from './evaluation';
import { parseExpansion } from './expansion';
import { LineIndex, type Span } from './text';

const stageKeys: readonly string[] = STAGE_KEYS;
const topKeys: readonly string[] = TOP_LEVEL_KEYS;
const evalKeys: readonly string[] = EVAL_KEYS;

/** An eval line is one setting: its key, then the rest of the line (a task and its options). */
function evalLine(text: string, words: Word[], diagnostics: PlanDiagnostic[]): Setting {
  const key = words[0]!;
  if (!evalKeys.includes(key.text)) {
    const guess = nearest(key.text, EVAL_KEYS);
    diagnostics.push(diagnostic('SL002', 'error', key.span,
      `unknown eval setting "${key.text}"${guess ? `; did you mean "${guess}"?` : `; eval settings are ${EVAL_KEYS.join(', ')}`}`,
      { fixes: guess ? [{ title: `Change to "${guess}"`, edits: [{ span: key.span, newText: guess }], preferred: true }] : [] }));
  }
  return setting(text, key, words.slice(1));
}

export interface ParseResult {
  ast: PlanAst;
  diagnostics: PlanDiagnostic[];
  lines: LineIndex;
}

function splitWords(text: string, from: number, to: number): Word[] {
  const words: Word[] = [];
  let i = from;
  while (i < to) {
    while (i < to && (text[i] === ' ' || text[i] === '\t')) i++;
    const s = i;
    while (i < to && text[i] !== ' ' && text[i] !== '\t') i++;
    if (i > s) words.push({ text: text.slice(s, i), span: { start: s, end: i } });
  }
  return words;
}

function valueOf(text: string, key: Word, args: Word[]): Word {
  if (args.length === 0) return { text: '', span: { start: key.span.end, end: key.span.end } };
  const span = { start: args[0]!.span.start, end: args[args.length - 1]!.span.end };
  return { text: text.slice(span.start, span.end), span };
}

function setting(text: string, key: Word, args: Word[]): Setting {
  const value = valueOf(text, key, args);
  return { key, args, value, span: { start: key.span.start, end: args.length ? value.span.end : key.span.end } };
}

/** `#` starts a comment at the start of a line or after white space (so `a#b` stays one word). */
function commentStart(text: string, from: number, to: number): number {
  for (let i = from; i < to; i++) {
    if (text[i] === '#' && (i === from || text[i - 1] === ' ' || text[i - 1] === '\t')) return i;
  }
  return to;
}

/** Splits a stage line into settings at every known stage key; `data` takes the rest of the line. */
function splitStageLine(text: string, words: Word[], diagnostics: PlanDiagnostic[]): Setting[] {
  const out: Setting[] = [];
  let i = 0;
  while (i < words.length) {
    const key = words[i]!;
    if (!stageKeys.includes(key.text)) {
      const guess = nearest(key.text, STAGE_KEYS);
      diagnostics.push(diagnostic('SL002', 'error', key.span,
        `unknown stage setting "${key.text}"${guess ? `; did you mean "${guess}"?` : `; stage settings are ${STAGE_KEYS.join(', ')}`}`,
        { fixes: guess ? [{ title: `Change to "${guess}"`, edits: [{ span: key.span, newText: guess }], preferred: true }] : [] }));
    }
    let j = i + 1;
    if (key.text !== 'data') while (j < words.length && !stageKeys.includes(words[j]!.text)) j++;
    else j = words.length;
    out.push(setting(text, key, words.slice(i + 1, j)));
    i = j;
  }
  return out;
}

export function parsePlan(text: string): ParseResult {
  const lines = new LineIndex(text);
  const diagnostics: PlanDiagnostic[] = [];
  const statements: Statement[] = [];
  const stages: StageBlock[] = [];
  const lineInfos: LineInfo[] = [];
  let stage: StageBlock | null = null;
  const evals: EvalBlock[] = [];
  let evalBlock: EvalBlock | null = null;
  const sweeps: SweepBlock[] = [];
  let sweepBlock: SweepBlock | null = null;
  let expansion: PlanAst['expansion'] = null;

  for (let ln = 0; ln < lines.lineCount; ln++) {
    // A UTF-8 byte-order mark before the first key is not part of it.
    const start = ln === 0 && text.charCodeAt(0) === 0xfeff ? 1 : lines.lineStart(ln);
    const end = lines.lineEnd(ln);
    const cStart = commentStart(text, start, end);
    const comment: Span | null = cStart < end ? { start: cStart, end } : null;
    const words = splitWords(text, start, cStart);
    let indent = 0;
    while (start + indent < cStart && (text[start + indent] === ' ' || text[start + indent] === '\t')) indent++;
    const info: LineInfo = { line: ln, kind: words.length ? 'statement' : comment ? 'comment' : 'blank', indent, settings: [], comment, span: { start, end } };
    lineInfos.push(info);
    if (words.length === 0) continue;
    const key = words[0]!;

    if (indent > 0 && evalBlock && !(topKeys.includes(key.text) && key.text !== 'eval')) {
      info.kind = 'setting';
      const s = evalLine(text, words, diagnostics);
      info.settings = [s];
      evalBlock.settings.push(s);
      evalBlock.span = { start: evalBlock.span.start, end: s.span.end };
      continue;
    }
    if (indent > 0 && sweepBlock && !topKeys.includes(key.text)) {
      // A variant: its name, then the rest of the line (checked by src/core/sweep.ts).
      info.kind = 'setting';
      const s = setting(text, key, words.slice(1));
      info.settings = [s];
      sweepBlock.variants.push(s);
      sweepBlock.span = { start: sweepBlock.span.start, end: s.span.end };
      continue;
    }
    if (indent > 0 && stage && key.text !== 'stage' && !(topKeys.includes(key.text) && !stageKeys.includes(key.text))) {
      info.kind = 'setting';
      info.settings = splitStageLine(text, words, diagnostics);
      for (const st of info.settings) stage.settings.push(st);
      stage.span = { start: stage.span.start, end: info.settings[info.settings.length - 1]!.span.end };
      continue;
    }
    if (indent > 0 && !stage && stageKeys.includes(key.text)) {
      diagnostics.push(diagnostic('SL005', 'error', key.span, `"${key.text}" is a stage setting, but no "stage" line comes before it`));
    }
    if (indent === 0 && stageKeys.includes(key.text)) {
      const fixes = stage ? [{ title: `Indent "${key.text}" into stage ${stage.name?.text ?? ''}`.trimEnd(), edits: [{ span: { start, end: start }, newText: '  ' }], preferred: true }] : [];
      diagnostics.push(diagnostic('SL005', 'error', key.span,
        stage ? `"${key.text}" is a stage setting: indent it under "stage ${stage.name?.text ?? ''}"` : `"${key.text}" is a stage setting: put it in an indented block under "stage cpt" or "stage sft"`,
        { fixes }));
    }
    const stmt: Statement = { ...setting(text, key, words.slice(1)), line: ln, indent };
    info.settings = [stmt];
    if (key.text === 'stage') {
      info.kind = 'stage';
      evalBlock = null;
      sweepBlock = null;
      stage = { header: stmt, name: stmt.args[0] ?? null, kind: stmt.args[1] ?? null, settings: [], span: stmt.span };
      stages.push(stage);
      if (!stmt.args[0]) diagnostics.push(diagnostic('SL004', 'error', key.span, 'a stage needs a name: "stage cpt" or "stage sft" (or "stage NAME cpt")'));
      for (const extra of stmt.args.slice(2)) diagnostics.push(diagnostic('SL004', 'error', extra.span, `unexpected "${extra.text}" after the stage name and kind`));
      continue;
    }
    stage = null;
    evalBlock = null;
    sweepBlock = null;
    if (key.text === 'sweep') {
      info.kind = 'stage';
      sweepBlock = { header: stmt, name: stmt.args[0] ?? null, variants: [], span: stmt.span };
      sweeps.push(sweepBlock);
      for (const extra of stmt.args.slice(1)) diagnostics.push(diagnostic('SL004', 'error', extra.span, `unexpected "${extra.text}": a sweep has one name; put its variants on indented lines below`));
      continue;
    }
    if (key.text === 'eval') {
      info.kind = 'stage';
      evalBlock = { header: stmt, settings: [], span: stmt.span };
      evals.push(evalBlock);
      for (const extra of stmt.args) diagnostics.push(diagnostic('SL004', 'error', extra.span, `unexpected "${extra.text}": eval starts a section; put its settings on indented lines below`));
      continue;
    }
    statements.push(stmt);
    if (!topKeys.includes(key.text) && !stageKeys.includes(key.text)) {
      const guess = nearest(key.text, [...TOP_LEVEL_KEYS]);
      diagnostics.push(diagnostic('SL002', 'error', key.span,
        `unknown key "${key.text}"${guess ? `; did you mean "${guess}"?` : `; plan keys are ${TOP_LEVEL_KEYS.join(', ')}`}`,
        { fixes: guess ? [{ title: `Change to "${guess}"`, edits: [{ span: key.span, newText: guess }], preferred: true }] : [] }));
    }
    if (key.text === 'expand') {
      const exprText = text.slice(stmt.value.span.start, stmt.value.span.end);
      const parsed = parseExpansion(exprText, stmt.value.span.start);
      if (!expansion) {
        expansion = { statement: stmt, expr: parsed.expr };
        for (const d of parsed.diagnostics) diagnostics.push(d);
      }
    }
  }
  return { ast: { statements, stages, evals, sweeps, lines: lineInfos, expansion, length: text.length }, diagnostics, lines };
}
