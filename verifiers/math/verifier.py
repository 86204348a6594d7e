"""The `math` verifier: the final answer of a response against the reference, under a hard limit."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

from verified_factory.records import Candidate, Verdict
from verified_factory.verifiers.base import Verifier
from verified_factory.verifiers.deadline import ChildDied, DeadlineExceeded, DeadlineRunner
from verified_factory.verifiers.math.agreement import AgreementRule, judge_by_agreement

TIME_LIMIT_S = 5.0


class MathVerifier(Verifier):
    """Extracts the final answer, reads it with SymPy and compares it with the reference.

    Each check runs in a child process that is killed past `TIME_LIMIT_S`, so an evaluation bomb
    costs one `timeout` verdict, never an accept and never a stuck worker. The samples of a
    problem without a reference are judged together by self-consistency (`agreement.py`), under
    the `self_consistency` setting (`AgreementRule`'s fields).
    """

    name = "math"
    domains = ("math",)

    def __init__(
        self,
        time_limit_s: float = TIME_LIMIT_S,
        self_consistency: AgreementRule | Mapping[str, Any] | None = None,
    ) -> None:
        if not isinstance(self_consistency, AgreementRule):
            self_consistency = AgreementRule(**(self_consistency or {}))
        self._agreement = self_consistency
        # Imported here, not at the top: listing the installed verifiers must not load SymPy.
        from verified_factory.verifiers.math.check import check

        self._run = DeadlineRunner(check, time_limit_s, warm_args=("\\boxed{1/2}", "0.5"))
        self._run.start()  # SymPy imported and warm before the first candidate

    def verify_group(self, candidates: Sequence[Candidate]) -> list[Verdict]:
        return judge_by_agreement(candidates, self, self._agreement)

    def verify(self, candidate: Candidate) -> Verdict:
        if candidate.reference is None or not candidate.reference.strip():
            problem = "is missing" if candidate.reference is None else "is empty"
            return Verdict.unverifiable(
                f"field 'reference' {problem}: the math verifier needs the gold final answer",
                id=candidate.id,
            )
        start = time.perf_counter()
        try:
            result = self._run(candidate.response, candidate.reference)
        except DeadlineExceeded as err:
            return Verdict(
                id=candidate.id, accepted=False, status="timeout", reason=f"the answer check {err}"
            )
        except ChildDied as err:
            return Verdict.error(f"the answer check could not run: {err}", id=candidate.id)
        if result.unusable_reference:
            return Verdict.unverifiable(result.reason, id=candidate.id)
        return Verdict(
            id=candidate.id,
            accepted=result.accepted,
            status="accepted" if result.accepted else "rejected",
            reason=result.reason,
            extracted=result.extracted,
            elapsed_s=time.perf_counter() - start,
        )
