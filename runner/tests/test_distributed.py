"""DDP and FSDP2 on CPU (gloo) with two processes under torchrun, through the runner's command line
as other tools call it (`python -m slayer_runner train --model --layer-map --output --events
--device cpu [--fsdp]`):
- each ends with the parameters one process reaches on the same global batch (float tolerance);
- DDP ranks end identical; FSDP's checkpoints are sharded (each trainable tensor in one chunk per
  rank) and hold only the trainable tensors;
- killed with SIGKILL — the whole job, as when a node is lost — after a periodic checkpoint and
  started again, each run continues exactly: the final parameters and every step's loss equal
  the uninterrupted run's, bit for bit.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest
from pathlib import Path
from typing import Dict, List

import torch
import torch.distributed.checkpoint as dcp

from slayer_runner.events import parse_event_line
from slayer_runner.safetensors_io import load_file
from tests.test_train import PLAN, SPEC
from tests.tiny_models import expanded_model, torchrun, torchrun_command

RUNNER = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
STEPS, EVERY = 12, 4
DIST_PLAN = PLAN.split("stage sft")[0].replace("steps 30", f"steps {STEPS}").replace(
    "precision fp32", f"precision fp32  checkpoint-every {EVERY}")
ENV = {**os.environ, "PYTHONPATH": RUNNER, "OMP_NUM_THREADS": "1"}
MODES = {"ddp": [], "fsdp": ["--fsdp"]}


def train_args(d: str, out: str) -> List[str]:
    return ["-m", "slayer_runner", "train", "--model", os.path.join(d, "expanded"), "--layer-map",
            os.path.join(d, "layermap.json"), "--output", os.path.join(d, out), "--events",
            os.path.join(d, out, "events.jsonl"), "--device", "cpu"]


def losses(d: str, out: str) -> Dict[int, float]:
    rows = [json.loads(x) for x in Path(d, out, "metrics.jsonl").read_text().splitlines()]
    return {r["step"]: r["loss"] for r in rows}  # a step run again after resuming replaces the first


def final_model(d: str, out: str) -> Dict[str, torch.Tensor]:
    return load_file(os.path.join(d, out, "model", "model.safetensors"))


class TwoProcesses(unittest.TestCase):
    @classmethod
    def setUpClass(cls) -> None:
        cls.tmp = tempfile.TemporaryDirectory()
        d = cls.d = cls.tmp.name
        cls.lm, _ = expanded_model(d, DIST_PLAN, SPEC)
        one = subprocess.run([sys.executable, *train_args(d, "one")], cwd=RUNNER, env=ENV, capture_output=True,
                             text=True, timeout=300)
        assert one.returncode == 0, one.stderr
        cls.uninterrupted: Dict[str, str] = {}

    @classmethod
    def tearDownClass(cls) -> None:
        cls.tmp.cleanup()

    def two(self, mode: str) -> str:
        """The output directory of an uninterrupted 2-process run (run once per class)."""
        if mode not in self.uninterrupted:
            out = f"two-{mode}"
            p = torchrun(2, train_args(self.d, out) + MODES[mode], on_retry=lambda: shutil.rmtree(Path(self.d, out)),
                         cwd=RUNNER, env=ENV, timeout=300)
            self.assertEqual(p.returncode, 0, p.stdout[-3000:] + p.stderr[-3000:])
            self.uninterrupted[mode] = out
        return self.uninterrupted[mode]

    def assert_matches_one_process(self, out: str) -> None:
        d = self.d
        events = [parse_event_line(x) for x in Path(d, out, "events.jsonl").read_text().splitlines()]
        self.assertEqual([e["seq"] for e in events], list(range(len(events))))  # rank 0 alone writes
        self.assertEqual([e["step"] for e in events if e["kind"] == "metric"], list(range(1, STEPS + 1)))
        start = [e["detail"] for e in events if e["kind"] == "phase" and e["state"] == "start"][0]
        self.assertIn("2 process(es)", start)
        a, b, base = final_model(d, "one"), final_model(d, out), load_file(os.path.join(d, "expanded", "model.safetensors"))
        self.assertEqual(sorted(a), sorted(b))
        changed = 0
        for k in a:
            torch.testing.assert_close(b[k], a[k], rtol=1e-4, atol=2e-5, msg=k)
            changed += not torch.equal(a[k], base[k])
        self.assertGreater(changed, 10)
        for x, y in zip(losses(d, "one").values(), losses(d, out).values(), strict=True):
            self.assertAlmostEqual(x, y, places=4)

    def checkpoint_metadata(self, out: str) -> dcp.Metadata:
        latest = Path(self.d, out, "checkpoints", "latest").read_text()
        return dcp.FileSystemReader(str(Path(self.d, out, "checkpoints", latest, "tensors"))).read_metadata()

    # -- one process vs two -------------------------------------------------------------------
    def test_ddp_ranks_agree_and_match_a_single_process(self) -> None:
        out = self.two("ddp")
        self.assert_matches_one_process(out)
        events = [parse_event_line(x) for x in Path(self.d, out, "events.jsonl").read_text().splitlines()]
        agree = [e["msg"] for e in events if e["kind"] == "log" and "identical on 2 ranks" in e["msg"]]
        self.assertEqual(len(agree), 1)
        digests = re.search(r"sha256 ([0-9a-f]+), ([0-9a-f]+)", agree[0])
        assert digests is not None
        self.assertEqual(digests.group(1), digests.group(2))

    def test_fsdp_matches_a_single_process_with_sharded_checkpoints(self) -> None:
        out = self.two("fsdp")
        self.assert_matches_one_process(out)
        logs = [parse_event_line(x) for x in Path(self.d, out, "events.jsonl").read_text().splitlines()]
        self.assertTrue(any("FSDP over 2 processes" in e.get("msg", "") for e in logs))
        meta = self.checkpoint_metadata(out).state_dict_metadata
        trainable = {b["index"] for b in self.lm["blocks"] if b["trainable"]}
        frozen = min(set(range(len(self.lm["blocks"]))) - trainable)
        weight = f"model.model.layers.{min(trainable)}.mlp.down_proj.weight"
        self.assertEqual(len(meta[weight].chunks), 2, "one shard per rank")  # type: ignore[union-attr]
        self.assertFalse(any(f"layers.{frozen}." in k for k in meta), "frozen tensors are not checkpointed")
        ddp_meta = self.checkpoint_metadata(self.two("ddp")).state_dict_metadata
        self.assertEqual(len(ddp_meta[weight].chunks), 1, "DDP's replicas are written once")  # type: ignore[union-attr]

    # -- SIGKILL and resume -----------------------------------------------------------------------
    def assert_resumes_exactly_after_sigkill(self, mode: str) -> None:
        d, out = self.d, f"killed-{mode}"
        want = self.two(mode)
        with open(Path(d, f"{out}.log"), "w") as log:
            job = subprocess.Popen(torchrun_command(2, train_args(d, out) + MODES[mode]), cwd=RUNNER, env=ENV,
                                   stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
            latest = Path(d, out, "checkpoints", "latest")
            end = time.monotonic() + 300
            while not (latest.exists() and latest.read_text() >= f"stage0-step{EVERY:08d}"):
                self.assertIsNone(job.poll(), "the run ended before it could be killed")
                self.assertLess(time.monotonic(), end, "no checkpoint in time")
                time.sleep(0.01)
            os.killpg(job.pid, signal.SIGKILL)  # the agent and both workers, like a lost node
            job.wait(timeout=60)
        self.assertLess(len(Path(d, out, "metrics.jsonl").read_text().splitlines()), STEPS)
        again = torchrun(2, train_args(d, out) + MODES[mode], cwd=RUNNER, env=ENV, timeout=300)
        self.assertEqual(again.returncode, 0, again.stdout[-3000:] + again.stderr[-3000:])
        self.assertIn("resuming from", again.stdout)
        got, expected = final_model(d, out), final_model(d, want)
        self.assertEqual(sorted(got), sorted(expected))
        for k in got:
            self.assertTrue(torch.equal(got[k], expected[k]), k)
        self.assertEqual(losses(d, out), losses(d, want))

    def test_ddp_resumes_exactly_after_sigkill(self) -> None:
        self.assert_resumes_exactly_after_sigkill("ddp")

    def test_fsdp_resumes_exactly_after_sigkill(self) -> None:
        self.assert_resumes_exactly_after_sigkill("fsdp")


if __name__ == "__main__":
    unittest.main()
