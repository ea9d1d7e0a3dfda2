"""make-tiny: Llama/Qwen2 tensor names and shapes (GQA, biases, tying), dtypes, config.json,
determinism, sharding, the byte-level tokenizer file; and the real compiler reads its checkpoints."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import unittest

import torch

from slayer_runner.checkpoint import load_state_dict
from slayer_runner.modelconfig import read_config
from slayer_runner.layermap import shape_from_config
from slayer_runner.tiny import TOKENIZER_FILE, make_tiny, spec_from_layer_map_shape
from tests.support import ROOT, TempDirTest, cli_available, compile_plan, tiny


class Tiny(TempDirTest):
    def test_llama_names_and_gqa_shapes(self) -> None:
        out = tiny(self.dir / "m", num_layers=4, hidden_size=64, intermediate_size=172, num_heads=4, num_kv_heads=2)
        sd = load_state_dict(out)
        cfg = read_config(out)
        self.assertEqual(cfg["model_type"], "llama")
        self.assertEqual(cfg["architectures"], ["LlamaForCausalLM"])
        self.assertEqual((cfg["num_hidden_layers"], cfg["num_key_value_heads"], cfg["head_dim"]), (4, 2, 16))
        expected = {"model.embed_tokens.weight": (256, 64), "model.norm.weight": (64,), "lm_head.weight": (256, 64)}
        for n in range(4):
            p = f"model.layers.{n}."
            expected.update({
                p + "input_layernorm.weight": (64,), p + "post_attention_layernorm.weight": (64,),
                p + "self_attn.q_proj.weight": (64, 64), p + "self_attn.k_proj.weight": (32, 64),
                p + "self_attn.v_proj.weight": (32, 64), p + "self_attn.o_proj.weight": (64, 64),
                p + "mlp.gate_proj.weight": (172, 64), p + "mlp.up_proj.weight": (172, 64),
                p + "mlp.down_proj.weight": (64, 172)})
        self.assertEqual({k: tuple(v.shape) for k, v in sd.items()}, expected)
        self.assertTrue(all(v.dtype == torch.float32 for v in sd.values()))
        # norms are around 1 but not all ones (so averaging them is visible)
        norm = sd["model.layers.0.input_layernorm.weight"]
        self.assertLess((norm - 1).abs().mean().item(), 0.2)
        self.assertFalse(torch.equal(norm, torch.ones_like(norm)))

    def test_qwen2_biases_tied_bf16(self) -> None:
        out = tiny(self.dir / "m", num_layers=4, qkv_bias=True, tie_embeddings=True, dtype="bf16")
        sd = load_state_dict(out)
        cfg = read_config(out)
        self.assertEqual((cfg["model_type"], cfg["torch_dtype"], cfg["tie_word_embeddings"]), ("qwen2", "bfloat16", True))
        self.assertNotIn("lm_head.weight", sd)
        self.assertEqual(tuple(sd["model.layers.3.self_attn.k_proj.bias"].shape), (32,))
        self.assertEqual(tuple(sd["model.layers.3.self_attn.q_proj.bias"].shape), (64,))
        self.assertNotIn("model.layers.0.self_attn.o_proj.bias", sd)
        self.assertTrue(all(v.dtype == torch.bfloat16 for v in sd.values()))

    def test_llama_attention_and_mlp_biases(self) -> None:
        out = tiny(self.dir / "m", num_layers=2, attention_bias=True, mlp_bias=True, intermediate_size=96)
        sd = load_state_dict(out)
        cfg = read_config(out)
        self.assertEqual((cfg["model_type"], cfg["attention_bias"], cfg["mlp_bias"]), ("llama", True, True))
        shapes = {k: tuple(v.shape) for k, v in sd.items() if k.startswith("model.layers.1.") and k.endswith(".bias")}
        self.assertEqual(shapes, {
            "model.layers.1.self_attn.q_proj.bias": (64,), "model.layers.1.self_attn.k_proj.bias": (32,),
            "model.layers.1.self_attn.v_proj.bias": (32,), "model.layers.1.self_attn.o_proj.bias": (64,),
            "model.layers.1.mlp.gate_proj.bias": (96,), "model.layers.1.mlp.up_proj.bias": (96,),
            "model.layers.1.mlp.down_proj.bias": (64,)})
        shape = shape_from_config(cfg)
        self.assertEqual((shape["qkvBias"], shape["oBias"], shape["mlpBias"]), (True, True, True))

    def test_deterministic_in_the_seed(self) -> None:
        a = load_state_dict(tiny(self.dir / "a", seed=3, dtype="fp16"))
        b = load_state_dict(tiny(self.dir / "b", seed=3, dtype="fp16"))
        c = load_state_dict(tiny(self.dir / "c", seed=4, dtype="fp16"))
        self.assertTrue(all(torch.equal(a[k], b[k]) for k in a))
        self.assertFalse(torch.equal(a["lm_head.weight"], c["lm_head.weight"]))

    def test_cli_shards_and_side_files(self) -> None:
        out = self.dir / "m"
        env = {**os.environ, "PYTHONPATH": str(ROOT / "runner")}
        r = subprocess.run([sys.executable, "-m", "slayer_runner", "make-tiny", "--output", str(out), "--layers", "5",
                            "--hidden", "64", "--intermediate", "128", "--heads", "4", "--kv-heads", "1", "--vocab", "300",
                            "--dtype", "fp16", "--shards", "3", "--seed", "7"], env=env, capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        names = sorted(p.name for p in out.iterdir())
        self.assertEqual(names, ["config.json", "generation_config.json", "model-00001-of-00003.safetensors",
                                 "model-00002-of-00003.safetensors", "model-00003-of-00003.safetensors",
                                 "model.safetensors.index.json", TOKENIZER_FILE])
        tok = json.loads((out / TOKENIZER_FILE).read_text())
        self.assertEqual((tok["type"], tok["vocab_size"], tok["bos_token_id"], tok["eos_token_id"]), ("bytes", 300, 256, 257))
        self.assertEqual(load_state_dict(out)["model.layers.4.self_attn.v_proj.weight"].shape, (16, 64))
        r2 = subprocess.run([sys.executable, "-m", "slayer_runner", "make-tiny", "--output", str(out)], env=env,
                            capture_output=True, text=True)
        self.assertEqual(r2.returncode, 1)
        self.assertIn("already exists and is not empty", r2.stdout)

    def test_run_json_tiny_model_spec(self) -> None:
        # exactly the keys of run.json's tiny_model (src/protocol/runConfig.ts)
        spec = {"num_layers": 4, "hidden_size": 64, "intermediate_size": 128, "num_heads": 4, "num_kv_heads": 2,
                "vocab_size": 256, "seed": 0}
        sd = load_state_dict(make_tiny(spec, self.dir / "m"))
        self.assertEqual(len([k for k in sd if k.startswith("model.layers.")]), 4 * 9)
        with self.assertRaisesRegex(ValueError, "unknown tiny model keys: colour"):
            make_tiny({**spec, "colour": 1}, self.dir / "n")
        with self.assertRaisesRegex(ValueError, "multiple of num_kv_heads"):
            make_tiny({**spec, "num_kv_heads": 3}, self.dir / "n")

    def test_the_compiler_reads_tiny_checkpoints_and_shapes_round_trip(self) -> None:
        why = cli_available()
        if why:
            self.skipTest(why)
        src = tiny(self.dir / "m", num_layers=6, qkv_bias=True, dtype="bf16", tie_embeddings=True)
        lm = compile_plan(src, "(2+1)x2 | 2")
        self.assertEqual(lm["base"], shape_from_config(read_config(src)))
        again = make_tiny(spec_from_layer_map_shape(lm["base"], seed=1), self.dir / "again")
        self.assertEqual(shape_from_config(read_config(again)), lm["base"])


if __name__ == "__main__":
    unittest.main()
