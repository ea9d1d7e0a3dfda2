// Run config (run.json): what the extension or CLI tells the runner beyond the LayerMap — where
// things are on the host and which phases to run. snake_case on the wire (Python reads it).
// A run directory on the host holds: runner/ (the uploaded package), layermap.json, run.json,
// events.jsonl (append-only), runner.log, pid, exit_code (written atomically at exit), out/.
// Documented in docs/runner.md.

export const RUN_CONFIG_VERSION = 1 as const;

import { validateEvalPlan, type EvalPlan } from './evalPlan';

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
  /** What the eval phase evaluates (the plan's eval section); absent or null = nothing. */
  eval?: EvalPlan | null;
}

export class RunConfigError extends Error {
  constructor(message: string) {
    super(`run.json: ${message}`);
    this.name = 'RunConfigError';
  }
}

const PHASES: readonly RunPhase[] = ['doctor', 'surgery', 'importance', 'train', 'eval'];

export function validateRunConfig(value: unknown): RunConfig {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new RunConfigError('not an object');
  const c = value as Record<string, unknown>;
  const fail = (field: string): never => {
    throw new RunConfigError(`bad or missing "${field}"`);
  };
  const posInt = (v: unknown): boolean => Number.isInteger(v) && (v as number) >= 1;
  if (c.v !== RUN_CONFIG_VERSION) throw new RunConfigError(`unsupported version ${String(c.v)}`);
  if (typeof c.run_id !== 'string' || !/^[A-Za-z0-9._-]{1,128}$/.test(c.run_id)) fail('run_id');
  if (!(c.source_model === null || typeof c.source_model === 'string')) fail('source_model');
  if (c.tiny_model !== null) {
    const t = c.tiny_model as Record<string, unknown> | undefined;
    if (typeof t !== 'object' || t === null) fail('tiny_model');
    for (const k of ['num_layers', 'hidden_size', 'intermediate_size', 'num_heads', 'num_kv_heads', 'vocab_size']) {
      if (!posInt((t as Record<string, unknown>)[k])) fail(`tiny_model.${k}`);
    }
  }
  if (c.source_model === null && c.tiny_model === null) throw new RunConfigError('needs source_model or tiny_model');
  if (!Array.isArray(c.phases) || !c.phases.every((p) => PHASES.includes(p as RunPhase))) fail('phases');
  if (typeof c.datasets !== 'object' || c.datasets === null || !Object.values(c.datasets).every((p) => typeof p === 'string')) fail('datasets');
  if (!(c.calibration === null || typeof c.calibration === 'string')) fail('calibration');
  if (!(c.max_steps === null || posInt(c.max_steps))) fail('max_steps');
  if (!['auto', 'cpu', 'cuda'].includes(c.device as string)) fail('device');
  if (!posInt(c.nproc_per_node)) fail('nproc_per_node');
  if (!posInt(c.nnodes)) fail('nnodes');
  if (!Number.isInteger(c.seed)) fail('seed');
  if (c.eval !== undefined && c.eval !== null) {
    try {
      validateEvalPlan(c.eval);
    } catch (err) {
      throw new RunConfigError((err as Error).message);
    }
  }
  return c as unknown as RunConfig;
}
