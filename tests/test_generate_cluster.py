"""`factory generate` on a two-node Ray cluster started on this machine: work lands on both."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from conftest import TwoNodes
from generation_support import exported_rows, job_config, run_records

from verified_factory.job.generate import generate

ray = pytest.importorskip("ray")

pytestmark = pytest.mark.slow


def test_the_job_spreads_verification_over_two_nodes_without_a_shared_run_dir(
    tmp_path: Path, two_nodes: TwoNodes
) -> None:
    ray.init(address=two_nodes.address, logging_level="WARNING")
    try:
        assert len({n["NodeID"] for n in ray.nodes() if n["Alive"]}) == 2
        config = job_config(
            tmp_path,
            source={"generators": {"math": 24, "code": 8, "seed": 5}},
            solve={"samples": 2, "keep": 1, "unit_size": 4},
            verify={"workers": 2},
        )
        result = generate(config)
    finally:
        ray.shutdown()

    per_node = {node: n for node, n in result.metrics.verified_on_node.items() if n}
    assert len(per_node) == 2, f"verification ran on {per_node}"
    rows = exported_rows(config.run_dir / "export")
    assert {r["domain"] for r in rows} == {"math", "code"}
    assert result.metrics.problems_done == 32


def test_a_worker_node_lost_mid_job_loses_no_problem_and_buys_nothing_twice(
    tmp_path: Path, two_nodes: TwoNodes
) -> None:
    lost: list[str] = []
    try:
        ray.init(address=two_nodes.address, logging_level="WARNING")
        config = job_config(
            tmp_path,
            source={"generators": {"math": 48, "code": 8, "seed": 7}},
            # 32 candidates a unit: two batches, so both nodes' workers judge from the first.
            solve={"samples": 4, "keep": 1, "unit_size": 8},
            verify={"workers": 2, "timeout_s": 30},
        )
        units = config.run_dir / "units"

        committed_at_loss: list[int] = []

        def kill_the_worker_node() -> None:
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                if units.is_dir() and len(done := list(units.glob("unit-*.jsonl"))) >= 3:
                    # Its raylet and every process on it.
                    two_nodes.cluster.remove_node(two_nodes.worker)
                    lost.append(two_nodes.worker.node_id)
                    committed_at_loss.append(len(done))
                    return
                time.sleep(0.05)

        killer = threading.Thread(target=kill_the_worker_node, daemon=True)
        killer.start()
        result = generate(config)
        killer.join(timeout=10)
        # The same job, uninterrupted, on what is left: what it buys is the bound.
        again = config.model_copy(update={"run_dir": tmp_path / "again"})
        uninterrupted = generate(again)
    finally:
        ray.shutdown()

    assert lost, "the job ended before the worker node was lost"
    on_lost = result.metrics.verified_on_node.get(lost[0], 0)
    assert on_lost > 0, f"nothing verified on the lost node: {result.metrics.verified_on_node}"
    assert len(list(units.glob("unit-*.jsonl"))) > committed_at_loss[0], "nothing after the loss"
    attempts, errors = run_records(config.run_dir)
    problems = {a.problem_id for a in attempts} | {e.problem_id for e in errors}
    assert len(problems) == 56 and result.metrics.problems_done == 56
    ids = [a.id for a in attempts]
    assert len(ids) == len(set(ids)), "an attempt was recorded twice"
    rows = exported_rows(config.run_dir / "export")
    assert len({r["id"] for r in rows}) == len(rows)
    # The generation worker is on the head node: nothing it bought was lost with the worker
    # node, so the job bought what the uninterrupted one did, not a request more.
    assert result.metrics.requests_bought == uninterrupted.metrics.requests_bought > 0
    assert len(exported_rows(again.run_dir / "export")) == len(rows)


def test_generation_workers_on_both_nodes_store_every_completion_on_the_drivers(
    tmp_path: Path, two_nodes: TwoNodes
) -> None:
    from generation_support import solve_sum, sum_problems, sums_job
    from model_server import ModelServer

    sum_problems(tmp_path / "sums.jsonl", 24)
    ray.init(address=two_nodes.address, logging_level="WARNING")
    try:
        with ModelServer(latency_s=0.05, responder=solve_sum) as server:
            config = sums_job(tmp_path, server.base_url, max_concurrency=4, unit_size=2)
            model = config.model.model_copy(
                update={"generation_workers": 2, "generation_nodes": "all"}
            )
            config = config.model_copy(update={"model": model})
            result = generate(config)
            bought = server.stats()["requests"]
            again = generate(config, resume=True)
            assert server.stats()["requests"] == bought, "every completion was stored"
    finally:
        ray.shutdown()

    workers = result.metrics.as_json()["requests"]["per_generation_worker"]
    assert len({w["node"] for w in workers}) == 2 and all(w["bought"] for w in workers), workers
    assert bought == result.metrics.requests_bought == 48
    assert again.metrics.problems_skipped == 24
    assert len(exported_rows(config.run_dir / "export")) == 24
