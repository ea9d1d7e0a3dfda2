"""Every supported family end to end, on tiny models made by transformers itself
(`AutoConfig.for_model`, `from_config`, `save_pretrained`): a plan compiled by the real
`slayer compile`, the real surgery, then

- the expanded checkpoint, loaded by transformers, gives the base model's logits (new blocks with
  zeroed output projections are the identity), with per-layer lists resized;
- training through the transformers backend: trainable count equal to the plan core's, exactly
  the trainable blocks change, and transformers loads the result;
- Llama: 20 steps with the transformers backend and with the in-house model give the same loss
  curve; the trained checkpoint loads in transformers and its held-out loss equals what the runner
  reports for it.
"""
from __future__ import annotations

import json
import os
import tempfile
import unittest
from typing import Any

import torch
import transformers
from transformers import AutoConfig, AutoModelForCausalLM

from slayer_runner import importance
from slayer_runner.data import calibration_batch, load_tokenizer
from slayer_runner.surgery import apply_layer_map
from slayer_runner.train import TrainOptions, train
from tests.support import compile_plan_text
from tests.tiny_models import random_ids

transformers.utils.logging.disable_progress_bar()
transformers.utils.logging.set_verbosity_error()

VOCAB = 300  # ≥ 256: the runner's byte-level tokenizer reads the training text
SIZES = {"vocab_size": VOCAB, "hidden_size": 32, "intermediate_size": 48, "num_hidden_layers": 4,
         "num_attention_heads": 4, "num_key_value_heads": 2, "head_dim": 8, "max_position_embeddings": 128,
         "pad_token_id": 0, "bos_token_id": 256, "eos_token_id": 257}
# Small windows so the sliding layers really slide over the 24-token sequences.
FAMILIES: dict[str, dict[str, Any]] = {
    "llama": {},
    "mistral": {"sliding_window": 8},
    "qwen2": {},
    "qwen3": {},
    "gemma2": {"sliding_window": 8},
    "gemma3_text": {"sliding_window": 8, "layer_types": ["sliding_attention", "full_attention"] * 2},
    "phi3": {},
}
PLAN = """model ./base
expand (1+1) | (2+1) | 1
train new, final
stage cpt
  data sample
  steps {steps}
  lr 3e-3 constant
  batch 2 x 16
  precision fp32
"""


def make_base(directory: str, model_type: str, seed: int = 0) -> str:
    torch.manual_seed(seed)
    cfg = AutoConfig.for_model(model_type, **SIZES, **FAMILIES[model_type])
    model = AutoModelForCausalLM.from_config(cfg)
    with torch.no_grad():  # norms away from their init, so a wrong norm could show
        for name, p in model.named_parameters():
            if "norm" in name:
                p.add_(torch.randn_like(p) * 0.1)
    path = os.path.join(directory, "base")
    model.save_pretrained(path)
    return path


def expand(directory: str, model_type: str, steps: int = 20) -> tuple[dict, str, str]:
    base = make_base(directory, model_type)
    lm = compile_plan_text(PLAN.format(steps=steps), directory)
    out = os.path.join(directory, "expanded")
    apply_layer_map(lm, base, out)
    return lm, base, out


def hf_logits(path: str, ids: torch.Tensor) -> torch.Tensor:
    model = AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32).eval()
    with torch.no_grad():
        return model(input_ids=ids).logits


def losses(out_dir: str) -> list[float]:
    with open(os.path.join(out_dir, "metrics.jsonl"), encoding="utf-8") as f:
        return [json.loads(line)["loss"] for line in f]


class Families(unittest.TestCase):
    def test_expanded_models_keep_the_base_logits_in_transformers_and_train(self) -> None:
        for model_type in FAMILIES:
            with self.subTest(model_type), tempfile.TemporaryDirectory() as d:
                lm, base, expanded = expand(d, model_type, steps=2)
                with open(os.path.join(expanded, "config.json"), encoding="utf-8") as f:
                    cfg = json.load(f)
                self.assertEqual(cfg["num_hidden_layers"], 6)
                if "layer_types" in cfg:
                    self.assertEqual(len(cfg["layer_types"]), 6)
                ids = random_ids(2, 24, VOCAB, seed=3)
                want, got = hf_logits(base, ids), hf_logits(expanded, ids)
                self.assertGreater(float(want.std()), 1e-3)
                torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-5)
                summary = train(TrainOptions(expanded, lm, os.path.join(d, "out"), data_base_dir=d,
                                             backend="transformers"))
                self.assertEqual(summary["trainable"], lm["params"]["trainable"])  # the plan core's count
                self.assertEqual(summary["total"], lm["params"]["total"])
                self.assertEqual(len(losses(os.path.join(d, "out"))), 2)
                before = AutoModelForCausalLM.from_pretrained(expanded, dtype=torch.float32).state_dict()
                after = AutoModelForCausalLM.from_pretrained(os.path.join(d, "out", "model"),
                                                             dtype=torch.float32).state_dict()
                trainable = {f"model.layers.{b['index']}." for b in lm["blocks"] if b["trainable"]}
                for name, t in after.items():
                    changed = not torch.equal(t, before[name])
                    self.assertEqual(changed, name.startswith(tuple(trainable)), name)


