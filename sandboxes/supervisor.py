"""The sandbox supervisor: runs untrusted programs one at a time, each under hard limits.

Stdlib only: it runs on the sandbox image's python3, not in the project's environment. It is the
main process of its sandbox (PID 1 of the container or of the process backend's PID namespace),
so a program that kills every process it can reach cannot kill it: the kernel drops signals
sent to a namespace's init from inside it, unless init handles them, and this one handles none.

Protocol, one JSON object per line: it prints {"ready": true}, then for each job read on stdin
  {"files": {name: text}, "argv": [...], "stdin": str, "time_limit_s": float,
   "memory_limit_mb": int, "output_limit_bytes": int, "collect": [name, ...], "env": {...},
   "warm": bool}
prints one result
  {"exit_code", "signal", "timed_out", "memory_exceeded", "output_exceeded", "stdout", "stderr",
   "wall_s", "cpu_s", "files": {name: text}, "dirty": [reason, ...]}
A program runs in a new session (process group) in a fresh, empty work directory, with rlimits
on address space, CPU time, file size, processes and core dumps; at its wall limit, at the
output limit, or when it exits, every process it left behind is killed. `dirty` says why the
sandbox should be replaced (a process outlived its run, a file was left outside the work dir).

With `warm`, `argv` is `python3 [flags] script.py` and the script runs in a fork of this
already-started interpreter instead of a new python3: about 1 ms instead of 20. The child is set
up as a new process would be (session, rlimits, work dir, environment, pipes, argv, sys.path
without this file's directory) before the script runs.
"""

from __future__ import annotations

import ast  # noqa: F401  (preloaded for warm runs: the test harness imports them)
import collections  # noqa: F401
import contextlib
import datetime  # noqa: F401
import decimal  # noqa: F401
import fractions  # noqa: F401
import hashlib
import io
import json
import os
import resource
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback
import types

WORK_ROOT = os.environ.get("SANDBOX_WORK_ROOT", "/work")
SCRATCH_DIRS = tuple(
    d for d in os.environ.get("SANDBOX_SCRATCH_DIRS", "/tmp:/var/tmp:/dev/shm").split(":") if d
)
MAX_PROCESSES = 64
MAX_FILE_BYTES = 64 * 1024 * 1024
READ_CHUNK = 65536
EXIT_DRAIN_S = 0.1


def _limits(memory_limit_mb: int, time_limit_s: float):
    def apply() -> None:
        memory = memory_limit_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
        cpu = int(time_limit_s) + 1
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
        resource.setrlimit(resource.RLIMIT_FSIZE, (MAX_FILE_BYTES, MAX_FILE_BYTES))
        resource.setrlimit(resource.RLIMIT_NPROC, (MAX_PROCESSES, MAX_PROCESSES))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))

    return apply


def _other_processes() -> list[int]:
    """Every process in this PID namespace but the supervisor itself."""
    me = os.getpid()
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit() and int(entry) != me:
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    state = stat.read().rsplit(")", 1)[1].split()[0]
            except OSError:
                continue
            if state != "Z":
                pids.append(int(entry))
    return pids


def _kill_all(group: int) -> int:
    """Kill what the program left running; return how many processes were still alive.

    As PID 1 of its own namespace every other process is the program's, even one that left its
    process group. Anywhere else only the program's group is touched: never the host's.
    """
    if os.getpid() != 1:
        try:
            os.killpg(group, signal.SIGKILL)
        except OSError:
            return 0
        return 1
    survivors = _other_processes()
    for pid in survivors:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 2.0
    while _other_processes() and time.monotonic() < deadline:
        _reap()
        time.sleep(0.005)
    _reap()
    return len(survivors)


def _reap() -> None:
    """As PID 1, collect every exited orphan."""
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


