"""`factory sandbox doctor`: what works, in plain words, each limit tried for real."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from verified_factory.sandboxes.job import Job, Judge, RunResult, SandboxError
from verified_factory.sandboxes.pool import Sandbox

_REACH_EVERY_PROCESS = """
import os
reached = []
for pid in sorted(int(p) for p in os.listdir('/proc') if p.isdigit()):
    if pid == os.getpid():
        continue
    for name in ('mem', 'fd/1', 'fd/3', 'fd/4', 'environ'):
        try:
            with open(f'/proc/{pid}/{name}', 'rb' if name == 'environ' else 'wb'):
                reached.append(f'{pid}/{name}')
        except OSError:
            pass
    try:
        os.kill(pid, 0)
        reached.append(f'signal {pid}')
    except OSError:
        pass
print(reached)
os.write(4, b'done\\n')
"""
_JUDGE = """
import os
print('intact' if os.read(3, 100) == b'done\\n' else 'lost')
"""


@dataclass(frozen=True)
class Probe:
    name: str
    code: str
    holds: Callable[[RunResult], bool]
    promise: str
    backends: tuple[str, ...] = ("docker", "process")
    time_limit_s: float = 2.0
    memory_limit_mb: int = 256
    judged: bool = False
    """Run beside a judge that reports whether it was left alone."""


_USERS_FILES = """
import os, sys
own = {os.path.realpath(p) for p in (sys.prefix, sys.base_prefix)}
found = []
for top in ('/home', '/root', '/srv', '/mnt', '/opt', '/work', '/var/tmp'):
    for folder, inner, files in os.walk(top):
        if folder in own:
            inner[:] = []
            try:
                open(os.path.join(folder, 'vf-probe'), 'w')
                found.append(folder + ' is writable')
            except OSError:
                pass
        else:
            found += [os.path.join(folder, name) for name in files]
print(found)
"""
"""Every file under the users' folders but in the interpreter's own (shown read-only)."""


PROBES = (
    Probe(
        "runs a program",
        "print('ok')",
        lambda r: r.exit_code == 0 and r.stdout == "ok\n",
        "a Python program runs and its output comes back",
    ),
    Probe(
        "no network",
        "print(sorted(l.split(':')[0].strip() for l in open('/proc/net/dev').readlines()[2:]))",
        lambda r: r.stdout.strip() == "['lo']",
        "the only network interface is loopback",
    ),
    Probe(
        "not root",
        "import os; print(os.getuid())",
        lambda r: r.stdout.strip() not in ("", "0"),
        "programs run as an unprivileged user",
        backends=("docker",),
    ),
    Probe(
        "judge out of reach",
        _REACH_EVERY_PROCESS,
        lambda r: r.stdout.strip() == "[]" and (r.report or "").strip() == "intact",
        "a program can neither open the memory or descriptors of any other process in its "
        "sandbox (its judge, the supervisor) nor signal one, and its judge reports untouched",
        judged=True,
    ),
    Probe(
        "users' files hidden",
        _USERS_FILES,
        lambda r: r.stdout.strip() == "[]",
        "this machine's users' directories and scratch space are empty in the sandbox, but for "
        "the sandbox's own Python installation, which is read-only",
        backends=("process",),
    ),
    Probe(
        "read-only root",
        "open('/etc/probe', 'w')",
        lambda r: r.exit_code != 0 and "Read-only file system" in r.stderr,
        "the root file system cannot be written",
        backends=("docker",),
    ),
    Probe(
        "wall-clock limit",
        "import time; time.sleep(60)",
        lambda r: r.timed_out,
        "a sleeping program is stopped at its time limit",
    ),
    Probe(
        "CPU limit",
        "while True: pass",
        lambda r: r.timed_out,
        "a busy loop is stopped at its time limit",
    ),
    Probe(
        "memory limit",
        "x = bytearray(1024 ** 3)",
        lambda r: r.memory_exceeded,
        "a program allocating past its memory limit is stopped and reported",
    ),
    Probe(
        "output limit",
        "import sys\nwhile True: sys.stdout.write('x' * 65536)",
        lambda r: r.output_exceeded and len(r.stdout) <= 1024 * 1024,
        "a program flooding its output is stopped, and the output is capped",
    ),
    Probe(
        "process limit",
        "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass",
        lambda r: r.timed_out or r.exit_code is not None,
        "a fork bomb is contained and cleaned up",
    ),
    Probe(
        "no leftovers",
        "import os, time\nif os.fork() == 0:\n    os.setsid(); time.sleep(60)",
        lambda r: bool(r.dirty),
        "a process that outlives its program is found and killed",
    ),
)


def diagnose(sandbox: Sandbox) -> Iterator[tuple[str, bool, str]]:
    """(check, passed, what it means) for every probe that applies to this backend."""
    for probe in PROBES:
        if sandbox.backend not in probe.backends:
            continue
        judge = Judge(argv=["python3", "judge.py"], files={"judge.py": _JUDGE})
        job = Job(
            argv=["python3", "probe.py"],
            files={"probe.py": probe.code},
            time_limit_s=probe.time_limit_s,
            memory_limit_mb=probe.memory_limit_mb,
            judge=judge if probe.judged else None,
        )
        try:
            result = sandbox.run(job)
        except SandboxError as err:
            yield probe.name, False, f"the sandbox failed: {err}"
            continue
        yield probe.name, probe.holds(result), probe.promise
