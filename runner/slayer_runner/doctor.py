"""``doctor``: the pre-flight check run before a job is launched.

``doctor --run-dir DIR`` reads DIR/run.json and DIR/layermap.json (output under DIR/out);
``doctor [--layer-map F] [--output-path P] [--device auto|cpu|cuda]`` checks a plan without a run dir.
It prints the versions (Python, torch, CUDA, transformers, flash-attn), devices, memory, disk,
optional libraries and the model backend and attention kernel the run will use (backend.py), then
judges whether the plan fits, and exits 0 when the run can go ahead, 1 (with the reasons) when it
cannot.

Memory: the one rule of contracts/training-memory.json (memory.py; the plan's hover says the same):
weights and optimizer state per GPU (16 bytes per trainable parameter and 2 per frozen one in
bf16), against the smallest GPU's memory; when that does not fit one GPU but fits sharded over all
GPUs of the run, it runs with FSDP. On CPU the one-process figure is compared with the available
RAM. Disk: the output checkpoint (total parameters x bytes of the result's dtype) against the free
space where it will be written.
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import re
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

from .contracts import run_file
from .units import human_bytes, memory_bytes
from .layermap import LayerMapError, load_layer_map
from .memory import fit_verdict, plan_memory
from .run_config import RunConfig, RunConfigError, load_run_config

# The oldest torch the runner supports: what GPU hosts run (FSDP2, SDPA, torchrun that parses its
# own flags on Python 3.11). Older builds are refused before anything starts.
TORCH_FLOOR = (2, 1)
OPTIONAL_LIBS = ("safetensors", "transformers", "tokenizers", "datasets", "huggingface_hub")
DTYPE_BYTES = {"bfloat16": 2, "float16": 2, "float32": 4, "bf16": 2, "fp16": 2, "fp32": 4}


@dataclass
class Report:
    lines: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)

    def say(self, key: str, value: Any, text: Optional[str] = None) -> None:
        self.facts[key] = value
        self.lines.append(f"{key:<14} {text if text is not None else value}")


def ram_bytes() -> tuple[Optional[int], Optional[int]]:
    """(total, available) from /proc/meminfo, or (total, None) from sysconf."""
    try:
        info = {}
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                k, v = line.split(":", 1)
                info[k] = int(v.split()[0]) * 1024
        return info.get("MemTotal"), info.get("MemAvailable")
    except (OSError, ValueError):
        try:
            return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"), None
        except (ValueError, OSError, AttributeError):
            return None, None


def existing_ancestor(path: Path) -> Path:
    p = path.resolve()
    while not p.exists() and p != p.parent:
        p = p.parent
    return p


def gpus() -> tuple[Optional[str], list[dict[str, Any]]]:
    """(CUDA version torch was built with, [{name, total, free}] per visible device)."""
    import torch
    if not torch.cuda.is_available():
        return torch.version.cuda, []
    out = []
    for i in range(torch.cuda.device_count()):
        props = torch.cuda.get_device_properties(i)
        free: Optional[int] = None
        try:
            free = int(torch.cuda.mem_get_info(i)[0])
        except (RuntimeError, AttributeError):
            pass
        out.append({"index": i, "name": props.name, "total": int(props.total_memory), "free": free})
    return torch.version.cuda, out


def torch_version_tuple(version: str) -> tuple[int, int]:
    """(major, minor) of a torch version string such as '2.13.0+cpu' or '2.1.0a0+git1234'."""
    m = re.match(r"(\d+)\.(\d+)", version)
    return (int(m.group(1)), int(m.group(2))) if m else (0, 0)


def check(layer_map: Optional[dict[str, Any]], run: Optional[RunConfig], output: Path,
          device: str = "auto") -> Report:
    r = Report()
    r.say("python", platform.python_version(), f"{platform.python_version()} ({sys.executable})")
    try:
        import torch
    except ImportError:
        r.say("torch", None, "MISSING")
        r.problems.append("PyTorch is not importable with this Python: install torch, or set the host's "
                          "python / activate settings to an environment that has it")
        return r
    r.say("torch", torch.__version__)
    if torch_version_tuple(str(torch.__version__)) < TORCH_FLOOR:
        floor = ".".join(map(str, TORCH_FLOOR))
        r.problems.append(f"torch {torch.__version__} is older than the runner supports (torch >= {floor}): "
                          "install a current torch, or set the host's python / activate settings to an "
                          "environment that has one")
        return r
    cuda_version, devices = gpus()
    r.say("cuda", cuda_version, f"{cuda_version or 'none'} (torch build); "
                                f"{'available' if devices else 'no usable CUDA device'}")
    r.facts["gpus"] = devices
    for d in devices:
        r.lines.append(f"  gpu {d['index']:<8} {d['name']}, {human_bytes(d['total'])}"
                       + (f" ({human_bytes(d['free'])} free)" if d["free"] is not None else ""))
    total_ram, avail_ram = ram_bytes()
    r.say("ram", {"total": total_ram, "available": avail_ram},
          f"{human_bytes(total_ram or 0)} total, {human_bytes(avail_ram) if avail_ram else '?'} available")
    where = existing_ancestor(output)
    free_disk = shutil.disk_usage(where).free
    r.say("disk", {"path": str(output), "free": free_disk}, f"{human_bytes(free_disk)} free at {where}")
    libs = {name: importlib.util.find_spec(name) is not None for name in OPTIONAL_LIBS}
    r.say("libraries", libs, ", ".join(f"{k} {'yes' if v else 'no'}" for k, v in libs.items()))
    for name in ("transformers", "flash_attn"):
        version = package_version(name)
        r.say(name.replace("_", "-"), version, version or "not installed")

    if run is not None:
        device = run["device"]
    r.facts["device"] = device
    if device == "cuda" and not devices:
        r.problems.append("run.json asks for device=cuda but this host has no usable CUDA device "
                          f"(torch {torch.__version__}, built with CUDA {cuda_version or 'none'}): "
                          "run on a GPU host, or choose device cpu/auto")
    use_gpu = bool(devices) and device != "cpu"
    _check_backend(r, run or {}, "cuda" if use_gpu else "cpu")
    world = 1
    if run is not None:
        world = run["nproc_per_node"] * run["nnodes"]
        if use_gpu and run["nproc_per_node"] > len(devices):
            r.problems.append(f"run.json starts {run['nproc_per_node']} processes per node but this host has "
                              f"{len(devices)} GPU(s)")
        src = run["source_model"]
        if src is not None and "surgery" in run["phases"]:
            _check_source(r, src, libs)
        if "eval" in run["phases"]:
            _check_eval(r, run.get("eval") or {})
    if layer_map is not None:
        _judge_fit(r, layer_map, devices if use_gpu else [], world, avail_ram or total_ram, free_disk)
    return r


def package_version(name: str) -> Optional[str]:
    """The installed version of a package (None when it is not importable)."""
    if importlib.util.find_spec(name) is None:
        return None
    from importlib import metadata
    for dist in (name, name.replace("_", "-")):
        try:
            return metadata.version(dist)
        except metadata.PackageNotFoundError:
            continue
    return "unknown version"


def _check_backend(r: Report, run: dict[str, Any], device: str) -> None:
    """The backend and attention kernel run.json's choice resolves to on this host."""
    from .backend import report as backend_report

    backend = str(run.get("backend") or "auto")
    attention = str(run.get("attn_implementation") or "auto")
    got = backend_report(device, backend, attention)
    r.facts["backend"], r.facts["attention"] = got["backend"], got["attention"]
    if got["problem"]:
        r.lines.append(f"{'backend':<14} {backend} (attention {attention}): cannot run here")
        r.problems.append(f"run.json's backend {backend} / attn_implementation {attention}: {got['problem']}")
        return
    what = "transformers AutoModelForCausalLM" if got["backend"] == "transformers" else "in-house model (Llama, Mistral, Qwen2)"
    r.lines.append(f"{'backend':<14} {what}, attention {got['attention']}"
                   + (f" (asked: {backend})" if backend != "auto" else ""))
    if got["backend"] == "builtin":
        model_type = _source_model_type(run)
        from .modelconfig import families
        if model_type is not None and model_type in families() and not families()[model_type]["builtin"]:
            r.problems.append(f"the model is {model_type}, which only the transformers backend computes: install "
                              "transformers in the host's Python environment")


