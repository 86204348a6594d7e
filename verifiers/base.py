"""The verifier plugin interface."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import ClassVar

from verified_factory.records import Candidate, Verdict

ENTRY_POINT_GROUP = "verified_factory.verifiers"


class Verifier(ABC):
    """Decides whether a Candidate's response is correct.

    A plugin subclasses this and registers the class under the entry-point group
    `verified_factory.verifiers`; the entry point's name is the verifier's registry name and must
    equal `name`. Instances are created once per worker process with no arguments, so expensive
    set-up (a sandbox pool, a compiled grammar) belongs in `__init__`.

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
