"""A compact Llama-family decoder (Llama, Mistral, Qwen2) in one file.

Module names follow Hugging Face's LlamaForCausalLM, so `state_dict()` keys are exactly the
checkpoint's tensor names (`model.layers.N.self_attn.q_proj.weight`, …) and checkpoints load
without renaming. The blocks are `model.model.layers` (a ModuleList) so hooks can be attached and
blocks removed or inserted by building a new list (see `forward(..., layers=...)`).

Attention goes through `torch.nn.functional.scaled_dot_product_attention` when torch has it
(2.0+); torch 1.13 (Debian's python3-torch) does not, and the same computation is done explicitly.
"""
from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from typing import Any, Dict, Mapping, Optional, Sequence

import torch
import torch.nn.functional as F
import torch.utils.checkpoint
from torch import nn


Device = Optional[Any]  # a torch.device or its name


@dataclass(frozen=True)
class ModelConfig:
    vocab_size: int
    hidden_size: int
    intermediate_size: int
    num_layers: int
    num_heads: int
    num_kv_heads: int
    head_dim: int
    rms_norm_eps: float = 1e-5
    rope_theta: float = 10000.0
    max_position_embeddings: int = 4096
    tie_embeddings: bool = False
    qkv_bias: bool = False
    o_bias: bool = False
    mlp_bias: bool = False
    rope_scaling: Optional[Dict[str, Any]] = None

    @staticmethod
    def from_hf(cfg: Mapping[str, Any]) -> "ModelConfig":
        """Reads a Hugging Face config.json dict of a Llama-family model."""
        model_type = str(cfg.get("model_type", "llama"))
        if model_type not in ("llama", "mistral", "qwen2"):
            raise ValueError(f"unsupported model_type {model_type!r} (llama, mistral, qwen2)")
        heads = int(cfg["num_attention_heads"])
        hidden = int(cfg["hidden_size"])
        attention_bias = bool(cfg.get("attention_bias", False))
        return ModelConfig(
            vocab_size=int(cfg["vocab_size"]),
            hidden_size=hidden,
            intermediate_size=int(cfg["intermediate_size"]),
            num_layers=int(cfg["num_hidden_layers"]),
            num_heads=heads,
            num_kv_heads=int(cfg.get("num_key_value_heads") or heads),
            head_dim=int(cfg.get("head_dim") or hidden // heads),
            rms_norm_eps=float(cfg.get("rms_norm_eps", 1e-6 if model_type == "qwen2" else 1e-5)),
            rope_theta=float(cfg.get("rope_theta", 10000.0)),
            max_position_embeddings=int(cfg.get("max_position_embeddings", 4096)),
            tie_embeddings=bool(cfg.get("tie_word_embeddings", False)),
            # Qwen2 always has q/k/v biases; Llama's `attention_bias` adds them to o_proj too.
            qkv_bias=model_type == "qwen2" or attention_bias,
            o_bias=attention_bias and model_type != "qwen2",
            mlp_bias=bool(cfg.get("mlp_bias", False)),
            rope_scaling=dict(cfg["rope_scaling"]) if cfg.get("rope_scaling") else None,
        )


def _reference_blas() -> bool:
    """True for torch builds on the reference (netlib) BLAS, e.g. Debian's python3-torch without
    OpenBLAS: their float32 matmuls run ~10x slower than oneDNN's on the same CPU."""
    choice = os.environ.get("SLAYER_CPU_LINEAR", "auto")
    if choice != "auto":
        return choice == "onednn"
    try:
        return "BLAS_INFO=generic" in torch.__config__.show() and torch.backends.mkldnn.is_available() \
            and hasattr(torch._C._nn, "mkldnn_linear")
    except Exception:  # noqa: BLE001 — any doubt: use the ordinary path
        return False


ONEDNN_LINEAR = _reference_blas()


def _onednn_mm(a: torch.Tensor, b_t: torch.Tensor) -> torch.Tensor:
    """a @ b_t.T for 2-D float32 CPU tensors through oneDNN."""
    return torch._C._nn.mkldnn_linear(a.contiguous().to_mkldnn(), b_t.contiguous().to_mkldnn(), None).to_dense()


class _OneDnnLinear(torch.autograd.Function):
    """y = x Wᵀ + b with oneDNN kernels, gradients included (only those that are needed)."""

    @staticmethod
    def forward(ctx: Any, x: torch.Tensor, w: torch.Tensor, b: Optional[torch.Tensor]) -> torch.Tensor:
        ctx.save_for_backward(x, w)
        ctx.has_bias = b is not None
        x2 = x.reshape(-1, x.shape[-1])
        y = _onednn_mm(x2, w)
        if b is not None:
            y = y + b
        return y.view(*x.shape[:-1], w.shape[0])

    @staticmethod
    def backward(ctx: Any, g: torch.Tensor) -> Any:
        x, w = ctx.saved_tensors
        g2 = g.reshape(-1, g.shape[-1])
        dx = dw = db = None
        if ctx.needs_input_grad[0]:
            dx = _onednn_mm(g2, w.t()).view(x.shape)
        if ctx.needs_input_grad[1]:
            dw = _onednn_mm(g2.t(), x.reshape(-1, x.shape[-1]).t())
        if ctx.has_bias and ctx.needs_input_grad[2]:
            db = g2.sum(0)
        return dx, dw, db


class Linear(nn.Linear):
    """nn.Linear (same parameters and names); on reference-BLAS CPU builds the float32 matmuls go
    through oneDNN instead (see ONEDNN_LINEAR)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if ONEDNN_LINEAR and x.device.type == "cpu" and x.dtype == torch.float32 and self.weight.dtype == torch.float32:
            return _OneDnnLinear.apply(x, self.weight, self.bias)
        return F.linear(x, self.weight, self.bias)


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
        self.q_proj = Linear(h, cfg.num_heads * d, bias=cfg.qkv_bias, device=device)
        self.k_proj = Linear(h, cfg.num_kv_heads * d, bias=cfg.qkv_bias, device=device)
        self.v_proj = Linear(h, cfg.num_kv_heads * d, bias=cfg.qkv_bias, device=device)
        self.o_proj = Linear(cfg.num_heads * d, h, bias=cfg.o_bias, device=device)

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
        y = causal_attention(q, k, v)
        return self.o_proj(y.transpose(1, 2).reshape(b, t, c.num_heads * c.head_dim))


_SDPA = getattr(F, "scaled_dot_product_attention", None)


def causal_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    if _SDPA is not None:
        return _SDPA(q, k, v, is_causal=True)
    t = q.shape[-2]
    scores = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(q.shape[-1]))
    mask = torch.ones(t, t, dtype=torch.bool, device=q.device).triu(1)
    scores = scores.masked_fill(mask, float("-inf"))
    return torch.softmax(scores.float(), dim=-1).to(q.dtype) @ v


class MLP(nn.Module):
    def __init__(self, cfg: ModelConfig, device: Device = None) -> None:
        super().__init__()
        h, i = cfg.hidden_size, cfg.intermediate_size
        self.gate_proj = Linear(h, i, bias=cfg.mlp_bias, device=device)
        self.up_proj = Linear(h, i, bias=cfg.mlp_bias, device=device)
        self.down_proj = Linear(i, h, bias=cfg.mlp_bias, device=device)

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
        self.cfg = cfg
        self.model = Backbone(cfg, device)
        self.lm_head = Linear(cfg.hidden_size, cfg.vocab_size, bias=False, device=device)
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
    return {"bfloat16": torch.bfloat16, "float16": torch.float16, "float32": torch.float32}.get(name or "float32", torch.float32)


@torch.no_grad()
def token_logprobs(model: CausalLM, input_ids: torch.Tensor,
                   layers: Optional[Sequence[nn.Module]] = None) -> torch.Tensor:
    """log p(x_{t+1} | x_≤t) for every position but the last: shape (B, T-1), float32."""
    logits = model(input_ids, layers).float()
    logp = torch.log_softmax(logits[:, :-1], dim=-1)
    return logp.gather(-1, input_ids[:, 1:].unsqueeze(-1)).squeeze(-1)


def read_config(model_dir: str | os.PathLike[str]) -> Dict[str, Any]:
    from .checkpoint import load_config  # the one reader: nothing outside the checkpoint, no FIFOs
    return load_config(model_dir)


def checkpoint_files(model_dir: str | os.PathLike[str]) -> list[str]:
    """The safetensors files of a checkpoint directory (the index's shards, or model.safetensors),
    checked by the one reader (checkpoint_files.py): headers valid, nothing outside the directory."""
    from .checkpoint import Checkpoint
    with Checkpoint(model_dir) as ck:
        return [str(p) for p in ck.shard_paths()]


def load_pretrained(model_dir: str | os.PathLike[str], dtype: Optional[torch.dtype] = None,
                    device: str | torch.device = "cpu") -> CausalLM:
    """Builds the model from a Hugging Face checkpoint directory, shard by shard.

    dtype None keeps the checkpoint's `torch_dtype`. Tensors are copied into the model as each
    shard is read, so peak host memory is the model plus one shard.
    """
    from .safetensors_io import iter_file

    cfg = read_config(model_dir)
    # Built on the meta device, then given storage in the final dtype on the final device: no
    # float32 copy of the whole model on the host, no random initialisation of billions of weights.
    model = CausalLM(ModelConfig.from_hf(cfg), device="meta").to(dtype=dtype or torch_dtype(cfg.get("torch_dtype")))
    model = model.to_empty(device=device)
    model.tie()
    params = dict(model.named_parameters())
    expected = set(tensor_names(model))
    seen: set[str] = set()
    with torch.no_grad():
        for path in checkpoint_files(model_dir):
            for name, t in iter_file(path):
                if name == "lm_head.weight" and model.cfg.tie_embeddings or name.endswith("rotary_emb.inv_freq"):
                    continue
                if name not in expected:
                    raise KeyError(f"{path}: unexpected tensor {name}")
                if tuple(t.shape) != tuple(params[name].shape):
                    raise ValueError(f"{name}: checkpoint shape {tuple(t.shape)} != model {tuple(params[name].shape)}")
                params[name].copy_(t.to(params[name].dtype))
                seen.add(name)
    missing = sorted(expected - seen)
    if missing:
        raise KeyError(f"{model_dir}: missing tensors {missing[:5]}{' …' if len(missing) > 5 else ''}")
    return model
