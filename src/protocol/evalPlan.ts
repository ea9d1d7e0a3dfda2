// The evaluation a plan asks for (its `eval` section), as the compiler writes it into the LayerMap
// (`evaluation`) and the run config (run.json `eval`), and as runner/slayer_runner/evaluation.py
// reads it. snake_case on the wire (Python reads it). Documented in docs/plan-language.md
// (Evaluation) and docs/runner.md (the eval phase).

export type EvalGroupName = 'domain' | 'general';
/** When to evaluate: the base model, the expanded model (before training), after each stage, the final model. */
export type EvalWhen = 'base' | 'expanded' | 'stages' | 'final';
export const EVAL_WHEN: readonly EvalWhen[] = ['base', 'expanded', 'stages', 'final'];

export interface EvalTaskSpec {
  /** lm-evaluation-harness task name, or the `task:` of a local config. */
  name: string;
  group: EvalGroupName;
  /** Few-shot examples; null = the task's own default. */
  shots: number | null;
  /** Harness metric (`acc_norm`, `exact_match,strict-match`); null = the task's first. */
  metric: string | null;
  /** Documents per task (≥ 1) or a share (< 1); null = all. */
  limit: number | null;
  chat_template: boolean;
  /** Path (on the host, like data) of a local task YAML; null for a registered task. */
  config: string | null;
  /** The task runs generated code (HumanEval, MBPP): the harness is told it may. */
  unsafe_code: boolean;
}

export interface EvalPerplexitySpec {
  name: string;
  group: EvalGroupName;
  /** Dataset names or paths on the host, resolved like stage data. */
  files: string[];
}

export interface EvalPlan {
  tasks: EvalTaskSpec[];
  perplexity: EvalPerplexitySpec[];
  when: EvalWhen[];
  batch_size: number;
  /** Window length of held-out perplexity. */
  seq_len: number;
  seed: number;
  /** Host directory of cached base-model scores; null = ~/.cache/slayer/eval. */
  cache_dir: string | null;
}

export class EvalPlanError extends Error {
  constructor(message: string) {
    super(`eval: ${message}`);
    this.name = 'EvalPlanError';
  }
}

const isGroup = (v: unknown): v is EvalGroupName => v === 'domain' || v === 'general';
const isPosInt = (v: unknown): boolean => Number.isInteger(v) && (v as number) >= 1;
const isStrOrNull = (v: unknown): boolean => v === null || typeof v === 'string';

/** Checks a decoded `eval` object; returns it typed or throws EvalPlanError naming the field. */
export function validateEvalPlan(value: unknown): EvalPlan {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new EvalPlanError('not an object');
  const e = value as Record<string, unknown>;
  const fail = (field: string): never => {
    throw new EvalPlanError(`bad or missing "${field}"`);
  };
  if (!Array.isArray(e.tasks)) fail('tasks');
  (e.tasks as unknown[]).forEach((t, i) => {
    const o = (typeof t === 'object' && t !== null ? t : {}) as Record<string, unknown>;
    if (typeof o.name !== 'string' || o.name === '') fail(`tasks[${i}].name`);
    if (!isGroup(o.group)) fail(`tasks[${i}].group`);
    if (!(o.shots === null || (Number.isInteger(o.shots) && (o.shots as number) >= 0))) fail(`tasks[${i}].shots`);
    if (!isStrOrNull(o.metric)) fail(`tasks[${i}].metric`);
    if (!(o.limit === null || (typeof o.limit === 'number' && o.limit > 0))) fail(`tasks[${i}].limit`);
    if (typeof o.chat_template !== 'boolean') fail(`tasks[${i}].chat_template`);
    if (!isStrOrNull(o.config)) fail(`tasks[${i}].config`);
    if (typeof o.unsafe_code !== 'boolean') fail(`tasks[${i}].unsafe_code`);
  });
  if (!Array.isArray(e.perplexity)) fail('perplexity');
  (e.perplexity as unknown[]).forEach((p, i) => {
    const o = (typeof p === 'object' && p !== null ? p : {}) as Record<string, unknown>;
    if (typeof o.name !== 'string' || o.name === '') fail(`perplexity[${i}].name`);
    if (!isGroup(o.group)) fail(`perplexity[${i}].group`);
    if (!Array.isArray(o.files) || o.files.length === 0 || !o.files.every((f) => typeof f === 'string')) fail(`perplexity[${i}].files`);
  });
  if (!Array.isArray(e.when) || !e.when.every((w) => EVAL_WHEN.includes(w as EvalWhen))) fail('when');
  if (!isPosInt(e.batch_size)) fail('batch_size');
  if (!(Number.isInteger(e.seq_len) && (e.seq_len as number) >= 2)) fail('seq_len');
  if (!Number.isInteger(e.seed)) fail('seed');
  if (!isStrOrNull(e.cache_dir)) fail('cache_dir');
  return e as unknown as EvalPlan;
}
