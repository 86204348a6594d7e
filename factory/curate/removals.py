"""What curation takes out of a run, as records the export leaves out and the card counts.

Decontamination runs twice: on each problem as the source is read, before any model call (a
leaked problem costs nothing), and on every attempt before export (a response can copy a
benchmark solution the problem did not). Kept rows not worth training on go next
(`rationales.py`: a hinted reply that copies or mentions its hint, a program that runs demo code).
Then dedupe drops the kept rows whose problem repeats
an earlier problem (of this run or of earlier exports) or whose rationale repeats another of its
problem's. A removal record names the attempt or problem (`record_id`), the stage, the rule and
what it hit.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING

from verified_factory.config import DecontaminateConfig
from verified_factory.curate.benchmarks import BenchmarkError, benchmark_paths
from verified_factory.curate.decontaminate import Decontaminator, Hit
from verified_factory.curate.dedupe import Dropped, RowDeduper
from verified_factory.curate.rationales import Flaw, rationale_flaw
from verified_factory.rows import Attempt, ProblemError

if TYPE_CHECKING:
    from verified_factory.curate.embedding import EmbeddingIndex

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


def open_decontaminator(settings: DecontaminateConfig) -> Decontaminator | None:
    """The job's decontaminator, or None when it is off or, by default, has nothing to check.

    Benchmarks named in the config must load. With none named and none pulled, the job goes on
    with a warning on stderr (and the manifest says so): a demo on a machine without network
    should run, and nobody should believe it was decontaminated.
    """
    if not settings.enabled:
        return None
    try:
        paths = benchmark_paths(settings.against)
    except BenchmarkError as err:
        if settings.against:
            raise
        sys.stderr.write(f"warning: decontamination checks nothing: {err}\n")
        return None
    return Decontaminator.from_paths(paths, ngram=settings.ngram, math_ngram=settings.math_ngram)


def open_embedding_index(
    settings: DecontaminateConfig, found: Decontaminator | None
) -> EmbeddingIndex | None:
    """The paraphrase stage, when a threshold is set: over the same benchmark items."""
    if found is None or settings.embedding_threshold is None:
        return None
    from verified_factory.curate.embedding import EmbeddingIndex

    return EmbeddingIndex(found.items, threshold=settings.embedding_threshold)


def decontamination_note(settings: DecontaminateConfig, found: Decontaminator | None) -> dict:
    """What the manifest says of decontamination."""
    if found is None:
        return {"enabled": False, "reason": "off" if not settings.enabled else "no benchmarks"}
    benchmarks = sorted({item.benchmark for item in found.items})
    return {
        "enabled": True,
        "benchmarks": benchmarks,
        "items": len(found.items),
        "embedding_threshold": settings.embedding_threshold,
    }


def run_removals(
    records: Iterator[Attempt | ProblemError],
    decontaminator: Decontaminator | None,
    deduper: RowDeduper,
) -> list[Removal]:
    """The removals of a run, in run order: problems decontaminated at the source, attempts
    that copy a benchmark, kept rows that repeat a problem or a rationale."""
    found: list[Removal] = []
    for record in records:
        if isinstance(record, ProblemError):
            if record.removal is not None:
                found.append(record.removal)
        elif decontaminator is not None and (hit := decontaminator.check_row(record)):
            found.append(removal(record.id, "rows", hit))
        elif record.kept and (flaw := rationale_flaw(record)):
            found.append(flawed(record, flaw))
        elif record.kept and (dropped := deduper.check(record)):
            found.append(duplicate(dropped))
    return found


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
