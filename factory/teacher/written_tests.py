"""The offline teacher's tests: asserts for a built-in problem, some deliberately wrong.

Asked for tests (`solve.model_tests`), the teacher writes asserts from the problem's own
test cases, which it knows: each is `assert CALL == EXPECTED`, and with the error rate an
expected value is changed the way a model miscounts (one more, one character more, a missing
element, the other truth value). So a correct solution passes most tests, not all, and dual
agreement has wrong tests to see through, as with a real model.
"""

from __future__ import annotations

import ast
import random
from typing import Any

from verified_factory.records import AssertTests, CallTests, Problem, PytestTests

MAX_ASSERTS = 8


def written_tests(problem: Problem, error_rate: float, rng: random.Random) -> str:
    """A reply to a request for tests: one code block of asserts on the problem's function."""
    cases = _cases(problem)
    rng.shuffle(cases)
    lines = []
    for call, expected in cases[:MAX_ASSERTS]:
        value = _miscounted(expected, rng) if rng.random() < error_rate else expected
        lines.append(f"assert {call} == {value!r}")
    body = "\n".join(lines)
    return f"Here are tests for the task.\n\n```python\n{body}\n```"


def _cases(problem: Problem) -> list[tuple[str, Any]]:
    """Each test case of the problem as (the call's source, the expected value)."""
    tests = problem.tests
    if isinstance(tests, CallTests):
        return [
            (f"{tests.entry_point}({_arguments(case.args, case.kwargs)})", case.expected)
            for case in tests.cases
        ]
    if isinstance(tests, AssertTests | PytestTests):
        return [
            (ast.unparse(node.test.left), ast.literal_eval(node.test.comparators[0]))
            for node in ast.walk(ast.parse(tests.code))
            if isinstance(node, ast.Assert) and _is_equality_of_a_call(node.test)
        ]
    return []


def _arguments(args: list[Any], kwargs: dict[str, Any]) -> str:
    return ", ".join([*map(repr, args), *(f"{key}={value!r}" for key, value in kwargs.items())])


def _is_equality_of_a_call(test: ast.expr) -> bool:
    if not (
        isinstance(test, ast.Compare)
        and len(test.ops) == 1
        and isinstance(test.ops[0], ast.Eq)
        and isinstance(test.left, ast.Call)
    ):
        return False
    try:
        ast.literal_eval(test.comparators[0])
    except ValueError:
        return False
    return True


def _miscounted(value: Any, rng: random.Random) -> Any:
    if isinstance(value, bool):
        return not value
    if isinstance(value, int | float):
        return value + rng.choice((1, -1))
    if isinstance(value, str):
        return value + rng.choice(("a", " ", "|")) if value else "a"
    if isinstance(value, list):
        return value[:-1] if value else [0]
    if value is None:
        return 0
    return None
