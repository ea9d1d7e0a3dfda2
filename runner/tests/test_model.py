"""The runner's Llama-family model: HF tensor names, GQA grouping, RoPE convention, causality,
checkpoint loading (single file and shards), tied embeddings, Qwen2 biases, and — where
`transformers` is importable — the same logits as LlamaForCausalLM."""
from __future__ import annotations

import json
import math
import os
import tempfile
import unittest

import torch

from slayer_runner import model as M
from slayer_runner.safetensors_io import save_file
from tests.tiny_models import hf_config, random_ids, random_model


class TensorNames(unittest.TestCase):
    def test_names_are_the_hugging_face_names(self) -> None:
        m = random_model(layers=2, kv_heads=2)
        names = set(M.tensor_names(m))
        for n in ("model.embed_tokens.weight", "model.norm.weight", "lm_head.weight",
                  "model.layers.1.self_attn.q_proj.weight", "model.layers.1.self_attn.k_proj.weight",
                  "model.layers.1.self_attn.v_proj.weight", "model.layers.1.self_attn.o_proj.weight",
                  "model.layers.1.mlp.gate_proj.weight", "model.layers.1.mlp.up_proj.weight",
                  "model.layers.1.mlp.down_proj.weight", "model.layers.0.input_layernorm.weight",
                  "model.layers.0.post_attention_layernorm.weight"):
            self.assertIn(n, names)
        self.assertEqual(len(names), 3 + 2 * 9)
        self.assertEqual(tuple(m.state_dict()["model.layers.0.self_attn.k_proj.weight"].shape), (2 * 16, 64))

    def test_qwen2_has_qkv_biases_only_and_tied_head_is_the_embedding(self) -> None:
        m = random_model(layers=1, model_type="qwen2", tie=True)
        names = M.tensor_names(m)
        self.assertIn("model.layers.0.self_attn.q_proj.bias", names)
        self.assertIn("model.layers.0.self_attn.v_proj.bias", names)
        self.assertNotIn("model.layers.0.self_attn.o_proj.bias", names)
        self.assertNotIn("lm_head.weight", names)
        self.assertIs(m.lm_head.weight, m.model.embed_tokens.weight)
        llama_bias = random_model(layers=1, attention_bias=True, mlp_bias=True)
        self.assertIn("model.layers.0.self_attn.o_proj.bias", M.tensor_names(llama_bias))
        self.assertIn("model.layers.0.mlp.down_proj.bias", M.tensor_names(llama_bias))

    def test_refuses_unknown_model_types_and_families_it_does_not_compute(self) -> None:
        with self.assertRaisesRegex(ValueError, "unsupported model_type"):
            M.ModelConfig.from_hf(hf_config(model_type="gpt2"))
        with self.assertRaisesRegex(ValueError, "install transformers"):
            M.CausalLM(M.ModelConfig.from_hf(hf_config(model_type="qwen3")))


