"""Running untrusted programs: a Docker backend, a local-process fallback, and the image build.

The sandbox knows nothing of verifiers: it runs files and a command under limits and reports
what happened.
"""

from __future__ import annotations

import atexit
import logging
from typing import Literal

from verified_factory.sandboxes.job import Job, Judge, RunResult, SandboxError
from verified_factory.sandboxes.pool import Sandbox

Backend = Literal["auto", "docker", "process"]
_log = logging.getLogger(__name__)
_warned = False


def open_sandbox(backend: Backend = "auto") -> Sandbox:
    """A sandbox pool; `auto` is Docker when an engine answers, else the process backend.

    The pool closes (and removes its containers) when the interpreter exits, if not before.
    """
    from verified_factory.sandboxes.docker_backend import connect, docker_sandbox
    from verified_factory.sandboxes.process_backend import process_sandbox

    if backend == "process":
        sandbox = process_sandbox()
    elif backend == "docker":
        sandbox = docker_sandbox(connect())
    else:
        try:
            client = connect()
        except SandboxError as err:
            _warn_once(
                f"no Docker engine ({err}); untrusted code runs in the WEAKER local-process sandbox"
            )
            sandbox = process_sandbox()
        else:
            sandbox = docker_sandbox(client)
    atexit.register(sandbox.close)
    return sandbox


def _warn_once(message: str) -> None:
    global _warned
    if not _warned:
        _warned = True
        _log.warning(message)


__all__ = ["Backend", "Job", "Judge", "RunResult", "Sandbox", "SandboxError", "open_sandbox"]
