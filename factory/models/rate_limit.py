"""When the next request may be sent: configured budgets, server-announced limits, 429 pauses.

Three things can hold a sender back:

* Configured requests-per-minute and tokens-per-minute budgets. Each is a GCRA bucket (a token
  bucket kept as one "theoretical arrival time") that refills continuously and lets about one
  second's worth of budget go at once, so a burst is spread out instead of spending a minute's
  budget in one go: servers enforce per-minute limits over shorter windows. A request's token
  cost is estimated before it is sent and corrected by its real usage afterwards (`settle`).
* Limits announced by the server in `x-ratelimit-remaining-*` / `x-ratelimit-reset-*` headers:
  once the announced remaining requests or tokens are spent, senders wait for the reset.
* A shared pause after a 429: every sender waits until it ends, not just the one that was
  refused, since the others would be refused too.

Waiting is a timed sleep per waiting sender: no polling, no background tasks.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable, Mapping

BURST_S = 1.0
"""How many seconds' worth of a configured budget may be spent at once."""

_DURATION_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(h|ms|m|s|us|µs|ns)")
_UNIT_S = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 1e-3, "us": 1e-6, "µs": 1e-6, "ns": 1e-9}


def parse_duration(text: str) -> float | None:
    """Seconds in OpenAI's reset format (`1s`, `6m0s`, `20ms`, `0.5s`) or a bare number of
    seconds; None when `text` is neither."""
    text = text.strip()
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    total, end = 0.0, 0
    for part in _DURATION_PART.finditer(text):
        if part.start() != end:
            return None
        total += float(part.group(1)) * _UNIT_S[part.group(2)]
        end = part.end()
    return total if end and end == len(text) else None


class _Bucket:
    """A GCRA bucket: `rate_per_s` units refill per second; about `BURST_S` seconds' worth of
    them (and always at least one request, however costly) may go at once."""

    def __init__(self, per_minute: int) -> None:
        self.rate_per_s = per_minute / 60.0
        self.tolerance_s = BURST_S
        self.tat = 0.0  # the time at which the bucket would be full again

    def reserve(self, cost: float, now: float) -> float:
        """Charge `cost` and return the time at which it may be spent."""
        start = max(now, self.tat - self.tolerance_s)
        self.tat = max(self.tat, now) + cost / self.rate_per_s
        return start

    def refund(self, amount: float) -> None:
        self.tat -= amount / self.rate_per_s


class _Announced:
    """What the latest response said remains of one server-side budget, and when it resets."""

    def __init__(self) -> None:
        self.remaining: float | None = None
        self.reset_at = 0.0

    def update(self, remaining: str | None, reset: str | None, now: float) -> None:
        if remaining is None:
            return
        try:
            left = float(remaining)
        except ValueError:
            return
        seconds = parse_duration(reset) if reset is not None else None
        self.remaining = left
        # Without a usable reset, assume the common one-second window rather than none at all.
        self.reset_at = now + (seconds if seconds is not None else 1.0)

    def blocked_until(self, cost: float, now: float) -> float:
        """0 when `cost` may be spent now, else the time at which the budget resets."""
        if self.remaining is None:
            return 0.0
        if now >= self.reset_at:
            self.remaining = None  # reset: unknown (and presumably full) until the next answer
            return 0.0
        return self.reset_at if self.remaining < cost else 0.0

    def spend(self, cost: float) -> None:
        if self.remaining is not None:
            self.remaining -= cost


class RateLimiter:
    """Admission for requests to one endpoint; shared by all of a client's concurrent senders."""

    def __init__(
        self,
        requests_per_minute: int | None = None,
        tokens_per_minute: int | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._requests = _Bucket(requests_per_minute) if requests_per_minute else None
        self._tokens = _Bucket(tokens_per_minute) if tokens_per_minute else None
        self._announced_requests = _Announced()
        self._announced_tokens = _Announced()
        self._paused_until = 0.0
        self._clock = clock

    async def acquire(self, tokens: int) -> None:
        """Wait until a request estimated at `tokens` tokens may be sent, and charge it."""
        clock = self._clock
        now = clock()
        start = now
        if self._requests is not None:
            start = self._requests.reserve(1, now)
        if self._tokens is not None:
            start = max(start, self._tokens.reserve(tokens, now))
        if start > now:
            await asyncio.sleep(start - now)
            now = clock()
        # A pause or an announced limit can begin while a sender sleeps: check until neither holds.
        while True:
            until = max(
                self._paused_until,
                self._announced_requests.blocked_until(1, now),
                self._announced_tokens.blocked_until(tokens, now),
            )
            if until <= now:
                break
            await asyncio.sleep(until - now)
            now = clock()
        self._announced_requests.spend(1)
        self._announced_tokens.spend(tokens)

    def settle(self, estimated: int, used: int) -> None:
        """Correct the token budget once a request's real usage is known."""
        if self._tokens is not None:
            self._tokens.refund(estimated - used)

    def observe(self, headers: Mapping[str, str]) -> None:
        """Adopt the limits a response announced in its `x-ratelimit-*` headers, if any."""
        now = self._clock()
        self._announced_requests.update(
            headers.get("x-ratelimit-remaining-requests"),
            headers.get("x-ratelimit-reset-requests"),
            now,
        )
        self._announced_tokens.update(
            headers.get("x-ratelimit-remaining-tokens"),
            headers.get("x-ratelimit-reset-tokens"),
            now,
        )

    def pause(self, seconds: float) -> None:
        """Hold every sender for `seconds` from now (after a 429); a longer pause is kept."""
        self._paused_until = max(self._paused_until, self._clock() + seconds)
