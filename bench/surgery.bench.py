"""Surgery benchmark: a generated bf16 checkpoint of over 1 GB in several shards, expanded by a
SLayer plan (copied, averaged and zeroed blocks, an updated final block), against `cp -r` of the
same source measured in the same run. Reports throughput (output bytes / s) as a ratio to cp (plain,
and cp followed by an fsync of the copies, since surgery fsyncs its output before renaming it into
place), and the surgery process's peak RSS next to the checkpoint, largest shard and largest tensor,
and the RSS of a process that only imports the runner (the torch floor).

Goals (issue 5): throughput >= 0.8x cp, peak RSS <= the largest shard.
Run: npm run bench -- surgery   (or PYTHONPATH=runner .venv/bin/python bench/surgery.bench.py)
Env: SLAYER_BENCH_LAYERS (default 9), SLAYER_BENCH_ROUNDS (default 3), SLAYER_BENCH_DIR (default: a temp dir under /tmp).
"""
from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "runner"))

from slayer_runner.checkpoint import Checkpoint  # noqa: E402
from slayer_runner.units import human_bytes, path_bytes  # noqa: E402
from slayer_runner.tiny import make_tiny  # noqa: E402

ENV = {**os.environ, "PYTHONPATH": str(ROOT / "runner")}
EXPAND = "(2+1)x3 | 1 | 1◇"  # on 9 blocks: 3 averaged new blocks, block 7 updated from 7 and 8, 8 deleted
ROUNDS = int(os.environ.get("SLAYER_BENCH_ROUNDS", "3"))  # interleaved cp / surgery rounds


# A child's ru_maxrss counts the memory of the process it was forked from (Linux records the old
# image's high-water mark at exec), and this benchmark holds torch. So each measured command is
# started by a small torch-free Python that waits for it and reports that grandchild's own peak.
_MEASURE = """
import os, subprocess, sys
p = subprocess.Popen(sys.argv[1:])
_pid, status, usage = os.wait4(p.pid, 0)
print(usage.ru_maxrss * 1024)
sys.exit(os.waitstatus_to_exitcode(status))
"""


def run_child(cmd: list[str]) -> tuple[float, int, str]:
    """(wall seconds, peak RSS in bytes, stdout) of one command, RSS measured for that process alone."""
    t0 = time.perf_counter()
    r = subprocess.run([sys.executable, "-S", "-c", _MEASURE, *cmd], env=ENV, capture_output=True, text=True)
    elapsed = time.perf_counter() - t0
    if r.returncode != 0:
        raise SystemExit(f"{' '.join(cmd[:4])} failed ({r.returncode}): {r.stderr[-2000:]}")
    lines = r.stdout.strip().splitlines()
    return elapsed, int(lines[-1]), "\n".join(lines[:-1])


def layer_map_for(src: Path) -> dict:
    """From the real compiler when it is built; else written from the documented schema."""
    cli = ROOT / "bin" / "slayer.js"
    if shutil.which("node") and (ROOT / "dist" / "cli.js").exists():
        with tempfile.TemporaryDirectory() as d:
            plan = Path(d) / "bench.slayer"
            plan.write_text(f"model {src}\nexpand {EXPAND}\n", encoding="utf-8")
            r = subprocess.run(["node", str(cli), "compile", str(plan)], capture_output=True, text=True)
            if r.returncode == 0:
                return json.loads(r.stdout)
            print(f"(compiler failed, using a hand-written LayerMap: {r.stderr.strip()[:200]})")
    from tests.support import block, layer_map, zero_suffixes
    z = zero_suffixes(src)
    blocks, out = [], 0
    for g in range(3):
        for k in (2 * g, 2 * g + 1):
            blocks.append(block(out, "kept", "kept", [(k, 1)]))
            out += 1
        blocks.append(block(out, "new", "average", [(2 * g + 1, 0.5), (2 * g + 2, 0.5)], z))
        out += 1
    blocks.append(block(out, "kept", "kept", [(6, 1)]))
    blocks.append(block(out + 1, "final", "final-average", [(7, 0.5), (8, 0.5)]))
    return layer_map(src, blocks, deleted=[8])


