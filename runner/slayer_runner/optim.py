"""Optimizer and schedule of a training stage, and how many steps and micro-batches it takes.

AdamW with β 0.9/0.95 (the paper's Table 5), weight decay on matrices only; linear warm-up over
⌈warmup·steps⌉ steps, then cosine (or linear/constant) decay to 10% of the peak.
"""
from __future__ import annotations

import math
from typing import Any, List, Mapping, Optional

import torch
from torch import nn

MIN_LR_RATIO = 0.1
BETAS = (0.9, 0.95)


def make_optimizer(params: List[nn.Parameter], lr: float, weight_decay: float) -> torch.optim.AdamW:
    decay = [p for p in params if p.dim() >= 2]
    no_decay = [p for p in params if p.dim() < 2]
    groups = [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
    return torch.optim.AdamW([g for g in groups if g["params"]], lr=lr, betas=BETAS, eps=1e-8)


def lr_factor(step: int, total: int, warmup: float, schedule: str) -> float:
    """Multiplier of the peak lr for optimizer step `step` (0-based) of `total`."""
    warm = int(math.ceil(warmup * total)) if warmup > 0 else 0
    if step < warm:
        return (step + 1) / warm
    if schedule == "constant":
        return 1.0
    progress = min(1.0, (step - warm) / max(1, total - warm))
    if schedule == "linear":
        return 1.0 - (1.0 - MIN_LR_RATIO) * progress
    return MIN_LR_RATIO + (1.0 - MIN_LR_RATIO) * 0.5 * (1.0 + math.cos(math.pi * progress))


def make_schedule(opt: torch.optim.Optimizer, stage: Mapping[str, Any], steps: int) -> torch.optim.lr_scheduler.LambdaLR:
    warmup, schedule = float(stage.get("warmup", 0.0)), str(stage.get("schedule", "cosine"))
    return torch.optim.lr_scheduler.LambdaLR(opt, lambda s: lr_factor(s, steps, warmup, schedule))


def stage_steps(stage: Mapping[str, Any], epoch_tokens: int, max_steps: Optional[int]) -> int:
    """`steps`, else ⌈tokens·epochs / (batch·seqLen)⌉, else one pass per epoch; capped by max_steps."""
    per_step = int(stage["batchSequences"]) * int(stage["seqLen"])
    if stage.get("steps"):
        steps = int(stage["steps"])
    else:
        budget = int(stage["tokens"]) if stage.get("tokens") else epoch_tokens
        steps = math.ceil(budget * float(stage.get("epochs") or 1) / per_step)
    steps = max(1, steps)
    return min(steps, max_steps) if max_steps else steps


def micro_batch(per_rank: int, seq_len: int, micro_batch_tokens: int) -> int:
    """The largest divisor of the per-rank batch that fits `micro_batch_tokens`."""
    cap = max(1, micro_batch_tokens // seq_len)
    return max(d for d in range(1, per_rank + 1) if per_rank % d == 0 and d <= cap)
