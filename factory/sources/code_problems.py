"""Procedural coding problems: small function tasks with tests in the four test formats.

Thirteen templates take turns (round robin), and the test format cycles assert, call, stdio,
pytest, so every batch of eight or more holds all four formats and every batch of thirteen or
more every template. A template draws its names and constants from `random.Random(seed)` alone
and describes one function: its signature, what it returns, the body of a reference solution and
the arguments to test it on. The tests are then written in the problem's format, with expected
values and outputs obtained by running the reference in-process, so they are right by
construction. `meta["steps"]` explains the approach in a few sentences.
"""

from __future__ import annotations

import functools
import io
import json
import random
import textwrap
from collections.abc import Callable, Iterator
from typing import Any, NamedTuple

from verified_factory.records import (
    AssertTests,
    CallCase,
    CallTests,
    Problem,
    PytestTests,
    StdioCase,
    StdioTests,
)
from verified_factory.sources.drawing import take_turns

SOURCE = "generator:code"
FORMATS = ("assert", "call", "stdio", "pytest")

# Python annotation of each kind of argument or result.
_TYPES = {
    "int": "int",
    "str": "str",
    "bool": "bool",
    "ints": "list[int]",
    "matrix": "list[list[int]]",
    "int?": "int | None",
}

_WORDS = (
    "apple",
    "river",
    "stone",
    "cloud",
    "tiger",
    "maple",
    "ocean",
    "pixel",
    "lemon",
    "delta",
    "orbit",
    "cedar",
    "ember",
    "flint",
    "grove",
    "harbor",
    "ivory",
    "jade",
    "koala",
    "lunar",
)
_LIST_NAMES = ("items", "values", "numbers", "nums", "data")
_TEXT_NAMES = ("text", "s", "phrase", "sentence", "word_string")
_INT_NAMES = ("n", "x", "num", "value", "limit")


class _Spec(NamedTuple):
    """One function task: what it computes, the body of its reference, arguments to test."""

    template: str
    name: str
    params: tuple[tuple[str, str], ...]  # (name, kind)
    result: str  # the kind of the return value
    returns: str  # what it returns; for a `bool` result, the condition for True
    body: str  # the reference function's body, not indented
    cases: list[tuple[Any, ...]]  # argument tuples, six or more; repeats are dropped
    steps: list[str]
    notes: str = ""  # further precise conditions, appended to the statement
    absent: str = ""  # for an `int?` result: when it is None


def _body(*lines: str) -> str:
    return "\n".join(lines)


def _ints(rng: random.Random, length: int, low: int = -20, high: int = 20) -> list[int]:
    return [rng.randint(low, high) for _ in range(length)]


# --- templates -----------------------------------------------------------------------------------


def _multiples_sum(rng: random.Random) -> _Spec:
    k = rng.randint(2, 19)
    p = rng.choice(_INT_NAMES)
    inclusive = rng.random() < 0.5
    relation = f"at most {p}" if inclusive else f"less than {p}"
    stop = f"{p} + 1" if inclusive else p
    name = rng.choice(("sum_of_multiples", "multiples_sum", "sum_multiples", "add_multiples"))
    return _Spec(
        template="multiples_sum",
        name=f"{name}_of_{k}",
        params=((p, "int"),),
        result="int",
        returns=f"the sum of all positive multiples of {k} that are {relation}",
        body=f"return sum(range({k}, {stop}, {k}))",
        notes=f"{p} is a non-negative integer; the sum is 0 when there is no such multiple.",
        cases=[
            (rng.randint(20, 300),),
            (k,),
            (0,),
            (rng.randint(300, 5000),),
            (k + 1,),
            (rng.randint(1, k - 1),),
            (10 * k,),
        ],
        steps=[
            f"The positive multiples of {k} are {k}, {2 * k}, {3 * k}, and so on.",
            f"range({k}, {stop}, {k}) lists exactly those {relation}, and is empty if none is.",
            "Return the sum of that range; the sum of an empty range is 0.",
        ],
    )


_SEPARATORS = {
    " ": "space",
    ",": "comma",
    "-": "hyphen",
    "|": "vertical bar",
    ";": "semicolon",
    "/": "slash",
    ":": "colon",
    ".": "full stop",
}


