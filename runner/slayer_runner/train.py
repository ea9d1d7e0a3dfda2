"""Training: the LayerMap's stages (CPT, then SFT) on the expanded model, only the trainable set.

Read top to bottom: `Trainer.run` → per stage `_run_stage` → per optimizer step `_step`.
- trainable set: blocks with `trainable: true` plus `trainableExtras`; everything else has
  requires_grad False. Its size is checked against the plan's `params.trainable`.
- AdamW (β 0.9/0.95 as in the paper's Table 5; weight decay on matrices only), warm-up then
  cosine (or linear/constant) decay to 10% of the peak, gradient clipping, bf16/fp16 autocast on
  CUDA (CPU trains in float32).
- the global batch is the stage's `batchSequences × seqLen`: every rank reads the same global
  batch, keeps its share (sequence r, r + world, …) and accumulates micro-batches of at most
  `micro_batch_tokens`; the loss is the mean over the global batch's target tokens.
- resumable checkpoints every `checkpointEvery` steps (and on cancel): trainable parameters,
  optimizer, scheduler, data position, RNG states; resuming gives bit-identical results.
- DDP under torchrun/srun (gloo on CPU, nccl on CUDA); FSDP (torch ≥ 2.0, CUDA) when the run
  asks for it or the model cannot fit one GPU under DDP.
"""
from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import math
import os
import random
import shutil
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Tuple

import numpy as np
import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import nn

from .cancel import Cancelled, CancelToken
from .data import IGNORE, Batch, load_tokenizer, open_stage_data
from .events import EventWriter, Progress
from .model import CausalLM, load_pretrained, read_config, torch_dtype

CHECKPOINT_VERSION = 1
MIN_LR_RATIO = 0.1
BETAS = (0.9, 0.95)


class TrainError(RuntimeError):
    pass


# ---------------------------------------------------------------------------------------------
# Distributed context

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


def init_distributed(device: str = "auto") -> Dist:
    """Joins the process group when started by torchrun/srun (WORLD_SIZE > 1)."""
    use_cuda = torch.cuda.is_available() if device == "auto" else device == "cuda"
    if device == "cuda" and not torch.cuda.is_available():
        raise TrainError("run.json asks for CUDA but torch sees no CUDA device")
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
# Trainable set, optimizer, schedule

def set_trainable(model: CausalLM, layer_map: Mapping[str, Any]) -> int:
    """Marks the plan's trainable set; returns its parameter count (tied tensors counted once)."""
    blocks = layer_map["blocks"]
    if len(blocks) != len(model.blocks):
        raise TrainError(f"the LayerMap has {len(blocks)} blocks but the model has {len(model.blocks)}")
    for p in model.parameters():
        p.requires_grad_(False)
    for b in blocks:
        if b["trainable"]:
            for p in model.blocks[b["index"]].parameters():
                p.requires_grad_(True)
    extras = set(layer_map.get("trainableExtras", []))
    if "embed" in extras:
        model.model.embed_tokens.weight.requires_grad_(True)
    if "head" in extras:
        model.lm_head.weight.requires_grad_(True)  # the embedding itself when tied
    if "norm" in extras:
        model.model.norm.weight.requires_grad_(True)
    return sum(p.numel() for p in model.parameters() if p.requires_grad)  # parameters() de-duplicates


def trainable_named(model: CausalLM) -> List[Tuple[str, nn.Parameter]]:
    return [(n, p) for n, p in model.named_parameters() if p.requires_grad]


def make_optimizer(model: CausalLM, lr: float, weight_decay: float) -> torch.optim.AdamW:
    decay = [p for _, p in trainable_named(model) if p.dim() >= 2]
    no_decay = [p for _, p in trainable_named(model) if p.dim() < 2]
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


def stage_steps(stage: Mapping[str, Any], epoch_tokens: int, max_steps: Optional[int]) -> int:
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


# ---------------------------------------------------------------------------------------------
# Checkpoints

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


