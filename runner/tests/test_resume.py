"""Exact resume: a run killed (SIGKILL, after a periodic checkpoint) or cancelled (SIGTERM: it
saves a checkpoint and exits 143), then restarted, ends with bit-identical weights and the same
per-step losses as the run that was never interrupted — across the CPT → SFT stage boundary."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import unittest
from pathlib import Path

import torch

from slayer_runner.safetensors_io import load_file
from tests.test_train import PLAN, SPEC, write_sft
from tests.tiny_models import expanded_model

RUNNER = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RESUME_PLAN = PLAN.replace("steps 30", "steps 20").replace("precision fp32", "precision fp32  checkpoint-every 4")
CPT_STEPS, ALL_STEPS = 20, 24


def start(d: str, out: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "slayer_runner", "train", "--model", os.path.join(d, "expanded"), "--layer-map",
         os.path.join(d, "layermap.json"), "--output", os.path.join(d, out), "--events", os.path.join(d, out, "events.jsonl"),
         "--data", f"sft.jsonl={os.path.join(d, 'sft.jsonl')}"],
        cwd=RUNNER, env={**os.environ, "PYTHONPATH": RUNNER}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def steps_done(d: str, out: str) -> int:
    p = Path(d, out, "metrics.jsonl")
    return len(p.read_text().splitlines()) if p.exists() else 0


def wait_until(d: str, out: str, pred: "callable", proc: subprocess.Popen[str], timeout: float = 120) -> None:
    end = time.monotonic() + timeout
    while not pred():
        if proc.poll() is not None:
            raise AssertionError(f"the run ended before it could be interrupted: {proc.stdout.read() if proc.stdout else ''}")
        if time.monotonic() > end:
            raise AssertionError("timed out")
        time.sleep(0.01)


def losses(d: str, out: str) -> dict[tuple[str, int], float]:
    rows = [json.loads(x) for x in Path(d, out, "metrics.jsonl").read_text().splitlines()]
    return {(r["stage"], r["step"]): r["loss"] for r in rows}  # a resumed step replaces the earlier one


class Resume(unittest.TestCase):
    @classmethod
    def setUpClass(cls) -> None:
        cls.tmp = tempfile.TemporaryDirectory()
        d = cls.tmp.name
        expanded_model(d, RESUME_PLAN, SPEC)
        write_sft(d)
        p = start(d, "straight")
        out, _ = p.communicate(timeout=300)
        assert p.returncode == 0, out
        cls.want = load_file(os.path.join(d, "straight", "model", "model.safetensors"))
        cls.want_losses = losses(d, "straight")

    @classmethod
    def tearDownClass(cls) -> None:
        cls.tmp.cleanup()

    def assert_same_as_straight(self, out: str) -> None:
        got = load_file(os.path.join(self.tmp.name, out, "model", "model.safetensors"))
        self.assertEqual(sorted(got), sorted(self.want))
        for k in got:
            self.assertTrue(torch.equal(got[k], self.want[k]), k)
        self.assertEqual(losses(self.tmp.name, out), self.want_losses)
        self.assertEqual(len(self.want_losses), ALL_STEPS)

    def test_killed_run_resumes_from_its_last_periodic_checkpoint(self) -> None:
        d = self.tmp.name
        p = start(d, "killed")
        latest = Path(d, "killed", "checkpoints", "latest")
        wait_until(d, "killed", lambda: latest.exists() and latest.read_text() >= "stage0-step00000008", p)
        p.send_signal(signal.SIGKILL)
        p.communicate(timeout=60)
        killed_at = steps_done(d, "killed")
        self.assertLess(killed_at, ALL_STEPS)
        p = start(d, "killed")
        out, _ = p.communicate(timeout=300)
        self.assertEqual(p.returncode, 0, out)
        self.assertIn("resuming from", out)
        self.assert_same_as_straight("killed")

    def test_cancelled_run_saves_a_checkpoint_exits_143_and_resumes(self) -> None:
        d = self.tmp.name
        p = start(d, "cancelled")
        wait_until(d, "cancelled", lambda: steps_done(d, "cancelled") >= 5, p)
        p.send_signal(signal.SIGTERM)
        out, _ = p.communicate(timeout=60)
        self.assertEqual(p.returncode, 143, out)
        at = steps_done(d, "cancelled")
        latest = Path(d, "cancelled", "checkpoints", "latest").read_text()
        self.assertEqual(latest, f"stage0-step{at:08d}" if at <= CPT_STEPS else f"stage1-step{at - CPT_STEPS:08d}")
        p = start(d, "cancelled")
        out, _ = p.communicate(timeout=300)
        self.assertEqual(p.returncode, 0, out)
        self.assert_same_as_straight("cancelled")


if __name__ == "__main__":
    unittest.main()
