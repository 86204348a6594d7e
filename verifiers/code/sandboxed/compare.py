"""How differential testing compares two results (stdlib only): as Python values, a float result
within a relative 1e-6, an integer result exactly (an int or a float of that exact value),
containers element by element and of the same type.

Both sides are values rebuilt from plain data (`wire.py`), so Python's own `==` can be trusted
for everything else.
"""

from __future__ import annotations

import math

FLOAT_TOLERANCE = 1e-6


def _kind(value) -> str:
    if type(value) is bool:
        return "bool"
    if type(value) is int:
        return "int"
    if type(value) is float:
        return "float"
    return "other"


def _kinded(items) -> set:
    return {(_kind(item), item) for item in items}


def same(expected, got) -> bool:
    """Whether `got` is the reference's result `expected`."""
    kinds = {_kind(expected), _kind(got)}
    if _kind(expected) == "int" and kinds <= {"int", "float"}:
        return expected == got  # no tolerance for an exact answer: 10**17 * (1 + 5e-7) is wrong
    if kinds <= {"int", "float"}:
        try:
            if math.isnan(expected) or math.isnan(got):
                return math.isnan(expected) and math.isnan(got)
            return math.isclose(expected, got, rel_tol=FLOAT_TOLERANCE, abs_tol=1e-9)
        except OverflowError:  # an int too big for a float is not near a float
            return False
    if type(expected) in (list, tuple) and type(got) is type(expected):
        return len(expected) == len(got) and all(map(same, expected, got))
    if type(expected) is dict and type(got) is dict:
        return _kinded(expected) == _kinded(got) and all(
            same(expected[k], got[k]) for k in expected
        )
    if type(expected) in (set, frozenset) and type(got) is type(expected):
        return _kinded(expected) == _kinded(got)  # {True, False} is not {1, 0}
    try:
        return type(expected) is type(got) and expected == got
    except Exception:  # a comparison that raises is not a match
        return False
