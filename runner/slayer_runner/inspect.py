"""``inspect PATH [--json]``: the tensors of a checkpoint directory or one safetensors file
(name, dtype, shape, shard), with totals and the errors against config.json that `slayer inspect`
reports (shapes.py; exit 1 when there are any); headers only, no tensor data is read."""
from __future__ import annotations

import argparse
import json
import math
from pathlib import Path
from typing import Any

from .checkpoint import Checkpoint, CheckpointError
from .units import human_bytes
from .safetensors_io import DTYPE_NAMES, SafetensorsError, read_header
from .shapes import shape_problems
from .surgery import split_block_name


def describe(path: Path) -> dict[str, Any]:
    if path.is_dir():
        with Checkpoint(path) as ck:
            tensors = [{"name": n, "dtype": DTYPE_NAMES[ck.info(n).dtype], "shape": list(ck.info(n).shape),
                        "file": ck.file_of(n), "bytes": ck.info(n).nbytes} for n in ck.keys()]
            config = ck.config
            problems = [{"code": c, "message": m} for c, m in shape_problems(config, {n: ck.info(n).shape for n in ck.keys()})]
    else:
        infos, meta, _ = read_header(path)
        tensors = [{"name": n, "dtype": DTYPE_NAMES[i.dtype], "shape": list(i.shape), "file": path.name,
                    "bytes": i.nbytes} for n, i in infos.items()]
        config = {"__metadata__": meta}
        problems = []
    blocks = {p[0] for t in tensors if (p := split_block_name(t["name"])) is not None}
    return {"path": str(path), "config": config, "tensors": tensors, "blocks": len(blocks),
            "parameters": sum(math.prod(t["shape"]) for t in tensors), "bytes": sum(t["bytes"] for t in tensors),
            "problems": problems}


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
    status = 1 if d["problems"] else 0  # errors against config.json, as `slayer inspect` reports them
    if a.json:
        print(json.dumps(d, indent=2))
        return status
    for t in d["tensors"]:
        print(f"{t['name']:<60} {t['dtype']:<5} {str(tuple(t['shape'])):<16} {t['file']}")
    print(f"{len(d['tensors'])} tensors, {d['blocks']} blocks, {d['parameters']:,} parameters, {human_bytes(d['bytes'])}")
    for p in d["problems"]:
        print(f"error [{p['code']}]: {p['message']}")
    return status
