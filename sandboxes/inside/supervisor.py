"""The sandbox supervisor: runs untrusted programs one at a time, each under hard limits.

Stdlib only: it runs on the sandbox image's python3, not in the project's environment. It is the
main process of its sandbox (PID 1 of the container or of the process backend's PID namespace),
so a program that kills every process it can reach cannot kill it: the kernel drops signals
sent to a namespace's init from inside it, unless init handles them, and this one handles none.

Protocol, one JSON object per line: it prints {"ready": true, "isolation": {...}}, then for each
job read on stdin
  {"files": {name: text}, "argv": [...], "stdin": str, "time_limit_s": float,
   "memory_limit_mb": int, "output_limit_bytes": int, "warm": bool,
   "modules": {name: text | {"sha256": hex}},
   "judge": null | {"argv", "files", "stdin", "modules"}}
prints one result
  {"exit_code", "signal", "timed_out", "memory_exceeded", "output_exceeded", "stdout", "stderr",
   "wall_s", "cpu_s", "dirty": [reason, ...], "report", "judge_stderr"}

Two parties. A job may name a `judge`: a trusted program that talks to the untrusted one over a
private channel and whose stdout is the run's `report`. They never share a process, and when
this supervisor runs as root they never share a user either: the judge and the program run as
two users of this sandbox's own (ids picked at random from 100000 up when it starts, so no
other sandbox's processes count against their process limit), and this supervisor as root, so
the kernel refuses the program any
access to the others' memory (`/proc/PID/mem`, ptrace), file descriptors (`/proc/PID/fd`),
signals and files. The program's fds are 0-2 (stdin, stdout, stderr) and, with a judge, 3 (what
the judge sends) and 4 (what it answers); the judge's are the same, the other way round. The
program's stdout and stderr never reach the report.

A clean zygote. Every party is forked from a zygote that this supervisor forks at start,
before it reads any job, so no program is a copy of a process that ever held a job's secrets
(a judge's files, a nonce) in its memory. The zygote waits for its children and tells this
supervisor each one's exit code; this supervisor never forks during a run (a fork would make
every page it writes afterwards a copy), and orphans come back to it (init, or a child
subreaper) to be waited for.

A program runs in a new session (process group) in a fresh, empty work directory, with rlimits
on address space, CPU time, file size, processes and core dumps; at its wall limit, at the
output limit, or when it (or its judge) ends, every process it left behind is killed. `dirty`
says why the sandbox should be replaced (a process outlived its run, a file was left outside
the work dir).

With `warm`, `argv` is `python3 [flags] script.py` and the script runs in a fork of an
already-started interpreter (the zygote) instead of a new python3: about 1 ms instead of 20.
The child is set up as a new process would be (session, user, rlimits, work dir, environment,
pipes, argv, sys.path without this file's directory) before the script runs. The job's
`modules` (Python files of the caller's own, never a program's) are compiled once per distinct
source outside the sandbox's users and imported from memory; the script may be one of them.
Each source crosses once, from the host to this supervisor and from it to the zygote; after
that only its hash.
"""

from __future__ import annotations

import ast  # noqa: F401  (preloaded for warm runs: the judge and solver import them)
import collections  # noqa: F401
import contextlib
import copy  # noqa: F401
import ctypes
import dataclasses  # noqa: F401
import datetime  # noqa: F401
import decimal  # noqa: F401
import fcntl
import fractions  # noqa: F401
import gc
import hashlib
import importlib.util
import inspect  # noqa: F401
import io
import json
import linecache
import math  # noqa: F401
import os
import random
import resource
import selectors
import shutil
import signal
import socket
import sys
import tempfile
import time
import traceback
import types
import typing  # noqa: F401