def params_digest(model: CausalLM) -> str:
    """sha256 of the trainable parameters' bytes: ranks compare it to prove they agree."""
    h = hashlib.sha256()
    for n, p in trainable_named(model):
        h.update(n.encode())
        h.update(p.detach().float().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()


# ---------------------------------------------------------------------------------------------

@dataclass
class TrainOptions:
    model_dir: str
    layer_map: Mapping[str, Any]
    output: str
    datasets: Mapping[str, str] = field(default_factory=dict)
    data_base_dir: Optional[str] = None
    max_steps: Optional[int] = None
    device: str = "auto"
    seed: int = 0
    micro_batch_tokens: int = int(os.environ.get("SLAYER_MICRO_BATCH_TOKENS", "16384"))
    fsdp: Optional[bool] = None  # None: automatic (CUDA and the DDP footprint exceeds one GPU)
    # None: on for CUDA, off on CPU; SLAYER_ACTIVATION_CHECKPOINTING=0/1 overrides.
    activation_checkpointing: Optional[bool] = field(default_factory=lambda: {"0": False, "1": True}.get(
        os.environ.get("SLAYER_ACTIVATION_CHECKPOINTING", "")))
    save_model: bool = True
    # Also write the model after each stage but the last to out/stages/NAME (the eval phase's
    # "after each stage"); the last stage's model is out/model.
    stage_models: bool = False


class Trainer:
    def __init__(self, opts: TrainOptions, events: Optional[EventWriter] = None,
                 cancel: Optional[CancelToken] = None, dctx: Optional[Dist] = None) -> None:
        self.o = opts
        self.events = events
        self.cancel = cancel or CancelToken()
        self.d = dctx or init_distributed(opts.device)
        self.out = Path(opts.output)
        self.ckpt_dir = self.out / "checkpoints"
        self.metrics_path = self.out / "metrics.jsonl"
        self.config = read_config(opts.model_dir)

    # -- logging ---------------------------------------------------------------------------
    def log(self, msg: str, level: str = "info") -> None:
        if self.d.main:
            print(msg, flush=True)
            if self.events is not None:
                self.events.log(msg, level)

    # -- model -----------------------------------------------------------------------------
    def _precision(self, stage: Mapping[str, Any]) -> Optional[torch.dtype]:
        if self.d.device.type != "cuda":
            return None
        return {"bf16": torch.bfloat16, "fp16": torch.float16}.get(str(stage.get("precision", "bf16")))

    def _load_model(self) -> Tuple[CausalLM, int]:
        stages = self.o.layer_map.get("stages", [])
        half = self.d.device.type == "cuda" and any(self._precision(s) for s in stages)
        # Frozen weights stay in the checkpoint's half precision on GPU; trainable ones are float32
        # master weights (autocast runs the matmuls in bf16). On CPU everything is float32.
        model = load_pretrained(self.o.model_dir, dtype=torch_dtype(self.config.get("torch_dtype")) if half else torch.float32,
                                device=self.d.device)
        count = set_trainable(model, self.o.layer_map)
        for p in model.parameters():
            if p.requires_grad:
                p.data = p.data.float()
        model.activation_checkpointing = self.o.activation_checkpointing
        if self.o.activation_checkpointing is None:  # on GPUs: long sequences of big models need it
            model.activation_checkpointing = self.d.device.type == "cuda"
        return model, count

    def _fsdp_wanted(self, model: CausalLM) -> bool:
        if self.o.fsdp is not None:
            return self.o.fsdp
        if self.d.device.type != "cuda" or self.d.world == 1:
            return False
        frozen = sum(p.numel() * p.element_size() for p in model.parameters() if not p.requires_grad)
        trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
        need = frozen + trainable * 16  # fp32 weight, grad, two AdamW moments
        return need > 0.8 * torch.cuda.get_device_properties(self.d.device).total_memory

    def _wrap(self, model: CausalLM) -> nn.Module:
        if self.d.world == 1:
            return model
        if self._fsdp_wanted(model):
            return self._wrap_fsdp(model)
        from torch.nn.parallel import DistributedDataParallel as DDP

        ids = [self.d.device.index] if self.d.device.type == "cuda" else None
        return DDP(model, device_ids=ids, broadcast_buffers=False)

    def _wrap_fsdp(self, model: CausalLM) -> nn.Module:
        # Untested here (torch 1.13 on Python 3.11 cannot import FSDP, and there is no GPU). One
        # FSDP unit per block, and the embedding, final norm and head in units of their own (one
        # unit when tied): every flat parameter is then wholly trainable (float32) or wholly
        # frozen (checkpoint dtype), as FSDP requires.
        import functools

        from torch.distributed.fsdp import FullyShardedDataParallel as FSDP
        from torch.distributed.fsdp.wrap import lambda_auto_wrap_policy

        from .model import Block

        if int(torch.__version__.split(".")[0]) < 2:
            raise TrainError("FSDP with a partly frozen model needs torch >= 2.0 (use_orig_params)")
        self.log(f"FSDP over {self.d.world} processes (the model does not fit one GPU under DDP)")
        own = [] if model.cfg.tie_embeddings else [model.model.embed_tokens, model.lm_head]
        own.append(model.model.norm)
        policy = functools.partial(lambda_auto_wrap_policy,
                                   lambda_fn=lambda m: isinstance(m, Block) or any(m is x for x in own))
        return FSDP(model, auto_wrap_policy=policy, device_id=self.d.device, use_orig_params=True)

    def _full_state(self, wrapped: nn.Module, model: CausalLM) -> Dict[str, torch.Tensor]:
        """The whole model's tensors (HF names) on CPU — gathered from all ranks under FSDP."""
        if type(wrapped).__name__ == "FullyShardedDataParallel":
            from torch.distributed.fsdp import FullStateDictConfig, StateDictType
            from torch.distributed.fsdp import FullyShardedDataParallel as FSDP

            with FSDP.state_dict_type(wrapped, StateDictType.FULL_STATE_DICT, FullStateDictConfig(offload_to_cpu=True, rank0_only=True)):
                sd = wrapped.state_dict()
            return {k.replace("_fsdp_wrapped_module.", ""): v for k, v in sd.items()}
        return {k: v.detach().cpu() for k, v in model.state_dict().items()}

    # -- checkpoints -------------------------------------------------------------------------
    def _latest(self) -> Optional[Path]:
        p = self.ckpt_dir / "latest"
        if not p.exists():
            return None
        d = self.ckpt_dir / p.read_text().strip()
        return d if (d / "state.pt").exists() else None

    def _save_checkpoint(self, model: CausalLM, wrapped: nn.Module, state: Dict[str, Any]) -> None:
        """Writes step dir atomically (tmp + rename), then points `latest` at it; keeps the last two."""
        name = f"stage{state['stage']}-step{state['step']:08d}"
        final = self.ckpt_dir / name
        tmp = self.ckpt_dir / f".{name}.tmp"
        full = self._full_state(wrapped, model) if type(wrapped).__name__ == "FullyShardedDataParallel" else None
        if self.d.main:
            shutil.rmtree(tmp, ignore_errors=True)
            tmp.mkdir(parents=True)
        self.d.barrier()
        torch.save(rng_state(), tmp / f"rng-rank{self.d.rank}.pt")  # per rank: each has its own streams
        if full is not None:  # FSDP: each rank's optimizer state covers its own shards
            torch.save(state["optimizer"], tmp / f"optim-rank{self.d.rank}.pt")
            state = {**state, "optimizer": None}
        self.d.barrier()
        if self.d.main:
            trainable = {n: (full[n] if full is not None else p.detach().cpu()).clone()
                         for n, p in trainable_named(model)}
            torch.save({**state, "version": CHECKPOINT_VERSION, "trainable": trainable}, tmp / "state.pt")
            shutil.rmtree(final, ignore_errors=True)
            os.replace(tmp, final)
            (self.ckpt_dir / "latest.tmp").write_text(name)
            os.replace(self.ckpt_dir / "latest.tmp", self.ckpt_dir / "latest")
            kept = sorted(p for p in self.ckpt_dir.iterdir() if p.is_dir() and p.name.startswith("stage"))
            for old in kept[:-2]:
                shutil.rmtree(old, ignore_errors=True)
            self.log(f"checkpoint {name}")
        self.d.barrier()

    def _load_checkpoint(self) -> Optional[Dict[str, Any]]:
        latest = self._latest()
        if latest is None:
            return None
        state = _load(latest / "state.pt")
        if state.get("version") != CHECKPOINT_VERSION:
            raise TrainError(f"{latest}: checkpoint version {state.get('version')} is not {CHECKPOINT_VERSION}")
        rng = latest / f"rng-rank{self.d.rank}.pt"
        state["rng"] = _load(rng) if rng.exists() else None
        if state.get("optimizer") is None:
            state["optimizer"] = _load(latest / f"optim-rank{self.d.rank}.pt")
        state["path"] = str(latest)
        return state

    # -- the loop --------------------------------------------------------------------------------
    def run(self) -> Dict[str, Any]:
        torch.manual_seed(self.o.seed)
        random.seed(self.o.seed)
        np.random.seed(self.o.seed)
        model, count = self._load_model()
        plan_count = int(self.o.layer_map["params"]["trainable"])
        if count != plan_count:
            raise TrainError(f"trainable parameters: the model has {count:,} but the plan's accounting says {plan_count:,}")
        total = sum(p.numel() for p in model.parameters())
        self.log(f"trainable parameters: {count:,} of {total:,} ({100 * count / total:.1f}%), equal to the plan's accounting")
        resume = self._load_checkpoint()
        if resume is not None:
            with torch.no_grad():
                named = dict(trainable_named(model))
                for n, t in resume["trainable"].items():
                    named[n].copy_(t)
            self.log(f"resuming from {resume['path']} (stage {resume['stage']}, step {resume['step']})")
        wrapped = self._wrap(model)
        tokenizer = load_tokenizer(self.o.model_dir, model.cfg.vocab_size)
        summary: Dict[str, Any] = {"trainable": count, "total": total, "stages": []}
        for si, stage in enumerate(self.o.layer_map.get("stages", [])):
            if resume is not None and (si < resume["stage"] or (si == resume["stage"] and resume["stage_done"])):
                continue
            mid = resume if resume is not None and si == resume["stage"] else None
            summary["stages"].append(self._run_stage(si, stage, model, wrapped, tokenizer, mid))
            resume = None
            if self.o.stage_models and si < len(self.o.layer_map["stages"]) - 1:
                full = self._full_state(wrapped, model)  # a collective under FSDP: every rank
                if self.d.main:
                    self.save_model(full, self.out / "stages" / str(stage["name"]))
                self.d.barrier()
        if self.d.world > 1:
            digests: List[Optional[str]] = [None] * self.d.world
            dist.all_gather_object(digests, params_digest(model))
            if len(set(digests)) != 1:
                raise TrainError(f"ranks disagree on the trained parameters: {digests}")
            self.log(f"parameters identical on {self.d.world} ranks (sha256 {', '.join(str(x)[:16] for x in digests)})")
        summary["digest"] = params_digest(model)
        if self.o.save_model:
            full = self._full_state(wrapped, model)
            if self.d.main:
                summary["model"] = str(self.save_model(full))
            self.d.barrier()
        return summary

    def _run_stage(self, si: int, stage: Mapping[str, Any], model: CausalLM, wrapped: nn.Module, tokenizer: Any,
                   resume: Optional[Dict[str, Any]]) -> Dict[str, Any]:
        name, seq_len, batch = str(stage["name"]), int(stage["seqLen"]), int(stage["batchSequences"])
        if batch % self.d.world:
            raise TrainError(f"stage {name}: batch of {batch} sequences does not split over {self.d.world} processes")
        data, epoch_tokens = open_stage_data(stage["kind"], stage["data"], self.o.datasets, tokenizer, model.cfg.vocab_size,
                                             seq_len, self.o.seed + 1000 * si, self.o.data_base_dir)
        steps = stage_steps(stage, epoch_tokens, self.o.max_steps)
        per_rank = batch // self.d.world
        micro = micro_batch(per_rank, seq_len, self.o.micro_batch_tokens)
        opt = make_optimizer(model, float(stage["lr"]), float(stage.get("weightDecay", 0.0)))
        sched = torch.optim.lr_scheduler.LambdaLR(
            opt, lambda s: lr_factor(s, steps, float(stage.get("warmup", 0.0)), str(stage.get("schedule", "cosine"))))
        amp = self._precision(stage)
        scaler = torch.cuda.amp.GradScaler() if amp == torch.float16 else None
        step, tokens = 0, 0
        if resume is not None:
            opt.load_state_dict(resume["optimizer"])
            sched.load_state_dict(resume["scheduler"])
            data.load_state_dict(resume["data"])
            if scaler is not None and resume.get("scaler"):
                scaler.load_state_dict(resume["scaler"])
            if resume.get("rng"):
                set_rng_state(resume["rng"])
            step, tokens = int(resume["step"]), int(resume["tokens"])
        if self.events is not None and self.d.main:
            self.events.phase("train", "start", detail=f"stage {name} ({stage['kind']}): {steps} steps of "
                                                      f"{batch}×{seq_len} tokens, {per_rank // micro} micro-batch(es) "
                                                      f"of {micro} per process, {self.d.world} process(es)")
        if self.d.device.type != "cuda" and stage.get("precision") in ("bf16", "fp16"):
            self.log(f"stage {name}: {stage['precision']} autocast is for CUDA; training in float32 on CPU")
        every = int(stage.get("checkpointEvery") or 0)
        progress = Progress(self.events if self.d.main else None, "train", steps, "steps")
        losses: List[float] = []

        def state(done: bool) -> Dict[str, Any]:
            return {"stage": si, "stage_name": name, "step": step, "tokens": tokens, "stage_done": done,
                    "optimizer": opt.state_dict(), "scheduler": sched.state_dict(), "data": data.state_dict(),
                    "scaler": scaler.state_dict() if scaler else None}

        with self.cancel.polled():
            while step < steps:
                t0 = time.monotonic()
                if self.d.device.type == "cuda":
                    torch.cuda.reset_peak_memory_stats(self.d.device)
                lr = opt.param_groups[0]["lr"]
                loss, grad_norm = self._step(model, wrapped, data.take(batch), micro, opt, scaler, amp, float(stage.get("clip") or 0))
                sched.step()
                step += 1
                tokens += batch * seq_len
                dt = time.monotonic() - t0
                losses.append(loss)
                gpu_mem = int(torch.cuda.max_memory_allocated(self.d.device)) if self.d.device.type == "cuda" else None
                self._metric(name, step, tokens, loss, lr, grad_norm, batch * seq_len / dt, gpu_mem)
                progress.update(step)
                stop = self._agree(self.cancel.requested)
                if stop or (every and step % every == 0 and step < steps):
                    self._save_checkpoint(model, wrapped, state(False))
                if stop:
                    raise Cancelled(f"cancelled at stage {name} step {step}; resumable from its checkpoint")
            self._save_checkpoint(model, wrapped, state(True))
        if self.events is not None and self.d.main:
            self.events.phase("train", "end", detail=f"stage {name}: {step} steps, loss {losses[0] if losses else float('nan'):.4f} → "
                                                    f"{losses[-1] if losses else float('nan'):.4f}")
        return {"stage": name, "steps": step, "tokens": tokens, "first_loss": losses[0] if losses else None,
                "last_loss": losses[-1] if losses else None}

    def _step(self, model: CausalLM, wrapped: nn.Module, batch: Batch, micro: int, opt: torch.optim.Optimizer,
              scaler: Optional[Any], amp: Optional[torch.dtype], clip: float) -> Tuple[float, float]:
        n_target = batch.target_tokens  # over the global batch: every rank reads all of it
        mine_x = batch.inputs[self.d.rank::self.d.world].contiguous()
        mine_y = batch.labels[self.d.rank::self.d.world].contiguous()
        chunks = list(zip(mine_x.split(micro), mine_y.split(micro)))
        local = torch.zeros((), dtype=torch.float64)
        for i, (x, y) in enumerate(chunks):
            last = i == len(chunks) - 1
            sync = contextlib.nullcontext() if last or not hasattr(wrapped, "no_sync") else wrapped.no_sync()
            cast = torch.autocast("cuda", dtype=amp) if amp is not None else contextlib.nullcontext()
            with sync:
                with cast:
                    logits = wrapped(x.to(self.d.device))
                loss_sum = F.cross_entropy(logits.float().reshape(-1, logits.shape[-1]), y.to(self.d.device).reshape(-1),
                                           ignore_index=IGNORE, reduction="sum")
                # DDP averages gradients over ranks, so scale by world: the result is the global mean.
                scaled = loss_sum * (self.d.world / max(1, n_target))
                (scaler.scale(scaled) if scaler is not None else scaled).backward()
            local += loss_sum.detach().double().cpu()
        if scaler is not None:
            scaler.unscale_(opt)
        params = [p for _, p in trainable_named(model)]
        if hasattr(wrapped, "clip_grad_norm_"):  # FSDP: the norm over all shards
            norm = wrapped.clip_grad_norm_(clip if clip > 0 else float("inf"))
        else:
            norm = torch.nn.utils.clip_grad_norm_(params, clip if clip > 0 else float("inf"))
        if scaler is not None:
            scaler.step(opt)
            scaler.update()
        else:
            opt.step()
        opt.zero_grad(set_to_none=True)
        if self.d.world > 1:
            red = local.to(self.d.device if self.d.device.type == "cuda" else "cpu")
            dist.all_reduce(red)
            local = red.cpu()
        return float(local) / max(1, n_target), float(norm)

    def _agree(self, flag: bool) -> bool:
        """Every rank stops at the same step: any rank's SIGTERM stops all."""
        if self.d.world == 1:
            return flag
        t = torch.tensor([1.0 if flag else 0.0], device=self.d.device if self.d.device.type == "cuda" else "cpu")
        dist.all_reduce(t, op=dist.ReduceOp.MAX)
        return bool(t.item() > 0)

    def _metric(self, stage: str, step: int, tokens: int, loss: float, lr: float, grad_norm: float,
                tps: float, gpu_mem: Optional[int]) -> None:
        if not self.d.main:
            return
        rec = {"stage": stage, "step": step, "tokens": tokens, "loss": loss, "lr": lr, "grad_norm": grad_norm,
               "tokens_per_s": tps, "gpu_mem": gpu_mem}
        if self.events is not None:
            self.events.metric(**rec)
        self.metrics_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.metrics_path, "a", encoding="utf-8") as f:
            f.write(json.dumps({"t": time.time(), **rec}) + "\n")

    def save_model(self, state: Mapping[str, torch.Tensor], dest: Optional[Path] = None) -> Path:
        """The trained model as a Hugging Face checkpoint (checkpoint dtype) at out/model (or dest)."""
        from .checkpoint import copy_extra_files, save_state_dict

        dtype = torch_dtype(self.config.get("torch_dtype"))
        tied = bool(self.config.get("tie_word_embeddings"))
        tensors = {k: v.to(dtype).contiguous() for k, v in state.items() if not (tied and k == "lm_head.weight")}
        dest = dest or self.out / "model"
        tmp = dest.parent / f".{dest.name}.tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        save_state_dict(tensors, tmp, self.config)
        copy_extra_files(self.o.model_dir, tmp)
        shutil.rmtree(dest, ignore_errors=True)
        os.replace(tmp, dest)
        return dest


