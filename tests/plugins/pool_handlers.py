"""Batch handlers for OrderedPool tests; a module of its own so spawned workers can import it."""

from __future__ import annotations

import os
import time
from collections.abc import Callable


def identity() -> Callable[[list], list]:
    return lambda items: list(items)


def misbehaving() -> Callable[[list], list]:
    """`exit` kills the worker, `hang` never answers, `raise` raises; others come back tagged."""

    def handle(items: list) -> list:
        for item in items:
            if item == "exit":
                os._exit(5)
            if item == "hang":
                time.sleep(3600)
            if item == "raise":
                raise ValueError("bad item")
        return [f"ok:{item}" for item in items]

    return handle


def cannot_start() -> Callable[[list], list]:
    raise RuntimeError("cannot start")


def sleepy() -> Callable[[list], list]:
    """Each item is a number of milliseconds to sleep; returns the items."""

    def handle(items: list) -> list:
        for item in items:
            time.sleep(item / 1000)
        return list(items)

    return handle
