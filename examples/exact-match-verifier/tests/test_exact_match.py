"""The plugin's own tests: they call the verifier directly, no registry or CLI needed."""

import pytest

from exact_match_verifier import ExactMatchVerifier, final_answer, normalise
from verified_factory.records import Candidate


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


def test_missing_reference_is_an_error_naming_the_field() -> None:
    verdict = ExactMatchVerifier().verify(candidate("Answer: Paris", reference=None))
    assert verdict.status == "error"
    assert "'reference'" in verdict.reason
