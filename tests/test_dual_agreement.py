"""CodeT's dual agreement: samples judged against model-written tests, by consensus sets."""

from __future__ import annotations

import pytest

from verified_factory.records import AssertTests, Candidate
from verified_factory.sandboxes import Sandbox
from verified_factory.verifiers.code.dual_agreement import (
    DualAgreementRule,
    judge_by_dual_agreement,
    split_tests,
)
from verified_factory.verifiers.code.verifier import CodeVerifier

RIGHT = "def clamp(x, lo, hi):\n    return max(lo, min(x, hi))\n"
RIGHT_TOO = "def clamp(x, lo, hi):\n    return lo if x < lo else hi if x > hi else x\n"
NO_UPPER = "def clamp(x, lo, hi):\n    return max(lo, x)\n"
BROKEN = "def clamp(x, lo, hi):\n    return x\n"

# Written by a model: four right asserts, one wrong (clamp(5, 0, 3) is 3, not 5).
TESTS = """\
import math
assert clamp(2, 0, 3) == 2
assert clamp(-1, 0, 3) == 0
assert clamp(9, 0, 3) == 3
assert clamp(5, 0, 3) == 5
assert clamp(0, 0, 0) == 0
"""


def samples(*programs: str | None, tests: str = TESTS, reference: str | None = None):
    return [
        Candidate(
            id=f"p/s{n}",
            domain="code",
            problem="Write clamp(x, lo, hi).",
            reference=reference,
            tests=AssertTests(format="assert", code=tests, entry_point="clamp"),
            response=f"```python\n{program}```" if program else "I cannot do this.",
        )
        for n, program in enumerate(programs)
    ]


def judge(sandbox: Sandbox, candidates: list[Candidate], rule: DualAgreementRule | None = None):
    return judge_by_dual_agreement(candidates, CodeVerifier(sandbox), rule or DualAgreementRule())


def test_model_tests_split_into_single_asserts_and_keep_only_imports() -> None:
    split = split_tests(
        "import math\ndef clamp(x, lo, hi):\n    return x\n"
        "assert clamp(1, 0, 2) == 1\nassert clamp(1, 0, 2) == 1\nx = 3\n"
        "for i in range(3):\n    assert clamp(i, 0, 2) == i\n"
    )
    assert split.imports == ["import math"]
    assert split.asserts == ["assert clamp(1, 0, 2) == 1"]  # the repeat and the loop left out
    assert split.code([0]) == "import math\nassert clamp(1, 0, 2) == 1\n"


def test_the_largest_consensus_times_its_tests_wins(sandbox: Sandbox) -> None:
    verdicts = judge(sandbox, samples(RIGHT, RIGHT_TOO, NO_UPPER, None, BROKEN))
    assert [v.accepted for v in verdicts] == [True, True, False, False, False]
    detail = verdicts[0].details[0]
    # RIGHT and RIGHT_TOO pass the four right tests (2 x 4 = 8); NO_UPPER passes four too, the
    # wrong one among them (1 x 4); BROKEN three (1 x 3).
    assert detail["sets"] == [
        {"solutions": 2, "passed": 4, "score": 8},
        {"solutions": 1, "passed": 4, "score": 4},
        {"solutions": 1, "passed": 3, "score": 3},
    ]
    agreed = verdicts[1].agreement
    assert agreed.share == pytest.approx(2 / 4) and agreed.answer is None
    tests = agreed.tests.code
    assert "clamp(5, 0, 3) == 5" not in tests and tests.startswith("import math\n")
    assert tests.count("assert") == 4 and not agreed.reference_agrees
    assert "passes 4 of 5 tests, not the set of the consensus" in verdicts[2].reason
    assert verdicts[3].reason.endswith("no Python program found in the response")
    assert verdicts[2].agreement is None


def test_a_reference_votes_but_is_not_a_candidate(sandbox: Sandbox) -> None:
    alone = judge(sandbox, samples(RIGHT, BROKEN))
    assert not any(v.accepted for v in alone)
    assert "holds 1 solution(s), and acceptance needs at least 2" in alone[0].reason
    voted = judge(sandbox, samples(RIGHT, BROKEN, reference=RIGHT_TOO))
    assert [v.accepted for v in voted] == [True, False]
    assert voted[0].agreement.reference_agrees is True
    assert voted[0].details[0]["solutions"] == 3


