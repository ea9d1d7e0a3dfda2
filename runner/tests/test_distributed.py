"""DDP on CPU (gloo) with two processes under torchrun: both ranks end with identical parameters,
only rank 0 writes events, and the result matches one process on the same global batch.

torch 1.13 on Python 3.11 (Debian) cannot parse torchrun's default --redirects/--tee (its Std
flag lookup skips 0 on 3.11); `--redirects 1 --tee 1` avoids the broken default here.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

import torch

from slayer_runner.events import parse_event_line
from slayer_runner.safetensors_io import load_file
from tests.test_train import PLAN, SPEC
from tests.tiny_models import expanded_model, torchrun

RUNNER = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DDP_PLAN = PLAN.split("stage sft")[0].replace("steps 30", "steps 6")


def train_args(d: str, out: str) -> list[str]:
    return ["-m", "slayer_runner", "train", "--model", os.path.join(d, "expanded"), "--layer-map",
            os.path.join(d, "layermap.json"), "--output", os.path.join(d, out), "--events",
            os.path.join(d, out, "events.jsonl"), "--device", "cpu"]


class TwoProcesses(unittest.TestCase):
    def test_ddp_ranks_agree_and_match_a_single_process(self) -> None:
        with tempfile.TemporaryDirectory() as d:
            expanded_model(d, DDP_PLAN, SPEC)
            env = {**os.environ, "PYTHONPATH": RUNNER, "OMP_NUM_THREADS": "1"}
            one = subprocess.run([sys.executable, *train_args(d, "one")], cwd=RUNNER, env=env, capture_output=True,
                                 text=True, timeout=300)
            self.assertEqual(one.returncode, 0, one.stderr)
            two = torchrun(2, train_args(d, "two"), on_retry=lambda: shutil.rmtree(os.path.join(d, "two")),
                           cwd=RUNNER, env=env, timeout=300)
            self.assertEqual(two.returncode, 0, two.stdout[-3000:] + two.stderr[-3000:])
            events = [parse_event_line(x) for x in Path(d, "two", "events.jsonl").read_text().splitlines()]
            self.assertEqual([e["seq"] for e in events], list(range(len(events))))
            self.assertEqual([e["step"] for e in events if e["kind"] == "metric"], list(range(1, 7)))
            agree = [e["msg"] for e in events if e["kind"] == "log" and "identical on 2 ranks" in e["msg"]]
            self.assertEqual(len(agree), 1, [e for e in events if e["kind"] == "log"])
            digests = re.search(r"sha256 ([0-9a-f]+), ([0-9a-f]+)", agree[0])
            assert digests is not None
            self.assertEqual(digests.group(1), digests.group(2))
            start = [e["detail"] for e in events if e["kind"] == "phase" and e["state"] == "start"][0]
            self.assertIn("2 process(es)", start)
            a = load_file(os.path.join(d, "one", "model", "model.safetensors"))
            b = load_file(os.path.join(d, "two", "model", "model.safetensors"))
            changed = 0
            for k in a:
                torch.testing.assert_close(a[k], b[k], rtol=1e-4, atol=2e-5, msg=k)
                changed += not torch.equal(a[k], load_file(os.path.join(d, "expanded", "model.safetensors"))[k])
            self.assertGreater(changed, 10)
            la = [json.loads(x)["loss"] for x in Path(d, "one", "metrics.jsonl").read_text().splitlines()]
            lb = [json.loads(x)["loss"] for x in Path(d, "two", "metrics.jsonl").read_text().splitlines()]
            for x, y in zip(la, lb):
                self.assertAlmostEqual(x, y, places=4)


if __name__ == "__main__":
    unittest.main()
