// What the tools accept, in one place (docs/limits.md is the table users read). Every limit is
// checked before anything of that size is built, and going past one is a diagnostic or a refusal
// that names the limit, never a hang or an out-of-memory abort. Sizes the runner checks too are
// defined once, in contracts/limits.json.
import sharedLimits from '../../contracts/limits.json';

/** A plan file (or open document) longer than this is not analysed. */
export const MAX_PLAN_CHARS = 1024 * 1024;
/** Blocks a plan may produce, and blocks a base model may have (num_hidden_layers). */
export const MAX_BLOCKS = 4096;
/** Any one number in an expansion (kept, new, repeat, deleted counts). */
export const MAX_EXPANSION_COUNT = MAX_BLOCKS;
/** Diagnostics reported for one line; the rest are summed up in one more. */
export const MAX_DIAGNOSTICS_PER_LINE = 20;
/** Diagnostics reported for one plan (after the per-line cap); the rest are summed up in one more. */
export const MAX_DIAGNOSTICS = 1000;
/** A diagnostic message longer than this is cut (it quotes user text). */
export const MAX_MESSAGE_CHARS = 400;
/** config.json larger than this is refused unread ("too large"), by the runner too. */
export const MAX_CONFIG_BYTES: number = sharedLimits.configJsonBytes;
/** model.safetensors.index.json larger than this is refused unread (a 70B model's index is ~60 KB), by the runner too. */
export const MAX_INDEX_BYTES: number = sharedLimits.indexJsonBytes;
/** events.jsonl larger than this is refused by `slayer report`; layermap.json / importance.json likewise. */
export const MAX_EVENTS_BYTES = 256 * 1024 * 1024;
export const MAX_RUN_JSON_BYTES: number = sharedLimits.runJsonBytes;

/** Sizes read from a config.json: the largest value accepted for each. */
export const CONFIG_LIMITS: Readonly<Record<string, number>> = {
  num_hidden_layers: MAX_BLOCKS,
  hidden_size: 1 << 17,
  intermediate_size: 1 << 20,
  num_attention_heads: 1 << 12,
  num_key_value_heads: 1 << 12,
  head_dim: 1 << 13,
  vocab_size: 1 << 24,
  max_position_embeddings: 1 << 30,
};

/** Training settings of a stage and the run line: the largest value accepted. */
export const STAGE_LIMITS = {
  tokens: 1e15,
  steps: 1e9,
  epochs: 1000,
  checkpointEvery: 1e9,
  batchSequences: 1 << 24,
  seqLen: 1 << 24,
  gpus: 1 << 16,
  nodes: 1 << 16,
  gpuMemory: 16 * 1024 ** 4,
} as const;

/** `1234567` → `1,234,567` (limits are shown this way in messages). */
export const showLimit = (n: number): string => n.toLocaleString('en-US');
