"""The verifier plugin interface."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any, ClassVar

from verified_factory.records import Agreement, Candidate, Verdict

ENTRY_POINT_GROUP = "verified_factory.verifiers"


class Verifier(ABC):
    """Decides whether a Candidate's response is correct.

    A plugin subclasses this and registers the class under the entry-point group
    `verified_factory.verifiers`; the entry point's name is the verifier's registry name and must
    equal `name`. Instances are created once per worker process, so expensive set-up (a sandbox
    pool, a compiled grammar) belongs in `__init__`. They are created with no arguments, or with
    the settings a job gives this verifier (`verify.settings.NAME` in its config) as keyword
    arguments: plain data, the same on every node.

    `verify` must not raise for a bad candidate: it returns a Verdict whose `reason` says what is
    wrong. An exception is still caught by the runner and becomes an `error` verdict.
    """

    name: ClassVar[str]
    domains: ClassVar[tuple[str, ...]] = ()
    version: ClassVar[str | None] = None
    """Defaults to the version of the distribution that registers the verifier."""

    @abstractmethod
    def verify(self, candidate: Candidate) -> Verdict:
        """Judge one candidate."""

    def verify_batch(self, candidates: Sequence[Candidate]) -> list[Verdict]:
        """Judge several candidates, one Verdict each, in order; override to share work."""
        return [self.verify(candidate) for candidate in candidates]

    def verify_group(self, candidates: Sequence[Candidate]) -> list[Verdict]:
        """Judge the samples of one problem together, one Verdict each, in order.

        A job calls this instead of `verify` for a problem with nothing trusted to judge one
        sample against (`Problem.judged_together`): the samples' agreement decides. Each
        accepted verdict carries an `Agreement` saying what they agreed on (the answer, or the
        tests the agreeing programs pass), which the exported row keeps as its reference or
        tests. The built-in verifiers implement it as self-consistency (math) and dual agreement
        (code). This default cannot judge a group, and says so: an `error` verdict each, never
        a pass or a fail.
        """
        reason = f"verifier {self.name!r} cannot judge samples together (it has no verify_group)"
        return [Verdict.error(reason, id=candidate.id) for candidate in candidates]


def member_verdict(
    candidate: Candidate,
    accepted: bool,
    method: str,
    reason: str,
    agreement: Agreement | None,
    *,
    extracted: str | None = None,
    detail: dict[str, Any] | None = None,
) -> Verdict:
    """One sample's verdict in a group judged together (`Verifier.verify_group`): accepted or
    rejected by `method` for `reason`, with the group's `agreement` when accepted, and `detail`
    (the group's summary) as its one detail, this sample's outcome and reason added."""
    outcome = "passed" if accepted else "failed"
    return Verdict(
        id=candidate.id,
        accepted=accepted,
        status="accepted" if accepted else "rejected",
        reason=f"{method}: {reason}",
        extracted=extracted,
        details=[{**detail, "outcome": outcome, "message": reason}] if detail is not None else [],
        agreement=agreement if accepted else None,
    )
