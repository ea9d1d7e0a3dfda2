"""Distributed set-up for training: the process group, DDP or FSDP2, and the few operations whose
form depends on which wrapper holds the model (gradient sync, clipping, gathering the full model).

- Under torchrun/srun (WORLD_SIZE > 1) each process joins the group: gloo on CPU, nccl on CUDA.
- DDP when the model fits one device; FSDP2 (`fully_shard`) when asked or when it does not.
- FSDP2 puts every block in a unit of its own, and the embedding, final norm and head in theirs
  (one for embedding + head when tied), so every unit is wholly trainable or wholly frozen:
  gradients and optimizer state exist only for the trainable units' shards.
"""
from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Dict, Iterable, Iterator, List, Mapping, Optional, Set, Tuple

import torch
import torch.distributed as dist
from torch import nn

try:  # public from torch 2.6; 2.4–2.5 ship the same API under _composable
    from torch.distributed.fsdp import FSDPModule, MixedPrecisionPolicy, fully_shard
except ImportError:  # pragma: no cover - depends on the torch version
    try:
        from torch.distributed._composable.fsdp import FSDPModule, MixedPrecisionPolicy, fully_shard  # type: ignore
    except ImportError:
        FSDPModule = MixedPrecisionPolicy = fully_shard = None  # type: ignore

FSDP2_AVAILABLE = fully_shard is not None


class DistributedError(RuntimeError):
    pass


@dataclass
class Dist:
    rank: int = 0
    world: int = 1
    local_rank: int = 0
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))

    @property
    def main(self) -> bool:
        return self.rank == 0

    def barrier(self) -> None:
        if self.world > 1:
            dist.barrier()

    def any(self, flag: bool) -> bool:
        """True on every rank when it is true on any (a MAX all-reduce): all ranks stop together."""
        if self.world == 1:
            return flag
        t = torch.tensor([1.0 if flag else 0.0], device=self.collective_device)
        dist.all_reduce(t, op=dist.ReduceOp.MAX)
        return bool(t.item() > 0)

    @property
    def collective_device(self) -> torch.device:
        return self.device if self.device.type == "cuda" else torch.device("cpu")


def init_distributed(device: str = "auto") -> Dist:
    """Joins the process group when started by torchrun/srun (WORLD_SIZE > 1)."""
    use_cuda = torch.cuda.is_available() if device == "auto" else device == "cuda"
    if device == "cuda" and not torch.cuda.is_available():
        raise DistributedError("run.json asks for CUDA but torch sees no CUDA device")
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank, local = int(os.environ.get("RANK", "0")), int(os.environ.get("LOCAL_RANK", "0"))
    dev = torch.device(f"cuda:{local}" if use_cuda else "cpu")
    if use_cuda:
        torch.cuda.set_device(dev)
    if world > 1 and not dist.is_initialized():
        # Rank 0 may spend a while on surgery/importance while the others wait at a barrier.
        dist.init_process_group("nccl" if use_cuda else "gloo", timeout=timedelta(hours=3))
    return Dist(rank, world, local, dev)


# ---------------------------------------------------------------------------------------------
# Choosing and applying the wrapper

def fsdp_wanted(d: Dist, asked: Optional[bool], layer_map: Mapping[str, Any]) -> bool:
    """FSDP when asked, or on CUDA with several processes when the plan does not fit one GPU under
    DDP by the one fit rule (memory.py: the doctor's and the plan hover's)."""
    if asked is not None:
        return asked and d.world > 1
    if d.device.type != "cuda" or d.world == 1:
        return False
    from .memory import fit_verdict, plan_memory

    device_bytes = torch.cuda.get_device_properties(d.device).total_memory
    return fit_verdict(plan_memory(dict(layer_map), d.world), device_bytes) != "ddp"


def fsdp_units(model: nn.Module) -> List[nn.Module]:
    """The modules that become FSDP units, innermost first (the root, `model`, comes last).

    One per block; the final norm; the embedding and the head each on their own when untied. A
    tied embedding/head pair must share a unit, so it stays in the root, which then holds nothing
    else."""
    backbone = model.model  # type: ignore[attr-defined]
    units: List[nn.Module] = list(backbone.layers)
    units.append(backbone.norm)
    if model.lm_head.weight is not backbone.embed_tokens.weight:  # type: ignore[attr-defined]
        units += [backbone.embed_tokens, model.lm_head]  # type: ignore[attr-defined]
    return units + [model]


