"""Byte counts for people (torch-free, so doctor can report on a host without torch)."""
from __future__ import annotations


def human_bytes(n: float) -> str:
    """1234567 → '1.23 MB' (powers of 1000, as disk and model sizes are quoted)."""
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if abs(n) < 1000 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.2f} {unit}"
        n /= 1000
    return f"{n} B"
