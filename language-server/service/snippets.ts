// Snippets: a whole plan with placeholders, and the paper's plans (SLayer-8B, LLaMA Pro, the
// Table 3 deletion variants), and the paper's evaluation protocol, offered at the start of a
// top-level line.
import { PAPER_PROTOCOL_SNIPPET } from '@slayer/core';

export interface PlanSnippet {
  label: string;
  detail: string;
  body: string;
}

const HEADER = (expand: string, train: string): string => `model   \${1:meta-llama/Llama-2-7b-hf}\nexpand  ${expand}\ntrain   ${train}\n`;

export const PLAN_SNIPPETS: PlanSnippet[] = [
  {
    label: 'plan',
    detail: 'A whole plan: model, expansion, a CPT stage, run',
    body: `model   \${1:meta-llama/Llama-2-7b-hf}\nexpand  \${2:(2+1)x8 | 13 | 1◇}\ntrain   new, final, head\n\nstage cpt\n  data     \${3:my-corpus}\n  tokens   \${4:30B}\n  lr       2e-4 cosine warmup 2%\n  batch    1024 x 4096\n\nrun on \${5:localhost} gpus \${6:1}\n`,
  },
  {
    label: 'plan: SLayer-8B (paper)',
    detail: '(2+1)x8 | 13 | 1◇ — 8 averaged blocks in the shallow half, blocks 30–31 folded into the updated block 29',
    body: `${HEADER('(2+1)x8 | 13 | 1◇', 'new, final, head')}\nstage cpt\n  data     \${2:proof-pile-2: 5, the-stack-dedup/python: 2}\n  tokens   30B\n  lr       2e-4 cosine warmup 2%\n  batch    1024 x 4096\n  epochs   2\n  precision bf16  weight-decay 0.1  clip 1.0\n\nstage sft\n  data     \${3:wizardlm-evol-instruct, slimorca, metamath, evol-codealpaca}\n  lr       1e-5 cosine warmup 2%\n  batch    128 x 4096\n`,
  },
  {
    label: "eval: the paper's protocol",
    detail: 'ARC 25-shot, HellaSwag 10, MMLU 5, TruthfulQA 0, Winogrande 5, GSM8K 5, HumanEval 0 — every setting pinned',
    body: `${PAPER_PROTOCOL_SNIPPET.join('\n')}\n`,
  },
  { label: 'plan: LLaMA Pro', detail: '(4+1)x8 — one copied block after every 4, nothing deleted', body: HEADER('(4+1)x8', 'new, head') },
  { label: 'plan: Table 3, 6 new / 2 deleted', detail: '(2+1)x6 | 17 | 1◇ → 36 blocks', body: HEADER('(2+1)x6 | 17 | 1◇', 'new, final, head') },
  { label: 'plan: Table 3, 3 deleted', detail: '(2+1)x8 | 12 | 1◇ → 37 blocks', body: HEADER('(2+1)x8 | 12 | 1◇', 'new, final, head') },
  { label: 'plan: Table 3, 4 deleted', detail: '(2+1)x8 | 11 | 1◇ → 36 blocks', body: HEADER('(2+1)x8 | 11 | 1◇', 'new, final, head') },
];

/** Expressions of the paper, offered as values of `expand`. */
export const PAPER_EXPANSIONS: { text: string; detail: string }[] = [
  { text: '(2+1)x8 | 13 | 1◇', detail: 'SLayer-8B: 8 new, 2 deleted, 38 blocks' },
  { text: '(4+1)x8', detail: 'LLaMA Pro: 8 new, 40 blocks' },
  { text: '(2+1)x6 | 17 | 1◇', detail: '6 new, 2 deleted, 36 blocks' },
  { text: '(2+1)x8 | 16◇', detail: '8 new in the shallow half, nothing deleted' },
  { text: '16 (2+1)x8', detail: '8 new in the deep half' },
];
