"""Kept rows that would teach the wrong thing: hinted replies without reasoning of their own,
programs that run demo code at import."""

from __future__ import annotations

import json

import pytest
from attempts import make_attempt

from verified_factory.curate.rationales import rationale_flaw
from verified_factory.rows import Attempt

REFERENCE = (
    "def running_max(values):\n"
    "    best, out = None, []\n"
    "    for value in values:\n"
    "        best = value if best is None else max(best, value)\n"
    "        out.append(best)\n"
    "    return out\n"
)
REASONING = (
    "We walk the list once and remember the largest value seen so far; each position gets "
    "that running maximum, so the whole pass is linear.\n\n"
)
OWN_CODE = (
    "def running_max(values):\n"
    "    result = []\n"
    "    for i, value in enumerate(values):\n"
    "        result.append(value if i == 0 else max(result[-1], value))\n"
    "    return result\n"
)


def code_row(program: str, *, prose: str = REASONING, hinted: bool = False, tests=None) -> Attempt:
    attempt = make_attempt(
        "p/s0", "p", "Running maximum.", f"{prose}```python\n{program}```\n", domain="code",
        kept=True, rationalized=hinted,
    )  # fmt: skip
    spec = tests or {"format": "assert", "code": "assert running_max([1, 3, 2]) == [1, 3, 3]"}
    return attempt.model_copy(update={"reference": REFERENCE, "tests": json.dumps(spec)})


def math_row(response: str, *, hinted: bool = True) -> Attempt:
    attempt = make_attempt("m/r0", "m", "What is 2 + 3?", response, kept=True, rationalized=hinted)
    return attempt.model_copy(update={"reference": "5"})


def rule(attempt: Attempt) -> str | None:
    flaw = rationale_flaw(attempt)
    return None if flaw is None else flaw.rule


@pytest.mark.parametrize(
    ("response", "expected"),
    [
        ("\\boxed{5}", "no_reasoning"),
        ("The answer is \\boxed{5}.", "no_reasoning"),
        ("Using the hint, 2 + 3 = 5, so the total is \\boxed{5}.", "mentions_hint"),
        ("We were told the answer, and 2 plus 3 is indeed five: \\boxed{5}.", "mentions_hint"),
        (
            "As the given answer says, two and three make five together: \\boxed{5}.",
            "mentions_hint",
        ),
        ("Start with two apples, then add three more apples to the pile: \\boxed{5}.", None),
    ],
)
def test_hinted_math_replies(response: str, expected: str | None) -> None:
    assert rule(math_row(response)) == expected


def test_an_unhinted_terse_reply_is_not_judged_by_the_hinted_rules() -> None:
    assert rule(math_row("\\boxed{5}", hinted=False)) is None


def test_a_hinted_program_that_is_the_reference_again_is_a_copy() -> None:
    renamed_layout = REFERENCE.replace("    ", "  ") + "# done\n"
    assert rule(code_row(renamed_layout, hinted=True)) == "copies_hint"
    assert rule(code_row(OWN_CODE, hinted=True)) is None
    assert rule(code_row(REFERENCE, hinted=False)) is None  # solved alone: no hint to copy


def test_a_hinted_program_without_prose_has_no_reasoning() -> None:
    assert rule(code_row(OWN_CODE, prose="", hinted=True)) == "no_reasoning"


@pytest.mark.parametrize(
    ("tail", "expected"),
    [
        ("print(running_max([1, 3, 2]))  # [1, 3, 3]\n", "runs_module_code"),
        ("for v in [1, 2]:\n    pass\n", "runs_module_code"),
        ("cache = load_table()\n", "runs_module_code"),
        ("if __name__ == '__main__':\n    print(running_max([1, 2]))\n", None),
        ("LIMIT = 10 ** 6\nSEEN = set()\n", None),
        ("import sys\nsys.setrecursionlimit(10000)\n", None),
        ('"""A docstring."""\n', None),
    ],
)
def test_module_code(tail: str, expected: str | None) -> None:
    assert rule(code_row(OWN_CODE + tail)) == expected


def test_a_stdio_program_is_meant_to_run() -> None:
    stdio = {"format": "stdio", "cases": [{"input": "1\n", "output": "1\n"}]}
    assert rule(code_row("print(input())\n", tests=stdio)) is None