WORK_ROOT = os.environ.get("SANDBOX_WORK_ROOT", "/work")
SCRATCH_DIRS = tuple(
    d for d in os.environ.get("SANDBOX_SCRATCH_DIRS", "/tmp:/var/tmp:/dev/shm").split(":") if d
)
USER_IDS = (100_000, 2**31 - 2)
PROGRAM_UID = JUDGE_UID = 65534
"""Set at start: the program's user and the judge's (one more), when users can be switched."""
MAX_PROCESSES = 64
MAX_FILE_BYTES = 64 * 1024 * 1024
REPORT_LIMIT_BYTES = 64 * 1024 * 1024
JUDGE_STDERR_LIMIT = 64 * 1024
READ_CHUNK = 65536
EXIT_DRAIN_S = 0.1
_PR_SET_DUMPABLE = 4
_PR_SET_NO_NEW_PRIVS = 38
_PR_SET_CHILD_SUBREAPER = 36
_LIBC = ctypes.CDLL(None, use_errno=True)


def _prctl(option: int, value: int) -> bool:
    return _LIBC.prctl(option, value, 0, 0, 0) == 0


def _pick_users() -> bool:
    """Pick this sandbox's two users; False when this process may not switch users (not root)."""
    global PROGRAM_UID, JUDGE_UID
    if os.geteuid() != 0:
        return False
    PROGRAM_UID = random.SystemRandom().randrange(*USER_IDS, 2)
    JUDGE_UID = PROGRAM_UID + 1
    pid = os.fork()
    if pid == 0:
        try:
            _become(PROGRAM_UID)
            os._exit(0 if os.getuid() == PROGRAM_UID else 1)
        except BaseException:
            os._exit(1)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status) == 0


def _become(uid: int) -> None:
    os.setgroups([])
    os.setresgid(uid, uid, uid)
    os.setresuid(uid, uid, uid)


class _CapHeader(ctypes.Structure):
    _fields_ = (("version", ctypes.c_uint32), ("pid", ctypes.c_int))


class _CapData(ctypes.Structure):
    _fields_ = (
        ("effective", ctypes.c_uint32),
        ("permitted", ctypes.c_uint32),
        ("inheritable", ctypes.c_uint32),
    )


def _drop_capabilities() -> None:
    """No capability left, and none to gain by exec (for parties that cannot change user)."""
    _prctl(_PR_SET_NO_NEW_PRIVS, 1)
    header = _CapHeader(0x20080522, 0)  # _LINUX_CAPABILITY_VERSION_3
    _LIBC.capset(ctypes.byref(header), ctypes.byref((_CapData * 2)()))


SEPARATE_USERS = False
"""Set at start: whether judge and program run as users of their own."""


def isolation() -> dict:
    """What keeps a program away from its judge and this supervisor, for the ready line."""
    if SEPARATE_USERS:
        return {
            "separate_users": True,
            "supervisor_uid": os.getuid(),
            "judge_uid": JUDGE_UID,
            "program_uid": PROGRAM_UID,
        }
    return {
        "separate_users": False,
        "supervisor_uid": os.getuid(),
        "judge_uid": os.getuid(),
        "program_uid": os.getuid(),
        "weaker": "judge and program share a user (the supervisor is not root): the judge is "
        "non-dumpable and both lose every capability, so the program cannot read or write the "
        "judge's memory or descriptors, but it can signal it (which ends in no report, a failure)",
    }


def _limits(memory_limit_mb: int, time_limit_s: float) -> None:
    memory = memory_limit_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    cpu = int(time_limit_s) + 1
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    resource.setrlimit(resource.RLIMIT_FSIZE, (MAX_FILE_BYTES, MAX_FILE_BYTES))
    resource.setrlimit(resource.RLIMIT_NPROC, (MAX_PROCESSES, MAX_PROCESSES))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


# --- starting a party ----------------------------------------------------------------------------


