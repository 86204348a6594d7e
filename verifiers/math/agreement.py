"""Self-consistency: the samples of a math problem without a reference, judged by agreement.

The final answers are clustered by the math verifier's own equivalence (`1/2`, `0.5` and
`\\frac{2}{4}` are one answer), not by string equality. When one cluster, and only one, holds at
least `share` of the samples (and there are at least `min_samples`), its members are accepted,
each with the `Agreement` (its share and the majority answer), and the others rejected;
otherwise nothing is. Each verdict's `details` shows the agreement and the cluster sizes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from verified_factory.records import Agreement, Candidate, Verdict
from verified_factory.verifiers.base import Verifier, member_verdict
from verified_factory.verifiers.math.extract import extract_answer

TEST_NAME = "agreement"


@dataclass(frozen=True)
class AgreementRule:
    share: float = 0.5
    """The majority cluster must hold at least this share of the samples."""
    min_samples: int = 4


def judge_by_agreement(
    candidates: Sequence[Candidate], verifier: Verifier, rule: AgreementRule
) -> list[Verdict]:
    """One verdict per sample of one problem, in order."""
    answers = [extract_answer(c.response) for c in candidates]
    clusters: list[list[int]] = []  # indices of candidates; the first is the representative
    for index, candidate in enumerate(candidates):
        if answers[index] is None:
            continue
        for cluster in clusters:
            representative = answers[cluster[0]].answer  # type: ignore[union-attr]
            same = verifier.verify(candidate.model_copy(update={"reference": representative}))
            if same.accepted:
                cluster.append(index)
                break
        else:
            clusters.append([index])
    clusters.sort(key=len, reverse=True)
    sizes = [len(c) for c in clusters]
    total = len(candidates)
    summary: dict[str, Any] = {"test": TEST_NAME, "samples": total, "clusters": sizes}
    majority = _majority(sizes, total, rule)
    if majority is not None:
        members = set(clusters[0])
        answer = answers[clusters[0][0]].answer  # type: ignore[union-attr]
        agreement = Agreement(share=sizes[0] / total, answer=answer)
        summary.update(agreement=agreement.share, answer=answer)
    else:
        members, answer, agreement = set(), None, None
    verdicts = []
    for index, candidate in enumerate(candidates):
        found = answers[index].answer if answers[index] is not None else None  # type: ignore[union-attr]
        if index in members:
            status, reason = "accepted", f"{sizes[0]} of {total} samples agree on {answer!r}"
        elif majority is not None:
            status = "rejected"
            reason = (
                f"its answer {found!r} is not the majority's {answer!r} "
                f"({sizes[0]} of {total} samples)"
                if found is not None
                else f"no final answer found; the majority's is {answer!r}"
            )
        else:
            status, reason = "rejected", f"no agreement: {_why_not(sizes, total, rule)}"
        verdicts.append(
            member_verdict(
                candidate,
                status == "accepted",
                "self-consistency (no reference)",
                reason,
                agreement,
                extracted=found,
                detail=summary,
            )
        )
    return verdicts


def _majority(sizes: list[int], total: int, rule: AgreementRule) -> int | None:
    if total < rule.min_samples or not sizes:
        return None
    if sizes[0] / total < rule.share or (len(sizes) > 1 and sizes[1] == sizes[0]):
        return None
    return sizes[0]


def _why_not(sizes: list[int], total: int, rule: AgreementRule) -> str:
    if total < rule.min_samples:
        return f"{total} sample(s), and agreement needs at least {rule.min_samples}"
    if not sizes:
        return f"none of the {total} samples has a final answer"
    if len(sizes) > 1 and sizes[1] == sizes[0]:
        return f"answers tie {sizes[0]} to {sizes[1]} of {total} samples"
    return (
        f"the largest group of equal answers holds {sizes[0]} of {total} samples, "
        f"under the required share {rule.share:g}"
    )
