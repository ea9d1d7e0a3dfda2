// Run config (run.json): what the extension or CLI tells the runner beyond the LayerMap — where
// things are on the host and which phases to run. snake_case on the wire (Python reads it).
// Schema: contracts/run-config.schema.json (the runner's twin is runner/slayer_runner/run_config.py);
// the run directory's file names: contracts/run-directory.json. Documented in docs/runner.md.
import { enumOf, RUN_CONFIG_SCHEMA } from './contracts';
import type { EvalPlan } from './evalPlan';
import { SchemaError } from './jsonSchema';

export const RUN_CONFIG_VERSION = 1 as const;

export type RunPhase = 'doctor' | 'surgery' | 'importance' | 'train' | 'eval';

export interface TinyModelSpec {
  /** Build a random Llama-format checkpoint of this shape instead of reading one (demo, tests). */
  num_layers: number;
  hidden_size: number;
  intermediate_size: number;
  num_heads: number;
  num_kv_heads: number;
  vocab_size: number;
  seed: number;
}

/** Which code computes the model on the host (runner/slayer_runner/backend.py): transformers'
 * AutoModelForCausalLM when importable (auto), or the runner's in-house model. */
export type ModelBackend = 'auto' | 'transformers' | 'builtin';
/** transformers' attn_implementation; auto = flash_attention_2 on CUDA with flash_attn, else sdpa. */
export type AttnImplementation = 'auto' | 'sdpa' | 'flash_attention_2' | 'eager';
export const MODEL_BACKENDS: readonly ModelBackend[] = enumOf<ModelBackend>(RUN_CONFIG_SCHEMA, 'backend');
export const ATTN_IMPLEMENTATIONS: readonly AttnImplementation[] = enumOf<AttnImplementation>(RUN_CONFIG_SCHEMA, 'attn_implementation');

export interface RunConfig {
  v: typeof RUN_CONFIG_VERSION;
  run_id: string;
  /** Base checkpoint directory on the host; null when tiny_model says to make one. */
  source_model: string | null;
  tiny_model: TinyModelSpec | null;
  /** Phases in order; the runner skips the others. */
  phases: RunPhase[];
  /** Dataset name (as written in the plan) → path on the host. Unlisted names are taken as paths. */
  datasets: Record<string, string>;
  /** Calibration text or token file for importance; null = the bundled sample text. */
  calibration: string | null;
  /** Caps optimizer steps per stage (demo and smoke runs); null = the plan's budget. */
  max_steps: number | null;
  device: 'auto' | 'cpu' | 'cuda';
  /** Processes per node for torchrun; 1 = no torchrun. */
  nproc_per_node: number;
  nnodes: number;
  seed: number;
  /** Optional; absent = auto. */
  backend?: ModelBackend;
  /** Optional; absent = auto. */
  attn_implementation?: AttnImplementation;
  /** What the eval phase evaluates (the plan's eval section); absent or null = nothing. */
  eval?: EvalPlan | null;
  /** The sweep this run is a variant of (docs/sweeps.md); absent or null = a run of its own. */
  sweep?: SweepRef | null;
}

/** A run's place in a sweep: the dispatch it belongs to, the plan's sweep name, its variant. */
export interface SweepRef {
  /** One dispatch of a sweep (`s-STAMP-HEX`), shared by all its runs. */
  id: string;
  name: string;
  variant: string;
  /** The variant's place in the sweep section, 0-based (the table's row order). */
  index: number;
}

export class RunConfigError extends Error {
  constructor(message: string) {
    super(`run.json: ${message}`);
    this.name = 'RunConfigError';
  }
}

/** Every phase, in the order a full run takes them (the schema's `$defs/phase`). */
export const RUN_PHASES: readonly RunPhase[] = enumOf<RunPhase>(RUN_CONFIG_SCHEMA, 'phase');

export function validateRunConfig(value: unknown): RunConfig {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new RunConfigError('not an object');
  const c = value as Record<string, unknown>;
  if (c.v !== RUN_CONFIG_VERSION) throw new RunConfigError(`unsupported version ${String(c.v)}`);
  try {
    RUN_CONFIG_SCHEMA.validate(value);
  } catch (e) {
    if (e instanceof SchemaError) throw new RunConfigError(`bad or missing "${e.path}": ${e.detail}`);
    throw e;
  }
  if (c.source_model === null && c.tiny_model === null) throw new RunConfigError('needs source_model or tiny_model');
  return c as unknown as RunConfig;
}
