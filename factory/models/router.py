"""Several OpenAI-compatible servers of one model as one client (`model.endpoints`).

Each request goes to the least loaded healthy endpoint: the fewest requests in flight for its
share (`max_concurrency` x `weight`). An endpoint whose request fails in a way another server
could answer (no connection, no answer in time, a 5xx, a malformed answer, a 429) gets no new
requests for a while: 1 s after its first failure, doubling to 30 s while it keeps failing
(a circuit breaker). The request is sent again at once to another endpoint; when every endpoint
is out, it waits for the first one to be due and tries it, which is how a server that came back
is taken in again: one request, and on success it is healthy. A request the server refused as
malformed (another 4xx) is nobody's fault but the request's and is not re-sent.

`model.max_retries` bounds the failed tries of one request over all the endpoints. Each
endpoint's own client makes one try per call, so a dead server costs one connection error, not
its backoff.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from dataclasses import dataclass, field

from verified_factory.config import EndpointConfig, ModelConfig
from verified_factory.models.base import ChatRequest, Completion, ModelError, ModelUnreachable
from verified_factory.models.openai_client import OpenAIClient

REVIVE_S = (1.0, 30.0)
"""Seconds an endpoint rests after a failure: the first, and the most (doubling between)."""

POLL_S = 0.05
"""Seconds between looks while every endpoint rests or is being tried."""

ANOTHER_SERVER_MAY = frozenset(
    {"connection", "timeout", "server_error", "malformed", "rate_limited"}
)


@dataclass
class _Endpoint:
    url: str
    client: OpenAIClient
    capacity: float  # max_concurrency x weight
    in_flight: int = 0
    failures: int = 0  # in a row
    rest_until: float = 0.0
    answered: int = 0
    failed: Counter[str] = field(default_factory=Counter)

    def load(self) -> float:
        return self.in_flight / self.capacity

    def healthy(self, now: float) -> bool:
        """Taking requests: no failure since its last success, or rested and not already
        trying one request (the one that tells whether it is back)."""
        return self.failures == 0 or (now >= self.rest_until and self.in_flight == 0)

    def fail(self, kind: str, now: float) -> None:
        """Rest, longer each time it fails again after a rest; the requests that were in flight
        when it went down fail too, and count as one."""
        self.failed[kind] += 1
        if self.failures and now < self.rest_until:
            return
        self.failures += 1
        rest = min(REVIVE_S[1], REVIVE_S[0] * 2 ** (self.failures - 1))
        self.rest_until = now + rest

    def succeed(self) -> None:
        self.failures = 0
        self.answered += 1


class EndpointRouter:
    """A ModelClient over `model.endpoints`: one OpenAIClient per endpoint, routed."""

    def __init__(self, config: ModelConfig) -> None:
        self._config = config
        self._endpoints = [self._endpoint(config, e) for e in config.endpoint_list()]

    @staticmethod
    def _endpoint(config: ModelConfig, endpoint: EndpointConfig) -> _Endpoint:
        one = config.model_copy(
            update={
                "base_url": endpoint.base_url,
                "endpoints": [],
                "max_concurrency": endpoint.max_concurrency,
                "max_retries": 0,
            }
        )
        capacity = (endpoint.max_concurrency or config.max_concurrency) * endpoint.weight
        return _Endpoint(endpoint.base_url, OpenAIClient(one), capacity)

    def counts(self) -> dict[str, dict[str, object]]:
        """Per endpoint: completions it answered, failures by kind, whether it is resting."""
        now = time.monotonic()
        return {
            e.url: {"answered": e.answered, "failed": dict(e.failed), "healthy": e.healthy(now)}
            for e in self._endpoints
        }

    async def probe(self) -> None:
        """Raise ModelUnreachable when no endpoint answers; the ones that do not rest."""
        results = await asyncio.gather(
            *(e.client.probe() for e in self._endpoints), return_exceptions=True
        )
        failures = [(e, r) for e, r in zip(self._endpoints, results, strict=True) if r is not None]
        for endpoint, _ in failures:
            endpoint.fail("connection", time.monotonic())
        if len(failures) == len(self._endpoints):
            reasons = "; ".join(str(r) for _, r in failures)
            raise ModelUnreachable(f"no endpoint of model.endpoints answers: {reasons}")

    async def complete(self, request: ChatRequest) -> Completion:
        tries = 0
        while True:
            endpoint = await self._choose()
            endpoint.in_flight += 1
            try:
                completion = await endpoint.client.complete(request)
            except ModelError as err:
                if err.kind not in ANOTHER_SERVER_MAY:
                    raise
                endpoint.fail(err.kind, time.monotonic())
                tries += 1
                if tries > self._config.max_retries:
                    raise ModelError(
                        err.kind,
                        f"{err.message}; {tries} tries over {len(self._endpoints)} endpoints",
                        tries,
                    ) from err
                continue
            finally:
                endpoint.in_flight -= 1
            endpoint.succeed()
            return completion.model_copy(update={"attempts": tries + 1})

    async def aclose(self) -> None:
        await asyncio.gather(*(e.client.aclose() for e in self._endpoints))

    async def _choose(self) -> _Endpoint:
        """The least loaded healthy endpoint; with none healthy, the first due, when it is."""
        while True:
            now = time.monotonic()
            healthy = [e for e in self._endpoints if e.healthy(now)]
            if healthy:
                return min(healthy, key=_Endpoint.load)
            due = min(e.rest_until for e in self._endpoints)
            await asyncio.sleep(max(POLL_S, due - now))  # past due: its trial is in flight
