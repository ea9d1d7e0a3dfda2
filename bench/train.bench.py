"""Training throughput benchmark: tokens/s of the tiny demo-shaped model (8 blocks → 9 after
`(2+1)x2 | 2 | 1◇`, hidden 64, batch 8 × 64) when only the plan's new and final blocks train
(the paper's setting) vs when every block trains, and the transformers backend vs the in-house
model (new+final), in the same run, alternating rounds so that machine load affects all alike. Reports median tokens/s per setting (first steps of each round
skipped), the ratio, and the trainable parameter counts.

Run: npm run bench -- train   (or PYTHONPATH=runner .venv/bin/python bench/train.bench.py)
Env: SLAYER_BENCH_STEPS (per round, default 25), SLAYER_BENCH_ROUNDS (default 3).
"""
from __future__ import annotations

import contextlib
import io
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "runner"))

from slayer_runner.surgery import apply_layer_map  # noqa: E402
from slayer_runner.tiny import make_tiny  # noqa: E402
from slayer_runner.train import TrainOptions, train  # noqa: E402

STEPS = int(os.environ.get("SLAYER_BENCH_STEPS", "25"))
ROUNDS = int(os.environ.get("SLAYER_BENCH_ROUNDS", "3"))
SKIP = 3
SPEC = {"num_layers": 8, "hidden_size": 64, "intermediate_size": 172, "num_heads": 4, "num_kv_heads": 2,
        "vocab_size": 256, "seed": 0}
PLAN = """model ./base
expand (2+1)x2 | 2 | 1◇
train {train}
stage cpt
  data sample
  steps {steps}
  lr 3e-3 cosine warmup 5%
  batch 8 x 64
  precision fp32
"""


def compile_plan(root: Path, train_set: str) -> dict:
    path = root / f"plan-{train_set.replace(', ', '-')}.slayer"
    path.write_text(PLAN.format(train=train_set, steps=STEPS))
    out = subprocess.run(["node", str(ROOT / "bin" / "slayer.js"), "compile", str(path)], capture_output=True,
                         text=True, check=True)
    return json.loads(out.stdout)


def round_tokens_per_s(lm: dict, expanded: Path, out: Path, backend: str) -> tuple[list[float], float]:
    """Per-step wall-clock tokens/s (from the metric records) and tokens per CPU second of the
    whole round (less sensitive to other processes on a shared machine; includes ~0.2 s of setup)."""
    cpu = time.process_time()
    with contextlib.redirect_stdout(io.StringIO()):
        train(TrainOptions(str(expanded), lm, str(out), save_model=False, backend=backend))
    cpu = time.process_time() - cpu
    rows = [json.loads(x) for x in (out / "metrics.jsonl").read_text().splitlines()]
    return [r["tokens_per_s"] for r in rows[SKIP:]], rows[-1]["tokens"] / cpu


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        base = make_tiny(SPEC, root / "base")
        nf, every = compile_plan(root, "new, final"), compile_plan(root, "new, final, kept")
        # setting → (LayerMap, backend); "new+final" and "all blocks" use transformers (the default).
        plans = {"new+final": (nf, "transformers"), "all blocks": (every, "transformers"),
                 "in-house": (nf, "builtin")}
        expanded = root / "expanded"
        apply_layer_map(nf, base, expanded)
        samples: dict[str, list[float]] = {k: [] for k in plans}
        per_cpu: dict[str, list[float]] = {k: [] for k in plans}
        for r in range(ROUNDS):
            for name, (lm, backend) in plans.items():
                wall, cpu = round_tokens_per_s(lm, expanded, root / f"out-{r}-{name.replace(' ', '_')}", backend)
                samples[name] += wall
                per_cpu[name].append(cpu)
        med = {k: statistics.median(v) for k, v in samples.items()}
        cpu_med = {k: statistics.median(v) for k, v in per_cpu.items()}
        print(f"train.bench: {ROUNDS} rounds x {STEPS} steps of 8x64 tokens per setting, CPU, "
              f"torch threads {__import__('torch').get_num_threads()}")
        for name, (lm, backend) in plans.items():
            p = lm["params"]
            print(f"  {name:<11} ({backend:<12}) trainable {p['trainable']:>8,} of {p['total']:,}   "
                  f"median {med[name]:6.0f} tokens/s wall (p10 {sorted(samples[name])[len(samples[name]) // 10]:.0f}), "
                  f"{cpu_med[name]:6.0f} tokens per CPU second")
        print(f"  ratio new+final / all blocks: {med['new+final'] / med['all blocks']:.2f}x tokens/s (wall), "
              f"{cpu_med['new+final'] / cpu_med['all blocks']:.2f}x (CPU time)")
        print(f"  ratio transformers / in-house model (new+final): {med['new+final'] / med['in-house']:.2f}x tokens/s "
              f"(wall), {cpu_med['new+final'] / cpu_med['in-house']:.2f}x (CPU time)")


if __name__ == "__main__":
    main()
