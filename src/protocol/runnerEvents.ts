// Runner events: the JSON-lines stream the Python runner writes (events.jsonl) and the extension,
// CLI and webviews read. Keys are snake_case on the wire because Python writes them.
// The Python side (runner/slayer_runner/events.py) and this module are both tested against the
// shared examples in test/fixtures/events/. Documented in docs/runner.md (events) and docs/training.md (importance.json).

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
export const EVAL_GROUPS: readonly EvalGroup[] = ['domain', 'general'];
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

export const IMPORTANCE_METRICS: readonly ImportanceMetric[] = [
  'angular_all', 'angular_last', 'removal_drop', 'insert_copy_drop', 'insert_average_drop',
];

export class EventError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EventError';
  }
}

type Rec = Record<string, unknown>;
const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isNumOrNull = (v: unknown): boolean => v === null || isNum(v);
const isStr = (v: unknown): v is string => typeof v === 'string';

function need(ok: boolean, kind: string, field: string): void {
  if (!ok) throw new EventError(`${kind} event: bad or missing field "${field}"`);
}

/** Checks one decoded JSON value against the schema; returns it typed or throws EventError. */
export function validateEvent(value: unknown): RunnerEvent {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new EventError('event is not an object');
  const e = value as Rec;
  if (e.v !== EVENTS_VERSION) throw new EventError(`unsupported event version ${String(e.v)} (this build reads ${EVENTS_VERSION})`);
  const kind = isStr(e.kind) ? e.kind : '?';
  need(isNum(e.t), kind, 't');
  need(isStr(e.run), kind, 'run');
  need(Number.isInteger(e.seq) && (e.seq as number) >= 0, kind, 'seq');
  switch (e.kind) {
    case 'log':
      need(['debug', 'info', 'warning', 'error'].includes(e.level as string), kind, 'level');
      need(isStr(e.msg), kind, 'msg');
      break;
    case 'phase':
      need(isStr(e.phase), kind, 'phase');
      need(e.state === 'start' || e.state === 'end', kind, 'state');
      need(e.detail === undefined || isStr(e.detail), kind, 'detail');
      break;
    case 'progress':
      need(isStr(e.phase), kind, 'phase');
      need(isNum(e.done), kind, 'done');
      need(isNum(e.total), kind, 'total');
      need(isStr(e.unit), kind, 'unit');
      need(isNumOrNull(e.eta_s), kind, 'eta_s');
      break;
    case 'metric':
      need(isStr(e.stage), kind, 'stage');
      for (const f of ['step', 'tokens', 'loss', 'lr', 'grad_norm', 'tokens_per_s']) need(isNum(e[f]), kind, f);
      need(isNumOrNull(e.gpu_mem), kind, 'gpu_mem');
      break;
    case 'importance':
      need(IMPORTANCE_METRICS.includes(e.metric as ImportanceMetric), kind, 'metric');
      need(Array.isArray(e.values) && (e.values as unknown[]).every(isNum), kind, 'values');
      break;
    case 'artifact':
      need(isStr(e.name), kind, 'name');
      need(isStr(e.path), kind, 'path');
      need(isNumOrNull(e.bytes), kind, 'bytes');
      break;
    case 'error':
      need(isStr(e.message), kind, 'message');
      need(e.where === null || isStr(e.where), kind, 'where');
      need(e.traceback === null || isStr(e.traceback), kind, 'traceback');
      break;
    case 'done':
      need(['succeeded', 'failed', 'cancelled'].includes(e.status as string), kind, 'status');
      need(Number.isInteger(e.exit_code), kind, 'exit_code');
      break;
    case 'eval':
      validateEvalFields(e);
      break;
    default:
      throw new EventError(`unknown event kind "${kind}"`);
  }
  return e as unknown as RunnerEvent;
}

function validateEvalFields(e: Rec): void {
  const k = 'eval';
  need(e.ev === EVAL_EVENT_VERSION, k, 'ev');
  for (const f of ['model', 'task', 'metric']) need(isStr(e[f]) && e[f] !== '', k, f);
  need(EVAL_GROUPS.includes(e.group as EvalGroup), k, 'group');
  need(e.source === 'harness' || e.source === 'perplexity', k, 'source');
  need(isNum(e.value), k, 'value');
  need(isNumOrNull(e.stderr), k, 'stderr');
  need(typeof e.higher_is_better === 'boolean', k, 'higher_is_better');
  need(typeof e.cached === 'boolean', k, 'cached');
  const s = e.settings;
  need(typeof s === 'object' && s !== null && !Array.isArray(s)
    && Object.values(s).every((v) => v === null || isStr(v) || isNum(v) || typeof v === 'boolean'), k, 'settings');
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
  const f = value as Rec;
  if (f.v !== IMPORTANCE_FILE_VERSION) throw new EventError(`importance.json: unsupported version ${String(f.v)}`);
  const n = f.num_layers;
  if (!Number.isInteger(n) || (n as number) < 1) throw new EventError('importance.json: bad num_layers');
  const series = (k: string, optional: boolean): void => {
    const s = f[k];
    if (optional && s === null) return;
    if (!Array.isArray(s) || s.length !== n || !s.every(isNum)) {
      throw new EventError(`importance.json: "${k}" must hold ${String(n)} numbers`);
    }
  };
  series('angular_all', false);
  series('angular_last', false);
  series('removal_drop', true);
  series('insert_copy_drop', true);
  series('insert_average_drop', true);
  if (!isStr(f.model)) throw new EventError('importance.json: bad model');
  if (!isNum(f.baseline_loglik)) throw new EventError('importance.json: bad baseline_loglik');
  const c = f.calibration as Rec | undefined;
  if (!c || !isStr(c.source) || !isNum(c.sequences) || !isNum(c.tokens) || !isNum(c.seq_len)) {
    throw new EventError('importance.json: bad calibration');
  }
  return f as unknown as ImportanceFile;
}
