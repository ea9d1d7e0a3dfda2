// Canonical formatting: keys aligned in a column, stage and eval settings indented by two, several settings
// on one line separated by two spaces, the expansion in canonical notation, comments and blank
// lines kept. Idempotent; values are otherwise kept as written.
import { formatExpansion, hasDiamond } from './expansion';
import { MAX_PLAN_CHARS } from './limits';
import { parsePlan } from './parser';
import type { Setting } from './ast';

export function formatPlan(text: string): string {
  if (text.length > MAX_PLAN_CHARS) return text; // not analysed, so not formatted either
  const { ast, diagnostics } = parsePlan(text);
  const expansionOk = ast.expansion !== null && !diagnostics.some((d) => d.code === 'SL021') && ast.expansion.expr.segments.length > 0;
  const topWidth = ast.statements.reduce((w, s) => Math.max(w, s.key.text.length), 0) + 2;
  // One key column per stage block: the setting lines between a stage line and the next statement
  // (one pass; a plan of many stages stays linear).
  const stageWidth = new Map<number, number>();
  let block: number[] = [];
  let blockWidth = 0;
  const closeBlock = (): void => {
    for (const line of block) stageWidth.set(line, blockWidth + 2);
    block = [];
    blockWidth = 0;
  };
  for (const l of ast.lines) {
    if (l.kind === 'stage' || l.kind === 'statement') closeBlock();
    else if (l.kind === 'setting') {
      block.push(l.line);
      blockWidth = Math.max(blockWidth, l.settings[0]!.key.text.length);
    }
  }
  closeBlock();
  const valueText = (s: Setting): string => {
    if (ast.expansion && s === ast.expansion.statement && expansionOk) return formatExpansion(ast.expansion.expr, hasDiamond(ast.expansion.expr));
    return text.slice(s.value.span.start, s.value.span.end);
  };
  const pair = (s: Setting, width: number): string => {
    const v = valueText(s);
    return v ? `${s.key.text.padEnd(width)}${v}` : s.key.text;
  };
  const out: string[] = [];
  for (const l of ast.lines) {
    const comment = l.comment ? text.slice(l.comment.start, l.comment.end).trimEnd() : '';
    let body = '';
    if (l.kind === 'blank') body = '';
    else if (l.kind === 'comment') body = `${l.indent > 0 ? '  ' : ''}${comment}`;
    else if (l.kind === 'stage') {
      const st = l.settings[0]!;
      body = [st.key.text, ...st.args.map((a) => a.text)].join(' ');
    } else if (l.kind === 'setting') {
      const w = stageWidth.get(l.line) ?? 0;
      body = `  ${l.settings.map((s, i) => pair(s, i === 0 ? w : s.key.text.length + 1)).join('  ')}`;
    } else {
      body = pair(l.settings[0]!, topWidth);
    }
    if (comment && l.kind !== 'comment') body = `${body}  ${comment}`;
    out.push(body.trimEnd());
  }
  let result = out.join('\n');
  if (text.endsWith('\n') && !result.endsWith('\n')) result += '\n';
  return result;
}
