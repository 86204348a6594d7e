"""Counting verdicts as they come and reporting the rate on stderr."""

from __future__ import annotations

import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Protocol, TextIO

STATUSES = ("accepted", "rejected", "timeout", "error", "unverifiable")


@dataclass
class Tally:
    """Verdicts counted by status since `started`."""

    counts: Counter[str] = field(default_factory=Counter)
    started: float = field(default_factory=time.monotonic)

    def add(self, status: str) -> None:
        self.counts[status] += 1

    @property
    def done(self) -> int:
        return sum(self.counts.values())

    def line(self) -> str:
        """`1,200 done, 3,410/s: 800 accepted, 390 rejected, 0 timeout, 10 error`."""
        elapsed = max(time.monotonic() - self.started, 1e-9)
        parts = ", ".join(f"{self.counts[s]:,} {s}" for s in STATUSES)
        return f"{self.done:,} done in {elapsed:.1f} s, {self.done / elapsed:,.0f}/s: {parts}"


class Reportable(Protocol):
    def line(self) -> str: ...


class ProgressLine:
    """Rewrites one status line on a terminal; on a pipe or file, prints one every `every_s`."""

    def __init__(self, stream: TextIO = sys.stderr, every_s: float | None = None) -> None:
        self._stream = stream
        self._tty = stream.isatty()
        self._every_s = every_s if every_s is not None else (0.2 if self._tty else 10.0)
        self._last = time.monotonic()

    def __call__(self, tally: Reportable) -> None:
        now = time.monotonic()
        if now - self._last < self._every_s:
            return
        self._last = now
        if self._tty:
            self._stream.write(f"\r\x1b[K{tally.line()}")
        else:
            self._stream.write(f"{tally.line()}\n")
        self._stream.flush()

    def finish(self, tally: Reportable, label: str) -> None:
        prefix = "\r\x1b[K" if self._tty else ""
        self._stream.write(f"{prefix}{label}: {tally.line()}\n")
        self._stream.flush()
