"""The one rule for which files a checkpoint directory may be read from, used by every reader
(inspect, surgery, importance, training): nothing outside the checkpoint is read as part of it.

A member name (a shard named by ``model.safetensors.index.json``, ``config.json``, a tokenizer
file) must be a relative path without ``..`` segments or NUL; once symlinks are resolved it must
still lie inside the checkpoint directory — or, for a Hugging Face cache snapshot
(``…/models--X/snapshots/REV/``), in that repository's ``blobs/``, where the cache keeps the bytes
its snapshot symlinks point to. And it must be a regular file: a FIFO or a device would hang the
reader or never end. ``src/modelfiles/members.ts`` applies the same rule on the TypeScript side;
both are tested on the same corpus (test/contracts/checkpointVerdicts.test.ts), messages included.

Errors carry ``code`` as the TypeScript reader's ``SafetensorsError`` does, and the same words
(``not_regular_file``, ``leads_outside``, ``too_large`` here; ``src/modelfiles/regularFile.ts`` there).
"""
from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any, Optional

from . import contracts
from .units import memory_bytes

# Sizes read unread past them, the TypeScript readers' too (contracts/limits.json, docs/limits.md).
MAX_CONFIG_BYTES: int = contracts.load("limits.json")["configJsonBytes"]
MAX_INDEX_BYTES: int = contracts.load("limits.json")["indexJsonBytes"]   # a 70B model's index is ~60 KB
MAX_JSON_BYTES: int = contracts.load("limits.json")["runJsonBytes"]      # a LayerMap, run.json
MAX_JSON_DEPTH = 64                 # a valid header, index or config nests 3-4 levels


class CheckpointError(ValueError):
    """A checkpoint directory that cannot be read or written as asked (``code`` says why)."""

    def __init__(self, message: str, code: str = "checkpoint") -> None:
        super().__init__(message)
        self.code = code


def check_member_name(name: object, where: str) -> str:
    """A shard name as an index may write it: relative, inside the directory, no NUL."""
    if (not isinstance(name, str) or name == "" or name.startswith("/") or "\0" in name
            or ".." in name.split("/")):
        raise CheckpointError(f"{where}: {json.dumps(name, ensure_ascii=False)[:200]} is not a shard file "
                              f"name inside the checkpoint", "bad-index")
    return name


def _hf_blobs(root: Path) -> Optional[Path]:
    """``…/models--X/blobs`` when ``root`` is a Hugging Face cache snapshot ``…/models--X/snapshots/REV``."""
    if root.parent.name == "snapshots" and root.parent.parent.name.startswith(("models--", "datasets--")):
        return root.parent.parent / "blobs"
    return None


def _within(path: Path, parent: Path) -> bool:
    return path == parent or parent in path.parents


def member_path(directory: str | os.PathLike[str], name: str) -> Path:
    """The checked real path of ``name`` in ``directory`` (which must exist), or CheckpointError:
    ``outside-checkpoint`` when a symlink leads out, ``missing-shard`` when absent,
    ``not-a-file`` for anything but a regular file."""
    check_member_name(name, str(directory))
    root = Path(os.path.realpath(directory))
    shown = Path(directory) / name
    real = Path(os.path.realpath(root / name))
    blobs = _hf_blobs(root)
    if not (_within(real, root) or (blobs is not None and _within(real, Path(os.path.realpath(blobs))))):
        raise CheckpointError(f"{shown}: {leads_outside(directory, real)}", "outside-checkpoint")
    try:
        st = os.stat(real)
    except FileNotFoundError:
        raise CheckpointError(f"{shown}: no such file", "missing-shard") from None
    except OSError as err:
        raise CheckpointError(f"{shown}: {err.strerror}", "io") from None
    if not stat.S_ISREG(st.st_mode):
        raise CheckpointError(f"{shown}: {not_regular_file(st.st_mode)}", "not-a-file")
    return real


# The words of a refusal, one function per fact, for every reader of the runner; the TypeScript
# readers say the same (src/modelfiles/regularFile.ts), and the shared corpus compares them.

def not_regular_file(mode: int) -> str:
    """``a FIFO, not a regular file``, ``a directory, not a regular file``, … for a ``st_mode``."""
    for test, what in ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return f"{what}, not a regular file"
    return "a special file, not a regular file"


def leads_outside(directory: str | os.PathLike[str], target: str | os.PathLike[str]) -> str:
    """A member whose symlink resolves outside ``directory``, to ``target``."""
    return f"leads outside the checkpoint (to {target}); refusing to read it as part of {directory}"


def too_large(size: int, limit: int) -> str:
    """``is 2.0 GiB, too large: at most 4.0 MiB is read (see docs/limits.md)``."""
    return f"is {memory_bytes(size)}, too large: at most {memory_bytes(limit)} is read (see docs/limits.md)"