def run_job(job: dict) -> dict:
    time_limit = float(job.get("time_limit_s", 10.0))
    memory_mb = int(job.get("memory_limit_mb", 512))
    output_limit = int(job.get("output_limit_bytes", 1024 * 1024))
    before = _scratch_entries()
    workdir = tempfile.mkdtemp(prefix="job-", dir=WORK_ROOT)
    for name, text in job.get("files", {}).items():
        path = os.path.join(workdir, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(text)
    env = {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": workdir,
        "LANG": "C.UTF-8",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONHASHSEED": "0",
    }
    env.update(job.get("env", {}))
    start = time.monotonic()
    usage_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    try:
        if job.get("warm"):
            process = WarmProcess(job["argv"][-1], workdir, env, _limits(memory_mb, time_limit))
        else:
            process = subprocess.Popen(
                job["argv"],
                cwd=workdir,
                env=env,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                start_new_session=True,
                preexec_fn=_limits(memory_mb, time_limit),
            )
    except OSError as err:
        shutil.rmtree(workdir, ignore_errors=True)
        return {"error": f"cannot start {job['argv'][0]!r}: {err}"}
    output, timed_out, output_exceeded = _communicate(
        process, job.get("stdin", "").encode(), start + time_limit, output_limit
    )
    returncode = process.wait()
    wall = time.monotonic() - start
    leftovers = _kill_all(process.pid)
    usage_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    collected = {}
    for name in job.get("collect", []):
        path = os.path.join(workdir, name)
        if os.path.isfile(path) and not os.path.islink(path):
            with open(path, encoding="utf-8", errors="replace") as handle:
                collected[name] = handle.read(output_limit)
    shutil.rmtree(workdir, ignore_errors=True)
    dirty = []
    if leftovers:
        dirty.append(f"{leftovers} process(es) outlived the program")
    left_files = sorted(_scratch_entries() - before)
    if left_files:
        dirty.append(f"files left outside the work dir: {', '.join(left_files[:5])}")
        for path in left_files:
            shutil.rmtree(path, ignore_errors=True) if os.path.isdir(path) else _unlink(path)
    stderr = _decode(output["stderr"])
    signal_number = -returncode if returncode < 0 else None
    timed_out = timed_out or signal_number == signal.SIGXCPU  # the CPU-time rlimit
    memory_exceeded = "MemoryError" in stderr[-4096:] or (
        signal_number == signal.SIGKILL and not timed_out and not output_exceeded
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
        "files": collected,
        "dirty": dirty,
    }


class WarmProcess:
    """A Python script run in a fork of this interpreter, with Popen's small interface."""

    def __init__(self, script: str, workdir: str, env: dict, limits) -> None:
        stdin_r, stdin_w = os.pipe()
        stdout_r, stdout_w = os.pipe()
        stderr_r, stderr_w = os.pipe()
        path = os.path.join(workdir, script)
        code = _compiled(path)  # here, so the cache outlives the child
        self.pid = os.fork()
        if self.pid == 0:  # the child never returns
            _warm_child(path, code, workdir, env, limits, stdin_r, stdout_w, stderr_w)
        for fd in (stdin_r, stdout_w, stderr_w):
            os.close(fd)
        self.stdin = os.fdopen(stdin_w, "wb", buffering=0)
        self.stdout = os.fdopen(stdout_r, "rb", buffering=0)
        self.stderr = os.fdopen(stderr_r, "rb", buffering=0)
        self.returncode = None

    def poll(self):
        if self.returncode is None:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def wait(self) -> int:
        if self.returncode is None:
            _, status = os.waitpid(self.pid, 0)
            self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode


_COMPILED: dict = {}


def _compiled(path: str):
    """A script's code, compiled once per distinct source (the harness, run after run).

    A script that does not compile is run as a tiny program that raises the SyntaxError, so the
    child reports it like a new python3 would.
    """
    with open(path, "rb") as handle:
        source = handle.read()
    key = hashlib.sha256(source).digest()
    if key not in _COMPILED:
        try:
            _COMPILED[key] = compile(source, path, "exec")
        except (SyntaxError, ValueError) as err:
            return compile(f"raise {type(err).__name__}({str(err)!r})", path, "exec")
        if len(_COMPILED) > 64:
            _COMPILED.pop(next(iter(_COMPILED)))
    return _COMPILED[key]


def _warm_child(path, code, workdir, env, limits, stdin_fd, stdout_fd, stderr_fd) -> None:
    status = 1
    try:
        os.setsid()
        limits()
        os.chdir(workdir)
        for fd, target in ((stdin_fd, 0), (stdout_fd, 1), (stderr_fd, 2)):
            os.dup2(fd, target)
        os.closerange(3, 1024)
        os.environ.clear()
        os.environ.update(env)
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGCHLD):
            signal.signal(signum, signal.SIG_DFL)
        sys.stdin = io.TextIOWrapper(io.FileIO(0, "r", closefd=False), encoding="utf-8")
        sys.stdout = io.TextIOWrapper(io.FileIO(1, "w", closefd=False), encoding="utf-8")
        sys.stderr = io.TextIOWrapper(
            io.FileIO(2, "w", closefd=False), encoding="utf-8", line_buffering=True
        )
        here = os.path.dirname(os.path.abspath(__file__))
        sys.path[:] = [workdir] + [p for p in sys.path if p and p not in (here, os.getcwd())]
        sys.argv = [path]
        module = types.ModuleType("__main__")
        module.__file__ = path
        sys.modules["__main__"] = module
        exec(code, module.__dict__)
        status = 0
    except SystemExit as exit_:
        if exit_.code is None or isinstance(exit_.code, int):
            status = exit_.code or 0
        else:
            print(exit_.code, file=sys.stderr)
    except BaseException:
        traceback.print_exc()
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(status)