class TransformersBackend(unittest.TestCase):
    def test_choices_resolve_here_and_impossible_ones_are_refused(self) -> None:
        from slayer_runner.backend import BackendError, choose_attention, choose_backend
        from slayer_runner.modelconfig import ModelConfig

        qwen3 = ModelConfig.from_hf({**SIZES, "model_type": "qwen3"})
        self.assertEqual(choose_backend("auto", qwen3), "transformers")  # importable in the project venv
        self.assertEqual(choose_attention("auto", "cpu"), "sdpa")
        self.assertEqual(choose_attention("auto", "cuda", torch.float32), "sdpa")  # flash kernels take no fp32
        for call, message in ((lambda: choose_backend("builtin", qwen3), "does not compute qwen3"),
                              (lambda: choose_backend("vllm"), "unknown backend"),
                              (lambda: choose_attention("flash_attention_2", "cpu"), "needs a CUDA device")):
            with self.assertRaisesRegex(BackendError, message):
                call()

    def test_gradient_checkpointing_recomputes_blocks_with_the_same_gradients(self) -> None:
        from slayer_runner.backend import decoder_blocks, family, load_model

        with tempfile.TemporaryDirectory() as d:
            model = load_model(make_base(d, "qwen3"), torch.float32, "cpu", backend="transformers").train()
            self.assertEqual(family(model), "qwen3")
            blocks = decoder_blocks(model)
            for p in model.parameters():
                p.requires_grad_(False)
            for p in blocks[2].parameters():
                p.requires_grad_(True)
            calls = [0] * len(blocks)
            for i, b in enumerate(blocks):
                def counted(*args: Any, _forward: Any = b.forward, i: int = i, **kwargs: Any) -> Any:
                    calls[i] += 1
                    return _forward(*args, **kwargs)
                b.forward = counted
            ids = random_ids(2, 12, VOCAB, seed=4)
            grads = []
            for flag in (False, True):
                model.activation_checkpointing = flag
                calls[:] = [0] * len(blocks)
                model(ids).square().mean().backward()
                grads.append([p.grad.clone() for p in blocks[2].parameters()])
                model.zero_grad(set_to_none=True)
                self.assertEqual(calls[2:], [2, 2] if flag else [1, 1])  # blocks in backward run again
            for a, b in zip(*grads):
                torch.testing.assert_close(a, b, rtol=0, atol=0)


    def test_a_rebuilt_block_list_keeps_each_blocks_attention_type(self) -> None:
        """Importance removes a block by running another block list: Gemma 2's layers alternate
        sliding/full, so the list must carry each block's type with it. Removing block 1 that way
        gives the logits of the checkpoint surgery writes without block 1."""
        from pathlib import Path

        from slayer_runner.backend import decoder_blocks, load_model
        from tests.support import block, layer_map

        with tempfile.TemporaryDirectory() as d:
            base = make_base(d, "gemma2")
            kept = [0, 2, 3]
            lm = layer_map(Path(base), [block(i, "kept", "kept", [(src, 1)]) for i, src in enumerate(kept)], deleted=[1])
            apply_layer_map(lm, base, os.path.join(d, "short"))
            model = load_model(base, torch.float32, "cpu", backend="transformers").eval()
            ids = random_ids(2, 24, VOCAB, seed=5)
            blocks = decoder_blocks(model)
            with torch.no_grad():
                got = model(ids, [blocks[i] for i in kept])
                full = model(ids)
            torch.testing.assert_close(got, hf_logits(os.path.join(d, "short"), ids), rtol=1e-5, atol=1e-5)
            self.assertGreater(float((got - full).abs().max()), 1e-3)
            torch.testing.assert_close(model(ids), full, rtol=0, atol=0)  # the model itself is unchanged


class LlamaParity(unittest.TestCase):
    def test_both_backends_give_the_same_loss_curve_and_transformers_reads_the_result(self) -> None:
        with tempfile.TemporaryDirectory() as d:
            lm, _base, expanded = expand(d, "llama", steps=20)
            curves = {}
            for backend in ("transformers", "builtin"):
                out = os.path.join(d, f"out-{backend}")
                train(TrainOptions(expanded, lm, out, data_base_dir=d, backend=backend))
                curves[backend] = losses(out)
            self.assertEqual(len(curves["builtin"]), 20)
            torch.testing.assert_close(torch.tensor(curves["transformers"]), torch.tensor(curves["builtin"]),
                                       rtol=1e-4, atol=1e-4)
            self.assertLess(curves["builtin"][-1], curves["builtin"][0] - 0.1)

            trained = os.path.join(d, "out-transformers", "model")
            held_out = os.path.join(d, "held-out.txt")
            with open(held_out, "w", encoding="utf-8") as f:
                f.write("The miller's cart crossed the river at dawn, carrying flour to the northern farms. " * 6)
            doc = importance.run(trained, held_out, os.path.join(d, "importance.json"), seq_len=32,
                                 max_sequences=4, metrics=["angular"], device="cpu", backend="builtin")
            ids = calibration_batch(held_out, load_tokenizer(trained, VOCAB), VOCAB, 32, 4)
            model = AutoModelForCausalLM.from_pretrained(trained, dtype=torch.float32).eval()
            with torch.no_grad():
                loss = float(model(input_ids=ids, labels=ids).loss)
            self.assertAlmostEqual(loss, -doc["baseline_loglik"], places=4)


if __name__ == "__main__":
    unittest.main()
