"""Cancellation by SIGTERM (what `slayer cancel` and scancel send).

Phases that can stop cleanly (training: save a checkpoint first) poll `token.requested`
("cooperative"); elsewhere the handler raises `Cancelled` at once, and the phase's own cleanup
(temporary directories, atomic renames) leaves nothing half-written. A second SIGTERM always
raises.
"""
from __future__ import annotations

import signal
from contextlib import contextmanager
from typing import Any, Iterator


class Cancelled(Exception):
    """The run was asked to stop (SIGTERM)."""


class CancelToken:
    def __init__(self) -> None:
        self.requested = False
        self.cooperative = False

    def install(self) -> None:
        signal.signal(signal.SIGTERM, self._on_signal)

    def _on_signal(self, _sig: int, _frame: Any) -> None:
        already = self.requested
        self.requested = True
        if already or not self.cooperative:
            raise Cancelled("cancelled by SIGTERM")

    def check(self) -> None:
        if self.requested:
            raise Cancelled("cancelled by SIGTERM")

    @contextmanager
    def polled(self) -> Iterator[None]:
        """Within this block SIGTERM only sets `requested`; the code polls it."""
        before = self.cooperative
        self.cooperative = True
        try:
            yield
        finally:
            self.cooperative = before
