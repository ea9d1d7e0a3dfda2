"""Training: the LayerMap's stages (CPT, then SFT) on the expanded model, only the trainable set.

Read top to bottom: `load_model` (the one place the model is built) → `Trainer.run` → per stage
`_run_stage` → per optimizer step `_step`. The parts live beside it:
- `distributed.py`: process group, DDP or FSDP2, gradient sync, clipping, gathering the model;
- `optim.py`: AdamW, warm-up + decay schedule, steps per stage, micro-batch size;
- `train_state.py`: checkpoints (DCP tensors + RNG + data position) for exact resume.

The trainable set is the blocks with `trainable: true` plus `trainableExtras`; everything else has
requires_grad False, and its size is checked against the plan's `params.trainable`. The global
batch is the stage's `batchSequences × seqLen`: every rank reads the same global batch, keeps its
share (sequence r, r + world, …) and accumulates micro-batches of at most `micro_batch_tokens`; the
loss is the mean over the global batch's target tokens.
"""
from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import random
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Tuple

import numpy as np
import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import nn

from .cancel import Cancelled, CancelToken
from .data import IGNORE, Batch, load_tokenizer, open_stage_data
from .distributed import (Dist, clip_gradients, fsdp_wanted, full_state_dict, gradient_sync, init_distributed,
                          is_fsdp, load_shards, wrap)
from .events import EventWriter, Progress
from .backend import describe, empty_model, load_model as load_backend_model, restore_buffers
from .checkpoint import Checkpoint
from .contracts import out_file
from .model import torch_dtype
from .modelconfig import config_dtype, read_config
from .optim import lr_factor, make_optimizer, make_schedule, micro_batch, stage_steps
from .train_state import CheckpointStore, digest, set_rng_state

__all__ = ["TrainError", "TrainOptions", "Trainer", "train", "init_distributed", "lr_factor", "micro_batch",
           "stage_steps", "Dist"]


class TrainError(RuntimeError):
    pass


def set_trainable(model: nn.Module, layer_map: Mapping[str, Any]) -> int:
    """Marks the plan's trainable set; returns its parameter count (tied tensors counted once).
    Uses the Hugging Face module names (`model.layers`, `model.embed_tokens`, `model.norm`,
    `lm_head`), which the in-house model shares."""
    blocks, layers = layer_map["blocks"], model.model.layers  # type: ignore[union-attr]
    if len(blocks) != len(layers):
        raise TrainError(f"the LayerMap has {len(blocks)} blocks but the model has {len(layers)}")
    for p in model.parameters():
        p.requires_grad_(False)
    for b in blocks:
        if b["trainable"]:
            for p in layers[b["index"]].parameters():
                p.requires_grad_(True)
    extras = set(layer_map.get("trainableExtras", []))
    if "embed" in extras:
        model.model.embed_tokens.weight.requires_grad_(True)  # type: ignore[union-attr]
    if "head" in extras:
        model.lm_head.weight.requires_grad_(True)  # type: ignore[union-attr]  # the embedding itself when tied
    if "norm" in extras:
        model.model.norm.weight.requires_grad_(True)  # type: ignore[union-attr]
    return sum(p.numel() for p in model.parameters() if p.requires_grad)  # parameters() de-duplicates


def trainable_named(model: nn.Module) -> List[Tuple[str, nn.Parameter]]:
    return [(n, p) for n, p in model.named_parameters() if p.requires_grad]


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
    # None: automatic (CUDA, several processes, and the DDP footprint exceeds one GPU);
    # SLAYER_FSDP=0/1 overrides (run.json has no field for it).
    fsdp: Optional[bool] = field(default_factory=lambda: {"0": False, "1": True}.get(os.environ.get("SLAYER_FSDP", "")))
    # None: on for CUDA, off on CPU; SLAYER_ACTIVATION_CHECKPOINTING=0/1 overrides.
    activation_checkpointing: Optional[bool] = field(default_factory=lambda: {"0": False, "1": True}.get(
        os.environ.get("SLAYER_ACTIVATION_CHECKPOINTING", "")))
    save_model: bool = True
    # Also write the model after each stage but the last to out/stages/NAME (the eval phase's
    # "after each stage"); the last stage's model is out/model.
    stage_models: bool = False
    backend: str = "auto"     # auto | transformers | builtin (backend.py)
    attention: str = "auto"   # auto | sdpa | flash_attention_2 | eager (transformers backend)


