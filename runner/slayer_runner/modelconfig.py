"""config.json of a decoder checkpoint: the runner's one reader.

Every family whose blocks live at ``model.layers.N`` is described once, in
``assets/model-families.json`` (a copy of the repository's ``contracts/model-families.json``, which
the plan core reads too): the defaults transformers' config classes use for keys a config.json
leaves out, and which tensors a block holds. ``ModelConfig.from_hf`` (the in-house model, the
backend), ``shape_from_config`` (the LayerMap's ModelShape), ``block_suffixes`` and
``output_projections`` (surgery) all read it, so they cannot disagree.
"""
from __future__ import annotations

import functools
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Mapping, Optional

FAMILIES_FILE = Path(__file__).parent / "assets" / "model-families.json"
CONFIG_FILE = "config.json"


class ModelConfigError(ValueError):
    """A config.json the runner cannot read as a supported decoder."""


@functools.lru_cache(maxsize=1)
def families() -> Dict[str, Dict[str, Any]]:
    """model_type → {architecture, defaults, block, builtin}."""
    return dict(json.loads(FAMILIES_FILE.read_text(encoding="utf-8"))["families"])


def family(cfg: Mapping[str, Any]) -> Dict[str, Any]:
    model_type = str(cfg.get("model_type", "llama"))
    fams = families()
    if model_type not in fams:
        raise ModelConfigError(f"unsupported model_type {model_type!r} ({', '.join(fams)})")
    return fams[model_type]


def read_config(model_dir: str | os.PathLike[str]) -> Dict[str, Any]:
    """The config.json of a checkpoint directory, as a dict."""
    from .checkpoint_files import CheckpointError, member_exists, read_member_json
    path = Path(model_dir) / CONFIG_FILE
    if not member_exists(model_dir, CONFIG_FILE):
        raise ModelConfigError(f"{model_dir}: no config.json")
    try:  # the one rule (checkpoint_files.py): inside the checkpoint, a regular file, strict JSON
        value = read_member_json(model_dir, CONFIG_FILE, "config")
    except CheckpointError as err:
        raise ModelConfigError(str(err)) from None
    if not isinstance(value, dict):
        raise ModelConfigError(f"{path}: not a JSON object")
    return value


def config_dtype(cfg: Mapping[str, Any]) -> Optional[str]:
    """The stored weights' dtype name: ``torch_dtype`` (transformers 4) or ``dtype`` (5)."""
    value = cfg.get("torch_dtype") or cfg.get("dtype")
    return str(value) if value else None


def default(cfg: Mapping[str, Any], key: str) -> Any:
    """config.json's value for `key`, else the family's default (transformers' config class)."""
    value = cfg.get(key)
    return family(cfg)["defaults"].get(key) if value is None else value


def _flag(cfg: Mapping[str, Any], rule: Any) -> bool:
    """A block rule: a constant, or the name of the config key that switches the tensor on."""
    return bool(cfg.get(rule, False)) if isinstance(rule, str) else bool(rule)


def head_dim(cfg: Mapping[str, Any]) -> int:
    value = default(cfg, "head_dim")
    return int(value) if value else int(cfg["hidden_size"]) // int(cfg["num_attention_heads"])


def rope(cfg: Mapping[str, Any]) -> tuple[float, Optional[Dict[str, Any]]]:
    """(rope theta, scaling parameters or None) of the full-attention layers, from transformers 5's
    ``rope_parameters`` or 4.x's ``rope_theta`` + ``rope_scaling``."""
    params = cfg.get("rope_parameters")
    if isinstance(params, dict) and isinstance(params.get("full_attention"), dict):
        params = params["full_attention"]  # per layer type (Gemma 3)
    if isinstance(params, dict):
        theta = params.get("rope_theta", cfg.get("rope_theta"))
        kind = params.get("rope_type", params.get("type"))
        scaling = {k: v for k, v in params.items() if k != "rope_theta"} if kind not in (None, "default") else None
    else:
        theta = cfg.get("rope_theta")
        scaling = dict(cfg["rope_scaling"]) if cfg.get("rope_scaling") else None
    return float(theta if theta is not None else default(cfg, "rope_theta")), scaling


@dataclass(frozen=True)
class ModelConfig:
    """The facts of a config.json the runner uses, defaults resolved per family."""
    model_type: str
    vocab_size: int
    hidden_size: int
    intermediate_size: int
    num_layers: int
    num_heads: int
    num_kv_heads: int
    head_dim: int
    rms_norm_eps: float = 1e-6
    rope_theta: float = 10000.0
    max_position_embeddings: int = 2048
    tie_embeddings: bool = False
    qkv_bias: bool = False
    o_bias: bool = False
    mlp_bias: bool = False
    qk_norm: bool = False
    feedforward_norms: bool = False
    fused: bool = False
    rope_scaling: Optional[Dict[str, Any]] = None

    @property
    def builtin(self) -> bool:
        """The in-house model computes this family (and this config's options)."""
        return bool(families()[self.model_type]["builtin"])

    @staticmethod
    def from_hf(cfg: Mapping[str, Any]) -> "ModelConfig":
        """Reads a Hugging Face config.json dict of a supported family."""
        fam = family(cfg)
        block = fam["block"]
        heads = int(cfg["num_attention_heads"])
        theta, scaling = rope(cfg)
        return ModelConfig(
            model_type=str(cfg.get("model_type", "llama")),
            vocab_size=int(cfg["vocab_size"]),
            hidden_size=int(cfg["hidden_size"]),
            intermediate_size=int(cfg["intermediate_size"]),
            num_layers=int(cfg["num_hidden_layers"]),
            num_heads=heads,
            num_kv_heads=int(cfg.get("num_key_value_heads") or heads),
            head_dim=head_dim(cfg),
            rms_norm_eps=float(default(cfg, "rms_norm_eps")),
            rope_theta=theta,
            max_position_embeddings=int(default(cfg, "max_position_embeddings")),
            tie_embeddings=bool(default(cfg, "tie_word_embeddings")),
            qkv_bias=_flag(cfg, block["qkvBias"]),
            o_bias=_flag(cfg, block["oBias"]),
            mlp_bias=_flag(cfg, block["mlpBias"]),
            qk_norm=bool(block["qkNorm"]),
            feedforward_norms=bool(block["feedforwardNorms"]),
            fused=bool(block["fused"]),
            rope_scaling=scaling,
        )


