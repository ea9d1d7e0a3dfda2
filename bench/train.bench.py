"""Training throughput benchmark: tokens/s of the tiny demo-shaped model (8 blocks → 9 after
`(2+1)x2 | 2 | 1◇`, hidden 64, batch 8 × 64) when only the plan's new and final blocks train
(the paper's setting) vs when every block trains, and the transformers backend vs the in-house
model (new+final), in the same run, alternating rounds so that machine load affects all alike. Reports median tokens/s per setting (first steps of each round
skipped), the ratio, the trainable parameter counts and the peak RSS. Shared set-up: bench/benchkit.py.

Run: npm run bench -- train   (or PYTHONPATH=runner .venv/bin/python bench/train.bench.py)
Env: SLAYER_BENCH_STEPS (per round, default 25), SLAYER_BENCH_ROUNDS (default 3).
"""
from __future__ import annotations

import contextlib
import io
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchkit import compile_plan, cpu_seconds, env_int, median, p10, peak_rss_bytes, ratio_line  # noqa: E402

from slayer_runner.surgery import apply_layer_map  # noqa: E402
from slayer_runner.tiny import make_tiny  # noqa: E402
from slayer_runner.train import TrainOptions, train  # noqa: E402

STEPS = env_int("SLAYER_BENCH_STEPS", 25)
ROUNDS = env_int("SLAYER_BENCH_ROUNDS", 3)
SKIP = 3
SPEC = {"num_layers": 8, "hidden_size": 64, "intermediate_size": 172, "num_heads": 4, "num_kv_heads": 2,
        "vocab_size": 256, "seed": 0}


def layer_map(root: Path, train_set: str) -> dict:
    path = compile_plan(root, train_set, train=train_set, steps=STEPS, lr="3e-3 cosine warmup 5%", batch="8 x 64")
    return json.loads(path.read_text())


def round_tokens_per_s(lm: dict, expanded: Path, out: Path, backend: str) -> tuple[list[float], float]:
    """Per-step wall-clock tokens/s (from the metric records) and tokens per CPU second of the
    whole round (less sensitive to other processes on a shared machine; includes ~0.2 s of setup)."""
    cpu = cpu_seconds()
    with contextlib.redirect_stdout(io.StringIO()):
        train(TrainOptions(str(expanded), lm, str(out), save_model=False, backend=backend))
    cpu = cpu_seconds() - cpu
    rows = [json.loads(x) for x in (out / "metrics.jsonl").read_text().splitlines()]
    return [r["tokens_per_s"] for r in rows[SKIP:]], rows[-1]["tokens"] / cpu


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        base = make_tiny(SPEC, root / "base")
        nf, every = layer_map(root, "new, final"), layer_map(root, "new, final, kept")
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
        med = {k: median(v) for k, v in samples.items()}
        cpu_med = {k: median(v) for k, v in per_cpu.items()}
        print(f"train.bench: {ROUNDS} rounds x {STEPS} steps of 8x64 tokens per setting, CPU, "
              f"torch threads {__import__('torch').get_num_threads()}")
        for name, (lm, backend) in plans.items():
            p = lm["params"]
            print(f"  {name:<11} ({backend:<12}) trainable {p['trainable']:>8,} of {p['total']:,}   "
                  f"median {med[name]:6.0f} tokens/s wall (p10 {p10(samples[name]):.0f}), "
                  f"{cpu_med[name]:6.0f} tokens per CPU second")
        for a, b, label in (("new+final", "all blocks", "new+final / all blocks"),
                            ("new+final", "in-house", "transformers / in-house model (new+final)")):
            print(ratio_line(label, ((med[a], med[b], "tokens/s (wall)"), (cpu_med[a], cpu_med[b], "(CPU time)"))))
        print(f"  peak RSS {peak_rss_bytes() / 2**20:.0f} MB (this process, every setting)")


if __name__ == "__main__":
    main()
