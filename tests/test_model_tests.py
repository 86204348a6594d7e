"""Tests the model writes: gathered per problem, and the offline teacher's own."""

from __future__ import annotations

import random

from verified_factory.config import Generators
from verified_factory.records import AssertTests, Problem
from verified_factory.solve.model_tests import entry_point, gathered_tests, prompt_for_tests
from verified_factory.solve.star import asks_for_tests, can_rationalize
from verified_factory.sources import as_sourced
from verified_factory.sources.code_problems import generate_code
from verified_factory.teacher.written_tests import written_tests
from verified_factory.verifiers.code.dual_agreement import split_tests

PROBLEM = Problem(
    id="p", domain="code", problem="Write clamp(x, lo, hi).", meta={"entry_point": "clamp"}
)


def test_replies_are_gathered_into_one_suite_of_single_asserts() -> None:
    replies = [
        "Tests:\n```python\nimport math\n"
        "assert clamp(1, 0, 2) == 1\nassert clamp(5, 0, 2) == 2\n```",
        "```python\nassert clamp(1, 0, 2) == 1\nassert len('ab') == 2\n"
        "def clamp(x, lo, hi):\n    return x\nassert clamp(-3, 0, 2) == 0\n```",
        "Sorry, I cannot write tests today.",
        "```python\nassert clamp(1, 0 == \n```",  # not Python: left out
    ]
    suite = gathered_tests(PROBLEM, replies)
    assert suite == AssertTests(
        format="assert",
        code="import math\nassert clamp(1, 0, 2) == 1\nassert clamp(5, 0, 2) == 2\n"
        "assert clamp(-3, 0, 2) == 0\n",  # once each; no def; no assert that skips clamp
        entry_point="clamp",
    )


def test_a_problem_keeps_its_own_untrusted_tests_and_their_limits() -> None:
    own = AssertTests(
        format="assert", code="assert clamp(0, 0, 0) == 0", entry_point="clamp", time_limit_s=3
    )
    problem = PROBLEM.model_copy(update={"tests": own, "meta": {"tests_trusted": False}})
    suite = gathered_tests(problem, ["```python\nassert clamp(9, 0, 2) == 2\n```"])
    assert suite is not None and suite.time_limit_s == 3
    assert split_tests(suite.code).asserts == [
        "assert clamp(0, 0, 0) == 0",
        "assert clamp(9, 0, 2) == 2",
    ]
    assert gathered_tests(PROBLEM, ["no code here", ""]) is None


def test_the_prompt_names_the_function() -> None:
    assert "Each calls `clamp` with concrete arguments" in prompt_for_tests(PROBLEM)
    assert entry_point(PROBLEM.model_copy(update={"meta": {}})) is None


def test_which_problems_ask_for_tests_and_are_judged_together() -> None:
    trusted = AssertTests(format="assert", code="assert clamp(0, 0, 0) == 0", entry_point="clamp")
    with_tests = PROBLEM.model_copy(update={"tests": trusted, "reference": "def clamp(): ..."})
    untrusted = with_tests.model_copy(update={"meta": {"tests_trusted": False}})
    assert asks_for_tests(PROBLEM) and asks_for_tests(untrusted)
    assert not asks_for_tests(with_tests)
    assert PROBLEM.judged_together and untrusted.judged_together
    assert not with_tests.judged_together
    math = Problem(id="m", domain="math", problem="1+1?")
    assert math.judged_together and not math.model_copy(update={"reference": "2"}).judged_together
    assert can_rationalize(with_tests)
    assert not can_rationalize(untrusted), "an untrusted reference is never a hint"


def test_withheld_tests_leave_the_function_name_and_the_teacher_writes_some_wrong() -> None:
    generators = Generators(code=13, seed=3, tests=False)
    problems = generate_code(26, 3)
    wrong = right = 0
    for problem in problems:
        sourced = as_sourced(problem, generators)
        if problem.tests.format == "stdio":
            assert sourced.tests == problem.tests, "a program's tests are kept"
            continue
        assert sourced.tests is None and sourced.meta["entry_point"]
        reply = written_tests(problem, 0.3, random.Random(problem.id))
        suite = gathered_tests(sourced, [reply])
        assert suite is not None and suite.entry_point == sourced.meta["entry_point"]
        namespace: dict = {}
        exec(problem.reference, namespace)
        for line in split_tests(suite.code).asserts:
            try:
                exec(line, dict(namespace))
                right += 1
            except AssertionError:
                wrong += 1
    assert right > 50 and 0.15 < wrong / (right + wrong) < 0.45, (right, wrong)