def _reverse_pieces(rng: random.Random) -> _Spec:
    sep = rng.choice(list(_SEPARATORS))
    p = rng.choice(_TEXT_NAMES)
    label = f"{_SEPARATORS[sep]} {sep!r}"
    if rng.random() < 0.5:
        name = rng.choice(("reverse_words", "reverse_pieces", "reverse_order", "flip_words"))
        action = "reverse the order of the pieces"
        body = f"return {sep!r}.join(reversed({p}.split({sep!r})))"
        step = "Reverse the list of pieces."
    else:
        name = rng.choice(("reverse_each_word", "mirror_pieces", "reverse_letters", "flip_each"))
        action = "reverse the characters of each piece, keeping the pieces in their places"
        body = f"return {sep!r}.join(piece[::-1] for piece in {p}.split({sep!r}))"
        step = "Reverse every piece with the slice [::-1], leaving the order of the pieces as is."

    def text(count: int) -> str:
        return sep.join(rng.choice(_WORDS) for _ in range(count))

    return _Spec(
        template="reverse_pieces",
        name=name,
        params=((p, "str"),),
        result="str",
        returns=(
            f"the string obtained when you split {p} at every {label}, {action}, and join "
            f"the pieces again with {sep!r}"
        ),
        body=body,
        notes=(
            f"Two adjacent separators enclose an empty piece, which is kept; an empty {p} "
            "gives an empty string. No line break occurs in the text."
        ),
        cases=[
            (text(4),),
            (text(2),),
            (text(1),),
            (text(3) + sep + sep + text(2),),
            ("",),
            (text(5),),
            (text(3).upper(),),
        ],
        steps=[
            f"Split {p} at {sep!r} with str.split, which keeps empty pieces.",
            step,
            f"Join the pieces back together with {sep!r}.",
        ],
    )


def _count_letters(rng: random.Random) -> _Spec:
    p = rng.choice(_TEXT_NAMES)
    if rng.random() < 0.4:
        letters = rng.choice(("aeiou", "aeiouy"))
        name = rng.choice(("count_vowels", "vowel_count", "number_of_vowels"))
    else:
        letters = "".join(sorted(rng.sample("bcdfghklmnprstvw", rng.randint(2, 5))))
        name = rng.choice(("count_letters", "letter_count", "count_chosen", "tally_letters"))
    listing = ", ".join(repr(letter) for letter in letters)
    if rng.random() < 0.5:
        scan, case_rule = f"{p}.lower()", "Upper-case and lower-case forms of them both count"
    else:
        scan, case_rule = p, "Only their lower-case forms count, upper-case letters do not"

    def text() -> str:
        words = [rng.choice(_WORDS) for _ in range(rng.randint(2, 6))]
        words = [w.capitalize() if rng.random() < 0.4 else w for w in words]
        return " ".join(words) + rng.choice(("", ".", "!", "?"))

    return _Spec(
        template="count_letters",
        name=name,
        params=((p, "str"),),
        result="int",
        returns=f"the number of characters of {p} that are one of the letters {listing}",
        body=f"return sum(1 for ch in {scan} if ch in {letters!r})",
        notes=f"{case_rule}. {p} contains no line break.",
        cases=[(text(),), (text(),), ("",), (text().upper(),), (text(),), ("xyz" + letters,)],
        steps=[
            f"Go through the characters of {p}"
            + (", lower-cased first." if scan != p else ", exactly as they are."),
            f"Count those that occur in the string {letters!r}.",
            "Return the count, which is 0 for an empty string.",
        ],
    )


def _running_window(rng: random.Random) -> _Spec:
    mode, noun = rng.choice((("max", "maximum"), ("min", "minimum"), ("sum", "sum")))
    p = rng.choice(_LIST_NAMES)
    width = rng.choice((None, 2, 3, 4, 5, 6))
    if width is None:
        name = rng.choice((f"running_{mode}", f"prefix_{mode}", f"cumulative_{mode}"))
        span = f"{p}[0], ..., {p}[i]"
        body = f"return [{mode}({p}[: i + 1]) for i in range(len({p}))]"
        step = f"For each index i take the slice {p}[: i + 1], everything up to position i."
    else:
        name = rng.choice((f"window_{mode}", f"sliding_{mode}", f"moving_{mode}"))
        span = (
            f"the last (at most) {width} elements up to position i, that is "
            f"{p}[max(0, i - {width - 1})], ..., {p}[i]"
        )
        body = f"return [{mode}({p}[max(0, i - {width - 1}) : i + 1]) for i in range(len({p}))]"
        step = f"For each index i take the slice of the at most {width} elements ending at i."
    return _Spec(
        template="running_window",
        name=name,
        params=((p, "ints"),),
        result="ints",
        returns=f"the list, as long as {p}, whose i-th element is the {noun} of {span}",
        body=body,
        notes=f"An empty {p} gives an empty list.",
        cases=[
            (_ints(rng, rng.randint(5, 9)),),
            ([],),
            ([rng.randint(-9, 9)],),
            (_ints(rng, rng.randint(3, 6), 0, 50),),
            (sorted(_ints(rng, 6), reverse=True),),
            (_ints(rng, rng.randint(7, 10), -100, 100),),
        ],
        steps=[
            step,
            f"Its {noun} is the i-th element of the result.",
            "Collect these values in order in a list comprehension over range(len(...)).",
        ],
    )


