"""Completions on Ray: the generation worker behind the job's `Complete`, with its restarts.

`Generation.complete` is what the solve and synthesis stages are given. A completion stored in
the run directory before is read back, never bought again; the rest stream from the generation
worker. If the worker dies mid-stream, Ray restarts it and the call asks again for what is neither
answered nor stored: the worker stores each completion before sending it on, so only the requests
in flight are bought twice.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import ray
from ray.exceptions import RayActorError, RayTaskError

from verified_factory.errors import FactoryError
from verified_factory.job.metrics import RunMetrics
from verified_factory.models.base import ChatRequest, Completion, ModelFailure, ModelUnreachable
from verified_factory.run_store import RunStore

STREAM_RESTARTS = 5
"""How often one call re-sends what had not arrived when the generation worker is lost."""

Answers = dict[str, Completion | ModelFailure]


class JobFailed(FactoryError, RuntimeError):
    """The job cannot go on (for instance the endpoint is unreachable); nothing was lost."""


class Generation:
    def __init__(
        self, actor: ray.actor.ActorHandle, store: RunStore, metrics: RunMetrics, streams: int
    ) -> None:
        """`streams`: calls that stream from the worker at once; the others wait their turn
        (their units' verification goes on meanwhile)."""
        self.actor = actor
        self._store = store
        self._metrics = metrics
        self._streaming = asyncio.Semaphore(streams)

    async def start(self) -> None:
        """Wait for the worker, which checks that the endpoint answers; note where it runs."""
        try:
            node, pid = await self.actor.start.remote()
        except RayTaskError as err:
            cause = err.as_instanceof_cause()
            if isinstance(cause, ModelUnreachable):
                raise JobFailed(str(cause.args[0]) if cause.args else str(cause)) from None
            raise
        self._metrics.processes["generation"] = pid
        self._metrics.verified_on_node.setdefault(node, 0)

    async def complete(self, log: Path, requests: list[ChatRequest]) -> Answers:
        """Each request's completion or failure: from `log` if bought before, else bought."""
        answers: Answers = {}
        for restart in range(STREAM_RESTARTS + 1):
            stored = self._store.stored_completions(log)
            missing: dict[str, ChatRequest] = {}
            for request in requests:
                if request.key in answers:
                    continue
                if request.key in stored:
                    answers[request.key] = stored[request.key]
                    self._metrics.completion(stored[request.key], reused=True)
                else:
                    missing[request.key] = request
            if not missing:
                break
            try:
                async with self._streaming:
                    await self._stream(log, list(missing.values()), answers)
                break
            except RayActorError:
                if restart == STREAM_RESTARTS:
                    raise
                await asyncio.sleep(min(2**restart, 10))  # Ray is restarting the worker
        return answers

    async def _stream(self, log: Path, requests: list[ChatRequest], answers: Answers) -> None:
        stream = self.actor.complete.options(num_returns="streaming").remote(requests, str(log))
        async for ref in stream:
            arrived: list[Completion | ModelFailure] = await ref
            for answer in arrived:
                answers[answer.key] = answer
                self._metrics.completion(answer, reused=False)
