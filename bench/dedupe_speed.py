"""Dedupe throughput and accuracy: 100,000 kept rows with planted exact and near duplicates.

The rows: distinct problems of the built-in generators (many seeds), behind the built-in prompts,
each with 1 to 3 kept rows whose rationales are the problem's worked steps with an introduction,
a check of their own (other numbers, as two kept paths of one problem differ) and a conclusion.
An earlier export (JSON Lines) of other problems is seeded first.

Planted, each after the row it copies, all of them to be dropped:
- `problem-exact`: a problem again under a new id, with other case and spacing, with its rows;
- `problem-near`: a problem again with a few words before or after it ("Problem:", "Show your
  work."), with its rows;
- `problem-export`: a problem of the earlier export again, with its rows;
- `rationale-exact`: one more row of a problem whose rationale copies one of its rows' with other
  spacing;
- `rationale-near`: the same with the introduction dropped or a closing sentence added.

Not to be dropped, besides every base row: rows of different problems with one same rationale.

    .venv/bin/python bench/dedupe_speed.py [--rows 100000] [--seed 0]
"""

from __future__ import annotations

import argparse
import json
import random
import re
import tempfile
import time
from collections import Counter
from pathlib import Path

from verified_factory.config import DedupeConfig
from verified_factory.curate.dedupe import dedupe_kept
from verified_factory.models.base import Message
from verified_factory.records import Problem, Verdict
from verified_factory.rows import Attempt
from verified_factory.solve.prompts import load_prompts
from verified_factory.sources.code_problems import generate_code
from verified_factory.sources.math_problems import generate_math

INTROS = ("", "Let's solve this step by step.", "We work through it one step at a time.")
CLOSINGS = ("I hope it is correct.", "That settles it.", "Done.")
PREFIXES = ("Problem:", "Question:", "Exercise.")
SUFFIXES = ("Show your work.", "Explain briefly.", "Be careful.")
PLANTED_SHARE = 0.025  # of the base problems, for each kind of planted problem and rationale
EXPORT_PROBLEMS = 5_000
SHARED_RATIONALES = 500


def distinct_problems(count: int) -> list[Problem]:
    """`count` math and coding problems with distinct statements."""
    seen: dict[str, Problem] = {}
    for seed in range(10_000):
        batch = generate_math(1000, seed) + (generate_code(1000, seed) if seed % 3 == 0 else [])
        for problem in batch:
            seen.setdefault(problem.problem, problem)
        if len(seen) >= count:
            return list(seen.values())[:count]
    raise ValueError(f"the generators made only {len(seen)} distinct problems")


def rationale(problem: Problem, rng: random.Random) -> str:
    """A response of a few sentences: steps, a check with numbers of its own, the answer."""
    a, b = rng.randrange(10, 10**6), rng.randrange(10, 10**6)
    parts = [rng.choice(INTROS), *problem.meta["steps"], f"As a check, {a} + {b} = {a + b}."]
    if problem.domain == "code":
        parts.append(f"The solution:\n\n```python\n{problem.reference}\n```")
    else:
        parts.append(f"The final answer is $\\boxed{{{problem.reference}}}$.")
    return "\n".join(p for p in parts if p)


def attempt(problem: Problem, prompt: str, response: str, number: int) -> Attempt:
    return Attempt(
        id=f"{problem.id}/s{number}",
        problem_id=problem.id,
        domain=problem.domain,
        source=problem.source,
        model="bench",
        messages=(
            Message(role="user", content=prompt),
            Message(role="assistant", content=response),
        ),
        reference=problem.reference,
        tests=None,
        rationalized=False,
        kept=True,
        verdict=Verdict(
            id=None, verifier=problem.domain, accepted=True, status="accepted", reason=""
        ),
    )


class Builder:
    """The rows in order, and the planted ones: the ids to be dropped, by kind.

    A near copy is planted only when it is a near duplicate by the definition, its Jaccard
    similarity measured here with plain Python sets; the others (a prefix inside a short prompt
    changes too many shingles) are counted apart, as `*-below`, and must not be dropped.
    """

    def __init__(self, seed: int, threshold: float) -> None:
        self.rng = random.Random(seed)
        self.threshold = threshold
        self.prompts = load_prompts({}, {})
        self.planted: dict[str, str] = {}  # row id -> kind
        self.below: dict[str, str] = {}

    def group(self, problem: Problem, prompt: str | None = None) -> list[Attempt]:
        prompt = prompt if prompt is not None else self.prompts.prompt(problem)
        count = self.rng.randint(1, 3)
        return [attempt(problem, prompt, rationale(problem, self.rng), n) for n in range(count)]

    def repeat(self, problem: Problem, kind: str, number: int) -> list[Attempt]:
        """The problem again under a new id: `problem-exact`, `-near` or `-export`."""
        copy = problem.model_copy(update={"id": f"{problem.id}-{kind}-{number}"})
        if kind == "problem-near":
            if self.rng.random() < 0.5:
                statement = f"{self.rng.choice(PREFIXES)} {problem.problem}"
            else:
                statement = f"{problem.problem} {self.rng.choice(SUFFIXES)}"
            copy = copy.model_copy(update={"problem": statement})
        prompt = self.prompts.prompt(copy)
        if kind == "problem-exact":
            prompt = prompt.upper().replace(" ", "  ") if number % 2 else prompt.lower()
        rows = self.group(copy, prompt)
        near = jaccard(self.prompts.prompt(problem), prompt) >= self.threshold
        record = self.planted if kind != "problem-near" or near else self.below
        record.update((row.id, kind) for row in rows)
        return rows

    def copied_rationale(self, rows: list[Attempt], kind: str) -> Attempt:
        """One more row of the problem, copying the rationale of one of its rows."""
        source = self.rng.choice(rows)
        text = source.messages[1].content
        if kind == "rationale-exact":
            text = text.replace("\n", "\n\n").replace(". ", ".  ")
        elif text.split("\n", 1)[0] in INTROS[1:] and self.rng.random() < 0.5:
            text = text.split("\n", 1)[1]
        else:
            text = f"{text}\n{self.rng.choice(CLOSINGS)}"
        row = source.model_copy(
            update={
                "id": f"{source.problem_id}/{kind}",
                "messages": (source.messages[0], Message(role="assistant", content=text)),
            }
        )
        near = jaccard(source.messages[1].content, text) >= self.threshold
        (self.planted if kind != "rationale-near" or near else self.below)[row.id] = kind
        return row


