"""The `eval` phase: did the expansion inject knowledge without forgetting?

Two kinds of score for each evaluated checkpoint (the base, the expanded model, the model after
each training stage), each tagged *domain* (what the run should improve) or *general* (what it
should not forget):

- held-out perplexity: the exact token-weighted loss over text files, windows of ``seq_len``
  tokens, every token but a window's first predicted once; streamed as progress events with ETA;
- lm-evaluation-harness tasks through its Python API (``lm_eval.simple_evaluate``, the ``hf``
  model on the checkpoint directory) with shots, metric, limit, chat template and seed pinned and
  recorded next to each score with the task's version and the harness's version.

Results go out as ``eval`` events and as ``out/eval/<model>.json``. The base model's scores are
cached on the host per (checkpoint content hash, settings of the score), so a second run or a
sweep over plans on the same base never evaluates the base again.

``python -m slayer_runner eval --model DIR --config eval.json [--label base] [--out DIR]``
evaluates one checkpoint without a run directory.
"""
from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import math
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Mapping, Optional

from . import contracts
from .checkpoint_files import open_member
from .events import EventWriter, Progress

EVAL_FILE_VERSION = 1
# run.json's `eval` is checked against contracts/run-config.schema.json ($defs/evalPlan) when run.json is read.
GROUPS = contracts.enum_of("run-config", "evalGroup")
WHEN = tuple(contracts.schema("run-config").definition("evalPlan")["properties"]["when"]["items"]["enum"])
# Files that make up a checkpoint as far as its scores are concerned (weights, config, tokenizer).
_CHECKPOINT_FILES = (".safetensors", ".bin", ".json", ".model", ".txt", ".tiktoken")
LM_EVAL_MISSING = ("lm-evaluation-harness (`lm_eval`) is not importable on this host, and the plan's "
                   "evaluation has harness tasks: install it in the runner's environment "
                   "(`pip install lm_eval`; offline, `pip install --no-deps lm_eval` plus datasets, "
                   "sacrebleu, scikit-learn, dill, more_itertools, jinja2), or keep only perplexity")


class EvalError(RuntimeError):
    pass


# ---------------------------------------------------------------------------------------------
# The evaluation settings (run.json `eval`, written by the compiler from the plan's `eval` section)

@dataclass(frozen=True)
class TaskSpec:
    """One harness task: a registered name (`gsm8k`) or a local YAML config (`config` set)."""
    name: str
    group: str
    shots: Optional[int] = None  # None = the task's own default
    metric: Optional[str] = None  # e.g. `acc_norm` or `exact_match,strict-match`; None = the task's first
    limit: Optional[float] = None  # documents per task (>= 1) or a fraction (< 1); None = all
    chat_template: bool = False
    config: Optional[str] = None  # path of a local task YAML on the host
    unsafe_code: bool = False  # the task executes generated code (HumanEval, MBPP)


@dataclass(frozen=True)
class PerplexitySpec:
    name: str
    group: str
    files: List[str]


@dataclass
class EvalSpec:
    tasks: List[TaskSpec] = field(default_factory=list)
    perplexity: List[PerplexitySpec] = field(default_factory=list)
    when: List[str] = field(default_factory=lambda: ["base", "final"])
    batch_size: int = 1
    seq_len: int = 2048
    seed: int = 1234
    cache_dir: Optional[str] = None


def _need(ok: bool, what: str) -> None:
    if not ok:
        raise EvalError(f"run.json eval: bad or missing {what}")


