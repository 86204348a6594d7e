"""The Docker backend: long-lived hardened containers, each running the supervisor as PID 1.

A container has no network, a read-only root, tmpfs work and scratch dirs, no-new-privileges,
and pids, memory and CPU limits. Its supervisor is root with only the capabilities it needs to
run each program and its judge as users of their own and to clean up after them (SETUID,
SETGID, CHOWN, DAC_OVERRIDE, FOWNER, KILL); programs run as 65534 with none. The host talks to the
supervisor over the container's attached stdin and stdout, so no file system is shared and a
remote engine works too. Every container carries the label `verified-factory.sandbox`; a pool
removes its own when it closes and strays of dead owners when it starts, and
`factory sandbox reap` removes what a crash left. A container's stdin closes when the process
that attached to it goes, whatever the way, so its supervisor ends and the engine removes it.
"""

from __future__ import annotations

import contextlib
import os
import socket
import struct
import time

import docker
import docker.errors

from verified_factory.sandboxes.image import SUPERVISOR_IN_IMAGE, image_exists, image_tag
from verified_factory.sandboxes.job import SandboxError
from verified_factory.sandboxes.pool import Sandbox
from verified_factory.sandboxes.session import Session

LABEL = "verified-factory.sandbox"
OWNER_LABEL = "verified-factory.owner"
SUPERVISOR_USER = "0:0"
SUPERVISOR_CAPABILITIES = ["SETUID", "SETGID", "CHOWN", "DAC_OVERRIDE", "FOWNER", "KILL"]
START_LIMIT_S = 60.0
CONTAINER_LIMITS = {
    "mem_limit": "2g",
    "memswap_limit": "2g",
    "pids_limit": 256,
    "nano_cpus": 1_000_000_000,
}


def connect() -> docker.DockerClient:
    """A client for the engine of DOCKER_HOST (or the local socket); SandboxError if none."""
    try:
        client = docker.from_env(timeout=30)
        client.ping()
    except Exception as err:  # the SDK raises several unrelated types for "no engine"
        raise SandboxError(f"no Docker engine answers: {err}") from err
    return client


def _owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _owner_is_gone(owner: str) -> bool:
    host, _, pid = owner.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False  # another machine's: not ours to judge
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def reap(client: docker.DockerClient, everything: bool = False) -> list[str]:
    """Remove sandbox containers whose owner process is gone (all of them with `everything`).

    Uses the low-level API: `containers.list()` inspects each container, which races with
    another process removing the same strays.
    """
    removed = []
    for summary in client.api.containers(all=True, filters={"label": LABEL}):
        owner = (summary.get("Labels") or {}).get(OWNER_LABEL, "")
        if everything or _owner_is_gone(owner):
            try:
                client.api.remove_container(summary["Id"], force=True)
            except docker.errors.NotFound:
                continue
            except docker.errors.APIError as err:
                if err.status_code == 409:  # the engine is removing it already (--rm)
                    continue
                raise
            removed.append(
                summary["Names"][0].lstrip("/") if summary.get("Names") else summary["Id"]
            )
    return removed


class DockerSession(Session):
    """One container and the supervisor inside it."""

    def __init__(self, client: docker.DockerClient, image: str) -> None:
        super().__init__()
        try:
            self._container = client.containers.create(
                image,
                command=["python3", "-u", SUPERVISOR_IN_IMAGE],
                stdin_open=True,
                detach=False,  # with stdin_open: StdinOnce, the stdin closes when we go
                auto_remove=True,
                user=SUPERVISOR_USER,
                network_mode="none",
                read_only=True,
                tmpfs={
                    "/work": "rw,exec,size=512m,mode=1777",
                    "/tmp": "rw,size=64m,mode=1777",
                    "/var/tmp": "rw,size=16m,mode=1777",
                },
                cap_drop=["ALL"],
                cap_add=SUPERVISOR_CAPABILITIES,
                security_opt=["no-new-privileges"],
                labels={LABEL: "1", OWNER_LABEL: _owner()},
                working_dir="/work",
                **CONTAINER_LIMITS,
            )
            self._socket = client.api.attach_socket(
                self._container.id, params={"stdin": 1, "stdout": 1, "stderr": 1, "stream": 1}
            )
            self._raw = self._socket._sock
            self._container.start()
        except docker.errors.DockerException as err:
            self.close()
            raise SandboxError(f"cannot start a sandbox container: {err}") from err
        self.wait_ready(START_LIMIT_S)

    def _send(self, data: bytes) -> None:
        try:
            self._raw.sendall(data)
        except OSError as err:
            raise SandboxError(f"the sandbox container is gone: {err}") from err

    def _receive(self, timeout_s: float) -> bytes:
        """The next stdout frame of the attach stream (stderr frames are skipped)."""
        deadline = time.monotonic() + timeout_s
        while True:
            header = self._read_exactly(8, deadline)
            if not header:
                return b""
            stream, size = struct.unpack(">BxxxL", header)
            payload = self._read_exactly(size, deadline)
            if stream == 1:
                return payload

    def _read_exactly(self, size: int, deadline: float) -> bytes:
        data = b""
        while len(data) < size:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise SandboxError("the supervisor did not answer in time")
            self._raw.settimeout(remaining)
            try:
                chunk = self._raw.recv(size - len(data))
            except TimeoutError as err:
                raise SandboxError("the supervisor did not answer in time") from err
            except OSError as err:
                raise SandboxError(f"the sandbox container is gone: {err}") from err
            if not chunk:
                return b""
            data += chunk
        return data

    def close(self) -> None:
        for closable in (getattr(self, "_socket", None),):
            if closable is not None:
                with contextlib.suppress(OSError):
                    closable.close()
        container = getattr(self, "_container", None)
        if container is not None:
            with contextlib.suppress(docker.errors.DockerException):
                container.remove(force=True)


def docker_sandbox(client: docker.DockerClient | None = None) -> Sandbox:
    """A pool of containers on the image of this version; it must be built already."""
    client = client or connect()
    image = image_tag()
    try:
        if not image_exists(client, image):
            raise SandboxError(
                f"the sandbox image {image} is not built: run `factory sandbox build`"
            )
        reap(client)
    except docker.errors.DockerException as err:
        raise SandboxError(f"the Docker engine failed: {err}") from err
    return Sandbox("docker", lambda: DockerSession(client, image))
