// The evaluation a plan asks for (its `eval` section), as the compiler writes it into the LayerMap
// (`evaluation`) and the run config (run.json `eval`), and as runner/slayer_runner/evaluation.py
// reads it. snake_case on the wire (Python reads it). Its schema is `$defs/evalPlan` in
// contracts/run-config.schema.json and contracts/layermap.schema.json (the validators of run.json
// and the LayerMap check it). Documented in docs/plan-language.md (Evaluation) and docs/runner.md.

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
