"""Layer importance (the paper's Section 3.1, Figure 2) on a calibration set.

For a base model of L blocks, one value per block i (0-based):
- angular_all / angular_last: arccos(cos(x_i, x_{i+1})) / π, where x_i is the hidden state
  entering block i and x_{i+1} the one entering block i+1 (for the last block: entering the final
  norm). Captured with forward pre-hooks on the blocks and the final norm — not with
  `output_hidden_states`, whose last entry is after the norm. Averaged over every token, and over
  the last token of each sequence only.
- removal_drop: baseline mean token log-likelihood minus the one of the model without block i.
- insert_copy_drop / insert_average_drop: the same after inserting, right after block i, a copy of
  block i or the mean (θ_i + θ_{i+1})/2 (computed in float32). The inserted block is NOT given
  zeroed output projections here: zeroed, it would be the identity and every drop would be 0.
  This follows the paper's eqs. 4–5. After the last block there is no θ_{i+1}; the average insert
  is then a copy (as in the planner, warning SL026).
Positive drops mean the model got worse. Written as importance.json (ImportanceFile in
src/protocol/runnerEvents.ts) and as `importance` events.
"""
from __future__ import annotations

import argparse
import copy
import json
import math
import os
import time
from typing import Any, Callable, Dict, List, Optional, Sequence

import torch
from torch import nn

from .data import SAMPLE_TEXT, calibration_batch, load_tokenizer
from .events import IMPORTANCE_FILE_VERSION, EventWriter, Progress, validate_importance_file
from .backend import DecoderLM, describe, load_model
from .model import token_logprobs

METRICS = ("angular", "removal", "insert")


def _batches(ids: torch.Tensor, batch_size: int) -> List[torch.Tensor]:
    return [ids[i: i + batch_size] for i in range(0, ids.shape[0], batch_size)]


def average_block(a: nn.Module, b: nn.Module) -> nn.Module:
    """A new block whose every tensor is (θ_a + θ_b)/2, averaged in float32, in a's dtype."""
    out = copy.deepcopy(a)
    with torch.no_grad():
        for (name, p), (_, q) in zip(out.named_parameters(), b.named_parameters()):
            p.copy_(((p.float() + q.float()) / 2).to(p.dtype))
    return out


class Measure:
    """Runs the calibration batches through the model (optionally with a replaced block list)."""

    def __init__(self, model: DecoderLM, batches: Sequence[torch.Tensor], tick: Callable[[], None]) -> None:
        self.model, self.batches, self.tick = model, batches, tick
        self.device = next(model.parameters()).device

    def loglik(self, layers: Optional[Sequence[nn.Module]] = None) -> float:
        total, count = 0.0, 0
        for ids in self.batches:
            lp = token_logprobs(self.model, ids.to(self.device), layers)
            total += float(lp.double().sum())
            count += lp.numel()
            self.tick()
        return total / count

    @torch.no_grad()
    def angular_and_loglik(self) -> tuple[List[float], List[float], float]:
        blocks = list(self.model.blocks)
        n = len(blocks)
        states: List[Optional[torch.Tensor]] = [None] * (n + 1)

        def grab(i: int) -> Callable[..., None]:
            def hook(_m: nn.Module, args: tuple[Any, ...]) -> None:
                states[i] = args[0].detach()
            return hook

        handles = [blk.register_forward_pre_hook(grab(i)) for i, blk in enumerate(blocks)]
        handles.append(self.model.model.norm.register_forward_pre_hook(grab(n)))
        sum_all, sum_last = torch.zeros(n, dtype=torch.float64), torch.zeros(n, dtype=torch.float64)
        tokens = seqs = 0
        total_lp = 0.0
        try:
            for ids in self.batches:
                ids = ids.to(self.device)
                lp = token_logprobs(self.model, ids)
                total_lp += float(lp.double().sum())
                for i in range(n):
                    a, b = states[i], states[i + 1]
                    assert a is not None and b is not None
                    cos = torch.nn.functional.cosine_similarity(a.float(), b.float(), dim=-1, eps=1e-8)
                    ang = torch.arccos(cos.clamp(-1.0, 1.0)) / math.pi  # (B, T)
                    sum_all[i] += float(ang.double().sum())
                    sum_last[i] += float(ang[:, -1].double().sum())
                tokens += ids.numel()
                seqs += ids.shape[0]
                self.tick()
        finally:
            for h in handles:
                h.remove()
        pred_tokens = tokens - seqs  # every position but the last predicts a token
        return (sum_all / tokens).tolist(), (sum_last / seqs).tolist(), total_lp / pred_tokens


