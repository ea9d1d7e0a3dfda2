// What every key, stage setting, run option and enumerated value means, for hovers and completion
// items. Kept short; docs/plan-language.md is the full reference.

export const KEY_DOCS: Record<string, string> = {
  model: 'The base model: a catalogue id (`meta-llama/Llama-2-7b-hf`), a local checkpoint directory relative to the plan (`./ckpt`, `~/models/x`; its `config.json` is read), or `host:/path` on a remote host.',
  expand: 'The expansion expression. Segments consume the base model\'s blocks in order from block 0: `(k+m)xn` keeps k and inserts m new blocks, n times; `n` keeps n; `-n` deletes n; a `1` last before the deep-end deletion is the updated final block; `◇` asks for average init. Blocks not covered are deleted from the deep end.',
  init: 'How new blocks start: `copy` (a copy of the block before, LLaMA Pro) or `average` (the mean of the blocks before and after, the paper\'s eq. 5). Default: `average` when the expansion carries ◇, else `copy`.',
  zero: 'Output projections set to zero in new blocks, so the expanded model computes what the base computed: `o_proj`, `down_proj` (either or both), or `none`. Default: both.',
  final: 'How the updated final block starts: `average` (mean of the last kept block and the deleted ones), `average-deleted` (mean of the deleted ones), `keep` (unchanged, but trained). Default: `average`.',
  train: 'What trains: any of `new`, `final`, `kept`, `head`, `norm`, `embed`; `last N` (the deepest N kept original blocks) or `all` (full fine-tuning). Default: `new, final`.',
  sweep: 'Starts a sweep: `sweep NAME`, then one indented line per variant of this plan, `VARIANT [EXPANSION] [train …] [init …] [final …] [zero …]` (`none` = no expansion). Same model, data, stages and eval; Run Sweep runs each as `NAME-VARIANT` and the sweep table compares them.',
  stage: 'Starts a training stage: `stage cpt`, `stage sft`, or `stage NAME cpt|sft`, followed by indented settings. CPT comes before SFT.',
  eval: 'Starts the evaluation section: indented lines name domain tasks (what the run should inject), general tasks (what it must not forget), held-out perplexity files, and when to evaluate. Scores go to the Evaluation view, `slayer compare` and the run report.',
  run: 'Where the plan runs: `run on HOST gpus N [nodes N] [gpu-memory 80GB] [weights random]`. HOST is a Host alias from ~/.ssh/config, or `localhost`.',
  data: 'Datasets of the stage: `NAME[: WEIGHT], …` (the rest of the line). Hosts map names to paths.',
  tokens: 'Token budget of one epoch: `30B`, `500M`, `2e9`.',
  steps: 'Optimizer steps of the stage (instead of a token budget).',
  epochs: 'Passes over the stage\'s data or token budget. Default 1.',
  lr: 'Peak learning rate, optionally with a schedule: `lr 2e-4 cosine`. Defaults: 2e-4 (CPT), 1e-5 (SFT).',
  schedule: 'Learning-rate schedule: `cosine`, `linear` or `constant`. Default `cosine`.',
  warmup: 'Warm-up as a share of the steps: `2%` or `0.02`. Default 2%.',
  batch: 'Global batch: `SEQUENCES x SEQ_LEN` (`1024 x 4096`), or `batch N` with `seq N`. Defaults: 1024 x 4096 (CPT), 128 x 4096 (SFT).',
  seq: 'Tokens per sequence. Default 4096.',
  precision: 'Training precision: `bf16`, `fp16` or `fp32`. Default `bf16`.',
  'weight-decay': 'AdamW weight decay. Defaults: 0.1 (CPT), 0 (SFT).',
  clip: 'Gradient-norm clipping. Default 1.0.',
  'checkpoint-every': 'Save a resumable checkpoint every N optimizer steps (0 = only at the end). Default 1,000.',
  on: 'The host: a Host alias from ~/.ssh/config, or `localhost`.',
  gpus: 'GPUs per node.',
  nodes: 'Nodes (machines). Default 1.',
  weights: 'Where the weights come from: `checkpoint` (default) loads the model\'s checkpoint; `random` builds random weights of its shape (demos and smoke runs, no download).',
  'gpu-memory': 'Memory of one GPU, for the fit check: `80GB`, `40GB`. Default 80 GiB (A100 80GB).',
};

