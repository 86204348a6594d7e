"""The procedural math generator: distinct, reproducible problems with gold the checker reads."""

from __future__ import annotations

import json
import re

import pytest

from verified_factory.records import Problem
from verified_factory.sources.math_problems import FAMILIES, generate_math
from verified_factory.verifiers.math.check import check

PROBLEMS = generate_math(64, seed=0)


def _perturbed(reference: str) -> str:
    """The reference with its first number raised by one: `(3, -2)` becomes `(4, -2)`."""
    return re.sub(r"\d+", lambda m: str(int(m.group()) + 1), reference, count=1)


def test_a_batch_is_distinct_covers_every_family_and_is_reproducible() -> None:
    assert len(PROBLEMS) == 64
    assert len({p.id for p in PROBLEMS}) == 64
    assert len({p.problem for p in PROBLEMS}) == 64
    assert {p.meta["family"] for p in PROBLEMS} == set(FAMILIES)
    assert [p.meta["family"] for p in PROBLEMS[:8]] == list(FAMILIES)
    assert [p.model_dump() for p in generate_math(64, seed=0)] == [p.model_dump() for p in PROBLEMS]
    other = generate_math(64, seed=1)
    assert len({p.problem for p in other} & {p.problem for p in PROBLEMS}) < 8
    assert {p.id for p in other}.isdisjoint(p.id for p in PROBLEMS)


def test_fields_follow_the_contract() -> None:
    for index, p in enumerate(PROBLEMS):
        assert p.id == f"gen-math-0-{index}"
        assert (p.domain, p.source, p.tests) == ("math", "generator:math", None)
        assert p.reference
        assert "boxed" not in p.problem
        assert 2 <= len(p.meta["steps"]) <= 6
        assert json.loads(json.dumps(p.meta)) == p.meta


@pytest.mark.parametrize("problem", PROBLEMS, ids=lambda p: f"{p.id}-{p.meta['family']}")
def test_the_checker_accepts_the_reference_and_rejects_a_wrong_answer(problem: Problem) -> None:
    reference = problem.reference
    assert reference is not None
    assert check("\\boxed{" + reference + "}", reference).accepted
    wrong = _perturbed(reference)
    assert wrong != reference
    verdict = check("\\boxed{" + wrong + "}", reference)
    assert not verdict.accepted
    assert "differs from the reference" in verdict.reason
    assert reference in problem.meta["steps"][-1]


@pytest.mark.parametrize(
    ("family", "reference"),
    [("linear_system", r"^\(-?\d+, -?\d+\)$"), ("integral", r"^-?(\d+|\\frac\{\d+\}\{\d+\})$")],
)
def test_reference_forms(family: str, reference: str) -> None:
    for p in generate_math(160, seed=7):
        if p.meta["family"] == family:
            assert re.match(reference, p.reference or ""), p.reference


def test_records_round_trip() -> None:
    for p in PROBLEMS:
        assert Problem.model_validate(p.model_dump()) == p
        assert Problem.model_validate_json(p.model_dump_json()) == p


def test_count_edge_cases() -> None:
    assert generate_math(0, seed=3) == []
    assert [p.id for p in generate_math(2, seed=3)] == ["gen-math-3-0", "gen-math-3-1"]
    with pytest.raises(ValueError, match="at least 0"):
        generate_math(-1, seed=0)


def test_a_kind_that_runs_out_leaves_its_turns_to_the_others() -> None:
    import random

    from verified_factory.sources.drawing import take_turns

    makers = [("few", lambda rng: rng.randrange(3)), ("many", lambda rng: rng.randrange(10**9))]
    drawn = list(take_turns(50, makers, random.Random(0), lambda i, made: f"{i % 2}:{made}", "t"))
    assert len({text for *_, text in drawn}) == 50
    assert [name for _, name, *_ in drawn[:4]] == ["few", "many", "few", "many"]
    assert sum(name == "few" for _, name, *_ in drawn) <= 3
    only_few = take_turns(5, makers[:1], random.Random(0), lambda i, made: str(made), "t")
    with pytest.raises(ValueError, match=r"every kind produced only repeats .* at problem 3"):
        list(only_few)


def test_twenty_thousand_distinct_problems_for_the_cost_curve() -> None:
    problems = generate_math(20_000, 0)
    assert len({p.problem for p in problems}) == 20_000
    assert generate_math(250, 0) == problems[:250], "a small count draws as before"
