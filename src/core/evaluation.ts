// The plan's `eval` section: which benchmarks (domain: what the run should inject; general: what
// it must not forget), held-out perplexity files, and when to evaluate. Each task line pins its
// settings; tasks of the catalogue below default to the protocol the paper and LLaMA Pro report
// (Open LLM Leaderboard settings), so a plan that names them reproduces published numbers.
import type { Setting, Word } from './ast';
import { diagnostic, nearest, type PlanDiagnostic } from './diagnostics';
import { parseCount, parseFraction } from './stages';
import { EVAL_WHEN, type EvalGroupName, type EvalPlan, type EvalTaskSpec, type EvalWhen } from '../protocol/evalPlan';

export interface CatalogueTask {
  /** lm-evaluation-harness task name. */
  name: string;
  title: string;
  /** What the paper calls it (ARC, HellaSwag, ...). */
  paperName: string;
  group: EvalGroupName;
  shots: number;
  metric: string;
  unsafeCode: boolean;
  about: string;
  /** Published scores under these settings, percent: LLaMA Pro 8.3B and LLaMA2-7B (LLaMA Pro's Table). */
  published?: { llamaPro: number; llama2: number };
}

export const EVAL_TASKS: readonly CatalogueTask[] = [
  { name: 'arc_challenge', title: 'AI2 Reasoning Challenge (challenge set)', paperName: 'ARC', group: 'general', shots: 25, metric: 'acc_norm', unsafeCode: false, about: 'grade-school science questions, multiple choice', published: { llamaPro: 54.10, llama2: 53.07 } },
  { name: 'hellaswag', title: 'HellaSwag', paperName: 'HellaSwag', group: 'general', shots: 10, metric: 'acc_norm', unsafeCode: false, about: 'commonsense sentence completion, multiple choice', published: { llamaPro: 77.94, llama2: 78.59 } },
  { name: 'mmlu', title: 'MMLU (57 subjects)', paperName: 'MMLU', group: 'general', shots: 5, metric: 'acc', unsafeCode: false, about: 'multitask knowledge, multiple choice', published: { llamaPro: 47.88, llama2: 46.87 } },
  { name: 'truthfulqa_mc2', title: 'TruthfulQA (MC2)', paperName: 'TruthfulQA', group: 'general', shots: 0, metric: 'acc', unsafeCode: false, about: 'resisting common falsehoods, multiple true answers' },
  { name: 'winogrande', title: 'Winogrande', paperName: 'Winogrande', group: 'general', shots: 5, metric: 'acc', unsafeCode: false, about: 'pronoun resolution at scale' },
  { name: 'gsm8k', title: 'GSM8K', paperName: 'GSM8K', group: 'domain', shots: 5, metric: 'exact_match,strict-match', unsafeCode: false, about: 'grade-school math word problems, generated answers', published: { llamaPro: 17.89, llama2: 14.48 } },
  { name: 'minerva_math', title: 'MATH (Minerva prompt)', paperName: 'MATH', group: 'domain', shots: 4, metric: 'exact_match', unsafeCode: false, about: 'competition mathematics, generated answers' },
  { name: 'humaneval', title: 'HumanEval', paperName: 'HumanEval', group: 'domain', shots: 0, metric: 'pass@1', unsafeCode: true, about: '164 Python problems checked by unit tests (runs generated code)', published: { llamaPro: 28.66, llama2: 13.05 } },
  { name: 'mbpp', title: 'MBPP', paperName: 'MBPP', group: 'domain', shots: 3, metric: 'pass_at_1', unsafeCode: true, about: 'basic Python problems checked by unit tests (runs generated code)', published: { llamaPro: 33.20, llama2: 20.09 } },
];

export function catalogueTask(name: string): CatalogueTask | undefined {
  return EVAL_TASKS.find((t) => t.name === name);
}

/** Keys of the eval section's lines. */
export const EVAL_KEYS = ['domain', 'general', 'perplexity', 'when', 'limit', 'chat-template', 'batch', 'seq', 'seed'] as const;
/** Options after a task name: `domain gsm8k shots 5 metric exact_match,strict-match limit 200 chat-template off`. */
export const TASK_OPTIONS = ['shots', 'metric', 'limit', 'chat-template'] as const;
export const WHEN_WORDS: Record<string, EvalWhen> = { base: 'base', expanded: 'expanded', stages: 'stages', 'each-stage': 'stages', final: 'final' };

export const EVAL_DEFAULTS = { batch_size: 1, seq_len: 2048, seed: 1234, when: ['base', 'final'] as EvalWhen[] };

const isLocalConfig = (name: string): boolean => /\.ya?ml$/i.test(name);
const TASK_NAME = /^[A-Za-z0-9_.\-/~]+$/;

function onOff(w: Word, diags: PlanDiagnostic[]): boolean | null {
  if (w.text === 'on' || w.text === 'off') return w.text === 'on';
  diags.push(diagnostic('SL004', 'error', w.span, `chat-template is on or off, got "${w.text}"`));
  return null;
}

