"""The job's one curator, applied at three named points of a run.

- `before_solving`: a unit's problems, before any request is bought. A problem that copies a
  benchmark item (n-gram rules, `decontaminate.py`; paraphrases when an embedding threshold is
  set, `embedding.py`) is left out with the record of what it hit: a leaked problem costs nothing.
- `choose`: a unit's verified attempts. Up to `solve.keep` accepted attempts of each problem, of
  distinct reasoning (`distinct.py`), are marked kept; the others stay in the run, unkept.
- `before_export`: the run's committed records, in run order. An attempt that copies a benchmark
  solution the problem did not, a kept rationale not worth training on (`rationales.py`), and a kept
  row whose problem repeats an earlier one (of this run or of earlier exports) or whose rationale
  repeats another of its problem's (`dedupe.py`) become removals, which the export leaves out and
  the card counts.

Nothing else in the job decides what is curated, and each point is a plain function of records:
the driver calls the first two as a unit goes, the export the third.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from verified_factory.config import CurateConfig, DecontaminateConfig
from verified_factory.curate.benchmarks import BenchmarkError, benchmark_paths
from verified_factory.curate.decontaminate import Decontaminator
from verified_factory.curate.dedupe import RowDeduper
from verified_factory.curate.distinct import choose_distinct
from verified_factory.curate.rationales import rationale_flaw
from verified_factory.curate.removals import Removal, contaminated, duplicate, flawed, removal
from verified_factory.records import Problem
from verified_factory.rows import Attempt, ProblemError

if TYPE_CHECKING:
    from verified_factory.curate.embedding import EmbeddingIndex


@dataclass(frozen=True)
class Curated:
    """What `before_export` found: the removals in run order, and what the manifest says of it."""

    removals: list[Removal]
    manifest: dict[str, Any] = field(default_factory=dict)


class Curator:
    def __init__(
        self,
        settings: CurateConfig,
        keep: int,
        decontaminator: Decontaminator | None = None,
        paraphrases: EmbeddingIndex | None = None,
    ) -> None:
        self.settings = settings
        self.keep = keep
        self.decontaminator = decontaminator
        self.paraphrases = paraphrases

    @classmethod
    def open(cls, settings: CurateConfig, keep: int, *, paraphrases: bool = True) -> Curator:
        """The curator the settings describe, its benchmark items loaded (and its embedding
        model, unless `paraphrases` is false: an export checks no problem again)."""
        decontaminator = open_decontaminator(settings.decontaminate)
        index = None
        threshold = settings.decontaminate.embedding_threshold
        if paraphrases and decontaminator is not None and threshold is not None:
            from verified_factory.curate.embedding import EmbeddingIndex

            index = EmbeddingIndex(decontaminator.items, threshold=threshold)
        return cls(settings, keep, decontaminator, index)

    def before_solving(self, problems: list[Problem]) -> tuple[list[Problem], list[ProblemError]]:
        """The problems left to solve, and a removal record for each one left out. It can take
        a moment (a batch of embeddings): a caller on an event loop runs it in a thread."""
        removed: list[ProblemError] = []
        clean: list[Problem] = []
        for problem in problems:
            hit = self.decontaminator and self.decontaminator.check_problem(problem)
            if hit:
                removed.append(contaminated(problem.id, hit))
            else:
                clean.append(problem)
        if self.paraphrases is not None and clean:
            hits = self.paraphrases.check_problems(clean)
            removed += [contaminated(p.id, hit) for p, hit in zip(clean, hits, strict=True) if hit]
            clean = [p for p, hit in zip(clean, hits, strict=True) if not hit]
        return clean, removed

    def choose(self, attempts: list[Attempt]) -> list[Attempt]:
        """The attempts, each problem's up to `keep` accepted ones of distinct reasoning marked
        kept, grouped by problem in the order the problems first appear."""
        by_problem: dict[str, list[Attempt]] = {}
        for attempt in attempts:
            by_problem.setdefault(attempt.problem_id, []).append(attempt)
        marked: list[Attempt] = []
        for group in by_problem.values():
            chosen = choose_distinct(group, self.keep)
            marked += [a.model_copy(update={"kept": a.id in chosen}) for a in group]
        return marked

    def before_export(self, records: Iterator[Attempt | ProblemError]) -> Curated:
        """The removals of a run, in run order: problems left out before solving, attempts that
        copy a benchmark, kept rows with a flawed rationale, kept rows that repeat a problem or
        a rationale."""
        dedupe = self.settings.dedupe
        found: list[Removal] = []
        with RowDeduper(dedupe.near_threshold) as deduper:
            seeded = deduper.seed_from_exports(dedupe.against)
            for record in records:
                if isinstance(record, ProblemError):
                    if record.removal is not None:
                        found.append(record.removal)
                elif self.decontaminator and (hit := self.decontaminator.check_row(record)):
                    found.append(removal(record.id, "rows", hit))
                elif record.kept and (flaw := rationale_flaw(record)):
                    found.append(flawed(record, flaw))
                elif record.kept and (dropped := deduper.check(record)):
                    found.append(duplicate(dropped))
        manifest = {
            "decontamination": self.decontamination_note(),
            "dedupe": {
                "near_threshold": dedupe.near_threshold,
                "against": [str(path) for path in dedupe.against],
                "rows_seeded_from_earlier_exports": seeded,
                "repeated_problems": len(deduper.repeated_problems),
            },
        }
        return Curated(found, manifest)

    def decontamination_note(self) -> dict[str, Any]:
        """What the manifest says of decontamination."""
        settings = self.settings.decontaminate
        if self.decontaminator is None:
            return {"enabled": False, "reason": "off" if not settings.enabled else "no benchmarks"}
        items = self.decontaminator.items
        return {
            "enabled": True,
            "benchmarks": sorted({item.benchmark for item in items}),
            "items": len(items),
            "embedding_threshold": settings.embedding_threshold,
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
