// Stage blocks (`stage cpt`, `stage sft`) and the `run` line: values with units, ranges, defaults.
import type { Setting, StageBlock, Statement, Word } from './ast';
import { clipQuoted, diagnostic, nearest, type PlanDiagnostic } from './diagnostics';
import type { DataSource, RunTarget, StageSpec } from '../protocol/layerMap';
import type { Span } from './text';
import { showLimit, STAGE_LIMITS } from './limits';

/** "steps 99999999999999999999999 is too large: at most 1,000,000,000" — said at the value, never clamped. */
function tooLarge(what: string, w: Word, max: number, show: (n: number) => string = showLimit): PlanDiagnostic {
  return diagnostic('SL042', 'error', w.span, `${what} ${clipQuoted(w.text)} is too large: at most ${show(max)} (see docs/limits.md)`);
}

const COUNT_SUFFIX: Record<string, number> = { '': 1, k: 1e3, K: 1e3, m: 1e6, M: 1e6, b: 1e9, B: 1e9, t: 1e12, T: 1e12 };

/** `30B` → 3e10, `5M`, `2.5B`, `1e9`, `1_000`. */
export function parseCount(text: string): number | null {
  const m = /^(\d[\d_]*(?:\.\d+)?(?:e\d+)?)([kKmMbBtT]?)$/.exec(text);
  if (!m) return null;
  const v = Number(m[1]!.replaceAll('_', '')) * COUNT_SUFFIX[m[2]!]!;
  return Number.isFinite(v) ? Math.round(v) : null;
}

export function parseNumber(text: string): number | null {
  if (!/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(text)) return null;
  const v = Number(text);
  return Number.isFinite(v) ? v : null;
}

/** `2%` → 0.02; a plain fraction `0.02` is accepted as is. */
export function parseFraction(text: string): number | null {
  if (text.endsWith('%')) {
    const v = parseNumber(text.slice(0, -1));
    return v === null ? null : v / 100;
  }
  return parseNumber(text);
}

/** `80GB`, `80GiB`, `40G` → bytes (GB taken as GiB, as GPU vendors' "80 GB" means). */
export function parseMemorySize(text: string): number | null {
  const m = /^(\d+(?:\.\d+)?)\s*(G|GB|GiB|M|MB|MiB|T|TB|TiB)$/i.exec(text);
  if (!m) return null;
  const unit = m[2]!.toUpperCase()[0]!;
  return Number(m[1]) * (unit === 'T' ? 1024 ** 4 : unit === 'G' ? 1024 ** 3 : 1024 ** 2);
}

export const SCHEDULES = ['cosine', 'linear', 'constant'] as const;
/** Options of the `run` statement: `run on HOST gpus N [nodes N] [gpu-memory 80GB]`. */
export const RUN_OPTIONS: readonly string[] = ['on', 'gpus', 'nodes', 'gpu-memory', 'weights'];
/** `weights checkpoint` (default): load the model's checkpoint; `weights random`: random weights of its shape (demos, smoke runs). */
export const WEIGHT_SOURCES: readonly RunTarget['weights'][] = ['checkpoint', 'random'];
export const PRECISIONS = ['bf16', 'fp16', 'fp32'] as const;

const DEFAULTS: Record<'cpt' | 'sft', Omit<StageSpec, 'name' | 'kind' | 'data'>> = {
  cpt: { tokens: null, steps: null, epochs: 1, lr: 2e-4, schedule: 'cosine', warmup: 0.02, batchSequences: 1024, seqLen: 4096, precision: 'bf16', weightDecay: 0.1, clip: 1.0, checkpointEvery: 1000 },
  sft: { tokens: null, steps: null, epochs: 1, lr: 1e-5, schedule: 'cosine', warmup: 0.02, batchSequences: 128, seqLen: 4096, precision: 'bf16', weightDecay: 0.0, clip: 1.0, checkpointEvery: 1000 },
};

export function parseDataList(value: Word, diags: PlanDiagnostic[]): DataSource[] {
  const out: DataSource[] = [];
  let offset = value.span.start;
  for (const part of value.text.split(',')) {
    const lead = part.length - part.trimStart().length;
    const item = part.trim();
    const span: Span = { start: offset + lead, end: offset + lead + item.length };
    offset += part.length + 1;
    if (!item) {
      if (value.text.trim()) diags.push(diagnostic('SL004', 'error', { start: span.start, end: span.start + 1 }, 'empty entry in the data list'));
      continue;
    }
    const m = /^(.*?)\s*:\s*([^:\s]+)$/.exec(item);
    let name = item;
    let weight = 1;
    if (m) {
      const w = parseNumber(m[2]!);
      if (w === null || w <= 0) diags.push(diagnostic('SL042', 'error', span, `the weight of "${m[1]}" must be a positive number, got "${m[2]}"`));
      else weight = w;
      name = m[1]!;
    }
    if (/\s/.test(name)) diags.push(diagnostic('SL004', 'error', span, `"${name}" is not one dataset name; separate datasets with commas`));
    out.push({ name, weight });
  }
  return out;
}