def parse_spec(d: Mapping[str, Any]) -> EvalSpec:
    """Checks run.json's `eval` object (the TypeScript side validates it too) and types it."""
    _need(isinstance(d, Mapping), "object")
    tasks = []
    for i, t in enumerate(d.get("tasks") or []):
        _need(isinstance(t, Mapping) and isinstance(t.get("name"), str) and t["name"], f"tasks[{i}].name")
        _need(t.get("group") in GROUPS, f"tasks[{i}].group (domain or general)")
        shots = t.get("shots")
        _need(shots is None or (isinstance(shots, int) and shots >= 0), f"tasks[{i}].shots")
        limit = t.get("limit")
        _need(limit is None or (isinstance(limit, (int, float)) and limit > 0), f"tasks[{i}].limit")
        _need(t.get("metric") is None or isinstance(t["metric"], str), f"tasks[{i}].metric")
        _need(t.get("config") is None or isinstance(t["config"], str), f"tasks[{i}].config")
        tasks.append(TaskSpec(str(t["name"]), str(t["group"]), shots, t.get("metric"), limit,
                              bool(t.get("chat_template", False)), t.get("config"), bool(t.get("unsafe_code", False))))
    ppl = []
    for i, p in enumerate(d.get("perplexity") or []):
        _need(isinstance(p, Mapping) and isinstance(p.get("name"), str), f"perplexity[{i}].name")
        _need(p.get("group") in GROUPS, f"perplexity[{i}].group (domain or general)")
        files = p.get("files")
        _need(isinstance(files, list) and files and all(isinstance(f, str) for f in files), f"perplexity[{i}].files")
        ppl.append(PerplexitySpec(str(p["name"]), str(p["group"]), list(files)))
    when = list(d.get("when") or ["base", "final"])
    _need(all(w in WHEN for w in when), f"when (any of {', '.join(WHEN)})")
    spec = EvalSpec(tasks, ppl, when, int(d.get("batch_size") or 1), int(d.get("seq_len") or 2048),
                    int(d.get("seed") if d.get("seed") is not None else 1234), d.get("cache_dir"))
    _need(spec.batch_size >= 1 and spec.seq_len >= 2, "batch_size / seq_len")
    return spec


def lm_eval_version() -> Optional[str]:
    """The harness's version when it is importable here, else None (nothing is imported)."""
    try:
        if importlib.util.find_spec("lm_eval") is None:
            return None
    except ValueError:  # sys.modules["lm_eval"] is None: imports of it are blocked
        return None
    from importlib.metadata import PackageNotFoundError, version
    try:
        return version("lm_eval")
    except PackageNotFoundError:
        return "unknown"


# ---------------------------------------------------------------------------------------------
# Content hashes (the cache key of a base model's scores)

def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        _hash_stream(h, f)
    return h.hexdigest()


def _hash_stream(h: Any, f: Any) -> None:
    for chunk in iter(lambda: f.read(1 << 20), b""):
        h.update(chunk)


def member_sha256(model_dir: Path, name: str) -> str:
    """sha256 of a checkpoint member, opened under the checkpoint-file rule (checkpoint_files.py):
    nothing outside the checkpoint, no FIFO or device."""
    h = hashlib.sha256()
    with os.fdopen(open_member(model_dir, name), "rb") as f:
        _hash_stream(h, f)
    return h.hexdigest()


def checkpoint_hash(model_dir: Path) -> str:
    """sha256 over the names and contents of the checkpoint's own files (weights, configs,
    tokenizer), so a copy of the same model elsewhere hits the same cache entries."""
    h = hashlib.sha256()
    for p in sorted(model_dir.iterdir()):
        if p.is_file() and p.name.endswith(_CHECKPOINT_FILES) and not p.name.startswith("."):
            h.update(p.name.encode() + b"\0" + member_sha256(model_dir, p.name).encode() + b"\n")
    return h.hexdigest()