def _fibonacci_mod(rng: random.Random) -> _Spec:
    first, second = rng.randint(0, 3), rng.randint(1, 5)
    modulus = rng.choice((7, 10, 11, 13, 97, 100, 101, 1000, 1009, 10**9 + 7, 998244353))
    p = rng.choice(("n", "k", "index", "position"))
    plain = (first, second) == (0, 1)
    names = ("fib_mod", "fibonacci_mod", "nth_fib_mod") if plain else ("sequence_mod", "term_mod")
    name = rng.choice(names)
    return _Spec(
        template="fibonacci_mod",
        name=name,
        params=((p, "int"),),
        result="int",
        returns=(
            f"F({p}) modulo {modulus}, where F(0) = {first}, F(1) = {second} and "
            "F(i) = F(i - 1) + F(i - 2) for every i >= 2"
        ),
        body=_body(
            f"a, b = {first}, {second}",
            f"for _ in range({p}):",
            f"    a, b = b, (a + b) % {modulus}",
            f"return a % {modulus}",
        ),
        notes=f"{p} is an integer with 0 <= {p} <= 10000.",
        cases=[
            (rng.randint(11, 90),),
            (0,),
            (rng.randint(2000, 10000),),
            (1,),
            (rng.randint(2, 10),),
            (rng.randint(100, 2000),),
        ],
        steps=[
            f"Keep the pair (F(i), F(i + 1)), starting from ({first}, {second}).",
            f"Advance the pair {p} times, reducing modulo {modulus} so the numbers stay small.",
            f"The first element of the pair is then F({p}) modulo {modulus}.",
        ],
    )


def _primes(rng: random.Random) -> _Spec:
    p = rng.choice(_INT_NAMES)
    mode = rng.choice(("is_prime", "count", "next", "largest_factor"))
    if mode == "is_prime":
        return _Spec(
            template="primes",
            name=rng.choice(("is_prime", "check_prime", "prime_test", "is_prime_number")),
            params=((p, "int"),),
            result="bool",
            returns=f"{p} is a prime number",
            body=_body(
                f"if {p} < 2:",
                "    return False",
                "d = 2",
                f"while d * d <= {p}:",
                f"    if {p} % d == 0:",
                "        return False",
                "    d += 1",
                "return True",
            ),
            notes=f"{p} is an integer with 0 <= {p} <= 10**6; 0 and 1 are not prime.",
            cases=[(7919,), (1,), (91,), (rng.choice((2, 3, 5)),), (0,), (rng.randint(4, 1000),)],
            steps=[
                "Numbers below 2 are not prime.",
                f"Try every divisor d from 2 while d * d <= {p}; any exact division means "
                "composite.",
                "If no divisor is found the number is prime.",
            ],
        )
    if mode == "count":
        k = rng.randint(3, 8)
        r = rng.randint(0, k - 1)
        which = rng.choice(("", f" and q % {k} == {r}"))
        return _Spec(
            template="primes",
            name=rng.choice(("count_primes", "prime_count", "primes_up_to")),
            params=((p, "int"),),
            result="int",
            returns=f"the number of primes q with q <= {p}{which}",
            body=_body(
                f"if {p} < 2:",
                "    return 0",
                f"sieve = [False, False] + [True] * ({p} - 1)",
                "i = 2",
                f"while i * i <= {p}:",
                "    if sieve[i]:",
                f"        for j in range(i * i, {p} + 1, i):",
                "            sieve[j] = False",
                "    i += 1",
                f"return sum(1 for q in range({p} + 1) if sieve[q]{which})",
            ),
            notes=f"{p} is an integer with 0 <= {p} <= 10**5.",
            cases=[
                (rng.randint(10, 100),),
                (0,),
                (2,),
                (rng.randint(100, 1000),),
                (rng.randint(1000, 100000),),
                (97,),
            ],
            steps=[
                f"Sieve of Eratosthenes: mark 0 and 1 as not prime, then for each prime i with "
                f"i * i <= {p} cross out its multiples from i * i on.",
                "Count the numbers still marked prime"
                + (f" whose remainder mod {k} is {r}." if which else "."),
            ],
        )
    if mode == "next":
        return _Spec(
            template="primes",
            name=rng.choice(("next_prime", "smallest_prime_from", "prime_at_least")),
            params=((p, "int"),),
            result="int",
            returns=f"the smallest prime number q with q >= {p}",
            body=_body(
                f"q = max({p}, 2)",
                "while any(q % d == 0 for d in range(2, int(q**0.5) + 1)):",
                "    q += 1",
                "return q",
            ),
            notes=f"{p} is an integer with 0 <= {p} <= 10**6.",
            cases=[
                (0,),
                (14,),
                (2,),
                (rng.randint(20, 1000),),
                (7919,),
                (rng.randint(10**4, 10**6),),
            ],
            steps=[
                f"Start at {p}, or at 2 if {p} is smaller.",
                "Test each candidate by trial division up to its square root.",
                "Return the first candidate with no divisor.",
            ],
        )
    return _Spec(
        template="primes",
        name=rng.choice(("largest_prime_factor", "max_prime_factor", "biggest_prime_factor")),
        params=((p, "int"),),
        result="int?",
        returns=f"the largest prime factor of {p}",
        absent=f"{p} < 2",
        body=_body(
            f"if {p} < 2:",
            "    return None",
            "largest, d = 1, 2",
            f"while d * d <= {p}:",
            f"    while {p} % d == 0:",
            f"        largest, {p} = d, {p} // d",
            "    d += 1",
            f"return {p} if {p} > 1 else largest",
        ),
        notes=f"{p} is an integer with 0 <= {p} <= 10**9.",
        cases=[(rng.randint(2, 1000),), (1,), (97,), (2**10,), (rng.randint(10**8, 10**9),), (0,)],
        steps=[
            "Numbers below 2 have no prime factor.",
            f"Divide out every divisor d from 2 upward while d * d <= {p}, remembering the last.",
            "What is left, if above 1, is a prime larger than all divided out; else the last d is "
            "the answer.",
        ],
    )


