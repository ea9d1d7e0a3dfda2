"""The in-house decoder (Llama, Mistral, Qwen2) in one file: the runner's dependency-free fallback
when `transformers` is not importable, and the reference the parity tests hold transformers to.

Module names follow Hugging Face's LlamaForCausalLM, so `state_dict()` keys are exactly the
checkpoint's tensor names (`model.layers.N.self_attn.q_proj.weight`, …) and checkpoints load
without renaming. The blocks are `model.model.layers` (a ModuleList) so hooks can be attached and
blocks removed or inserted by building a new list (see `forward(..., layers=...)`).

Attention is `torch.nn.functional.scaled_dot_product_attention` (torch >= 2.1, the runner's floor).
Mistral's sliding window is not applied: sequences up to `sliding_window` tokens compute exactly.
"""
from __future__ import annotations

import math
import os
from typing import Any, Mapping, Optional, Sequence

import torch
import torch.nn.functional as F
import torch.utils.checkpoint
from torch import nn

from .checkpoint import Checkpoint
from .modelconfig import ModelConfig, ModelConfigError, config_dtype, read_config


Device = Optional[Any]  # a torch.device or its name


class RMSNorm(nn.Module):
    def __init__(self, dim: int, eps: float, device: Device = None) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(dim, device=device))
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # Normalise in float32 and cast back before the scale, as the reference implementation does.
        dtype = x.dtype
        h = x.float()
        h = h * torch.rsqrt(h.pow(2).mean(-1, keepdim=True) + self.eps)
        return self.weight * h.to(dtype)


def rope_inv_freq(cfg: ModelConfig) -> torch.Tensor:
    d = cfg.head_dim
    inv = 1.0 / (cfg.rope_theta ** (torch.arange(0, d, 2, dtype=torch.float32) / d))
    rs = cfg.rope_scaling
    if not rs:
        return inv
    kind = rs.get("rope_type", rs.get("type"))
    if kind == "linear":
        return inv / float(rs["factor"])
    if kind == "llama3":
        # Llama 3.1: long wavelengths slowed by `factor`, short ones kept, smooth ramp between.
        factor = float(rs["factor"])
        low, high = float(rs.get("low_freq_factor", 1.0)), float(rs.get("high_freq_factor", 4.0))
        old_ctx = float(rs["original_max_position_embeddings"])
        wavelen = 2 * math.pi / inv
        smooth = (old_ctx / wavelen - low) / (high - low)
        scaled = torch.where(wavelen > old_ctx / low, inv / factor, inv)
        mid = (wavelen <= old_ctx / low) & (wavelen >= old_ctx / high)
        return torch.where(mid, (1 - smooth) * inv / factor + smooth * inv, scaled)
    if kind in (None, "default"):
        return inv
    raise ValueError(f"unsupported rope_scaling type {kind!r} (linear, llama3)")


def rotate_half(x: torch.Tensor) -> torch.Tensor:
    a, b = x.chunk(2, dim=-1)
    return torch.cat((-b, a), dim=-1)


class Attention(nn.Module):
    def __init__(self, cfg: ModelConfig, device: Device = None) -> None:
        super().__init__()
        self.cfg = cfg
        h, d = cfg.hidden_size, cfg.head_dim
        self.q_proj = nn.Linear(h, cfg.num_heads * d, bias=cfg.qkv_bias, device=device)
        self.k_proj = nn.Linear(h, cfg.num_kv_heads * d, bias=cfg.qkv_bias, device=device)
        self.v_proj = nn.Linear(h, cfg.num_kv_heads * d, bias=cfg.qkv_bias, device=device)
        self.o_proj = nn.Linear(cfg.num_heads * d, h, bias=cfg.o_bias, device=device)

    def forward(self, x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
        b, t, _ = x.shape
        c = self.cfg
        q = self.q_proj(x).view(b, t, c.num_heads, c.head_dim).transpose(1, 2)
        k = self.k_proj(x).view(b, t, c.num_kv_heads, c.head_dim).transpose(1, 2)
        v = self.v_proj(x).view(b, t, c.num_kv_heads, c.head_dim).transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        rep = c.num_heads // c.num_kv_heads
        if rep > 1:  # grouped-query attention: each kv head serves `rep` query heads
            k = k.repeat_interleave(rep, dim=1)
            v = v.repeat_interleave(rep, dim=1)
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        return self.o_proj(y.transpose(1, 2).reshape(b, t, c.num_heads * c.head_dim))


class MLP(nn.Module):
    def __init__(self, cfg: ModelConfig, device: Device = None) -> None:
        super().__init__()
        h, i = cfg.hidden_size, cfg.intermediate_size
        self.gate_proj = nn.Linear(h, i, bias=cfg.mlp_bias, device=device)
        self.up_proj = nn.Linear(h, i, bias=cfg.mlp_bias, device=device)
        self.down_proj = nn.Linear(i, h, bias=cfg.mlp_bias, device=device)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))


