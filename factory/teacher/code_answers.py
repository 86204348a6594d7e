"""The offline teacher's wrong programs: a realistic bug in the reference, checked to fail tests.

Each template of the code generator has a few bugs people make in such code (an off-by-one bound,
a comparison the wrong way round, a dropped case, a confused operator), written as a regular
expression edit of the reference. The tests of a problem may happen not to catch a given bug, and
a bug the tests miss would be accepted by the verifier, so a bug is first run here, in-process, on
the problem's own test cases, and used only if it fails one of them. That check runs once per
problem and bug, when a wrong answer first needs it, so building the teacher stays fast. Since the
buggy programs run in this process, no edit may loop forever or grow memory without bound.
"""

from __future__ import annotations

import ast
import copy
import functools
import io
import random
import re
from collections.abc import Callable, Iterator
from typing import Any, NamedTuple

from verified_factory.records import (
    AssertTests,
    CallTests,
    Problem,
    PytestTests,
    StdioCase,
    StdioTests,
)


class _Bug(NamedTuple):
    pattern: re.Pattern[str]
    replacement: str | Callable[[re.Match[str]], str]
    every: bool  # edit every occurrence, not only the first


def _bug(
    pattern: str, replacement: str | Callable[[re.Match[str]], str], every: bool = False
) -> _Bug:
    return _Bug(re.compile(pattern, re.MULTILINE), replacement, every)


def _plus(delta: int, before: str, after: str = "") -> Callable[[re.Match[str]], str]:
    """A replacement that writes the matched number plus `delta` between `before` and `after`."""
    return lambda match: f"{before}{int(match.group(1)) + delta}{after}"


