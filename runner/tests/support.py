"""Shared helpers for the runner's tests: temp dirs, tiny checkpoints, LayerMaps.

LayerMaps come from the real compiler (``compile_plan``: ``node bin/slayer.js compile``) when it is
built, or are written by hand from the documented schema (``layer_map``).
"""
from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import tempfile
import unittest
from pathlib import Path
from typing import Any, Iterable, Optional, Sequence

from slayer_runner.modelconfig import read_config
from slayer_runner.layermap import output_projection_suffixes, shape_from_config
from slayer_runner.tiny import make_tiny

ROOT = Path(__file__).resolve().parents[2]
CLI = ROOT / "bin" / "slayer.js"


class TempDirTest(unittest.TestCase):
    """A fresh temporary directory per test as ``self.dir``, removed after the test."""

    def setUp(self) -> None:
        tmp = tempfile.TemporaryDirectory()
        self.addCleanup(tmp.cleanup)
        self.dir = Path(tmp.name)


def tiny(out: Path, **spec: Any) -> Path:
    base = {"num_layers": 6, "hidden_size": 64, "intermediate_size": 96, "num_heads": 4, "num_kv_heads": 2,
            "vocab_size": 256, "seed": 1}
    return make_tiny({**base, **spec}, out)


def cli_available() -> Optional[str]:
    """None when ``node bin/slayer.js`` can run, else why not."""
    if shutil.which("node") is None:
        return "node is not installed"
    if not (ROOT / "dist" / "cli.js").exists():
        return "the CLI is not built (node scripts/build.mjs)"
    return None


def compile_plan_text(plan_text: str, directory: str | Path) -> dict[str, Any]:
    """The LayerMap the real compiler (``slayer compile``) makes for ``plan_text``, saved as
    ``directory/plan.slayer`` (so ``model ./base`` refers to ``directory/base``)."""
    plan = Path(directory) / "plan.slayer"
    plan.write_text(plan_text, encoding="utf-8")
    r = subprocess.run(["node", str(CLI), "compile", str(plan)], capture_output=True, text=True, timeout=120)
    if r.returncode != 0:
        raise AssertionError(f"slayer compile failed ({r.returncode}):\n{r.stdout}\n{r.stderr}")
    return dict(json.loads(r.stdout))


def compile_plan(model_dir: Path, expand: str, extra: str = "") -> dict[str, Any]:
    """The LayerMap the real compiler makes for ``expand`` on the checkpoint at ``model_dir``."""
    with tempfile.TemporaryDirectory() as d:
        return compile_plan_text(f"model {model_dir}\nexpand {expand}\n{extra}", d)


def block(index: int, role: str, init: str, sources: Sequence[tuple[int, float]], zero: Iterable[str] = (),
          trainable: Optional[bool] = None) -> dict[str, Any]:
    return {"index": index, "role": role, "init": init,
            "sources": [{"layer": layer, "weight": w} for layer, w in sources],
            "zero": list(zero), "trainable": role != "kept" if trainable is None else trainable}


def layer_map(model_dir: Path, blocks: list[dict[str, Any]], deleted: Sequence[int] = ()) -> dict[str, Any]:
    """A LayerMap written by hand from docs/layermap.md, for the checkpoint at ``model_dir``."""
    base = shape_from_config(read_config(model_dir))
    result = {**base, "numLayers": len(blocks)}
    return {
        "version": 1, "kind": "slayer.layermap",
        "plan": {"model": str(model_dir), "expand": "(hand-written)", "file": None},
        "base": base, "result": result, "blocks": blocks, "deleted": list(deleted), "trainableExtras": [],
        "params": {k: 0 for k in ("total", "trainable", "trainableBlocks", "perBlock", "embed", "head", "norm", "base")},
        "stages": [], "run": None,
    }


def zero_suffixes(model_dir: Path) -> list[str]:
    return output_projection_suffixes(shape_from_config(read_config(model_dir)))


def tree_hash(directory: Path) -> dict[str, str]:
    """sha256 and mtime of every file under ``directory``."""
    out = {}
    for p in sorted(directory.rglob("*")):
        if p.is_file():
            out[str(p.relative_to(directory))] = f"{hashlib.sha256(p.read_bytes()).hexdigest()} {p.stat().st_mtime_ns}"
    return out


class Bounded:
    """What ``run_bounded`` measured: exit code, output, wall seconds and the child's own peak RSS."""

    def __init__(self, returncode: int, stdout: str, stderr: str, seconds: float, peak_rss_mb: float) -> None:
        self.returncode, self.stdout, self.stderr = returncode, stdout, stderr
        self.seconds, self.peak_rss_mb = seconds, peak_rss_mb


# A child's ru_maxrss includes the image it was forked from (Linux keeps the old image's high-water
# mark across exec), so a test process holding torch and transformers would be measured, not the
# command. This torch-free launcher (python -S) starts the command itself and writes that
# grandchild's own peak RSS, in bytes, to the file named by its first argument.
_MEASURE = """
import os, subprocess, sys
p = subprocess.Popen(sys.argv[2:])
_pid, status, usage = os.wait4(p.pid, 0)
with open(sys.argv[1], "w") as f:
    f.write(str(usage.ru_maxrss * 1024))
sys.exit(os.waitstatus_to_exitcode(status))
"""


def measured(cmd: Sequence[str], rss_file: Path) -> list[str]:
    """``cmd`` started through the launcher above, which writes its peak RSS to ``rss_file``."""
    import sys
    return [sys.executable, "-S", "-c", _MEASURE, str(rss_file), *cmd]


def run_bounded(args: Sequence[str], timeout: float = 60.0, cwd: Optional[Path] = None) -> Bounded:
    """``python -m slayer_runner ARGS`` as a process, killed after ``timeout`` seconds (a hang fails
    the test instead of stalling it), with its own peak RSS (see ``measured``)."""
    import os
    import signal
    import sys
    import time
    env = {**os.environ, "PYTHONPATH": str(ROOT / "runner")}
    start = time.monotonic()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, tempfile.TemporaryDirectory() as tmp:
        rss_file = Path(tmp) / "rss"
        p = subprocess.Popen(measured([sys.executable, "-m", "slayer_runner", *args], rss_file), stdout=out,
                             stderr=err, stdin=subprocess.DEVNULL, env=env, cwd=cwd, start_new_session=True)
        try:
            p.wait(timeout=max(0.0, timeout - (time.monotonic() - start)))
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)  # the launcher and the command it started
            p.wait()
            raise AssertionError(f"{' '.join(args)}: still running after {timeout} s (killed)") from None
        seconds = time.monotonic() - start
        out.seek(0)
        err.seek(0)
        return Bounded(p.returncode, out.read().decode("utf-8", "replace"), err.read().decode("utf-8", "replace"),
                       seconds, int(rss_file.read_text()) / 2**20)