def _unlink(path: str) -> None:
    with contextlib.suppress(OSError):
        os.unlink(path)


def _communicate(process, stdin: bytes, deadline: float, limit: int):
    """Feed stdin and read both outputs up to `limit` bytes each, until exit or the deadline."""
    output = {"stdout": bytearray(), "stderr": bytearray()}
    selector = selectors.DefaultSelector()
    selector.register(process.stdout, selectors.EVENT_READ, "stdout")
    selector.register(process.stderr, selectors.EVENT_READ, "stderr")
    pending = memoryview(stdin)
    if pending:
        os.set_blocking(process.stdin.fileno(), False)
        selector.register(process.stdin, selectors.EVENT_WRITE, "stdin")
    else:
        process.stdin.close()
    timed_out = exceeded = False
    open_streams = 2
    exited_at = None
    while open_streams:
        now = time.monotonic()
        if exited_at is None and process.poll() is not None:
            exited_at = now
        if exited_at is not None and now - exited_at > EXIT_DRAIN_S:
            break  # the program is done; whatever still holds its pipes is a leftover
        remaining = deadline - now
        if remaining <= 0:
            timed_out = True
            break
        for key, _ in selector.select(timeout=min(remaining, 0.05)):
            if key.data == "stdin":
                try:
                    written = os.write(key.fileobj.fileno(), pending[:READ_CHUNK])
                except BrokenPipeError:
                    written = len(pending)
                pending = pending[written:]
                if not pending:
                    selector.unregister(key.fileobj)
                    key.fileobj.close()
                continue
            chunk = os.read(key.fileobj.fileno(), READ_CHUNK)
            if not chunk:
                selector.unregister(key.fileobj)
                open_streams -= 1
                continue
            buffer = output[key.data]
            room = limit - len(buffer)
            buffer += chunk[:room]
            exceeded = exceeded or len(chunk) > room
        if exceeded:
            break
    if timed_out or exceeded:
        with contextlib.suppress(OSError):
            os.killpg(process.pid, signal.SIGKILL)
    selector.close()
    for stream in (process.stdout, process.stderr):
        stream.close()
    return output, timed_out, exceeded


def serve() -> None:
    os.makedirs(WORK_ROOT, exist_ok=True)
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            result = run_job(json.loads(line))
        except Exception as err:  # a malformed job must not end the supervisor
            result = {"error": f"{type(err).__name__}: {err}"}
        print(json.dumps(result), flush=True)


if __name__ == "__main__":
    serve()