def _start_party(request: dict, fds: list, modules: dict) -> None:
    """In a fresh child: become the party `request` describes, then run it. Never returns."""
    status = 1
    try:
        os.setsid()
        high = [fcntl.fcntl(fd, fcntl.F_DUPFD, 64) for fd in fds]  # clear of the targets 0..n-1
        for target, fd in enumerate(high):
            os.dup2(fd, target)
        os.closerange(len(high), resource.getrlimit(resource.RLIMIT_NOFILE)[0])
        if SEPARATE_USERS:
            _become(request["uid"])
        else:
            _drop_capabilities()
        if request["judge"]:
            _prctl(_PR_SET_DUMPABLE, 0)  # no /proc/PID/mem or fd for anyone but root
        if request["cpu"] is not None:
            with contextlib.suppress(OSError):  # a CPU outside this sandbox's set
                os.sched_setaffinity(0, {request["cpu"]})
        _limits(request["memory_limit_mb"], request["time_limit_s"])
        os.chdir(request["workdir"])
        if not request["warm"]:
            os.execvpe(request["argv"][0], request["argv"], request["env"])
        status = _run_warm(request, modules)
    except SystemExit as exit_:
        status = exit_.code if isinstance(exit_.code, int) else 1
    except BaseException:
        with contextlib.suppress(BaseException):
            traceback.print_exc()
    finally:
        os._exit(status)


def _run_warm(request: dict, modules: dict) -> int:
    """Run the party's script in this (forked) interpreter as a new python3 would.

    `modules` (name: (file name, code, lines)) are imported from their compiled code, and
    `linecache` knows their lines (tracebacks, `inspect.getsource`). A script that is not one of
    them is compiled here, under the party's own user and limits.
    """
    workdir, script = request["workdir"], request["argv"][-1]
    os.environ.clear()
    os.environ.update(request["env"])
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGCHLD):
        signal.signal(signum, signal.SIG_DFL)
    sys.stdin = io.TextIOWrapper(io.FileIO(0, "r", closefd=False), encoding="utf-8")
    sys.stdout = io.TextIOWrapper(io.FileIO(1, "w", closefd=False), encoding="utf-8")
    sys.stderr = io.TextIOWrapper(
        io.FileIO(2, "w", closefd=False), encoding="utf-8", line_buffering=True
    )
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path[:] = [workdir] + [p for p in sys.path if p and p not in (here, os.getcwd())]
    for file_name, _, lines in modules.values():
        linecache.cache[file_name] = (sum(map(len, lines)), None, lines, file_name)
    sys.meta_path.insert(0, _Precompiled(modules, workdir))
    path = os.path.join(workdir, script)
    sys.argv = [path]
    main = types.ModuleType("__main__")
    main.__file__ = path
    sys.modules["__main__"] = main
    status = 0
    try:
        name = script[: -len(".py")]
        if name in modules:
            code = modules[name][1]
        else:
            with open(path, "rb") as handle:
                code = compile(handle.read(), path, "exec")
        exec(code, main.__dict__)
    except SystemExit as exit_:
        if exit_.code is None or isinstance(exit_.code, int):
            status = exit_.code or 0
        else:
            print(exit_.code, file=sys.stderr)
            status = 1
    except BaseException:
        traceback.print_exc()
        status = 1
    finally:
        with contextlib.suppress(BaseException):
            sys.stdout.flush()
            sys.stderr.flush()
    return status


class _Precompiled:
    """Imports the job's modules from the code compiled before the fork."""

    def __init__(self, modules: dict, workdir: str) -> None:
        self._modules = modules
        self._workdir = workdir

    def find_spec(self, name: str, path=None, target=None):
        if name not in self._modules:
            return None
        return importlib.util.spec_from_loader(name, self, origin=self._modules[name][0])

    def create_module(self, spec):
        return None

    def exec_module(self, module) -> None:
        file_name, code, _ = self._modules[module.__name__]
        module.__file__ = os.path.join(self._workdir, file_name)
        exec(code, module.__dict__)


CACHE_ENTRIES = 1024
"""How many distinct modules the supervisor and the zygote each keep (the same rule on both
sides: a module is kept while fewer are, so both always know which ones the zygote holds)."""
_COMPILED: dict = {}