def jaccard(a: str, b: str) -> float:
    """The Jaccard similarity of the texts' sets of 5-token shingles, computed plainly."""
    shingles = [
        {tuple(t[i : i + 5]) for i in range(max(len(t) - 4, 1))}
        for t in (re.findall(r"\w+|[^\w\s]+", text.lower()) for text in (a, b))
    ]
    return len(shingles[0] & shingles[1]) / len(shingles[0] | shingles[1])


def build(
    rows_wanted: int, seed: int, export: Path, threshold: float
) -> tuple[list[Attempt], Builder]:
    builder = Builder(seed, threshold)
    base_count = int(rows_wanted / (2 + 8 * PLANTED_SHARE))  # 2 rows a problem, and planted
    problems = distinct_problems(base_count + EXPORT_PROBLEMS)
    exported, base = problems[:EXPORT_PROBLEMS], problems[EXPORT_PROBLEMS:]
    write_export(export, [row for p in exported for row in builder.group(p)])
    groups: list[tuple[float, list[Attempt]]] = []
    plain: list[str] = []  # problems without a copied rationale, to share rationales between
    for position, problem in enumerate(base):
        rows = builder.group(problem)
        plain.append(problem.id)
        for kind in ("rationale-exact", "rationale-near"):
            if builder.rng.random() < PLANTED_SHARE:
                rows.append(builder.copied_rationale(rows, kind))
                plain[-1:] = []
        groups.append((position, rows))
        for kind in ("problem-exact", "problem-near"):
            if builder.rng.random() < PLANTED_SHARE:
                later = builder.rng.uniform(position, len(base))
                groups.append((later, builder.repeat(problem, kind, position)))
    for number in range(int(PLANTED_SHARE * len(base))):
        repeat = builder.repeat(exported[number], "problem-export", 0)
        groups.append((builder.rng.uniform(0, len(base)), repeat))
    rows = [row for _, group in sorted(groups, key=lambda g: g[0]) for row in group]
    share_rationales(rows, builder.rng.sample(plain, SHARED_RATIONALES))
    return rows, builder


def share_rationales(rows: list[Attempt], problem_ids: list[str]) -> None:
    """Give the first rows of these problems, pairwise, one same rationale (both to be kept)."""
    firsts = {row.problem_id: index for index, row in reversed(list(enumerate(rows)))}
    for first, second in zip(problem_ids[::2], problem_ids[1::2], strict=False):
        source, target = rows[firsts[first]], rows[firsts[second]]
        rows[firsts[second]] = target.model_copy(
            update={"messages": (target.messages[0], source.messages[1])}
        )


def write_export(folder: Path, rows: list[Attempt]) -> None:
    (folder / "data").mkdir(parents=True)
    with (folder / "data" / "train-00000-of-00001.jsonl").open("w", encoding="utf-8") as out:
        out.writelines(json.dumps(row.sft_row()) + "\n" for row in rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    threshold = DedupeConfig().near_threshold
    with tempfile.TemporaryDirectory() as scratch:
        export = Path(scratch) / "earlier-export"
        started = time.perf_counter()
        rows, builder = build(args.rows, args.seed, export, threshold)
        planted = builder.planted
        print(
            f"built {len(rows):,} rows ({len(planted):,} planted) in "
            f"{time.perf_counter() - started:.1f} s"
        )
        started = time.perf_counter()
        report = dedupe_kept(rows, DedupeConfig(near_threshold=threshold, against=[export]))
        elapsed = time.perf_counter() - started
    found = {d.id: d for d in report.dropped}
    hits = found.keys() & planted.keys()
    print(
        f"deduped {report.checked:,} rows (+ {report.seeded:,} exported rows seeded) in "
        f"{elapsed:.1f} s: {report.checked / elapsed:,.0f} rows/s"
    )
    print(
        f"dropped {len(found):,}, planted {len(planted):,}: precision "
        f"{len(hits) / max(len(found), 1):.4f}, recall {len(hits) / max(len(planted), 1):.4f}"
    )
    caught = Counter(planted[i] for i in hits)
    for kind, total in sorted(Counter(planted.values()).items()):
        print(f"  {kind:16} {caught[kind]:6,} of {total:6,}")
    below = Counter(builder.below.values())
    for kind, total in sorted(below.items()):
        wrongly = sum(1 for i, k in builder.below.items() if k == kind and i in found)
        print(f"  {kind}-below {wrongly:,} of {total:,} dropped (copies under the threshold)")
    print(f"  repeated problems reported: {len(report.repeated_problems):,}")
    for row_id in sorted(found.keys() - planted.keys())[:5]:
        print(f"  not planted: {row_id}: {found[row_id].what} {found[row_id].reason}")
    for row_id in sorted(planted.keys() - found.keys())[:5]:
        print(f"  missed: {row_id} ({planted[row_id]})")


if __name__ == "__main__":
    main()
