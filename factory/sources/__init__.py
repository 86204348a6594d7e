"""Where a job's problems come from: Problem files first, then the built-in generators."""

from __future__ import annotations

from collections.abc import Iterator
from itertools import chain, islice
from pathlib import Path

from verified_factory.config import Generators, SourceConfig
from verified_factory.records import Problem, RecordError
from verified_factory.rows import ProblemError
from verified_factory.sources.code_problems import draw_code
from verified_factory.sources.files import read_problems
from verified_factory.sources.math_problems import draw_math
from verified_factory.verifiers.code.reference_check import function_under_test


def read_source(source: SourceConfig) -> Iterator[Problem | RecordError]:
    """Every problem of the job in a fixed order; a bad record as a RecordError naming its file."""
    for path in source.files:
        for item in read_problems(path):
            if isinstance(item, RecordError):
                item = RecordError(f"{path}: {item}", record_id=item.record_id, line=item.line)
            yield item
    generators = source.generators
    generated = chain(
        draw_math(generators.math, generators.seed),
        draw_code(generators.code, generators.seed),
    )
    for problem in generated:
        yield as_sourced(problem, generators)


def domains(source: SourceConfig, sniff: int = 64) -> set[str]:
    """The domains the job's problems will be in, as far as is cheap to know: the generators'
    and the synthesizers', and those of the first `sniff` records of each file."""
    generators = source.generators
    found = {d for d, count in (("math", generators.math), ("code", generators.code)) if count}
    found |= {synthesizer.domain for synthesizer in source.synthesize}
    for path in source.files:
        found |= {p.domain for p in islice(read_problems(path), sniff) if isinstance(p, Problem)}
    return found


def run_problems(source: SourceConfig, synthesized: list[Path]) -> Iterator[Problem | ProblemError]:
    """The source stage of a job: its problems, then the synthesizers' (`synthesized`, their
    files in the run directory); a bad record or a repeated id as an error naming it."""
    seen: set[str] = set()
    made = (read_problems(path) for path in synthesized)
    for item in chain(read_source(source), *made):
        if isinstance(item, RecordError):
            yield ProblemError(
                problem_id=item.record_id,
                line=item.line,
                stage="source",
                kind="bad_record",
                message=str(item),
            )
        elif item.id in seen:
            yield ProblemError(
                problem_id=item.id,
                stage="source",
                kind="duplicate_id",
                message=f"problem {item.id!r} ({item.source}): an earlier problem has this id; "
                "ids must be unique in a run, so this one is skipped",
            )
        else:
            seen.add(item.id)
            yield item


def as_sourced(problem: Problem, generators: Generators) -> Problem:
    """A generated problem as the job sees it: without what `generators` withholds."""
    if not generators.references:
        problem = problem.model_copy(update={"reference": None})
    if not generators.tests and problem.domain == "code":
        name = function_under_test(problem.tests)
        if name is not None:
            meta = {**problem.meta, "entry_point": name}
            problem = problem.model_copy(update={"tests": None, "meta": meta})
    return problem