def _precompiled(modules: dict) -> dict:
    """name: (file name, code, lines) of the job's modules ({file name: {"sha256", "source"}},
    the source only the first time), each compiled once: the caller's own files, never a
    program's, which are compiled in the program's process. The code's file name is the bare
    name, under which `linecache` holds its lines in the child."""
    compiled = {}
    for file_name, module in modules.items():
        key = (file_name, module["sha256"])
        entry = _COMPILED.get(key)
        if entry is None:
            if "source" not in module:
                raise ValueError(f"module {file_name!r} was never sent to the zygote")
            entry = (_compile(module["source"], file_name), module["source"].splitlines(True))
            if len(_COMPILED) < CACHE_ENTRIES:
                _COMPILED[key] = entry
        compiled[file_name[: -len(".py")]] = (file_name, *entry)
    return compiled


def _compile(source: str, file_name: str):
    try:
        return compile(source, file_name, "exec")
    except (SyntaxError, ValueError) as err:
        return compile(f"raise {type(err).__name__}({str(err)!r})", file_name, "exec")


class Zygote:
    """The forker of every party: a fork of the supervisor made before any job was read.

    It is sent the parties of a run and their pipes (SCM_RIGHTS), forks each directly and
    answers their pids; it waits for its children and sends each one's exit code when it ends.
    The supervisor itself never forks during a run, so none of its pages are shared with a
    party (a fork would make every page it writes afterwards a copy).
    """

    def __init__(self) -> None:
        self._socket, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.pid = os.fork()
        if self.pid == 0:
            self._socket.close()
            _zygote_loop(theirs)
        theirs.close()
        self._sent: set = set()
        self.exited: dict = {}
        """pid: exit code (negative: the signal) of every party that ended and was not asked for."""

    def fileno(self) -> int:
        return self._socket.fileno()

    def stop(self) -> None:
        """End the zygote (its socket closes) and wait for it."""
        self._socket.close()
        os.waitpid(self.pid, 0)

    def start(self, roles: list, fds: list) -> list:
        """Fork one party per role, the i-th with `fds[i]` as its 0, 1, 2, ...; their pids."""
        roles = [{**role, "modules": self._modules(role["modules"])} for role in roles]
        message = json.dumps({"roles": roles, "fds": [len(f) for f in fds]}).encode()
        socket.send_fds(self._socket, [message], [fd for group in fds for fd in group])
        while True:
            answer = self._receive(None)
            if answer is None:
                raise OSError("the zygote is gone")
            if "error" in answer:
                raise OSError(answer["error"])
            if "pids" in answer:
                return answer["pids"]

    def _modules(self, modules: dict) -> dict:
        """{file name: (sha256, source)} as sent: the source only where the zygote lacks it."""
        sent = {}
        for file_name, (digest, source) in modules.items():
            sent[file_name] = {"sha256": digest}
            if (file_name, digest) not in self._sent:
                sent[file_name]["source"] = source
                if len(self._sent) < CACHE_ENTRIES:
                    self._sent.add((file_name, digest))
        return sent

    def collect(self, timeout: float | None) -> bool:
        """Take the exit notices that arrive within `timeout`; False once the zygote is gone."""
        return self._receive(timeout) is not None

    def _receive(self, timeout: float | None):
        """The next message but an exit notice, which is filed in `exited`; {} on a timeout."""
        self._socket.settimeout(timeout)
        try:
            data = self._socket.recv(65536)
        except (TimeoutError, BlockingIOError):
            return {}
        finally:
            self._socket.settimeout(None)
        if not data:
            return None
        message = json.loads(data)
        if "exited" in message:
            self.exited[message["exited"]] = message["code"]
            return {}
        return message


