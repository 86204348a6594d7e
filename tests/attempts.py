"""Attempts made by hand for the curation tests."""

from __future__ import annotations

from verified_factory.models.base import Message
from verified_factory.records import Verdict
from verified_factory.rows import Attempt


def make_attempt(
    attempt_id: str,
    problem_id: str,
    problem: str,
    response: str,
    *,
    domain: str = "math",
    accepted: bool = True,
    kept: bool = False,
    rationalized: bool = False,
) -> Attempt:
    """An attempt of `problem` answered by `response`, accepted or rejected by its verifier."""
    status = "accepted" if accepted else "rejected"
    return Attempt(
        id=attempt_id,
        problem_id=problem_id,
        domain=domain,
        source=None,
        model="teacher",
        messages=(
            Message(role="user", content=problem),
            Message(role="assistant", content=response),
        ),
        reference=None,
        tests=None,
        rationalized=rationalized,
        kept=kept,
        verdict=Verdict(id=attempt_id, accepted=accepted, status=status, reason=status),
    )
