"""LayerMap v1: the compiled plan (what ``slayer compile`` prints), read and checked.

The schema and its reference validator are src/protocol/layerMap.ts (docs/layermap.md); this
module checks the same fields the same way so a bad file is refused with the field's path before
any weight is touched. The returned dict keeps the wire's camelCase keys.
"""
from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any, Callable

LAYER_MAP_VERSION = 1
LAYER_MAP_KIND = "slayer.layermap"
INITS = ("kept", "copy", "average", "final-average", "final-average-deleted", "final-keep")
ROLES = ("kept", "new", "final")
EXTRAS = ("embed", "head", "norm")
SHAPE_INTS = ("numLayers", "hiddenSize", "intermediateSize", "numHeads", "numKvHeads", "headDim", "vocabSize")
SHAPE_BOOLS = ("tieEmbeddings", "qkvBias", "oBias", "mlpBias")
PARAM_KEYS = ("total", "trainable", "trainableBlocks", "perBlock", "embed", "head", "norm", "base")

LayerMap = dict[str, Any]


class LayerMapError(ValueError):
    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}")
        self.path = path


def _obj(v: Any, path: str) -> dict[str, Any]:
    if not isinstance(v, dict):
        raise LayerMapError(path, "expected an object")
    return v


def _arr(v: Any, path: str) -> list[Any]:
    if not isinstance(v, list):
        raise LayerMapError(path, "expected an array")
    return v