function parseLimit(w: Word, diags: PlanDiagnostic[]): number | null {
  const v = w.text.endsWith('%') ? parseFraction(w.text) : parseCount(w.text);
  if (v === null || v <= 0) {
    diags.push(diagnostic('SL004', 'error', w.span, `limit takes a number of documents (200) or a share (10%), got "${w.text}"`));
    return null;
  }
  if (w.text.endsWith('%') && v > 1) {
    diags.push(diagnostic('SL042', 'error', w.span, `limit ${w.text} is more than 100%`));
    return null;
  }
  return v;
}

/** Words of a comma- or space-separated list with their spans. */
function items(args: Word[]): Word[] {
  const out: Word[] = [];
  for (const w of args) {
    let offset = w.span.start;
    for (const part of w.text.split(',')) {
      if (part) out.push({ text: part, span: { start: offset, end: offset + part.length } });
      offset += part.length + 1;
    }
  }
  return out;
}

interface Defaults {
  limit: number | null;
  chatTemplate: boolean;
}

function compileTask(s: Setting, group: EvalGroupName, defaults: Defaults, diags: PlanDiagnostic[]): EvalTaskSpec | null {
  const nameWord = s.args[0];
  if (!nameWord) {
    diags.push(diagnostic('SL004', 'error', s.key.span, `"${s.key.text}" needs a task: an lm-evaluation-harness name (${EVAL_TASKS.slice(0, 3).map((t) => t.name).join(', ')}, …) or a local task config (./tasks/mine.yaml)`));
    return null;
  }
  const name = nameWord.text;
  if (!TASK_NAME.test(name)) {
    diags.push(diagnostic('SL004', 'error', nameWord.span, `"${name}" is not a task name or a path`));
    return null;
  }
  const local = isLocalConfig(name);
  const cat = local ? undefined : catalogueTask(name);
  if (!local && !cat) {
    const guess = nearest(name, EVAL_TASKS.map((t) => t.name));
    diags.push(diagnostic('SL060', 'warning', nameWord.span,
      `"${name}" is not in the catalogue of common tasks; the host's lm-evaluation-harness must know it${guess ? ` (did you mean "${guess}"?)` : ''}`,
      { fixes: guess ? [{ title: `Change to "${guess}"`, edits: [{ span: nameWord.span, newText: guess }], preferred: false }] : [] }));
  }
  const task: EvalTaskSpec = {
    name: local ? (name.split('/').pop() ?? name).replace(/\.ya?ml$/i, '') : name,
    group,
    shots: cat?.shots ?? null,
    metric: cat?.metric ?? null,
    limit: defaults.limit,
    chat_template: defaults.chatTemplate,
    config: local ? name : null,
    unsafe_code: cat?.unsafeCode ?? false,
  };
  const opts = s.args.slice(1);
  for (let i = 0; i < opts.length; i += 2) {
    const k = opts[i]!;
    const v = opts[i + 1];
    if (!(TASK_OPTIONS as readonly string[]).includes(k.text)) {
      const guess = nearest(k.text, TASK_OPTIONS);
      diags.push(diagnostic('SL002', 'error', k.span, `unknown task option "${k.text}"${guess ? `; did you mean "${guess}"?` : `; task options are ${TASK_OPTIONS.join(', ')}`}`,
        { fixes: guess ? [{ title: `Change to "${guess}"`, edits: [{ span: k.span, newText: guess }], preferred: true }] : [] }));
      continue;
    }
    if (!v) {
      diags.push(diagnostic('SL004', 'error', k.span, `"${k.text}" needs a value`));
      break;
    }
    if (k.text === 'shots') {
      const n = parseCount(v.text);
      if (n === null || !Number.isInteger(n) || n < 0) diags.push(diagnostic('SL004', 'error', v.span, `shots takes a whole number ≥ 0, got "${v.text}"`));
      else {
        task.shots = n;
        if (cat && n !== cat.shots) {
          diags.push(diagnostic('SL061', 'info', v.span, `${cat.paperName} is reported ${cat.shots}-shot (the paper's protocol); ${n}-shot scores will not compare with published ones`));
        }
      }
    } else if (k.text === 'metric') {
      task.metric = v.text;
      if (cat && v.text.split(',')[0] !== cat.metric.split(',')[0]) {
        diags.push(diagnostic('SL061', 'info', v.span, `${cat.paperName} is reported with ${cat.metric}; ${v.text} will not compare with published scores`));
      }
    } else if (k.text === 'limit') task.limit = parseLimit(v, diags);
    else {
      const b = onOff(v, diags);
      if (b !== null) task.chat_template = b;
    }
  }
  return task;
}

export interface EvalSection {
  header: { span: { start: number; end: number } };
  settings: Setting[];
}

