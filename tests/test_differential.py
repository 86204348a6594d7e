"""Differential testing against a `reference` solution: inputs, verdicts, counterexamples."""

from __future__ import annotations

import random
import textwrap

import pytest

from verified_factory.records import Candidate
from verified_factory.sandboxes import Sandbox
from verified_factory.verifiers.code import CodeVerifier
from verified_factory.verifiers.code.reference_check import DifferentialSettings
from verified_factory.verifiers.code.sandboxed.inputs import (
    edge_values,
    mutate,
    near_constants,
    shape_of,
    shape_of_hint,
)

MAXIMUM = "def largest(xs: list[int]) -> int:\n    return max(xs)\n"
LARGEST_TESTS = {
    "format": "assert",
    "code": "assert largest([1, 3, 2]) == 3\nassert largest([5]) == 5\n",
}


def judge(
    sandbox: Sandbox,
    program: str,
    reference: str = MAXIMUM,
    tests: dict = LARGEST_TESTS,
    *,
    settings: DifferentialSettings | None = None,
    meta: dict | None = None,
):
    candidate = Candidate(
        id="t",
        domain="code",
        problem="p",
        reference=reference,
        response=f"```python\n{textwrap.dedent(program)}\n```",
        tests=tests,
        meta=meta or {},
    )
    return CodeVerifier(sandbox, settings or DifferentialSettings()).verify(candidate)


def differential(verdict) -> dict:
    (detail,) = [d for d in verdict.details if d["test"] == "differential"]
    return detail


# --- inputs, on the host ----------------------------------------------------------------------


def test_edge_values_cover_the_classic_mistakes_of_each_kind() -> None:
    ints = edge_values(shape_of([3, 7]), 3)
    assert {0, 1, -1} <= set(ints)
    texts = edge_values(shape_of(["Hello World"]), "Hello World")
    assert {"", " ", "HELLO WORLD", "hello world", "hELLO wORLD", " Hello World"} <= set(texts)
    assert "Hello  World" in texts  # doubled whitespace
    lists = edge_values(shape_of([[4, 2, 9]]), [4, 2, 9])
    assert [] in lists and [4] in lists and [4, 4] in lists  # empty, one element, duplicates
    assert [-4, -2, -9] in lists and [2, 4, 9] in lists  # negatives, sorted


def test_the_references_own_constants_are_boundaries_to_try() -> None:
    constants = [3.7, 10, "x"]
    assert near_constants(shape_of([2]), constants) == [9, 10, 11]
    assert near_constants(shape_of([2.5]), constants) == [3.7, 10.0]
    assert near_constants(shape_of([[1.5, 2.0]]), constants) == [[3.7], [10.0]]
    assert "one one two two" in edge_values(shape_of(["one one two"]), "one one two")


def test_shapes_follow_the_values_and_the_hints() -> None:
    shape = shape_of([[1, 50], [2]])
    assert (shape.kind, shape.items.kind, shape.items.magnitude) == ("list", "int", 100)
    assert shape_of([1, 2.5]).kind == "float"
    assert shape_of([1, "a"]).kind == "union"
    hinted = shape_of_hint(dict[str, list[float]])
    assert (hinted.kind, hinted.keys.kind, hinted.items.kind, hinted.items.items.kind) == (
        "dict",
        "str",
        "list",
        "float",
    )
    assert shape_of_hint(object) is None  # nothing to draw from


def test_mutations_keep_the_kind_of_the_value() -> None:
    rng = random.Random(1)
    for value in (5, 2.5, "abc", [1, 2, 3], (1, "a"), {"k": 1}, True, ""):
        for _ in range(50):
            mutated = mutate(value, rng)
            assert type(mutated) is type(value)
            if isinstance(value, tuple):
                assert len(mutated) == len(value)  # a record keeps its fields


# --- verdicts, in each sandbox ------------------------------------------------------------------


def test_a_correct_candidate_is_accepted_after_many_inputs(sandbox: Sandbox) -> None:
    verdict = judge(sandbox, "def largest(xs):\n    return sorted(xs)[-1]\n")
    assert verdict.status == "accepted", verdict.reason
    detail = differential(verdict)
    assert detail["outcome"] == "passed"
    assert sum(detail["inputs"].values()) >= 50
    assert {"edge", "mutation", "hypothesis"} <= set(detail["inputs"])
    assert detail["invalid"] >= 1  # max([]) raises: the empty list is not a valid input
    assert "matched the reference on" in verdict.reason