def measure(model: DecoderLM, ids: torch.Tensor, metrics: Sequence[str] = METRICS, batch_size: int = 8,
            events: Optional[EventWriter] = None, check: Callable[[], None] = lambda: None,
            phase: str = "importance") -> Dict[str, Any]:
    """All requested series on calibration ids (n, seq_len); emits progress and importance events."""
    model.eval()
    batches = _batches(ids, batch_size)
    blocks = list(model.blocks)
    n = len(blocks)
    passes = 1 + n * (("removal" in metrics) + 2 * ("insert" in metrics))
    progress = Progress(events, phase, passes * len(batches), "batches")

    def tick() -> None:
        check()
        progress.advance()

    m = Measure(model, batches, tick)
    angular_all, angular_last, baseline = m.angular_and_loglik()
    out: Dict[str, Any] = {"baseline_loglik": baseline, "angular_all": angular_all, "angular_last": angular_last,
                           "removal_drop": None, "insert_copy_drop": None, "insert_average_drop": None}
    if events is not None:
        events.importance("angular_all", angular_all)
        events.importance("angular_last", angular_last)
    if "removal" in metrics:
        out["removal_drop"] = [baseline - m.loglik(blocks[:i] + blocks[i + 1:]) for i in range(n)]
        if events is not None:
            events.importance("removal_drop", out["removal_drop"])
    if "insert" in metrics:
        for key, make in (("insert_copy_drop", lambda i: copy.deepcopy(blocks[i])),
                          ("insert_average_drop",
                           lambda i: average_block(blocks[i], blocks[i + 1]) if i + 1 < n else copy.deepcopy(blocks[i]))):
            vals = []
            for i in range(n):
                vals.append(baseline - m.loglik(blocks[: i + 1] + [make(i)] + blocks[i + 1:]))
            out[key] = vals
            if events is not None:
                events.importance(key, vals)
    return out


def importance_file(result: Dict[str, Any], model_ref: str, source: str, ids: torch.Tensor) -> Dict[str, Any]:
    n_seq, seq_len = ids.shape
    return {
        "v": IMPORTANCE_FILE_VERSION,
        "model": model_ref,
        "num_layers": len(result["angular_all"]),
        "calibration": {"source": source, "sequences": int(n_seq), "tokens": int(n_seq * seq_len), "seq_len": int(seq_len)},
        **result,
    }


def write_json(path: str, value: Any) -> None:
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    tmp = f"{path}.tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(value, f, indent=1, allow_nan=False)
        f.write("\n")
    os.replace(tmp, path)


def pick_device(device: str) -> torch.device:
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def run(model_dir: str, calibration: Optional[str], output: str, events: Optional[EventWriter] = None,
        seq_len: int = 128, max_sequences: int = 64, batch_size: int = 8, metrics: Sequence[str] = METRICS,
        device: str = "auto", check: Callable[[], None] = lambda: None, backend: str = "auto",
        attention: str = "auto") -> Dict[str, Any]:
    """Loads the model, measures, writes importance.json; returns its content."""
    dev = pick_device(device)
    # Half-precision matmuls on CPU are slow and no more faithful: float32 there; the
    # checkpoint's dtype on a GPU.
    model = load_model(model_dir, dtype=torch.float32 if dev.type == "cpu" else None, device=dev,
                       backend=backend, attention=attention)
    cfg = model.cfg
    seq_len = min(seq_len, cfg.max_position_embeddings)
    source = calibration or str(SAMPLE_TEXT)
    ids = calibration_batch(source, load_tokenizer(model_dir, cfg.vocab_size), cfg.vocab_size, seq_len, max_sequences)
    t0 = time.monotonic()
    result = measure(model, ids, metrics, batch_size, events, check)
    doc = validate_importance_file(importance_file(result, model_dir, source, ids))
    write_json(output, doc)
    if events is not None:
        events.log(f"importance: {describe(model)}, {cfg.num_layers} blocks, {ids.numel()} calibration tokens, "
                   f"{time.monotonic() - t0:.1f}s; baseline log-likelihood {result['baseline_loglik']:.4f}")
    return doc


def main(argv: List[str]) -> int:
    ap = argparse.ArgumentParser(prog="python -m slayer_runner importance", description=__doc__.split("\n")[0])
    ap.add_argument("--model", required=True, help="Hugging Face checkpoint directory")
    ap.add_argument("--calibration", default=None, help="text or token file (default: the bundled sample text)")
    ap.add_argument("--output", required=True, help="importance.json to write")
    ap.add_argument("--events", default=None, help="append events to this events.jsonl")
    ap.add_argument("--run-id", default="importance")
    ap.add_argument("--seq-len", type=int, default=128)
    ap.add_argument("--max-sequences", type=int, default=64)
    ap.add_argument("--batch-size", type=int, default=8)
    ap.add_argument("--metrics", default=",".join(METRICS), help="comma-separated: angular,removal,insert")
    ap.add_argument("--device", default="auto")
    ap.add_argument("--backend", default="auto", choices=("auto", "transformers", "builtin"))
    ap.add_argument("--attn-implementation", default="auto", choices=("auto", "sdpa", "flash_attention_2", "eager"))
    a = ap.parse_args(argv)
    metrics = [x for x in a.metrics.split(",") if x]
    unknown = set(metrics) - set(METRICS)
    if unknown:
        ap.error(f"unknown metrics {sorted(unknown)}")
    ev = EventWriter(a.events, a.run_id) if a.events else None
    try:
        doc = run(a.model, a.calibration, a.output, ev, a.seq_len, a.max_sequences, a.batch_size, metrics, a.device,
                  backend=a.backend, attention=a.attn_implementation)
    finally:
        if ev is not None:
            ev.close()
    print(json.dumps({k: doc[k] for k in ("num_layers", "baseline_loglik", "angular_all")}))
    return 0
