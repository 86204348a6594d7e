"""`make submit`: jobs through `ray job submit` to Ray clusters started on loopback."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("ray.dashboard.modules.job.sdk")
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def head() -> Iterator[tuple[str, dict[str, str]]]:
    """A one-node cluster with its job server, on loopback, without token authentication."""
    env = {
        **os.environ,
        "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",  # the job's `python` is this one
        "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0",  # every address on loopback
        "RAY_AUTH_MODE": "disabled",
    }
    dashboard = _free_port()
    subprocess.run(
        [
            str(BIN / "ray"),
            "start",
            "--head",
            "--num-cpus=2",
            f"--port={_free_port()}",
            "--include-dashboard=true",
            "--dashboard-host=127.0.0.1",
            f"--dashboard-port={dashboard}",
        ],
        env=env,
        check=True,
        capture_output=True,
        timeout=180,
    )
    try:
        yield f"http://127.0.0.1:{dashboard}", env
    finally:
        subprocess.run([str(BIN / "ray"), "stop", "--force"], env=env, capture_output=True)


def test_make_submit_runs_the_demo_job_on_the_cluster(
    head: tuple[str, dict[str, str]], tmp_path: Path
) -> None:
    address, env = head
    run_dir = tmp_path / "run"
    done = subprocess.run(
        ["make", "-C", str(ROOT), "submit", f"RAY_ADDRESS={address}", f"SUBMIT_RUN_DIR={run_dir}"],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert f"export: {run_dir / 'export'}" in done.stdout
    manifest = json.loads((run_dir / "export" / "manifest.json").read_text())
    assert set(manifest["rows_per_domain"]) == {"math", "code"}
    assert manifest["run"]["problems"]["done"] == 250


def test_make_submit_on_two_nodes_resumes_after_the_driver_is_killed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A head with the job server and a worker node, two raylets on this machine (Ray's
    `cluster_utils`); the job's driver is killed with SIGKILL after three units, and `make
    submit` again finishes the job from its run directory on the head."""
    import ray.cluster_utils

    env = {
        **os.environ,
        "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",
        "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0",
        "RAY_AUTH_MODE": "disabled",
    }
    for name in ("PATH", "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "RAY_AUTH_MODE"):
        monkeypatch.setenv(name, env[name])  # the nodes' processes start with this environment
    monkeypatch.setattr("ray._private.ray_constants.ENABLE_RAY_CLUSTER", False)
    dashboard = _free_port()
    cluster = ray.cluster_utils.Cluster(
        initialize_head=True,
        head_node_args={
            "num_cpus": 1,
            "include_dashboard": True,
            "dashboard_host": "127.0.0.1",
            "dashboard_port": dashboard,
        },
    )
    try:
        cluster.add_node(num_cpus=1)
        cluster.wait_for_nodes()
        _submit_kill_and_resume(f"http://127.0.0.1:{dashboard}", env, tmp_path)
    finally:
        cluster.shutdown()


def _submit_kill_and_resume(address: str, env: dict[str, str], tmp_path: Path) -> None:
    config = tmp_path / "job.yaml"
    config.write_text(
        "source: {generators: {math: 480, seed: 4}}\n"
        "solve: {samples: 4, keep: 2, unit_size: 16}\n"
        "verify: {workers: 2}\n"
        "export: {format: jsonl}\n"
    )
    run_dir = tmp_path / "run"
    make = [
        "make", "-C", str(ROOT), "submit", f"RAY_ADDRESS={address}",
        f"SUBMIT_CONFIG={config}", f"SUBMIT_RUN_DIR={run_dir}",
    ]  # fmt: skip
    first = subprocess.Popen(make, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    units = run_dir / "units"
    deadline = time.monotonic() + 300
    while len(list(units.glob("unit-*.jsonl"))) < 3:
        assert first.poll() is None, first.stdout.read().decode()[-3000:]  # type: ignore[union-attr]
        assert time.monotonic() < deadline, "no unit committed within 300 s"
        time.sleep(0.2)
    driver = subprocess.run(
        ["pgrep", "-f", f"^python -m verified_factory generate {config} --out {run_dir}"],
        capture_output=True,
        text=True,
    ).stdout.split()
    assert len(driver) == 1, driver
    os.kill(int(driver[0]), signal.SIGKILL)
    assert first.wait(timeout=120) != 0, "the submission reports its driver's death"
    committed = len(list(units.glob("unit-*.jsonl")))
    assert committed < 30, "killed mid-job"

    done = subprocess.run(make, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    manifest = json.loads((run_dir / "export" / "manifest.json").read_text())
    problems = manifest["run"]["problems"]
    assert problems["skipped_as_committed"] == 16 * committed
    assert problems["skipped_as_committed"] + problems["done"] == 480
    nodes = manifest["run"]["verified_on_node"]
    assert len(nodes) == 2 and all(nodes.values()), nodes
    attempts = [
        json.loads(line)
        for unit in units.glob("unit-*.jsonl")
        for line in unit.read_text().splitlines()
    ]
    ids = [a["id"] for a in attempts if a["record"] == "attempt"]
    assert len(ids) == len(set(ids)), "no attempt twice"
    assert {a["problem_id"] for a in attempts} == {f"gen-math-4-{n}" for n in range(480)}
