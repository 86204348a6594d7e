"""Drawing distinct procedural problems, the makers taking turns."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator, Sequence
from typing import TypeVar

T = TypeVar("T")
ATTEMPTS_PER_PROBLEM = 200


def take_turns(
    count: int,
    makers: Sequence[tuple[str, Callable[[random.Random], T]]],
    rng: random.Random,
    text: Callable[[int, T], str],
    what: str,
) -> Iterator[tuple[int, str, T, str]]:
    """Yield (index, maker name, made, its text) `count` times, makers in turn, texts distinct.

    Lazy, so the caller may draw from `rng` between items and stay reproducible. A maker that
    repeats itself `ATTEMPTS_PER_PROBLEM` times in a row ends it with a ValueError.
    """
    if count < 0:
        raise ValueError(f"count must be at least 0, got {count}")
    seen: set[str] = set()
    for index in range(count):
        name, make = makers[index % len(makers)]
        for _ in range(ATTEMPTS_PER_PROBLEM):
            made = make(rng)
            statement = text(index, made)
            if statement not in seen:
                break
        else:
            raise ValueError(
                f"cannot make {count} distinct {what} problems: {name!r} produced only repeats "
                f"after {ATTEMPTS_PER_PROBLEM} attempts at problem {index}"
            )
        seen.add(statement)
        yield index, name, made, statement