def _source_model_type(run: dict[str, Any]) -> Optional[str]:
    src = run.get("source_model")
    if not src or run.get("tiny_model") is not None:
        return None
    cfg = Path(os.path.expanduser(str(src))) / "config.json"
    try:
        return str(json.loads(cfg.read_text(encoding="utf-8")).get("model_type"))
    except (OSError, ValueError, AttributeError):
        return None


def _check_source(r: Report, src: str, libs: dict[str, bool]) -> None:
    p = Path(os.path.expanduser(src))
    if p.is_dir():
        if not (p / "config.json").exists():
            r.problems.append(f"source model {p} has no config.json")
        elif not _has_weights(p):
            r.problems.append(f"source model {p} has a config.json but no weights (*.safetensors or *.bin): "
                              "put the checkpoint there, or write `weights random` after `run on HOST` in the "
                              "plan for random weights of this shape (demos, smoke runs)")
        return
    if p.is_absolute() or src.startswith((".", "~")):
        r.problems.append(f"source model {src} is not a directory on this host")
    elif libs.get("huggingface_hub"):
        r.notes.append(f"source model {src} is not a local directory; it will be fetched from the hub")
    else:
        r.problems.append(f"source model {src} is not a local directory and huggingface_hub is not installed "
                          "to fetch it: download it to the host and use its path")


