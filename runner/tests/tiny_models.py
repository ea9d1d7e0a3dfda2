"""Tiny Llama-family configs and random models shared by the runner's model/training tests."""
from __future__ import annotations

from typing import Any, Dict

import torch

from slayer_runner.model import CausalLM, ModelConfig


def hf_config(layers: int = 4, hidden: int = 64, heads: int = 4, kv_heads: int = 2, vocab: int = 300,
              inter: int = 128, model_type: str = "llama", tie: bool = False, **extra: Any) -> Dict[str, Any]:
    cfg: Dict[str, Any] = {
        "architectures": ["Qwen2ForCausalLM" if model_type == "qwen2" else "LlamaForCausalLM"],
        "model_type": model_type, "num_hidden_layers": layers, "hidden_size": hidden,
        "intermediate_size": inter, "num_attention_heads": heads, "num_key_value_heads": kv_heads,
        "vocab_size": vocab, "rms_norm_eps": 1e-5, "rope_theta": 10000.0, "max_position_embeddings": 256,
        "tie_word_embeddings": tie, "hidden_act": "silu", "torch_dtype": "float32",
    }
    cfg.update(extra)
    return cfg


def random_model(seed: int = 0, **kw: Any) -> CausalLM:
    model = CausalLM(ModelConfig.from_hf(hf_config(**kw)))
    model.init_weights(seed)
    return model.eval()


def random_ids(batch: int, length: int, vocab: int, seed: int = 1) -> torch.Tensor:
    return torch.randint(0, vocab, (batch, length), generator=torch.Generator().manual_seed(seed))