class ScoreCache:
    """One JSON file per score under the cache directory, named by the hash of its key; written
    atomically so concurrent runs on the same host at worst evaluate twice."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: Mapping[str, Any]) -> Path:
        digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()
        return self.root / f"{digest}.json"

    def get(self, key: Mapping[str, Any]) -> Optional[Dict[str, Any]]:
        try:
            rec = json.loads(self._path(key).read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            return None
        return rec.get("score") if rec.get("key") == key else None

    def put(self, key: Mapping[str, Any], score: Mapping[str, Any]) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        path = self._path(key)
        tmp = path.with_suffix(f".tmp{os.getpid()}")
        tmp.write_text(json.dumps({"key": key, "score": score}, sort_keys=True), encoding="utf-8")
        os.replace(tmp, path)


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "slayer" / "eval"


# ---------------------------------------------------------------------------------------------
# Held-out perplexity

def perplexity_windows(tokens: List[int], seq_len: int) -> List[List[int]]:
    """Non-overlapping windows of at most seq_len tokens; a window of one token predicts nothing."""
    return [tokens[i:i + seq_len] for i in range(0, len(tokens), seq_len) if len(tokens[i:i + seq_len]) > 1]


def window_loss_sum(model: Any, batch: Any) -> Any:
    """Summed next-token cross-entropy of a (n, len) batch of token ids, in float32."""
    import torch.nn.functional as F

    logits = model(input_ids=batch).logits[:, :-1].float()
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), batch[:, 1:].reshape(-1), reduction="sum")


def tokenize_windows(files: List[str], tokenizer: Any, vocab_size: int, seq_len: int) -> List[List[int]]:
    """The files' tokens (each file its own stream, documents ending with EOS as in training) cut
    into windows."""
    from .data import read_tokens

    windows: List[List[int]] = []
    for f in files:
        windows += perplexity_windows([int(t) for t in read_tokens(f, tokenizer, vocab_size)], seq_len)
    return windows


def predicted_tokens(windows: List[List[int]]) -> int:
    return sum(len(w) - 1 for w in windows)


def perplexity(model: Any, windows: List[List[int]], batch_size: int, progress: Optional[Progress] = None,
               check: Callable[[], None] = lambda: None, device: str = "cpu") -> Dict[str, Any]:
    """Token-weighted loss: the sum of -log p(token | the preceding tokens of its window) over every
    predicted token, divided by their number; exp of it is the perplexity."""
    import torch

    total = predicted_tokens(windows)
    if total == 0:
        raise EvalError("perplexity: no tokens to predict")
    loss_sum = 0.0
    with torch.no_grad():
        i = 0
        while i < len(windows):
            n, j = len(windows[i]), i
            while j < len(windows) and j - i < batch_size and len(windows[j]) == n:
                j += 1  # equal-length windows share a batch (all but a file's last)
            batch = torch.tensor(windows[i:j], dtype=torch.long, device=device)
            loss_sum += float(window_loss_sum(model, batch))
            if progress is not None:
                progress.advance((j - i) * (n - 1))
            check()
            i = j
    loss = loss_sum / total
    return {"tokens": total, "loss": loss, "perplexity": math.exp(loss)}


# ---------------------------------------------------------------------------------------------
# lm-evaluation-harness

def _pick_metric(results: Mapping[str, Any], metric: Optional[str]) -> tuple[str, float, Optional[float]]:
    """(metric key, value, stderr) from one task's harness results; keys look like `acc,none`."""
    keys = [k for k in results if "," in k and "_stderr," not in k and isinstance(results[k], (int, float))]
    if metric:
        want = metric if "," in metric else None
        match = [k for k in keys if k == want] or [k for k in keys if k.split(",")[0] == metric]
        if not match:
            raise EvalError(f"metric {metric!r} is not among the task's results ({', '.join(keys) or 'none'})")
        key = match[0]
    else:
        if not keys:
            raise EvalError("the task produced no numeric metric")
        key = keys[0]
    name, _, filt = key.partition(",")
    err = results.get(f"{name}_stderr,{filt}")
    return key, float(results[key]), float(err) if isinstance(err, (int, float)) and math.isfinite(err) else None


def local_task_name(config: str) -> str:
    from lm_eval.tasks._yaml_loader import load_yaml

    cfg = load_yaml(config, resolve_func=False)
    name = cfg.get("task") or cfg.get("group")
    if not isinstance(name, str):
        raise EvalError(f"{config}: a task config needs a `task:` name")
    return name


def harness_lm(model_dir: Path, batch_size: int, device: str) -> Any:
    """The harness's `hf` model on the checkpoint directory, built once per checkpoint."""
    from lm_eval.api.registry import get_model

    return get_model("hf").create_from_arg_obj({"pretrained": str(model_dir), "dtype": "auto"},
                                               {"batch_size": batch_size, "device": device})


def run_task(lm: Any, task: TaskSpec, seed: int) -> Dict[str, Any]:
    """One task through `simple_evaluate` with every setting pinned; the score and its settings."""
    import lm_eval
    from lm_eval.tasks import TaskManager

    ref = task.config or task.name
    name = local_task_name(task.config) if task.config else task.name
    limit: Optional[float] = task.limit
    if limit is not None and limit >= 1:
        limit = int(limit)
    r = lm_eval.simple_evaluate(
        model=lm, tasks=[ref], num_fewshot=task.shots, limit=limit, apply_chat_template=task.chat_template,
        task_manager=TaskManager(include_defaults=task.config is None), random_seed=seed, numpy_random_seed=seed,
        torch_random_seed=seed, fewshot_random_seed=seed, bootstrap_iters=0 if task.limit else 1000,
        log_samples=False, confirm_run_unsafe_code=task.unsafe_code)
    if r is None or name not in r.get("results", {}):
        raise EvalError(f"harness task {name}: no results")
    key, value, stderr = _pick_metric(r["results"][name], task.metric)
    hib = (r.get("higher_is_better", {}).get(name) or {}).get(key.split(",")[0], True)
    n = r.get("n-samples", {}).get(name, {}).get("effective")
    return {"metric": key, "value": value, "stderr": stderr, "higher_is_better": bool(hib), "settings": {
        "shots": r.get("n-shot", {}).get(name, task.shots), "limit": task.limit, "seed": seed,
        "chat_template": task.chat_template, "task_version": _version_str(r.get("versions", {}).get(name)),
        "harness_version": str(r.get("lm_eval_version") or lm_eval_version()), "samples": n}}