def _rotate(rng: random.Random) -> _Spec:
    p = rng.choice(_LIST_NAMES)
    left = rng.random() < 0.5
    direction = "left" if left else "right"
    fixed = rng.choice((None, None, 1, 2, 3, 4, 5, 6, 7, 8, 9))
    shift = "k" if fixed is None else str(fixed)
    params = ((p, "ints"), ("k", "int")) if fixed is None else ((p, "ints"),)
    name = rng.choice((f"rotate_{direction}", f"shift_{direction}", f"cycle_{direction}"))
    example = "[2, 3, 1]" if left else "[3, 1, 2]"
    moved = "the first element to the end" if left else "the last element to the front"
    items = [_ints(rng, rng.randint(3, 8)) for _ in range(4)]
    cases = [
        (items[0], 2),
        (items[1], 0),
        ([], 3),
        (items[2], len(items[2]) + 1),
        (items[3], 1),
        ([rng.randint(0, 9)], 5),
    ]
    return _Spec(
        template="rotate",
        name=name if fixed is None else f"{name}_by_{fixed}",
        params=params,
        result="ints",
        returns=f"the list {p} rotated {direction} by {shift} positions",
        body=_body(
            f"if not {p}:",
            "    return []",
            f"shift = {'' if left else '-'}{shift} % len({p})",
            f"return {p}[shift:] + {p}[:shift]",
        ),
        notes=(
            f"Rotating {direction} by one position moves {moved}: [1, 2, 3] becomes {example}. "
            + (
                "k is a non-negative integer and may exceed the length of the list. "
                if fixed is None
                else ""
            )
            + "An empty list gives an empty list."
        ),
        cases=[case if fixed is None else case[:1] for case in cases],
        steps=[
            "An empty list has nothing to rotate.",
            f"Reduce the shift modulo the length, since rotating by len({p}) changes nothing"
            + ("." if left else "; a right rotation is a left rotation by the negated shift."),
            "Join the tail after the shift point with the head before it.",
        ],
    )


def _merge_sorted(rng: random.Random) -> _Spec:
    dedupe = rng.random() < 0.5
    descending = rng.random() < 0.5
    limit = rng.choice((None, None, 3, 4, 5, 6, 7, 8))
    order = (
        ("decreasing" if descending else "increasing")
        if dedupe
        else ("non-increasing" if descending else "non-decreasing")
    )
    what = (
        "the distinct values that occur in a or in b, each once"
        if dedupe
        else "all the elements of a and b, duplicates included"
    )
    lines = [
        "merged = []",
        "i = j = 0",
        "while i < len(a) and j < len(b):",
        "    if a[i] <= b[j]:",
        "        merged.append(a[i])",
        "        i += 1",
        "    else:",
        "        merged.append(b[j])",
        "        j += 1",
        "merged += a[i:] + b[j:]",
    ]
    steps = ["Walk both lists with one index each, always taking the smaller front element."]
    if dedupe:
        lines.append("merged = [x for k, x in enumerate(merged) if k == 0 or x != merged[k - 1]]")
        steps.append("Equal values are now adjacent: keep only the first of each run.")
    if descending:
        lines.append("merged.reverse()")
        steps.append("Reverse the merged list to put it in descending order.")
    if limit is not None:
        lines.append(f"merged = merged[:{limit}]")
        steps.append(f"Keep the first {limit} elements.")
    lines.append("return merged")

    def sorted_list() -> list[int]:
        return sorted(_ints(rng, rng.randint(1, 6), -10, 10))

    return _Spec(
        template="merge_sorted",
        name=rng.choice(
            ("union_sorted", "merge_unique", "merge_distinct")
            if dedupe
            else ("merge_sorted", "merge_lists", "combine_sorted")
        )
        + ("_desc" if descending else ""),
        params=(("a", "ints"), ("b", "ints")),
        result="ints",
        returns=f"a list of {what}, in {order} order"
        + (f", cut to its first {limit} elements (all if there are fewer)" if limit else ""),
        body=_body(*lines),
        notes="Both a and b are sorted in non-decreasing order; either may be empty.",
        cases=[
            (sorted_list(), sorted_list()),
            ([], sorted_list()),
            (sorted_list(), []),
            ([1, 1, 2], [1, 2, 2]),
            (sorted_list(), sorted_list()),
            (sorted(_ints(rng, 8, 0, 5)), sorted(_ints(rng, 8, 0, 5))),
        ],
        steps=steps,
    )


