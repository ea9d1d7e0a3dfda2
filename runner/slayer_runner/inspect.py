"""``inspect PATH [--json]``: the tensors of a checkpoint directory or one safetensors file
(name, dtype, shape, shard), with totals; headers only, no tensor data is read."""
from __future__ import annotations

import argparse
import json
import math
from pathlib import Path
from typing import Any

from .checkpoint import Checkpoint, CheckpointError
from .units import human_bytes
from .safetensors_io import DTYPE_NAMES, SafetensorsError, read_header
from .surgery import split_block_name


def describe(path: Path) -> dict[str, Any]:
    if path.is_dir():
        with Checkpoint(path) as ck:
            tensors = [{"name": n, "dtype": DTYPE_NAMES[ck.info(n).dtype], "shape": list(ck.info(n).shape),
                        "file": ck.file_of(n), "bytes": ck.info(n).nbytes} for n in ck.keys()]
            config = ck.config
    else:
        infos, meta, _ = read_header(path)
        tensors = [{"name": n, "dtype": DTYPE_NAMES[i.dtype], "shape": list(i.shape), "file": path.name,
                    "bytes": i.nbytes} for n, i in infos.items()]
        config = {"__metadata__": meta}
    blocks = {p[0] for t in tensors if (p := split_block_name(t["name"])) is not None}
    return {"path": str(path), "config": config, "tensors": tensors, "blocks": len(blocks),
            "parameters": sum(math.prod(t["shape"]) for t in tensors), "bytes": sum(t["bytes"] for t in tensors)}


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="python -m slayer_runner inspect",
                                 description="List the tensors of a checkpoint directory or a .safetensors file.")
    ap.add_argument("path", type=Path)
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args(argv)
    try:
        d = describe(a.path)
    except (CheckpointError, SafetensorsError, OSError) as err:
        print(f"inspect: {err}")
        return 1
    if a.json:
        print(json.dumps(d, indent=2))
        return 0
    for t in d["tensors"]:
        print(f"{t['name']:<60} {t['dtype']:<5} {str(tuple(t['shape'])):<16} {t['file']}")
    print(f"{len(d['tensors'])} tensors, {d['blocks']} blocks, {d['parameters']:,} parameters, {human_bytes(d['bytes'])}")
    return 0
