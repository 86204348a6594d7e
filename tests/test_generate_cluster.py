"""`factory generate` on a two-node Ray cluster started on this machine: work lands on both."""

from __future__ import annotations

from pathlib import Path

import pytest
from generation_support import exported_rows, job_config

from verified_factory.job.generate import generate

ray = pytest.importorskip("ray")
cluster_utils = pytest.importorskip("ray.cluster_utils")

pytestmark = pytest.mark.slow


def test_the_job_spreads_verification_over_two_nodes_without_a_shared_run_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Both nodes on loopback: Ray's switch for single-machine clusters, read by this process
    # (already imported) and by the processes the nodes start.
    monkeypatch.setenv("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
    monkeypatch.setattr("ray._private.ray_constants.ENABLE_RAY_CLUSTER", False)
    cluster = cluster_utils.Cluster(initialize_head=True, head_node_args={"num_cpus": 1})
    try:
        assert cluster.address.startswith("127.0.0.1:")
        cluster.add_node(num_cpus=1)
        cluster.wait_for_nodes()
        ray.init(address=cluster.address, logging_level="WARNING")
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
        cluster.shutdown()

    per_node = {node: n for node, n in result.metrics.verified_on_node.items() if n}
    assert len(per_node) == 2, f"verification ran on {per_node}"
    rows = exported_rows(config.run_dir / "export")
    assert {r["domain"] for r in rows} == {"math", "code"}
    assert result.metrics.problems_done == 32
