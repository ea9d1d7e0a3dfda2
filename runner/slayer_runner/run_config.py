"""run.json v1: what the extension or CLI tells the runner beyond the LayerMap, read and checked.

The schema is contracts/run-config.schema.json, which src/protocol/runConfig.ts validates with too
(docs/runner.md). Every field is required on the wire, so the runner reads it without defaults.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Optional, TypedDict

from . import contracts
from .schema import SchemaError

RUN_CONFIG_VERSION = 1
#: Every phase, in the order a full run takes them (the schema's ``$defs/phase``).
PHASES = contracts.enum_of("run-config", "phase")


class TinyModelSpec(TypedDict):
    num_layers: int
    hidden_size: int
    intermediate_size: int
    num_heads: int
    num_kv_heads: int
    vocab_size: int
    seed: int


class SweepRef(TypedDict):
    """The sweep a run is a variant of (docs/sweeps.md): the runner only logs it."""
    id: str
    name: str
    variant: str
    index: int


class RunConfig(TypedDict):
    v: int
    run_id: str
    source_model: Optional[str]
    tiny_model: Optional[TinyModelSpec]
    phases: list[str]
    datasets: dict[str, str]
    calibration: Optional[str]
    max_steps: Optional[int]
    device: str
    nproc_per_node: int
    nnodes: int
    seed: int


class RunConfigError(ValueError):
    def __init__(self, message: str) -> None:
        super().__init__(f"run.json: {message}")


def validate_run_config(value: Any) -> RunConfig:
    """Checks a decoded run.json; raises RunConfigError naming the first bad field."""
    try:
        contracts.validate("run-config", value, RUN_CONFIG_VERSION)
    except contracts.VersionError as err:
        raise RunConfigError(err.detail) from None
    except SchemaError as err:
        raise RunConfigError(err.detail if not isinstance(value, dict) else f'bad or missing "{err.path}": {err.detail}') from None
    if value["source_model"] is None and value["tiny_model"] is None:
        raise RunConfigError("needs source_model or tiny_model")
    return value  # type: ignore[return-value]


def load_run_config(path: str | os.PathLike[str]) -> RunConfig:
    """Reads and validates a run.json file; errors name the file."""
    path = Path(path)
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as err:
        raise RunConfigError(f"cannot read {path}: {err}") from None
    return validate_run_config(value)
