"""The runner's side of test/contracts/: reads cases as JSON on stdin, answers each with the
runner's own validators and fit rule, prints the verdicts as JSON. Test-only (never shipped)."""
from __future__ import annotations

import json
import sys
from typing import Any, Callable

from slayer_runner import contracts
from slayer_runner.events import EventError, parse_event_line, validate_importance_file
from slayer_runner.layermap import LayerMapError, validate_layer_map
from slayer_runner.memory import fit_verdict, memory_per_gpu
from slayer_runner.run_config import PHASES, RunConfigError, validate_run_config
from slayer_runner.schema import Schema
from slayer_runner.units import memory_bytes


def verdict(check: Callable[[Any], Any], errors: tuple[type, ...], value: Any) -> Any:
    try:
        check(value)
        return None
    except errors as err:
        return str(err)


def main() -> None:
    cases = json.load(sys.stdin)
    out: dict[str, Any] = {
        "layermap": [verdict(validate_layer_map, (LayerMapError,), v) for v in cases["layermap"]],
        "run-config": [verdict(validate_run_config, (RunConfigError,), v) for v in cases["run-config"]],
        "importance": [verdict(validate_importance_file, (EventError,), v) for v in cases["importance"]],
        "events": [verdict(parse_event_line, (EventError,), line) for line in cases["events"]],
        "memory": [],
        "text": [memory_bytes(n) for n in cases["text"]],
        "phases": list(PHASES),
        "runFiles": {k: contracts.load("run-directory.json")[k] for k in ("files", "out")},
        "contractsFrom": str(contracts.contract_path("layermap.schema.json").parent),
    }
    for c in cases["memory"]:
        est = {s: memory_per_gpu(c["params"]["total"], c["params"]["trainable"], c["gpus"], s, c["precision"])
               for s in ("ddp", "fsdp")}
        out["memory"].append({"ddp": est["ddp"].total, "fsdp": est["fsdp"].total,
                              "verdict": fit_verdict(est, c["deviceBytes"])})
    try:
        Schema({"type": "object", "propertyNames": {"pattern": "^a"}})
        out["unsupportedKeyword"] = None
    except ValueError as err:
        out["unsupportedKeyword"] = str(err)
    json.dump(out, sys.stdout, ensure_ascii=False)


if __name__ == "__main__":
    main()
