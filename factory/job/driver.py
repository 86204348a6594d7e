"""The job's driver: problems stream in units through the stages, and units commit.

The driver is one asyncio loop. It reads the source lazily and keeps a bounded number of units
in flight (enough requests to keep `max_concurrency` busy, twice over), so memory stays flat
however long the input is. Each unit goes curate (before solving) -> solve and verify
(`Solver`) -> curate (choose the kept) -> commit on its own; units finish in any order.
Completions are appended to the run directory as they arrive and units commit atomically, so a
killed job resumes without redoing a committed unit or buying a stored completion again.

The driver decides only the order and the bookkeeping: what each stage does is its own module's,
and where it runs (Ray) the cluster's (`job/cluster/`).
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Iterable, Iterator
from itertools import islice

from verified_factory.config import JobConfig
from verified_factory.curate.curator import Curator
from verified_factory.job.metrics import RunMetrics
from verified_factory.records import Problem
from verified_factory.rows import Attempt, ProblemError, worth_retrying
from verified_factory.run_store import RunStore
from verified_factory.solve.replies import SCREEN
from verified_factory.solve.solver import Solver

VERIFY_BACKLOG = 4
"""Units in flight per unit generating: room for verification to lag behind the model without
holding up the requests, within a fixed bound on memory."""
HELD_SAMPLE_S = 0.1
"""How often the driver looks whether verification is what holds it (`verification_bound_s`)."""

Item = Problem | ProblemError


def units_generating(config: JobConfig) -> int:
    """Units asking the model at once: enough for twice the endpoints' concurrency."""
    per_unit = config.solve.unit_size * config.solve.samples
    return max(2, math.ceil(2 * config.model.total_concurrency / per_unit))


class Driver:
    def __init__(
        self,
        config: JobConfig,
        store: RunStore,
        metrics: RunMetrics,
        solver: Solver,
        curator: Curator,
    ) -> None:
        self.config = config
        self.store = store
        self.metrics = metrics
        self.solver = solver
        self.curator = curator

    async def run(self, items: Iterable[Item]) -> None:
        """Every uncommitted unit of `items` through the stages; the first unit's failure (an
        unreachable endpoint, say) stops the job once the units in flight are done."""
        committed = self.store.committed_units()
        window = asyncio.Semaphore(VERIFY_BACKLOG * units_generating(self.config))
        running: set[asyncio.Task[None]] = set()
        failed: list[BaseException] = []
        held = asyncio.Event()
        watcher = asyncio.create_task(self._time_verification_bound(held))

        def finished(task: asyncio.Task[None]) -> None:
            running.discard(task)
            window.release()
            if not task.cancelled() and task.exception() is not None:
                failed.append(task.exception())  # type: ignore[arg-type]

        for unit, batch in enumerate(_units(items, self.config.solve.unit_size)):
            if unit in committed:
                self.metrics.problems_skipped += sum(isinstance(i, Problem) for i in batch)
                continue
            if window.locked():
                held.set()
            await window.acquire()
            held.clear()
            if failed:
                break
            task = asyncio.create_task(self._unit(unit, batch))
            running.add(task)
            task.add_done_callback(finished)
        watcher.cancel()
        if running:
            await asyncio.wait(set(running))
        if failed:
            raise failed[0]

    async def _time_verification_bound(self, held: asyncio.Event) -> None:
        """Count the time the driver waits for room while the endpoint has room too: every unit
        it may hold is past its requests, waiting on verification, so verification (not the
        model) sets the job's pace, and the progress line and the card say so."""
        room = self.config.model.total_concurrency
        while True:
            await asyncio.sleep(HELD_SAMPLE_S)
            if held.is_set() and self.metrics.requests_waiting < room:
                self.metrics.verification_bound_s += HELD_SAMPLE_S

    async def _unit(self, unit: int, items: list[Item]) -> None:
        problems = [item for item in items if isinstance(item, Problem)]
        records: list[Attempt | ProblemError] = [i for i in items if isinstance(i, ProblemError)]
        # A batch of embeddings takes a moment: off the loop, which keeps streaming.
        clean, removed = await asyncio.to_thread(self.curator.before_solving, problems)
        attempts, failures = await self.solver.solve(self.store.completions_file(unit), clean)
        self.metrics.screened([a.verdict for a in attempts if a.verdict.verifier == SCREEN])
        records += removed + failures + self.curator.choose(attempts)
        self.store.commit(unit, records, retry=any(worth_retrying(r) for r in records))
        self.metrics.unit(len(problems), records)


def _units(items: Iterable[Item], size: int) -> Iterator[list[Item]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk
