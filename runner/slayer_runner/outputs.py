"""Writing a checkpoint directory with no surprise side effects (surgery, make-tiny, training's exports).

Everything is written into a hidden directory next to the output (``.NAME.slayer-tmp-PID-XXXXXXXX``)
and renamed into place when complete, so a failure never leaves a complete-looking partial
checkpoint. An existing output is replaced only when asked (``replace``) and only when it is
recognisably a checkpoint (``config.json`` and safetensors weights, no sub-directories) — anything
else needs ``force``. The old output is first renamed to ``.NAME.slayer-old-PID-XXXXXXXX`` and
removed after the new one is in place; directories that a killed process (its PID gone) left
behind are cleaned by the next write to the same output — and an old output whose replacement
never arrived (killed between the two renames) is put back instead of being removed.
"""
from __future__ import annotations

import os
import re
import shutil
import uuid
from pathlib import Path

from .checkpoint_files import CheckpointError

INDEX_FILE = "model.safetensors.index.json"


class OutputError(CheckpointError):
    """The output path cannot be written as asked (exists, not empty, not a checkpoint)."""

    def __init__(self, message: str, code: str = "output") -> None:
        super().__init__(message, code)


def pid_alive(pid: int) -> bool:
    """Whether a process ``pid`` exists and is not a zombie (a killed, not yet reaped child is dead)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().rsplit(b")", 1)[1].split()[0] != b"Z"
    except (OSError, IndexError):
        return True


def _leftover(output: Path, kind: str) -> re.Pattern[str]:
    return re.compile(rf"^\.{re.escape(output.name)}\.slayer-{kind}-(\d+)-[0-9a-f]{{8}}$")


def temp_dir_for(output: Path) -> Path:
    return output.parent / f".{output.name}.slayer-tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}"


def remove_stale(output: Path) -> list[Path]:
    """Removes what killed writers to ``output`` left: their temporary directories, and old outputs
    already replaced. An old output with no output in its place is renamed back (nothing lost)."""
    removed: list[Path] = []
    if not output.parent.is_dir():
        return removed
    tmp_re, old_re = _leftover(output, "tmp"), _leftover(output, "old")
    legacy_re = re.compile(rf"^\.{re.escape(output.name)}\.slayer-old-()[0-9a-f]{{8}}$")  # before PIDs were named
    for p in sorted(output.parent.iterdir()):
        m = tmp_re.match(p.name) or old_re.match(p.name) or legacy_re.match(p.name)
        if not m or not p.is_dir() or p.is_symlink() or (m.group(1) and pid_alive(int(m.group(1)))):
            continue
        if m.re is not tmp_re and not os.path.lexists(output):
            os.rename(p, output)  # killed between the two renames: the old output is the only copy
            continue
        shutil.rmtree(p, ignore_errors=True)
        removed.append(p)
    return removed


def is_checkpoint_dir(path: Path) -> bool:
    """``config.json`` plus ``model.safetensors`` or the index, and no sub-directories: what the
    runner writes, and nothing a user is likely to keep other work in."""
    try:
        entries = list(os.scandir(path))
    except OSError:
        return False
    names = {e.name for e in entries}
    if any(e.is_dir(follow_symlinks=False) for e in entries):
        return False
    return "config.json" in names and bool({"model.safetensors", INDEX_FILE} & names)


def check_output(output: Path, replace: bool, force: bool, flag: str = "--overwrite") -> None:
    """Refuses, before anything is written, an output that exists and may not be replaced.
    An empty directory is never in the way."""
    if not os.path.lexists(output):
        return
    if output.is_symlink() or not output.is_dir():
        raise OutputError(f"{output} exists and is not a directory; choose another output")
    if not any(output.iterdir()):
        return
    if not (replace or force):
        raise OutputError(f"{output} already exists and is not empty (pass {flag} to replace it)")
    if not force and not is_checkpoint_dir(output):
        raise OutputError(f"{output} is not a checkpoint directory (config.json and model.safetensors, no "
                          f"sub-directories); refusing to replace it (pass --force to replace it anyway)")


def move_into_place(tmp: Path, output: Path, replace: bool, force: bool = False) -> None:
    """Renames the complete ``tmp`` to ``output``; an existing output (checked again: it may have
    appeared meanwhile) is moved aside first and removed once the new one is in place."""
    if os.path.lexists(output) and output.is_dir() and not output.is_symlink() and not any(output.iterdir()):
        output.rmdir()
    if not os.path.lexists(output):
        os.rename(tmp, output)
        return
    check_output(output, replace, force)
    trash = output.parent / f".{output.name}.slayer-old-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    os.rename(output, trash)
    os.rename(tmp, output)
    shutil.rmtree(trash, ignore_errors=True)
