"""A hard time limit for a function call, usable from any thread, asyncio task or Ray worker.

Signal-based timeouts (`signal.alarm`) only work in the main thread of the main interpreter and
cannot interrupt C code such as a SymPy simplification stuck in a big-integer power. Here the
call runs in a child process that is killed and replaced when it overruns, so the limit holds
whatever the function does. Children are reused between calls, so a call costs a pipe round trip
(tens of microseconds), not a process start.
"""

from __future__ import annotations

import multiprocessing
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

from verified_factory.errors import FactoryError


class DeadlineExceeded(FactoryError, RuntimeError):
    """The call did not finish within its limit; its process was killed.

    Not a TimeoutError: that is an OSError, and a pipe failure must not pass for a timeout.
    """


class ChildDied(FactoryError, RuntimeError):
    """The child process died during the call (a crash, or killed from outside)."""


@dataclass
class _Child:
    process: multiprocessing.process.BaseProcess
    conn: Connection


def _serve(conn: Connection, function: Callable[..., Any], warm_args: tuple | None) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent owns Ctrl-C
    if warm_args is not None:
        function(*warm_args)
    conn.send("ready")
    while True:
        try:
            args = conn.recv()
        except EOFError:  # the parent is gone
            return
        try:
            conn.send((True, function(*args)))
        except Exception as err:
            conn.send((False, err))


class DeadlineRunner:
    """Calls `function(*args)` in child processes, each call limited to `limit_s` seconds.

    Thread-safe: concurrent callers each take an idle child (one is started when none is idle),
    so threads run in parallel. `function` and its arguments must be picklable; an exception it
    raises is re-raised in the caller. A new child imports `function`'s module and, given
    `warm_args`, calls it once before it counts as started, so the limit never pays for start-up.
    """

    def __init__(
        self,
        function: Callable[..., Any],
        limit_s: float,
        *,
        warm_args: tuple | None = None,
        start_limit_s: float = 120.0,
    ) -> None:
        self._function = function
        self.limit_s = limit_s
        self._warm_args = warm_args
        self._start_limit_s = start_limit_s
        self._context = multiprocessing.get_context("spawn")
        self._idle: list[_Child] = []
        self._lock = threading.Lock()
        self._closed = False

    def __call__(self, *args: Any) -> Any:
        child = self._take()
        try:
            child.conn.send(args)
            answered = child.conn.poll(self.limit_s)
            if answered:
                ok, value = child.conn.recv()
        except (EOFError, OSError) as err:
            self._discard(child)
            raise ChildDied(f"the checking process died: {err or type(err).__name__}") from err
        if not answered:
            self._discard(child)
            raise DeadlineExceeded(f"took more than {self.limit_s:g} s and was stopped")
        self._give_back(child)
        if not ok:
            raise value
        return value

    def start(self) -> None:
        """Start a child now, so the first call does not wait for one to import and warm."""
        self._give_back(self._start())

    def _take(self) -> _Child:
        with self._lock:
            if self._closed:
                raise RuntimeError("the runner is closed")
            while self._idle:
                child = self._idle.pop()
                if child.process.is_alive():
                    return child
                child.conn.close()
        return self._start()

    def _start(self) -> _Child:
        parent_end, child_end = self._context.Pipe()
        process = self._context.Process(
            target=_serve, args=(child_end, self._function, self._warm_args), daemon=True
        )
        process.start()
        child_end.close()
        child = _Child(process, parent_end)
        try:
            ready = parent_end.poll(self._start_limit_s) and parent_end.recv() == "ready"
        except (EOFError, OSError):
            ready = False
        if not ready:
            self._discard(child)
            raise ChildDied(f"the checking process did not start within {self._start_limit_s:g} s")
        return child

    def _give_back(self, child: _Child) -> None:
        with self._lock:
            if not self._closed:
                self._idle.append(child)
                return
        self._discard(child)

    @staticmethod
    def _discard(child: _Child) -> None:
        child.process.kill()
        child.process.join()
        child.conn.close()

    def close(self) -> None:
        """Stop every idle child; a call in progress stops its child when it returns."""
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for child in idle:
            child.conn.close()  # the child's recv() ends, and so does the child
            child.process.join(1.0)
            if child.process.is_alive():
                child.process.kill()
                child.process.join()
