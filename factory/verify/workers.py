"""An ordered map over a stream in worker processes that survives dying and hanging workers.

`concurrent.futures` and `multiprocessing.Pool` fall short here in three ways: `Pool.imap` reads
the whole input ahead (memory grows with the file), a worker that dies breaks every pending
future of a `ProcessPoolExecutor`, and neither can stop one task that hangs. This pool keeps at
most `window` batches outstanding, replaces a worker that dies or overruns its deadline, re-runs
the items of the failed batch one by one in fresh workers, and hands an item that fails alone to
`on_failure`, so every item gets exactly one result, in input order.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import sys
import threading
import time
import traceback
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from typing import Any, Generic, Literal, TypeVar

from verified_factory.errors import FactoryError

T = TypeVar("T")
R = TypeVar("R")

Handler = Callable[[list[Any]], list[Any]]
"""Made once in each worker by the pool's `setup`; maps a batch of items to their results."""


@dataclass(frozen=True)
class WorkerFailure:
    """Why a worker gave no result for an item."""

    kind: Literal["died", "deadline", "raised"]
    message: str


class PoolStartError(FactoryError, RuntimeError):
    """A worker could not even start (its `setup` failed): the run cannot proceed."""


@dataclass
class _Slot(Generic[R]):
    """One input batch, emitted once all its results are in."""

    items: list[Any]
    results: list[Any]
    missing: int


@dataclass
class _Job:
    seq: int
    offset: int
    items: list[Any]
    alone: bool
    """Items re-run one by one after a batch failed; a second failure goes to `on_failure`."""


@dataclass
class _Worker:
    process: multiprocessing.process.BaseProcess
    conn: Connection
    ready: bool = False
    job: _Job | None = None
    deadline: float = 0.0
    started: float = field(default_factory=time.monotonic)


def _worker_main(
    conn: Connection, setup: Callable[..., Handler], setup_args: tuple, others: list[int]
) -> None:
    # A forked worker holds copies of the parent's ends of its pipe and the other workers':
    # closed, so that each worker sees EOF, and ends, the moment the parent is gone.
    for fd in others:
        with contextlib.suppress(OSError):
            os.close(fd)
    # The parent owns Ctrl-C: it stops the workers itself.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # The parent's stdout may be its output, and a forked worker holds a copy of whatever the
    # parent had buffered there: a worker prints to stderr, and never flushes that copy.
    sys.stdout = sys.stderr
    try:
        handler = setup(*setup_args)
    except BaseException:
        conn.send(("setup-failed", traceback.format_exc()))
        return
    conn.send(("ready", None))
    while True:
        try:
            message = conn.recv()
        except EOFError:  # the parent is gone
            return
        if message is None:
            return
        try:
            results = handler(message)
        except BaseException as err:
            conn.send(("raised", f"{type(err).__name__}: {err}"))
        else:
            conn.send(("ok", results))


def _start_context() -> multiprocessing.context.BaseContext:
    """Fork while this process runs one thread: a worker is ready in milliseconds with what the
    parent imported, where a spawned one imports it all again (about 0.3 s). Spawn otherwise:
    a fork copies only the forking thread, and any lock another thread held stays locked."""
    if threading.active_count() == 1 and "fork" in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("spawn")


@contextlib.contextmanager
def _no_main_module() -> Iterator[None]:
    """While a worker starts, the parent's `__main__` looks like no file and no module.

    A spawned process imports its parent's `__main__` before it runs anything: a training script
    that calls a reward function without an `if __name__ == "__main__":` guard would start
    training again in every worker. The workers need only the project's modules.
    """
    main = sys.modules.get("__main__")
    saved = {name: getattr(main, name) for name in ("__file__", "__spec__") if hasattr(main, name)}
    try:
        for name in saved:
            setattr(main, name, None)
        yield
    finally:
        for name, value in saved.items():
            setattr(main, name, value)


