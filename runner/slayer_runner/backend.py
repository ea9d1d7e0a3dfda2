"""The model backend: which code computes the decoder, behind one seam.

- ``transformers`` (when importable, as on every GPU host): ``AutoModelForCausalLM`` with
  ``attn_implementation`` "sdpa" ("flash_attention_2" when ``flash_attn`` is importable and the
  device is CUDA), its own gradient checkpointing, every family in ``model-families.json``.
- ``builtin``: the in-house model (``model.py``) — the dependency-free fallback for Llama,
  Mistral and Qwen2, and the reference the parity tests hold transformers to.

Both are returned as a module with the same surface, so importance and training need not know
which one they hold: ``model(input_ids, layers=None) -> logits``, ``.blocks`` (the decoder blocks,
``model.layers``), ``.model.norm``, ``.model.embed_tokens``, ``.lm_head``, ``.cfg`` (a
``ModelConfig``) and ``.activation_checkpointing``. Parameter names are the checkpoint's tensor
names under either backend. ``decoder_blocks``, ``family`` and ``describe`` name the rest.
"""
from __future__ import annotations

import importlib.util
import os
from typing import Any, Optional, Sequence, Union

import torch
from torch import nn

from .model import CausalLM, load_pretrained, torch_dtype
from .modelconfig import ModelConfig, ModelConfigError, config_dtype, read_config

BACKENDS = ("auto", "transformers", "builtin")
ATTENTION = ("auto", "sdpa", "flash_attention_2", "eager")


class BackendError(RuntimeError):
    """The backend or attention kernel asked for cannot run here."""