# The bugs of each template of `sources.code_problems`; an edit that does not apply to a problem's
# reference (another variant of the template) is skipped.
_BUGS: dict[str, tuple[_Bug, ...]] = {
    "multiples_sum": (
        _bug(r"range\((\d+), (\w+) \+ 1, ", r"range(\1, \2, "),  # "at most" read as "less than"
        _bug(r"range\((\d+), (\w+), ", r"range(\1, \2 + 1, "),  # "less than" read as "at most"
        _bug(r"sum\(range\((\d+), ", "sum(range(1, "),  # counted from 1, not from the multiple
    ),
    "reverse_pieces": (
        _bug(r"\.split\('[^']*'\)", ".split()"),  # split at whitespace, not at the separator
        _bug(r"return .*?(\w+)\.split\(.*", r"return \1[::-1]"),  # the whole string reversed
        _bug(r"in (\w+)\.split\(('[^']*')\)", r"in reversed(\1.split(\2))"),  # order reversed too
        # the pieces reversed instead of their order
        _bug(r"reversed\((\w+)\.split\(('[^']*')\)\)", r"w[::-1] for w in \1.split(\2)"),
    ),
    "count_letters": (
        _bug(r"for ch in (\w+)\.lower\(\)", r"for ch in \1"),  # upper-case letters forgotten
        _bug(r"for ch in (\w+) if", r"for ch in \1.lower() if"),  # upper-case letters counted
        _bug(r"if ch in '([a-z]+)[a-z]'", r"if ch in '\1'"),  # the last letter left out
        _bug(r"if ch in ", "if ch not in "),  # the test the wrong way round
    ),
    "running_window": (
        _bug(r": i \+ 1\]", ": i]"),  # the slice stops before element i
        _bug(r"i - (\d+)\)", _plus(1, "i - ", ")")),  # the window one element too wide
        _bug(r"for i in range\(len\((\w+)\)\)", r"for i in range(1, len(\1))"),  # first skipped
    ),
    "fibonacci_mod": (
        _bug(r"for _ in range\((\w+)\)", r"for _ in range(\1 - 1)"),  # one step too few
        _bug(r"return a %", "return b %"),  # the next term returned
        _bug(r"a, b = (\d+), (\d+)", r"a, b = \2, \1"),  # the first two terms swapped
    ),
    "primes": (
        _bug(r"if (\w+) < 2:", r"if \1 < 1:"),  # 1 taken for a prime
        _bug(r"while (\w) \* \1 <= ", r"while \1 * \1 < "),  # squares of primes missed
        _bug(r"for q in range\((\w+) \+ 1\)", r"for q in range(\1)"),  # the bound left out
        _bug(r"range\(i \* i, (\w+) \+ 1, i\)", r"range(i * i, \1, i)"),  # the bound not sieved
        _bug(r"q = max\((\w+), 2\)", r"q = \1"),  # 0 and 1 taken for primes
        _bug(r"int\(q\*\*0\.5\) \+ 1\)", "int(q**0.5))"),  # squares of primes taken for primes
        _bug(r"return (\w+) if \1 > 1 else largest", "return largest"),  # last factor forgotten
        _bug(r" and q % \d+ == \d+", ""),  # the condition on the remainder forgotten
    ),
    "rotate": (
        _bug(r"^( *)if not \w+:\n\1    return \[\]\n", ""),  # the empty list forgotten
        _bug(r"shift = -", "shift = "),  # rotated left instead of right
        _bug(r"shift = (?=\w)", "shift = -"),  # rotated right instead of left
        _bug(r"shift = (-?\w+) % len\(\w+\)", r"shift = \1"),  # the shift not reduced
    ),
    "merge_sorted": (
        _bug(r"merged \+= a\[i:\] \+ b\[j:\]", "merged += a[i:]"),  # the rest of b forgotten
        _bug(r"if a\[i\] <= b\[j\]:", "if a[i] >= b[j]:"),  # the comparison the wrong way round
        _bug(r"^ *merged = \[x for k, x in .*\n", ""),  # duplicates kept
        _bug(r"^ *merged\.reverse\(\)\n", ""),  # left in ascending order
        _bug(r"merged\[:(\d+)\]", _plus(-1, "merged[:", "]")),  # one element too few
    ),
    "run_length": (
        _bug(r"str\(j - i\)", "str(j - i + 1)"),  # the run length off by one
        _bug(r"if j == i \+ 1 else", "if j == i else"),  # runs of one still get their count
        _bug(r"return '[^']+'\.join", "return ''.join"),  # the separator forgotten
        _bug(r"str\(j - i\) \+ (\w+)\[i\]", r"\1[i] + str(j - i)"),  # count and letter swapped
        _bug(r"(\w+)\[i\] \+ str\(j - i\)", r"str(j - i) + \1[i]"),  # letter and count swapped
    ),
    "matrix": (
        _bug(r"\[::-1\]", ""),  # the first reversal left out
        _bug(r"(.*)\[::-1\]", r"\1"),  # the last reversal left out
        _bug(r"zip\(\*(\w+)\)", r"zip(*\1[::-1])"),  # the rows reversed before reading columns
        _bug(r"\[row\[::-1\] for row in (\w+)\]", r"[list(row) for row in \1[::-1]]"),  # flipped
        _bug(r"\[list\(row\) for row in (\w+)\[::-1\]\]", r"[row[::-1] for row in \1]"),  # mirrored
    ),
    "kth_distinct": (
        _bug(r"sorted\(set\((\w+)\)", r"sorted(\1"),  # duplicates counted
        _bug(r"distinct\[(\d+)\]", _plus(1, "distinct[", "]")),  # the index off by one
        _bug(r", reverse=True\)", ")"),  # counted from the wrong end
        _bug(r"sorted\(set\((\w+)\)\)", r"sorted(set(\1), reverse=True)"),  # the wrong end
        _bug(r"len\(distinct\) >= ", "len(distinct) > "),  # exactly k values taken for too few
    ),
    "calculator": (
        _bug(r"a\*\*b", "a ^ b"),  # `^` is exclusive or in Python
        _bug(r"a // b", "int(a / b)"),  # rounds toward zero instead of down
        _bug(r"a % b", "a - b * int(a / b)"),  # C's remainder, with the sign of a
        _bug(r"a - b", "b - a"),  # the operands swapped
        _bug(r"int\(left\), int\(right\)", "int(left), int(left)"),  # a copy-and-paste slip
        _bug(r"^ *if op == '[^']+':\n.*\n", ""),  # the first operator forgotten
        _bug(r"^ *if op == '[^']+':\n.*\n(?= *return .*# op ==)", ""),  # the last one forgotten
    ),
    "digits": (
        _bug(r"total = 1", "total = 0"),  # the leading digit not counted
        _bug(r"while (\w+) >= (\d+):", r"while \1 > \2:"),  # the boundary off by one
        _bug(r"(%|//=) (\d+)", r"\1 10", every=True),  # decimal digits, not the base's
        _bug(r" != 0$", ""),  # the digits summed instead of counted
        _bug(r"while (\w+) > 0:", r"while \1 > 1:"),  # stops one digit early
        _bug(r"//= (\d+)", r"/= \1"),  # true division, so the number turns into a float
    ),
}