/** One stage setting being read: its key and words, the spec it fills, and where problems go. */
interface SettingRead {
  readonly key: string;
  readonly setting: Setting;
  /** The first value word (a setting without one never reaches a reader). */
  readonly a0: Word;
  readonly spec: StageSpec;
  readonly diags: PlanDiagnostic[];
}

/** A value that is not of the setting's form (SL004); an empty word is reported where it is missing. */
function bad(r: SettingRead, w: Word, msg: string): void {
  r.diags.push(diagnostic('SL004', 'error', w.text ? w.span : { start: w.span.start, end: w.span.start }, msg));
}

/** A value of the right form outside the setting's range (SL042). */
function outOfRange(r: SettingRead, w: Word, msg: string): void {
  r.diags.push(diagnostic('SL042', 'error', w.span, msg));
}

/** Words after the last one the setting takes. */
function extraWords(r: SettingRead, n: number): void {
  for (const w of r.setting.args.slice(n)) bad(r, w, `unexpected "${w.text}" after ${r.key}`);
}

function readData(r: SettingRead): void {
  r.spec.data = parseDataList(r.setting.value, r.diags);
}

function readTokens(r: SettingRead): void {
  const v = parseCount(r.a0.text);
  if (v === null || v <= 0) bad(r, r.a0, `tokens takes a count such as 30B, 500M or 2e9, got "${r.a0.text}"`);
  else if (v > STAGE_LIMITS.tokens) r.diags.push(tooLarge('tokens', r.a0, STAGE_LIMITS.tokens, (n) => `${n / 1e12}T`));
  else r.spec.tokens = v;
  extraWords(r, 1);
}

/** `steps` and `checkpoint-every`: whole counts (steps at least 1). */
function readStepCount(r: SettingRead): void {
  const steps = r.key === 'steps';
  const v = parseCount(r.a0.text);
  const max = steps ? STAGE_LIMITS.steps : STAGE_LIMITS.checkpointEvery;
  if (v === null || !Number.isInteger(v) || (steps && v < 1)) bad(r, r.a0, `${r.key} takes a whole number, got "${r.a0.text}"`);
  else if (v > max) r.diags.push(tooLarge(r.key, r.a0, max));
  else if (steps) r.spec.steps = v;
  else r.spec.checkpointEvery = v;
  extraWords(r, 1);
}

function readEpochs(r: SettingRead): void {
  const v = parseNumber(r.a0.text);
  if (v === null || v <= 0) bad(r, r.a0, `epochs takes a positive number, got "${r.a0.text}"`);
  else if (v > STAGE_LIMITS.epochs) r.diags.push(tooLarge('epochs', r.a0, STAGE_LIMITS.epochs));
  else r.spec.epochs = v;
  extraWords(r, 1);
}

/** `lr 2e-4 [cosine]`: a rate in (0, 1), optionally followed by the schedule. */
function readLr(r: SettingRead): void {
  const v = parseNumber(r.a0.text);
  if (v === null) bad(r, r.a0, `lr takes a learning rate such as 2e-4, got "${r.a0.text}"`);
  else if (v <= 0 || v >= 1) outOfRange(r, r.a0, `learning rate ${r.a0.text} is outside (0, 1)`);
  else {
    r.spec.lr = v;
    if (v > 1e-2) r.diags.push(diagnostic('SL042', 'warning', r.a0.span, `learning rate ${r.a0.text} is unusually high for continued training (the paper uses 2e-4 for CPT)`));
  }
  const sched = r.setting.args[1];
  if (sched) setSchedule(r, sched);
  extraWords(r, 2);
}

function setSchedule(r: SettingRead, w: Word): void {
  if ((SCHEDULES as readonly string[]).includes(w.text)) r.spec.schedule = w.text as StageSpec['schedule'];
  else bad(r, w, `unknown schedule "${w.text}"; use ${SCHEDULES.join(', ')}`);
}

function readSchedule(r: SettingRead): void {
  setSchedule(r, r.a0);
  extraWords(r, 1);
}

function readWarmup(r: SettingRead): void {
  const v = parseFraction(r.a0.text);
  if (v === null) bad(r, r.a0, `warmup takes a share of the steps such as 2% or 0.02, got "${r.a0.text}"`);
  else if (v < 0 || v >= 1) outOfRange(r, r.a0, `warmup ${r.a0.text} must be at least 0% and below 100%`);
  else r.spec.warmup = v;
  extraWords(r, 1);
}

