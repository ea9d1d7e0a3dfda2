"""Distributed training benchmark on CPU (gloo): two processes under torchrun, FSDP2 vs DDP, each
with the plan's new and final blocks trainable (the paper's setting) and with every block
trainable — four settings in the same run, alternating rounds so that machine load affects all
alike. The model is a wider tiny model (8 blocks → 9, hidden 384, MLP 1536: 20M parameters, 78 MB
in float32) so that what sharding saves shows next to torch's own ~300 MB per process.

Reports per setting: tokens per CPU second (global tokens / CPU seconds of both processes inside
the optimizer steps, the first step skipped) and the peak RSS of each process; then the ratios
FSDP / DDP and new+final / all blocks. Shared set-up: bench/benchkit.py.

Run: npm run bench -- distributed   (or PYTHONPATH=runner .venv/bin/python bench/distributed.bench.py)
Env: SLAYER_BENCH_STEPS (per run, default 6), SLAYER_BENCH_ROUNDS (default 2), MALLOC_MMAP_THRESHOLD_
(default 131072 here; see run_job).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any, Dict, List

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchkit import ROOT, compile_plan, cpu_seconds, env_int, median, peak_rss_bytes, ratio_line  # noqa: E402

STEPS = env_int("SLAYER_BENCH_STEPS", 6)
ROUNDS = env_int("SLAYER_BENCH_ROUNDS", 2)
SPEC = {"num_layers": 8, "hidden_size": 384, "intermediate_size": 1536, "num_heads": 6, "num_kv_heads": 2,
        "vocab_size": 256, "seed": 0}
TRAIN_SETS = {"new+final": "new, final", "all blocks": "new, final, kept"}
WRAPPERS = ("fsdp", "ddp")


# ---------------------------------------------------------------------------------------------
# The worker: one process of a torchrun job

def worker(layer_map_path: str, expanded: str, out: str, wrapper: str) -> None:
    from slayer_runner.layermap import load_layer_map
    from slayer_runner.train import Trainer, TrainOptions

    class Timed(Trainer):
        """Adds up this process's CPU time inside optimizer steps (after the first)."""
        steps, cpu, tokens = 0, 0.0, 0

        def _step(self, batch: Any, *args: Any) -> Any:  # type: ignore[override]
            t = cpu_seconds()
            result = super()._step(batch, *args)
            self.steps += 1
            if self.steps > 1:
                self.cpu += cpu_seconds() - t
                self.tokens += batch.inputs.numel()
            return result

    opts = TrainOptions(expanded, load_layer_map(layer_map_path), out, device="cpu", save_model=False,
                        fsdp=wrapper == "fsdp")
    t = Timed(opts)
    t.run()
    rank = t.d.rank
    Path(out, f"rank{rank}.json").write_text(json.dumps({
        "rank": rank, "cpu": t.cpu, "tokens": t.tokens,
        "peak_rss": peak_rss_bytes()}))


# ---------------------------------------------------------------------------------------------
# The driver

def run_job(layer_map: Path, expanded: Path, out: Path, wrapper: str) -> List[Dict[str, Any]]:
    # A fixed mmap threshold: by default glibc raises it after each large free, so FSDP's per-unit
    # all-gather buffers, once freed, stay in the heap and RSS shows the allocator's high-water mark
    # rather than live tensors (GPUs have torch's caching allocator instead). Same for both wrappers.
    env = {**os.environ, "PYTHONPATH": str(ROOT / "runner"), "OMP_NUM_THREADS": "1",
           "MALLOC_MMAP_THRESHOLD_": os.environ.get("MALLOC_MMAP_THRESHOLD_", "131072")}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2", __file__,
           "--worker", str(layer_map), str(expanded), str(out), wrapper]
    p = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if p.returncode != 0:
        raise SystemExit(f"torchrun failed ({p.returncode}):\n{p.stdout[-2000:]}\n{p.stderr[-3000:]}")
    return [json.loads(Path(out, f"rank{r}.json").read_text()) for r in range(2)]


def main() -> None:
    from slayer_runner.surgery import apply_layer_map
    from slayer_runner.tiny import make_tiny

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        base = make_tiny(SPEC, root / "base")
        maps = {name: compile_plan(root, name, train=ts, steps=STEPS, lr="1e-3 constant", batch="4 x 64")
                for name, ts in TRAIN_SETS.items()}
        expanded = root / "expanded"
        apply_layer_map(json.loads(maps["new+final"].read_text()), base, expanded)
        per_cpu: Dict[tuple, List[float]] = {}
        rss: Dict[tuple, List[int]] = {}
        for r in range(ROUNDS):
            for name in TRAIN_SETS:
                for wrapper in WRAPPERS:
                    ranks = run_job(maps[name], expanded, root / f"out-{r}-{wrapper}-{name.replace(' ', '_')}", wrapper)
                    key = (wrapper, name)
                    per_cpu.setdefault(key, []).append(sum(x["tokens"] for x in ranks[:1]) / sum(x["cpu"] for x in ranks))
                    rss.setdefault(key, []).extend(x["peak_rss"] for x in ranks)
        params = {name: json.loads(p.read_text())["params"] for name, p in maps.items()}
        tps = {k: median(v) for k, v in per_cpu.items()}
        mb = {k: max(v) / 2**20 for k, v in rss.items()}
        print(f"distributed.bench: 2 processes (gloo, 1 torch thread each), {ROUNDS} rounds x {STEPS} steps of 4x64 "
              f"tokens per setting; model {params['new+final']['total']:,} parameters")
        for (wrapper, name), v in tps.items():
            print(f"  {wrapper:<4} {name:<10} trainable {params[name]['trainable']:>10,}   {v:7.0f} tokens per CPU second   "
                  f"peak RSS per process {mb[(wrapper, name)]:6.0f} MB (max of {len(rss[(wrapper, name)])})")
        for name in TRAIN_SETS:
            fsdp, ddp = ("fsdp", name), ("ddp", name)
            print(ratio_line(f"FSDP / DDP ({name})", ((tps[fsdp], tps[ddp], "tokens per CPU second"),
                                                      (mb[fsdp], mb[ddp], "peak RSS"))))
        for wrapper in WRAPPERS:
            nf, every = (wrapper, "new+final"), (wrapper, "all blocks")
            print(ratio_line(f"new+final / all blocks ({wrapper})", ((tps[nf], tps[every], "tokens per CPU second"),)))


if __name__ == "__main__":
    if sys.argv[1:2] == ["--worker"]:
        worker(*sys.argv[2:6])
    else:
        main()
