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
import shlex
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from verified_factory.sandboxes.job import SandboxError
from verified_factory.sandboxes.pool import Sandbox
from verified_factory.sandboxes.session import Session

SUPERVISOR = Path(__file__).with_name("inside") / "supervisor.py"
"""Stdlib only, run by file name inside the sandbox: in a folder of its own, never imported."""
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
        candidates.append(namespaces)
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


def python_for_sandbox(prefix: tuple[str, ...]) -> str:
    """The interpreter the supervisor, judges and programs run on.

    This one, whose environment holds what the harness needs (pytest, Hypothesis) wherever it
    lives: the sandbox's mount namespace shows its folders again (`interpreter_folders`). Only
    when the supervisor starts as another user before any namespace (`setpriv` first), which
    cannot reach a private folder, is it the system's python3.
    """
    if "setpriv" not in prefix[:1]:
        return sys.executable
    for candidate in ("/usr/bin/python3", "/usr/local/bin/python3"):
        if os.access(candidate, os.X_OK):
            return candidate
    found = shutil.which("python3")
    if found is None:
        raise SandboxError("no python3 found for the process sandbox")
    return found


def interpreter_folders(python: str, covered: list[str]) -> list[str]:
    """The folders of `python`'s installation (its environment and the base it was made from)
    that lie in a folder the sandbox covers: shown again there, read-only."""
    if python != sys.executable:
        return []
    own = sorted({os.path.realpath(p) for p in (sys.prefix, sys.base_prefix)}, key=len)
    outermost = [p for i, p in enumerate(own) if not any(_within(p, o) for o in own[:i])]
    return [p for p in outermost if any(_within(p, d) for d in covered)]


def _within(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip("/") + "/")


HIDDEN = ("/home", "/root", "/srv", "/mnt", "/media", "/opt", "/work", "/run/user")
"""Where this machine's users keep their files: empty in the sandbox's mount namespace."""
SCRATCH = ("/tmp", "/var/tmp", "/dev/shm")
"""Fresh and writable for everyone in the sandbox's mount namespace."""
_HIDE = """
set -e
supervisor=$(cat "$1")  # the project may live under a directory about to be hidden
shift
# The interpreter's folders ($VF_SHOWN) are bound into a staging tmpfs ($VF_STAGE, a folder
# hidden anyway) before anything is hidden, since they may live under /tmp or a private folder,
# and bound back read-only once the rest is hidden.
n=0
if [ -n "$VF_SHOWN" ]; then
    mount -t tmpfs -o mode=0700,size=1m vf-stage "$VF_STAGE"
    for dir in $VF_SHOWN; do
        n=$((n + 1)); mkdir "$VF_STAGE/$n"; mount --bind "$dir" "$VF_STAGE/$n"
    done
fi
for dir in $VF_SCRATCH; do
    if [ -d "$dir" ]; then mount -t tmpfs -o mode=1777,size=1g vf-scratch "$dir"; fi
done
mkdir -m 0755 /tmp/.vf
printf '%s\\n' "$supervisor" > /tmp/.vf/supervisor.py
for dir in $VF_HIDDEN; do
    if [ -d "$dir" ] && [ "$dir" != "$VF_STAGE" ]; then
        mount -t tmpfs -o mode=0755,size=1m vf-hidden "$dir"
    fi
done
n=0
for dir in $VF_SHOWN; do
    n=$((n + 1)); mkdir -p "$dir"
    mount --bind "$VF_STAGE/$n" "$dir"
    mount -o remount,bind,ro "$dir"
    umount "$VF_STAGE/$n"
done
if [ -n "$VF_SHOWN" ]; then
    umount "$VF_STAGE"
    mount -t tmpfs -o mode=0755,size=1m vf-hidden "$VF_STAGE"
fi
unset VF_SCRATCH VF_HIDDEN VF_SHOWN VF_STAGE
exec "$@" /tmp/.vf/supervisor.py
"""


def supervisor_command() -> tuple[list[str], dict[str, str]]:
    """How to start the supervisor here, and the settings it reads from its environment.

    In namespaces, fresh scratch directories (/tmp, /var/tmp, /dev/shm) and empty users'
    directories (HIDDEN, the project, $HOME) are mounted first, in the sandbox's own mount
    namespace: programs see this machine's system files but not its users' (a test file
    holding the expected output, say). Started by root, the supervisor keeps only the
    capabilities it needs.
    """
    prefix = namespace_prefix()
    python = python_for_sandbox(prefix)
    if not prefix:  # no namespaces: a plain child, this machine's /tmp is not ours to police
        work = tempfile.mkdtemp(prefix="vf-sandbox-")
        os.chmod(work, 0o1777)
        return [python, "-u", str(SUPERVISOR)], {"SANDBOX_WORK_ROOT": work}
    drop = (
        () if "--user" in prefix else ("setpriv", f"--bounding-set=-all,{SUPERVISOR_CAPABILITIES}")
    )
    project = str(SUPERVISOR.parents[2])
    system = project.startswith(("/usr/", "/lib", "/bin", "/etc"))  # installed beside python3's own
    hidden = [*HIDDEN, os.path.expanduser("~"), *([] if system else [project])]
    covered = [*hidden, *SCRATCH]
    shown = [d for d in interpreter_folders(python, covered) if " " not in d]
    command = [*prefix, "sh", "-c", _HIDE, "vf-hide", str(SUPERVISOR), *drop, python, "-u"]
    settings = {
        "SANDBOX_WORK_ROOT": "/tmp/.vf/work",
        "SANDBOX_SCRATCH_DIRS": ":".join(SCRATCH),
        "VF_SCRATCH": " ".join(SCRATCH),
        "VF_HIDDEN": " ".join(shlex.quote(d) for d in hidden if " " not in d),
        "VF_SHOWN": " ".join(shown),
        "VF_STAGE": _stage(shown) if shown else "",
    }
    return command, settings


def _stage(shown: list[str]) -> str:
    """A folder the sandbox hides anyway, above none of `shown`, to stage them in."""
    for folder in HIDDEN:
        if os.path.isdir(folder) and not any(d.startswith(folder + "/") for d in shown):
            return folder
    raise SandboxError(f"no folder to stage {', '.join(shown)} in: none of {HIDDEN} is free")


class ProcessSession(Session):
    def __init__(self) -> None:
        super().__init__()
        argv, settings = supervisor_command()
        self._work = settings["SANDBOX_WORK_ROOT"] if not namespace_prefix() else None
        env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", **settings}
        try:
            self._process = subprocess.Popen(
                argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, cwd="/"
            )
        except OSError as err:
            self._remove_work()
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
        self._remove_work()

    def _remove_work(self) -> None:
        if self._work is not None:  # in namespaces the work root went with the mount
            shutil.rmtree(self._work, ignore_errors=True)


def process_sandbox() -> Sandbox:
    return Sandbox("process", ProcessSession)