def _run_length(rng: random.Random) -> _Spec:
    p = rng.choice(_TEXT_NAMES)
    count_first = rng.random() < 0.5
    omit_ones = rng.random() < 0.5
    joiner = rng.choice(("", ",", " ", ";", "-", "|"))
    char, count = f"{p}[i]", "str(j - i)"
    piece = f"{count} + {char}" if count_first else f"{char} + {count}"
    if omit_ones:
        piece = f"{char} if j == i + 1 else {piece}"
    order = (
        "the length of the run in decimal followed by its character"
        if count_first
        else "the character of the run followed by its length in decimal"
    )
    between = f"with {joiner!r} between them" if joiner else "with nothing between them"

    def text() -> str:
        runs = [rng.choice("abcxyz") * rng.randint(1, 4) for _ in range(rng.randint(2, 6))]
        return "".join(runs)

    return _Spec(
        template="run_length",
        name=rng.choice(("run_length_encode", "rle", "compress_runs", "encode_runs")),
        params=((p, "str"),),
        result="str",
        returns=(
            f"the run-length encoding of {p}: each maximal run of equal characters is written as "
            f"{order}"
            + (
                ", except that a run of length 1 is written as its character alone"
                if omit_ones
                else ""
            )
            + f", and these pieces are joined in order {between}"
        ),
        body=_body(
            "pieces = []",
            "i = 0",
            f"while i < len({p}):",
            "    j = i",
            f"    while j < len({p}) and {p}[j] == {p}[i]:",
            "        j += 1",
            f"    pieces.append({piece})",
            "    i = j",
            f"return {joiner!r}.join(pieces)",
        ),
        notes=f"{p} consists of lower-case letters only; an empty {p} gives an empty string.",
        cases=[(text(),), ("",), ("a",), (text(),), ("z" * rng.randint(10, 15) + "y",), (text(),)],
        steps=[
            "Scan the string, extending j while the character repeats to find each run.",
            "Write the run as its character and its length (j - i) in the required order"
            + (", dropping a length of 1." if omit_ones else "."),
            f"Join the pieces with {joiner!r}.",
        ],
    )


_MATRIX_OPS = {
    "transpose": (
        ("transpose", "transposed", "swap_axes"),
        "the transpose of {p}: row i of the result is column i of {p}",
        "return [list(row) for row in zip(*{p})]",
        "zip(*rows) yields the columns in order; each becomes a row.",
    ),
    "rotate_cw": (
        ("rotate_clockwise", "turn_right", "rotate_cw"),
        "{p} rotated 90 degrees clockwise: the first row of the result is the first column "
        "of {p} read from bottom to top",
        "return [list(row) for row in zip(*{p}[::-1])]",
        "Reverse the order of the rows, then read the columns as rows.",
    ),
    "rotate_ccw": (
        ("rotate_counterclockwise", "turn_left", "rotate_ccw"),
        "{p} rotated 90 degrees counter-clockwise: the first row of the result is the last "
        "column of {p} read from top to bottom",
        "return [list(row) for row in zip(*{p})][::-1]",
        "Read the columns as rows (the transpose), then reverse the order of those rows.",
    ),
    "rotate_180": (
        ("rotate_half_turn", "rotate_180", "turn_around"),
        "{p} rotated by 180 degrees: the rows in reverse order, each row reversed",
        "return [row[::-1] for row in {p}[::-1]]",
        "Reverse the order of the rows and reverse each row.",
    ),
    "mirror": (
        ("mirror", "mirror_rows", "flip_horizontal"),
        "{p} mirrored left to right: every row reversed, the rows in their order",
        "return [row[::-1] for row in {p}]",
        "Reverse each row with the slice [::-1].",
    ),
    "flip": (
        ("flip_vertical", "upside_down", "reverse_rows"),
        "{p} turned upside down: the rows in reverse order, each row unchanged",
        "return [list(row) for row in {p}[::-1]]",
        "Take the rows in reverse order, copying each.",
    ),
    "anti_transpose": (
        ("anti_transpose", "reflect_anti_diagonal", "transpose_anti"),
        "the reflection of {p} in its anti-diagonal: for r rows and c columns, entry [i][j] "
        "of the result is {p}[r - 1 - j][c - 1 - i]",
        "return [list(row) for row in zip(*[row[::-1] for row in {p}[::-1]])]",
        "Rotate by 180 degrees (rows reversed, each row reversed), then transpose.",
    ),
}


