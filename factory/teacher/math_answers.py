"""The offline teacher's wrong math answers: the reference perturbed the way people slip.

The built-in math generator writes its answers in four shapes: integers, `\\frac{p}{q}` (with a
sign), ordered pairs `(x, y)` and polynomials in x with integer coefficients. Each shape has its
own slips (off by one, a sign lost, a fraction upside down, a pair swapped, a coefficient or term
miscopied), and every slip is chosen so that its value really differs from the reference: the math
checker compares values, so a slip that happened to equal the answer would be accepted.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from fractions import Fraction

from verified_factory.sources.math_problems import polynomial_text

_INTEGER = re.compile(r"-?\d+")
_FRACTION = re.compile(r"(-?)\\frac\{(\d+)\}\{(\d+)\}")
_PAIR = re.compile(r"\((-?\d+), (-?\d+)\)")
_POLY_TERM = re.compile(r"([+-]?)(\d*)(x(?:\^(\d+))?)?")


def wrong_answer(reference: str, rng: random.Random) -> str:
    """A plausible answer whose value differs from `reference`; ValueError for an unknown shape."""
    for shape, slip in _SLIPS:
        match = shape.fullmatch(reference)
        if match:
            return slip(match, rng)
    polynomial = _read_polynomial(reference)
    if polynomial is None:
        raise ValueError(f"no way to get {reference!r} wrong: not a shape the generator writes")
    return _write_polynomial(_polynomial_slip(polynomial, rng))


def wrong_steps(steps: list[str], reference: str, wrong: str) -> list[str]:
    """The worked steps with the last one concluding `wrong` instead of `reference`.

    The generator's last step states the reference; the answer is replaced at its last whole-token
    occurrence, so `= 16` is not touched when the answer is `6`. A last step that does not state
    it is dropped rather than left contradicting the wrong answer.
    """
    last = steps[-1]
    token = re.compile(rf"(?<![\w.^]){re.escape(reference)}(?![\w^])")
    found = list(token.finditer(last))
    if not found:
        return steps[:-1]
    start, end = found[-1].span()
    return [*steps[:-1], last[:start] + wrong + last[end:]]


# --- numbers ------------------------------------------------------------------------------------


def _number(value: Fraction) -> str:
    """`3`, `-3`, `\\frac{7}{3}`, `-\\frac{7}{3}`: the generator's way of writing a value."""
    if value.denominator == 1:
        return str(value.numerator)
    sign = "-" if value < 0 else ""
    return f"{sign}\\frac{{{abs(value.numerator)}}}{{{value.denominator}}}"


def _integer(match: re.Match[str], rng: random.Random) -> str:
    """Off by one either way, a small arithmetic slip, a lost sign, a doubled or halved result."""
    n = int(match.group(0))
    slips = [n + 1, n - 1, n + rng.choice((-3, -2, 2, 3, 10, -10)), -n, 2 * n]
    if n % 2 == 0:
        slips.append(n // 2)
    return str(rng.choice([s for s in slips if s != n]))


def _fraction(match: re.Match[str], rng: random.Random) -> str:
    sign, numerator, denominator = match.groups()
    value = Fraction(int(numerator), int(denominator)) * (-1 if sign else 1)
    slips = [
        -value,  # a lost sign
        1 / value,  # upside down
        value + 1,
        value - 1,
        Fraction(value.numerator + 1, value.denominator),  # the numerator miscounted
        Fraction(value.numerator, value.denominator + 1),  # the denominator miscounted
    ]
    return _number(rng.choice([s for s in slips if s != value]))


def _pair(match: re.Match[str], rng: random.Random) -> str:
    x, y = int(match.group(1)), int(match.group(2))
    slips = [(x + 1, y), (x, y - 1), (x - 1, y), (x, y + 1), (-x, y), (x, -y), (y, x)]
    wrong = rng.choice([s for s in slips if s != (x, y)])
    return f"({wrong[0]}, {wrong[1]})"


_SLIPS: tuple[tuple[re.Pattern[str], Callable[[re.Match[str], random.Random], str]], ...] = (
    (_INTEGER, _integer),
    (_FRACTION, _fraction),
    (_PAIR, _pair),
)


# --- polynomials --------------------------------------------------------------------------------


def _read_polynomial(text: str) -> dict[int, int] | None:
    """`2x^2 - 11x - 6` as {2: 2, 1: -11, 0: -6}; None unless it is such a polynomial in x."""
    compact = text.replace(" ", "")
    if "x" not in compact:
        return None
    coefficients: dict[int, int] = {}
    for term in re.findall(r"[+-]?[^+-]+", compact):
        match = _POLY_TERM.fullmatch(term)
        if match is None or not (match.group(2) or match.group(3)):
            return None
        sign, digits, power, exponent = match.groups()
        degree = 0 if not power else int(exponent or 1)
        magnitude = int(digits) if digits else 1
        signed = -magnitude if sign == "-" else magnitude
        coefficients[degree] = coefficients.get(degree, 0) + signed
    return coefficients


def _polynomial_slip(coefficients: dict[int, int], rng: random.Random) -> dict[int, int]:
    """One coefficient off by one, one term's sign lost, or the constant term dropped.

    A polynomial with no constant term to drop, or with nothing else, gets a coefficient doubled.
    """
    degree = rng.choice(sorted(coefficients))
    wrong = dict(coefficients)
    kind = rng.randrange(3)
    if kind == 0:
        wrong[degree] += rng.choice((-1, 1))
    elif kind == 1:
        wrong[degree] = -wrong[degree]
    elif 0 in wrong and len(wrong) > 1:
        del wrong[0]
    else:
        wrong[degree] *= 2
    return wrong


def _write_polynomial(coefficients: dict[int, int]) -> str:
    """{2: 2, 1: -11, 0: -6} as `2x^2 - 11x - 6`, written as the generator writes it."""
    return polynomial_text(
        [coefficients.get(d, 0) for d in range(max(coefficients, default=0) + 1)]
    )
