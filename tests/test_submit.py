"""`make submit`: the demo job through `ray job submit` to a Ray head started on loopback."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
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