def stage_precision(stage: Mapping[str, Any], device: torch.device) -> Optional[torch.dtype]:
    """The autocast dtype of a stage: bf16/fp16 on CUDA, None (float32) on CPU."""
    if device.type != "cuda":
        return None
    return {"bf16": torch.bfloat16, "fp16": torch.float16}.get(str(stage.get("precision", "bf16")))


def load_model(opts: TrainOptions, config: Mapping[str, Any], d: Dist, empty: bool = False) -> Tuple[nn.Module, int]:
    """Builds the expanded model for training and marks its trainable set: the one place a model is
    constructed. `empty`: on the meta device, without weights (FSDP gives each rank its shards
    after sharding, so no rank holds the whole model). Returns the model and its trainable count."""
    half = any(stage_precision(s, d.device) for s in opts.layer_map.get("stages", []))
    # Frozen weights stay in the checkpoint's half precision on GPU; trainable ones are float32
    # master weights (autocast / FSDP's policy computes in bf16). On CPU everything is float32.
    dtype = torch_dtype(config_dtype(config)) if half else torch.float32
    if empty:
        model = empty_model(opts.model_dir, dtype=dtype, backend=opts.backend, attention=opts.attention)
    else:
        model = load_backend_model(opts.model_dir, dtype=dtype, device=d.device, backend=opts.backend,
                                   attention=opts.attention)
    count = set_trainable(model, opts.layer_map)
    for p in model.parameters():
        if p.requires_grad:
            p.data = p.data.float()
    # Recompute block activations during backward: on by default on GPUs, where long sequences of
    # big models need it.
    ac = opts.activation_checkpointing
    model.activation_checkpointing = d.device.type == "cuda" if ac is None else ac
    return model, count


