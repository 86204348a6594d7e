from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from benchmark_data import DATA

PLUGIN_MODULES = Path(__file__).parent / "plugins"

TEST_ENTRY_POINTS = """\
[verified_factory.verifiers]
scripted = scripted_verifier:ScriptedVerifier
broken = no_such_module:Nothing
"""


@pytest.fixture(autouse=True, scope="module")
def _reward_pools_closed() -> Iterator[None]:
    """The reward adapters' worker pools outlive their calls by design (until exit): stopped
    after each module that started one, so that no test sees another module's processes."""
    yield
    judge = sys.modules.get("verified_factory.rewards.judge")
    if judge is not None:
        judge.close_pools()


@pytest.fixture(scope="session")
def test_plugins(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A PYTHONPATH on which the scripted test verifiers are installed, as a plugin would be."""
    site = tmp_path_factory.mktemp("site")
    dist_info = site / "factory_test_plugins-0.1.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: factory-test-plugins\nVersion: 0.1\n"
    )
    (dist_info / "entry_points.txt").write_text(TEST_ENTRY_POINTS)
    return os.pathsep.join([str(site), str(PLUGIN_MODULES)])


@pytest.fixture(scope="session")
def installed_example(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The example plugin (`examples/exact-match-verifier`) installed with pip into a folder
    of its own, as a third-party package is; that folder, for PYTHONPATH."""
    target = tmp_path_factory.mktemp("example-site")
    example = Path(__file__).parents[1] / "examples" / "exact-match-verifier"
    pip = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation"]
    subprocess.run([*pip, "--target", str(target), str(example)], check=True, capture_output=True)
    return str(target)


@pytest.fixture(scope="module")
def ray_session() -> object:
    """A local Ray session for the module's jobs; its GCS address."""
    ray = pytest.importorskip("ray")
    ray.init(
        num_cpus=2, include_dashboard=False, logging_level="WARNING", _node_ip_address="127.0.0.1"
    )
    yield ray.get_runtime_context().gcs_address
    ray.shutdown()


@dataclass
class TwoNodes:
    """A Ray cluster of two raylets on loopback, one CPU each: the head and a worker node."""

    address: str
    cluster: Any
    worker: Any


@pytest.fixture
def two_nodes(monkeypatch: pytest.MonkeyPatch) -> Iterator[TwoNodes]:
    """Two raylets on this machine (Ray's `cluster_utils`), shut down after the test."""
    cluster_utils = pytest.importorskip("ray.cluster_utils")
    # Both nodes on loopback: Ray's switch for single-machine clusters, read by this process
    # (already imported) and by the processes the nodes start.
    monkeypatch.setenv("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
    monkeypatch.setattr("ray._private.ray_constants.ENABLE_RAY_CLUSTER", False)
    cluster = cluster_utils.Cluster(initialize_head=True, head_node_args={"num_cpus": 1})
    try:
        worker = cluster.add_node(num_cpus=1)
        cluster.wait_for_nodes()
        assert cluster.address.startswith("127.0.0.1:")
        yield TwoNodes(cluster.address, cluster, worker)
    finally:
        cluster.shutdown()


def _docker_or_skip() -> None:
    """Skip without an engine and image, except under FACTORY_REQUIRE_DOCKER=1 (CI): fail."""
    from verified_factory.sandboxes.docker_backend import connect
    from verified_factory.sandboxes.image import image_exists, image_tag
    from verified_factory.sandboxes.job import SandboxError

    try:
        ready = image_exists(connect())
        problem = f"the sandbox image {image_tag()} is not built (make sandbox-image)"
    except SandboxError as err:
        ready, problem = False, str(err)
    if not ready:
        if os.environ.get("FACTORY_REQUIRE_DOCKER") == "1":
            pytest.fail(f"FACTORY_REQUIRE_DOCKER=1 but {problem}")
        pytest.skip(problem)


@pytest.fixture
def docker_engine():
    """A client for a Docker engine that has the sandbox image (or a skip, or a CI failure)."""
    from verified_factory.sandboxes.docker_backend import connect

    _docker_or_skip()
    return connect()


@pytest.fixture(params=["docker", "process"])
def sandbox(request: pytest.FixtureRequest):
    """Each sandbox backend in turn; the Docker one needs an engine (see _docker_or_skip)."""
    from verified_factory.sandboxes import open_sandbox

    if request.param == "docker":
        request.applymarker(pytest.mark.docker)
        _docker_or_skip()
    box = open_sandbox(request.param)
    yield box
    box.close()


def sandbox_containers(client, besides: frozenset = frozenset()) -> set[str]:
    """The ids of sandbox containers on the engine, all states, but those in `besides` (what
    other runs on this machine had before a test began)."""
    from verified_factory.sandboxes.docker_backend import LABEL

    found = client.api.containers(all=True, filters={"label": LABEL})
    return {c["Id"] for c in found} - besides


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_setup(item: pytest.Item):
    yield from _skip_without_benchmark_data()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item: pytest.Item):
    yield from _skip_without_benchmark_data()


def _skip_without_benchmark_data():
    """A test that reads the public benchmark files the repository ships (`tests/data`) skips,
    saying so, in a copy that lacks them (an sdist, a sparse checkout); under CI=true it fails."""
    outcome = yield
    error = outcome.excinfo[1] if outcome.excinfo else None
    missing = getattr(error, "filename", None) if isinstance(error, FileNotFoundError) else None
    if missing and str(missing).startswith(str(DATA)) and os.environ.get("CI") != "true":
        outcome.force_exception(
            pytest.skip.Exception(f"{missing} is not here: this copy lacks the benchmark data")
        )
