"""A verifier for short text answers (a country, a chemical symbol, a yes/no), matched exactly.

It serves its own domain, `text`, to show that a plugin is not limited to `math` and `code`.
"""

from __future__ import annotations

import re
import unicodedata

from verified_factory.records import Candidate, Verdict
from verified_factory.verifiers import Verifier

_ANSWER_LINE = re.compile(r"^\s*(?:final\s+)?answer\s*:\s*(.+?)\s*$", re.IGNORECASE | re.MULTILINE)
_EDGE_PUNCTUATION = " \t.,;:!?\"'`*_()[]"


def final_answer(response: str) -> str | None:
    """The text after the last `Answer:` line, else the last non-empty line."""
    marked = _ANSWER_LINE.findall(response)
    if marked:
        return marked[-1]
    lines = [line.strip() for line in response.splitlines() if line.strip()]
    return lines[-1] if lines else None


def normalise(text: str) -> str:
    """Case, accents, inner spacing and surrounding punctuation do not count."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().casefold()
    return " ".join(folded.split()).strip(_EDGE_PUNCTUATION)


class ExactMatchVerifier(Verifier):
    name = "exact_match"
    domains = ("text",)

    def verify(self, candidate: Candidate) -> Verdict:
        if candidate.reference is None:
            return Verdict.error(
                "field 'reference' is missing: exact_match needs the expected answer",
                id=candidate.id,
            )
        answer = final_answer(candidate.response)
        if answer is None:
            return Verdict(
                id=candidate.id,
                accepted=False,
                status="rejected",
                reason="the response is empty: no answer to compare",
            )
        accepted = normalise(answer) == normalise(candidate.reference)
        return Verdict(
            id=candidate.id,
            accepted=accepted,
            status="accepted" if accepted else "rejected",
            reason=(
                "the final answer equals the reference"
                if accepted
                else f"the final answer {answer!r} differs from {candidate.reference!r}"
            ),
            extracted=answer,
        )
