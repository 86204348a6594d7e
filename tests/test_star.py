"""STaR bookkeeping: the stored attempt re-checks as it was judged; the kept are distinct."""

from __future__ import annotations

from verified_factory.config import CurateConfig, ModelConfig
from verified_factory.curate.curator import Curator
from verified_factory.models.base import Completion
from verified_factory.records import Candidate, Problem, Verdict
from verified_factory.solve.prompts import load_prompts
from verified_factory.solve.replies import read_reply
from verified_factory.solve.star import attempt_for, requests_for


def _problem() -> Problem:
    return Problem(
        id="p1",
        domain="code",
        problem="Write first_even(xs) returning the first even number, or None.",
        reference="def first_even(xs):\n    return next((x for x in xs if x % 2 == 0), None)\n",
        tests={
            "format": "call",
            "entry_point": "first_even",
            "cases": [
                {"args": [[1, 2]], "expected": 2},
                {"args": [[1, 3]], "expected": None},
            ],
        },
    )


def _attempt(problem: Problem, sample: int, text: str, accepted: bool, hinted: bool = False):
    prompts = load_prompts({}, {})
    request = requests_for(problem, prompts, ModelConfig(), 4, hinted=hinted)[sample]
    completion = Completion(key=request.key, text=text, model="m")
    status = "accepted" if accepted else "rejected"
    verdict = Verdict(id="x", verifier="code", accepted=accepted, status=status, reason="r")
    return attempt_for(
        problem, prompts, request, completion, read_reply(completion), verdict, hinted=hinted
    )


def test_the_stored_tests_keep_an_expected_none_and_read_back_as_they_were() -> None:
    problem = _problem()
    attempt = _attempt(problem, 0, "```python\ndef first_even(xs): ...\n```", True)
    row = attempt.sft_row()
    again = Candidate(
        id=row["id"],
        domain=row["domain"],
        problem=row["messages"][0]["content"],
        response=row["messages"][1]["content"],
        tests=row["tests"],
    )
    assert again.tests == problem.tests


def test_kept_rationales_are_accepted_distinct_and_unhinted_first() -> None:
    problem = _problem()
    same = (
        "```python\ndef first_even(xs):\n    return next((x for x in xs if x % 2 == 0), None)\n```"
    )
    renamed = same.replace("xs", "values").replace("x ", "v ").replace("(x", "(v")
    other = (
        "```python\ndef first_even(xs):\n    for x in xs:\n        if x % 2 == 0:\n"
        "            return x\n    return None\n```"
    )
    attempts = [
        _attempt(problem, 0, same, True),
        _attempt(problem, 1, renamed, True),
        _attempt(problem, 2, "wrong", False),
        _attempt(problem, 0, other, True, hinted=True),
        _attempt(problem, 3, other, True),
    ]
    for keep in (2, 5):
        marked = Curator(CurateConfig(), keep=keep).choose(attempts)
        assert [a.id for a in marked] == [a.id for a in attempts]
        assert [a.id for a in marked if a.kept] == ["p1/s0", "p1/s3"]
