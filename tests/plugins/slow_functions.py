"""Functions for DeadlineRunner tests; a module of its own so spawned children can import it."""

from __future__ import annotations

import os
import time


def sleep_then_echo(seconds: float, value: object) -> object:
    time.sleep(seconds)
    return value


def fail(message: str) -> None:
    raise ValueError(message)


def die() -> None:
    os._exit(9)


def pid() -> int:
    return os.getpid()
