"""Runner events: the JSON-lines stream (events.jsonl) the extension, CLI and webviews read.

The schema is defined once, in src/protocol/runnerEvents.ts; ``validate_event`` below mirrors its
``validateEvent`` check for check, and both are tested against test/fixtures/events/*.jsonl.
Every line: ``{"v": 1, "t": <unix s>, "run": <id>, "seq": <0,1,2,... gapless>, "kind": ..., ...}``.
"""
from __future__ import annotations

import json
import math
import os
import sys
import threading
import time
from pathlib import Path
from typing import Any, Optional

EVENTS_VERSION = 1
KINDS = ("log", "phase", "progress", "metric", "importance", "artifact", "error", "done", "eval")
LOG_LEVELS = ("debug", "info", "warning", "error")
IMPORTANCE_METRICS = ("angular_all", "angular_last", "removal_drop", "insert_copy_drop", "insert_average_drop")
DONE_STATUSES = ("succeeded", "failed", "cancelled")
EVAL_GROUPS = ("domain", "general")
EVAL_SOURCES = ("harness", "perplexity")
EVAL_EVENT_VERSION = 1  # the `eval` kind's own version (field "ev"), so its fields can grow


class EventError(ValueError):
    """An event that does not follow the schema."""


# ---------------------------------------------------------------------------------------------
# Validation (mirror of validateEvent in src/protocol/runnerEvents.ts)

def _is_num(v: Any) -> bool:
    # JSON numbers only: Python's bool is an int, JS's `typeof true` is not "number".
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _is_int(v: Any) -> bool:
    # JS Number.isInteger(1.0) is true, and json.loads("1.0") gives a float.
    return _is_num(v) and float(v).is_integer()


def _is_str(v: Any) -> bool:
    return isinstance(v, str)


def _need(ok: bool, kind: str, field: str) -> None:
    if not ok:
        raise EventError(f'{kind} event: bad or missing field "{field}"')


def validate_event(value: Any) -> dict[str, Any]:
    """Checks one decoded JSON value against the v1 schema; returns it or raises EventError."""
    if not isinstance(value, dict):
        raise EventError("event is not an object")
    e = value
    if not (_is_num(e.get("v")) and e.get("v") == EVENTS_VERSION):
        raise EventError(f"unsupported event version {e.get('v')} (this build reads {EVENTS_VERSION})")
    kind = e["kind"] if _is_str(e.get("kind")) else "?"
    _need(_is_num(e.get("t")), kind, "t")
    _need(_is_str(e.get("run")), kind, "run")
    _need(_is_int(e.get("seq")) and e["seq"] >= 0, kind, "seq")
    if kind == "log":
        _need(e.get("level") in LOG_LEVELS, kind, "level")
        _need(_is_str(e.get("msg")), kind, "msg")
    elif kind == "phase":
        _need(_is_str(e.get("phase")), kind, "phase")
        _need(e.get("state") in ("start", "end"), kind, "state")
        _need("detail" not in e or _is_str(e["detail"]), kind, "detail")
    elif kind == "progress":
        _need(_is_str(e.get("phase")), kind, "phase")
        _need(_is_num(e.get("done")), kind, "done")
        _need(_is_num(e.get("total")), kind, "total")
        _need(_is_str(e.get("unit")), kind, "unit")
        _need("eta_s" in e and (e["eta_s"] is None or _is_num(e["eta_s"])), kind, "eta_s")
    elif kind == "metric":
        _need(_is_str(e.get("stage")), kind, "stage")
        for f in ("step", "tokens", "loss", "lr", "grad_norm", "tokens_per_s"):
            _need(_is_num(e.get(f)), kind, f)
        _need("gpu_mem" in e and (e["gpu_mem"] is None or _is_num(e["gpu_mem"])), kind, "gpu_mem")
    elif kind == "importance":
        _need(e.get("metric") in IMPORTANCE_METRICS, kind, "metric")
        _need(isinstance(e.get("values"), list) and all(_is_num(x) for x in e["values"]), kind, "values")
    elif kind == "artifact":
        _need(_is_str(e.get("name")), kind, "name")
        _need(_is_str(e.get("path")), kind, "path")
        _need("bytes" in e and (e["bytes"] is None or _is_num(e["bytes"])), kind, "bytes")
    elif kind == "error":
        _need("message" in e and _is_str(e["message"]), kind, "message")
        _need("where" in e and (e["where"] is None or _is_str(e["where"])), kind, "where")
        _need("traceback" in e and (e["traceback"] is None or _is_str(e["traceback"])), kind, "traceback")
    elif kind == "done":
        _need(e.get("status") in DONE_STATUSES, kind, "status")
        _need(_is_int(e.get("exit_code")), kind, "exit_code")
    elif kind == "eval":
        _validate_eval(e)
    else:
        raise EventError(f'unknown event kind "{kind}"')
    return e