def _zygote_loop(sock: socket.socket) -> None:
    """Serve one run at a time: fork its parties, then wait for each and say how it ended.

    While a run's parties live this process does as little as it can: every page it writes
    that a live child still shares is copied then."""
    _prctl(_PR_SET_DUMPABLE, 0)
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):  # never hold the supervisor's pipes to the host
        os.dup2(null, fd)
    os.close(null)
    while True:
        try:
            data, fds, _, _ = socket.recv_fds(sock, 1 << 20, 16)
        except OSError:
            os._exit(0)
        if not data:
            os._exit(0)
        try:
            pids = _fork_parties(json.loads(data), fds)
            answer = {"pids": pids}
        except Exception as err:
            pids, answer = [], {"error": f"{type(err).__name__}: {err}"}
        for fd in fds:
            os.close(fd)
        _send_or_exit(sock, answer)
        for _ in pids:  # only this run's parties are children of this process
            pid, status = os.wait()
            _send_or_exit(sock, {"exited": pid, "code": os.waitstatus_to_exitcode(status)})


def _send_or_exit(sock: socket.socket, message: dict) -> None:
    try:
        sock.send(json.dumps(message).encode())
    except OSError:
        os._exit(0)


def _fork_parties(request: dict, fds: list) -> list:
    pids = []
    for role, count in zip(request["roles"], request["fds"], strict=True):
        mine, fds = fds[:count], fds[count:]
        modules = _precompiled(role["modules"])
        try:
            pid = os.fork()
        except OSError:
            for started in pids:  # a run starts whole or not at all
                os.kill(started, signal.SIGKILL)
                os.waitpid(started, 0)
            raise
        if pid == 0:
            _start_party(role, mine, modules)
        pids.append(pid)
    return pids


class Party:
    """A started party: its pipes, and Popen's small interface over the zygote's exit notices."""

    def __init__(self, pid: int, zygote: Zygote, stdin, stdout, stderr) -> None:
        self.pid = pid
        self.stdin, self.stdout, self.stderr = stdin, stdout, stderr
        self.returncode = None
        self._zygote = zygote

    def poll(self):
        return self.wait(0.0)

    def wait(self, timeout: float | None = None):
        """The exit code, waiting up to `timeout` (None: for ever); None if still running."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.returncode is None:
            if self.pid in self._zygote.exited:
                self.returncode = self._zygote.exited.pop(self.pid)
                break
            remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
            if not self._zygote.collect(remaining):
                self.returncode = -signal.SIGKILL  # the zygote is gone, and its children
            elif remaining == 0.0 and self.pid not in self._zygote.exited:
                break
        return self.returncode

    def kill(self) -> None:
        with contextlib.suppress(OSError):
            os.killpg(self.pid, signal.SIGKILL)
        with contextlib.suppress(OSError):
            os.kill(self.pid, signal.SIGKILL)


def _start(roles: list, zygote: Zygote, channel: list) -> list:
    """Start the parties of `roles`, each with fresh stdin/stdout/stderr pipes and the fds of
    `channel[i]` as its 3, 4, ... (the caller closes those)."""
    ours, theirs = [], []
    for extra in channel:
        stdin_r, stdin_w = os.pipe()
        stdout_r, stdout_w = os.pipe()
        stderr_r, stderr_w = os.pipe()
        ours.append((stdin_w, stdout_r, stderr_r))
        theirs.append([stdin_r, stdout_w, stderr_w, *extra])
    try:
        pids = zygote.start(roles, theirs)
    except OSError:
        for fd in (fd for group in ours for fd in group):
            os.close(fd)
        raise
    finally:
        for group in theirs:
            for fd in group[:3]:
                os.close(fd)
    return [
        Party(
            pid,
            zygote,
            os.fdopen(stdin_w, "wb", buffering=0),
            os.fdopen(stdout_r, "rb", buffering=0),
            os.fdopen(stderr_r, "rb", buffering=0),
        )
        for pid, (stdin_w, stdout_r, stderr_r) in zip(pids, ours, strict=True)
    ]


# --- the run -------------------------------------------------------------------------------------


def _other_processes(keep: tuple) -> list[int]:
    """Every process in this PID namespace but the supervisor and `keep` (the zygote)."""
    skip = {os.getpid(), *keep}
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit() and int(entry) not in skip:
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    state = stat.read().rsplit(")", 1)[1].split()[0]
            except OSError:
                continue
            if state != "Z":
                pids.append(int(entry))
    return pids


def _kill_all(groups: list[int], keep: tuple) -> int:
    """Kill what the parties left running; return how many processes were still alive.

    As PID 1 of its own namespace every other process (but the zygote) is the parties', even
    one that left its process group. Anywhere else only their groups are touched: never the
    host's.
    """
    if os.getpid() != 1:
        alive = 0
        for group in groups:
            try:
                os.killpg(group, signal.SIGKILL)
                alive += 1
            except OSError:
                pass
        _reap()
        return alive
    survivors = _other_processes(keep)
    for pid in survivors:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 2.0
    while _other_processes(keep) and time.monotonic() < deadline:
        _reap()
        time.sleep(0.005)
    _reap()
    return len(survivors)


def _reap() -> None:
    """Collect every exited orphan."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def _scratch_entries() -> set[str]:
    found = set()
    for directory in SCRATCH_DIRS:
        try:
            found.update(os.path.join(directory, name) for name in os.listdir(directory))
        except OSError:
            continue
    with contextlib.suppress(OSError):
        found.update(os.path.join(WORK_ROOT, name) for name in os.listdir(WORK_ROOT))
    return found