class Trainer:
    def __init__(self, opts: TrainOptions, events: Optional[EventWriter] = None,
                 cancel: Optional[CancelToken] = None, dctx: Optional[Dist] = None) -> None:
        self.o = opts
        self.events = events
        self.cancel = cancel or CancelToken()
        self.d = dctx or init_distributed(opts.device)
        self.out = Path(opts.output)
        self.store = CheckpointStore(self.out / "checkpoints", self.d)
        self.metrics_path = self.out / "metrics.jsonl"
        self.config = read_config(opts.model_dir)

    def log(self, msg: str, level: str = "info") -> None:
        if self.d.main:
            print(msg, flush=True)
            if self.events is not None:
                self.events.log(msg, level)

    # -- the run ---------------------------------------------------------------------------------
    def run(self) -> Dict[str, Any]:
        torch.manual_seed(self.o.seed)
        random.seed(self.o.seed)
        np.random.seed(self.o.seed)
        # Decided on a weightless model; an FSDP run keeps it and loads each rank's shards.
        model, count = load_model(self.o, self.config, self.d, empty=True)
        use_fsdp = fsdp_wanted(self.d, self.o.fsdp, self.o.layer_map)
        if not use_fsdp:
            model, count = load_model(self.o, self.config, self.d)
        plan_count = int(self.o.layer_map["params"]["trainable"])
        if count != plan_count:
            raise TrainError(f"trainable parameters: the model has {count:,} but the plan's accounting says {plan_count:,}")
        total = sum(p.numel() for p in model.parameters())
        self.log(f"model: {describe(model)}")
        self.log(f"trainable parameters: {count:,} of {total:,} ({100 * count / total:.1f}%), equal to the plan's accounting")
        wrapped = self._wrap(model, use_fsdp)
        self.model, self.wrapped = model, wrapped
        self.trainable = trainable_named(model)  # after wrapping: FSDP replaces the parameters
        resume = self.store.load_meta()
        if resume is not None and resume["trainable"] != [n for n, _ in self.trainable]:
            raise TrainError(f"{resume['path']} was written for another trainable set than this plan's: "
                             f"use another output directory, or remove {self.store.root} to start over")
        if resume is not None:
            self.store.load_model(resume["path"], wrapped)
            self.log(f"resuming from {resume['path']} (stage {resume['stage']}, step {resume['step']})")
        tokenizer = load_tokenizer(self.o.model_dir, int(self.config["vocab_size"]))
        summary: Dict[str, Any] = {"trainable": count, "total": total, "stages": []}
        for si, stage in enumerate(self.o.layer_map.get("stages", [])):
            if resume is not None and (si < resume["stage"] or (si == resume["stage"] and resume["stage_done"])):
                continue
            mid = resume if resume is not None and si == resume["stage"] else None
            summary["stages"].append(self._run_stage(si, stage, tokenizer, mid))
            resume = None
            if self.o.stage_models and si < len(self.o.layer_map["stages"]) - 1:
                full = full_state_dict(wrapped)  # a collective under FSDP: every rank
                if self.d.main:
                    self.save_model(full, self.out / out_file("stages") / str(stage["name"]))
                self.d.barrier()
        summary["digest"] = self._agreed_digest()
        if self.o.save_model:
            full = full_state_dict(wrapped)  # gathered on rank 0 under FSDP
            if self.d.main:
                summary["model"] = str(self.save_model(full))
            self.d.barrier()
        return summary

    def _wrap(self, model: nn.Module, use_fsdp: bool) -> nn.Module:
        compute = next((p for p in (stage_precision(s, self.d.device) for s in self.o.layer_map.get("stages", [])) if p), None)
        if not use_fsdp:
            if self.d.world > 1:
                self.log(f"DDP over {self.d.world} processes")
            return wrap(model, self.d, False, compute)
        self.log(f"FSDP over {self.d.world} processes: one unit per block, each wholly trainable or frozen")
        wrapped = wrap(model, self.d, True, compute)
        want = {n for n, _ in model.named_parameters()}
        got = load_shards(model, Checkpoint(self.o.model_dir).iter_tensors(), self.d)
        restore_buffers(model, self.d.device)  # to_empty left the rotary tables unset
        if want - got:
            raise TrainError(f"{self.o.model_dir}: missing tensors {sorted(want - got)[:5]}")
        return wrapped

    def _agreed_digest(self) -> str:
        """sha256 of the trained parameters. DDP ranks each hold a replica and must agree; FSDP ranks
        hold different shards, so the digest is that of every rank's shard digest in rank order."""
        fsdp = is_fsdp(self.wrapped)
        mine = digest((n, p.to_local() if fsdp else p) for n, p in self.trainable)  # type: ignore[attr-defined]
        if self.d.world == 1:
            return mine
        digests: List[Optional[str]] = [None] * self.d.world
        dist.all_gather_object(digests, mine)
        if fsdp:
            return hashlib.sha256(" ".join(str(x) for x in digests).encode()).hexdigest()
        if len(set(digests)) != 1:
            raise TrainError(f"ranks disagree on the trained parameters: {digests}")
        self.log(f"parameters identical on {self.d.world} ranks (sha256 {', '.join(str(x)[:16] for x in digests)})")
        return mine

    def _run_stage(self, si: int, stage: Mapping[str, Any], tokenizer: Any,
                   resume: Optional[Dict[str, Any]]) -> Dict[str, Any]:
        name, seq_len, batch = str(stage["name"]), int(stage["seqLen"]), int(stage["batchSequences"])
        if batch % self.d.world:
            raise TrainError(f"stage {name}: batch of {batch} sequences does not split over {self.d.world} processes")
        data, epoch_tokens = open_stage_data(stage["kind"], stage["data"], self.o.datasets, tokenizer,
                                             int(self.config["vocab_size"]), seq_len, self.o.seed + 1000 * si,
                                             self.o.data_base_dir)
        steps = stage_steps(stage, epoch_tokens, self.o.max_steps)
        per_rank = batch // self.d.world
        micro = micro_batch(per_rank, seq_len, self.o.micro_batch_tokens)
        opt = make_optimizer([p for _, p in self.trainable], float(stage["lr"]), float(stage.get("weightDecay", 0.0)))
        sched = make_schedule(opt, stage, steps)
        amp = stage_precision(stage, self.d.device)
        scaler = torch.cuda.amp.GradScaler() if amp == torch.float16 else None
        step, tokens = 0, 0
        if resume is not None:
            self.store.load_optimizer(resume["path"], self.wrapped, opt)
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

        def checkpoint(done: bool) -> None:
            meta = {"stage": si, "stage_name": name, "step": step, "tokens": tokens, "stage_done": done,
                    "trainable": [n for n, _ in self.trainable],
                    "scheduler": sched.state_dict(), "data": data.state_dict(),
                    "scaler": scaler.state_dict() if scaler else None}
            self.log(f"checkpoint {self.store.save(self.wrapped, opt, meta)}")

        with self.cancel.polled():
            while step < steps:
                t0 = time.monotonic()
                if self.d.device.type == "cuda":
                    torch.cuda.reset_peak_memory_stats(self.d.device)
                lr = opt.param_groups[0]["lr"]
                loss, grad_norm = self._step(data.take(batch), micro, opt, scaler, amp, float(stage.get("clip") or 0))
                sched.step()
                step += 1
                tokens += batch * seq_len
                dt = time.monotonic() - t0
                losses.append(loss)
                gpu_mem = int(torch.cuda.max_memory_allocated(self.d.device)) if self.d.device.type == "cuda" else None
                self._metric(name, step, tokens, loss, lr, grad_norm, batch * seq_len / dt, gpu_mem)
                progress.update(step)
                stop = self.d.any(self.cancel.requested)  # any rank's SIGTERM stops all at this step
                if stop or (every and step % every == 0 and step < steps):
                    checkpoint(False)
                if stop:
                    raise Cancelled(f"cancelled at stage {name} step {step}; resumable from its checkpoint")
            checkpoint(True)
        if self.events is not None and self.d.main:
            self.events.phase("train", "end", detail=f"stage {name}: {step} steps, loss {losses[0] if losses else float('nan'):.4f} → "
                                                    f"{losses[-1] if losses else float('nan'):.4f}")
        return {"stage": name, "steps": step, "tokens": tokens, "first_loss": losses[0] if losses else None,
                "last_loss": losses[-1] if losses else None}

    def _step(self, batch: Batch, micro: int, opt: torch.optim.Optimizer, scaler: Optional[Any],
              amp: Optional[torch.dtype], clip: float) -> Tuple[float, float]:
        n_target = batch.target_tokens  # over the global batch: every rank reads all of it
        mine_x = batch.inputs[self.d.rank::self.d.world].contiguous()
        mine_y = batch.labels[self.d.rank::self.d.world].contiguous()
        chunks = list(zip(mine_x.split(micro), mine_y.split(micro)))
        local = torch.zeros((), dtype=torch.float64)
        for i, (x, y) in enumerate(chunks):
            cast = torch.autocast("cuda", dtype=amp) if amp is not None else contextlib.nullcontext()
            with gradient_sync(self.wrapped, enabled=i == len(chunks) - 1):
                with cast:
                    logits = self.wrapped(x.to(self.d.device))
                loss_sum = F.cross_entropy(logits.float().reshape(-1, logits.shape[-1]), y.to(self.d.device).reshape(-1),
                                           ignore_index=IGNORE, reduction="sum")
                # DDP and FSDP average gradients over ranks, so scale by world: the result is the global mean.
                scaled = loss_sum * (self.d.world / max(1, n_target))
                (scaler.scale(scaled) if scaler is not None else scaled).backward()
            local += loss_sum.detach().double().cpu()
        if scaler is not None:
            scaler.unscale_(opt)
        norm = clip_gradients([p for _, p in self.trainable], clip)
        if scaler is not None:
            scaler.step(opt)
            scaler.update()
        else:
            opt.step()
        opt.zero_grad(set_to_none=True)
        if self.d.world > 1:
            red = local.to(self.d.collective_device)
            dist.all_reduce(red)
            local = red.cpu()
        return float(local) / max(1, n_target), norm

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
        """The trained model as a Hugging Face checkpoint (safetensors + config.json, checkpoint dtype) at
        out/model, or at dest (a stage's model for the eval phase)."""
        from .checkpoint import copy_extra_files, save_state_dict

        dtype = torch_dtype(config_dtype(self.config))
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
    ap.add_argument("--fsdp", action="store_true", default=None,
                    help="shard the model with FSDP2 over the processes (default: when it does not fit one GPU)")
    ap.add_argument("--backend", default="auto", choices=("auto", "transformers", "builtin"))
    ap.add_argument("--attn-implementation", default="auto", choices=("auto", "sdpa", "flash_attention_2", "eager"))
    a = ap.parse_args(argv)
    datasets = dict(kv.split("=", 1) for kv in a.data)
    opts = TrainOptions(a.model, load_layer_map(a.layer_map), a.output, datasets, os.getcwd(), a.max_steps,
                        a.device, a.seed, a.micro_batch_tokens, backend=a.backend, attention=a.attn_implementation)
    if a.fsdp:
        opts.fsdp = True
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