def test_an_overfit_candidate_is_rejected_with_its_counterexample(sandbox: Sandbox) -> None:
    overfit = """
    def largest(xs):
        if xs in ([1, 3, 2], [5]):
            return max(xs)
        return xs[0]
    """
    verdict = judge(sandbox, overfit)
    assert verdict.status == "rejected"
    detail = differential(verdict)
    assert detail["outcome"] == "wrong_answer"
    example = detail["counterexample"]
    assert example["input"].startswith("largest(")
    got = eval(example["got"])  # the inputs and results are shown as Python literals
    assert got != eval(example["expected"])
    assert example["input"] in verdict.reason


def test_edge_values_come_first(sandbox: Sandbox) -> None:
    reference = "def initials(name: str) -> str:\n    return ''.join(w[0] for w in name.split())\n"
    tests = {"format": "assert", "code": "assert initials('Ada Lovelace') == 'AL'\n"}
    careless = "def initials(name):\n    return ''.join(w[0] for w in name.split(' '))\n"
    detail = differential(judge(sandbox, careless, reference, tests))
    assert detail["outcome"] in ("runtime_error", "wrong_answer")
    assert detail["counterexample"]["origin"] == "edge"  # doubled or leading whitespace


def test_a_candidate_that_raises_or_hangs_where_the_reference_answers(sandbox: Sandbox) -> None:
    raising = "def largest(xs):\n    return max(xs) if xs[0] >= 0 else 1 // 0\n"
    detail = differential(judge(sandbox, raising))
    assert detail["outcome"] == "runtime_error"
    assert "ZeroDivisionError" in detail["message"]
    hanging = """
    def largest(xs):
        while len(xs) > 5:
            pass
        return max(xs)
    """
    settings = DifferentialSettings(budget_s=3.0, call_limit_s=0.2)
    verdict = judge(sandbox, hanging, settings=settings)
    assert verdict.status == "timeout", verdict.reason
    assert "ran past" in differential(verdict)["message"]


def test_inputs_the_reference_refuses_are_not_held_against_the_candidate(
    sandbox: Sandbox,
) -> None:
    reference = (
        "def halve(n: int) -> int:\n    assert n > 0 and n % 2 == 0, 'even positive n'\n"
        "    return n // 2\n"
    )
    tests = {"format": "call", "entry_point": "halve", "cases": [{"args": [10], "expected": 5}]}
    differs_only_off_contract = "def halve(n):\n    return n // 2 if n > 0 else -1\n"
    verdict = judge(sandbox, differs_only_off_contract, reference, tests)
    assert verdict.status == "accepted", verdict.reason
    assert differential(verdict)["invalid"] > 0


def test_numbers_compare_within_a_tolerance_and_big_integers_exactly(sandbox: Sandbox) -> None:
    reference = "def mean(xs: list[float]) -> float:\n    return sum(xs) / len(xs)\n"
    tests = {"format": "assert", "code": "assert abs(mean([1.0, 2.0]) - 1.5) < 1e-9\n"}
    other_order = "def mean(xs):\n    return sum(reversed(xs)) / len(xs)\n"
    assert judge(sandbox, other_order, reference, tests).status == "accepted"
    reference = "def power(n: int) -> int:\n    return 7 ** (n * 900)\n"
    tests = {"format": "assert", "code": "assert power(1) == 7 ** 900\n"}
    off_by_one = "def power(n):\n    return 7 ** (n * 900) + (n > 5)\n"
    detail = differential(judge(sandbox, off_by_one, reference, tests))
    assert detail["outcome"] == "wrong_answer", detail


def test_the_models_strategy_reaches_inputs_nothing_else_draws(sandbox: Sandbox) -> None:
    reference = "def double(n: int) -> int:\n    return 2 * n\n"
    tests = {"format": "call", "entry_point": "double", "cases": [{"args": [3], "expected": 6}]}
    trapdoor = "def double(n):\n    return 0 if n == 123456789 else 2 * n\n"
    assert judge(sandbox, trapdoor, reference, tests).status == "accepted"
    strategy = "strategy = st.tuples(st.just(123456789))"
    verdict = judge(sandbox, trapdoor, reference, tests, meta={"input_strategy": strategy})
    detail = differential(verdict)
    assert detail["outcome"] == "wrong_answer"
    assert detail["counterexample"]["origin"] == "model strategy"


