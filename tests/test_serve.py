"""`factory serve` as a client meets it: a real uvicorn process on loopback, attacked and used.

Every case ends answered or refused with a clear error, the server still up, nothing left in
flight, and (Docker) no sandbox container left once the server stops.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from conftest import TwoNodes, sandbox_containers
from run_cli import FACTORY

TOKEN = "s3cret-token"
pytestmark = pytest.mark.slow


@dataclass
class Server:
    url: str
    process: subprocess.Popen

    def call(
        self, method: str, path: str, body: Any = None, token: str | None = TOKEN, raw: bytes = b""
    ) -> tuple[int, dict[str, str], Any]:
        data = raw or (json.dumps(body).encode() if body is not None else None)
        request = urllib.request.Request(self.url + path, data=data, method=method)
        request.add_header("Content-Type", "application/json")
        if token is not None:
            request.add_header("Authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(request, timeout=120) as response:
                status, headers, text = response.status, dict(response.headers), response.read()
        except urllib.error.HTTPError as err:
            status, headers, text = err.code, dict(err.headers), err.read()
        try:
            return status, headers, json.loads(text)
        except ValueError:
            return status, headers, text.decode()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _serve(tmp: Path, pythonpath: str, *args: str) -> Iterator[Server]:
    token_file = tmp / "token"
    token_file.write_text(TOKEN + "\n")
    port = _free_port()
    process = subprocess.Popen(
        [str(FACTORY), "serve", "--port", str(port), "--token-file", str(token_file), *args],
        env={**os.environ, "PYTHONPATH": pythonpath},
        stderr=subprocess.PIPE,
        text=True,
    )
    server = Server(f"http://127.0.0.1:{port}", process)
    deadline = time.monotonic() + 60
    while True:
        assert process.poll() is None, process.stderr.read() if process.stderr else ""
        try:
            if server.call("GET", "/health", token=None)[0] == 200:
                break
        except OSError:
            pass
        assert time.monotonic() < deadline, "the server did not come up"
        time.sleep(0.2)
    yield server
    process.terminate()
    process.wait(timeout=30)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, test_plugins: str) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("serve")
    options = ["--sandbox", "process", "--workers", "2", "--budget", "4", "--max-batch", "4"]
    options += ["--item-timeout-s", "3"]
    yield from _serve(tmp, test_plugins, *options, "--max-body-mb", "1")


def scripted(n: int, response: str = "a", **meta: Any) -> dict[str, Any]:
    return {
        "id": f"c{n}",
        "domain": "scripted",
        "problem": "p",
        "reference": "a",
        "response": response,
        "meta": meta,
    }


def _settled(server: Server) -> None:
    """Nothing in flight once the requests are answered (or abandoned)."""
    deadline = time.monotonic() + 30
    while server.call("GET", "/health", token=None)[2]["in_flight"]:
        assert time.monotonic() < deadline, "units stayed in flight"
        time.sleep(0.1)


def test_verdicts_and_rewards_in_order_with_a_bad_candidate_named(server: Server) -> None:
    batch = [scripted(1), scripted(2, "b"), {"id": "c3", "domain": "scripted"}, scripted(4)]
    status, _, body = server.call("POST", "/v1/verify", {"candidates": batch})
    assert status == 200, body
    assert [v["status"] for v in body["verdicts"]] == ["accepted", "rejected", "error", "accepted"]
    assert body["rewards"] == [1.0, 0.0, None, 1.0]
    assert "'response'" in body["verdicts"][2]["reason"]
    assert [v["id"] for v in body["verdicts"]] == ["c1", "c2", "c3", "c4"]


def test_tokens_bodies_and_batches_that_are_refused(server: Server) -> None:
    ok = {"candidates": [scripted(1)]}
    assert server.call("POST", "/v1/verify", ok, token=None)[0] == 401
    status, headers, body = server.call("POST", "/v1/verify", ok, token="wrong")
    assert status == 401 and headers["www-authenticate"] == "Bearer", body
    assert server.call("GET", "/metrics", token="wrong")[0] == 401
    assert server.call("POST", "/v1/verify", raw=b"{not json")[0] == 400
    status, _, body = server.call("POST", "/v1/verify", {"items": []})
    assert status == 400 and "candidates" in body["error"]
    status, _, body = server.call("POST", "/v1/verify", {"candidates": [scripted(1)] * 5})
    assert status == 413 and "at most 4" in body["error"]
    # A body declared over the limit is refused before a byte of it is read (sent here: none).
    host, port = server.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as client:
        client.sendall(
            b"POST /v1/verify HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            + f"Authorization: Bearer {TOKEN}\r\nContent-Length: {2 * 1024 * 1024}\r\n\r\n".encode()
        )
        reply = client.makefile("rb")
        status_line = reply.readline().decode()
        headers = dict(
            line.decode().strip().lower().split(": ", 1) for line in iter(reply.readline, b"\r\n")
        )
        answer = json.loads(reply.read(int(headers["content-length"])))
    assert status_line.startswith("HTTP/1.1 413") and "bytes" in answer["error"], answer
    _settled(server)
    assert server.call("POST", "/v1/verify", ok)[2]["rewards"] == [1.0]


def test_a_full_service_refuses_with_retry_after_and_never_queues(server: Server) -> None:
    slow = {"candidates": [scripted(n, sleep=1.5) for n in range(4)]}
    answers: list[Any] = []
    first = threading.Thread(target=lambda: answers.append(server.call("POST", "/v1/verify", slow)))
    first.start()
    deadline = time.monotonic() + 10
    while server.call("GET", "/health", token=None)[2]["in_flight"] < 4:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    status, headers, body = server.call("POST", "/v1/verify", {"candidates": [scripted(9)]})
    assert status == 429 and int(headers["retry-after"]) >= 1, body
    assert "busy" in body["error"]
    first.join()
    assert answers[0][0] == 200 and answers[0][2]["rewards"] == [1.0] * 4
    assert server.call("POST", "/v1/verify", {"candidates": [scripted(9)]})[0] == 200
    metrics = server.call("GET", "/metrics")[2]
    refused = [line for line in metrics.splitlines() if line.startswith("factory_serve_refused")]
    assert refused and int(refused[0].split()[-1]) >= 1, metrics
    assert 'factory_serve_requests_total{path="/v1/verify",code="429"}' in metrics


def test_a_client_that_disconnects_and_a_worker_killed_mid_batch(server: Server) -> None:
    body = json.dumps({"candidates": [scripted(n, sleep=1) for n in range(3)]}).encode()
    host, port = server.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port))) as client:
        client.sendall(
            b"POST /v1/verify HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            + f"Authorization: Bearer {TOKEN}\r\nContent-Length: {len(body)}\r\n\r\n".encode()
            + body
        )
        time.sleep(0.3)  # then leave without reading the answer
    _settled(server)
    batch = [scripted(1), scripted(2, do="kill"), scripted(3, "b"), scripted(4, do="raise")]
    status, _, answer = server.call("POST", "/v1/verify", {"candidates": batch})
    assert status == 200
    assert [v["status"] for v in answer["verdicts"]] == ["accepted", "error", "rejected", "error"]
    assert answer["rewards"] == [1.0, None, 0.0, None]
    assert server.process.poll() is None
    assert server.call("POST", "/v1/verify", {"candidates": [scripted(5)]})[2]["rewards"] == [1.0]


def test_a_candidate_that_hangs_its_worker_times_out_alone(server: Server) -> None:
    batch = [scripted(1), scripted(2, do="hang"), scripted(3, "b")]
    status, _, answer = server.call("POST", "/v1/verify", {"candidates": batch})
    assert status == 200, answer
    assert [v["status"] for v in answer["verdicts"]] == ["accepted", "timeout", "rejected"]
    assert answer["rewards"] == [1.0, 0.0, 0.0]  # a timeout is the candidate's own: 0.0
    assert "within 3 s" in answer["verdicts"][1]["reason"], answer["verdicts"][1]
    _settled(server)


def test_a_public_address_without_a_token_does_not_start() -> None:
    done = subprocess.run(
        [str(FACTORY), "serve", "--host", "0.0.0.0", "--port", str(_free_port())],
        capture_output=True,
        text=True,
        timeout=60,
        env={k: v for k, v in os.environ.items() if k != "FACTORY_SERVE_TOKEN"},
    )
    assert done.returncode != 0 and "token" in done.stderr, done.stderr


@pytest.mark.docker
def test_run_code_answers_as_sandbox_fusion_and_leaves_no_container(
    tmp_path: Path, docker_engine: Any
) -> None:
    before = frozenset(sandbox_containers(docker_engine))
    served = _serve(tmp_path, "", "--sandbox", "docker", "--workers", "1")
    server = next(served)
    try:
        echo = {"code": "print(int(input()) * 2)", "stdin": "21\n", "language": "python"}
        status, _, body = server.call("POST", "/run_code", echo)
        assert status == 200, body
        assert body["status"] == "Success" and body["run_result"]["status"] == "Finished"
        assert body["run_result"]["stdout"] == "42\n" and body["run_result"]["return_code"] == 0
        failed = server.call("POST", "/run_code", {"code": "import sys; sys.exit(3)"})[2]
        assert failed["status"] == "Failed" and failed["run_result"]["return_code"] == 3
        forever = {"code": "while True: pass", "run_timeout": 1}
        looped = server.call("POST", "/run_code", forever)[2]
        assert looped["status"] == "Failed"
        assert looped["run_result"]["status"] == "TimeLimitExceeded"
        network = "import socket; socket.create_connection(('1.1.1.1', 53), timeout=2)"
        assert server.call("POST", "/run_code", {"code": network})[2]["status"] == "Failed"
        assert server.call("POST", "/run_code", {"code": "x", "language": "cpp"})[0] == 400
        assert server.call("POST", "/run_code", {"code": "x", "run_timeout": 999})[0] == 400
        code = {
            "id": "h1",
            "domain": "code",
            "problem": "add",
            "response": "```python\ndef add(a, b):\n    return a + b\n```",
            "tests": {"format": "assert", "code": "assert add(1, 2) == 3\n"},
        }
        wrong = {**code, "id": "h2", "response": code["response"].replace("+", "-")}
        result = server.call("POST", "/v1/verify", {"candidates": [code, wrong]})[2]
        assert result["rewards"] == [1.0, 0.0], result
    finally:
        next(served, None)  # stops the server
    deadline = time.monotonic() + 30
    while sandbox_containers(docker_engine, before):
        assert time.monotonic() < deadline, "sandbox containers outlived the server"
        time.sleep(0.5)


@pytest.fixture
def nodes_with_plugins(
    test_plugins: str, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> TwoNodes:
    """Two raylets whose workers import the scripted plugin: PYTHONPATH set before they start."""
    monkeypatch.setenv("PYTHONPATH", test_plugins)
    return request.getfixturevalue("two_nodes")


def test_on_a_two_node_ray_cluster_verdicts_come_from_both_nodes(
    tmp_path: Path, test_plugins: str, nodes_with_plugins: TwoNodes, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RAY_ADDRESS", nodes_with_plugins.address)
    served = _serve(tmp_path, test_plugins, "--ray", "--workers", "2", "--sandbox", "process")
    server = next(served)
    try:
        batch = [scripted(n, "a" if n % 3 else "b", sleep=0.1) for n in range(40)]
        batch[7] = {"id": "c7", "domain": "scripted"}
        status, _, body = server.call("POST", "/v1/verify", {"candidates": batch})
        assert status == 200, body
        expected = ["rejected" if n % 3 == 0 else "accepted" for n in range(40)]
        expected[7] = "error"
        assert [v["status"] for v in body["verdicts"]] == expected
        assert [v["id"] for v in body["verdicts"]] == [f"c{n}" for n in range(40)]
        assert "'response'" in body["verdicts"][7]["reason"]
        metrics = server.call("GET", "/metrics")[2]
        per_node = [
            int(line.split()[-1])
            for line in metrics.splitlines()
            if line.startswith("factory_serve_node_verdicts_total{")
        ]
        assert len(per_node) == 2 and min(per_node) > 0 and sum(per_node) == 40, metrics
        # A worker killed mid-batch: Ray restarts it, its batch is judged again one by one,
        # and only the candidate that killed it goes without a judgment.
        killing = [scripted(1), scripted(2, do="kill"), scripted(3, "b"), scripted(4)]
        status, _, body = server.call("POST", "/v1/verify", {"candidates": killing})
        assert status == 200, body
        assert [v["status"] for v in body["verdicts"]] == [
            "accepted",
            "error",
            "rejected",
            "accepted",
        ]
        assert "worker died" in body["verdicts"][1]["reason"]
        assert server.call("POST", "/v1/verify", {"candidates": [scripted(5)]})[2]["rewards"] == [
            1.0
        ]
    finally:
        next(served, None)  # stops the server
    # SIGTERM stops it in order (Ray's own handler would exit mid-loop, with a traceback);
    # uvicorn ends by raising the signal it caught again, for its parent to see.
    stderr = server.process.stderr.read() if server.process.stderr else ""
    assert server.process.returncode in (0, -signal.SIGTERM), stderr
    assert "Traceback" not in stderr and "SIGTERM received" not in stderr, stderr
