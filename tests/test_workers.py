from __future__ import annotations

import itertools
import multiprocessing
import threading

import pool_handlers
import pytest

from verified_factory.verify.workers import OrderedPool, PoolStartError, WorkerFailure


def describe(item: object, failure: WorkerFailure) -> str:
    return f"failed:{item}:{failure.kind}:{failure.message}"


def pool(setup, **options) -> OrderedPool:
    options.setdefault("workers", 2)
    return OrderedPool(setup, on_failure=describe, **options)


def no_children_left() -> bool:
    return not multiprocessing.active_children()


def test_results_come_in_input_order() -> None:
    items = list(range(3000))
    assert list(pool(pool_handlers.identity).map(items)) == items
    assert no_children_left()


def test_empty_input_gives_nothing() -> None:
    assert list(pool(pool_handlers.identity, workers=1).map([])) == []


def test_reads_only_a_bounded_window_ahead() -> None:
    pulled = itertools.count()

    def endless():
        for n in itertools.count():
            next(pulled)
            yield n

    results = pool(pool_handlers.identity, max_batch=16).map(endless())
    first = list(itertools.islice(results, 100))
    results.close()
    assert first == list(range(100))
    # 2 workers x 4 batches of at most 16 items may be outstanding beyond what was emitted.
    assert next(pulled) <= 100 + 2 * 4 * 16 + 1
    assert no_children_left()


@pytest.mark.parametrize(
    ("bad", "expected"),
    [
        ("exit", "failed:exit:died:worker process exited with code 5"),
        ("raise", "failed:raise:raised:ValueError: bad item"),
    ],
)
def test_only_the_item_at_fault_is_charged(bad: str, expected: str) -> None:
    items = [f"a{i}" for i in range(40)] + [bad] + [f"b{i}" for i in range(40)]
    results = list(pool(pool_handlers.misbehaving).map(items))
    assert results[40] == expected
    assert results[:40] == [f"ok:a{i}" for i in range(40)]
    assert results[41:] == [f"ok:b{i}" for i in range(40)]
    assert no_children_left()


def test_a_hanging_item_is_killed_at_its_deadline() -> None:
    results = list(
        pool(pool_handlers.misbehaving, item_timeout_s=0.5).map(["x", "hang", "y", "exit", "z"])
    )
    assert results == [
        "ok:x",
        "failed:hang:deadline:no answer within 0.5 s; worker killed",
        "ok:y",
        "failed:exit:died:worker process exited with code 5",
        "ok:z",
    ]
    assert no_children_left()


def test_a_setup_that_fails_stops_the_run() -> None:
    with pytest.raises(PoolStartError, match="RuntimeError: cannot start"):
        list(pool(pool_handlers.cannot_start).map([1, 2]))
    assert no_children_left()


def test_workers_must_be_positive() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        pool(pool_handlers.identity, workers=0)


def test_a_slow_head_that_fills_the_window_does_not_stall_the_pool() -> None:
    # The first item holds the head while the other worker fills the window behind it; when
    # the head finishes, everything is emitted and the pool must refill, not wait forever.
    items = [400] + [5] * 30
    done: list = []
    runner = threading.Thread(
        target=lambda: done.extend(pool(pool_handlers.sleepy, max_batch=1).map(items)),
        daemon=True,
    )
    runner.start()
    runner.join(timeout=30)
    assert done == items


def test_forked_workers_end_when_their_parent_is_killed(tmp_path) -> None:
    """Each worker must see EOF once the parent is gone: a forked worker holds no copy of the
    parent's end of its own pipe or of the other workers' pipes."""
    import os
    import signal
    import subprocess
    import sys
    import time
    from pathlib import Path

    pids = tmp_path / "pids"
    script = (
        "import os, sys\n"
        "import pool_handlers\n"
        "from verified_factory.verify.workers import OrderedPool\n"
        "pool = OrderedPool(pool_handlers.sleepy, workers=2, on_failure=repr)\n"
        "for done, _ in enumerate(pool.map([200] * 1000)):\n"
        "    if done == 4:\n"
        f"        open({str(pids)!r}, 'w').write(' '.join(\n"
        "            str(w.process.pid) for w in pool._workers))\n"
    )
    plugins = Path(__file__).parent / "plugins"
    parent = subprocess.Popen(
        [sys.executable, "-c", script],
        env={**os.environ, "PYTHONPATH": f"{plugins}{os.pathsep}{os.getcwd()}"},
    )
    deadline = time.monotonic() + 30
    while not (pids.exists() and pids.read_text()) and time.monotonic() < deadline:
        time.sleep(0.05)
    workers = [int(pid) for pid in pids.read_text().split()]
    assert len(workers) == 2
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    deadline = time.monotonic() + 10
    alive = workers
    while alive and time.monotonic() < deadline:
        time.sleep(0.1)
        alive = [pid for pid in workers if _running(pid)]
    assert not alive, f"workers {alive} outlived their killed parent"


def _running(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False