class Block(nn.Module):
    """x + Attn(norm(x)), then + MLP(norm(·)): the residual step x_{i+1} = x_i + F(x_i, θ_i)."""

    def __init__(self, cfg: ModelConfig, device: Device = None) -> None:
        super().__init__()
        self.input_layernorm = RMSNorm(cfg.hidden_size, cfg.rms_norm_eps, device)
        self.self_attn = Attention(cfg, device)
        self.post_attention_layernorm = RMSNorm(cfg.hidden_size, cfg.rms_norm_eps, device)
        self.mlp = MLP(cfg, device)

    def forward(self, x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
        x = x + self.self_attn(self.input_layernorm(x), cos, sin)
        return x + self.mlp(self.post_attention_layernorm(x))


class Backbone(nn.Module):
    def __init__(self, cfg: ModelConfig, device: Device = None) -> None:
        super().__init__()
        self.embed_tokens = nn.Embedding(cfg.vocab_size, cfg.hidden_size, device=device)
        self.layers = nn.ModuleList([Block(cfg, device) for _ in range(cfg.num_layers)])
        self.norm = RMSNorm(cfg.hidden_size, cfg.rms_norm_eps, device)


class CausalLM(nn.Module):
    """The decoder. `device="meta"` builds it without allocating or initialising weights
    (`load_pretrained` then materialises it directly in the target dtype and device)."""

    def __init__(self, cfg: ModelConfig, device: Device = None) -> None:
        super().__init__()
        if not cfg.builtin:
            raise ModelConfigError(f"the in-house model does not compute {cfg.model_type} models: install "
                                   "transformers on this host (the runner then uses it)")
        self.cfg = cfg
        self.model = Backbone(cfg, device)
        self.lm_head = nn.Linear(cfg.hidden_size, cfg.vocab_size, bias=False, device=device)
        # Activation checkpointing of the blocks that take part in backward (training sets it).
        self.activation_checkpointing = False
        self.tie()

    def tie(self) -> None:
        """Makes lm_head share the embedding matrix when the config ties them (again after moves
        between devices, which can replace parameter objects)."""
        if self.cfg.tie_embeddings:
            self.lm_head.weight = self.model.embed_tokens.weight

    @property
    def blocks(self) -> nn.ModuleList:
        return self.model.layers

    def rope(self, t: int, device: torch.device, dtype: torch.dtype) -> tuple[torch.Tensor, torch.Tensor]:
        pos = torch.arange(t, device=device, dtype=torch.float32)
        # Recomputed in float32 each call (cheap): a buffer would be cast by model.to(bfloat16).
        freqs = torch.outer(pos, rope_inv_freq(self.cfg).to(device))
        emb = torch.cat((freqs, freqs), dim=-1)
        return emb.cos().to(dtype), emb.sin().to(dtype)

    def hidden(self, input_ids: torch.Tensor, layers: Optional[Sequence[nn.Module]] = None) -> torch.Tensor:
        """Hidden states after the final norm. `layers` replaces the block stack (removal/insertion)."""
        x = self.model.embed_tokens(input_ids)
        cos, sin = self.rope(input_ids.shape[1], x.device, x.dtype)
        for block in self.model.layers if layers is None else layers:
            if self.activation_checkpointing and self.training and torch.is_grad_enabled() and \
                    (x.requires_grad or any(p.requires_grad for p in block.parameters())):
                # Keep only the block's input; recompute its inside during backward.
                x = torch.utils.checkpoint.checkpoint(block, x, cos, sin, use_reentrant=False)
            else:
                x = block(x, cos, sin)
        return self.model.norm(x)

    def forward(self, input_ids: torch.Tensor, layers: Optional[Sequence[nn.Module]] = None) -> torch.Tensor:
        return self.lm_head(self.hidden(input_ids, layers))

    def init_weights(self, seed: int, std: float = 0.02) -> None:
        """Random initialisation (tests, tiny demo models): N(0, std) matrices and biases, unit norms."""
        g = torch.Generator().manual_seed(seed)
        with torch.no_grad():
            for name, p in self.named_parameters():
                if name.endswith("norm.weight"):
                    p.fill_(1.0)
                else:  # matrices and biases alike: random biases make the bias paths testable
                    p.copy_(torch.randn(p.shape, generator=g) * std)


def tensor_names(model: CausalLM) -> list[str]:
    """The checkpoint's tensor names for this model (lm_head.weight omitted when tied)."""
    names = list(model.state_dict().keys())
    if model.cfg.tie_embeddings:
        names.remove("lm_head.weight")
    return names


def load_state(model: CausalLM, tensors: Mapping[str, torch.Tensor]) -> None:
    """Copies checkpoint tensors (HF names) into the model; refuses missing or unknown names."""
    expected = set(tensor_names(model))
    given = set(tensors)
    if model.cfg.tie_embeddings:
        given.discard("lm_head.weight")  # some tied checkpoints store it anyway; it is the embedding
    missing, unknown = sorted(expected - given), sorted(given - expected)
    # rotary inv_freq buffers appear in some older checkpoints; they are recomputed, never loaded.
    unknown = [n for n in unknown if not n.endswith("rotary_emb.inv_freq")]
    if missing or unknown:
        raise KeyError(f"checkpoint does not match the model: missing {missing[:5]}, unexpected {unknown[:5]}")
    params = dict(model.named_parameters())
    with torch.no_grad():
        for name in expected:
            src = tensors[name]
            dst = params[name]
            if tuple(src.shape) != tuple(dst.shape):
                raise ValueError(f"{name}: checkpoint shape {tuple(src.shape)} != model {tuple(dst.shape)}")
            dst.copy_(src.to(dst.dtype))


def build(hf_config: Mapping[str, Any], tensors: Optional[Mapping[str, torch.Tensor]] = None,
          dtype: torch.dtype = torch.float32, device: str | torch.device = "cpu") -> CausalLM:
    """Builds the model from a config.json dict, loading `tensors` (HF names) when given."""
    model = CausalLM(ModelConfig.from_hf(hf_config))
    if tensors is not None:
        load_state(model, tensors)
    model = model.to(device=device, dtype=dtype)
    model.tie()
    return model


def torch_dtype(name: Optional[str]) -> torch.dtype:
    """A config.json dtype name (see modelconfig.config_dtype) as a torch dtype; float32 if unknown."""
    return {"bfloat16": torch.bfloat16, "float16": torch.float16, "float32": torch.float32}.get(name or "float32", torch.float32)


@torch.no_grad()
def token_logprobs(model: CausalLM, input_ids: torch.Tensor,
                   layers: Optional[Sequence[nn.Module]] = None) -> torch.Tensor:
    """log p(x_{t+1} | x_≤t) for every position but the last: shape (B, T-1), float32."""
    logits = model(input_ids, layers).float()
    logp = torch.log_softmax(logits[:, :-1], dim=-1)
    return logp.gather(-1, input_ids[:, 1:].unsqueeze(-1)).squeeze(-1)



def load_pretrained(model_dir: str | os.PathLike[str], dtype: Optional[torch.dtype] = None,
                    device: str | torch.device = "cpu") -> CausalLM:
    """Builds the model from a Hugging Face checkpoint directory, one tensor at a time.

    dtype None keeps the checkpoint's dtype. Tensors are copied into the model as they are read,
    so peak host memory is the model plus one tensor.
    """
    cfg = read_config(model_dir)
    # Built on the meta device, then given storage in the final dtype on the final device: no
    # float32 copy of the whole model on the host, no random initialisation of billions of weights.
    model = CausalLM(ModelConfig.from_hf(cfg), device="meta").to(dtype=dtype or torch_dtype(config_dtype(cfg)))
    model = model.to_empty(device=device)
    model.tie()
    params = dict(model.named_parameters())
    expected = set(tensor_names(model))
    seen: set[str] = set()
    with Checkpoint(model_dir) as ck, torch.no_grad():
        for name in ck.keys():
            if name == "lm_head.weight" and model.cfg.tie_embeddings or name.endswith("rotary_emb.inv_freq"):
                continue
            if name not in expected:
                raise KeyError(f"{model_dir}/{ck.file_of(name)}: unexpected tensor {name}")
            t = ck.get_tensor(name)
            if tuple(t.shape) != tuple(params[name].shape):
                raise ValueError(f"{name}: checkpoint shape {tuple(t.shape)} != model {tuple(params[name].shape)}")
            params[name].copy_(t.to(params[name].dtype))
            seen.add(name)
    missing = sorted(expected - seen)
    if missing:
        raise KeyError(f"{model_dir}: missing tensors {missing[:5]}{' …' if len(missing) > 5 else ''}")
    return model