/** The eval section → the EvalPlan the runner executes (null when the section has nothing to run). */
export function compileEval(section: EvalSection, diags: PlanDiagnostic[]): EvalPlan | null {
  const plan: EvalPlan = { tasks: [], perplexity: [], when: [...EVAL_DEFAULTS.when], batch_size: EVAL_DEFAULTS.batch_size, seq_len: EVAL_DEFAULTS.seq_len, seed: EVAL_DEFAULTS.seed, cache_dir: null };
  const defaults: Defaults = { limit: null, chatTemplate: false };
  // Section-wide defaults first, so a `limit` line below the tasks still applies to them.
  const seen = new Map<string, Setting>();
  for (const s of section.settings) {
    const key = s.key.text;
    if (key === 'domain' || key === 'general' || key === 'perplexity') continue;
    const prev = seen.get(key);
    if (prev) diags.push(diagnostic('SL003', 'warning', s.key.span, `"${key}" is set twice in eval; the last one wins`, { related: [{ span: prev.key.span, message: 'first set here' }] }));
    seen.set(key, s);
    const a0 = s.args[0];
    if (!a0) {
      diags.push(diagnostic('SL004', 'error', s.key.span, `"${key}" needs a value`));
      continue;
    }
    const whole = (what: string, min: number): number | null => {
      const n = parseCount(a0.text);
      if (n === null || !Number.isInteger(n) || n < min) {
        diags.push(diagnostic('SL004', 'error', a0.span, `${key} takes ${what}, got "${a0.text}"`));
        return null;
      }
      return n;
    };
    switch (key) {
      case 'when': {
        const when: EvalWhen[] = [];
        for (const w of items(s.args)) {
          const v = WHEN_WORDS[w.text];
          if (!v) {
            const guess = nearest(w.text, Object.keys(WHEN_WORDS));
            diags.push(diagnostic('SL004', 'error', w.span, `"${w.text}" is not a time to evaluate; use ${EVAL_WHEN.join(', ')}`,
              { fixes: guess ? [{ title: `Change to "${guess}"`, edits: [{ span: w.span, newText: guess }], preferred: true }] : [] }));
          } else if (!when.includes(v)) when.push(v);
        }
        if (when.length) plan.when = EVAL_WHEN.filter((w) => when.includes(w));
        break;
      }
      case 'limit':
        defaults.limit = parseLimit(a0, diags);
        break;
      case 'chat-template': {
        const b = onOff(a0, diags);
        if (b !== null) defaults.chatTemplate = b;
        break;
      }
      case 'batch':
        plan.batch_size = whole('a whole number ≥ 1', 1) ?? plan.batch_size;
        break;
      case 'seq':
        plan.seq_len = whole('a window length ≥ 2 such as 2048', 2) ?? plan.seq_len;
        break;
      case 'seed':
        plan.seed = whole('a whole number', 0) ?? plan.seed;
        break;
      default:
        break; // unknown keys were reported by the parser
    }
  }
  const names = new Map<string, Word>();
  for (const s of section.settings) {
    const key = s.key.text;
    if (key === 'domain' || key === 'general') {
      const t = compileTask(s, key, defaults, diags);
      if (!t) continue;
      const prev = names.get(t.name);
      if (prev) diags.push(diagnostic('SL003', 'warning', s.args[0]!.span, `task "${t.name}" is evaluated twice`, { related: [{ span: prev.span, message: 'first here' }] }));
      else names.set(t.name, s.args[0]!);
      plan.tasks.push(t);
    } else if (key === 'perplexity') {
      const group = s.args[0];
      if (!group || (group.text !== 'domain' && group.text !== 'general')) {
        diags.push(diagnostic('SL004', 'error', group?.span ?? s.key.span, 'perplexity takes a group and files: "perplexity domain heldout/math.txt" (or general)'));
        continue;
      }
      const files = items(s.args.slice(1));
      if (!files.length) {
        diags.push(diagnostic('SL004', 'error', group.span, 'perplexity needs one or more held-out text files (dataset names or paths on the host)'));
        continue;
      }
      const name = files.map((f) => f.text.split('/').pop() ?? f.text).join('+');
      plan.perplexity.push({ name, group: group.text, files: files.map((f) => f.text) });
    }
  }
  if (!plan.tasks.length && !plan.perplexity.length) {
    diags.push(diagnostic('SL062', 'warning', section.header.span, 'the eval section names no tasks and no perplexity files: add "domain gsm8k", "general arc_challenge" or "perplexity domain FILE"'));
    return null;
  }
  if (!plan.tasks.some((t) => t.group === 'general') && !plan.perplexity.some((p) => p.group === 'general')) {
    diags.push(diagnostic('SL062', 'info', section.header.span, 'nothing measures forgetting: add a general task (arc_challenge, hellaswag, mmlu, …) or general held-out text'));
  }
  return plan;
}

/** The paper's protocol with every setting pinned (the snippet behind "eval paper"). */
export const PAPER_PROTOCOL_SNIPPET = [
  'eval',
  '  when     base, final',
  '  batch    8',
  '  seed     1234',
  '  chat-template off',
  ...EVAL_TASKS.filter((t) => t.name !== 'minerva_math' && t.name !== 'mbpp').map((t) =>
    `  ${t.group.padEnd(8)} ${t.name.padEnd(15)} shots ${String(t.shots).padEnd(2)} metric ${t.metric}`),
];
