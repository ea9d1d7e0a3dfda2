"""Runner events: the JSON-lines stream (events.jsonl) the extension, CLI and webviews read.

The schema is contracts/runner-events.schema.json, which src/protocol/runnerEvents.ts validates with
too; both are tested against contracts/fixtures/events/*.jsonl. Every line:
``{"v": 1, "t": <unix s>, "run": <id>, "seq": <0,1,2,... gapless>, "kind": ..., ...}``.
"""
from __future__ import annotations

import json
import os
import re
import stat
import sys
import threading
import time
from pathlib import Path
from typing import Any, Optional

from . import contracts
from .checkpoint_files import not_regular_file
from .schema import SchemaError

EVENTS_VERSION = 1
KINDS = tuple(contracts.schema("runner-events").root["properties"]["kind"]["enum"])
IMPORTANCE_METRICS = contracts.enum_of("runner-events", "importanceMetric")
EVAL_EVENT_VERSION = 1  # the `eval` kind's own version (field "ev"), so its fields can grow


class EventError(ValueError):
    """An event that does not follow the schema."""


def validate_event(value: Any) -> dict[str, Any]:
    """Checks one decoded JSON value against the v1 schema; returns it or raises EventError."""
    try:
        return contracts.validate("runner-events", value, EVENTS_VERSION)
    except contracts.VersionError as err:
        raise EventError(f"unsupported event version {err.shown} (this build reads {EVENTS_VERSION})") from None
    except SchemaError as err:
        if not isinstance(value, dict):
            raise EventError("event is not an object") from None
        kind = value["kind"] if isinstance(value.get("kind"), str) else "?"
        if err.path == "kind":
            raise EventError(f'unknown event kind "{kind}"') from None
        field = re.match(r"[^.\[]*", err.path).group(0)  # type: ignore[union-attr]
        raise EventError(f'{kind} event: bad or missing field "{field}"') from None


IMPORTANCE_FILE_VERSION = 1
IMPORTANCE_SERIES = ("angular_all", "angular_last", "removal_drop", "insert_copy_drop", "insert_average_drop")


def validate_importance_file(value: Any) -> dict[str, Any]:
    """Checks importance.json (contracts/importance.schema.json, and every series holds num_layers values)."""
    try:
        contracts.validate("importance", value, IMPORTANCE_FILE_VERSION)
    except contracts.VersionError as err:
        raise EventError(f"importance.json: {err.detail}") from None
    except SchemaError as err:
        raise EventError(f"importance.json: {err.detail if not isinstance(value, dict) else err}") from None
    for k in IMPORTANCE_SERIES:
        if value[k] is not None and len(value[k]) != value["num_layers"]:
            raise EventError(f'importance.json: "{k}" must hold {value["num_layers"]} numbers')
    return value


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


MAX_EVENT_LINE = 1 << 20  # the writer's lines are a few hundred bytes; an error with its traceback a few KB


def _last_newline(fd: int, end: int, floor: int) -> int:
    """Offset of the last b"\n" in [floor, end), or -1; reads backwards in 64 KiB pieces."""
    pos = end
    while pos > floor:
        start = max(floor, pos - (1 << 16))
        piece = os.pread(fd, pos - start, start)
        i = piece.rfind(b"\n")
        if i >= 0:
            return start + i
        pos = start
    return -1


def _next_seq(path: Path) -> int:
    """The seq after the last complete line of an existing file; drops a torn (unterminated) tail.

    A run resumed after a crash appends to the same file: readers need seq to stay gapless. Only
    the end of the file is read, backwards, at most 2 × MAX_EVENT_LINE bytes whatever its size; a
    tail longer than that is no torn event line, and the file is refused rather than cut.
    """
    try:
        fd = os.open(path, os.O_RDWR | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        return 0
    except IsADirectoryError:
        raise EventError(f"{path}: {not_regular_file(stat.S_IFDIR)}; cannot append events to it") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise EventError(f"{path}: {not_regular_file(st.st_mode)}; cannot append events to it")
        size = st.st_size
        last_nl = _last_newline(fd, size, max(0, size - MAX_EVENT_LINE - 1))
        tail = size - (last_nl + 1)
        if tail > MAX_EVENT_LINE:
            raise EventError(f"{path}: cannot continue: no line break in its last {MAX_EVENT_LINE} bytes "
                             f"(an events line is shorter): not an events file, left as it is")
        if tail:
            os.ftruncate(fd, last_nl + 1)  # a line torn by a crash: readers never saw it (they wait for \n)
        if last_nl < 0:
            return 0
        # The last complete line (blank lines skipped, a few at most), each at most MAX_EVENT_LINE.
        end = last_nl
        for _ in range(64):
            floor = max(0, end - MAX_EVENT_LINE - 1)
            nl = _last_newline(fd, end, floor)
            if nl < 0 and floor > 0:
                raise EventError(f"{path}: cannot continue: its last line is longer than {MAX_EVENT_LINE} bytes")
            line = os.pread(fd, end - (nl + 1), nl + 1)
            if line.strip() or nl < 0:
                break
            end = nl
    finally:
        os.close(fd)
    if not line.strip():
        if nl < 0:
            return 0
        raise EventError(f"{path}: cannot continue: it ends in more than 64 blank lines")
    try:
        return int(parse_event_line(line.decode("utf-8"))["seq"]) + 1
    except (EventError, UnicodeDecodeError) as err:
        shown = line[:80].decode("utf-8", "replace") + ("…" if len(line) > 80 else "")
        raise EventError(f"{path}: cannot continue after its last line, which is not an event ({err}): {shown!r}") from None


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