def shape_from_config(config: Mapping[str, Any]) -> Dict[str, Any]:
    """A ModelShape (camelCase, as in the LayerMap) from a Hugging Face config.json."""
    c = ModelConfig.from_hf(config)
    return {
        "modelType": c.model_type,
        "numLayers": c.num_layers,
        "hiddenSize": c.hidden_size,
        "intermediateSize": c.intermediate_size,
        "numHeads": c.num_heads,
        "numKvHeads": c.num_kv_heads,
        "headDim": c.head_dim,
        "vocabSize": c.vocab_size,
        "tieEmbeddings": c.tie_embeddings,
        "qkvBias": c.qkv_bias,
        "oBias": c.o_bias,
        "mlpBias": c.mlp_bias,
        "rmsNormEps": c.rms_norm_eps,
        "ropeTheta": c.rope_theta,
        "maxPositionEmbeddings": c.max_position_embeddings,
        "dtype": config_dtype(config) or "float32",
    }


def block_suffixes(c: ModelConfig) -> list[str]:
    """The tensors of one block (names after ``model.layers.N.``)."""
    attn = ["self_attn.qkv_proj"] if c.fused else ["self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj"]
    out = [f"{p}.weight" for p in attn]
    if c.qkv_bias:
        out += [f"{p}.bias" for p in attn]
    out.append("self_attn.o_proj.weight")
    if c.o_bias:
        out.append("self_attn.o_proj.bias")
    if c.qk_norm:
        out += ["self_attn.q_norm.weight", "self_attn.k_norm.weight"]
    mlp = ["mlp.gate_up_proj"] if c.fused else ["mlp.gate_proj", "mlp.up_proj"]
    mlp.append("mlp.down_proj")
    out += [f"{p}.weight" for p in mlp]
    if c.mlp_bias:
        out += [f"{p}.bias" for p in mlp]
    out += ["input_layernorm.weight", "post_attention_layernorm.weight"]
    if c.feedforward_norms:
        out += ["pre_feedforward_layernorm.weight", "post_feedforward_layernorm.weight"]
    return out


def output_projections(c: ModelConfig) -> list[str]:
    """What a new block zeroes to add nothing to the residual stream: the attention and MLP output
    projections (for the Gemma families the post-norms then normalise a zero, which stays zero)."""
    out = ["self_attn.o_proj.weight", "mlp.down_proj.weight"]
    if c.o_bias:
        out.append("self_attn.o_proj.bias")
    if c.mlp_bias:
        out.append("mlp.down_proj.bias")
    return out


# Top-level config.json lists that are not per layer even when their length happens to match.
_NOT_PER_LAYER = frozenset({"architectures"})


def base_layer_types(config: Mapping[str, Any]) -> Optional[list[str]]:
    """The attention type of each base layer when the config leaves it to a rule (older Gemma and
    Qwen configs): written out explicitly so a new depth cannot shift which layers slide."""
    if isinstance(config.get("layer_types"), list):
        return None
    n = int(config["num_hidden_layers"])
    model_type = config.get("model_type")
    if model_type == "gemma2":  # sliding on even layers
        return ["sliding_attention" if i % 2 == 0 else "full_attention" for i in range(n)]
    if model_type == "gemma3_text":
        pattern = int(config.get("sliding_window_pattern") or 6)
        return ["sliding_attention" if (i + 1) % pattern else "full_attention" for i in range(n)]
    if model_type in ("qwen2", "qwen3") and config.get("use_sliding_window"):
        start = int(config.get("max_window_layers") or n)
        return ["sliding_attention" if i >= start else "full_attention" for i in range(n)]
    return None


def resize_per_layer(config: Mapping[str, Any], first_sources: list[int]) -> Dict[str, Any]:
    """config.json for a new depth: every top-level list of length num_hidden_layers (``layer_types``,
    ``no_rope_layers``, …) follows each new block's first source; num_hidden_layers is updated."""
    cfg = dict(config)
    base = int(config["num_hidden_layers"])
    types = base_layer_types(config)
    if types is not None:
        cfg["layer_types"] = types
    for key, value in list(cfg.items()):
        if isinstance(value, list) and len(value) == base and key not in _NOT_PER_LAYER:
            cfg[key] = [value[s] for s in first_sources]
    cfg["num_hidden_layers"] = len(first_sources)
    return cfg