def _validate_eval(e: dict[str, Any]) -> None:
    """One score of one evaluated model (see EvalEvent in runnerEvents.ts)."""
    k = "eval"
    _need(e.get("ev") == EVAL_EVENT_VERSION, k, "ev")
    for f in ("model", "task", "metric"):
        _need(_is_str(e.get(f)) and bool(e[f]), k, f)
    _need(e.get("group") in EVAL_GROUPS, k, "group")
    _need(e.get("source") in EVAL_SOURCES, k, "source")
    _need(_is_num(e.get("value")), k, "value")
    _need("stderr" in e and (e["stderr"] is None or _is_num(e["stderr"])), k, "stderr")
    _need(isinstance(e.get("higher_is_better"), bool), k, "higher_is_better")
    _need(isinstance(e.get("cached"), bool), k, "cached")
    settings = e.get("settings")
    _need(isinstance(settings, dict) and all(
        v is None or isinstance(v, (str, bool)) or _is_num(v) for v in settings.values()), k, "settings")


def _refuse_constant(name: str) -> Any:
    # JSON.parse refuses NaN/Infinity; so do we.
    raise EventError(f"not JSON: {name} is not a JSON value")


def parse_event_line(line: str) -> dict[str, Any]:
    """Parses and validates one line of events.jsonl."""
    try:
        value = json.loads(line, parse_constant=_refuse_constant)
    except json.JSONDecodeError as err:
        raise EventError(f"not JSON: {err}") from None
    return validate_event(value)


# ---------------------------------------------------------------------------------------------
# Writing

def is_rank_zero() -> bool:
    """True unless this process is a non-zero rank of a distributed job (torchrun sets RANK)."""
    dist = sys.modules.get("torch.distributed")  # never import torch just for this
    if dist is not None and dist.is_available() and dist.is_initialized():
        return dist.get_rank() == 0
    return int(os.environ.get("RANK", "0")) == 0


def _next_seq(path: Path) -> int:
    """The seq after the last complete line of an existing file; drops a torn (unterminated) tail.

    A run resumed after a crash appends to the same file: readers need seq to stay gapless.
    """
    if not path.exists():
        return 0
    with open(path, "rb+") as f:
        size = f.seek(0, os.SEEK_END)
        if size == 0:
            return 0
        # Read backwards until we have the last complete line.
        chunk = 1 << 16
        pos, tail = size, b""
        while pos > 0:
            step = min(chunk, pos)
            pos -= step
            f.seek(pos)
            tail = f.read(step) + tail
            if tail.count(b"\n") >= 2 or (pos == 0):
                break
        if not tail.endswith(b"\n"):
            cut = tail.rfind(b"\n")
            keep = pos + cut + 1 if cut >= 0 else 0
            f.truncate(keep)  # a line torn by a crash: readers never saw it (they wait for \n)
            tail = tail[: cut + 1] if cut >= 0 else b""
        lines = [ln for ln in tail.split(b"\n") if ln.strip()]
        if not lines:
            return 0
        try:
            return int(json.loads(lines[-1].decode("utf-8"))["seq"]) + 1
        except (ValueError, KeyError, TypeError) as err:
            raise EventError(f"{path}: cannot continue: last line is not an event ({err})") from None


