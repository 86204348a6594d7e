"""A verifier for short text answers (a country, a chemical symbol, a yes/no), matched exactly.

It serves its own domain, `text`, to show that a plugin is not limited to `math` and `code`.
Without a reference, the samples of a problem are judged together (`verify_group`): the answer
that more than `majority` of them give is accepted, and becomes the exported row's reference.
`majority` is a setting (`verify.settings.exact_match.majority` in a job config).
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Sequence

from verified_factory.verifiers import Agreement, Candidate, Verdict, Verifier, member_verdict

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

    def __init__(self, majority: float = 0.5) -> None:
        if not 0 <= majority < 1:
            raise ValueError(f"majority={majority!r}: a share in [0, 1)")
        self.majority = majority

    def verify_group(self, candidates: Sequence[Candidate]) -> list[Verdict]:
        answers = [final_answer(c.response) for c in candidates]
        counts = Counter(normalise(a) for a in answers if a is not None)
        ranked = counts.most_common(2)
        top, votes = ranked[0] if ranked else (None, 0)
        tied = len(ranked) > 1 and ranked[1][1] == votes
        share = votes / len(candidates)
        agreed = top is not None and not tied and share > self.majority
        said = next((a for a in answers if a is not None and normalise(a) == top), None)
        agreement = Agreement(share=share, answer=said) if agreed else None
        of = f"{votes} of {len(candidates)}"
        verdicts = []
        for candidate, answer in zip(candidates, answers, strict=True):
            accepted = agreed and answer is not None and normalise(answer) == top
            if accepted:
                reason = f"{of} samples answer {answer!r}"
            elif agreed:
                reason = f"the answer {answer!r} is not the majority's ({of})"
            else:
                reason = f"no answer given by more than {self.majority:g} of the samples"
            verdicts.append(
                member_verdict(candidate, accepted, "majority", reason, agreement, extracted=answer)
            )
        return verdicts

    def verify(self, candidate: Candidate) -> Verdict:
        if candidate.reference is None:
            return Verdict.unverifiable(
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
