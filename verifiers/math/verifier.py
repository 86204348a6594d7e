"""The `math` verifier: the final answer of a response against the reference, under a hard limit."""

from __future__ import annotations

import time

from verified_factory.records import Candidate, Verdict
from verified_factory.verifiers.base import Verifier
from verified_factory.verifiers.deadline import ChildDied, DeadlineExceeded, DeadlineRunner

TIME_LIMIT_S = 5.0


class MathVerifier(Verifier):
    """Extracts the final answer, reads it with SymPy and compares it with the reference.

    Each check runs in a child process that is killed past `TIME_LIMIT_S`, so an evaluation bomb
    costs one `timeout` verdict, never an accept and never a stuck worker.
    """

    name = "math"
    domains = ("math",)

    def __init__(self, time_limit_s: float = TIME_LIMIT_S) -> None:
        # Imported here, not at the top: listing the installed verifiers must not load SymPy.
        from verified_factory.verifiers.math.check import check

        self._run = DeadlineRunner(check, time_limit_s, warm_args=("\\boxed{1/2}", "0.5"))

    def verify(self, candidate: Candidate) -> Verdict:
        if candidate.reference is None or not candidate.reference.strip():
            problem = "is missing" if candidate.reference is None else "is empty"
            return Verdict.error(
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
        return Verdict(
            id=candidate.id,
            accepted=result.accepted,
            status="accepted" if result.accepted else "rejected",
            reason=result.reason,
            extracted=result.extracted,
            elapsed_s=time.perf_counter() - start,
        )
