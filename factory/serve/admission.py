"""Admission control shared by every client of the service: a fixed budget, never a queue.

A request asks for as many units as it carries (candidates, or one program run). While the
units in flight plus its own stay within the budget it is admitted; otherwise it is refused at
once with the seconds after which a retry is likely to fit, from the recent rate of units done.
So memory and waiting stay bounded whatever the clients do.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass


@dataclass(frozen=True)
class Refused:
    """Why a request was not admitted, and when to try again (whole seconds, at least 1)."""

    reason: str
    retry_after_s: int


class Admission:
    def __init__(self, budget: int, window_s: float = 30.0) -> None:
        if budget < 1:
            raise ValueError(f"the admission budget must be at least 1, got {budget}")
        self.budget = budget
        self.in_flight = 0
        self.refused = 0
        self._lock = threading.Lock()
        self._done: deque[tuple[float, int]] = deque()
        self._window_s = window_s

    def ask(self, units: int) -> Refused | None:
        """None and the units held, or why not (nothing held)."""
        with self._lock:
            if self.in_flight + units > self.budget:
                self.refused += 1
                return Refused(
                    f"busy: {self.in_flight} of {self.budget} units in flight",
                    self._retry_after(units),
                )
            self.in_flight += units
            return None

    def release(self, units: int) -> None:
        with self._lock:
            self.in_flight -= units
            now = time.monotonic()
            self._done.append((now, units))
            while self._done and self._done[0][0] < now - self._window_s:
                self._done.popleft()

    @contextmanager
    def holding(self, units: int) -> Iterator[None]:
        """Release `units` (already admitted) on the way out, whatever happens."""
        try:
            yield
        finally:
            self.release(units)

    def _retry_after(self, units: int) -> int:
        if not self._done:
            return 1
        span = max(time.monotonic() - self._done[0][0], 1.0)
        rate = sum(n for _, n in self._done) / span
        excess = self.in_flight + units - self.budget
        return max(1, math.ceil(excess / max(rate, 1e-9)))
