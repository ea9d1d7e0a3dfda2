"""A checkpoint's tensor shapes against its config.json, for the Llama family (llama, mistral, qwen2).

The mirror of the error diagnostics of ``src/modelfiles/inspect.ts`` (codes, order, arithmetic),
so ``slayer inspect`` and the runner give one verdict: a checkpoint whose embedding is stored
transposed, or whose k_proj does not match ``num_key_value_heads × head_dim``, is refused by
surgery before anything is written, as the editor already flags it. Both are tested on the shared
corpus (runner/tests/checkpoint_corpus.py).
"""
from __future__ import annotations

import re
from typing import Any, Mapping, Optional, Sequence

SUPPORTED_MODEL_TYPES = ("llama", "mistral", "qwen2")
EMBED, HEAD, NORM = "model.embed_tokens.weight", "lm_head.weight", "model.norm.weight"
_BLOCK = re.compile(r"^model\.layers\.(\d+)\.(.+)$")


class ConfigShapeError(ValueError):
    """config.json is not a supported Llama-family config (the core's ModelConfigError)."""


def config_shape(c: Mapping[str, Any]) -> dict[str, Any]:
    """parseHfConfig of src/core/models.ts, the fields the shapes need."""
    model_type = c.get("model_type") if isinstance(c.get("model_type"), str) else ""
    if model_type not in SUPPORTED_MODEL_TYPES:
        raise ConfigShapeError(f'model_type "{model_type or "(missing)"}" is not a supported Llama-family decoder')

    def integer(k: str, fallback: Optional[int] = None) -> int:
        v = c.get(k)
        if v is None:
            if fallback is not None:
                return fallback
            raise ConfigShapeError(f'config.json has no "{k}"')
        # JSON has one number type: 64.0 is the integer 64 to the TypeScript core, and so here.
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not float(v).is_integer() or v < 1:
            raise ConfigShapeError(f'config.json "{k}" must be a positive integer, got {v!r}')
        return int(v)

    hidden = integer("hidden_size")
    heads = integer("num_attention_heads")
    kv = integer("num_key_value_heads", heads)
    head_dim = integer("head_dim", hidden // heads)
    if heads % kv:
        raise ConfigShapeError(f"num_attention_heads ({heads}) is not a multiple of num_key_value_heads ({kv})")
    if c.get("head_dim") is None and hidden % heads:
        raise ConfigShapeError(f"hidden_size ({hidden}) is not divisible by num_attention_heads ({heads})")
    attention_bias = c.get("attention_bias") is True
    return {"num_layers": integer("num_hidden_layers"), "hidden": hidden, "intermediate": integer("intermediate_size"),
            "heads": heads, "kv_heads": kv, "head_dim": head_dim, "vocab": integer("vocab_size"),
            "tie": c.get("tie_word_embeddings") is True, "qkv_bias": model_type == "qwen2" or attention_bias,
            "o_bias": attention_bias, "mlp_bias": c.get("mlp_bias") is True}


def expected_block_shapes(s: Mapping[str, Any]) -> dict[str, tuple[int, ...]]:
    h, i, q, kv = s["hidden"], s["intermediate"], s["heads"] * s["head_dim"], s["kv_heads"] * s["head_dim"]
    m: dict[str, tuple[int, ...]] = {
        "input_layernorm.weight": (h,), "self_attn.q_proj.weight": (q, h), "self_attn.k_proj.weight": (kv, h),
        "self_attn.v_proj.weight": (kv, h), "self_attn.o_proj.weight": (h, q), "post_attention_layernorm.weight": (h,),
        "mlp.gate_proj.weight": (i, h), "mlp.up_proj.weight": (i, h), "mlp.down_proj.weight": (h, i)}
    if s["qkv_bias"]:
        m.update({"self_attn.q_proj.bias": (q,), "self_attn.k_proj.bias": (kv,), "self_attn.v_proj.bias": (kv,)})
    if s["o_bias"]:
        m["self_attn.o_proj.bias"] = (h,)
    if s["mlp_bias"]:
        m.update({"mlp.gate_proj.bias": (i,), "mlp.up_proj.bias": (i,), "mlp.down_proj.bias": (h,)})
    return m


def _suffix_code(suffix: str) -> str:
    if "k_proj" in suffix or "v_proj" in suffix:
        return "kv-heads"
    if "q_proj" in suffix or "o_proj" in suffix:
        return "heads"
    return "intermediate-size" if suffix.startswith("mlp.") else "shape"


def shape_problems(config: Mapping[str, Any], shapes: Mapping[str, Sequence[int]]) -> list[tuple[str, str]]:
    """(code, message) for every error ``inspect.ts`` reports, in its order; [] when all agree.
    ``shapes``: tensor name → shape, in storage order."""
    problems: list[tuple[str, str]] = []
    try:
        s = config_shape(config)
    except ConfigShapeError as err:
        problems.append(("config", str(err)))
        s = None
    blocks: dict[int, dict[str, tuple[int, ...]]] = {}
    for name, shape in shapes.items():
        m = _BLOCK.match(name)
        if m:
            blocks.setdefault(int(m.group(1)), {})[m.group(2)] = tuple(shape)
    indices = sorted(blocks)
    missing_blocks = [i for i in range(indices[-1] + 1) if i not in blocks] if indices else []
    if missing_blocks:
        problems.append(("layer-gap", f"blocks {missing_blocks} are missing (no model.layers.N.* tensors)"))
    if s is None:
        return problems
    if len(indices) != s["num_layers"]:
        problems.append(("layer-count", f"config.json num_hidden_layers is {s['num_layers']}, but the checkpoint has "
                                        f"{len(indices)} blocks"))

    def expect(name: str, shape: tuple[int, ...]) -> None:
        got = shapes.get(name)
        if got is None:
            problems.append(("missing-tensor", f"{name} is missing (config.json implies {list(shape)})"))
        elif tuple(got) != shape:
            code = ("vocab" if name == EMBED and got[:1] != shape[:1]
                    else "hidden-size" if tuple(got)[-1:] != (s["hidden"],) else "shape")  # type: ignore[index]
            problems.append((code, f"{name} has shape {list(got)}, config.json implies {list(shape)}"))

    expect(EMBED, (s["vocab"], s["hidden"]))
    expect(NORM, (s["hidden"],))
    if not s["tie"]:
        expect(HEAD, (s["vocab"], s["hidden"]))
    for suffix, shape in expected_block_shapes(s).items():
        absent = [i for i in indices if suffix not in blocks[i]]
        if absent:
            problems.append(("missing-tensor", f"model.layers.N.{suffix} is missing in blocks {absent}"))
        wrong: dict[tuple[int, ...], list[int]] = {}
        for i in indices:
            got = blocks[i].get(suffix)
            if got is not None and got != shape:
                wrong.setdefault(got, []).append(i)
        for got, where in wrong.items():
            problems.append((_suffix_code(suffix), f"model.layers.N.{suffix} has shape {list(got)} in blocks {where}; "
                                                   f"config.json implies {list(shape)}"))
    return problems
