"""What the Python benchmarks share (train.bench.py, distributed.bench.py): the runner on sys.path,
settings from the environment, the plan both train compiled by the real compiler, CPU time, peak
RSS, medians and the printed ratio lines. Not a benchmark itself (npm run bench runs *.bench.py)."""
from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterable

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT / "runner") not in sys.path:
    sys.path.insert(0, str(ROOT / "runner"))

# The benchmarks' plan: the tiny model's 8 blocks → 9 with two new, one deleted and a final block.
PLAN = """model ./base
expand (2+1)x2 | 2 | 1◇
train {train}
stage cpt
  data sample
  steps {steps}
  lr {lr}
  batch {batch}
  precision fp32
"""


def env_int(name: str, default: int) -> int:
    """A count from the environment (SLAYER_BENCH_STEPS, SLAYER_BENCH_ROUNDS)."""
    return int(os.environ.get(name, str(default)))


def compile_plan(root: Path, name: str, *, train: str, steps: int, lr: str, batch: str) -> Path:
    """PLAN compiled by ``slayer compile`` into ``root/plan-NAME.json``; returns that path."""
    slug = "".join(ch if ch.isalnum() else "_" for ch in name)
    plan = root / f"plan-{slug}.slayer"
    plan.write_text(PLAN.format(train=train, steps=steps, lr=lr, batch=batch))
    out = subprocess.run(["node", str(ROOT / "bin" / "slayer.js"), "compile", str(plan)], capture_output=True,
                         text=True, check=True)
    path = plan.with_suffix(".json")
    path.write_text(out.stdout)
    return path


def cpu_seconds() -> float:
    """This process's CPU time (all threads): less sensitive than wall time to other processes."""
    return time.process_time()


def peak_rss_bytes() -> int:
    """This process's peak resident set size."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def median(values: Iterable[float]) -> float:
    return statistics.median(list(values))


def p10(values: Iterable[float]) -> float:
    xs = sorted(values)
    return xs[len(xs) // 10]


def ratio_line(label: str, parts: Iterable[tuple[float, float, str]]) -> str:
    """``  ratio LABEL: 1.23x WHAT, 0.98x WHAT`` from (numerator, denominator, what) triples."""
    return f"  ratio {label}: " + ", ".join(f"{a / b:.2f}x {what}" for a, b, what in parts)
