"""Training: the trainable set is exactly the plan's (count checked against the plan core's
accounting; frozen tensors stay bit-identical), the loss falls on the bundled text, CPT then SFT
in order with max_steps as a cap, the lr schedule, gradient accumulation equals one big batch,
and the saved model is a loadable checkpoint holding the trained weights."""
from __future__ import annotations

import copy
import json
import math
import os
import tempfile
import unittest
from pathlib import Path

import torch

from slayer_runner import model as M
from slayer_runner.events import EventWriter, parse_event_line
from slayer_runner.train import TrainError, TrainOptions, lr_factor, micro_batch, stage_steps, train
from tests.support import compile_plan_text
from tests.tiny_models import expanded_model

SPEC = {"num_layers": 7, "hidden_size": 64, "intermediate_size": 128, "num_heads": 4, "num_kv_heads": 2,
        "vocab_size": 300, "seed": 3}
PLAN = """model ./base
expand (2+1)x2 | 1 | 1◇
train new, final, head
stage cpt
  data sample
  steps 30
  lr 3e-3 cosine warmup 10%
  batch 4 x 32
  precision fp32
stage sft
  data sft.jsonl
  steps 4
  lr 1e-3
  batch 2 x 32
"""


def write_sft(directory: str) -> str:
    p = os.path.join(directory, "sft.jsonl")
    with open(p, "w", encoding="utf-8") as f:
        for i in range(6):
            f.write(json.dumps({"prompt": f"How many days at the ford, {i}?", "response": f" {i + 2} days."}) + "\n")
    return p


class TrainTiny(unittest.TestCase):
    @classmethod
    def setUpClass(cls) -> None:
        cls.tmp = tempfile.TemporaryDirectory()
        d = cls.tmp.name
        cls.lm, cls.expanded = expanded_model(d, PLAN, SPEC)
        write_sft(d)
        ev = EventWriter(os.path.join(d, "events.jsonl"), "t")
        cls.summary = train(TrainOptions(cls.expanded, cls.lm, os.path.join(d, "out"), data_base_dir=d), ev)
        ev.close()
        cls.events = [parse_event_line(x) for x in Path(d, "events.jsonl").read_text().splitlines()]

    @classmethod
    def tearDownClass(cls) -> None:
        cls.tmp.cleanup()

    def test_trainable_count_equals_the_plan_and_only_it_changed(self) -> None:
        self.assertEqual(self.summary["trainable"], self.lm["params"]["trainable"])
        self.assertEqual(self.summary["total"], self.lm["params"]["total"])
        before = M.load_pretrained(self.expanded).state_dict()
        after = M.load_pretrained(os.path.join(self.tmp.name, "out", "model")).state_dict()
        trainable = {b["index"] for b in self.lm["blocks"] if b["trainable"]}
        self.assertEqual(trainable, {2, 5, 7})
        for name, t in before.items():
            block = int(name.split(".")[2]) if name.startswith("model.layers.") else None
            if block in trainable or name == "lm_head.weight":
                if name.endswith("proj.weight"):
                    self.assertFalse(torch.equal(t, after[name]), name)
            else:
                self.assertTrue(torch.equal(t, after[name]), name)
        logs = [e["msg"] for e in self.events if e["kind"] == "log"]
        self.assertTrue(any(f"{self.summary['trainable']:,} of" in m and "accounting" in m for m in logs))

    def test_loss_falls_and_stages_run_in_order_with_metric_events(self) -> None:
        metrics = [e for e in self.events if e["kind"] == "metric"]
        self.assertEqual([m["stage"] for m in metrics], ["cpt"] * 30 + ["sft"] * 4)
        self.assertEqual([m["step"] for m in metrics[:30]], list(range(1, 31)))
        cpt = [m["loss"] for m in metrics[:30]]
        self.assertLess(sum(cpt[-5:]) / 5, sum(cpt[:5]) / 5 - 0.3)
        self.assertEqual(metrics[29]["tokens"], 30 * 4 * 32)
        self.assertTrue(all(m["grad_norm"] > 0 and m["tokens_per_s"] > 0 and m["gpu_mem"] is None for m in metrics))
        phases = [(e["phase"], e["state"]) for e in self.events if e["kind"] == "phase"]
        self.assertEqual(phases, [("train", "start"), ("train", "end")] * 2)
        lines = Path(self.tmp.name, "out", "metrics.jsonl").read_text().splitlines()
        self.assertEqual(len(lines), 34)

    def test_lr_follows_warmup_then_cosine(self) -> None:
        metrics = [e for e in self.events if e["kind"] == "metric" and e["stage"] == "cpt"]
        lrs = [m["lr"] for m in metrics]
        self.assertAlmostEqual(lrs[0], 3e-3 / 3)  # warm-up of ceil(10% of 30) = 3 steps
        self.assertAlmostEqual(lrs[2], 3e-3)
        self.assertAlmostEqual(lrs[3], 3e-3)
        self.assertTrue(all(a >= b for a, b in zip(lrs[3:], lrs[4:])))
        self.assertAlmostEqual(lr_factor(99, 100, 0.0, "cosine"), 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * 0.99)))
        self.assertEqual(lr_factor(5, 10, 0.0, "constant"), 1.0)
        self.assertAlmostEqual(lr_factor(10, 10, 0.0, "linear"), 0.1)


