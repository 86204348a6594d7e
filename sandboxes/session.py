"""Talking to one supervisor: a JSON line out, a JSON line back, within a deadline."""

from __future__ import annotations

import hashlib
import json
import time
from abc import ABC, abstractmethod
from dataclasses import fields

from verified_factory.sandboxes.job import Job, RunResult, SandboxError

GRACE_S = 10.0
"""How long past a job's own limit the supervisor may take to answer before it counts as hung."""
DIGESTS_KEPT = 1024


class Session(ABC):
    """One running supervisor; subclasses move bytes, this class speaks the protocol."""

    def __init__(self) -> None:
        self._buffer = b""
        self.runs = 0
        self._sent_modules: set[str] = set()
        self._digests: dict[str, str] = {}
        self.isolation: dict = {}
        """What keeps a program from its judge, as the supervisor reported it when ready."""

    @abstractmethod
    def _send(self, data: bytes) -> None: ...

    @abstractmethod
    def _receive(self, timeout_s: float) -> bytes:
        """Some bytes of the supervisor's stdout (b"" at its end); SandboxError on timeout."""

    @abstractmethod
    def close(self) -> None:
        """Stop the supervisor and free what it holds."""

    def read_line(self, timeout_s: float) -> dict:
        deadline = time.monotonic() + timeout_s
        while b"\n" not in self._buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise SandboxError(f"the supervisor did not answer within {timeout_s:g} s")
            chunk = self._receive(remaining)
            if not chunk:
                raise SandboxError("the supervisor stopped (its sandbox died)")
            self._buffer += chunk
        line, self._buffer = self._buffer.split(b"\n", 1)
        try:
            return json.loads(line)
        except json.JSONDecodeError as err:
            raise SandboxError(
                f"the supervisor said something that is not JSON: {line[:200]!r}"
            ) from err

    def _wire(self, job: Job) -> dict:
        """The job as the supervisor reads it: a module it was sent before goes by its hash."""
        payload = _fields(job)
        payload["modules"] = {n: self._module(s) for n, s in job.modules.items()}
        if job.judge is not None:
            payload["judge"] = _fields(job.judge)
            payload["judge"]["modules"] = {n: self._module(s) for n, s in job.judge.modules.items()}
        return payload

    def _module(self, source: str) -> str | dict:
        digest = self._digests.get(source)
        if digest is None:  # the same few sources come with every job
            digest = hashlib.sha256(source.encode()).hexdigest()
            if len(self._digests) < DIGESTS_KEPT:
                self._digests[source] = digest
        if digest in self._sent_modules:
            return {"sha256": digest}
        self._sent_modules.add(digest)
        return source

    def wait_ready(self, timeout_s: float) -> None:
        """Wait for the supervisor's first line; on failure, free what was started, then raise."""
        try:
            ready = self.read_line(timeout_s)
            if not ready.get("ready"):
                raise SandboxError("the supervisor did not report ready")
            self.isolation = ready.get("isolation", {})
        except SandboxError:
            self.close()
            raise

    def run(self, job: Job) -> RunResult:
        self._send(json.dumps(self._wire(job)).encode() + b"\n")
        self.runs += 1
        return RunResult.from_wire(self.read_line(job.time_limit_s + GRACE_S))


def _fields(record: object) -> dict:
    """A dataclass's fields, not deep-copied (`asdict` would copy every module's source)."""
    return {f.name: getattr(record, f.name) for f in fields(record)}
