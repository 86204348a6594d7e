"""Tests written by the model, for code problems without trusted tests (CodeT's other half).

A code problem judged by dual agreement (`star.asks_for_tests`) gets, next to its
solve requests, `verify.dual_agreement.test_samples` requests for tests. Each reply's top-level
asserts that call the problem's function are gathered with the problem's own untrusted tests
(OSS-Instruct writes some) into one assert suite; every sample is then judged against it.
"""

from __future__ import annotations

import ast

from verified_factory.config import ModelConfig
from verified_factory.models.base import ChatRequest
from verified_factory.records import AssertTests, Problem
from verified_factory.verifiers.code.dual_agreement import SplitTests, calls_function, split_tests
from verified_factory.verifiers.code.extract import code_blocks
from verified_factory.verifiers.code.reference_check import function_under_test

PROMPT = """Write tests for the following programming task. Do not solve it.

{problem}

Reply with one ```python code block of {count} independent assert statements, one per line. \
Each calls `{entry_point}` with concrete arguments and compares the result with the exact value \
a correct solution returns. Cover ordinary inputs and edge cases (empty, zero, negative, one \
element, duplicates, boundaries). Do not define `{entry_point}` or any other function."""

TESTS_PER_REPLY = 8
MAX_TESTS = 60
"""Asserts kept per problem at most: each runs once per distinct sample."""


def entry_point(problem: Problem) -> str | None:
    """The function a code problem asks for, as its meta or its tests name it."""
    named = problem.meta.get("entry_point")
    if isinstance(named, str) and named:
        return named
    return function_under_test(problem.tests)


def prompt_for_tests(problem: Problem) -> str:
    return PROMPT.format(
        problem=problem.problem.strip(),
        count=TESTS_PER_REPLY,
        entry_point=entry_point(problem) or "the function the task asks for",
    )


def requests_for_tests(problem: Problem, model: ModelConfig, samples: int) -> list[ChatRequest]:
    prompt = prompt_for_tests(problem)
    return [ChatRequest.asking(model, prompt, sample) for sample in range(samples)]


def gathered_tests(problem: Problem, replies: list[str]) -> AssertTests | None:
    """The problem's own asserts and those of the replies, each once; None when there are none.

    An assert that does not call the problem's function (when it is known) tests nothing of
    the solution and is left out, as is a reply that is not Python.
    """
    sources = [problem.tests.code] if isinstance(problem.tests, AssertTests) else []
    sources += [block for reply in replies for block in code_blocks(reply)]
    name = entry_point(problem)
    imports: list[str] = []
    asserts: list[str] = []
    for source in sources:
        try:
            split = split_tests(source)
        except SyntaxError:
            continue
        imports += [line for line in split.imports if line not in imports]
        asserts += [
            line
            for line in split.asserts
            if line not in asserts and (name is None or calls_function(ast.parse(line), name))
        ]
    if not asserts:
        return None
    code = SplitTests(imports, asserts[:MAX_TESTS]).code()
    if isinstance(problem.tests, AssertTests):  # keeps its limits
        return problem.tests.model_copy(update={"code": code, "entry_point": name})
    return AssertTests(format="assert", code=code, entry_point=name)
