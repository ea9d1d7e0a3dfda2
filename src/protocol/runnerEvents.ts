// Runner events: the JSON-lines stream the Python runner writes (events.jsonl) and the extension,
// CLI and webviews read. Keys are snake_case on the wire because Python writes them.
// Schemas: contracts/runner-events.schema.json and contracts/importance.schema.json; the Python
// side (runner/slayer_runner/events.py) validates with the same files, and both are tested against
// the shared examples in contracts/fixtures/. Documented in docs/runner.md (events) and
// docs/training.md (importance.json).
import { enumOf, IMPORTANCE_SCHEMA, RUNNER_EVENTS_SCHEMA } from './contracts';
import { SchemaError } from './jsonSchema';

export const EVENTS_VERSION = 1 as const;

interface EventBase {
  v: typeof EVENTS_VERSION;
  /** Unix time in seconds (float). */
  t: number;
  /** Run id. */
  run: string;
  /** Per-run sequence number, from 0, without gaps: lets readers prove nothing was lost or repeated. */
  seq: number;
}

export type LogLevel = 'debug' | 'info' | 'warning' | 'error';

export interface LogEvent extends EventBase { kind: 'log'; level: LogLevel; msg: string }
export interface PhaseEvent extends EventBase { kind: 'phase'; phase: string; state: 'start' | 'end'; detail?: string }
export interface ProgressEvent extends EventBase {
  kind: 'progress';
  phase: string;
  done: number;
  total: number;
  unit: string;
  /** Estimated seconds left; null while unknown. */
  eta_s: number | null;
}
export interface MetricEvent extends EventBase {
  kind: 'metric';
  stage: string;
  step: number;
  tokens: number;
  loss: number;
  lr: number;
  grad_norm: number;
  tokens_per_s: number;
  /** Peak GPU memory in bytes since the last metric; null on CPU. */
  gpu_mem: number | null;
  /** Loss on held-out data, on the steps where the runner evaluated (optional). */
  eval_loss?: number | null;
}
export type ImportanceMetric = 'angular_all' | 'angular_last' | 'removal_drop' | 'insert_copy_drop' | 'insert_average_drop';
export interface ImportanceEvent extends EventBase {
  kind: 'importance';
  metric: ImportanceMetric;
  /** One value per base block, 0-based. */
  values: number[];
}
export interface ArtifactEvent extends EventBase { kind: 'artifact'; name: string; path: string; bytes: number | null }
export interface ErrorEvent extends EventBase { kind: 'error'; message: string; where: string | null; traceback: string | null }
export interface DoneEvent extends EventBase { kind: 'done'; status: 'succeeded' | 'failed' | 'cancelled'; exit_code: number }

/** The `eval` kind's own version (field `ev`): its fields can grow without a new stream version. */
export const EVAL_EVENT_VERSION = 1 as const;
export type EvalGroup = 'domain' | 'general';
export const EVAL_GROUPS: readonly EvalGroup[] = enumOf<EvalGroup>(RUNNER_EVENTS_SCHEMA, 'evalGroup');
export type EvalSource = 'harness' | 'perplexity';
export type EvalSettingValue = string | number | boolean | null;
/**
 * One score of one evaluated model. `model` is `base`, `expanded`, a stage name or `final`.
 * Harness scores carry their pinned settings (shots, limit, seed, chat_template, batch_size,
 * task_version, harness_version, samples); perplexity carries tokens, loss, seq_len, files.
 */
export interface EvalEvent extends EventBase {
  kind: 'eval';
  ev: typeof EVAL_EVENT_VERSION;
  model: string;
  task: string;
  group: EvalGroup;
  source: EvalSource;
  /** Harness metric key (`acc_norm,none`, `exact_match,strict-match`) or `perplexity`. */
  metric: string;
  value: number;
  stderr: number | null;
  higher_is_better: boolean;
  /** Served from the host's cache of base-model scores. */
  cached: boolean;
  settings: Record<string, EvalSettingValue>;
}

export type RunnerEvent =
  | LogEvent | PhaseEvent | ProgressEvent | MetricEvent | ImportanceEvent | ArtifactEvent | ErrorEvent | DoneEvent
  | EvalEvent;
export type RunnerEventKind = RunnerEvent['kind'];

export const IMPORTANCE_METRICS: readonly ImportanceMetric[] = enumOf<ImportanceMetric>(RUNNER_EVENTS_SCHEMA, 'importanceMetric');

export class EventError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EventError';
  }
}

/** Checks one decoded JSON value against the schema; returns it typed or throws EventError. */
export function validateEvent(value: unknown): RunnerEvent {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new EventError('event is not an object');
  const e = value as Record<string, unknown>;
  if (e.v !== EVENTS_VERSION) throw new EventError(`unsupported event version ${String(e.v)} (this build reads ${EVENTS_VERSION})`);
  try {
    RUNNER_EVENTS_SCHEMA.validate(value);
  } catch (err) {
    if (!(err instanceof SchemaError)) throw err;
    const kind = typeof e.kind === 'string' ? e.kind : '?';
    if (err.path === 'kind') throw new EventError(`unknown event kind "${kind}"`);
    throw new EventError(`${kind} event: bad or missing field "${/^[^.[]*/.exec(err.path)![0]}"`);
  }
  return value as RunnerEvent;
}

/** Parses one line of events.jsonl. */
export function parseEventLine(line: string): RunnerEvent {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (err) {
    throw new EventError(`not JSON: ${(err as Error).message}`);
  }
  return validateEvent(value);
}

// importance.json, written by `slayer_runner importance` next to the events.
export const IMPORTANCE_FILE_VERSION = 1 as const;

export interface ImportanceFile {
  v: typeof IMPORTANCE_FILE_VERSION;
  /** Model directory or id the measurement was made on. */
  model: string;
  num_layers: number;
  calibration: { source: string; sequences: number; tokens: number; seq_len: number };
  /** Mean token log-likelihood of the unmodified model on the calibration set. */
  baseline_loglik: number;
  /** Each series has one value per base block (0-based); absent when not measured. */
  angular_all: number[];
  angular_last: number[];
  removal_drop: number[] | null;
  insert_copy_drop: number[] | null;
  insert_average_drop: number[] | null;
}

export function validateImportanceFile(value: unknown): ImportanceFile {
  if (typeof value !== 'object' || value === null) throw new EventError('importance.json: not an object');
  const f = value as Record<string, unknown>;
  if (f.v !== IMPORTANCE_FILE_VERSION) throw new EventError(`importance.json: unsupported version ${String(f.v)}`);
  try {
    IMPORTANCE_SCHEMA.validate(value);
  } catch (err) {
    if (err instanceof SchemaError) throw new EventError(`importance.json: ${err.message}`);
    throw err;
  }
  const file = value as ImportanceFile;
  for (const k of ['angular_all', 'angular_last', 'removal_drop', 'insert_copy_drop', 'insert_average_drop'] as const) {
    const series = file[k];
    if (series !== null && series.length !== file.num_layers) throw new EventError(`importance.json: "${k}" must hold ${file.num_layers} numbers`);
  }
  return file;
}
