"""doctor as a real process: the report, a plan that fits (exit 0), device=cuda without CUDA, a plan
too large for memory and disk, bad inputs (exit 1); the memory rule; and the command table."""
from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path
from typing import Any
from unittest import mock

import torch

from slayer_runner import __main__ as entry
from tests.support import ROOT, block, layer_map, tiny

ENV = {**os.environ, "PYTHONPATH": str(ROOT / "runner")}


def run_config(**over: Any) -> dict[str, Any]:
    return {"v": 1, "run_id": "r1", "source_model": None,
            "tiny_model": {"num_layers": 4, "hidden_size": 64, "intermediate_size": 96, "num_heads": 4,
                           "num_kv_heads": 2, "vocab_size": 256, "seed": 0},
            "phases": ["doctor", "surgery", "train"], "datasets": {}, "calibration": None, "max_steps": 2,
            "device": "cpu", "nproc_per_node": 1, "nnodes": 1, "seed": 0, **over}


def doctor(*args: str) -> subprocess.CompletedProcess[str]:
    """A real doctor process (slow: imports torch)."""
    return subprocess.run([sys.executable, "-m", "slayer_runner", "doctor", *args], env=ENV, capture_output=True,
                          text=True, timeout=120)


def doctor_here(*args: str) -> subprocess.CompletedProcess[str]:
    """The same command line through the same entry point, in this process (fast)."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        code = entry.main(["doctor", *args])
    return subprocess.CompletedProcess(["doctor", *args], code, out.getvalue(), "")


class Doctor(unittest.TestCase):
    @classmethod
    def setUpClass(cls) -> None:
        cls.tmp = tempfile.TemporaryDirectory()
        d = Path(cls.tmp.name)
        cls.model = tiny(d / "model", num_layers=4)
        lm = layer_map(cls.model, [block(0, "kept", "kept", [(0, 1)]), block(1, "new", "copy", [(0, 1)])] +
                       [block(i + 1, "kept", "kept", [(i, 1)]) for i in range(1, 4)])
        lm["params"].update({"total": 1_000_000, "trainable": 100_000})
        cls.lm = lm

    @classmethod
    def tearDownClass(cls) -> None:
        cls.tmp.cleanup()

    def run_dir(self, name: str, lm: dict[str, Any], cfg: dict[str, Any]) -> Path:
        d = Path(self.tmp.name) / name
        (d / "out").mkdir(parents=True)
        (d / "layermap.json").write_text(json.dumps(lm))
        (d / "run.json").write_text(json.dumps(cfg))
        return d

    def test_a_plan_that_fits(self) -> None:
        r = doctor("--run-dir", str(self.run_dir("ok", self.lm, run_config())))
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        import transformers
        for word in ("python", "torch", torch.__version__, "cuda", "ram", "disk", "libraries", "safetensors",
                     "transformers", "tokenizers", "datasets", "doctor: ok", f"transformers   {transformers.__version__}",
                     "flash-attn", "backend        transformers AutoModelForCausalLM, attention sdpa"):
            self.assertIn(word, r.stdout)

    def test_backend_and_attention_choices_are_judged(self) -> None:
        r = doctor_here("--run-dir", str(self.run_dir("builtin", self.lm, run_config(backend="builtin"))), "--json")
        facts = json.loads(r.stdout)
        self.assertEqual((r.returncode, facts["backend"], facts["attention"]), (0, "builtin", "sdpa"))
        if not torch.cuda.is_available():
            r = doctor_here("--run-dir", str(self.run_dir("fa2", self.lm, run_config(attn_implementation="flash_attention_2"))))
            self.assertEqual(r.returncode, 1)
            self.assertIn("PROBLEM: run.json's backend auto / attn_implementation flash_attention_2: "
                          "flash_attention_2 needs a CUDA device and the flash_attn package", r.stdout)
        src = Path(self.tmp.name) / "qwen3"
        src.mkdir()
        (src / "config.json").write_text(json.dumps({"model_type": "qwen3"}))
        r = doctor_here("--run-dir", str(self.run_dir("qwen3", self.lm, run_config(
            backend="builtin", tiny_model=None, source_model=str(src)))))
        self.assertEqual(r.returncode, 1)
        self.assertIn("PROBLEM: the model is qwen3, which only the transformers backend computes", r.stdout)

    def test_without_transformers_the_in_house_model_is_used_and_a_transformers_choice_refused(self) -> None:
        code = ("import runpy, sys\n"
                "sys.modules['transformers'] = None  # this interpreter cannot import transformers\n"
                "sys.argv = ['slayer_runner', 'doctor', '--run-dir', sys.argv[1]]\n"
                "runpy.run_module('slayer_runner', run_name='__main__')\n")
        for name, backend, code_want, line in (
                ("no-tf-auto", "auto", 0, "backend        in-house model (Llama, Mistral, Qwen2), attention sdpa"),
                ("no-tf-asked", "transformers", 1, "PROBLEM: run.json's backend transformers / attn_implementation "
                                                   "auto: backend transformers asked for, but transformers is not importable here")):
            d = self.run_dir(name, self.lm, run_config(backend=backend))
            r = subprocess.run([sys.executable, "-c", code, str(d)], env=ENV, capture_output=True, text=True, timeout=120)
            self.assertEqual(r.returncode, code_want, r.stdout + r.stderr)
            self.assertIn("transformers   not installed", r.stdout)
            self.assertIn(line, r.stdout)

    def test_cuda_asked_without_cuda(self) -> None:
        if torch.cuda.is_available():
            self.skipTest("this host has CUDA")
        r = doctor("--run-dir", str(self.run_dir("cuda", self.lm, run_config(device="cuda"))))
        self.assertEqual(r.returncode, 1)
        self.assertIn("PROBLEM: run.json asks for device=cuda but this host has no usable CUDA device", r.stdout)

    def test_a_python_without_torch_gets_a_clear_answer(self) -> None:
        code = ("import runpy, sys\n"
                "sys.modules['torch'] = None  # this interpreter cannot import torch\n"
                "sys.argv = ['slayer_runner', 'doctor', '--output-path', sys.argv[1]]\n"
                "runpy.run_module('slayer_runner', run_name='__main__')\n")
        r = subprocess.run([sys.executable, "-c", code, self.tmp.name], env=ENV, capture_output=True, text=True)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("PROBLEM: PyTorch is not importable with this Python", r.stdout)
        self.assertNotIn("Traceback", r.stderr)

    def test_a_torch_below_the_floor_is_refused_with_a_clear_answer(self) -> None:
        # This venv's torch is current; an old one is simulated by its version string alone.
        code = ("import runpy, sys, torch\n"
                "torch.__version__ = '1.13.1+cpu'\n"
                "sys.argv = ['slayer_runner', 'doctor', '--output-path', sys.argv[1]]\n"
                "runpy.run_module('slayer_runner', run_name='__main__')\n")
        r = subprocess.run([sys.executable, "-c", code, self.tmp.name], env=ENV, capture_output=True, text=True)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("PROBLEM: torch 1.13.1+cpu is older than the runner supports (torch >= 2.1)", r.stdout)
        self.assertNotIn("Traceback", r.stderr)

    def test_torch_versions_are_compared_by_major_and_minor(self) -> None:
        from slayer_runner.doctor import TORCH_FLOOR, torch_version_tuple
        self.assertEqual(torch_version_tuple("2.13.0+cpu"), (2, 13))
        self.assertEqual(torch_version_tuple("2.1.0a0+git1234"), (2, 1))
        self.assertLess(torch_version_tuple("1.13.1"), TORCH_FLOOR)
        self.assertGreaterEqual(torch_version_tuple("2.1.2"), TORCH_FLOOR)
        self.assertLess(torch_version_tuple("2.0.1"), TORCH_FLOOR)

    def test_too_large_for_memory_and_disk(self) -> None:
        lm = json.loads(json.dumps(self.lm))
        lm["params"].update({"total": 10**13, "trainable": 10**12})
        r = doctor_here("--run-dir", str(self.run_dir("huge", lm, run_config())))
        self.assertEqual(r.returncode, 1)
        self.assertIn("of memory on CPU but only", r.stdout)
        self.assertIn("the output checkpoint needs", r.stdout)

    def test_memory_rule_in_json(self) -> None:
        path = Path(self.tmp.name) / "lm.json"
        path.write_text(json.dumps(self.lm))
        r = doctor_here("--layer-map", str(path), "--output-path", str(Path(self.tmp.name) / "nowhere" / "yet"), "--json")
        self.assertEqual(r.returncode, 0, r.stdout)
        report = json.loads(r.stdout)
        self.assertEqual(report["memory_needed"], 16 * 100_000 + 2 * 900_000)
        self.assertEqual(report["checkpoint_bytes"], 1_000_000 * 4)  # float32 tiny model
        self.assertEqual(report["problems"], [])

    def test_bad_inputs(self) -> None:
        r = doctor_here("--run-dir", str(self.run_dir("badlm", {**self.lm, "version": 9}, run_config())))
        self.assertEqual(r.returncode, 1)
        self.assertIn("unsupported LayerMap version 9", r.stdout)
        cfg = run_config(source_model="/no/such/model", tiny_model=None)
        r = doctor_here("--run-dir", str(self.run_dir("nosrc", self.lm, cfg)))
        self.assertEqual(r.returncode, 1)
        self.assertIn("source model /no/such/model is not a directory on this host", r.stdout)
        cfg = run_config(source_model=str(self.model), tiny_model=None)
        self.assertEqual(doctor_here("--run-dir", str(self.run_dir("src", self.lm, cfg))).returncode, 0)


class FitRule(unittest.TestCase):
    """The judgement on GPU hosts, from the same function with the GPUs a CUDA host would report."""

    def judge(self, total: int, trainable: int, gpus: int, gpu_bytes: int, world: int) -> Any:
        from slayer_runner.doctor import Report, _judge_fit
        lm = {"params": {"total": total, "trainable": trainable}, "plan": {"expand": "x"},
              "result": {"dtype": "bfloat16"}}
        devices = [{"index": i, "name": "GPU", "total": gpu_bytes, "free": None} for i in range(gpus)]
        r = Report()
        _judge_fit(r, lm, devices, world, None, 10**15)
        return r

    def test_slayer_8b_on_a100s(self) -> None:
        # SLayer-8B with the head trained (Table 4): 7,952,715,776 total, 1,952,522,240 trainable
        need = 16 * 1_952_522_240 + 2 * (7_952_715_776 - 1_952_522_240)
        r = self.judge(7_952_715_776, 1_952_522_240, 8, 80 * 10**9, 8)
        self.assertEqual(r.facts["memory_needed"], need)
        self.assertEqual(r.problems, [])
        self.assertTrue(any("one GPU holds it" in ln for ln in r.lines))
        r = self.judge(7_952_715_776, 1_952_522_240, 8, 24 * 10**9, 8)
        self.assertEqual(r.problems, [])
        self.assertIn("the model does not fit one GPU: training shards it with FSDP", r.notes)
        r = self.judge(7_952_715_776, 1_952_522_240, 1, 24 * 10**9, 1)
        self.assertEqual(len(r.problems), 1)
        self.assertIn("use more GPUs, or train fewer blocks", r.problems[0])
        self.assertEqual(r.facts["checkpoint_bytes"], 2 * 7_952_715_776)


class CommandTable(unittest.TestCase):
    def call(self, argv: list[str]) -> tuple[int, str]:
        err = io.StringIO()
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            code = entry.main(argv)
        return code, err.getvalue()

    def test_unknown_and_missing_commands(self) -> None:
        code, err = self.call(["frobnicate"])
        self.assertEqual(code, 2)
        self.assertIn("unknown command 'frobnicate'", err)
        with mock.patch.dict(entry.COMMANDS, {"ghost": ("no_such_module", "a command whose module is absent")}):
            code, err = self.call(["ghost"])
        self.assertEqual(code, 2)
        self.assertIn("module slayer_runner/no_such_module.py is missing", err)

    def test_every_command_of_ours_has_a_main(self) -> None:
        import importlib
        for name in ("surgery", "make-tiny", "doctor", "inspect"):
            module = importlib.import_module(f"slayer_runner.{entry.COMMANDS[name][0]}")
            self.assertTrue(callable(module.main), name)

    def test_inspect_lists_a_checkpoint(self) -> None:
        with tempfile.TemporaryDirectory() as d:
            src = tiny(Path(d) / "m", num_layers=4, shards=2)
            r = subprocess.run([sys.executable, "-m", "slayer_runner", "inspect", str(src), "--json"], env=ENV,
                               capture_output=True, text=True)
            self.assertEqual(r.returncode, 0, r.stderr)
            info = json.loads(r.stdout)
            self.assertEqual(info["blocks"], 4)
            self.assertEqual({t["file"] for t in info["tensors"]},
                             {"model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"})


if __name__ == "__main__":
    unittest.main()