def main() -> int:
    layers = int(os.environ.get("SLAYER_BENCH_LAYERS", "9"))
    base_dir = Path(os.environ.get("SLAYER_BENCH_DIR") or tempfile.mkdtemp(prefix="slayer-surgery-bench-"))
    base_dir.mkdir(parents=True, exist_ok=True)
    try:
        src = base_dir / "src"
        spec = {"num_layers": layers, "hidden_size": 2048, "intermediate_size": 5632, "num_heads": 16,
                "num_kv_heads": 4, "vocab_size": 32000, "seed": 0, "dtype": "bf16", "max_shard_bytes": 300_000_000}
        t0 = time.perf_counter()
        if not (src / "config.json").exists():  # a kept SLAYER_BENCH_DIR is reused
            make_tiny(spec, src)
        gen_s = time.perf_counter() - t0
        with Checkpoint(src) as ck:
            largest_tensor = max(ck.info(n).nbytes for n in ck.keys())
        shards = sorted(src.glob("model-*.safetensors"))
        src_bytes = path_bytes(src)
        largest_shard = max(p.stat().st_size for p in shards)
        print(f"checkpoint     {human_bytes(src_bytes)} bf16 in {len(shards)} shards, largest shard "
              f"{human_bytes(largest_shard)}, largest tensor {human_bytes(largest_tensor)} (generated in {gen_s:.1f} s)")
        lm_path = base_dir / "layermap.json"
        lm_path.write_text(json.dumps(layer_map_for(src)))
        floor_s, floor_rss, _ = run_child([sys.executable, "-c", "import slayer_runner.surgery"])

        cp_s, cp_sync_s, surgery_s, inner_s, nosync_s, rss = [], [], [], [], [], []
        out_bytes = 0
        for rnd in range(ROUNDS):
            dst = base_dir / f"cp-{rnd}"
            cp_s.append(run_child(["cp", "-r", str(src), str(dst)])[0])
            t0 = time.perf_counter()
            subprocess.run(["sync", *map(str, sorted(dst.iterdir()))], check=True)
            cp_sync_s.append(cp_s[-1] + time.perf_counter() - t0)
            shutil.rmtree(dst)
            out = base_dir / f"out-{rnd}"
            s, r, stdout = run_child([sys.executable, "-m", "slayer_runner", "surgery", "--layer-map", str(lm_path),
                                      "--source", str(src), "--output", str(out), "--max-shard-size", "300MB"])
            summary = json.loads(next(ln for ln in stdout.splitlines() if ln.startswith("{")))
            surgery_s.append(s)
            inner_s.append(float(summary["seconds"]))
            rss.append(r)
            out_bytes = path_bytes(out)
            out_shards = summary["shards"]
            shutil.rmtree(out)
            _s, r, stdout = run_child([sys.executable, "-m", "slayer_runner", "surgery", "--layer-map", str(lm_path),
                                       "--source", str(src), "--output", str(out), "--max-shard-size", "300MB",
                                       "--no-fsync"])
            nosync_s.append(float(json.loads(next(ln for ln in stdout.splitlines() if ln.startswith("{")))["seconds"]))
            rss.append(r)
            shutil.rmtree(out)

        med = statistics.median
        runs = lambda xs: ", ".join(f"{x:.2f}" for x in xs)  # noqa: E731
        rate = lambda nbytes, t: f"{human_bytes(nbytes / t)}/s"  # noqa: E731
        peak = max(rss)
        print(f"rounds         {ROUNDS}, interleaved; median and best (least disturbed) of each")
        print(f"cp -r          median {med(cp_s):.2f} s {rate(src_bytes, med(cp_s))}, best {min(cp_s):.2f} s "
              f"{rate(src_bytes, min(cp_s))}   (runs: {runs(cp_s)})")
        print(f"cp -r + fsync  median {med(cp_sync_s):.2f} s, best {min(cp_sync_s):.2f} s   (runs: {runs(cp_sync_s)})")
        print(f"surgery        median {med(surgery_s):.2f} s {rate(out_bytes, med(surgery_s))}, best {min(surgery_s):.2f} s "
              f"{rate(out_bytes, min(surgery_s))}; output {human_bytes(out_bytes)} in {out_shards} shards, fsynced "
              f"(runs: {runs(surgery_s)}); process start-up alone {floor_s:.2f} s")
        print(f"  own time     median {med(inner_s):.2f} s {rate(out_bytes, med(inner_s))}, best {min(inner_s):.2f} s "
              f"{rate(out_bytes, min(inner_s))}   (runs: {runs(inner_s)})")
        print(f"  --no-fsync   median {med(nosync_s):.2f} s {rate(out_bytes, med(nosync_s))}, best {min(nosync_s):.2f} s "
              f"{rate(out_bytes, min(nosync_s))}   (own time; runs: {runs(nosync_s)})")
        for label, pick in (("median", med), ("best", min)):
            whole = (out_bytes / pick(surgery_s)) / (src_bytes / pick(cp_s))
            whole_sync = (out_bytes / pick(surgery_s)) / (src_bytes / pick(cp_sync_s))
            own = (out_bytes / pick(inner_s)) / (src_bytes / pick(cp_s))
            own_sync = (out_bytes / pick(inner_s)) / (src_bytes / pick(cp_sync_s))
            nosync = (out_bytes / pick(nosync_s)) / (src_bytes / pick(cp_s))
            print(f"ratio ({label:<6}) {whole:.2f}x cp, {whole_sync:.2f}x cp+fsync (whole process); "
                  f"{own:.2f}x cp, {own_sync:.2f}x cp+fsync (surgery's own time); "
                  f"{nosync:.2f}x cp (--no-fsync, own time)   goal >= 0.8x")
        print(f"peak RSS       {human_bytes(peak)} surgery; {human_bytes(floor_rss)} for importing the runner alone; "
              f"largest shard {human_bytes(largest_shard)}; checkpoint {human_bytes(src_bytes)}")
        print(f"RSS / shard    {peak / largest_shard:.2f} (goal <= 1.0); above the import floor: "
              f"{human_bytes(peak - floor_rss)} ({(peak - floor_rss) / largest_tensor:.2f}x the largest tensor)")
        print(f"load average   {', '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs")
    finally:
        if not os.environ.get("SLAYER_BENCH_DIR"):
            shutil.rmtree(base_dir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
