"""Decontamination: planted copies caught, our own problems kept, speed.

Planted copies (`bench/planted_contamination.py`) of all 164 HumanEval and 974 MBPP problems,
read from the repository's copies (`tests/data/benchmarks`): exact, whitespace changed,
identifiers renamed, instructions reworded, numbers substituted, and the light edits together.
Clean problems: the project's own generators. Also reported: each field of a copy alone, copies
as exported rows, and MBPP's own non-test problems against its test split (different problems in
the same words, many of them one-word variants of a test problem: an upper bound on removals of
look-alikes).

Then benchmark items as people paste them (`bench/pasted_contamination.py`): MBPP in its prompt
with its asserts, HumanEval renamed and run into one line, GSM8K and MATH-500 questions behind
instructions and with their numbers changed, checked against all four benchmarks, with
generated problems pasted in the same formats as the look-alikes that must stay.

    .venv/bin/python bench/decontamination.py [--clean-seeds 2] [--texts 100000]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
import tracemalloc
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from benchmark_data import BENCHMARKS, HUMANEVAL, MBPP
from pasted_contamination import look_alikes as pasted_look_alikes
from pasted_contamination import pasted, pasted_row
from planted_contamination import (
    as_row,
    clean_problems,
    mbpp_problems,
    planted,
)

from verified_factory.curate.benchmarks import load_benchmarks
from verified_factory.curate.decontaminate import Decontaminator, Hit, decontaminate_file
from verified_factory.records import Problem


def rate(hits: Sequence[Hit | None]) -> str:
    caught = sum(h is not None for h in hits)
    return f"{caught}/{len(hits)} ({100 * caught / len(hits):.2f}%)"


def rules(hits: Sequence[Hit | None]) -> str:
    counts = Counter(h.rule for h in hits if h is not None)
    return ", ".join(f"{rule} {n}" for rule, n in counts.most_common())


def only(field: str) -> Callable[[Problem], Problem]:
    """The problem with every other field emptied."""
    empty: dict[str, Any] = {"problem": "", "reference": None, "tests": None}

    def strip(problem: Problem) -> Problem:
        return problem.model_copy(update={k: v for k, v in empty.items() if k != field})

    return strip


def build(paths: Sequence[Path]) -> Decontaminator:
    tracemalloc.start()
    start = time.perf_counter()
    checker = Decontaminator(load_benchmarks(paths))
    seconds = time.perf_counter() - start
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"index of {len(checker.items)} items: {seconds:.2f} s, {peak / 2**20:.1f} MiB peak\n")
    return checker


def planted_copies(checker: Decontaminator) -> None:
    print("| copies | removed | statement only | reference only | tests only | rows | rules |")
    print("|---|---|---|---|---|---|---|")
    for kind, copies in planted(seed=0).items():
        hits = [checker.check_problem(p) for p in copies]
        fields = [
            rate([checker.check_problem(only(f)(p)) for p in copies])
            for f in ("problem", "reference", "tests")
        ]
        rows = rate([checker.check_row(as_row(p)) for p in copies])
        print(f"| {kind} | {rate(hits)} | {' | '.join(fields)} | {rows} | {rules(hits)} |")


def clean(checker: Decontaminator, seeds: int) -> list[Problem]:
    problems = clean_problems(code_seeds=seeds, math_seeds=seeds)
    kept(checker, f"clean problems (code and math, seeds 0..{seeds - 1})", problems, as_row)
    return problems


def kept(
    checker: Decontaminator,
    label: str,
    problems: list[Problem],
    row: Callable[[Problem], dict[str, Any]],
) -> None:
    """How many of problems that copy nothing were removed, as problems and as rows, and which."""
    hits = [checker.check_problem(p) for p in problems]
    row_hits = [checker.check_row(row(p)) for p in problems]
    print(f"\n{label} removed: {rate(hits)}; as rows: {rate(row_hits)}")
    for problem, hit in zip(problems, hits, strict=True):
        if hit is not None:
            print(f"  {problem.id}: {hit}")


def _own_item(problem: Problem, hit: Hit) -> bool:
    item = problem.id.split("#")[0]
    return item in (hit.item_id, f"{hit.benchmark.lower()}/{hit.item_id}")


def pasted_copies(checker: Decontaminator) -> None:
    print("\n| pasted as | removed | naming their own item | as rows | rules |")
    print("|---|---|---|---|---|")
    for kind, copies in pasted(seed=0).items():
        hits = [checker.check_problem(p) for p in copies]
        own = sum(h is not None and _own_item(p, h) for p, h in zip(copies, hits, strict=True))
        rows = rate([checker.check_row(pasted_row(p)) for p in copies])
        print(f"| {kind} | {rate(hits)} | {own} | {rows} | {rules(hits)} |")
    label = "generated problems pasted in the same formats"
    kept(checker, label, pasted_look_alikes(), pasted_row)


def look_alikes() -> None:
    """MBPP's train and prompt problems against its test split (ids 11-510)."""
    items = load_benchmarks([MBPP])
    checker = Decontaminator([i for i in items if 11 <= int(i.item_id) <= 510])
    others = [p for p in mbpp_problems() if not 11 <= int(p.id.removeprefix("mbpp/")) <= 510]
    hits = [checker.check_problem(p) for p in others]
    print(f"\nMBPP non-test problems against the MBPP test split: {rate(hits)} ({rules(hits)})")


def throughput(
    checker: Decontaminator, problems: list[Problem], texts: int, against: Sequence[Path]
) -> None:
    many = (problems * (texts // len(problems) + 1))[:texts]
    start = time.perf_counter()
    for problem in many:
        checker.check_text(problem.problem, problem.domain)
    seconds = time.perf_counter() - start
    print(f"\ncheck_text, {texts:,} statements: {seconds:.1f} s ({texts / seconds:,.0f}/s)")
    start = time.perf_counter()
    for problem in many:
        checker.check_problem(problem)
    seconds = time.perf_counter() - start
    print(
        f"check_problem, {texts:,} problems (statement, reference, tests): {seconds:.1f} s "
        f"({texts / seconds:,.0f}/s)"
    )
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "in.jsonl"
        with source.open("w") as out:
            for problem in many:
                out.write(problem.model_dump_json() + "\n")
        start = time.perf_counter()
        counts = decontaminate_file(
            source, Path(folder) / "out.jsonl", Path(folder) / "log.jsonl", against
        )
        seconds = time.perf_counter() - start
    print(
        f"decontaminate_file, {texts:,} problem lines (index, JSON and validation included): "
        f"{seconds:.1f} s ({texts / seconds:,.0f} lines/s); {json.dumps(counts.__dict__)}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clean-seeds", type=int, default=2, help="1,400 code + 1,400 math each")
    parser.add_argument("--texts", type=int, default=100_000)
    args = parser.parse_args()
    print("against HumanEval and MBPP:")
    checker = build([HUMANEVAL, MBPP])
    planted_copies(checker)
    problems = clean(checker, args.clean_seeds)
    look_alikes()
    throughput(checker, problems, args.texts, [HUMANEVAL, MBPP])
    print("\nagainst HumanEval, MBPP, GSM8K (test) and MATH-500 (tests/data/benchmarks):")
    every = build([BENCHMARKS])
    pasted_copies(every)
    problems = clean(every, args.clean_seeds)
    throughput(every, problems, args.texts, [BENCHMARKS])


if __name__ == "__main__":
    main()