@pytest.mark.parametrize(
    ("programs", "rule", "why"),
    [
        ((RIGHT, NO_UPPER), DualAgreementRule(min_group=1), "two consensus sets tie"),
        ((BROKEN, BROKEN), DualAgreementRule(min_tests=4), "passes 2 test(s), and acceptance"),
        (("def clamp(x, lo, hi):\n    raise ValueError\n",) * 2, None, "no solution passes"),
    ],
)
def test_without_a_clear_consensus_nothing_is_accepted(
    sandbox: Sandbox, programs, rule: DualAgreementRule | None, why: str
) -> None:
    # Without the last test, RIGHT and NO_UPPER each pass 3 (different ones): a tie.
    tests = TESTS.replace("assert clamp(0, 0, 0) == 0\n", "")
    verdicts = judge(sandbox, samples(*programs, tests=tests), rule)
    assert not any(v.accepted for v in verdicts)
    assert all(why in v.reason for v in verdicts), verdicts[0].reason


def test_tests_without_an_assert_are_unverifiable_naming_the_field(sandbox: Sandbox) -> None:
    verdicts = judge(sandbox, samples(RIGHT, RIGHT, tests="import math\n"))
    assert {v.status for v in verdicts} == {"unverifiable"}
    assert "field 'tests'" in verdicts[0].reason


def test_a_def_in_the_tests_cannot_replace_the_solution(sandbox: Sandbox) -> None:
    tests = RIGHT + TESTS  # were the def kept, BROKEN would pass every right test
    verdicts = judge(sandbox, samples(BROKEN, BROKEN, RIGHT, RIGHT_TOO, tests=tests))
    assert verdicts[0].details[0]["tests"] == 5
    assert [v.accepted for v in verdicts] == [False, False, True, True]


@pytest.mark.slow
@pytest.mark.docker
def test_offline_teacher_without_tests_keeps_rows_that_are_right(tmp_path, docker_engine) -> None:
    """No tests, no references, a 30% error rate in solutions and in tests: the rows kept by
    dual agreement pass the problems' real tests >= 95% of the time; they carry the agreed
    tests, which they pass again."""
    from generation_support import exported_rows, generate_locally, job_config, run_records

    from verified_factory.sandboxes import open_sandbox
    from verified_factory.sources.code_problems import generate_code

    count = 78  # six of each template; 60 function problems
    config = job_config(
        tmp_path,
        source={"generators": {"code": count, "seed": 5, "references": False, "tests": False}},
        model={"offline_error_rate": 0.3},
        solve={"samples": 8, "keep": 1, "unit_size": 16},
        curate={"decontaminate": {"enabled": False}},
        sandbox={"backend": "process"},
    )
    generate_locally(config)

    attempts, errors = run_records(config.run_dir)
    assert errors == []
    truth = {p.id: p for p in generate_code(count, 5) if p.tests.format != "stdio"}
    kept = [a for a in attempts if a.kept and a.problem_id in truth]
    assert not any(a.rationalized for a in attempts)
    assert len(kept) >= 0.85 * len(truth), "most problems reach a consensus"
    assert all(a.agreement is not None and a.tests for a in kept)
    wrong = []
    with open_sandbox("docker") as box:  # closed: no container outlives the test
        real = CodeVerifier(box)
        for attempt in kept:
            problem = truth[attempt.problem_id]
            answer = Candidate(
                **problem.model_dump(exclude={"reference"}), response=attempt.messages[1].content
            )
            if not real.verify(answer).accepted:
                wrong.append(attempt.problem_id)
    assert len(wrong) <= 0.05 * len(kept), f"kept but wrong: {wrong} of {len(kept)}"

    rows = [row for row in exported_rows(config.run_dir / "export") if row["agreement"]]
    with open_sandbox("process") as box:
        local = CodeVerifier(box)
        for row in rows[:10]:  # a row's agreed tests check it again
            again = Candidate(
                id="again",
                domain="code",
                problem=row["messages"][0]["content"],
                tests=row["tests"],
                response=row["messages"][1]["content"],
            )
            assert local.verify(again).accepted
