"""The runner's one config.json reader against transformers itself: the family table's defaults
are the config classes' defaults, a block holds exactly the tensors the table says (checked on
models transformers builds), per-layer lists follow a new depth, and the runner ships the same
table as contracts/ (the plan core's test checks its reader against it too)."""
from __future__ import annotations

import dataclasses
import unittest

import torch
from transformers import CONFIG_MAPPING, AutoConfig, AutoModelForCausalLM

from slayer_runner.modelconfig import (FAMILIES_FILE, ModelConfig, ModelConfigError, block_suffixes, families,
                                       output_projections, resize_per_layer, shape_from_config)
from tests.support import ROOT

TINY = {"vocab_size": 64, "hidden_size": 32, "intermediate_size": 48, "num_hidden_layers": 2,
        "num_attention_heads": 4, "num_key_value_heads": 2, "head_dim": 8, "pad_token_id": 0,
        "bos_token_id": 1, "eos_token_id": 2}


def class_defaults(model_type: str) -> dict:
    cls = CONFIG_MAPPING[model_type]
    return {f.name: f.default for f in dataclasses.fields(cls)}


class FamilyTable(unittest.TestCase):
    def test_the_runner_ships_the_contracts_table_byte_for_byte(self) -> None:
        self.assertEqual(FAMILIES_FILE.read_bytes(), (ROOT / "contracts" / "model-families.json").read_bytes())

    def test_defaults_are_the_transformers_config_classes_defaults(self) -> None:
        for model_type, fam in families().items():
            with self.subTest(model_type):
                real = class_defaults(model_type)
                d = fam["defaults"]
                for key in ("rms_norm_eps", "max_position_embeddings", "tie_word_embeddings", "head_dim"):
                    self.assertEqual(d[key], real.get(key), key)  # no field: computed (head_dim)
                rope = AutoConfig.for_model(model_type).rope_parameters
                rope = rope.get("full_attention", rope)
                self.assertEqual(d["rope_theta"], rope["rope_theta"])
                self.assertEqual(fam["architecture"], AutoModelForCausalLM.from_config(
                    AutoConfig.for_model(model_type, **TINY)).__class__.__name__)

    def test_a_block_holds_what_the_table_says_with_and_without_biases(self) -> None:
        torch.manual_seed(0)
        for model_type in families():
            for bias in (False, True):
                with self.subTest(model_type, bias=bias):
                    cfg = AutoConfig.for_model(model_type, **TINY, attention_bias=bias, mlp_bias=bias)
                    hf = AutoModelForCausalLM.from_config(cfg)
                    real = sorted(n[len("model.layers.0."):] for n in hf.state_dict() if n.startswith("model.layers.0."))
                    ours = ModelConfig.from_hf(cfg.to_dict())
                    self.assertEqual(sorted(block_suffixes(ours)), real)
                    self.assertTrue(set(output_projections(ours)) <= set(real))
                    shape = shape_from_config(cfg.to_dict())
                    self.assertEqual(shape["headDim"], 8)
                    self.assertEqual(shape["tieEmbeddings"], cfg.tie_word_embeddings)

    def test_qwen2_never_has_an_o_proj_bias(self) -> None:
        c = ModelConfig.from_hf({**TINY, "model_type": "qwen2", "attention_bias": True})
        self.assertEqual((c.qkv_bias, c.o_bias), (True, False))

    def test_unknown_families_are_refused_by_name(self) -> None:
        with self.assertRaisesRegex(ModelConfigError, "unsupported model_type 'gpt2'"):
            ModelConfig.from_hf({**TINY, "model_type": "gpt2"})

    def test_transformers_4_and_5_rope_keys_read_alike(self) -> None:
        old = ModelConfig.from_hf({**TINY, "model_type": "llama", "rope_theta": 5e5,
                                   "rope_scaling": {"rope_type": "llama3", "factor": 8.0}})
        new = ModelConfig.from_hf({**TINY, "model_type": "llama",
                                   "rope_parameters": {"rope_theta": 5e5, "rope_type": "llama3", "factor": 8.0}})
        self.assertEqual((old.rope_theta, old.rope_scaling), (new.rope_theta, new.rope_scaling))
        self.assertEqual(ModelConfig.from_hf({**TINY, "model_type": "llama"}).rope_scaling, None)


class PerLayerLists(unittest.TestCase):
    def test_lists_of_the_depth_follow_the_first_sources_and_others_stay(self) -> None:
        cfg = {"model_type": "qwen3", "num_hidden_layers": 3, "architectures": ["Qwen3ForCausalLM"],
               "layer_types": ["full_attention", "sliding_attention", "full_attention"],
               "no_rope_layers": [1, 0, 1], "eos_token_id": [5, 6, 7][:2]}
        out = resize_per_layer(cfg, [0, 1, 1, 2])
        self.assertEqual(out["num_hidden_layers"], 4)
        self.assertEqual(out["layer_types"], ["full_attention", "sliding_attention", "sliding_attention", "full_attention"])
        self.assertEqual(out["no_rope_layers"], [1, 0, 0, 1])
        self.assertEqual((out["architectures"], out["eos_token_id"]), (["Qwen3ForCausalLM"], [5, 6]))

    def test_rule_made_layer_types_are_written_out_before_the_depth_changes(self) -> None:
        gemma2 = resize_per_layer({"model_type": "gemma2", "num_hidden_layers": 4}, [0, 1, 1, 2, 3])
        self.assertEqual(gemma2["layer_types"], ["sliding_attention", "full_attention", "full_attention",
                                                 "sliding_attention", "full_attention"])
        gemma3 = resize_per_layer({"model_type": "gemma3_text", "num_hidden_layers": 3, "sliding_window_pattern": 2},
                                  [0, 0, 1, 2])
        self.assertEqual(gemma3["layer_types"], ["sliding_attention", "sliding_attention", "full_attention",
                                                 "sliding_attention"])
        self.assertNotIn("layer_types", resize_per_layer({"model_type": "llama", "num_hidden_layers": 2}, [0, 1, 1]))


if __name__ == "__main__":
    unittest.main()
