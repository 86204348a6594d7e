"""Math without a reference: self-consistency, alone and through a whole offline job."""

from __future__ import annotations

from pathlib import Path

import pytest
from generation_support import exported_rows, generate_locally, job_config, run_records

from verified_factory.records import Agreement, Candidate
from verified_factory.sources.math_problems import generate_math
from verified_factory.verifiers.math import MathVerifier
from verified_factory.verifiers.math.agreement import AgreementRule, judge_by_agreement
from verified_factory.verifiers.math.check import check


def samples(*answers: str) -> list[Candidate]:
    return [
        Candidate(
            id=f"p/s{n}",
            domain="math",
            problem="Halve one.",
            response=f"Working it out, the answer is $\\boxed{{{answer}}}$."
            if answer
            else "I am not sure.",
        )
        for n, answer in enumerate(answers)
    ]


@pytest.fixture(scope="module")
def verifier() -> MathVerifier:
    return MathVerifier()


def test_answers_cluster_by_equivalence_not_by_spelling(verifier: MathVerifier) -> None:
    verdicts = judge_by_agreement(
        samples("1/2", "0.5", "\\frac{2}{4}", "3"), verifier, AgreementRule()
    )
    assert [v.accepted for v in verdicts] == [True, True, True, False]
    assert verdicts[0].agreement == Agreement(share=0.75, answer="1/2")
    assert verdicts[3].agreement is None
    assert "not the majority's '1/2'" in verdicts[3].reason
    assert verdicts[0].details[0]["clusters"] == [3, 1]


@pytest.mark.parametrize(
    ("answers", "rule", "why"),
    [
        (("1", "1", "2", "2"), AgreementRule(), "answers tie 2 to 2"),
        (("1", "1", "1"), AgreementRule(), "3 sample(s), and agreement needs at least 4"),
        (("", "", "", ""), AgreementRule(), "none of the 4 samples has a final answer"),
        (("1", "1", "2", "3"), AgreementRule(share=0.75), "under the required share 0.75"),
        (("1", "2", "3", "4", "4"), AgreementRule(), "holds 2 of 5 samples"),
    ],
)
def test_without_a_clear_majority_nothing_is_accepted(
    verifier: MathVerifier, answers: tuple[str, ...], rule: AgreementRule, why: str
) -> None:
    verdicts = judge_by_agreement(samples(*answers), verifier, rule)
    assert not any(v.accepted for v in verdicts)
    assert all(why in v.reason for v in verdicts), verdicts[0].reason


def test_exactly_the_share_is_enough(verifier: MathVerifier) -> None:
    verdicts = judge_by_agreement(samples("7", "7", "8", "9"), verifier, AgreementRule(share=0.5))
    assert [v.accepted for v in verdicts] == [True, True, False, False]
    assert verdicts[0].agreement == Agreement(share=0.5, answer="7")


@pytest.mark.slow
def test_offline_teacher_without_references_keeps_rows_that_are_right(tmp_path: Path) -> None:
    """At a 30% error rate and no gold answers, the rows kept by agreement are right >= 97%."""

    count = 160
    config = job_config(
        tmp_path,
        source={"generators": {"math": count, "seed": 11, "references": False}},
        model={"offline_error_rate": 0.3},
        solve={"samples": 8, "keep": 1, "unit_size": 16},
        curate={"decontaminate": {"enabled": False}},
    )
    generate_locally(config)

    attempts, errors = run_records(config.run_dir)
    assert errors == []
    assert not any(a.rationalized for a in attempts), "no reference: nothing to rationalize"
    gold = {p.id: p.reference for p in generate_math(count, 11)}
    kept = [a for a in attempts if a.kept]
    right = sum(check(a.messages[1].content, gold[a.problem_id]).accepted for a in kept)
    assert len(kept) >= 0.8 * count, "most problems reach agreement"
    assert right / len(kept) >= 0.97, f"{right} of {len(kept)} kept rows are right"
    assert all(a.agreement is not None and a.agreement >= 0.5 for a in kept)
    refused = {a.problem_id for a in attempts} - {a.problem_id for a in kept}
    assert refused, "some problems have no majority at this error rate"

    rows = exported_rows(config.run_dir / "export")
    assert len(rows) == len(kept)
    for row in rows[:20]:  # the majority answer is the row's reference: it checks again
        assert 0.5 <= row["agreement"] <= 1
        assert check(row["messages"][1]["content"], row["reference"]).accepted