class Budget(unittest.TestCase):
    def test_steps_from_steps_tokens_or_epochs_capped_by_max_steps(self) -> None:
        st = {"batchSequences": 4, "seqLen": 32, "steps": None, "tokens": None, "epochs": 2}
        self.assertEqual(stage_steps(st, 1280, None), 20)
        self.assertEqual(stage_steps({**st, "tokens": 1281, "epochs": 1}, 0, None), 11)
        self.assertEqual(stage_steps({**st, "steps": 50}, 0, 7), 7)
        self.assertEqual(micro_batch(12, 64, 256), 4)
        self.assertEqual(micro_batch(7, 64, 256), 1)


class Accumulation(unittest.TestCase):
    def test_micro_batches_accumulate_to_the_global_batch(self) -> None:
        with tempfile.TemporaryDirectory() as d:
            plan = PLAN.split("stage sft")[0].replace("steps 30", "steps 3").replace("batch 4 x 32", "batch 8 x 32")
            lm, expanded = expanded_model(d, plan, SPEC)
            whole = train(TrainOptions(expanded, lm, os.path.join(d, "a"), micro_batch_tokens=8 * 32, save_model=False))
            parts = train(TrainOptions(expanded, lm, os.path.join(d, "b"), micro_batch_tokens=2 * 32, save_model=False))
            a = [json.loads(x) for x in Path(d, "a", "metrics.jsonl").read_text().splitlines()]
            b = [json.loads(x) for x in Path(d, "b", "metrics.jsonl").read_text().splitlines()]
            for x, y in zip(a, b):
                self.assertAlmostEqual(x["loss"], y["loss"], places=5)
                self.assertAlmostEqual(x["grad_norm"], y["grad_norm"], places=5)
            self.assertNotEqual(whole["digest"], "")
            self.assertEqual(len(a), 3)


class ActivationCheckpointing(unittest.TestCase):
    def test_recomputing_block_activations_gives_the_same_training(self) -> None:
        with tempfile.TemporaryDirectory() as d:
            plan = PLAN.split("stage sft")[0].replace("steps 30", "steps 3")
            lm, expanded = expanded_model(d, plan, SPEC)
            plain = train(TrainOptions(expanded, lm, os.path.join(d, "a"), save_model=False, activation_checkpointing=False))
            ckpt = train(TrainOptions(expanded, lm, os.path.join(d, "b"), save_model=False, activation_checkpointing=True))
            a = [json.loads(x) for x in Path(d, "a", "metrics.jsonl").read_text().splitlines()]
            b = [json.loads(x) for x in Path(d, "b", "metrics.jsonl").read_text().splitlines()]
            self.assertEqual([x["loss"] for x in a], [x["loss"] for x in b])
            self.assertEqual(plain["digest"], ckpt["digest"])  # the recomputation is the same arithmetic


class Refusals(unittest.TestCase):
    def test_a_plan_whose_accounting_disagrees_is_refused(self) -> None:
        with tempfile.TemporaryDirectory() as d:
            lm, expanded = expanded_model(d, PLAN.split("stage sft")[0], SPEC)
            bad = copy.deepcopy(lm)
            bad["params"]["trainable"] += 1
            with self.assertRaisesRegex(TrainError, "plan's accounting"):
                train(TrainOptions(expanded, bad, os.path.join(d, "out")))
            bad = copy.deepcopy(lm)
            bad["blocks"] = bad["blocks"][:-1]
            with self.assertRaisesRegex(TrainError, "blocks"):
                train(TrainOptions(expanded, bad, os.path.join(d, "out")))

    def test_a_checkpoint_of_another_trainable_set_is_refused(self) -> None:
        with tempfile.TemporaryDirectory() as d:
            plan = PLAN.split("stage sft")[0].replace("steps 30", "steps 2")
            lm, expanded = expanded_model(d, plan, SPEC)
            out = os.path.join(d, "out")
            train(TrainOptions(expanded, lm, out, save_model=False))
            other = compile_plan_text(plan.replace("train new, final, head", "train new, final"), d)
            with self.assertRaisesRegex(TrainError, "another trainable set"):
                train(TrainOptions(expanded, other, out, save_model=False))


if __name__ == "__main__":
    unittest.main()