class EventWriter:
    """Appends validated v1 events to events.jsonl, one flushed line each.

    Only rank 0 writes (other ranks' calls are no-ops). Thread-safe. Reopening an existing file
    continues its seq. Fields are validated before writing so a malformed event fails loudly here,
    not in the extension.
    """

    def __init__(self, path: str | os.PathLike[str], run_id: str, enabled: Optional[bool] = None) -> None:
        self.path = Path(path)
        self.run_id = run_id
        self.enabled = is_rank_zero() if enabled is None else enabled
        self._lock = threading.Lock()
        self._file = None
        self.seq = 0
        if self.enabled:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.seq = _next_seq(self.path)
            self._file = open(self.path, "a", encoding="utf-8")

    def emit(self, kind: str, **fields: Any) -> Optional[dict[str, Any]]:
        if not self.enabled or self._file is None:
            return None
        with self._lock:
            rec: dict[str, Any] = {"v": EVENTS_VERSION, "t": time.time(), "run": self.run_id,
                                   "seq": self.seq, "kind": kind, **fields}
            validate_event(rec)
            line = json.dumps(rec, ensure_ascii=False, allow_nan=False)
            self._file.write(line + "\n")
            self._file.flush()
            self.seq += 1
            return rec

    # One helper per kind, with the schema's fields.
    def log(self, msg: str, level: str = "info") -> None:
        self.emit("log", level=level, msg=msg)

    def phase(self, phase: str, state: str, detail: Optional[str] = None) -> None:
        if detail is None:
            self.emit("phase", phase=phase, state=state)
        else:
            self.emit("phase", phase=phase, state=state, detail=detail)

    def progress(self, phase: str, done: float, total: float, unit: str, eta_s: Optional[float]) -> None:
        self.emit("progress", phase=phase, done=done, total=total, unit=unit, eta_s=eta_s)

    def metric(self, stage: str, step: int, tokens: int, loss: float, lr: float, grad_norm: float,
               tokens_per_s: float, gpu_mem: Optional[int]) -> None:
        self.emit("metric", stage=stage, step=step, tokens=tokens, loss=loss, lr=lr, grad_norm=grad_norm,
                  tokens_per_s=tokens_per_s, gpu_mem=gpu_mem)

    def importance(self, metric: str, values: list[float]) -> None:
        self.emit("importance", metric=metric, values=[float(v) for v in values])

    def artifact(self, name: str, path: str, nbytes: Optional[int]) -> None:
        self.emit("artifact", name=name, path=path, bytes=nbytes)

    def error(self, message: str, where: Optional[str] = None, traceback: Optional[str] = None) -> None:
        self.emit("error", message=message, where=where, traceback=traceback)

    def done(self, status: str, exit_code: int) -> None:
        self.emit("done", status=status, exit_code=exit_code)

    def eval_score(self, model: str, task: str, group: str, source: str, metric: str, value: float,
                   stderr: Optional[float], higher_is_better: bool, cached: bool, settings: dict[str, Any]) -> None:
        self.emit("eval", ev=EVAL_EVENT_VERSION, model=model, task=task, group=group, source=source, metric=metric,
                  value=float(value), stderr=None if stderr is None else float(stderr),
                  higher_is_better=higher_is_better, cached=cached, settings=settings)

    def close(self) -> None:
        with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None

    def __enter__(self) -> "EventWriter":
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


class Progress:
    """Progress events with an ETA from the average rate so far, at most one per ``interval_s``
    (the last one, done == total, always goes out)."""

    def __init__(self, events: Optional[EventWriter], phase: str, total: float, unit: str,
                 interval_s: float = 0.5, clock: Any = time.monotonic) -> None:
        self.events, self.phase, self.total, self.unit = events, phase, total, unit
        self.interval_s = interval_s
        self._clock = clock
        self._start = clock()
        self._last_emit: Optional[float] = None
        self.done = 0.0

    def eta_s(self) -> Optional[float]:
        elapsed = self._clock() - self._start
        if self.done <= 0 or elapsed <= 0:
            return None
        return max(0.0, elapsed / self.done * (self.total - self.done))

    def update(self, done: float) -> None:
        self.done = done
        now = self._clock()
        final = done >= self.total
        if self.events is None:
            return
        if final or self._last_emit is None or now - self._last_emit >= self.interval_s:
            self._last_emit = now
            eta = 0.0 if final else self.eta_s()
            self.events.progress(self.phase, done, self.total, self.unit,
                                 None if eta is None else round(eta, 3))

    def advance(self, amount: float = 1) -> None:
        self.update(self.done + amount)
