"""The one "does the plan fit" rule (contracts/training-memory.json), torch-free.

The twin of memoryPerGpu/fitVerdict in src/core/accounting.ts (the plan's hover and SL051): the
doctor judges a host with it and the trainer picks DDP or FSDP with it, from the LayerMap's
parameter counts, so the editor, the doctor and the trainer give one answer.
"""
from __future__ import annotations

from dataclasses import dataclass

from . import contracts


@dataclass(frozen=True)
class MemoryEstimate:
    """Bytes per GPU for weights and optimizer state (activations come on top)."""
    strategy: str
    gpus: int
    weights: float
    gradients: float
    optimizer: float
    master: float

    @property
    def total(self) -> float:
        return self.weights + self.gradients + self.optimizer + self.master


def memory_per_gpu(total: int, trainable: int, gpus: int, strategy: str, precision: str = "bf16") -> MemoryEstimate:
    b = contracts.load("training-memory.json")["bytesPerParameter"][precision]
    shard = max(1, gpus) if strategy == "fsdp" else 1
    return MemoryEstimate(strategy, gpus, total * b["weights"] / shard, trainable * b["gradients"] / shard,
                          trainable * b["optimizer"] / shard, trainable * b["master"] / shard)


def plan_memory(layer_map: dict, gpus: int) -> dict[str, MemoryEstimate]:
    """DDP and FSDP estimates for a LayerMap over ``gpus`` GPUs, at its first stage's precision."""
    params = layer_map["params"]
    stages = layer_map.get("stages") or []
    precision = stages[0]["precision"] if stages else "bf16"
    return {s: memory_per_gpu(int(params["total"]), int(params["trainable"]), gpus, s, precision)
            for s in ("ddp", "fsdp")}


def fit_verdict(memory: dict[str, MemoryEstimate], device_bytes: float) -> str:
    """'ddp' when one GPU holds everything, 'fsdp' when only sharding fits, else 'none'."""
    if memory["ddp"].total <= device_bytes:
        return "ddp"
    return "fsdp" if memory["fsdp"].total <= device_bytes else "none"
