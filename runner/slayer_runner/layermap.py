"""LayerMap v1: the compiled plan (what ``slayer compile`` prints), read and checked.

The schema is contracts/layermap.schema.json, which src/protocol/layerMap.ts validates with too
(docs/layermap.md); the checks below are those a schema cannot say. A bad file is refused with the
field's path before any weight is touched. The returned dict keeps the wire's camelCase keys.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from .modelconfig import shape_from_config  # noqa: F401 — the ModelShape of a config.json, read once

from . import contracts
from .schema import SchemaError

LAYER_MAP_VERSION = 1
LAYER_MAP_KIND = "slayer.layermap"

LayerMap = dict[str, Any]


class LayerMapError(ValueError):
    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}")
        self.path = path


def validate_layer_map(v: Any) -> LayerMap:
    """Checks a decoded LayerMap; raises LayerMapError naming the first bad field."""
    if not isinstance(v, dict):
        raise LayerMapError("layerMap", "expected an object")
    if v.get("kind") != LAYER_MAP_KIND:
        raise LayerMapError("kind", f'expected "{LAYER_MAP_KIND}"')
    version = v.get("version")
    if isinstance(version, bool) or version != LAYER_MAP_VERSION:
        # "version": "1" must not read as "unsupported version 1 (this build reads 1)".
        if "version" not in v:
            shown = "missing"
        elif isinstance(version, str):
            shown = json.dumps(version, ensure_ascii=False)[:40] + " (a string)"
        else:
            shown = _js_text(version)[:40]
        raise LayerMapError("version", f"unsupported LayerMap version {shown}: "
                                       f"this build reads version {LAYER_MAP_VERSION}, the number")
    try:
        contracts.schema("layermap").validate(v)
    except SchemaError as err:
        raise LayerMapError(err.path, err.detail) from None
    base_layers = v["base"]["numLayers"]
    for i, block in enumerate(v["blocks"]):
        p = f"blocks[{i}]"
        if block["index"] != i:
            raise LayerMapError(f"{p}.index", f"expected {i}: blocks are listed in output order")
        for s in block["sources"]:
            if s["layer"] >= base_layers:
                raise LayerMapError(f"{p}.sources", f"layer {_js_text(s['layer'])} is outside the base model "
                                                    f"(0–{_js_text(base_layers - 1)})")
        total = sum(s["weight"] for s in block["sources"])
        if abs(total - 1) > 1e-9:
            raise LayerMapError(f"{p}.sources", f"weights sum to {_js_text(total)}, expected 1")
    if len(v["blocks"]) != v["result"]["numLayers"]:
        raise LayerMapError("blocks", f"{len(v['blocks'])} blocks but result.numLayers is "
                                      f"{_js_text(v['result']['numLayers'])}")
    return v


def _js_text(x: Any) -> str:
    """A value as JavaScript's String() prints it, so both validators say the same words."""
    if x is None:
        return "null"
    if isinstance(x, bool):
        return "true" if x else "false"
    if isinstance(x, float) and x.is_integer():
        return str(int(x))
    return str(x)


def load_layer_map(path: str | os.PathLike[str]) -> LayerMap:
    """Reads and validates a LayerMap file; errors name the file and the field."""
    from .checkpoint_files import CheckpointError, StrictJsonError, parse_strict_json, read_regular_file
    path = Path(path)
    try:
        value = parse_strict_json(read_regular_file(path, what="LayerMap"))
    except CheckpointError as err:
        raise LayerMapError(str(path), str(err).split(": ", 1)[-1]) from None
    except StrictJsonError as err:
        raise LayerMapError(str(path), str(err)) from None
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
