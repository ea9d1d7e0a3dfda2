// The syntax tree of a .slayer plan. Plans are line-oriented: `key value…` per line, `#` comments,
// stage settings indented under `stage NAME`. Every node keeps its exact source span.
import type { ExpansionExpr } from './expansion';
import type { Span } from './text';

export interface Word {
  text: string;
  span: Span;
}

/** One `key value…` unit. A stage line may hold several (`precision bf16  weight-decay 0.1`). */
export interface Setting {
  key: Word;
  args: Word[];
  /** From the first argument to the last (empty span at the key's end when there are none). */
  value: Word;
  span: Span;
}

export interface Statement extends Setting {
  line: number;
  indent: number;
}

export interface StageBlock {
  header: Statement;
  /** `stage cpt`: name cpt, kind cpt. `stage math sft`: name math, kind sft. */
  name: Word | null;
  kind: Word | null;
  settings: Setting[];
  /** From the header to the end of its last setting line. */
  span: Span;
}

/** The `eval` section: one `key value…` setting per indented line. */
export interface EvalBlock {
  header: Statement;
  settings: Setting[];
  span: Span;
}

/**
 * The `sweep NAME` section: one variant of the plan per indented line, `VARIANT [EXPANSION]
 * [train …] [init …] [final …] [zero …]` (src/core/sweep.ts). The variant's name is the setting's key.
 */
export interface SweepBlock {
  header: Statement;
  name: Word | null;
  variants: Setting[];
  span: Span;
}

export type LineKind = 'blank' | 'comment' | 'statement' | 'stage' | 'setting';

export interface LineInfo {
  line: number;
  kind: LineKind;
  indent: number;
  /** Settings on this line (one for statements). */
  settings: Setting[];
  comment: Span | null;
  /** Start and end of the line's text, before the newline. */
  span: Span;
}

export interface PlanAst {
  /** Top-level statements in order (model, expand, init, zero, final, train, run, unknown keys). */
  statements: Statement[];
  stages: StageBlock[];
  /** `eval` sections in order (the first counts; a second is a duplicate). */
  evals: EvalBlock[];
  /** `sweep` sections in order (the first counts; a second is a duplicate). */
  sweeps: SweepBlock[];
  lines: LineInfo[];
  /** The first `expand` statement's parsed expression. */
  expansion: { statement: Statement; expr: ExpansionExpr } | null;
  length: number;
}

export const TOP_LEVEL_KEYS = ['model', 'expand', 'init', 'zero', 'final', 'train', 'stage', 'eval', 'sweep', 'run'] as const;
export const STAGE_KEYS = [
  'data', 'tokens', 'steps', 'epochs', 'lr', 'schedule', 'warmup', 'batch', 'seq', 'precision',
  'weight-decay', 'clip', 'checkpoint-every',
] as const;
export type TopLevelKey = (typeof TOP_LEVEL_KEYS)[number];
export type StageKey = (typeof STAGE_KEYS)[number];

export function findStatement(ast: PlanAst, key: TopLevelKey): Statement | undefined {
  return ast.statements.find((s) => s.key.text === key);
}