class BuggyPrograms:
    """Wrong programs for code problems; each bug is run on a problem's tests once, then cached."""

    def __init__(self) -> None:
        self._caught: dict[tuple[str, str], bool] = {}

    def program(self, problem: Problem, rng: random.Random) -> str:
        """A buggy version of `problem.reference` that fails the problem's tests.

        `rng` picks the bug, so different samples get different bugs; if the picked one slips
        through the tests the next is tried, and if all do the function's name is misspelt, which
        no test format passes.
        """
        reference = problem.reference or ""
        bugs = list(_edits(problem.meta.get("template", ""), reference))
        start = rng.randrange(len(bugs)) if bugs else 0
        for program in bugs[start:] + bugs[:start]:
            key = (problem.id, program)
            if key not in self._caught:
                self._caught[key] = _fails(program, problem)
            if self._caught[key]:
                return program
        return _misnamed(reference)


def _edits(template: str, reference: str) -> Iterator[str]:
    """The reference with each of the template's bugs that apply to it, each a different program."""
    seen = {reference}
    for bug in _BUGS.get(template, ()):
        program, count = bug.pattern.subn(bug.replacement, reference, count=0 if bug.every else 1)
        if count and program not in seen:
            seen.add(program)
            yield program


def _misnamed(program: str) -> str:
    """The last resort: the function's name misspelt where it is defined (an `s` off or on)."""
    return re.sub(
        r"def (\w+?)(s?)\(",
        lambda m: f"def {m.group(1)}{'' if m.group(2) else 's'}(",
        program,
        count=1,
    )


# --- running a program on a problem's tests, in-process ----------------------------------------


def _fails(program: str, problem: Problem) -> bool:
    """Whether `program` fails at least one test of `problem` (false when none can be read)."""
    tests = problem.tests
    if isinstance(tests, StdioTests):
        return any(not _prints(program, case) for case in tests.cases)
    if not isinstance(tests, AssertTests | CallTests | PytestTests):
        return False
    namespace: dict[str, Any] = {"__name__": "solution"}
    try:
        exec(program, namespace)
    except Exception:
        return True
    return any(not _returns(namespace, *call) for call in _calls(tests))


def _calls(
    tests: AssertTests | CallTests | PytestTests,
) -> Iterator[tuple[str, list[Any], dict[str, Any], Any]]:
    """(function, args, kwargs, expected) of each test: the cases, or `assert f(...) == value`."""
    if isinstance(tests, CallTests):
        for case in tests.cases:
            yield tests.entry_point, case.args, case.kwargs, case.expected
        return
    for node in ast.walk(ast.parse(tests.code)):
        call = _asserted_call(node)
        if call is None:
            continue
        try:
            args = [ast.literal_eval(arg) for arg in call[0].args]
            kwargs = {kw.arg or "": ast.literal_eval(kw.value) for kw in call[0].keywords}
            expected = ast.literal_eval(call[1])
        except ValueError:
            continue
        yield call[0].func.id, args, kwargs, expected  # type: ignore[attr-defined]


def _asserted_call(node: ast.AST) -> tuple[ast.Call, ast.expr] | None:
    """The call and the expected value of `assert name(...) == value`, else None."""
    if not (isinstance(node, ast.Assert) and isinstance(node.test, ast.Compare)):
        return None
    test = node.test
    if len(test.ops) != 1 or not isinstance(test.ops[0], ast.Eq):
        return None
    if not (isinstance(test.left, ast.Call) and isinstance(test.left.func, ast.Name)):
        return None
    return test.left, test.comparators[0]


def _returns(
    namespace: dict[str, Any], name: str, args: list[Any], kwargs: dict[str, Any], expected: Any
) -> bool:
    function = namespace.get(name)
    if not callable(function):
        return False
    try:
        got = function(*copy.deepcopy(args), **copy.deepcopy(kwargs))
    except Exception:
        return False
    return _same(got, expected)


def _same(got: Any, expected: Any) -> bool:
    """Equal under any of the verifier's comparisons (Python's `==`, JSON's, float tolerance).

    Lenient on purpose: a bug counts as caught only when its result differs under every
    comparison the verifier might apply to it.
    """
    if isinstance(got, list | tuple) and isinstance(expected, list | tuple):
        return len(got) == len(expected) and all(map(_same, got, expected))
    if isinstance(got, float) or isinstance(expected, float):
        numbers = all(isinstance(v, int | float) for v in (got, expected))
        return numbers and abs(got - expected) <= 1e-6 * max(1.0, abs(expected))
    return got == expected


def _prints(program: str, case: StdioCase) -> bool:
    """Whether the program prints the case's output for its input (as the verifier compares)."""
    lines = iter(case.input.splitlines())
    out = io.StringIO()
    namespace = {
        "__name__": "__main__",
        "input": lambda *_: next(lines),
        "print": functools.partial(print, file=out),
    }
    try:
        exec(program, namespace)
    except Exception:
        return False
    return _lines(out.getvalue()) == _lines(case.output)


def _lines(text: str) -> list[str]:
    return [line.rstrip() for line in text.rstrip().splitlines()]