def _decode(data: bytes) -> str:
    return data.decode("utf-8", errors="replace")


def _workdir(parent: str, name: str, uid: int, files: dict) -> str:
    """A party's own work directory, only its user may enter, holding its files."""
    path = os.path.join(parent, name)
    os.mkdir(path, 0o700)
    for file_name, text in files.items():
        target = os.path.join(path, file_name)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with open(target, "w", encoding="utf-8") as handle:
            handle.write(text)
    if SEPARATE_USERS:
        for root, dirs, names in os.walk(path):
            for entry in (root, *(os.path.join(root, n) for n in dirs + names)):
                os.chown(entry, uid, uid)
    return path


_MODULES: dict = {}
"""Module sources by sha256: the host sends each once per supervisor, then only its hash."""


def _sources(modules: dict) -> dict:
    """The job's modules as {file name: (sha256, source)}, every {"sha256": ...} resolved to the
    source sent earlier."""
    sources = {}
    for name, source in modules.items():
        if isinstance(source, dict):
            digest = source.get("sha256")
            if digest not in _MODULES:
                raise ValueError(f"module {name!r} was never sent")
            source = _MODULES[digest]
        else:
            digest = hashlib.sha256(source.encode()).hexdigest()
            if len(_MODULES) < CACHE_ENTRIES:
                _MODULES[digest] = source
        sources[name] = (digest, source)
    return sources


def _role(party: dict, job: dict, workdir: str, uid: int, judge: bool, cpu: int | None) -> dict:
    env = {
        # python3 is this interpreter, with what the harness needs, wherever it is installed
        "PATH": f"{os.path.dirname(sys.executable)}:/usr/local/bin:/usr/bin:/bin",
        "HOME": workdir,
        "LANG": "C.UTF-8",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONHASHSEED": "0",
    }
    if judge:
        env["TMPDIR"] = workdir  # nothing the judge reads lies where the program can write
    env.update(party.get("env", {}))
    return {
        "argv": party["argv"],
        "warm": judge or bool(party.get("warm")),  # exec would make a judge dumpable
        "modules": _sources(party.get("modules", {})),
        "workdir": workdir,
        "env": env,
        "uid": uid,
        "judge": judge,
        "cpu": cpu,
        "memory_limit_mb": int(job.get("memory_limit_mb", 512)),
        "time_limit_s": float(job.get("time_limit_s", 10.0)),
    }


def _current_cpu() -> int | None:
    """The CPU this process runs on: the scheduler just woke it there, so it is likely free."""
    try:
        with open("/proc/self/stat") as stat:
            return int(stat.read().rsplit(")", 1)[1].split()[36])
    except (OSError, ValueError, IndexError):
        return None


