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
export const RUN_OPTIONS: readonly string[] = ['on', 'gpus', 'nodes', 'gpu-memory'];
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

export function compileStage(block: StageBlock, diags: PlanDiagnostic[]): StageSpec | null {
  const name = block.name?.text ?? '';
  const kindText = block.kind?.text ?? (name.startsWith('cpt') ? 'cpt' : name.startsWith('sft') ? 'sft' : '');
  if (kindText !== 'cpt' && kindText !== 'sft') {
    const at = block.kind ?? block.name ?? block.header.key;
    if (block.name) diags.push(diagnostic('SL004', 'error', at.span, `stage kind must be cpt or sft: write "stage ${name} cpt" or "stage ${name} sft"`));
    return null;
  }
  const kind = kindText;
  const spec: StageSpec = { name, kind, data: [], ...DEFAULTS[kind] };
  const seen = new Map<string, Setting>();
  const bad = (w: Word, msg: string): void => void diags.push(diagnostic('SL004', 'error', w.text ? w.span : { start: w.span.start, end: w.span.start }, msg));
  const range = (w: Word, msg: string): void => void diags.push(diagnostic('SL042', 'error', w.span, msg));
  for (const s of block.settings) {
    const key = s.key.text;
    const prev = seen.get(key);
    if (prev) {
      diags.push(diagnostic('SL003', 'warning', s.key.span, `"${key}" is set twice in stage ${name}; the last one wins`, { related: [{ span: prev.key.span, message: 'first set here' }] }));
    }
    seen.set(key, s);
    const a0 = s.args[0];
    if (!a0) {
      bad({ text: '', span: { start: s.key.span.end, end: s.key.span.end } }, `"${key}" needs a value`);
      continue;
    }
    const extra = (n: number): void => {
      for (const w of s.args.slice(n)) bad(w, `unexpected "${w.text}" after ${key}`);
    };
    switch (key) {
      case 'data':
        spec.data = parseDataList(s.value, diags);
        break;
      case 'tokens': {
        const v = parseCount(a0.text);
        if (v === null || v <= 0) bad(a0, `tokens takes a count such as 30B, 500M or 2e9, got "${a0.text}"`);
        else if (v > STAGE_LIMITS.tokens) diags.push(tooLarge('tokens', a0, STAGE_LIMITS.tokens, (n) => `${n / 1e12}T`));
        else spec.tokens = v;
        extra(1);
        break;
      }
      case 'steps':
      case 'checkpoint-every': {
        const v = parseCount(a0.text);
        const max = key === 'steps' ? STAGE_LIMITS.steps : STAGE_LIMITS.checkpointEvery;
        if (v === null || !Number.isInteger(v) || (key === 'steps' && v < 1)) bad(a0, `${key} takes a whole number, got "${a0.text}"`);
        else if (v > max) diags.push(tooLarge(key, a0, max));
        else if (key === 'steps') spec.steps = v;
        else spec.checkpointEvery = v;
        extra(1);
        break;
      }
      case 'epochs': {
        const v = parseNumber(a0.text);
        if (v === null || v <= 0) bad(a0, `epochs takes a positive number, got "${a0.text}"`);
        else if (v > STAGE_LIMITS.epochs) diags.push(tooLarge('epochs', a0, STAGE_LIMITS.epochs));
        else spec.epochs = v;
        extra(1);
        break;
      }
      case 'lr': {
        const v = parseNumber(a0.text);
        if (v === null) bad(a0, `lr takes a learning rate such as 2e-4, got "${a0.text}"`);
        else if (v <= 0 || v >= 1) range(a0, `learning rate ${a0.text} is outside (0, 1)`);
        else {
          spec.lr = v;
          if (v > 1e-2) diags.push(diagnostic('SL042', 'warning', a0.span, `learning rate ${a0.text} is unusually high for continued training (the paper uses 2e-4 for CPT)`));
        }
        const sched = s.args[1];
        if (sched) {
          if ((SCHEDULES as readonly string[]).includes(sched.text)) spec.schedule = sched.text as StageSpec['schedule'];
          else bad(sched, `unknown schedule "${sched.text}"; use ${SCHEDULES.join(', ')}`);
        }
        extra(2);
        break;
      }
      case 'schedule':
        if ((SCHEDULES as readonly string[]).includes(a0.text)) spec.schedule = a0.text as StageSpec['schedule'];
        else bad(a0, `unknown schedule "${a0.text}"; use ${SCHEDULES.join(', ')}`);
        extra(1);
        break;
      case 'warmup': {
        const v = parseFraction(a0.text);
        if (v === null) bad(a0, `warmup takes a share of the steps such as 2% or 0.02, got "${a0.text}"`);
        else if (v < 0 || v >= 1) range(a0, `warmup ${a0.text} must be at least 0% and below 100%`);
        else spec.warmup = v;
        extra(1);
        break;
      }
      case 'batch': {
        // `1024 x 4096`, `1024x4096`, `1024×4096`, or `1024` with `seq`.
        const joined = s.args.map((w) => w.text).join('');
        const m = /^(\d+)(?:[x×*](\d+))?$/.exec(joined);
        if (!m) bad(s.value, `batch takes SEQUENCES x SEQ_LEN such as 1024 x 4096, got "${s.value.text}"`);
        else {
          const seqs = Number(m[1]);
          if (seqs < 1) range(s.value, 'a batch needs at least one sequence');
          else if (seqs > STAGE_LIMITS.batchSequences) diags.push(tooLarge('a batch of', s.value, STAGE_LIMITS.batchSequences, (n) => `${showLimit(n)} sequences`));
          else spec.batchSequences = seqs;
          if (m[2] !== undefined) {
            if (Number(m[2]) < 1) range(s.value, 'sequence length must be at least 1');
            else if (Number(m[2]) > STAGE_LIMITS.seqLen) diags.push(tooLarge('sequence length in', s.value, STAGE_LIMITS.seqLen));
            else spec.seqLen = Number(m[2]);
          }
        }
        break;
      }
      case 'seq': {
        const v = parseCount(a0.text);
        if (v === null || v < 1) bad(a0, `seq takes a sequence length such as 4096, got "${a0.text}"`);
        else if (v > STAGE_LIMITS.seqLen) diags.push(tooLarge('seq', a0, STAGE_LIMITS.seqLen));
        else spec.seqLen = v;
        extra(1);
        break;
      }
      case 'precision':
        if ((PRECISIONS as readonly string[]).includes(a0.text)) spec.precision = a0.text as StageSpec['precision'];
        else bad(a0, `precision is one of ${PRECISIONS.join(', ')}, got "${a0.text}"`);
        extra(1);
        break;
      case 'weight-decay':
      case 'clip': {
        const v = parseNumber(a0.text);
        if (v === null || v < 0) bad(a0, `${key} takes a number ≥ 0, got "${a0.text}"`);
        else if (key === 'weight-decay') spec.weightDecay = v;
        else spec.clip = v;
        extra(1);
        break;
      }
      default:
        break; // unknown keys were reported by the parser
    }
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
  const run: RunTarget & { gpuMemory: number | null } = { host: '', gpus: 1, nodes: 1, gpuMemory: null };
  const words = stmt.args;
  let i = 0;
  while (i < words.length) {
    const k = words[i]!;
    const v = words[i + 1];
    if (!RUN_OPTIONS.includes(k.text)) {
      const guess = nearest(k.text, RUN_OPTIONS);
      diags.push(diagnostic('SL002', 'error', k.span, `unknown run option "${k.text}"${guess ? `; did you mean "${guess}"?` : '; use: run on HOST gpus N [nodes N] [gpu-memory 80GB]'}`,
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