def _matrix(rng: random.Random) -> _Spec:
    op = rng.choice(list(_MATRIX_OPS))
    names, returns, body, step = _MATRIX_OPS[op]
    p = rng.choice(("matrix", "grid", "table", "rows"))

    def grid(rows: int, columns: int) -> list[list[int]]:
        return [_ints(rng, columns, -9, 30) for _ in range(rows)]

    return _Spec(
        template="matrix",
        name=rng.choice(names),
        params=((p, "matrix"),),
        result="matrix",
        returns=returns.format(p=p),
        body=body.format(p=p),
        notes=f"{p} is a non-empty rectangular list of rows, each with at least one integer.",
        cases=[
            (grid(2, 3),),
            (grid(1, 1),),
            (grid(3, 3),),
            (grid(1, rng.randint(2, 5)),),
            (grid(rng.randint(2, 5), 1),),
            (grid(4, 2),),
        ],
        steps=[
            "Index the result by (row, column) and see where each entry of the input goes.",
            step,
            "Return a list of lists, so the result is a fresh matrix.",
        ],
    )


_ORDINALS = {2: "second", 3: "third", 4: "fourth", 5: "fifth"}


def _kth_distinct(rng: random.Random) -> _Spec:
    k = rng.choice(list(_ORDINALS))
    largest = rng.random() < 0.5
    extreme = "largest" if largest else "smallest"
    p = rng.choice(_LIST_NAMES)
    ordinal = _ORDINALS[k]
    enough = rng.sample(range(-15, 16), rng.randint(k, 8))  # at least k distinct values
    enough += rng.sample(enough, 2)
    rng.shuffle(enough)
    return _Spec(
        template="kth_distinct",
        name=rng.choice(
            (f"{ordinal}_{extreme}", f"{ordinal}_{extreme}_distinct", f"{ordinal}_{extreme}_value")
        ),
        params=((p, "ints"),),
        result="int?",
        returns=(
            f"the {ordinal} {extreme} distinct value in {p} (a value that occurs several times "
            "counts once)"
        ),
        absent=f"{p} holds fewer than {k} distinct values",
        body=_body(
            f"distinct = sorted(set({p}){', reverse=True' if largest else ''})",
            f"return distinct[{k - 1}] if len(distinct) >= {k} else None",
        ),
        cases=[
            (enough,),
            ([],),
            (list(range(k + 1)) * 2,),
            ([rng.randint(-5, 5)] * 3,),
            (list(range(k - 1)),),
            (_ints(rng, rng.randint(8, 12), 0, 6),),
        ],
        steps=[
            "Drop duplicates with set(), so repeated values count once.",
            "Sort the distinct values "
            + ("from largest to smallest." if largest else "ascending."),
            f"Return the element at index {k - 1} if there are at least {k}, else None.",
        ],
    )


_OPERATORS = {
    "+": ("'+' (addition)", "a + b"),
    "-": ("'-' (subtraction)", "a - b"),
    "*": ("'*' (multiplication)", "a * b"),
    "/": ("'/' (integer division rounding down, like Python's //; b is never 0)", "a // b"),
    "%": ("'%' (the remainder with the sign of b, like Python's %; b is never 0)", "a % b"),
    "^": ("'^' (a raised to the power b; then 0 <= b <= 6)", "a**b"),
}


def _calculator(rng: random.Random) -> _Spec:
    ops = rng.sample(list(_OPERATORS), rng.randint(2, 5))
    p = rng.choice(("expression", "expr", "query", "formula"))
    lines = [f"left, op, right = {p}.split()", "a, b = int(left), int(right)"]
    for op in ops[:-1]:
        lines += [f"if op == {op!r}:", f"    return {_OPERATORS[op][1]}"]
    lines.append(f"return {_OPERATORS[ops[-1]][1]}  # op == {ops[-1]!r}")

    def expression(op: str) -> str:
        if op == "^":
            return f"{rng.randint(-9, 9)} ^ {rng.randint(0, 6)}"
        b = rng.choice([v for v in range(-30, 31) if v != 0])
        return f"{rng.randint(-100, 100)} {op} {b}"

    used = (ops * 3)[:6]
    rng.shuffle(used)
    return _Spec(
        template="calculator",
        name=rng.choice(("evaluate", "calculate", "compute", "apply_operator")),
        params=((p, "str"),),
        result="int",
        returns=f"the integer value of {p}",
        body=_body(*lines),
        notes=(
            f"{p} has the form 'a op b': an integer a, one space, an operator op, one space, "
            "and an integer b; a and b may be negative. op is one of: "
            + "; ".join(_OPERATORS[op][0] for op in ops)
            + "."
        ),
        cases=[(expression(op),) for op in used],
        steps=[
            "Split the expression at the spaces into the two operands and the operator.",
            "Convert the operands with int(), which accepts a leading minus sign.",
            "Apply the operator; Python's // and % already round down and follow the sign of b.",
        ],
    )