def run_job(job: dict, zygote: Zygote) -> dict:
    time_limit = float(job.get("time_limit_s", 10.0))
    output_limit = int(job.get("output_limit_bytes", 1024 * 1024))
    judge_spec = job.get("judge")
    before = _scratch_entries()
    root = tempfile.mkdtemp(prefix="job-", dir=WORK_ROOT)
    os.chmod(root, 0o711)
    channel: list = []
    start = time.monotonic()
    usage_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    program = judge = None
    try:
        program_dir = _workdir(root, "program", PROGRAM_UID, job.get("files", {}))
        # Both parties on one CPU: they take turns, and a call that crosses between two CPUs
        # costs about 50 us against 3 on one.
        cpu = _current_cpu()
        roles = [_role(job, job, program_dir, PROGRAM_UID, judge=False, cpu=cpu)]
        extra: list = [[]]
        if judge_spec:
            judge_dir = _workdir(root, "judge", JUDGE_UID, judge_spec.get("files", {}))
            roles.append(_role(judge_spec, job, judge_dir, JUDGE_UID, judge=True, cpu=cpu))
            to_program, to_judge = os.pipe(), os.pipe()
            channel = [*to_program, *to_judge]
            extra = [[to_program[0], to_judge[1]], [to_judge[0], to_program[1]]]
        program, *others = _start(roles, zygote, extra)
        judge = others[0] if others else None
    except OSError as err:
        shutil.rmtree(root, ignore_errors=True)
        return {"error": f"cannot start {job['argv'][0]!r}: {err}"}
    finally:
        for fd in channel:
            os.close(fd)
    feeds = [(program, job.get("stdin", "").encode())]
    streams = {"stdout": (program.stdout, output_limit), "stderr": (program.stderr, output_limit)}
    if judge is not None:
        feeds.append((judge, judge_spec.get("stdin", "").encode()))
        streams["report"] = (judge.stdout, REPORT_LIMIT_BYTES)
        streams["judge_stderr"] = (judge.stderr, JUDGE_STDERR_LIMIT)
    main = judge or program
    output, timed_out, exceeded = _communicate(main, zygote, feeds, streams, start + time_limit)
    output_exceeded = bool(exceeded & {"stdout", "stderr"})
    if timed_out or exceeded:
        for party in (program, judge):
            if party is not None:
                party.kill()
    main.wait()
    stopped = False
    # With a judge, the program gets EOF on its channel and should end by itself.
    if judge is not None and program.wait(EXIT_DRAIN_S) is None:
        program.kill()
        stopped = True
    returncode = program.wait()
    wall = time.monotonic() - start
    groups = [program.pid] + ([judge.pid] if judge else [])
    leftovers = _kill_all(groups, (zygote.pid,))
    usage_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    shutil.rmtree(root, ignore_errors=True)
    dirty = []
    if leftovers:
        dirty.append(f"{leftovers} process(es) outlived the program")
    left_files = sorted(_scratch_entries() - before)
    if left_files:
        dirty.append(f"files left outside the work dir: {', '.join(left_files[:5])}")
        for path in left_files:
            shutil.rmtree(path, ignore_errors=True) if os.path.isdir(path) else _unlink(path)
    stderr = _decode(output["stderr"])
    signal_number = -returncode if returncode < 0 and not stopped else None
    timed_out = timed_out or signal_number == signal.SIGXCPU  # the CPU-time rlimit
    memory_exceeded = "MemoryError" in stderr[-4096:] or (
        signal_number == signal.SIGKILL and not timed_out and not exceeded
    )
    return {
        "exit_code": returncode if returncode >= 0 else None,
        "signal": signal_number,
        "timed_out": timed_out,
        "memory_exceeded": memory_exceeded,
        "output_exceeded": output_exceeded,
        "stdout": _decode(output["stdout"]),
        "stderr": stderr,
        "wall_s": wall,
        "cpu_s": (usage_after.ru_utime - usage_before.ru_utime)
        + (usage_after.ru_stime - usage_before.ru_stime),
        "dirty": dirty,
        "report": _decode(output["report"]) if judge is not None else None,
        "judge_stderr": _decode(output.get("judge_stderr", b"")),
    }