def open_member(directory: str | os.PathLike[str], name: str) -> int:
    """A read-only descriptor of a checked member. Opened non-blocking (a FIFO swapped in after the
    check cannot hang the open) and checked again on the descriptor; the caller closes it."""
    real = member_path(directory, name)
    fd = os.open(real, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC | getattr(os, "O_NOFOLLOW", 0))
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise CheckpointError(f"{Path(directory) / name}: {not_regular_file(st.st_mode)}", "not-a-file")
        os.set_blocking(fd, True)
        return fd
    except BaseException:
        os.close(fd)
        raise


def read_regular_file(path: str | os.PathLike[str], limit: int = MAX_JSON_BYTES, what: str = "file") -> bytes:
    """A whole small file given by the user (a LayerMap, run.json): a regular file, at most ``limit`` bytes."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        raise CheckpointError(f"{path}: no such file", "missing") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise CheckpointError(f"{path}: {not_regular_file(st.st_mode)}", "not-a-file")
        if st.st_size > limit:
            raise CheckpointError(f"{path}: {too_large(st.st_size, limit)}", "too-large")
        os.set_blocking(fd, True)
        with os.fdopen(os.dup(fd), "rb") as f:
            return f.read(limit + 1)[:limit]
    finally:
        os.close(fd)


def read_member_bytes(directory: str | os.PathLike[str], name: str, limit: Optional[int] = None) -> bytes:
    """The whole of a small member (config.json, the index), refused past ``limit`` bytes (by
    default, config.json's limit for config.json, the index's for anything else)."""
    if limit is None:
        limit = MAX_CONFIG_BYTES if name == "config.json" else MAX_INDEX_BYTES
    fd = open_member(directory, name)
    try:
        size = os.fstat(fd).st_size
        if size > limit:
            raise CheckpointError(f"{Path(directory) / name}: {too_large(size, limit)}", "too-large")
        with os.fdopen(os.dup(fd), "rb") as f:
            return f.read(limit + 1)[:limit]
    finally:
        os.close(fd)


def member_exists(directory: str | os.PathLike[str], name: str) -> bool:
    """Whether ``name`` is present at all (a dangling symlink or a FIFO counts: the read refuses it)."""
    return os.path.lexists(Path(directory) / name)


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")


def json_depth_exceeds(value: Any, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether a parsed JSON value nests deeper than ``limit``: level by level, so a header of a
    million small entries costs one pass of list comprehensions, and at most ``limit`` levels."""
    level = [value] if isinstance(value, (dict, list)) else []
    for _ in range(limit):
        if not level:
            return False
        level = [c for v in level for c in (v.values() if isinstance(v, dict) else v) if isinstance(c, (dict, list))]
    return bool(level)


class StrictJsonError(ValueError):
    """Text that is not UTF-8 JSON, nests too deeply, or (``integers_only``) has a non-integer number."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.code = code


def parse_strict_json(raw: bytes, integers_only: bool = False) -> Any:
    """JSON as JSON.parse reads it (no NaN/Infinity, no BOM), nesting at most MAX_JSON_DEPTH, and —
    ``integers_only`` — every number written as an integer (``0.0``/``1e3`` are refused: the
    TypeScript reader cannot tell ``0.0`` from ``0``, so neither accepts it). Codes:
    ``invalid-utf8``, ``invalid-json``, ``non-integer``."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise StrictJsonError(f"not valid UTF-8 (byte {err.start})", "invalid-utf8") from None
    saw_float = False

    def on_float(s: str) -> float:
        nonlocal saw_float
        saw_float = True
        return float(s)

    try:
        value = json.loads(text, parse_constant=_refuse_constant, parse_float=on_float)
    except RecursionError:
        raise StrictJsonError(f"not valid JSON (nested deeper than {MAX_JSON_DEPTH} levels)", "invalid-json") from None
    except ValueError as err:  # JSONDecodeError, and NaN/Infinity
        raise StrictJsonError(f"not valid JSON ({err})", "invalid-json") from None
    if json_depth_exceeds(value):
        raise StrictJsonError(f"not valid JSON (nested deeper than {MAX_JSON_DEPTH} levels)", "invalid-json")
    if integers_only and saw_float:
        raise StrictJsonError("a number is not written as an integer (e.g. 0.0 or 1e3): "
                              "shapes and offsets are integers", "non-integer")
    return value


def read_member_json(directory: str | os.PathLike[str], name: str, code: str) -> Any:
    """A member parsed as strict JSON; any problem is a CheckpointError with ``code``."""
    raw = read_member_bytes(directory, name)
    try:
        return parse_strict_json(raw)
    except StrictJsonError as err:
        raise CheckpointError(f"{Path(directory) / name}: {err}", code) from None


def parse_index(value: Any, where: str) -> dict[str, str]:
    """The ``weight_map`` of a parsed index: an object of tensor name → shard name inside the checkpoint."""
    wm = value.get("weight_map") if isinstance(value, dict) else None
    if not isinstance(wm, dict):
        raise CheckpointError(f"{where}: has no \"weight_map\" object", "bad-index")
    for tensor, shard in wm.items():
        check_member_name(shard, f"{where}: weight_map[{json.dumps(tensor, ensure_ascii=False)[:100]}]")
    return dict(wm)