def wrap(model: nn.Module, d: Dist, use_fsdp: bool, compute_dtype: Optional[torch.dtype]) -> nn.Module:
    """DDP or FSDP2 around `model` (returned unchanged in one process)."""
    if d.world == 1:
        return model
    if use_fsdp:
        return shard(model, d, compute_dtype)
    from torch.nn.parallel import DistributedDataParallel as DDP

    ids = [d.device.index] if d.device.type == "cuda" else None
    return DDP(model, device_ids=ids, broadcast_buffers=False)


def shard(model: nn.Module, d: Dist, compute_dtype: Optional[torch.dtype]) -> nn.Module:
    """FSDP2 in place: `model` itself becomes the root FSDP module.

    Trainable units on CUDA compute in `compute_dtype` (bf16) and reduce gradients in fp32; frozen
    units keep the checkpoint's half precision and have nothing to reduce."""
    if not FSDP2_AVAILABLE:
        raise DistributedError(f"FSDP needs torch >= 2.4 (fully_shard); this host has {torch.__version__}")
    from torch.distributed.device_mesh import init_device_mesh

    mesh = init_device_mesh(d.device.type, (d.world,))
    units = fsdp_units(model)
    inner = {id(p) for u in units[:-1] for p in u.parameters()}
    own = [list(u.parameters()) for u in units[:-1]] + [[p for p in model.parameters() if id(p) not in inner]]
    for unit, params in zip(units, own):
        trainable = {p.requires_grad for p in params}
        if len(trainable) > 1:
            raise DistributedError(f"FSDP unit {type(unit).__name__} mixes trainable and frozen parameters")
        kwargs: Dict[str, Any] = {"mesh": mesh}
        if compute_dtype is not None and trainable == {True}:
            kwargs["mp_policy"] = MixedPrecisionPolicy(param_dtype=compute_dtype, reduce_dtype=torch.float32)
        fully_shard(unit, **kwargs)
    return model


def load_shards(model: nn.Module, tensors: Iterable[Tuple[str, torch.Tensor]], d: Dist) -> Set[str]:
    """Gives a model sharded on the meta device its storage and copies in this rank's part of each
    checkpoint tensor, one tensor at a time: no rank ever holds the whole model. Returns the names
    loaded (a tied head is the embedding and is skipped)."""
    from torch.distributed.tensor import distribute_tensor

    model.to_empty(device=d.device)
    params = dict(model.named_parameters())  # de-duplicated: a tied lm_head is not listed
    seen: Set[str] = set()
    with torch.no_grad():
        for name, full in tensors:
            if name not in params:
                continue
            p = params[name]
            if tuple(full.shape) != tuple(p.shape):
                raise DistributedError(f"{name}: checkpoint shape {tuple(full.shape)} != model {tuple(p.shape)}")
            # src_data_rank=None: every rank read the same tensor, so each slices its own shard locally.
            mine = distribute_tensor(full.to(d.device, p.dtype), p.device_mesh, p.placements, src_data_rank=None)
            p.to_local().copy_(mine.to_local())
            seen.add(name)
    return seen


def is_fsdp(wrapped: nn.Module) -> bool:
    return FSDP2_AVAILABLE and isinstance(wrapped, FSDPModule)


# ---------------------------------------------------------------------------------------------
# Operations whose form depends on the wrapper

@contextlib.contextmanager
def gradient_sync(wrapped: nn.Module, enabled: bool) -> Iterator[None]:
    """Micro-batches before the last accumulate locally; the last one reduces across ranks."""
    if is_fsdp(wrapped):
        wrapped.set_requires_gradient_sync(enabled)  # type: ignore[attr-defined]
        yield
    elif not enabled and hasattr(wrapped, "no_sync"):
        with wrapped.no_sync():  # type: ignore[operator]
            yield
    else:
        yield


def clip_gradients(params: List[nn.Parameter], clip: float) -> float:
    """Clips to `clip` (no clipping when 0) and returns the norm before clipping — over all shards
    under FSDP (the gradients are DTensors and the norm is reduced across ranks)."""
    norm = torch.nn.utils.clip_grad_norm_(params, clip if clip > 0 else float("inf"))
    if hasattr(norm, "full_tensor"):
        norm = norm.full_tensor()
    return float(norm)


def full_state_dict(wrapped: nn.Module) -> Dict[str, torch.Tensor]:
    """The whole model's tensors (checkpoint names) on CPU; under FSDP gathered to rank 0 (the other
    ranks get an empty dict). Every rank must call it."""
    from torch.distributed.checkpoint.state_dict import StateDictOptions, get_model_state_dict

    if is_fsdp(wrapped):
        sd = get_model_state_dict(wrapped, options=StateDictOptions(full_state_dict=True, cpu_offload=True))
    else:
        sd = get_model_state_dict(wrapped)
    return {k: v.detach().cpu() for k, v in sd.items()}