/** `1024 x 4096`, `1024x4096`, `1024×4096`, or `1024` with `seq`. */
function readBatch(r: SettingRead): void {
  const value = r.setting.value;
  const m = /^(\d+)(?:[x×*](\d+))?$/.exec(r.setting.args.map((w) => w.text).join(''));
  if (!m) return bad(r, value, `batch takes SEQUENCES x SEQ_LEN such as 1024 x 4096, got "${value.text}"`);
  const seqs = Number(m[1]);
  if (seqs < 1) outOfRange(r, value, 'a batch needs at least one sequence');
  else if (seqs > STAGE_LIMITS.batchSequences) r.diags.push(tooLarge('a batch of', value, STAGE_LIMITS.batchSequences, (n) => `${showLimit(n)} sequences`));
  else r.spec.batchSequences = seqs;
  if (m[2] === undefined) return;
  const seqLen = Number(m[2]);
  if (seqLen < 1) outOfRange(r, value, 'sequence length must be at least 1');
  else if (seqLen > STAGE_LIMITS.seqLen) r.diags.push(tooLarge('sequence length in', value, STAGE_LIMITS.seqLen));
  else r.spec.seqLen = seqLen;
}

function readSeq(r: SettingRead): void {
  const v = parseCount(r.a0.text);
  if (v === null || v < 1) bad(r, r.a0, `seq takes a sequence length such as 4096, got "${r.a0.text}"`);
  else if (v > STAGE_LIMITS.seqLen) r.diags.push(tooLarge('seq', r.a0, STAGE_LIMITS.seqLen));
  else r.spec.seqLen = v;
  extraWords(r, 1);
}

function readPrecision(r: SettingRead): void {
  if ((PRECISIONS as readonly string[]).includes(r.a0.text)) r.spec.precision = r.a0.text as StageSpec['precision'];
  else bad(r, r.a0, `precision is one of ${PRECISIONS.join(', ')}, got "${r.a0.text}"`);
  extraWords(r, 1);
}

/** `weight-decay` and `clip`: numbers ≥ 0. */
function readNonNegative(r: SettingRead): void {
  const v = parseNumber(r.a0.text);
  if (v === null || v < 0) bad(r, r.a0, `${r.key} takes a number ≥ 0, got "${r.a0.text}"`);
  else if (r.key === 'weight-decay') r.spec.weightDecay = v;
  else r.spec.clip = v;
  extraWords(r, 1);
}

/** One reader per stage key; unknown keys were reported by the parser. */
const SETTING_READERS: ReadonlyMap<string, (r: SettingRead) => void> = new Map([
  ['data', readData], ['tokens', readTokens], ['steps', readStepCount], ['checkpoint-every', readStepCount],
  ['epochs', readEpochs], ['lr', readLr], ['schedule', readSchedule], ['warmup', readWarmup], ['batch', readBatch],
  ['seq', readSeq], ['precision', readPrecision], ['weight-decay', readNonNegative], ['clip', readNonNegative],
]);

/** `stage NAME cpt|sft`, or a name starting with cpt/sft; null (reported when named) otherwise. */
function stageKind(block: StageBlock, diags: PlanDiagnostic[]): 'cpt' | 'sft' | null {
  const name = block.name?.text ?? '';
  const kind = block.kind?.text ?? (name.startsWith('cpt') ? 'cpt' : name.startsWith('sft') ? 'sft' : '');
  if (kind === 'cpt' || kind === 'sft') return kind;
  const at = block.kind ?? block.name ?? block.header.key;
  if (block.name) diags.push(diagnostic('SL004', 'error', at.span, `stage kind must be cpt or sft: write "stage ${name} cpt" or "stage ${name} sft"`));
  return null;
}

export function compileStage(block: StageBlock, diags: PlanDiagnostic[]): StageSpec | null {
  const kind = stageKind(block, diags);
  if (!kind) return null;
  const name = block.name?.text ?? '';
  const spec: StageSpec = { name, kind, data: [], ...DEFAULTS[kind] };
  const seen = new Map<string, Setting>();
  for (const setting of block.settings) {
    const key = setting.key.text;
    const prev = seen.get(key);
    if (prev) diags.push(diagnostic('SL003', 'warning', setting.key.span, `"${key}" is set twice in stage ${name}; the last one wins`, { related: [{ span: prev.key.span, message: 'first set here' }] }));
    seen.set(key, setting);
    const a0 = setting.args[0];
    if (!a0) diags.push(diagnostic('SL004', 'error', { start: setting.key.span.end, end: setting.key.span.end }, `"${key}" needs a value`));
    else SETTING_READERS.get(key)?.({ key, setting, a0, spec, diags });
  }
  if (spec.data.length === 0) {
    diags.push(diagnostic('SL043', 'warning', block.header.span, `stage ${name} has no data; add a line such as "data my-corpus" (hosts map dataset names to paths)`));
  }
  return spec;
}

