"""The cross-language contracts (schemas and tables), read from the one place they are defined.

In a checkout that is the repository's contracts/ folder; in a run directory on a host it is
slayer_runner/contracts/, which the extension writes into the runner payload it uploads from the
same files (src/protocol/contracts.ts). docs/architecture.md#contracts.
"""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from .schema import Schema, SchemaError

_HERE = Path(__file__).resolve().parent
PLACES = (_HERE / "contracts", _HERE.parent.parent / "contracts")


def contract_path(name: str) -> Path:
    for place in PLACES:
        if (place / name).is_file():
            return place / name
    raise FileNotFoundError(f"contract {name} is in none of {', '.join(map(str, PLACES))}: "
                            "the runner was copied without its contracts")


@lru_cache(maxsize=None)
def load(name: str) -> Any:
    return json.loads(contract_path(name).read_text(encoding="utf-8"))


@lru_cache(maxsize=None)
def schema(name: str) -> Schema:
    return Schema(load(f"{name}.schema.json"))


class VersionError(SchemaError):
    """A value whose ``v`` is not the version this build reads; ``shown`` is that ``v`` as
    JavaScript's String() prints it (``undefined`` when absent), for the caller's message."""

    def __init__(self, shown: str) -> None:
        super().__init__("v", f"unsupported version {shown}")
        self.shown = shown


def validate(name: str, value: Any, version: int) -> dict[str, Any]:
    """Checks a decoded value against ``contracts/<name>.schema.json``: an object (else SchemaError
    at the root, "not an object"), whose ``v`` is ``version`` (else VersionError), then the schema
    (SchemaError naming the first bad value). The one wrapper every validator of a versioned
    contract goes through; each turns the error into its own message, as its TypeScript twin does."""
    if not isinstance(value, dict):
        raise SchemaError("", "not an object")
    v = value.get("v")
    if isinstance(v, bool) or v != version:
        raise VersionError("undefined" if "v" not in value else "null" if v is None else str(v))
    schema(name).validate(value)
    return value


def enum_of(schema_name: str, definition: str) -> tuple[str, ...]:
    """The strings of an ``enum`` under ``$defs/definition`` (phases, importance metrics)."""
    return tuple(schema(schema_name).definition(definition)["enum"])


def run_file(key: str) -> str:
    """A file name of the run directory (contracts/run-directory.json)."""
    return str(load("run-directory.json")["files"][key])


def out_file(key: str) -> str:
    """A file name under a run directory's out/."""
    return str(load("run-directory.json")["out"][key])
