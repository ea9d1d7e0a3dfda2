"""Byte counts, on disk and for people (torch-free, so doctor can report on a host without torch)."""
from __future__ import annotations

import re
from pathlib import Path

DEFAULT_MAX_SHARD = 5 * 10**9  # "5GB", as the Hugging Face tools count it


def parse_size(text: str | int) -> int:
    """``5GB`` → 5·10⁹, ``500MiB`` → 500·2²⁰, ``1234`` → 1234 bytes."""
    if isinstance(text, int):
        return text
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([KMGT]?I?B?)\s*", text.upper())
    if not m:
        from .checkpoint_files import CheckpointError
        raise CheckpointError(f"bad size {text!r} (examples: 5GB, 500MB, 2GiB, 1000000)")
    unit = m.group(2).rstrip("B") or ""
    scale = {"": 1, "K": 10**3, "M": 10**6, "G": 10**9, "T": 10**12,
             "KI": 2**10, "MI": 2**20, "GI": 2**30, "TI": 2**40}[unit]
    return int(float(m.group(1)) * scale)


def human_bytes(n: float) -> str:
    """1234567 → '1.23 MB' (powers of 1000, as disk and model sizes are quoted)."""
    for unit in ("B", "KB", "MB", "GB"):
        if abs(n) < 1000:
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.2f} {unit}"
        n /= 1000
    return f"{n:.2f} TB"


def memory_bytes(n: float) -> str:
    """Memory in powers of 1024, as the plan's hover prints it (formatBytes in src/core/accounting.ts)."""
    gib, mib, kib = 1024 ** 3, 1024 ** 2, 1024
    if n >= gib:
        return f"{_fixed1(n / gib)} GiB"
    if n >= mib:
        return f"{_fixed1(n / mib)} MiB"
    if n >= kib:
        return f"{_fixed1(n / kib)} KiB"
    return f"{n:g} B"


def _fixed1(x: float) -> str:
    """JavaScript's toFixed(1) for the positive figures here: the exact binary value, ties away from zero."""
    from decimal import ROUND_HALF_UP, Decimal

    return str(Decimal(x).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def path_bytes(path: str | Path) -> int:
    """Bytes of a file, or of every file under a directory."""
    p = Path(path)
    if p.is_file():
        return p.stat().st_size
    return sum(f.stat().st_size for f in p.rglob("*") if f.is_file())
