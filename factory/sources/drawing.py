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
    repeats itself `ATTEMPTS_PER_PROBLEM` times in a row has run out and leaves the turns to the
    others (so a large count leans on the makers with the most variety); when every one has run
    out, a ValueError ends it.
    """
    if count < 0:
        raise ValueError(f"count must be at least 0, got {count}")
    seen: set[str] = set()
    active = list(makers)
    for index in range(count):
        while active:
            name, make = active[index % len(active)]
            for _ in range(ATTEMPTS_PER_PROBLEM):
                made = make(rng)
                statement = text(index, made)
                if statement not in seen:
                    break
            else:
                active.remove((name, make))
                continue
            break
        else:
            raise ValueError(
                f"cannot make {count} distinct {what} problems: every kind produced only "
                f"repeats after {ATTEMPTS_PER_PROBLEM} attempts, at problem {index}"
            )
        seen.add(statement)
        yield index, name, made, statement