class OrderedPool(Generic[T, R]):
    """Map batches of items through `setup(*setup_args)` in `workers` processes.

    `item_timeout_s` is a last-resort deadline per item (a batch of n gets n times it); the
    handler itself should enforce finer limits. Batches start at one item and grow towards
    `target_batch_s` of work, so cheap items travel in large batches and slow ones in small.

    The workers start with the first `map` and stop when it ends, or, with `keep_workers`, at
    `close()`: then every later `map` reuses them (one `map` at a time). A `map` left before its
    end stops them all the same, as it may leave work in flight.
    """

    def __init__(
        self,
        setup: Callable[..., Handler],
        setup_args: tuple = (),
        *,
        workers: int,
        on_failure: Callable[[T, WorkerFailure], R],
        item_timeout_s: float = 300.0,
        window_per_worker: int = 4,
        max_batch: int = 256,
        target_batch_s: float = 0.05,
        keep_workers: bool = False,
    ) -> None:
        if workers < 1:
            raise ValueError(f"workers must be at least 1, got {workers}")
        self._setup = setup
        self._setup_args = setup_args
        self._size = workers
        self._on_failure = on_failure
        self._item_timeout_s = item_timeout_s
        self._window = workers * window_per_worker
        self._max_batch = max_batch
        self._target_batch_s = target_batch_s
        self._seconds_per_item: float | None = None
        self._workers: list[_Worker] = []
        self._keep_workers = keep_workers

    def map(self, items: Iterable[T]) -> Iterator[R]:
        """Yield one result per item, in input order."""
        source = iter(items)
        exhausted = False
        slots: dict[int, _Slot[R]] = {}
        queue: deque[_Job] = deque()
        next_seq = 0
        emit_seq = 0
        finished = False
        try:
            while len(self._workers) < self._size:
                self._workers.append(self._spawn())
            while True:
                # Emit first: a slow batch at the head may have filled the window behind it,
                # and only emitting frees the room that the refill below needs.
                while emit_seq in slots and slots[emit_seq].missing == 0:
                    yield from slots.pop(emit_seq).results
                    emit_seq += 1
                idle = sum(1 for w in self._workers if w.ready and w.job is None)
                while not exhausted and len(slots) < self._window and len(queue) < idle:
                    batch = self._take(source)
                    if not batch:
                        exhausted = True
                        break
                    slots[next_seq] = _Slot(batch, [None] * len(batch), len(batch))
                    queue.append(_Job(next_seq, 0, batch, alone=False))
                    next_seq += 1
                if exhausted and not slots:
                    finished = True
                    return
                for worker in self._workers:
                    if worker.ready and worker.job is None and queue:
                        self._send(worker, queue.popleft())
                self._collect(slots, queue)
        finally:
            if not (finished and self._keep_workers):
                self._shutdown()

    def close(self) -> None:
        """Stop the workers (a later `map` starts new ones)."""
        self._shutdown()

    def _take(self, source: Iterator[T]) -> list[T]:
        if self._seconds_per_item is None:
            size = 1
        else:
            size = int(self._target_batch_s / max(self._seconds_per_item, 1e-7))
        size = max(1, min(self._max_batch, size))
        batch = []
        for item in source:
            batch.append(item)
            if len(batch) >= size:
                break
        return batch

    def _spawn(self) -> _Worker:
        context = _start_context()
        parent_end, child_end = context.Pipe()
        # Not daemonic: a verifier may start processes of its own (a time-limited checker, a
        # sandbox). A worker still ends with its parent: its pipe closes and `recv` raises EOF.
        others = [parent_end.fileno()]
        others += [w.conn.fileno() for w in self._workers if not w.conn.closed]
        if context.get_start_method() != "fork":
            others = []
        process = context.Process(
            target=_worker_main, args=(child_end, self._setup, self._setup_args, others)
        )
        with _no_main_module():
            process.start()
        child_end.close()
        return _Worker(process, parent_end)

    def _send(self, worker: _Worker, job: _Job) -> None:
        worker.job = job
        worker.started = time.monotonic()
        worker.deadline = worker.started + self._item_timeout_s * len(job.items)
        worker.conn.send(job.items)

    def _collect(self, slots: dict[int, _Slot[R]], queue: deque[_Job]) -> None:
        """Wait for the next message, death or deadline, and account for it."""
        busy = [w for w in self._workers if w.job is not None]
        timeout = None
        if busy:
            timeout = max(0.0, min(w.deadline for w in busy) - time.monotonic())
        waitables: list[Any] = [w.conn for w in self._workers]
        waitables += [w.process.sentinel for w in self._workers]
        ready = set(wait(waitables, timeout))
        now = time.monotonic()
        for index, worker in enumerate(self._workers):
            if worker.conn in ready and worker.conn.poll():
                try:
                    kind, payload = worker.conn.recv()
                except (EOFError, OSError):
                    kind, payload = "dead", None
                if kind == "setup-failed":
                    raise PoolStartError(f"a worker could not start:\n{payload}")
                if kind == "ready":
                    worker.ready = True
                    continue
                if kind == "ok":
                    job = self._finish(worker, now)
                    self._fill(slots, job, payload)
                    continue
                if kind == "raised":
                    job = self._finish(worker, now)
                    self._fail(slots, queue, job, WorkerFailure("raised", payload))
                    continue
            if worker.process.sentinel in ready or not worker.process.is_alive():
                self._replace(index, slots, queue, self._death(worker))
            elif worker.job is not None and now >= worker.deadline:
                worker.process.kill()
                worker.process.join()
                limit = self._item_timeout_s * len(worker.job.items)
                failure = WorkerFailure("deadline", f"no answer within {limit:g} s; worker killed")
                self._replace(index, slots, queue, failure)

    def _finish(self, worker: _Worker, now: float) -> _Job:
        job = worker.job
        assert job is not None, "a worker answered without a job"
        worker.job = None
        per_item = (now - worker.started) / len(job.items)
        if self._seconds_per_item is None:
            self._seconds_per_item = per_item
        else:
            self._seconds_per_item = 0.8 * self._seconds_per_item + 0.2 * per_item
        return job

    def _death(self, worker: _Worker) -> WorkerFailure:
        worker.process.join()
        code = worker.process.exitcode
        if code is not None and code < 0:
            name = signal.Signals(-code).name
            hint = " (out of memory?)" if name == "SIGKILL" else ""
            return WorkerFailure("died", f"worker process killed by {name}{hint}")
        return WorkerFailure("died", f"worker process exited with code {code}")

    def _replace(
        self, index: int, slots: dict[int, _Slot[R]], queue: deque[_Job], failure: WorkerFailure
    ) -> None:
        worker = self._workers[index]
        worker.conn.close()
        if not worker.ready:
            raise PoolStartError(f"a worker died while starting: {failure.message}")
        job = worker.job
        self._workers[index] = self._spawn()
        if job is not None:
            self._fail(slots, queue, job, failure)

    def _fail(
        self, slots: dict[int, _Slot[R]], queue: deque[_Job], job: _Job, failure: WorkerFailure
    ) -> None:
        if job.alone:
            item = job.items[0]
            self._fill(slots, job, [self._on_failure(item, failure)])
            return
        # Re-run each item alone so only the item at fault is charged with the failure.
        for i in reversed(range(len(job.items))):
            queue.appendleft(_Job(job.seq, job.offset + i, [job.items[i]], alone=True))

    @staticmethod
    def _fill(slots: dict[int, _Slot[R]], job: _Job, results: list[R]) -> None:
        slot = slots[job.seq]
        if len(results) != len(job.items):
            raise RuntimeError(
                f"handler returned {len(results)} results for {len(job.items)} items"
            )
        slot.results[job.offset : job.offset + len(results)] = results
        slot.missing -= len(results)

    def _shutdown(self) -> None:
        for worker in self._workers:
            with contextlib.suppress(OSError, ValueError):  # already dead or closed
                worker.conn.send(None)
        deadline = time.monotonic() + 2.0
        for worker in self._workers:
            worker.process.join(max(0.0, deadline - time.monotonic()))
            if worker.process.is_alive():
                worker.process.kill()
                worker.process.join()
            worker.conn.close()
        self._workers = []
