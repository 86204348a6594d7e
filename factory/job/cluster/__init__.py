"""The job's Ray plumbing, all of it: joining a cluster, the actors, their pools and restarts.

Nothing outside this package imports Ray. The stages get two plain async functions of records
from a running `Cluster`: `generation.complete` (completions bought once, `generation.py`) and
`verification.judge` (verdicts, `verification.py`); the actors themselves are in `actors.py`.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import ray

from verified_factory.config import JobConfig
from verified_factory.job.cluster.actors import generation_actor, verify_actors
from verified_factory.job.cluster.generation import Generation, JobFailed
from verified_factory.job.cluster.verification import VerifierPool
from verified_factory.job.metrics import RunMetrics
from verified_factory.run_store import RunStore

__all__ = ["Cluster", "JobFailed", "connect_ray"]


def connect_ray() -> None:
    """Join `RAY_ADDRESS` when set, else start Ray on this machine (unless already joined)."""
    if ray.is_initialized():
        return
    address = os.environ.get("RAY_ADDRESS")
    if address:
        ray.init(address=address, logging_level="WARNING")
    else:
        ray.init(include_dashboard=False, logging_level="WARNING", _node_ip_address="127.0.0.1")


@dataclass(frozen=True)
class Cluster:
    """A job's workers on Ray, up and answering."""

    generation: Generation
    verification: VerifierPool

    @classmethod
    @asynccontextmanager
    async def running(
        cls, config: JobConfig, store: RunStore, metrics: RunMetrics, streams: int
    ) -> AsyncIterator[Cluster]:
        """The job's generation worker and `verify.workers` verification workers (one per CPU
        of the cluster by default), started; every one of them killed on the way out."""
        cpus = float(ray.cluster_resources().get("CPU", 1.0))
        workers = config.verify.workers or max(1, int(cpus))
        verifiers = VerifierPool(
            verify_actors(workers, config, min(1.0, cpus / workers)),
            config.verify.timeout_s,
            metrics,
        )
        generation = Generation(generation_actor(config), store, metrics, streams)
        try:
            await verifiers.start()
            await generation.start()
            yield cls(generation, verifiers)
        finally:
            for actor in [generation.actor, *verifiers.actors]:
                ray.kill(actor, no_restart=True)