export function checkStageOrder(blocks: StageBlock[], specs: (StageSpec | null)[], diags: PlanDiagnostic[]): void {
  const names = new Map<string, StageBlock>();
  let firstSft: StageBlock | null = null;
  blocks.forEach((b, i) => {
    const spec = specs[i];
    const n = b.name?.text;
    if (n !== undefined) {
      const prev = names.get(n);
      if (prev) diags.push(diagnostic('SL041', 'error', b.name!.span, `stage "${n}" is defined twice`, { related: [{ span: prev.name!.span, message: 'first defined here' }] }));
      else names.set(n, b);
    }
    if (!spec) return;
    if (spec.kind === 'sft' && !firstSft) firstSft = b;
    if (spec.kind === 'cpt' && firstSft) {
      const sft: StageBlock = firstSft;
      diags.push(diagnostic('SL040', 'error', b.header.span, `CPT stage "${spec.name}" comes after SFT stage "${sft.name?.text ?? ''}": continued pre-training must come before fine-tuning`, { related: [{ span: sft.header.span, message: 'the SFT stage' }] }));
    }
  });
}

const HOST_RE = /^[A-Za-z0-9_][A-Za-z0-9._@-]*$/;

export function compileRun(stmt: Statement, diags: PlanDiagnostic[]): (RunTarget & { gpuMemory: number | null }) | null {
  const run: RunTarget & { gpuMemory: number | null } = { host: '', gpus: 1, nodes: 1, weights: 'checkpoint', gpuMemory: null };
  const words = stmt.args;
  let i = 0;
  while (i < words.length) {
    const k = words[i]!;
    const v = words[i + 1];
    if (!RUN_OPTIONS.includes(k.text)) {
      const guess = nearest(k.text, RUN_OPTIONS);
      diags.push(diagnostic('SL002', 'error', k.span, `unknown run option "${k.text}"${guess ? `; did you mean "${guess}"?` : '; use: run on HOST gpus N [nodes N] [gpu-memory 80GB] [weights random]'}`,
        { fixes: guess ? [{ title: `Change to "${guess}"`, edits: [{ span: k.span, newText: guess }], preferred: true }] : [] }));
      i++;
      continue;
    }
    if (!v) {
      diags.push(diagnostic('SL004', 'error', k.span, `"${k.text}" needs a value`));
      break;
    }
    if (k.text === 'on') {
      if (!HOST_RE.test(v.text)) diags.push(diagnostic('SL050', 'error', v.span, `"${v.text}" is not a host name: use a Host alias from ~/.ssh/config or localhost`));
      else run.host = v.text;
    } else if (k.text === 'gpus' || k.text === 'nodes') {
      const n = parseCount(v.text);
      const max = k.text === 'gpus' ? STAGE_LIMITS.gpus : STAGE_LIMITS.nodes;
      if (n === null || n < 1) diags.push(diagnostic('SL004', 'error', v.span, `${k.text} takes a whole number ≥ 1, got "${clipQuoted(v.text)}"`));
      else if (n > max) diags.push(tooLarge(k.text, v, max));
      else if (k.text === 'gpus') run.gpus = n;
      else run.nodes = n;
    } else if (k.text === 'weights') {
      const w = WEIGHT_SOURCES.find((x) => x === v.text);
      if (w) run.weights = w;
      else diags.push(diagnostic('SL004', 'error', v.span, `weights takes "checkpoint" (load the model's weights) or "random" (random weights of its shape), got "${v.text}"`));
    } else {
      const b = parseMemorySize(v.text);
      if (b === null) diags.push(diagnostic('SL004', 'error', v.span, `gpu-memory takes a size such as 80GB, got "${clipQuoted(v.text)}"`));
      else if (b <= 0) diags.push(diagnostic('SL042', 'error', v.span, `gpu-memory ${v.text} is no memory at all: give the memory of one GPU, such as 80GB`));
      else if (b > STAGE_LIMITS.gpuMemory) diags.push(tooLarge('gpu-memory', v, STAGE_LIMITS.gpuMemory, (n) => `${n / 1024 ** 4} TiB per GPU`));
      else run.gpuMemory = b;
    }
    i += 2;
  }
  if (!run.host) {
    if (!words.some((w) => w.text === 'on')) diags.push(diagnostic('SL004', 'error', stmt.key.span, 'run needs a host: "run on HOST gpus N" (a Host from ~/.ssh/config, or localhost)'));
    return null;
  }
  return run;
}
