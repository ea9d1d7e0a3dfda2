"""run.json through the runner's validator: the shared cases of contracts/fixtures/run-config/ (the
same ones test/contracts/ runs through both languages), and a pipeline refusing a bad run.json
with an error event before any phase."""
from __future__ import annotations

import copy
import json
import tempfile
import unittest
from pathlib import Path
from typing import Any

from slayer_runner.events import parse_event_line
from slayer_runner.pipeline import main as run_main
from slayer_runner.run_config import PHASES, RunConfigError, validate_run_config
from tests.support import ROOT

CASES = ROOT / "contracts" / "fixtures" / "run-config"


def materialize(case: dict[str, Any]) -> Any:
    if "from" not in case:
        return case["value"]
    value = json.loads((CASES / case["from"]).read_text(encoding="utf-8"))
    for path, v in case.get("set", []):
        o = value
        for k in path[:-1]:
            o = o[k]
        o[path[-1]] = v
    for path in case.get("delete", []):
        o = value
        for k in path[:-1]:
            o = o[k]
        del o[path[-1]]
    return value


class RunConfigs(unittest.TestCase):
    def test_shared_cases(self) -> None:
        cases = json.loads((CASES / "cases.json").read_text(encoding="utf-8"))
        for case in cases:
            with self.subTest(case["name"]):
                value = materialize(case)
                if case["error"] is None:
                    self.assertIs(validate_run_config(value), value)
                else:
                    with self.assertRaises(RunConfigError) as cm:
                        validate_run_config(value)
                    self.assertEqual(str(cm.exception), case["error"])

    def test_phases_in_run_order(self) -> None:
        self.assertEqual(PHASES, ("doctor", "surgery", "importance", "train", "eval"))

    def test_a_bad_run_json_ends_the_run_with_an_error_event(self) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            d = Path(tmp)
            run = materialize({"from": "valid-tiny.json"})
            bad = copy.deepcopy(run)
            del bad["tiny_model"]["seed"]
            (d / "run.json").write_text(json.dumps(bad))
            self.assertEqual(run_main(["--run-dir", str(d)]), 1)
            events = [parse_event_line(ln) for ln in (d / "events.jsonl").read_text().splitlines()]
            self.assertEqual([e["kind"] for e in events], ["error", "done"])
            self.assertIn('bad or missing "tiny_model.seed"', events[0]["message"])
            self.assertEqual(events[0]["where"], "setup")
