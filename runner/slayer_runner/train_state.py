"""Training checkpoints for exact resume, written the same way in one process, under DDP and under
FSDP2.

`out/checkpoints/stageS-stepN/` holds
- `tensors/`: the trainable parameters and the optimizer state through torch.distributed.checkpoint
  (DCP): under FSDP each rank writes its own shards, under DDP one copy is written; loading
  reshards, so a run may resume on another number of processes;
- `state.pt`: stage, step, tokens, scheduler, data position (rank 0);
- `rng-rankR.pt`: each rank's torch/CUDA/Python/numpy RNG states.
It is written to a temporary directory and renamed, then `latest` is pointed at it; the last two
are kept.
"""
from __future__ import annotations

import hashlib
import os
import random
import shutil
import warnings
from pathlib import Path
from typing import Any, Dict, Iterable, Mapping, Optional, Tuple

import numpy as np
import torch
import torch.distributed.checkpoint as dcp
from torch import nn
from torch.distributed.checkpoint.state_dict import (StateDictOptions, get_model_state_dict,
                                                     get_optimizer_state_dict, set_model_state_dict,
                                                     set_optimizer_state_dict)

from .distributed import Dist

CHECKPOINT_VERSION = 2
# Only the trainable parameters are saved: the frozen ones are the expanded checkpoint's.
TRAINABLE = StateDictOptions(ignore_frozen_params=True)


# One process saves and loads without a process group; DCP says so on every call.
warnings.filterwarnings("ignore", message="torch.distributed is disabled, unavailable or uninitialized")


class CheckpointError(RuntimeError):
    pass


def rng_state() -> Dict[str, Any]:
    return {"torch": torch.get_rng_state(), "python": random.getstate(), "numpy": np.random.get_state(),
            "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else None}


def set_rng_state(s: Mapping[str, Any]) -> None:
    torch.set_rng_state(s["torch"])
    random.setstate(s["python"])
    np.random.set_state(s["numpy"])
    if s.get("cuda") is not None and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(s["cuda"])


def _load(path: Path) -> Any:
    # Our own files hold RNG states (numpy arrays, tuples): not weights-only (torch >= 2.6 default).
    return torch.load(path, map_location="cpu", weights_only=False)


def digest(tensors: Iterable[Tuple[str, torch.Tensor]]) -> str:
    """sha256 of named tensors' bytes: ranks (and runs) compare it to prove they agree."""
    h = hashlib.sha256()
    for n, t in tensors:
        h.update(n.encode())
        h.update(t.detach().float().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()


class CheckpointStore:
    def __init__(self, root: Path, d: Dist) -> None:
        self.root = root
        self.d = d

    def latest(self) -> Optional[Path]:
        p = self.root / "latest"
        if not p.exists():
            return None
        ckpt = self.root / p.read_text().strip()
        return ckpt if (ckpt / "state.pt").exists() else None

    def save(self, wrapped: nn.Module, opt: torch.optim.Optimizer, meta: Mapping[str, Any]) -> str:
        """Every rank calls it. Returns the checkpoint's name."""
        name = f"stage{meta['stage']}-step{meta['step']:08d}"
        final, tmp = self.root / name, self.root / f".{name}.tmp"
        if self.d.main:
            shutil.rmtree(tmp, ignore_errors=True)
            tmp.mkdir(parents=True)
        self.d.barrier()
        tensors = {"model": get_model_state_dict(wrapped, options=TRAINABLE),
                   "optim": get_optimizer_state_dict(wrapped, opt, options=TRAINABLE)}
        dcp.save(tensors, checkpoint_id=str(tmp / "tensors"))
        torch.save(rng_state(), tmp / f"rng-rank{self.d.rank}.pt")  # per rank: each has its own streams
        self.d.barrier()
        if self.d.main:
            torch.save({**meta, "version": CHECKPOINT_VERSION}, tmp / "state.pt")
            shutil.rmtree(final, ignore_errors=True)
            os.replace(tmp, final)
            (self.root / "latest.tmp").write_text(name)
            os.replace(self.root / "latest.tmp", self.root / "latest")
            kept = sorted(p for p in self.root.iterdir() if p.is_dir() and p.name.startswith("stage"))
            for old in kept[:-2]:
                shutil.rmtree(old, ignore_errors=True)
        self.d.barrier()
        return name

    def load_meta(self) -> Optional[Dict[str, Any]]:
        """The latest checkpoint's stage/step/scheduler/data state, this rank's RNG and its path."""
        latest = self.latest()
        if latest is None:
            return None
        meta = _load(latest / "state.pt")
        if meta.get("version") != CHECKPOINT_VERSION:
            raise CheckpointError(f"{latest}: checkpoint version {meta.get('version')} is not {CHECKPOINT_VERSION} "
                                  "(written by another runner version; remove out/checkpoints to start over)")
        rng = latest / f"rng-rank{self.d.rank}.pt"
        meta["rng"] = _load(rng) if rng.exists() else None
        meta["path"] = str(latest)
        return meta

    def load_model(self, path: str, wrapped: nn.Module) -> None:
        """The trainable parameters into the (wrapped) model, resharded to this run's processes."""
        sd = get_model_state_dict(wrapped, options=TRAINABLE)
        dcp.load({"model": sd}, checkpoint_id=str(Path(path) / "tensors"))
        set_model_state_dict(wrapped, sd, options=StateDictOptions(ignore_frozen_params=True, strict=False))

    def load_optimizer(self, path: str, wrapped: nn.Module, opt: torch.optim.Optimizer) -> None:
        osd = get_optimizer_state_dict(wrapped, opt, options=TRAINABLE)
        dcp.load({"optim": osd}, checkpoint_id=str(Path(path) / "tensors"))
        set_optimizer_state_dict(wrapped, opt, osd, options=TRAINABLE)
