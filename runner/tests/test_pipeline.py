"""`python -m slayer_runner run --run-dir DIR` end to end on a tiny run directory, as the
extension dispatches it: events valid (Python and TypeScript validators) and ordered, artifacts
present; SIGTERM → done/cancelled and exit 143, and running the directory again resumes to the
end; a failure → an error event with its traceback, done/failed, non-zero exit; under torchrun
(2 processes, gloo) rank 0 alone writes events and all ranks train."""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest
from pathlib import Path
from typing import Any, Dict, List

from slayer_runner.checkpoint import write_config
from slayer_runner.events import parse_event_line
from slayer_runner.tiny import config_json, full_spec
from tests.support import compile_plan_text
from tests.tiny_models import node_validate, torchrun

RUNNER = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# The run's tiny model; the plan compiles against its config.json (written alone, as the shape).
TINY = {"num_layers": 6, "hidden_size": 64, "intermediate_size": 128, "num_heads": 4, "num_kv_heads": 2,
        "vocab_size": 300, "seed": 1}
PLAN = """model ./shape
expand (2+1)x2 | 1 | 1◇
train new, final, head
stage cpt
  data sample
  steps 200
  lr 3e-3 cosine warmup 5%
  batch 4 x 32
  precision fp32  checkpoint-every 3
stage sft
  data qa
  steps 3
  batch 2 x 32
"""


def make_run_dir(root: str, run_id: str, max_steps: int, phases: List[str], datasets: Dict[str, str] | None = None) -> Path:
    Path(root, "shape").mkdir(exist_ok=True)
    write_config(Path(root, "shape"), config_json(full_spec(TINY)))
    qa = Path(root, "qa.jsonl")
    qa.write_text("".join(json.dumps({"prompt": f"Gates at sluice {i}?", "response": " Two."}) + "\n" for i in range(5)))
    lm = compile_plan_text(PLAN, root)
    d = Path(root, run_id)
    d.mkdir()
    (d / "layermap.json").write_text(json.dumps(lm))
    run = {"v": 1, "run_id": run_id, "source_model": None,
           "tiny_model": TINY,
           "phases": phases, "datasets": datasets if datasets is not None else {"qa": str(qa)}, "calibration": None,
           "max_steps": max_steps, "device": "auto", "nproc_per_node": 1, "nnodes": 1, "seed": 0}
    (d / "run.json").write_text(json.dumps(run))
    return d


def start(d: Path) -> subprocess.Popen[str]:
    with open(d / "runner.log", "a") as log:
        return subprocess.Popen([sys.executable, "-m", "slayer_runner", "run", "--run-dir", str(d)], cwd=d,
                                env={**os.environ, "PYTHONPATH": RUNNER, "OMP_NUM_THREADS": "1"},
                                stdout=log, stderr=subprocess.STDOUT, text=True)


def read_events(d: Path) -> List[Dict[str, Any]]:
    events = [parse_event_line(x) for x in (d / "events.jsonl").read_text().splitlines()]
    assert [e["seq"] for e in events] == list(range(len(events))), "seq must be gapless"
    assert all(a["t"] <= b["t"] for a, b in zip(events, events[1:])), "time must not go back"
    return events


def phases(events: List[Dict[str, Any]]) -> List[str]:
    return [f"{e['phase']}:{e['state']}" for e in events if e["kind"] == "phase"]


class WholeRun(unittest.TestCase):
    def test_a_tiny_run_directory_end_to_end(self) -> None:
        with tempfile.TemporaryDirectory() as root:
            d = make_run_dir(root, "r1", 6, ["doctor", "surgery", "importance", "train"])
            p = start(d)
            self.assertEqual(p.wait(timeout=600), 0, (d / "runner.log").read_text()[-3000:])
            events = read_events(d)
            self.assertEqual(node_validate("events", str(d / "events.jsonl")), "")
            self.assertEqual(phases(events), ["doctor:start", "doctor:end", "make-tiny:start", "make-tiny:end",
                                              "surgery:start", "surgery:end", "importance:start", "importance:end",
                                              "train:start", "train:end", "train:start", "train:end"])
            self.assertEqual(events[-1]["kind"], "done")
            self.assertEqual((events[-1]["status"], events[-1]["exit_code"]), ("succeeded", 0))
            metrics = [(e["stage"], e["step"]) for e in events if e["kind"] == "metric"]
            self.assertEqual(metrics, [("cpt", s) for s in range(1, 7)] + [("sft", s) for s in range(1, 4)])
            self.assertEqual([e["metric"] for e in events if e["kind"] == "importance"],
                             ["angular_all", "angular_last", "removal_drop", "insert_copy_drop", "insert_average_drop"])
            arts = {e["name"]: e["path"] for e in events if e["kind"] == "artifact"}
            for name in ("importance", "metrics", "model", "config", "base-model"):
                self.assertTrue((d / arts[name]).exists(), name)
            self.assertEqual(node_validate("importance", str(d / "out" / "importance.json")), "")
            imp = json.loads((d / "out" / "importance.json").read_text())
            self.assertEqual(imp["num_layers"], 6)  # measured on the base model
            cfg = json.loads((d / "out" / "config.json").read_text())
            self.assertEqual(cfg["num_hidden_layers"], 8)
            self.assertTrue((d / "out" / "model" / "model.safetensors").exists())
            self.assertEqual(len((d / "out" / "metrics.jsonl").read_text().splitlines()), 9)