def train(opts: TrainOptions, events: Optional[EventWriter] = None, cancel: Optional[CancelToken] = None,
          dctx: Optional[Dist] = None) -> Dict[str, Any]:
    return Trainer(opts, events, cancel, dctx).run()


def main(argv: List[str]) -> int:
    from .layermap import load_layer_map

    ap = argparse.ArgumentParser(prog="python -m slayer_runner train", description=__doc__.split("\n")[0])
    ap.add_argument("--model", required=True, help="the expanded checkpoint directory")
    ap.add_argument("--layer-map", required=True)
    ap.add_argument("--output", required=True, help="directory for checkpoints/, metrics.jsonl and model/")
    ap.add_argument("--data", action="append", default=[], metavar="NAME=PATH", help="dataset name → path")
    ap.add_argument("--max-steps", type=int, default=None)
    ap.add_argument("--events", default=None)
    ap.add_argument("--run-id", default="train")
    ap.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"))
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--micro-batch-tokens", type=int, default=TrainOptions.micro_batch_tokens)
    ap.add_argument("--fsdp", action="store_true", default=None)
    a = ap.parse_args(argv)
    datasets = dict(kv.split("=", 1) for kv in a.data)
    opts = TrainOptions(a.model, load_layer_map(a.layer_map), a.output, datasets, os.getcwd(), a.max_steps,
                        a.device, a.seed, a.micro_batch_tokens, a.fsdp)
    cancel = CancelToken()
    cancel.install()
    ev = EventWriter(a.events, a.run_id) if a.events else None
    try:
        summary = train(opts, ev, cancel)
    except Cancelled as err:
        if ev is not None:
            ev.log(str(err), "warning")
        return 143
    finally:
        if ev is not None:
            ev.close()
        if dist.is_initialized():
            dist.destroy_process_group()
    if int(os.environ.get("RANK", "0")) == 0:
        print(json.dumps(summary))
    return 0
