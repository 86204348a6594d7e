"""The project's Ray plumbing, all of it: joining a cluster, the actors, their pools and restarts.

Nothing outside this package imports Ray. The stages get two plain async functions of records
from a running `Cluster`: `generation.complete` (completions bought once, `generation.py`) and
`verification.judge` (verdicts, `verification.py`); the actors themselves are in `actors.py`.
`factory serve --ray` gets a `verifier_pool` alone.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Collection
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import ray

from verified_factory.config import JobConfig
from verified_factory.job.cluster.actors import generation_actors, verify_actors
from verified_factory.job.cluster.generation import Generation, JobFailed
from verified_factory.job.cluster.verification import VerifierPool
from verified_factory.job.metrics import RunMetrics
from verified_factory.run_store import RunStore

__all__ = ["Cluster", "JobFailed", "VerifierPool", "connect_ray", "verifier_pool"]


def connect_ray() -> None:
    """Join `RAY_ADDRESS` when set, else start Ray on this machine (unless already joined)."""
    if ray.is_initialized():
        return
    address = os.environ.get("RAY_ADDRESS")
    if address:
        ray.init(address=address, logging_level="WARNING")
    else:
        ray.init(include_dashboard=False, logging_level="WARNING", _node_ip_address="127.0.0.1")


@asynccontextmanager
async def verifier_pool(
    workers: int | None,
    settings: dict[str, dict[str, Any]],
    timeout_s: float,
    metrics: RunMetrics,
    domains: Collection[str] = (),
) -> AsyncIterator[VerifierPool]:
    """`workers` verification workers (one per CPU of the cluster by default) spread over its
    nodes, started with the verifiers of `domains` ready; every one of them killed on the way
    out. `timeout_s` bounds each batch."""
    cpus = float(ray.cluster_resources().get("CPU", 1.0))
    count = workers or max(1, int(cpus))
    actors = verify_actors(count, settings, min(1.0, cpus / count), sorted(domains))
    pool = VerifierPool(actors, timeout_s, metrics)
    try:
        await pool.start()
        yield pool
    finally:
        for actor in pool.actors:
            ray.kill(actor, no_restart=True)


@dataclass(frozen=True)
class Cluster:
    """A job's workers on Ray, up and answering."""

    generation: Generation
    verification: VerifierPool

    @classmethod
    @asynccontextmanager
    async def running(
        cls,
        config: JobConfig,
        store: RunStore,
        metrics: RunMetrics,
        streams: int,
        domains: Collection[str],
    ) -> AsyncIterator[Cluster]:
        """The job's generation workers and `verify.workers` verification workers (one per CPU
        of the cluster by default, the verifiers of `domains` ready before the first request),
        started; every one of them killed on the way out."""
        async with verifier_pool(
            config.verify.workers,
            config.verifier_settings(),
            config.verify.timeout_s,
            metrics,
            domains,
        ) as verifiers:
            generation = Generation(generation_actors(config), store, metrics, streams)
            try:
                await generation.start()
                yield cls(generation, verifiers)
            finally:
                for actor in generation.actors:
                    ray.kill(actor, no_restart=True)
