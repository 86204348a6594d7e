"""The Ray actors: a job's async generation workers; verification workers (a job's, the service's).

Both are created with explicit restarts (Ray's default is none). The verification workers, on
any node, return what they judge to the driver. The generation workers on the driver's node
append completions to the run directory themselves; those on other nodes send them to the
driver, which stores them. Nodes need no shared file system.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from typing import TextIO

import ray
from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

from verified_factory.config import JobConfig
from verified_factory.models.base import (
    ChatRequest,
    Completion,
    ModelClient,
    ModelError,
    ModelFailure,
)
from verified_factory.records import Candidate, Verdict
from verified_factory.run_store import completion_line

GENERATION_CALLS_IN_FLIGHT = 1000
"""Concurrent unit streams one generation worker accepts; the model client bounds requests."""


class GenerationWorker:
    """Buys completions; streams each back to the driver the moment it arrives.

    On the driver's node it ends the instant the driver's process does (a pidfd in its event
    loop), so a driver killed with SIGKILL leaves nobody buying completions that no one will
    store: Ray's own clean-up of a dead driver's actors takes a good fraction of a second, in
    which a busy worker would send hundreds of requests. On another node, that clean-up is all
    there is.
    """

    def __init__(self, config: JobConfig, driver_pid: int) -> None:
        self._config = config
        self._driver_pid = driver_pid
        self._client: ModelClient | None = None

    async def start(self) -> tuple[str, int]:
        """Check the endpoint answers; return this worker's node id and process id."""
        await self._model().probe()
        return ray.get_runtime_context().get_node_id(), os.getpid()

    async def complete(
        self, requests: list[ChatRequest], log: str | None
    ) -> AsyncIterator[list[Completion | ModelFailure]]:
        """Every request's completion, or its failure, as they finish.

        On the driver's node, each completion is appended to the file `log` the moment it
        arrives, by the request's own task: not when the stream is next read, which may be late
        (a slow or dead driver), so a kill of the driver or of this worker loses only the
        requests still in flight. Elsewhere `log` is None: the driver stores what it receives.
        What finished together is yielded together: one item per arrival when the endpoint is
        slow, fewer and larger ones under load, so the stream's per-item cost does not grow
        with the request rate.
        """
        with open(log or os.devnull, "a", encoding="utf-8") as stored:
            pending = {asyncio.ensure_future(self._one(request, stored)) for request in requests}
            try:
                while pending:
                    done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
                    yield [task.result() for task in done]
            finally:
                for task in pending:
                    task.cancel()

    async def _one(self, request: ChatRequest, stored: TextIO) -> Completion | ModelFailure:
        try:
            completion = await self._model().complete(request)
        except ModelError as err:
            return ModelFailure.of(request.key, err)
        stored.write(completion_line(completion))
        stored.flush()
        return completion

    def _model(self) -> ModelClient:
        # Made on first use, inside the actor's event loop (an HTTP client binds to its loop),
        # and made again after a restart.
        if self._client is None:
            from verified_factory.models import make_client

            self._end_with_driver()
            self._client = make_client(self._config)
        return self._client

    def _end_with_driver(self) -> None:
        try:
            driver = os.pidfd_open(self._driver_pid)
        except OSError:
            return  # not this node's process after all: Ray's clean-up will have to do
        asyncio.get_running_loop().add_reader(driver, os._exit, 1)


VERIFY_NICENESS = 10
"""Verification yields the CPU to the generation worker and the driver on a shared machine: a
late verdict costs nothing, a late request leaves the endpoint idle."""


class VerifyWorker:
    """Runs the verifier registry on batches of candidates, on whichever node it lands."""

    def __init__(self, settings: dict[str, dict[str, object]], domains: list[str]) -> None:
        """`settings`: what each verifier is created with, by name (`verifier_settings`);
        `domains`: those whose verifiers are created now, before the first candidate."""
        from verified_factory.verifiers.registry import Registry

        os.nice(VERIFY_NICENESS)
        self._registry = Registry(settings=settings)
        self._registry.prepare(domains)

    def ping(self) -> tuple[str, int]:
        return ray.get_runtime_context().get_node_id(), os.getpid()

    def verify(self, candidates: list[Candidate]) -> tuple[str, list[Verdict]]:
        """This node's id and one verdict per candidate."""
        from verified_factory.verify.runner import judge_candidates

        verdicts = judge_candidates(self._registry, candidates)
        return ray.get_runtime_context().get_node_id(), verdicts

    def verify_lines(self, lines: list[tuple[int, bytes]]) -> tuple[str, list[Verdict]]:
        """This node's id and one verdict per numbered JSON text of a candidate, read here as
        `factory verify` reads lines: a bad one gets an `error` verdict naming its field."""
        from verified_factory.verify.runner import verify_lines

        outcomes = verify_lines(self._registry, lines, None)
        verdicts = [Verdict.model_validate_json(text) for _, text in outcomes]
        return ray.get_runtime_context().get_node_id(), verdicts

    def verify_groups(self, groups: list[list[Candidate]]) -> tuple[str, list[Verdict]]:
        """This node's id and, for each group (the samples of one problem, judged together by
        their verifier), one verdict per sample, all groups flattened."""
        from verified_factory.verify.runner import judge_group

        verdicts = [verdict for group in groups for verdict in judge_group(self._registry, group)]
        return ray.get_runtime_context().get_node_id(), verdicts


def generation_actors(config: JobConfig) -> list[ray.actor.ActorHandle]:
    """The job's `model.generation_workers` generation workers, each with its share of the
    limits: on the driver's node, or (`generation_nodes: all`) on every alive node in turn from
    the driver's. No CPU reserved (they wait on the network), restarted if lost. Their calls are
    not retried by Ray: the driver re-sends only what had not arrived.
    """
    here = ray.get_runtime_context().get_node_id()
    nodes = [here]
    if config.model.generation_nodes == "all":
        nodes += sorted(n["NodeID"] for n in ray.nodes() if n["Alive"] and n["NodeID"] != here)
    workers = config.model.generation_workers
    share = config.model_copy(update={"model": config.model.share(workers)})
    return [
        ray.remote(GenerationWorker)
        .options(
            num_cpus=0,
            max_restarts=-1,
            max_task_retries=0,
            max_concurrency=GENERATION_CALLS_IN_FLIGHT,
            scheduling_strategy=NodeAffinitySchedulingStrategy(nodes[n % len(nodes)], soft=False),
        )
        .remote(share, os.getpid())
        for n in range(workers)
    ]


def verify_actors(
    count: int, settings: dict[str, dict[str, object]], cpus_each: float, domains: list[str]
) -> list[ray.actor.ActorHandle]:
    """`count` verification workers spread over the cluster's nodes, restarted if lost;
    `settings`: what each verifier is created with, by name; `domains`: whose verifiers each
    worker creates as it starts."""
    factory = ray.remote(VerifyWorker).options(
        num_cpus=cpus_each,
        max_restarts=-1,
        max_task_retries=0,
        scheduling_strategy="SPREAD",
    )
    return [factory.remote(settings, domains) for _ in range(count)]