def _is_num(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _int(v: Any, path: str, minimum: int = 0) -> int:
    if not (_is_num(v) and float(v).is_integer() and v >= minimum):
        raise LayerMapError(path, f"expected an integer ≥ {minimum}")
    return int(v)


def _num(v: Any, path: str) -> float:
    if not _is_num(v):
        raise LayerMapError(path, "expected a finite number")
    return v


def _str(v: Any, path: str) -> str:
    if not isinstance(v, str):
        raise LayerMapError(path, "expected a string")
    return v


def _bool(v: Any, path: str) -> bool:
    if not isinstance(v, bool):
        raise LayerMapError(path, "expected a boolean")
    return v


def _one_of(v: Any, path: str, allowed: tuple[str, ...]) -> str:
    if v not in allowed or not isinstance(v, str):
        raise LayerMapError(path, f"expected one of {', '.join(allowed)}")
    return v


def validate_model_shape(v: Any, path: str = "shape") -> dict[str, Any]:
    o = _obj(v, path)
    _str(o.get("modelType"), f"{path}.modelType")
    for k in SHAPE_INTS:
        _int(o.get(k), f"{path}.{k}", 1)
    for k in SHAPE_BOOLS:
        _bool(o.get(k), f"{path}.{k}")
    _num(o.get("rmsNormEps"), f"{path}.rmsNormEps")
    _num(o.get("ropeTheta"), f"{path}.ropeTheta")
    _int(o.get("maxPositionEmbeddings"), f"{path}.maxPositionEmbeddings", 1)
    _str(o.get("dtype"), f"{path}.dtype")
    return o


def _validate_stage(v: Any, path: str) -> None:
    o = _obj(v, path)
    _str(o.get("name"), f"{path}.name")
    _one_of(o.get("kind"), f"{path}.kind", ("cpt", "sft"))
    for i, d in enumerate(_arr(o.get("data"), f"{path}.data")):
        dd = _obj(d, f"{path}.data[{i}]")
        _str(dd.get("name"), f"{path}.data[{i}].name")
        _num(dd.get("weight"), f"{path}.data[{i}].weight")
    for k in ("tokens", "steps"):
        if k not in o or o[k] is not None:  # null allowed, absent not (as in the TS validator)
            _num(o.get(k), f"{path}.{k}")
    for k in ("epochs", "lr", "warmup", "weightDecay", "clip"):
        _num(o.get(k), f"{path}.{k}")
    _one_of(o.get("schedule"), f"{path}.schedule", ("cosine", "linear", "constant"))
    _int(o.get("batchSequences"), f"{path}.batchSequences", 1)
    _int(o.get("seqLen"), f"{path}.seqLen", 1)
    _one_of(o.get("precision"), f"{path}.precision", ("bf16", "fp16", "fp32"))
    _int(o.get("checkpointEvery"), f"{path}.checkpointEvery")


def validate_layer_map(v: Any) -> LayerMap:
    """Checks a decoded LayerMap; raises LayerMapError naming the first bad field."""
    o = _obj(v, "layerMap")
    if o.get("kind") != LAYER_MAP_KIND:
        raise LayerMapError("kind", f'expected "{LAYER_MAP_KIND}"')
    if not (_is_num(o.get("version")) and o.get("version") == LAYER_MAP_VERSION):
        raise LayerMapError("version", f"unsupported LayerMap version {o.get('version')} "
                                       f"(this runner reads {LAYER_MAP_VERSION})")
    plan = _obj(o.get("plan"), "plan")
    _str(plan.get("model"), "plan.model")
    _str(plan.get("expand"), "plan.expand")
    if plan.get("file") is not None:
        _str(plan.get("file"), "plan.file")
    base = validate_model_shape(o.get("base"), "base")
    result = validate_model_shape(o.get("result"), "result")
    blocks = _arr(o.get("blocks"), "blocks")
    for i, b in enumerate(blocks):
        p = f"blocks[{i}]"
        bo = _obj(b, p)
        index = _int(bo.get("index"), f"{p}.index")
        _one_of(bo.get("role"), f"{p}.role", ROLES)
        _one_of(bo.get("init"), f"{p}.init", INITS)
        sources = _arr(bo.get("sources"), f"{p}.sources")
        for j, s in enumerate(sources):
            so = _obj(s, f"{p}.sources[{j}]")
            _int(so.get("layer"), f"{p}.sources[{j}].layer")
            _num(so.get("weight"), f"{p}.sources[{j}].weight")
        for j, z in enumerate(_arr(bo.get("zero"), f"{p}.zero")):
            _str(z, f"{p}.zero[{j}]")
        _bool(bo.get("trainable"), f"{p}.trainable")
        if index != i:
            raise LayerMapError(f"{p}.index", f"expected {i}: blocks are listed in output order")
        if not sources:
            raise LayerMapError(f"{p}.sources", "a block needs at least one source")
        for s in sources:
            if s["layer"] >= base["numLayers"]:
                raise LayerMapError(f"{p}.sources", f"layer {s['layer']} is outside the base model "
                                                    f"(0–{base['numLayers'] - 1})")
        total = sum(s["weight"] for s in sources)
        if abs(total - 1) > 1e-9:
            raise LayerMapError(f"{p}.sources", f"weights sum to {total}, expected 1")
    if len(blocks) != result["numLayers"]:
        raise LayerMapError("blocks", f"{len(blocks)} blocks but result.numLayers is {result['numLayers']}")
    for i, d in enumerate(_arr(o.get("deleted"), "deleted")):
        _int(d, f"deleted[{i}]")
    for i, x in enumerate(_arr(o.get("trainableExtras"), "trainableExtras")):
        _one_of(x, f"trainableExtras[{i}]", EXTRAS)
    params = _obj(o.get("params"), "params")
    for k in PARAM_KEYS:
        _int(params.get(k), f"params.{k}")
    for i, s in enumerate(_arr(o.get("stages"), "stages")):
        _validate_stage(s, f"stages[{i}]")
    if o.get("run") is not None:
        r = _obj(o["run"], "run")
        _str(r.get("host"), "run.host")
        _int(r.get("gpus"), "run.gpus", 1)
        _int(r.get("nodes"), "run.nodes", 1)
        if r.get("weights", "checkpoint") not in ("checkpoint", "random"):
            raise LayerMapError("run.weights", "expected checkpoint or random")
    return o


def load_layer_map(path: str | os.PathLike[str]) -> LayerMap:
    """Reads and validates a LayerMap file; errors name the file and the field."""
    path = Path(path)
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise LayerMapError(str(path), "no such file") from None
    except json.JSONDecodeError as err:
        raise LayerMapError(str(path), f"not JSON ({err})") from None
    try:
        return validate_layer_map(value)
    except LayerMapError as err:
        raise LayerMapError(f"{path}: {err.path}", str(err).split(": ", 1)[1]) from None


def output_projection_suffixes(shape: dict[str, Any]) -> list[str]:
    """The suffixes zeroed in a new block by default (mirror of outputProjectionSuffixes)."""
    out = ["self_attn.o_proj.weight", "mlp.down_proj.weight"]
    if shape.get("oBias"):
        out.append("self_attn.o_proj.bias")
    if shape.get("mlpBias"):
        out.append("mlp.down_proj.bias")
    return out


def shape_from_config(config: dict[str, Any]) -> dict[str, Any]:
    """A ModelShape (camelCase, as in the LayerMap) from a Hugging Face config.json."""
    get: Callable[[str, Any], Any] = lambda k, d=None: config.get(k, d)  # noqa: E731
    heads = int(get("num_attention_heads"))
    hidden = int(get("hidden_size"))
    model_type = str(get("model_type", "llama"))
    attention_bias = bool(get("attention_bias", False))
    return {
        "modelType": model_type,
        "numLayers": int(get("num_hidden_layers")),
        "hiddenSize": hidden,
        "intermediateSize": int(get("intermediate_size")),
        "numHeads": heads,
        "numKvHeads": int(get("num_key_value_heads") or heads),
        "headDim": int(get("head_dim") or hidden // heads),
        "vocabSize": int(get("vocab_size")),
        "tieEmbeddings": bool(get("tie_word_embeddings", False)),
        "qkvBias": model_type == "qwen2" or attention_bias,
        "oBias": attention_bias,
        "mlpBias": bool(get("mlp_bias", False)),
        "rmsNormEps": float(get("rms_norm_eps", 1e-6)),
        "ropeTheta": float(get("rope_theta", 10000.0)),
        "maxPositionEmbeddings": int(get("max_position_embeddings", 2048)),
        "dtype": str(get("torch_dtype", "float32")),
    }
