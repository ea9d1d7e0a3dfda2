// Decoder families whose blocks live at model.layers.N: defaults of their config.json keys (what
// transformers' config classes assume) and the tensors of one block. The table is
// contracts/model-families.json, read by the runner too (runner/slayer_runner/modelconfig.py), so
// the compiler never names a tensor the runner's surgery does not find.
import table from '../../contracts/model-families.json';

/** A bias is always there (true), never (false), or switched on by this config.json key. */
export type BiasRule = boolean | string;

export interface FamilyDefaults {
  rms_norm_eps: number;
  max_position_embeddings: number;
  rope_theta: number;
  tie_word_embeddings: boolean;
  /** null: hidden_size / num_attention_heads. */
  head_dim: number | null;
}

export interface ModelFamily {
  modelType: string;
  architecture: string;
  defaults: FamilyDefaults;
  block: {
    qkvBias: BiasRule;
    oBias: BiasRule;
    mlpBias: BiasRule;
    /** self_attn.q_norm / k_norm (head_dim each): Qwen3, Gemma 3. */
    qkNorm: boolean;
    /** pre_feedforward_layernorm / post_feedforward_layernorm (hidden_size each): Gemma 2/3. */
    feedforwardNorms: boolean;
    /** qkv_proj and gate_up_proj instead of q/k/v_proj and gate/up_proj: Phi-3. */
    fused: boolean;
  };
  /** The runner's in-house model computes it (no transformers needed on the host). */
  builtin: boolean;
}

const FAMILIES: ReadonlyMap<string, ModelFamily> = new Map(
  Object.entries(table.families).map(([modelType, f]) => [modelType, { modelType, ...f } as ModelFamily]),
);

export const SUPPORTED_MODEL_TYPES: readonly string[] = [...FAMILIES.keys()];

export function modelFamily(modelType: string): ModelFamily | undefined {
  return FAMILIES.get(modelType);
}

/** A bias rule applied to a config.json object. */
export function biasOn(rule: BiasRule, config: Record<string, unknown>): boolean {
  return typeof rule === 'string' ? config[rule] === true : rule;
}
