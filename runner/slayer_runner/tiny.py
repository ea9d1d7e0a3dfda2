"""``make-tiny``: a random Llama-format Hugging Face checkpoint (tests, the CPU demo, benchmarks).

Tensor names and shapes are those of ``LlamaForCausalLM`` (``Qwen2ForCausalLM`` with q/k/v
biases only), grouped-query attention included; Llama's ``attention_bias`` (q/k/v/o biases) and
``mlp_bias`` are options. Weights are N(0, 0.02²), norms 1 + N(0, 0.1²) (not all
ones, so averaging them is visible), biases N(0, 0.02²). Generation streams tensor by tensor, so
checkpoints larger than memory can be made (the surgery benchmark makes one of over 1 GB).

The tokenizer is a byte-level vocabulary described by ``slayer_tokenizer.json``
(``{"type": "bytes", ...}``): token id = UTF-8 byte value (0–255); ids 256 and 257, when the
vocabulary has room, are BOS and EOS. No tokenizer library is needed to use it.

torch is imported only once the request is known to be good: a refusal (bad arguments, a non-empty
output, too little disk) costs a bare Python process, not torch's few hundred megabytes.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator, Mapping, Optional

from .outputs import OutputError, check_output, move_into_place, remove_stale, temp_dir_for
from .units import DEFAULT_MAX_SHARD, human_bytes, parse_size

if TYPE_CHECKING:
    import torch

    from .safetensors_io import TensorSpec

TOKENIZER_FILE = "slayer_tokenizer.json"
# dtype alias → the name config.json uses (and torch's attribute), with its bytes per element.
DTYPE_ALIASES = {"bf16": "bfloat16", "bfloat16": "bfloat16", "fp16": "float16", "float16": "float16",
                 "half": "float16", "fp32": "float32", "float32": "float32", "float": "float32"}
DTYPE_BYTES = {"bfloat16": 2, "float16": 2, "float32": 4}

# Upper bounds checked before anything is written (a "tiny" model that overflows is a typo).
MAX_DIM = {"num_layers": 4096, "max_shard_bytes": 1 << 50}

DEFAULTS: dict[str, Any] = {
    "num_layers": 8, "hidden_size": 64, "intermediate_size": 172, "num_heads": 4, "num_kv_heads": 2,
    "vocab_size": 256, "seed": 0, "qkv_bias": False, "attention_bias": False, "mlp_bias": False,
    "tie_embeddings": False, "dtype": "float32",
    "max_position_embeddings": 256, "rope_theta": 10000.0, "rms_norm_eps": 1e-5,
    "shards": None, "max_shard_bytes": DEFAULT_MAX_SHARD,
}


def dtype_name(name: Any) -> str:
    """``bf16``, ``torch.bfloat16``, … → ``bfloat16`` (config.json's name)."""
    key = str(name).removeprefix("torch.").lower()
    try:
        return DTYPE_ALIASES[key]
    except KeyError:
        raise ValueError(f"unsupported dtype {name!r} (bf16, fp16, fp32)") from None


def full_spec(spec: Mapping[str, Any]) -> dict[str, Any]:
    """The defaults, overridden by ``spec`` (run.json's tiny_model keys plus the optional ones above)."""
    unknown = set(spec) - set(DEFAULTS) - {"head_dim"}
    if unknown:
        raise ValueError(f"unknown tiny model keys: {', '.join(sorted(unknown))}")
    s = {**DEFAULTS, **spec}
    for key in ("num_layers", "hidden_size", "intermediate_size", "num_heads", "num_kv_heads", "vocab_size",
                "head_dim", "max_position_embeddings", "shards", "max_shard_bytes"):
        v = s.get(key)
        if v is None and key in ("head_dim", "shards"):
            continue
        if not isinstance(v, int) or isinstance(v, bool) or not 1 <= v <= MAX_DIM.get(key, 1 << 31):
            raise ValueError(f"{key} must be an integer from 1 to {MAX_DIM.get(key, 1 << 31)}, got {v!r}")
    if s["vocab_size"] < 256:
        raise ValueError(f"vocab_size must be at least 256 for the byte-level tokenizer, got {s['vocab_size']}")
    if not isinstance(s["seed"], int) or isinstance(s["seed"], bool):
        raise ValueError(f"seed must be an integer, got {s['seed']!r}")
    if s["hidden_size"] % s["num_heads"] and "head_dim" not in spec:
        raise ValueError("hidden_size must be a multiple of num_heads (or give head_dim)")
    if s["num_heads"] % s["num_kv_heads"]:
        raise ValueError("num_heads must be a multiple of num_kv_heads")
    s.setdefault("head_dim", s["hidden_size"] // s["num_heads"])
    s["dtype"] = dtype_name(s["dtype"])
    if s["shards"] is not None and s["shards"] > len(tensor_shapes(s)):
        raise ValueError(f"shards must be at most the number of tensors ({len(tensor_shapes(s))}), got {s['shards']}")
    return s


def tensor_shapes(s: Mapping[str, Any]) -> list[tuple[str, tuple[int, ...]]]:
    """Name and shape of every tensor of the checkpoint, in storage order (embeddings, blocks, final
    norm, head)."""
    h, i, v, d = s["hidden_size"], s["intermediate_size"], s["vocab_size"], s["head_dim"]
    q, kv = s["num_heads"] * d, s["num_kv_heads"] * d
    out: list[tuple[str, tuple[int, ...]]] = [("model.embed_tokens.weight", (v, h))]
    for n in range(s["num_layers"]):
        p = f"model.layers.{n}."
        block = [("input_layernorm.weight", (h,)),
                 ("self_attn.q_proj.weight", (q, h)), ("self_attn.k_proj.weight", (kv, h)),
                 ("self_attn.v_proj.weight", (kv, h))]
        if s["qkv_bias"] or s["attention_bias"]:
            block += [("self_attn.q_proj.bias", (q,)), ("self_attn.k_proj.bias", (kv,)), ("self_attn.v_proj.bias", (kv,))]
        block += [("self_attn.o_proj.weight", (h, q))]
        if s["attention_bias"]:
            block += [("self_attn.o_proj.bias", (h,))]
        block += [("post_attention_layernorm.weight", (h,)),
                  ("mlp.gate_proj.weight", (i, h)), ("mlp.up_proj.weight", (i, h)), ("mlp.down_proj.weight", (h, i))]
        if s["mlp_bias"]:
            block += [("mlp.gate_proj.bias", (i,)), ("mlp.up_proj.bias", (i,)), ("mlp.down_proj.bias", (h,))]
        out += [(p + name, shape) for name, shape in block]
    out.append(("model.norm.weight", (h,)))
    if not s["tie_embeddings"]:
        out.append(("lm_head.weight", (v, h)))
    return out


def tensor_specs(s: Mapping[str, Any]) -> list[TensorSpec]:
    """``tensor_shapes`` with the dtype, as the shard writer takes them."""
    import torch

    from .safetensors_io import TensorSpec
    dt = getattr(torch, dtype_name(s["dtype"]))
    return [TensorSpec(name, dt, shape) for name, shape in tensor_shapes(s)]


def config_json(s: Mapping[str, Any]) -> dict[str, Any]:
    qwen = bool(s["qkv_bias"]) and not s["attention_bias"] and not s["mlp_bias"]
    cfg: dict[str, Any] = {
        "architectures": ["Qwen2ForCausalLM" if qwen else "LlamaForCausalLM"],
        "model_type": "qwen2" if qwen else "llama",
        "hidden_size": s["hidden_size"], "intermediate_size": s["intermediate_size"],
        "num_hidden_layers": s["num_layers"], "num_attention_heads": s["num_heads"],
        "num_key_value_heads": s["num_kv_heads"], "head_dim": s["head_dim"], "vocab_size": s["vocab_size"],
        "hidden_act": "silu", "max_position_embeddings": s["max_position_embeddings"],
        "rms_norm_eps": s["rms_norm_eps"], "rope_theta": s["rope_theta"],
        "tie_word_embeddings": bool(s["tie_embeddings"]), "torch_dtype": s["dtype"],
        "initializer_range": 0.02, "use_cache": True,
        "bos_token_id": 256 if s["vocab_size"] > 256 else None,
        "eos_token_id": 257 if s["vocab_size"] > 257 else None,
    }
    if not qwen:
        cfg.update({"attention_bias": bool(s["attention_bias"]), "mlp_bias": bool(s["mlp_bias"])})
    return cfg


def random_tensors(s: Mapping[str, Any]) -> Iterator[tuple[TensorSpec, torch.Tensor]]:
    """The tensors of ``tensor_specs(s)``, one at a time, deterministic in the seed."""
    import torch
    g = torch.Generator().manual_seed(int(s["seed"]))
    for spec in tensor_specs(s):
        t = torch.randn(spec.shape, generator=g, dtype=torch.float32)
        if spec.name.endswith("norm.weight"):
            t = 1.0 + 0.1 * t
        else:
            t = 0.02 * t
        yield spec, t.to(spec.dtype)


def make_tiny(spec: Mapping[str, Any], out: str | os.PathLike[str]) -> Path:
    """Writes a random checkpoint directory at ``out``, which must not exist or be empty.

    The spec is checked and the disk space compared first; everything is written into a hidden
    directory next to ``out`` and renamed into place when complete (outputs.py), so a failure
    leaves nothing that looks like a checkpoint."""
    s = full_spec(spec)
    out = Path(out).absolute()
    out.parent.mkdir(parents=True, exist_ok=True)
    remove_stale(out)
    try:
        check_output(out, replace=False, force=False)
    except OutputError:
        raise FileExistsError(f"{out} already exists and is not empty: make-tiny writes only into a new or "
                              f"empty directory") from None
    need = sum(math.prod(shape) for _, shape in tensor_shapes(s)) * DTYPE_BYTES[s["dtype"]]
    free = shutil.disk_usage(out.parent).free
    if need > free:
        raise ValueError(f"the checkpoint needs {human_bytes(need)}, {out.parent} has {human_bytes(free)} free")
    from .checkpoint import ShardWriter, write_config  # torch, now that the request is known to be good
    specs = tensor_specs(s)
    tmp = temp_dir_for(out)
    tmp.mkdir()
    try:
        writer = ShardWriter.for_specs(tmp, specs, int(s["max_shard_bytes"]), s["shards"])
        try:
            for spec_, t in random_tensors(s):
                writer.write(spec_.name, t)
            writer.close()
        except BaseException:
            writer.abort()
            raise
        write_config(tmp, config_json(s))
        (tmp / "generation_config.json").write_text(json.dumps(
            {"bos_token_id": config_json(s)["bos_token_id"], "eos_token_id": config_json(s)["eos_token_id"],
             "do_sample": False}, indent=2) + "\n", encoding="utf-8")
        (tmp / TOKENIZER_FILE).write_text(json.dumps(tokenizer_description(s["vocab_size"]), indent=2) + "\n",
                                          encoding="utf-8")
        move_into_place(tmp, out, replace=False)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out


def tokenizer_description(vocab_size: int) -> dict[str, Any]:
    if vocab_size < 256:
        raise ValueError("the byte-level tokenizer needs vocab_size >= 256")
    return {"type": "bytes", "version": 1, "vocab_size": vocab_size,
            "bos_token_id": 256 if vocab_size > 256 else None,
            "eos_token_id": 257 if vocab_size > 257 else None,
            "doc": "token id = UTF-8 byte value (0-255); see docs/runner.md"}


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="python -m slayer_runner make-tiny",
                                 description="Write a random tiny Llama-format checkpoint.")
    ap.add_argument("--output", required=True, type=Path)
    ap.add_argument("--layers", type=int, default=DEFAULTS["num_layers"])
    ap.add_argument("--hidden", type=int, default=DEFAULTS["hidden_size"])
    ap.add_argument("--intermediate", type=int, default=DEFAULTS["intermediate_size"])
    ap.add_argument("--heads", type=int, default=DEFAULTS["num_heads"])
    ap.add_argument("--kv-heads", type=int, default=DEFAULTS["num_kv_heads"])
    ap.add_argument("--vocab", type=int, default=DEFAULTS["vocab_size"])
    ap.add_argument("--qkv-bias", action="store_true", help="q/k/v biases (writes a qwen2 config)")
    ap.add_argument("--attention-bias", action="store_true", help="q/k/v/o biases (Llama attention_bias)")
    ap.add_argument("--mlp-bias", action="store_true", help="gate/up/down biases (Llama mlp_bias)")
    ap.add_argument("--tie", action="store_true", help="tie the output head to the embeddings")
    ap.add_argument("--dtype", default="fp32", choices=["bf16", "fp16", "fp32"])
    group = ap.add_mutually_exclusive_group()
    group.add_argument("--shards", type=int, default=None, help="exactly N shards")
    group.add_argument("--max-shard-size", default=None, help="e.g. 5GB, 200MB (default 5GB)")
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args(argv)
    spec: dict[str, Any] = {
        "num_layers": a.layers, "hidden_size": a.hidden, "intermediate_size": a.intermediate, "num_heads": a.heads,
        "num_kv_heads": a.kv_heads, "vocab_size": a.vocab, "seed": a.seed, "qkv_bias": a.qkv_bias,
        "attention_bias": a.attention_bias, "mlp_bias": a.mlp_bias,
        "tie_embeddings": a.tie, "dtype": a.dtype, "shards": a.shards,
    }
    if a.max_shard_size:
        spec["max_shard_bytes"] = parse_size(a.max_shard_size)
    try:
        out = make_tiny(spec, a.output)
    except (ValueError, OSError) as err:
        print(f"make-tiny: {err}", flush=True)
        return 1
    print(f"make-tiny: wrote {out}")
    return 0


def spec_from_layer_map_shape(shape: Mapping[str, Any], seed: int = 0,
                              overrides: Optional[Mapping[str, Any]] = None) -> dict[str, Any]:
    """A tiny spec with a LayerMap ModelShape's dimensions (for runs with ``tiny_model``)."""
    spec = {
        "num_layers": shape["numLayers"], "hidden_size": shape["hiddenSize"],
        "intermediate_size": shape["intermediateSize"], "num_heads": shape["numHeads"],
        "num_kv_heads": shape["numKvHeads"], "vocab_size": shape["vocabSize"], "seed": seed,
        "qkv_bias": bool(shape["qkvBias"]) and not shape["oBias"], "attention_bias": bool(shape["oBias"]),
        "mlp_bias": bool(shape["mlpBias"]), "tie_embeddings": bool(shape["tieEmbeddings"]),
        "dtype": shape["dtype"] if shape["dtype"] in DTYPE_ALIASES else "float32",
        "head_dim": shape["headDim"], "rms_norm_eps": shape["rmsNormEps"], "rope_theta": shape["ropeTheta"],
        "max_position_embeddings": shape["maxPositionEmbeddings"],
    }
    spec.update(overrides or {})
    return spec
