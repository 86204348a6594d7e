"""The procedural code generator: a varied, deterministic batch whose references pass their own
tests in the real sandbox, and whose tests reject a broken solution."""

from __future__ import annotations

import ast
import json
import re
import sys
import types

import pytest

from verified_factory.records import Candidate, Problem, Verdict
from verified_factory.sandboxes import open_sandbox
from verified_factory.sources.code_problems import generate_code
from verified_factory.verifiers.code import CodeVerifier

COUNT = 48
FORMATS = {"assert", "call", "stdio", "pytest"}


@pytest.fixture(scope="module")
def problems() -> list[Problem]:
    return generate_code(COUNT, seed=0)


def broken(problem: Problem) -> str:
    """A wrong solution: for stdio a script that prints nothing, else every function returns
    None."""
    assert problem.reference is not None
    if problem.tests is not None and problem.tests.format == "stdio":
        return "import sys\n\nsys.stdin.read()\n"
    tree = ast.parse(problem.reference)
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            node.body = [ast.Return(ast.Constant(None))]
    return ast.unparse(ast.fix_missing_locations(tree)) + "\n"


def fenced(program: str) -> str:
    return "```python\n" + program + "\n```"


def test_a_batch_is_varied_distinct_valid_and_reproducible(problems: list[Problem]) -> None:
    assert len(problems) == COUNT
    assert len({p.id for p in problems}) == COUNT
    assert len({p.problem for p in problems}) == COUNT
    assert [p.id for p in problems] == [f"gen-code-0-{i}" for i in range(COUNT)]
    assert {p.tests.format for p in problems if p.tests is not None} == FORMATS
    assert len({p.meta["template"] for p in problems}) >= 8
    for p in problems:
        assert p.domain == "code"
        assert p.source == "generator:code"
        assert p.reference
        assert Problem.model_validate(p.model_dump()) == p
        assert Problem.model_validate_json(p.model_dump_json()) == p
        steps = p.meta["steps"]
        assert 2 <= len(steps) <= 5
        assert all(isinstance(step, str) and step for step in steps)
        json.dumps(p.meta)
    assert generate_code(COUNT, seed=0) == problems
    other = generate_code(COUNT, seed=1)
    assert len({p.problem for p in problems} & {p.problem for p in other}) < COUNT // 4


def test_every_batch_of_eight_holds_all_four_formats() -> None:
    for start in range(0, 16):
        batch = generate_code(start + 8, seed=7)[start:]
        assert {p.tests.format for p in batch if p.tests is not None} == FORMATS


def test_each_format_has_the_promised_number_of_tests(problems: list[Problem]) -> None:
    for p in problems:
        tests = p.tests
        assert tests is not None
        if tests.format == "assert":
            assert 3 <= tests.code.count("assert ") <= 6
            assert tests.entry_point is not None and f"`{tests.entry_point}(" in p.problem
        elif tests.format == "call":
            assert 3 <= len(tests.cases) <= 6
            assert f"`{tests.entry_point}(" in p.problem
        elif tests.format == "stdio":
            assert 3 <= len(tests.cases) <= 5
            assert "standard input" in p.problem and "Input:" in p.problem
            assert "Output:" in p.problem
        else:
            name = re.match(r"from solution import (\w+)\n", tests.code)
            assert name is not None and f"`{name[1]}(" in p.problem
            assert 2 <= len(re.findall(r"^def test_\w+\(\):$", tests.code, re.MULTILINE)) <= 4


def judge(verifier: CodeVerifier, problem: Problem, program: str) -> Verdict:
    return verifier.verify(Candidate(**problem.model_dump(), response=fenced(program)))


def test_references_pass_their_tests_in_the_sandbox_and_broken_solutions_fail(
    problems: list[Problem],
) -> None:
    box = open_sandbox("process")
    verifier = CodeVerifier(box)
    skipped = 0
    try:
        for p in problems:
            assert p.reference is not None and p.tests is not None
            verdict = judge(verifier, p, p.reference)
            if p.tests.format == "pytest" and verdict.status == "error":
                assert "pytest is not installed" in verdict.reason, (p.id, verdict.reason)
                skipped += 1
                continue
            assert verdict.status == "accepted", (p.id, verdict.reason)
            verdict = judge(verifier, p, broken(p))
            assert verdict.status == "rejected", (p.id, verdict.reason)
    finally:
        box.close()
    assert skipped <= COUNT // 4


@pytest.mark.docker
def test_pytest_problems_pass_and_fail_in_the_docker_sandbox(
    problems: list[Problem], docker_engine
) -> None:
    """The Docker image has pytest, so there the pytest-format problems are judged for real."""
    box = open_sandbox("docker")
    verifier = CodeVerifier(box)
    try:
        for p in problems:
            assert p.reference is not None and p.tests is not None
            if p.tests.format == "pytest":
                verdict = judge(verifier, p, p.reference)
                assert verdict.status == "accepted", (p.id, verdict.reason)
                verdict = judge(verifier, p, broken(p))
                assert verdict.status == "rejected", (p.id, verdict.reason)
    finally:
        box.close()


def run_pytest_module(code: str, solution: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test function of a pytest-format module, against `solution`, in this process."""
    module = types.ModuleType("solution")
    exec(solution, module.__dict__)
    monkeypatch.setitem(sys.modules, "solution", module)
    namespace: dict = {}
    exec(code, namespace)
    tests = [f for name, f in namespace.items() if name.startswith("test_")]
    assert 2 <= len(tests) <= 4
    for test in tests:
        test()


def test_pytest_modules_pass_on_the_reference_and_fail_on_a_broken_solution(
    problems: list[Problem], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The process sandbox may lack pytest; the test modules still run here, as pytest would."""
    modules = [p for p in problems if p.tests is not None and p.tests.format == "pytest"]
    assert modules
    for p in modules:
        assert p.reference is not None and p.tests is not None and p.tests.format == "pytest"
        run_pytest_module(p.tests.code, p.reference, monkeypatch)
        with pytest.raises(AssertionError):
            run_pytest_module(p.tests.code, broken(p), monkeypatch)


def test_count_edge_cases() -> None:
    assert generate_code(0, seed=3) == []
    with pytest.raises(ValueError, match="at least 0"):
        generate_code(-1, seed=3)
