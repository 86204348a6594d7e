"""The local-process backend: the supervisor on this machine, in namespaces where allowed.

For machines without Docker. With `unshare` the supervisor is PID 1 of its own PID namespace,
with only a loopback network. Started as root, it stays root with only the capabilities it needs
to run each program (as `nobody`) and its judge (as 65533) as users of their own, as in Docker.
Otherwise it is root of a user namespace of one user, so judge and program share that user (the
supervisor says so in its `isolation`); without namespaces it is a plain child process and
isolation is weak: a program can read this machine's files.
"""

from __future__ import annotations

import functools
import os
import select
import shutil
import subprocess
import tempfile
from pathlib import Path

from sandboxes.job import SandboxError
from sandboxes.pool import Sandbox
from sandboxes.session import Session

SUPERVISOR = Path(__file__).with_name("supervisor.py")
NOBODY = 65534
SUPERVISOR_CAPABILITIES = "+setuid,+setgid,+chown,+dac_override,+fowner,+kill"
START_LIMIT_S = 30.0


@functools.cache
def namespace_prefix() -> tuple[str, ...]:
    """The command that puts the supervisor into its own namespaces, or () when none works."""
    namespaces = ("unshare", "--net", "--pid", "--fork", "--mount-proc")
    unshare = ("unshare", "--user", "--map-root-user", "--net", "--pid", "--fork", "--mount-proc")
    candidates = []
    if os.geteuid() == 0:
        candidates.append(
            (*namespaces, "setpriv", f"--bounding-set=-all,{SUPERVISOR_CAPABILITIES}")
        )
        drop = ("setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups")
        candidates.append(drop + unshare)
    candidates.append(unshare)
    for prefix in candidates:
        if shutil.which(prefix[0]) is None:
            continue
        probe = subprocess.run([*prefix, "true"], capture_output=True, check=False, timeout=10)
        if probe.returncode == 0:
            return prefix
    return ()


def python_for_sandbox() -> str:
    """A python3 that the sandbox user can run: the system's, not one under /root."""
    for candidate in ("/usr/bin/python3", "/usr/local/bin/python3"):
        if os.access(candidate, os.X_OK):
            return candidate
    found = shutil.which("python3")
    if found is None:
        raise SandboxError("no python3 found for the process sandbox")
    return found


class ProcessSession(Session):
    def __init__(self) -> None:
        super().__init__()
        self._work = tempfile.mkdtemp(prefix="vf-sandbox-")
        os.chmod(self._work, 0o1777)
        env = {
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            "SANDBOX_WORK_ROOT": self._work,
            "SANDBOX_SCRATCH_DIRS": "",  # this machine's /tmp is not ours to police
            "LANG": "C.UTF-8",
        }
        argv = [*namespace_prefix(), python_for_sandbox(), "-u", str(SUPERVISOR)]
        try:
            self._process = subprocess.Popen(
                argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, cwd=self._work
            )
        except OSError as err:
            shutil.rmtree(self._work, ignore_errors=True)
            raise SandboxError(f"cannot start the process sandbox: {err}") from err
        self.wait_ready(START_LIMIT_S)

    def _send(self, data: bytes) -> None:
        try:
            assert self._process.stdin is not None
            self._process.stdin.write(data)
            self._process.stdin.flush()
        except OSError as err:
            raise SandboxError(f"the process sandbox is gone: {err}") from err

    def _receive(self, timeout_s: float) -> bytes:
        assert self._process.stdout is not None
        ready, _, _ = select.select([self._process.stdout], [], [], timeout_s)
        if not ready:
            raise SandboxError(f"the supervisor did not answer within {timeout_s:g} s")
        return os.read(self._process.stdout.fileno(), 65536)

    def close(self) -> None:
        self._process.kill()
        self._process.wait()
        for stream in (self._process.stdin, self._process.stdout):
            if stream is not None:
                stream.close()
        shutil.rmtree(self._work, ignore_errors=True)


def process_sandbox() -> Sandbox:
    return Sandbox("process", ProcessSession)