class Forward(unittest.TestCase):
    def test_logits_shape_and_causality(self) -> None:
        m = random_model(vocab=300)
        ids = random_ids(2, 20, 300)
        out = m(ids)
        self.assertEqual(tuple(out.shape), (2, 20, 300))
        changed = ids.clone()
        changed[:, 12:] = (changed[:, 12:] + 7) % 300
        out2 = m(changed)
        torch.testing.assert_close(out[:, :12], out2[:, :12], rtol=0, atol=1e-6)
        self.assertGreater(float((out[:, 12:] - out2[:, 12:]).abs().max()), 1e-4)

    def test_grouped_query_attention_equals_multi_head_with_repeated_kv(self) -> None:
        # HF's repeat_kv gives query head j the kv head j // (heads / kv_heads). A multi-head model
        # whose k/v rows repeat each kv head that many times must compute the same thing.
        gqa = random_model(seed=3, heads=4, kv_heads=2)
        mha = random_model(seed=4, heads=4, kv_heads=4)
        sd = gqa.state_dict()
        big = {}
        for k, v in sd.items():
            if k.endswith(("k_proj.weight", "v_proj.weight")):
                v = v.view(2, 16, 64).repeat_interleave(2, dim=0).reshape(64, 64)
            big[k] = v
        M.load_state(mha, big)
        ids = random_ids(2, 16, 300)
        torch.testing.assert_close(gqa(ids), mha(ids), rtol=1e-5, atol=1e-5)

    def test_rope_matches_the_pairwise_rotation_formula(self) -> None:
        # Coordinates i and i + d/2 form a pair rotated by angle pos * theta^(-2i/d).
        cfg = M.ModelConfig.from_hf(hf_config())
        m = M.CausalLM(cfg)
        d, t = cfg.head_dim, 9
        cos, sin = m.rope(t, torch.device("cpu"), torch.float32)
        x = torch.randn(t, d, generator=torch.Generator().manual_seed(0))
        got = x * cos + M.rotate_half(x) * sin
        want = torch.empty_like(x)
        for pos in range(t):
            for i in range(d // 2):
                a = pos * cfg.rope_theta ** (-2 * i / d)
                x1, x2 = float(x[pos, i]), float(x[pos, i + d // 2])
                want[pos, i] = x1 * math.cos(a) - x2 * math.sin(a)
                want[pos, i + d // 2] = x2 * math.cos(a) + x1 * math.sin(a)
        torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-5)

    def test_replacing_the_block_list_removes_a_block(self) -> None:
        m = random_model(layers=4)
        ids = random_ids(1, 8, 300)
        short = M.CausalLM(M.ModelConfig.from_hf(hf_config(layers=3)))
        sd = {k: v for k, v in m.state_dict().items() if ".layers.2." not in k}
        sd = {k.replace(".layers.3.", ".layers.2."): v for k, v in sd.items()}
        M.load_state(short, sd)
        layers = [m.blocks[0], m.blocks[1], m.blocks[3]]
        torch.testing.assert_close(m(ids, layers), short(ids), rtol=0, atol=0)


class ActivationCheckpointing(unittest.TestCase):
    def test_blocks_in_backward_are_recomputed_with_the_same_gradients(self) -> None:
        m = random_model(seed=6, layers=3).train()
        for p in m.parameters():
            p.requires_grad_(False)
        for p in m.blocks[1].parameters():
            p.requires_grad_(True)
        calls = [0, 0, 0]
        # Count calls of each block's forward itself: torch 2.x does not fire module hooks while it
        # recomputes a non-reentrant checkpoint, but the forward really runs again.
        for i, b in enumerate(m.blocks):
            def counted(*args, _forward=b.forward, i=i, **kwargs):
                calls[i] += 1
                return _forward(*args, **kwargs)
            b.forward = counted
        ids = random_ids(2, 8, 300)
        grads = []
        for flag in (False, True):
            m.activation_checkpointing = flag
            calls[:] = [0, 0, 0]
            m(ids).square().mean().backward()
            grads.append([p.grad.clone() for p in m.blocks[1].parameters()])
            m.zero_grad(set_to_none=True)
            # block 0 takes no part in backward; blocks 1 and 2 run again when checkpointed
            self.assertEqual(calls, [1, 2, 2] if flag else [1, 1, 1])
        for a, b in zip(*grads):
            torch.testing.assert_close(a, b, rtol=0, atol=0)


class Loading(unittest.TestCase):
    def _write(self, d: str, cfg: dict, tensors: dict, shards: int) -> None:
        with open(os.path.join(d, "config.json"), "w") as f:
            json.dump(cfg, f)
        names = sorted(tensors)
        if shards == 1:
            save_file(tensors, os.path.join(d, "model.safetensors"), {"format": "pt"})
            return
        weight_map = {}
        for s in range(shards):
            part = names[s::shards]
            fn = f"model-{s + 1:05d}-of-{shards:05d}.safetensors"
            save_file({n: tensors[n] for n in part}, os.path.join(d, fn), {"format": "pt"})
            weight_map.update({n: fn for n in part})
        with open(os.path.join(d, "model.safetensors.index.json"), "w") as f:
            json.dump({"metadata": {"total_size": 0}, "weight_map": dict(sorted(weight_map.items()))}, f)

    def test_single_file_and_sharded_checkpoints_load_to_the_same_logits(self) -> None:
        for shards, kw in ((1, {}), (3, {"model_type": "qwen2", "tie": True})):
            with self.subTest(shards=shards), tempfile.TemporaryDirectory() as d:
                m = random_model(seed=9, **kw)
                cfg = hf_config(**kw)
                tensors = {n: m.state_dict()[n] for n in M.tensor_names(m)}
                self._write(d, cfg, tensors, shards)
                loaded = M.load_pretrained(d).eval()
                if kw.get("tie"):
                    self.assertIs(loaded.lm_head.weight, loaded.model.embed_tokens.weight)
                ids = random_ids(2, 12, 300)
                torch.testing.assert_close(loaded(ids), m(ids), rtol=0, atol=0)

    def test_bf16_checkpoint_keeps_its_dtype_and_missing_tensors_are_refused(self) -> None:
        with tempfile.TemporaryDirectory() as d:
            m = random_model(seed=2).to(torch.bfloat16)
            tensors = {n: m.state_dict()[n] for n in M.tensor_names(m)}
            self._write(d, hf_config(torch_dtype="bfloat16"), tensors, 1)
            loaded = M.load_pretrained(d)
            self.assertEqual(loaded.model.norm.weight.dtype, torch.bfloat16)
            ids = random_ids(1, 8, 300)
            torch.testing.assert_close(loaded(ids), m(ids), rtol=0, atol=0)  # RoPE stays float32
            del tensors["model.layers.1.mlp.up_proj.weight"]
            self._write(d, hf_config(torch_dtype="bfloat16"), tensors, 1)
            with self.assertRaisesRegex(KeyError, "up_proj"):
                M.load_pretrained(d)


class AgainstTransformers(unittest.TestCase):
    def test_same_logits_as_transformers(self) -> None:
        # transformers is part of the project venv (scripts/python-requirements.txt): never skipped.
        import transformers  # type: ignore[import-not-found]

        for kw in ({}, {"model_type": "qwen2", "tie": True}):
            with self.subTest(**kw):
                cfg = hf_config(**kw)
                ours = random_model(seed=11, **kw)
                hf_cls = transformers.Qwen2ForCausalLM if kw else transformers.LlamaForCausalLM
                hf_cfg = (transformers.Qwen2Config if kw else transformers.LlamaConfig)(**cfg)
                theirs = hf_cls(hf_cfg).eval()
                theirs.load_state_dict(ours.state_dict(), strict=True)  # same tensor names, no leftovers
                ids = random_ids(2, 16, 300)
                with torch.no_grad():
                    torch.testing.assert_close(ours(ids), theirs(ids).logits, rtol=1e-4, atol=1e-4)


if __name__ == "__main__":
    unittest.main()