def _version_str(v: Any) -> Optional[str]:
    return None if v is None else str(v)


# ---------------------------------------------------------------------------------------------
# Evaluating one checkpoint

@dataclass
class Score:
    model: str
    task: str
    group: str
    source: str  # "harness" or "perplexity"
    metric: str
    value: float
    stderr: Optional[float]
    higher_is_better: bool
    cached: bool
    settings: Dict[str, Any]


class Evaluator:
    def __init__(self, spec: EvalSpec, out_dir: Path, events: Optional[EventWriter] = None,
                 device: str = "cpu", base_dir: Optional[Path] = None, datasets: Optional[Mapping[str, str]] = None,
                 check: Callable[[], None] = lambda: None) -> None:
        self.spec, self.out_dir, self.events, self.device = spec, out_dir, events, device
        self.base_dir, self.datasets, self.check = base_dir, dict(datasets or {}), check
        self.cache = ScoreCache(Path(os.path.expanduser(spec.cache_dir)) if spec.cache_dir else default_cache_dir())
        self.evaluated: List[str] = []  # labels actually evaluated, not served from the cache (tests)

    def log(self, msg: str) -> None:
        print(msg, flush=True)
        if self.events is not None:
            self.events.log(msg)

    def _path(self, name: str) -> str:
        from .data import resolve_data
        return resolve_data(name, self.datasets, str(self.base_dir) if self.base_dir else None)

    def _task_key(self, model_hash: str, t: TaskSpec) -> Dict[str, Any]:
        key: Dict[str, Any] = {"kind": "harness", "model": model_hash, "harness": lm_eval_version(),
                               **asdict(t), "seed": self.spec.seed, "batch_size": self.spec.batch_size}
        del key["group"]
        if t.config:
            key["config"] = file_sha256(Path(self._path(t.config)))
        return key

    def _ppl_key(self, model_hash: str, p: PerplexitySpec, files: List[str]) -> Dict[str, Any]:
        return {"kind": "perplexity", "model": model_hash, "seq_len": self.spec.seq_len,
                "files": [file_sha256(Path(f)) for f in files]}

    def evaluate(self, label: str, model_dir: Path, cached: bool = False) -> List[Score]:
        """All scores of one checkpoint; with cached=True (the base) reuse and fill the host cache."""
        spec = self.spec
        if spec.tasks and lm_eval_version() is None:
            raise EvalError(LM_EVAL_MISSING)
        if self.events is not None:
            self.events.phase("eval", "start", detail=f"{label}: {len(spec.tasks)} task(s), "
                                                      f"{len(spec.perplexity)} perplexity set(s)")
        t0 = time.monotonic()
        model_hash = checkpoint_hash(model_dir) if cached else ""
        scores: List[Score] = []
        ppl_files = {p.name: [self._path(f) for f in p.files] for p in spec.perplexity}
        todo_ppl = []
        for p in spec.perplexity:
            hit = self.cache.get(self._ppl_key(model_hash, p, ppl_files[p.name])) if cached else None
            if hit is not None:
                scores.append(self._emit(Score(label, p.name, p.group, "perplexity", "perplexity", hit["perplexity"],
                                               None, False, True, self._ppl_settings(hit, ppl_files[p.name]))))
            else:
                todo_ppl.append(p)
        todo_tasks = []
        for t in spec.tasks:
            hit = self.cache.get(self._task_key(model_hash, t)) if cached else None
            if hit is not None:
                scores.append(self._emit(Score(label, t.name, t.group, "harness", hit["metric"], hit["value"],
                                               hit["stderr"], hit["higher_is_better"], True, hit["settings"])))
            else:
                todo_tasks.append(t)
        if todo_ppl or todo_tasks:
            self.evaluated.append(label)
        if todo_ppl:
            scores += self._perplexities(label, model_dir, todo_ppl, ppl_files, model_hash if cached else None)
        if todo_tasks:
            lm = harness_lm(model_dir, spec.batch_size, self.device)
            progress = Progress(self.events, "eval", len(todo_tasks), "tasks")
            for t in todo_tasks:
                self.check()
                self.log(f"eval {label}: {t.name} ({'local config' if t.config else 'lm-eval task'}, "
                         f"{'default' if t.shots is None else t.shots} shots)")
                res = run_task(lm, t if not t.config else TaskSpec(**{**asdict(t), "config": self._path(t.config)}),
                               spec.seed)
                res["settings"]["batch_size"] = spec.batch_size
                if cached:
                    self.cache.put(self._task_key(model_hash, t), res)
                scores.append(self._emit(Score(label, t.name, t.group, "harness", res["metric"], res["value"],
                                               res["stderr"], res["higher_is_better"], False, res["settings"])))
                progress.advance()
            del lm
        self._write(label, model_dir, model_hash, scores)
        if self.events is not None:
            hits = sum(s.cached for s in scores)
            self.events.phase("eval", "end", detail=f"{label}: {len(scores)} score(s)"
                                                    + (f", {hits} from the host cache" if hits else "")
                                                    + f" in {time.monotonic() - t0:.1f} s")
        return scores

    def _ppl_settings(self, res: Mapping[str, Any], files: List[str]) -> Dict[str, Any]:
        return {"tokens": res["tokens"], "loss": res["loss"], "seq_len": self.spec.seq_len,
                "files": len(files)}

    def _perplexities(self, label: str, model_dir: Path, todo: List[PerplexitySpec],
                      files: Mapping[str, List[str]], model_hash: Optional[str]) -> List[Score]:
        import torch
        from transformers import AutoModelForCausalLM

        from .data import load_tokenizer

        model = AutoModelForCausalLM.from_pretrained(str(model_dir), dtype="auto").to(self.device).eval()
        tokenizer = load_tokenizer(str(model_dir), int(model.config.vocab_size))
        windows = {p.name: tokenize_windows(files[p.name], tokenizer, int(model.config.vocab_size), self.spec.seq_len)
                   for p in todo}
        progress = Progress(self.events, "eval", sum(predicted_tokens(w) for w in windows.values()), "tokens")
        out = []
        for p in todo:
            self.log(f"eval {label}: perplexity on {p.name} ({len(files[p.name])} file(s), "
                     f"{predicted_tokens(windows[p.name]):,} tokens)")
            try:
                res = perplexity(model, windows[p.name], self.spec.batch_size, progress, self.check, self.device)
            except EvalError as err:
                raise EvalError(f"{err} in {', '.join(files[p.name])}") from None
            if model_hash is not None:
                self.cache.put(self._ppl_key(model_hash, p, files[p.name]), res)
            out.append(self._emit(Score(label, p.name, p.group, "perplexity", "perplexity", res["perplexity"],
                                        None, False, False, self._ppl_settings(res, files[p.name]))))
        del model
        if self.device.startswith("cuda"):
            torch.cuda.empty_cache()
        return out

    def _emit(self, s: Score) -> Score:
        if self.events is not None:
            self.events.eval_score(**asdict(s))
        return s

    def _write(self, label: str, model_dir: Path, model_hash: str, scores: List[Score]) -> None:
        self.out_dir.mkdir(parents=True, exist_ok=True)
        doc = {"v": EVAL_FILE_VERSION, "model": label, "checkpoint": str(model_dir),
               "checkpoint_sha256": model_hash or None, "harness_version": lm_eval_version(),
               "scores": [asdict(s) for s in scores]}
        tmp = self.out_dir / f".{label}.json.tmp"
        tmp.write_text(json.dumps(doc, indent=1), encoding="utf-8")
        os.replace(tmp, self.out_dir / f"{label}.json")


def main(argv: List[str]) -> int:
    ap = argparse.ArgumentParser(prog="python -m slayer_runner eval",
                                 description="evaluate one checkpoint: held-out perplexity and harness tasks")
    ap.add_argument("--model", required=True, type=Path, help="checkpoint directory")
    ap.add_argument("--config", required=True, type=Path, help="JSON: run.json's `eval` object")
    ap.add_argument("--label", default="base", help="name of the result (out/eval/LABEL.json); `base` uses the cache")
    ap.add_argument("--out", type=Path, default=Path("eval"), help="directory for LABEL.json")
    ap.add_argument("--device", default="cpu")
    a = ap.parse_args(argv)
    spec = parse_spec(json.loads(a.config.read_text(encoding="utf-8")))
    scores = Evaluator(spec, a.out, None, a.device, base_dir=a.config.parent).evaluate(
        a.label, a.model, cached=a.label == "base")
    for s in scores:
        print(f"{s.model:<10} {s.group:<8} {s.task:<24} {s.metric:<28} {s.value:.4f}{'  (cached)' if s.cached else ''}")
    return 0
