"""The plugin's own tests: they call the verifier directly, no registry or CLI needed."""

import pytest

from exact_match_verifier import ExactMatchVerifier, final_answer, normalise
from verified_factory.records import Agreement, Candidate


def candidate(response: str, reference: str | None = "Paris") -> Candidate:
    return Candidate(
        id="t1", domain="text", problem="Capital of France?", reference=reference, response=response
    )


@pytest.mark.parametrize(
    ("response", "expected"),
    [
        ("It is in the north.\nAnswer: Paris.", "Paris."),
        ("answer: Lyon\nFinal answer: Paris", "Paris"),
        ("Thinking...\n\nParis\n\n", "Paris"),
        ("", None),
    ],
)
def test_final_answer(response: str, expected: str | None) -> None:
    assert final_answer(response) == expected


def test_normalise_ignores_case_accents_and_edge_punctuation() -> None:
    assert normalise("  Ångström!! ") == "angstrom"
    assert normalise("New   York") == "new york"


def test_accepts_the_reference_and_rejects_another_answer() -> None:
    verifier = ExactMatchVerifier()
    accepted = verifier.verify(candidate("Answer: paris"))
    assert (accepted.status, accepted.extracted) == ("accepted", "paris")
    rejected = verifier.verify(candidate("Answer: Lyon"))
    assert rejected.status == "rejected"
    assert "Lyon" in rejected.reason


def test_missing_reference_is_unverifiable_naming_the_field() -> None:
    verdict = ExactMatchVerifier().verify(candidate("Answer: Paris", reference=None))
    assert verdict.status == "unverifiable"
    assert "'reference'" in verdict.reason


def samples(*responses: str) -> list[Candidate]:
    return [
        candidate(response, reference=None).model_copy(update={"id": f"s{n}"})
        for n, response in enumerate(responses)
    ]


def test_a_group_without_reference_accepts_the_majority_answer() -> None:
    verdicts = ExactMatchVerifier().verify_group(
        samples("Answer: Paris", "Answer: paris.", "Paris", "Answer: Lyon", "")
    )
    assert [v.status for v in verdicts] == ["accepted"] * 3 + ["rejected"] * 2
    assert all(v.agreement == Agreement(share=3 / 5, answer="Paris") for v in verdicts[:3])
    assert verdicts[3].agreement is None and "not the majority's" in verdicts[3].reason


def test_the_majority_a_group_needs_is_a_setting() -> None:
    group = samples("Answer: Paris", "Answer: Paris", "Answer: Lyon")
    accepted = ExactMatchVerifier(majority=0.5).verify_group(group)
    assert accepted[0].agreement == Agreement(share=2 / 3, answer="Paris")
    strict = ExactMatchVerifier(majority=0.7).verify_group(group)
    assert not any(v.accepted for v in strict)
    assert "more than 0.7" in strict[0].reason
    with pytest.raises(ValueError, match=r"majority=1\.5"):
        ExactMatchVerifier(majority=1.5)


def test_a_tie_accepts_nothing() -> None:
    verdicts = ExactMatchVerifier(majority=0.0).verify_group(samples("Answer: A", "Answer: B"))
    assert not any(v.accepted for v in verdicts)