def _digits(rng: random.Random) -> _Spec:
    base = rng.randint(2, 16)
    p = rng.choice(_INT_NAMES)
    mode = rng.choice(("sum", "count", "nonzero"))
    written = f"written in base {base}" + (" (binary)" if base == 2 else "")
    if mode == "sum":
        name = rng.choice((f"digit_sum_base_{base}", f"sum_of_digits_base_{base}"))
        returns = f"the sum of the digits of {p} {written}, each digit taken as its value"
        body = ["total = 0", f"while {p} > 0:", f"    total += {p} % {base}"]
        step = "Add each digit to a running total."
    elif mode == "count":
        name = rng.choice((f"count_digits_base_{base}", f"digit_count_base_{base}"))
        returns = f"the number of digits of {p} {written}, where 0 has the single digit 0"
        body = ["total = 1", f"while {p} >= {base}:", "    total += 1"]
        step = "Count one digit for each division while the number is at least the base."
    else:
        name = rng.choice((f"nonzero_digits_base_{base}", f"count_nonzero_base_{base}"))
        returns = f"the number of non-zero digits of {p} {written}"
        body = ["total = 0", f"while {p} > 0:", f"    total += {p} % {base} != 0"]
        step = "Count the digits that are not 0."
    return _Spec(
        template="digits",
        name=name,
        params=((p, "int"),),
        result="int",
        returns=returns,
        body=_body(*body, f"    {p} //= {base}", "return total"),
        notes=f"{p} is an integer with 0 <= {p} <= 10**12.",
        cases=[
            (rng.randint(base, 10**4),),
            (0,),
            (base - 1,),
            (base**3,),
            (rng.randint(10**6, 10**12),),
            (rng.randint(1, 10**5),),
        ],
        steps=[
            f"{p} % {base} is the last digit in base {base}, and {p} //= {base} removes it.",
            step,
            "Stop when the number has no digits left and return the total.",
        ],
    )


_TEMPLATES: dict[str, Callable[[random.Random], _Spec]] = {
    "multiples_sum": _multiples_sum,
    "reverse_pieces": _reverse_pieces,
    "count_letters": _count_letters,
    "running_window": _running_window,
    "fibonacci_mod": _fibonacci_mod,
    "primes": _primes,
    "rotate": _rotate,
    "merge_sorted": _merge_sorted,
    "run_length": _run_length,
    "matrix": _matrix,
    "kth_distinct": _kth_distinct,
    "calculator": _calculator,
    "digits": _digits,
}


# --- statements, references and tests ------------------------------------------------------------


def _signature(spec: _Spec) -> str:
    params = ", ".join(f"{name}: {_TYPES[kind]}" for name, kind in spec.params)
    return f"{spec.name}({params}) -> {_TYPES[spec.result]}"


def _function_source(spec: _Spec) -> str:
    return f"def {_signature(spec)}:\n{textwrap.indent(spec.body, '    ')}\n"


def _answer(spec: _Spec, yes: str, no: str, none: str) -> str:
    """What the solution computes, with the words for True, False and None of its format."""
    if spec.result == "bool":
        return f"{yes} if {spec.returns}, and {no} otherwise"
    if spec.result == "int?":
        return f"{spec.returns}, or {none} if {spec.absent}"
    return spec.returns


def _function_statement(spec: _Spec) -> str:
    answer = _answer(spec, "True", "False", "None")
    task = f"Write a Python function `{_signature(spec)}` that returns {answer}."
    return f"{task} {spec.notes}".rstrip()


_INPUT_LINES = {
    "int": "a line with the integer {p}",
    "str": "a line holding the string {p} (the whole line without its line break; it may be empty)",
    "ints": "a line with the length of the list {p}, then a line with its elements separated by "
    "single spaces (an empty line if the list is empty)",
    "matrix": "a line with the number of rows r and the number of columns c of {p}, separated by "
    "a space, then r lines, each with the c integers of one row separated by single spaces",
}
_OUTPUT_LINES = {
    "int": "one line with the integer",
    "str": "one line with the string",
    "bool": "one line with the word YES or the word NO",
    "ints": "one line with the elements of the list separated by single spaces (an empty line if "
    "the list is empty)",
    "matrix": "the rows of the matrix, one per line, the entries of a row separated by single "
    "spaces",
    "int?": "one line with the integer, or with the word NONE",
}


def _stdio_statement(spec: _Spec) -> str:
    names = " and ".join(name for name, _ in spec.params)
    answer = _answer(spec, "YES", "NO", "NONE")
    task = f"Write a Python program that reads {names} from standard input and prints {answer}."
    lines = "; then ".join(_INPUT_LINES[kind].format(p=name) for name, kind in spec.params)
    return (
        f"{task} {spec.notes}".rstrip()
        + f"\n\nInput: {lines}.\n\nOutput: {_OUTPUT_LINES[spec.result]}."
    )


