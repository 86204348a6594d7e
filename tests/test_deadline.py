from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import slow_functions

from verified_factory.verifiers.deadline import ChildDied, DeadlineExceeded, DeadlineRunner


@pytest.fixture
def runner():
    run = DeadlineRunner(slow_functions.sleep_then_echo, limit_s=1.0)
    yield run
    run.close()


def test_returns_the_value_and_reuses_the_child(runner: DeadlineRunner) -> None:
    assert runner(0, "a") == "a"
    start = time.perf_counter()
    assert runner(0, {"b": [1]}) == {"b": [1]}
    assert time.perf_counter() - start < 0.5  # no process start the second time


def test_an_overrun_is_killed_at_the_limit_and_the_next_call_works(runner: DeadlineRunner) -> None:
    start = time.perf_counter()
    with pytest.raises(DeadlineExceeded, match="took more than 1 s"):
        runner(30, "never")
    assert time.perf_counter() - start < 3
    assert runner(0, "after") == "after"


def test_exceptions_come_back_to_the_caller() -> None:
    run = DeadlineRunner(slow_functions.fail, limit_s=5)
    with pytest.raises(ValueError, match="boom"):
        run("boom")
    run.close()


def test_a_dying_child_is_reported() -> None:
    run = DeadlineRunner(slow_functions.die, limit_s=5)
    with pytest.raises(ChildDied):
        run()
    run.close()


def test_threads_run_in_parallel_each_within_its_limit(runner: DeadlineRunner) -> None:
    start = time.perf_counter()
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda i: runner(0.5, i), range(4)))
    assert results == [0, 1, 2, 3]
    assert time.perf_counter() - start < 6  # four children in parallel, not 4 x 0.5 s in a row