def test_a_broken_model_strategy_is_a_note_not_a_verdict(sandbox: Sandbox) -> None:
    verdict = judge(sandbox, MAXIMUM, meta={"input_strategy": "strategy = st.nonsense()"})
    assert verdict.status == "accepted", verdict.reason
    assert "the model's strategy failed" in differential(verdict)["notes"][0]


def test_reading_the_expected_result_from_the_callers_frames_fails(sandbox: Sandbox) -> None:
    snooping = """
    import gc, sys

    def largest(xs):
        if xs in ([1, 3, 2], [5]):  # the given tests
            return max(xs)
        frame = sys._getframe(1)
        while frame is not None:
            for name in ("expected", "value", "valid"):
                if name in frame.f_locals:
                    return frame.f_locals[name]
            frame = frame.f_back
        for thing in gc.get_objects():
            if isinstance(thing, tuple) and len(thing) == 5 and thing[1] == (xs,):
                return thing[3]
        return xs[0]
    """
    verdict = judge(sandbox, snooping)
    assert verdict.status == "rejected", verdict.reason
    assert differential(verdict)["outcome"] == "wrong_answer"


def test_a_reference_that_does_not_run_is_unverifiable_naming_the_field(sandbox: Sandbox) -> None:
    verdict = judge(sandbox, MAXIMUM, reference="def largest(xs) return\n")
    assert verdict.status == "unverifiable"
    assert verdict.reason.startswith("field 'reference':")


def test_switched_off_only_the_tests_judge(sandbox: Sandbox) -> None:
    overfit = "def largest(xs):\n    return 3 if xs == [1, 3, 2] else xs[0]\n"
    verdict = judge(sandbox, overfit, settings=DifferentialSettings(enabled=False))
    assert verdict.status == "accepted"
    assert not [d for d in verdict.details if d["test"] == "differential"]


def test_stdio_tests_cannot_be_compared_and_say_so(sandbox: Sandbox) -> None:
    tests = {"format": "stdio", "cases": [{"input": "2 3\n", "output": "5\n"}]}
    program = "a, b = map(int, input().split())\nprint(a + b)\n"
    verdict = judge(sandbox, program, reference=program, tests=tests)
    assert verdict.status == "accepted"
    assert differential(verdict)["outcome"] == "skipped"


PYTEST_TESTS = {
    "format": "pytest",
    "code": "import pytest\nfrom solution import largest\n\n\n"
    "def test_some():\n    assert largest([1, 3, 2]) == 3\n\n\n"
    "def test_one():\n    assert largest([5]) == 5\n\n\n"
    "@pytest.fixture\ndef values():\n    return [9]\n\n\n"
    "def test_with_a_fixture(values):\n    assert largest(values) == 9\n",
}


@pytest.mark.docker
def test_pytest_tests_are_compared_through_the_function_they_import(docker_engine) -> None:
    from verified_factory.sandboxes import open_sandbox

    with open_sandbox("docker") as sandbox:
        overfit = "def largest(xs):\n    return max(xs) if len(xs) < 4 else min(xs)\n"
        detail = differential(judge(sandbox, overfit, tests=PYTEST_TESTS))
        assert detail["outcome"] == "wrong_answer"
        assert detail["counterexample"]["input"].startswith("largest(")
        assert detail["inputs"]["mutation"] > 0, "the tests' own arguments were mutated"
        right = judge(sandbox, "def largest(xs):\n    return sorted(xs)[-1]\n", tests=PYTEST_TESTS)
        assert right.status == "accepted" and differential(right)["outcome"] == "passed"


def test_the_same_candidate_gets_the_same_verdict(sandbox: Sandbox) -> None:
    overfit = "def largest(xs):\n    return max(xs) if len(xs) < 4 else min(xs)\n"
    first, second = (differential(judge(sandbox, overfit)) for _ in range(2))
    assert first["counterexample"] == second["counterexample"]
    assert first["inputs"] == second["inputs"]


@pytest.mark.parametrize("entry_point", [None, "largest"])
def test_the_function_under_test_is_found_with_or_without_an_entry_point(
    sandbox: Sandbox, entry_point: str | None
) -> None:
    tests = {**LARGEST_TESTS, "entry_point": entry_point}
    helper_first = "def helper(x):\n    return x\n\n" + MAXIMUM
    verdict = judge(sandbox, MAXIMUM, reference=helper_first, tests=tests)
    assert differential(verdict)["outcome"] == "passed"