def _unlink(path: str) -> None:
    with contextlib.suppress(OSError):
        os.unlink(path)


def _communicate(main: Party, zygote: Zygote, feeds: list, streams: dict, deadline: float):
    """Feed each party's stdin and read every stream up to its limit, until `main` has exited
    (and its pipes drained), the deadline passed, or a stream went over its limit."""
    output = {name: bytearray() for name in streams}
    selector = selectors.DefaultSelector()
    selector.register(zygote, selectors.EVENT_READ, "zygote")  # exit notices wake us
    for name, (stream, _) in streams.items():
        selector.register(stream, selectors.EVENT_READ, name)
    pending = {}
    for party, data in feeds:
        if data:
            os.set_blocking(party.stdin.fileno(), False)
            selector.register(party.stdin, selectors.EVENT_WRITE, "stdin")
            pending[party.stdin.fileno()] = memoryview(data)
        else:
            party.stdin.close()
    timed_out = False
    exceeded: set = set()
    open_streams = len(streams)
    exited_at = None
    while open_streams:
        now = time.monotonic()
        if exited_at is None and main.poll() is not None:
            exited_at = now
        if exited_at is not None and now - exited_at > EXIT_DRAIN_S:
            break  # the party is done; whatever still holds its pipes is a leftover
        remaining = deadline - now
        if remaining <= 0:
            timed_out = True
            break
        for key, _ in selector.select(timeout=min(remaining, 0.05)):
            if key.data == "zygote":
                if not zygote.collect(0.0):
                    selector.unregister(zygote)  # gone: its parties' waits say so
                continue
            if key.data == "stdin":
                fd = key.fileobj.fileno()
                try:
                    written = os.write(fd, pending[fd][:READ_CHUNK])
                except BrokenPipeError:
                    written = len(pending[fd])
                pending[fd] = pending[fd][written:]
                if not pending[fd]:
                    selector.unregister(key.fileobj)
                    key.fileobj.close()
                continue
            chunk = os.read(key.fileobj.fileno(), READ_CHUNK)
            if not chunk:
                selector.unregister(key.fileobj)
                open_streams -= 1
                continue
            buffer = output[key.data]
            room = streams[key.data][1] - len(buffer)
            buffer += chunk[:room]
            if len(chunk) > room:
                exceeded.add(key.data)
        if exceeded:
            break
    selector.close()
    for party, _ in feeds:
        with contextlib.suppress(OSError):
            party.stdin.close()
    for stream, _ in streams.values():
        stream.close()
    return output, timed_out, exceeded


def serve() -> None:
    global SEPARATE_USERS
    os.makedirs(WORK_ROOT, exist_ok=True)
    if os.getpid() != 1:  # orphaned programs must come back to us to be waited for
        _prctl(_PR_SET_CHILD_SUBREAPER, 1)
    SEPARATE_USERS = _pick_users()
    if SEPARATE_USERS:
        os.chmod(WORK_ROOT, 0o711)  # the parties reach their own directories, write no other
    _prctl(_PR_SET_DUMPABLE, 0)
    gc.freeze()  # no collection in a party walks (and so copies) the pages of this heap
    zygote = Zygote()  # before any job is read: its memory never holds one
    print(json.dumps({"ready": True, "isolation": isolation()}), flush=True)
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            result = run_job(json.loads(line), zygote)
        except Exception as err:  # a malformed job must not end the supervisor
            result = {"error": f"{type(err).__name__}: {err}"}
        print(json.dumps(result), flush=True)
    zygote.stop()


if __name__ == "__main__":
    serve()