def available(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def choose_backend(choice: str, cfg: Optional[ModelConfig] = None) -> str:
    """"transformers" or "builtin" for a choice of BACKENDS (auto: transformers when importable)."""
    if choice not in BACKENDS:
        raise BackendError(f"unknown backend {choice!r} ({', '.join(BACKENDS)})")
    if choice == "auto":
        choice = "transformers" if available("transformers") else "builtin"
    if choice == "transformers" and not available("transformers"):
        raise BackendError("backend transformers asked for, but transformers is not importable here")
    if choice == "builtin" and cfg is not None and not cfg.builtin:
        raise BackendError(f"the in-house model does not compute {cfg.model_type} models: install transformers "
                           "on this host, or choose backend auto/transformers")
    return choice


def choose_attention(choice: str, device: Union[str, torch.device], dtype: Optional[torch.dtype] = None) -> str:
    """The attention kernel transformers is asked for: auto = flash_attention_2 on CUDA when
    flash_attn is importable and the weights are half precision (its kernels take no float32),
    else sdpa."""
    if choice not in ATTENTION:
        raise BackendError(f"unknown attention implementation {choice!r} ({', '.join(ATTENTION)})")
    cuda = torch.device(device).type == "cuda"
    if choice == "auto":
        half = dtype is None or dtype in (torch.bfloat16, torch.float16)
        return "flash_attention_2" if cuda and half and available("flash_attn") else "sdpa"
    if choice == "flash_attention_2" and not (cuda and available("flash_attn")):
        raise BackendError("flash_attention_2 needs a CUDA device and the flash_attn package")
    return choice


class HFCausalLM(nn.Module):
    """A transformers causal LM seen through the runner's surface. Its backbone and head are this
    module's children under their own names, so parameter names are the checkpoint's."""

    def __init__(self, hf: nn.Module, cfg: ModelConfig, attention: str) -> None:
        super().__init__()
        object.__setattr__(self, "hf", hf)  # not a child: its modules are, by their own names
        self.cfg = cfg
        self.attention = attention
        self.model = hf.model  # type: ignore[attr-defined]
        self.lm_head = hf.lm_head  # type: ignore[attr-defined]
        hf.config.use_cache = False  # type: ignore[attr-defined]
        types = getattr(hf.config, "layer_types", None)  # type: ignore[attr-defined]
        for i, block in enumerate(self.model.layers):
            # Each block carries its attention type (full/sliding), so a block list rebuilt for
            # importance keeps every block's mask and rotary embedding; copies inherit it.
            block.slayer_layer_type = types[i] if types else None
        self._checkpointing = False

    @property
    def blocks(self) -> nn.ModuleList:
        return self.model.layers

    @property
    def activation_checkpointing(self) -> bool:
        return self._checkpointing

    @activation_checkpointing.setter
    def activation_checkpointing(self, on: Optional[bool]) -> None:
        self._checkpointing = bool(on)
        if on:
            self.hf.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
        else:
            self.hf.gradient_checkpointing_disable()

    def train(self, mode: bool = True) -> "HFCausalLM":
        super().train(mode)
        self.hf.training = mode
        return self

    def tie(self) -> None:
        if self.cfg.tie_embeddings:
            self.hf.tie_weights()

    def forward(self, input_ids: torch.Tensor, layers: Optional[Sequence[nn.Module]] = None) -> torch.Tensor:
        if layers is None:
            return self.hf(input_ids=input_ids, use_cache=False).logits
        # transformers runs `model.layers[:num_hidden_layers]` with `layer_types[i]` for layer i:
        # swap all three for the call.
        config = self.hf.config
        saved = (self.model.layers, config.num_hidden_layers, getattr(config, "layer_types", None))
        try:
            self.model.layers = nn.ModuleList(layers)
            config.num_hidden_layers = len(layers)
            if saved[2] is not None:
                config.layer_types = [b.slayer_layer_type for b in layers]
            return self.hf(input_ids=input_ids, use_cache=False).logits
        finally:
            self.model.layers, config.num_hidden_layers = saved[0], saved[1]
            if saved[2] is not None:
                config.layer_types = saved[2]


DecoderLM = Union[CausalLM, HFCausalLM]


def load_model(model_dir: str | os.PathLike[str], dtype: Optional[torch.dtype] = None,
               device: Union[str, torch.device] = "cpu", backend: str = "auto",
               attention: str = "auto") -> DecoderLM:
    """The checkpoint as a model of the chosen backend, in `dtype` (None: the checkpoint's) on `device`."""
    config = read_config(model_dir)
    cfg = ModelConfig.from_hf(config)
    which = choose_backend(backend, cfg)
    if which == "builtin":
        return load_pretrained(model_dir, dtype=dtype, device=device)
    import transformers
    from transformers import AutoModelForCausalLM

    transformers.utils.logging.disable_progress_bar()  # runner.log is no terminal
    dtype = dtype or torch_dtype(config_dtype(config))
    kernel = choose_attention(attention, device, dtype)
    # transformers opens the files itself: the checkpoint is read by the one rule first (nothing
    # outside it, no FIFOs, valid headers and index), so it never opens what the runner would refuse.
    # The headers are thus parsed twice, on purpose: handing transformers our tensors instead
    # (`state_dict=`) would hold the weights twice while it copies them and bypass its own loading
    # (memory-mapped shards, per-family key renames, tied weights). The first pass is cheap: 36 ms
    # of 0.67 s for a tiny 4-shard checkpoint, 48 ms of 0.68 s with 16 shards (loaded shared machine).
    from .checkpoint import Checkpoint
    Checkpoint(model_dir).close()
    try:
        hf = AutoModelForCausalLM.from_pretrained(str(model_dir), attn_implementation=kernel, **_dtype_kwarg(dtype))
    except (OSError, ValueError) as err:
        raise ModelConfigError(f"transformers cannot load {model_dir}: {err}") from err
    return HFCausalLM(hf.to(device), cfg, kernel)


def empty_model(model_dir: str | os.PathLike[str], dtype: torch.dtype, backend: str = "auto",
                attention: str = "auto") -> DecoderLM:
    """The checkpoint's architecture on the meta device, without weights: FSDP shards it first and
    then gives each rank only its part of every tensor (`distributed.load_shards`)."""
    config = read_config(model_dir)
    cfg = ModelConfig.from_hf(config)
    if choose_backend(backend, cfg) == "builtin":
        return CausalLM(cfg, device="meta").to(dtype)
    from transformers import AutoConfig, AutoModelForCausalLM

    kernel = choose_attention(attention, "meta", dtype)
    hf_config = AutoConfig.from_pretrained(str(model_dir))
    with torch.device("meta"):
        hf = AutoModelForCausalLM.from_config(hf_config, attn_implementation=kernel, **_dtype_kwarg(dtype))
    return HFCausalLM(hf, cfg, kernel)


def restore_buffers(model: nn.Module, device: torch.device) -> None:
    """Recomputes the buffers a checkpoint does not hold (transformers' rotary tables) after
    `to_empty` gave the model uninitialised storage. The in-house model has none: it computes
    RoPE per call."""
    if not isinstance(model, HFCausalLM):
        return
    for module in model.hf.modules():
        names = getattr(module, "_non_persistent_buffers_set", set())
        if not names:
            continue
        fresh = type(module)(config=module.config, device=device)  # rotary embeddings: the only such modules
        for name in names:
            setattr(module, name, getattr(fresh, name).to(device))
        for name, value in vars(fresh).items():  # plain tensor attributes too (original_inv_freq)
            if isinstance(value, torch.Tensor):
                setattr(module, name, value.to(device))


def _dtype_kwarg(dtype: torch.dtype) -> dict[str, torch.dtype]:
    """transformers < 4.56 names the dtype argument torch_dtype (the floor we accept is 4.45)."""
    import transformers

    return {"dtype" if _version(transformers.__version__) >= (4, 56) else "torch_dtype": dtype}


def _version(text: str) -> tuple[int, int]:
    parts = [int("".join(c for c in p if c.isdigit()) or 0) for p in text.split(".")[:2]]
    return (parts + [0, 0])[0], (parts + [0, 0])[1]


def describe(model: nn.Module) -> str:
    """One line for logs: backend, family, attention kernel."""
    cfg: ModelConfig = model.cfg  # type: ignore[assignment]
    if isinstance(model, HFCausalLM):
        return f"transformers {type(model.hf).__name__} ({cfg.model_type}), attention {model.attention}"
    return f"in-house model ({cfg.model_type}), attention sdpa"


def decoder_blocks(model: nn.Module) -> nn.ModuleList:
    """The decoder blocks (``model.layers``) of either backend."""
    return model.blocks  # type: ignore[return-value]


def family(model: nn.Module) -> str:
    """The model's family (config.json's model_type)."""
    return str(model.cfg.model_type)  # type: ignore[union-attr]


def backend_of(model: nn.Module) -> str:
    return "transformers" if isinstance(model, HFCausalLM) else "builtin"


def report(device: Union[str, torch.device], backend: str = "auto", attention: str = "auto") -> dict[str, Any]:
    """What `load_model` would use on this host (doctor prints it): backend and attention kernel,
    or the reason it cannot run."""
    out: dict[str, Any] = {"backend": None, "attention": None, "problem": None}
    try:
        out["backend"] = choose_backend(backend)
        out["attention"] = choose_attention(attention, device) if out["backend"] == "transformers" else "sdpa"
    except BackendError as err:
        out["problem"] = str(err)
    return out