export const VALUE_DOCS: Record<string, string> = {
  copy: 'New blocks are copies of the block before them (LLaMA Pro).',
  average: 'New blocks are the mean of the blocks before and after them (eq. 5); for `final`: the mean of the last kept block and the deleted ones.',
  'average-deleted': 'The updated final block is the mean of the deleted blocks.',
  keep: 'The updated final block keeps its weights, but trains.',
  o_proj: 'The attention output projection (`self_attn.o_proj`).',
  down_proj: 'The MLP output projection (`mlp.down_proj`).',
  none: 'No projection is zeroed: the expanded model no longer computes what the base computed.',
  new: 'The inserted blocks.',
  kept: 'The original blocks kept as they were.',
  head: 'The output head (`lm_head`); with tied embeddings, the embedding matrix.',
  norm: 'The final RMSNorm.',
  embed: 'The token embeddings.',
  all: 'Every parameter: all blocks, embeddings, final norm and head (full fine-tuning).',
  last: '`last N`: the deepest N original blocks the expansion keeps (a control without new blocks: `none  train last 4`).',
  cpt: 'Continued pre-training on raw text.',
  sft: 'Supervised fine-tuning on instructions.',
};
VALUE_DOCS.final = 'The updated final block (a `1` after the keep segment, before the deleted deep blocks).';

/** Keys of the eval section (`batch`, `seq` mean something else there than in a stage). */
export const EVAL_KEY_DOCS: Record<string, string> = {
  domain: 'A task the run should improve (knowledge injection): `domain TASK [shots N] [metric M] [limit N] [chat-template on|off]`. TASK is an lm-evaluation-harness name (`gsm8k`, `humaneval`, …) or a local task config (`./tasks/mine.yaml`, a path on the host like data). Catalogue tasks default to the published protocol.',
  general: 'A task the run must not forget: `general TASK [shots N] [metric M] [limit N] [chat-template on|off]` (`arc_challenge`, `hellaswag`, `mmlu`, `truthfulqa_mc2`, `winogrande`, …).',
  perplexity: 'Held-out perplexity: `perplexity domain|general FILE[, FILE…]` — the exact token-weighted loss over text files (dataset names or paths on the host, like data), in windows of `seq` tokens.',
  when: 'When to evaluate: any of `base` (the base model; its scores are cached on the host), `expanded` (after surgery, before training), `each-stage` (after every stage), `final`. Default: `base, final`.',
  limit: 'Documents per task for every task of the section (`200`) or a share (`10%`); a task line\'s own `limit` wins. Default: all. Limited scores do not compare with published ones.',
  'chat-template': 'Wrap prompts in the tokenizer\'s chat template (`on`) or not (`off`, the published protocol for base models). Default `off`.',
  batch: 'Evaluation batch size (sequences per forward pass). Default 1.',
  seq: 'Window length of held-out perplexity, in tokens. Default 2048.',
  seed: 'Seed of the harness (few-shot sampling, numpy, torch). Default 1234.',
};

export const EVAL_OPTION_DOCS: Record<string, string> = {
  shots: 'Few-shot examples in each prompt. Catalogue tasks default to their published setting.',
  metric: 'The harness metric to report (`acc`, `acc_norm`, `exact_match,strict-match`, `pass@1`). Catalogue tasks default to their published metric.',
  limit: 'Documents of this task (`200`) or a share (`10%`). Default: all.',
  'chat-template': '`on` or `off`. Default `off`.',
};