def _has_weights(model_dir: Path) -> bool:
    """True when the directory holds checkpoint weights (a loadable checkpoint, not just its config)."""
    return any(model_dir.glob("*.safetensors")) or any(model_dir.glob("*.bin"))


def _check_eval(r: Report, ev: dict[str, Any]) -> None:
    from .evaluation import LM_EVAL_MISSING, lm_eval_version

    version = lm_eval_version()
    r.say("lm_eval", version, version or "not installed (lm-evaluation-harness)")
    if ev.get("tasks") and version is None:
        r.problems.append(LM_EVAL_MISSING)


def _judge_fit(r: Report, lm: dict[str, Any], devices: list[dict[str, Any]], world: int,
               ram: Optional[int], free_disk: int) -> None:
    params = lm["params"]
    trainable = int(params["trainable"])
    memory = plan_memory(lm, world)
    need = memory["ddp"].total
    r.facts["memory_needed"] = int(need)
    r.lines.append(f"{'plan':<14} {lm['plan']['expand']}: {params['total']:,} parameters, {trainable:,} trainable")
    r.lines.append(f"{'memory need':<14} {memory_bytes(need)} per GPU (weights and optimizer; activations extra)")
    if devices:
        smallest = min(d["total"] for d in devices)
        fit = fit_verdict(memory, smallest)
        sharded = memory_bytes(memory["fsdp"].total)
        if fit == "ddp":
            r.lines.append(f"{'fits':<14} yes: one GPU holds it ({memory_bytes(smallest)})")
        elif fit == "fsdp":
            r.lines.append(f"{'fits':<14} only sharded over the run's {world} GPUs (FSDP), {sharded} each")
            r.notes.append("the model does not fit one GPU: training shards it with FSDP")
        else:
            r.problems.append(f"the plan needs {memory_bytes(need)} of GPU memory for weights and optimizer "
                              f"but the GPUs have {memory_bytes(smallest)} each"
                              + (f" ({sharded} each sharded over {world})" if world > 1 else "")
                              + ": use more GPUs, or train fewer blocks")
    elif ram is not None:
        if fit_verdict(plan_memory(lm, 1), ram) == "ddp":
            r.lines.append(f"{'fits':<14} yes, on CPU: {memory_bytes(ram)} of RAM available")
        else:
            r.problems.append(f"the plan needs {memory_bytes(need)} of memory on CPU but only {memory_bytes(ram)} "
                              "of RAM is available: run it on a GPU host")
    dtype_bytes = DTYPE_BYTES.get(str(lm["result"]["dtype"]).lower(), 4)
    ckpt = int(params["total"]) * dtype_bytes
    r.facts["checkpoint_bytes"] = ckpt
    if ckpt > free_disk:
        r.problems.append(f"the output checkpoint needs {human_bytes(ckpt)} but only {human_bytes(free_disk)} "
                          "is free where it will be written")
    else:
        r.lines.append(f"{'disk need':<14} {human_bytes(ckpt)} for the output checkpoint: ok")


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="python -m slayer_runner doctor",
                                 description="Pre-flight: can this host run the plan?")
    ap.add_argument("--run-dir", type=Path, help="run directory holding run.json and layermap.json")
    ap.add_argument("--layer-map", type=Path, help="LayerMap JSON (without a run directory)")
    ap.add_argument("--output-path", type=Path, help="where the output will be written (default: current dir)")
    ap.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto")
    ap.add_argument("--json", action="store_true", help="print the report as JSON")
    a = ap.parse_args(argv)
    run: Optional[dict[str, Any]] = None
    layer_map: Optional[dict[str, Any]] = None
    output = a.output_path or Path.cwd()
    early: list[str] = []
    try:
        if a.run_dir is not None:
            output = a.output_path or a.run_dir / run_file("out")
            try:
                run = load_run_config(a.run_dir / run_file("runConfig"))
            except RunConfigError as err:
                early.append(str(err))
            lm_path = a.run_dir / run_file("layerMap")
            if lm_path.exists() or a.layer_map is None:
                layer_map = load_layer_map(a.layer_map or lm_path)
        if a.layer_map is not None and layer_map is None:
            layer_map = load_layer_map(a.layer_map)
    except LayerMapError as err:
        early.append(f"LayerMap: {err}")
    report = check(layer_map, run, output, a.device)
    report.problems = early + report.problems
    if a.json:
        print(json.dumps({**report.facts, "problems": report.problems, "notes": report.notes}, indent=2, default=str))
    else:
        print("\n".join(report.lines))
        for n in report.notes:
            print(f"note: {n}")
        for p in report.problems:
            print(f"PROBLEM: {p}")
        print("doctor: ok, this host can run the plan" if not report.problems
              else f"doctor: cannot run ({len(report.problems)} problem(s))")
    sys.stdout.flush()
    return 0 if not report.problems else 1