_READERS = {
    "int": "{p} = int(input())",
    "str": "{p} = input()",
    "ints": "input()  # the length of {p}\n{p} = [int(x) for x in input().split()]",
    "matrix": "row_count = int(input().split()[0])\n"
    "{p} = [[int(x) for x in input().split()] for _ in range(row_count)]",
}
_WRITERS = {
    "int": "print(result)",
    "str": "print(result)",
    "bool": 'print("YES" if result else "NO")',
    "ints": 'print(" ".join(map(str, result)))',
    "matrix": 'for row in result:\n    print(" ".join(map(str, row)))',
    "int?": 'print("NONE" if result is None else result)',
}


def _stdio_source(spec: _Spec) -> str:
    reads = [_READERS[kind].format(p=name) for name, kind in spec.params]
    call = f"result = {spec.name}({', '.join(name for name, _ in spec.params)})"
    main = "\n".join([*reads, call, _WRITERS[spec.result]])
    return f"{_function_source(spec)}\n\n{main}\n"


def _stdin(spec: _Spec, args: tuple[Any, ...]) -> str:
    text = ""
    for (_, kind), value in zip(spec.params, args, strict=True):
        if kind == "ints":
            text += f"{len(value)}\n{' '.join(map(str, value))}\n"
        elif kind == "matrix":
            text += f"{len(value)} {len(value[0])}\n"
            text += "".join(" ".join(map(str, row)) + "\n" for row in value)
        else:
            text += f"{value}\n"
    return text


def _run_script(source: str, stdin: str) -> str:
    """What the script prints for `stdin`, run here with `input` and `print` redirected."""
    lines = iter(stdin.splitlines())
    out = io.StringIO()
    namespace = {
        "__name__": "__main__",
        "input": lambda: next(lines),
        "print": functools.partial(print, file=out),
    }
    exec(source, namespace)
    return out.getvalue()


def _call(spec: _Spec, args: tuple[Any, ...]) -> str:
    return f"{spec.name}({', '.join(map(repr, args))})"


def _tests(
    spec: _Spec, test_format: str, rng: random.Random
) -> tuple[str, AssertTests | CallTests | StdioTests | PytestTests]:
    """The reference and the tests of the problem in `test_format`, expected values computed."""
    cases = list({repr(args): args for args in spec.cases}.values())
    if test_format == "stdio":
        reference = _stdio_source(spec)
        inputs = [_stdin(spec, args) for args in cases[: rng.randint(3, 5)]]
        stdio = [StdioCase(input=text, output=_run_script(reference, text)) for text in inputs]
        return reference, StdioTests(format="stdio", cases=stdio)
    reference = _function_source(spec)
    namespace: dict[str, Any] = {}
    exec(reference, namespace)
    chosen = [(args, namespace[spec.name](*args)) for args in cases[: rng.randint(3, 6)]]
    if test_format == "call":
        calls = [
            CallCase(args=list(args), expected=json.loads(json.dumps(value)))
            for args, value in chosen
        ]
        return reference, CallTests(format="call", entry_point=spec.name, cases=calls)
    asserts = [f"assert {_call(spec, args)} == {value!r}" for args, value in chosen]
    if test_format == "assert":
        code = "\n".join(asserts) + "\n"
        return reference, AssertTests(format="assert", code=code, entry_point=spec.name)
    groups = rng.randint(2, min(4, len(asserts)))
    functions = [
        f"def test_{spec.template}_{i + 1}():\n    "
        + "\n    ".join(asserts[i * len(asserts) // groups : (i + 1) * len(asserts) // groups])
        for i in range(groups)
    ]
    code = f"from solution import {spec.name}\n\n\n" + "\n\n\n".join(functions) + "\n"
    return reference, PytestTests(format="pytest", code=code)


def _statement(spec: _Spec, test_format: str) -> str:
    return _stdio_statement(spec) if test_format == "stdio" else _function_statement(spec)


def generate_code(count: int, seed: int) -> list[Problem]:
    """`count` distinct procedural coding problems with tests, the same for the same seed."""
    return list(draw_code(count, seed))


def draw_code(count: int, seed: int) -> Iterator[Problem]:
    """`generate_code`'s problems one at a time, so a job holds none it has not reached."""
    rng = random.Random(seed)
    turns = take_turns(
        count,
        list(_TEMPLATES.items()),
        rng,
        lambda index, spec: _statement(spec, FORMATS[index % len(FORMATS)]),
        "coding",
    )
    for index, template, spec, statement in turns:
        reference, tests = _tests(spec, FORMATS[index % len(FORMATS)], rng)
        yield Problem(
            id=f"gen-code-{seed}-{index}",
            domain="code",
            problem=statement,
            reference=reference,
            tests=tests,
            source=SOURCE,
            meta={"template": template, "steps": spec.steps},
        )