class Cancel(unittest.TestCase):
    def test_sigterm_cancels_with_143_and_the_same_directory_resumes(self) -> None:
        with tempfile.TemporaryDirectory() as root:
            d = make_run_dir(root, "r2", 200, ["surgery", "train"])
            p = start(d)
            metrics = d / "out" / "metrics.jsonl"
            end = time.monotonic() + 300
            while not (metrics.exists() and len(metrics.read_text().splitlines()) >= 4):
                self.assertIsNone(p.poll(), (d / "runner.log").read_text()[-2000:])
                self.assertLess(time.monotonic(), end)
                time.sleep(0.02)
            p.send_signal(signal.SIGTERM)
            self.assertEqual(p.wait(timeout=120), 143)
            events = read_events(d)
            self.assertEqual((events[-1]["kind"], events[-1]["status"], events[-1]["exit_code"]), ("done", "cancelled", 143))
            stopped = max(e["step"] for e in events if e["kind"] == "metric")
            self.assertEqual((d / "out" / "checkpoints" / "latest").read_text(), f"stage0-step{stopped:08d}")
            # run the directory again, capped at a few more steps: it resumes, not restarts
            run = json.loads((d / "run.json").read_text())
            run["max_steps"] = stopped + 2
            (d / "run.json").write_text(json.dumps(run))
            p = start(d)
            self.assertEqual(p.wait(timeout=600), 0, (d / "runner.log").read_text()[-3000:])
            events = read_events(d)
            self.assertEqual((events[-1]["status"], events[-1]["exit_code"]), ("succeeded", 0))
            after = [e["step"] for e in events if e["kind"] == "metric" and e["stage"] == "cpt"]
            self.assertEqual(after[-2:], [stopped + 1, stopped + 2])
            self.assertTrue(any("resuming from" in e.get("msg", "") for e in events))
            self.assertTrue(any("surgery skipped" in e.get("msg", "") for e in events))


class Failure(unittest.TestCase):
    def test_a_failure_reports_the_error_with_traceback_and_exits_non_zero(self) -> None:
        with tempfile.TemporaryDirectory() as root:
            d = make_run_dir(root, "r3", 3, ["surgery", "train"], datasets={"qa": "/nonexistent/qa.jsonl"})
            p = start(d)
            self.assertEqual(p.wait(timeout=600), 1)
            events = read_events(d)
            err = [e for e in events if e["kind"] == "error"]
            self.assertEqual(len(err), 1)
            self.assertIn("/nonexistent/qa.jsonl", err[0]["message"])
            self.assertEqual(err[0]["where"], "train")
            self.assertIn("Traceback", err[0]["traceback"])
            self.assertEqual((events[-1]["kind"], events[-1]["status"], events[-1]["exit_code"]), ("done", "failed", 1))

    def test_an_unreadable_layer_map_still_ends_with_done_failed(self) -> None:
        with tempfile.TemporaryDirectory() as root:
            d = make_run_dir(root, "r4", 3, ["surgery"])
            (d / "layermap.json").write_text("{not json")
            p = start(d)
            self.assertEqual(p.wait(timeout=120), 1)
            events = read_events(d)
            self.assertEqual([e["kind"] for e in events], ["error", "done"])
            self.assertIn("layermap.json", events[0]["message"])


class UnderTorchrun(unittest.TestCase):
    def test_two_processes_rank0_writes_the_events_and_both_train(self) -> None:
        with tempfile.TemporaryDirectory() as root:
            d = make_run_dir(root, "r5", 3, ["doctor", "surgery", "train"])
            run = json.loads((d / "run.json").read_text())
            run["nproc_per_node"] = 2
            (d / "run.json").write_text(json.dumps(run))
            def clean() -> None:
                shutil.rmtree(d / "out")
                (d / "events.jsonl").unlink()

            p = torchrun(2, ["-m", "slayer_runner", "run", "--run-dir", str(d)], on_retry=clean, cwd=d, timeout=600,
                         env={**os.environ, "PYTHONPATH": RUNNER, "OMP_NUM_THREADS": "1"})
            self.assertEqual(p.returncode, 0, p.stdout[-3000:] + p.stderr[-3000:])
            events = read_events(d)
            self.assertEqual(sum(e["kind"] == "done" for e in events), 1)
            self.assertEqual(phases(events).count("surgery:start"), 1)
            self.assertEqual([e["step"] for e in events if e["kind"] == "metric"], [1, 2, 3, 1, 2, 3])
            self.assertTrue(any("identical on 2 ranks" in e.get("msg", "") for e in events))
            self.assertIn("2 process(es)", events[0]["msg"])


if __name__ == "__main__":
    unittest.main()
