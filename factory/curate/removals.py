"""The removal records of curation: what the export leaves out and the card counts.

A removal names the attempt or problem (`record_id`), the stage that removed it (`source`,
`rows`, `rationale`, `dedupe`), the benchmark or `(rationale)`/`(dedupe)`, the item it matched,
the rule and what it hit. `curator.py` decides; this module only writes the records.
"""

from __future__ import annotations

from verified_factory.curate.decontaminate import Hit
from verified_factory.curate.dedupe import Dropped
from verified_factory.curate.rationales import Flaw
from verified_factory.rows import Attempt, ProblemError

Removal = dict[str, str]


def removal(record_id: str, stage: str, hit: Hit) -> Removal:
    return {
        "record_id": record_id,
        "stage": stage,
        "benchmark": hit.benchmark,
        "item_id": hit.item_id,
        "rule": hit.rule,
        "detail": hit.detail,
    }


def flawed(attempt: Attempt, flaw: Flaw) -> Removal:
    return {
        "record_id": attempt.id,
        "stage": "rationale",
        "benchmark": "(rationale)",
        "item_id": attempt.problem_id,
        "rule": flaw.rule,
        "detail": flaw.detail,
    }


def duplicate(dropped: Dropped) -> Removal:
    return {
        "record_id": dropped.id,
        "stage": "dedupe",
        "benchmark": "(dedupe)",
        "item_id": dropped.match.of,
        "rule": f"duplicate_{dropped.what}",
        "detail": dropped.reason,
    }


def contaminated(problem_id: str, hit: Hit) -> ProblemError:
    """The record of a problem left out at the source, before any model call."""
    return ProblemError(
        problem_id=problem_id,
        stage="source",
        kind="contaminated",
        message=f"problem {problem_id!r} copies {hit.benchmark} item {hit.item_id!r} "
        f"(rule {hit.rule}: {hit.detail}); left out before any model call",
        removal=removal(problem_id, "source", hit),
    )
