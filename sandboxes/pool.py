"""A pool of supervisors: one per concurrent caller, recycled when they may be dirty."""

from __future__ import annotations

import threading
from collections.abc import Callable

from verified_factory.sandboxes.job import Job, RunResult, SandboxError
from verified_factory.sandboxes.session import Session

MAX_RUNS_PER_SESSION = 500


class Sandbox:
    """Runs jobs on supervisors made by `start_session`, each used by one caller at a time.

    A supervisor is replaced after `max_runs` jobs, at once when a job may have left it dirty (a
    leftover, or a limit hit mid-way), and when it fails (the failure is raised as SandboxError
    for the caller to retry).
    """

    def __init__(
        self,
        backend: str,
        start_session: Callable[[], Session],
        max_runs: int = MAX_RUNS_PER_SESSION,
    ) -> None:
        self.backend = backend
        self._start_session = start_session
        self._max_runs = max_runs
        self._idle: list[Session] = []
        self._lock = threading.Lock()
        self._closed = False

    def run(self, job: Job) -> RunResult:
        session = self._take()
        try:
            result = session.run(job)
        except SandboxError:
            session.close()
            raise
        if _may_be_dirty(result) or session.runs >= self._max_runs:
            session.close()
        else:
            self._give_back(session)
        return result

    @property
    def isolation(self) -> dict:
        """What keeps a program from its judge here, as a supervisor reports it (one is started
        if none has run yet)."""
        session = self._take()
        try:
            return dict(session.isolation)
        finally:
            self._give_back(session)

    def _take(self) -> Session:
        with self._lock:
            if self._closed:
                raise SandboxError("the sandbox is closed")
            if self._idle:
                return self._idle.pop()
        return self._start_session()

    def _give_back(self, session: Session) -> None:
        with self._lock:
            if not self._closed:
                self._idle.append(session)
                return
        session.close()

    def close(self) -> None:
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for session in idle:
            session.close()

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _may_be_dirty(result: RunResult) -> bool:
    return (
        bool(result.dirty) or result.timed_out or result.memory_exceeded or result.output_exceeded
    )
