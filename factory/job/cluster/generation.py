"""Completions on Ray: the generation workers behind the job's `Complete`, with their restarts.

`Generation.complete` is what the solve and synthesis stages are given. A completion stored in
the run directory before is read back, never bought again; the rest stream from the generation
worker with the fewest requests waiting (`model.generation_workers` of them, each with its share
of the limits). If the worker dies mid-stream, Ray restarts it and the call asks again for what
is neither answered nor stored: a worker on the driver's node stores each completion before
sending it on, and the driver stores what a worker on another node sends the moment it arrives,
so only the requests in flight are bought twice.
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
        self,
        actors: list[ray.actor.ActorHandle],
        store: RunStore,
        metrics: RunMetrics,
        streams: int,
    ) -> None:
        """`streams`: calls that stream from the workers at once; the others wait their turn
        (their units' verification goes on meanwhile)."""
        self.actors = actors
        self._waiting = [0] * len(actors)  # requests streaming from each worker
        self._remote = [False] * len(actors)  # on another node than the driver's
        self._store = store
        self._metrics = metrics
        self._streaming = asyncio.Semaphore(streams)

    async def start(self) -> None:
        """Wait for the workers, which check that the endpoint answers; note where they run."""
        try:
            started = await asyncio.gather(*(actor.start.remote() for actor in self.actors))
        except RayTaskError as err:
            cause = err.as_instanceof_cause()
            if isinstance(cause, ModelUnreachable):
                raise JobFailed(str(cause.args[0]) if cause.args else str(cause)) from None
            raise
        here = ray.get_runtime_context().get_node_id()
        for number, (node, pid) in enumerate(started):
            self._metrics.processes[f"generation-{number}"] = pid
            self._metrics.generation_nodes[number] = node
            self._remote[number] = node != here

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
        number = self._waiting.index(min(self._waiting))
        actor, metrics = self.actors[number], self._metrics
        unanswered = len(requests)
        self._waiting[number] += unanswered
        metrics.requests_waiting += unanswered
        remote = self._remote[number]
        try:
            stream = actor.complete.options(num_returns="streaming").remote(
                requests, None if remote else str(log)
            )
            async for ref in stream:
                arrived: list[Completion | ModelFailure] = await ref
                if remote:
                    self._store.append_completions(
                        log, (a for a in arrived if isinstance(a, Completion))
                    )
                unanswered -= len(arrived)
                self._waiting[number] -= len(arrived)
                metrics.requests_waiting -= len(arrived)
                for answer in arrived:
                    answers[answer.key] = answer
                    metrics.completion(answer, reused=False)
                    metrics.per_generation_worker[number] += not isinstance(answer, ModelFailure)
        finally:
            self._waiting[number] -= unanswered
            metrics.requests_waiting -= unanswered
