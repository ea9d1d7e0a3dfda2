"""The identity proof (issue 5, item 3), through the runner's own model: a checkpoint expanded by
`surgery` with zeroed output projections gives the base model's logits, for copy and average
inits, with grouped-query attention, with q/k/v biases and tied embeddings (Qwen2), from sharded
and single-file checkpoints. Without zeroing it does not (the check can fail), and the new
blocks' other tensors are exactly the copy / the float32 mean of the neighbours."""
from __future__ import annotations

import os
import tempfile
import unittest

import torch

from slayer_runner.model import load_pretrained
from slayer_runner.surgery import apply_layer_map
from slayer_runner.tiny import make_tiny
from tests.support import compile_plan_text
from tests.tiny_models import random_ids

CASES = {
    "llama-gqa": {"num_layers": 6, "hidden_size": 64, "intermediate_size": 128, "num_heads": 4, "num_kv_heads": 2,
                  "vocab_size": 300, "seed": 7},
    "qwen2-bias-tied-sharded": {"num_layers": 5, "hidden_size": 64, "intermediate_size": 96, "num_heads": 8,
                                "num_kv_heads": 2, "vocab_size": 320, "seed": 8, "qkv_bias": True,
                                "tie_embeddings": True, "shards": 3},
}


def expand(root: str, spec: dict, init: str, zero: str = "o_proj, down_proj") -> tuple[dict, str, str]:
    base = os.path.join(root, "base")
    if not os.path.exists(base):
        make_tiny(spec, base)
    n = spec["num_layers"]
    lm = compile_plan_text(f"model ./base\nexpand (1+1) | (2+1) | {n - 3}\ninit {init}\nzero {zero}\n", root)
    out = os.path.join(root, f"out-{init}-{zero.replace(', ', '-')}")
    apply_layer_map(lm, base, out)
    return lm, base, out


class Identity(unittest.TestCase):
    def test_zeroed_output_projections_keep_the_base_logits(self) -> None:
        for case, spec in CASES.items():
            with tempfile.TemporaryDirectory() as root:
                for init in ("copy", "average"):
                    with self.subTest(case=case, init=init):
                        lm, base_dir, out = expand(root, spec, init)
                        self.assertEqual([b["init"] for b in lm["blocks"] if b["role"] == "new"], [init, init])
                        base, grown = load_pretrained(base_dir).eval(), load_pretrained(out).eval()
                        self.assertEqual(len(grown.blocks), spec["num_layers"] + 2)
                        ids = random_ids(3, 24, spec["vocab_size"], seed=2)
                        with torch.no_grad():
                            want, got = base(ids), grown(ids)
                        torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-5)
                        self.assertGreater(float(want.std()), 1e-3)

    def test_without_zeroing_the_logits_change_and_new_tensors_are_copy_or_mean(self) -> None:
        spec = CASES["qwen2-bias-tied-sharded"]
        with tempfile.TemporaryDirectory() as root:
            for init in ("copy", "average"):
                lm, base_dir, out = expand(root, spec, init, zero="none")
                base, grown = load_pretrained(base_dir).eval(), load_pretrained(out).eval()
                ids = random_ids(2, 16, spec["vocab_size"], seed=3)
                with torch.no_grad():
                    self.assertGreater(float((grown(ids) - base(ids)).abs().max()), 1e-4)
                new = [b for b in lm["blocks"] if b["role"] == "new"]
                for b in new:
                    layers = [s["layer"] for s in b["sources"]]
                    self.assertEqual(len(layers), 1 if init == "copy" else 2)
                    for (name, p), *srcs in zip(grown.blocks[b["index"]].named_parameters(),
                                                *[base.blocks[i].parameters() for i in layers]):
                        want = sum(s.float() for s in srcs) / len(srcs)
                        torch.testing.assert_close(p, want.to(p.dtype), rtol=0, atol=0, msg=f"{init} {name}")


if __name__ == "__main__":
    unittest.main()
