"""Dedupe throughput, memory and accuracy: kept rows with planted exact and near duplicates.

The rows: distinct problems of the built-in generators (many seeds), behind the built-in prompts,
each with 1 to 3 kept rows whose rationales are the problem's worked steps with an introduction,
a check of their own (other numbers, as two kept paths of one problem differ) and a conclusion.
Past the generators' distinct statements (about 100,000 from 150 seeds), a problem is two of them
of one domain, one after the other ("Then: ..."). An earlier export (JSON Lines) of other problems
is seeded first.

Planted, each after the row it copies, all of them to be dropped:
- `problem-exact`: a problem again under a new id, with other case and spacing, with its rows;
- `problem-near`: a problem again with a few words before or after it ("Problem:", "Show your
  work."), with its rows;
- `problem-export`: a problem of the earlier export again, with its rows;
- `rationale-exact`: one more row of a problem whose rationale copies one of its rows' with other
  spacing;
- `rationale-near`: the same with the introduction dropped or a closing sentence added.

Not to be dropped, besides every base row: rows of different problems with one same rationale.

The rows are written to a file, then deduped in a process of its own that streams them from it,
so its peak resident memory is the dedupe's (with the interpreter, NumPy and pydantic). With
`--sample N`, the first N rows are also deduped by the in-memory index the job used until now
(`datasketch`'s MinHashLSH and Python dicts, the same rules), and the two are compared.

    .venv/bin/python bench/dedupe_speed.py [--rows 100000] [--sample 0] [--seed 0]
    .venv/bin/python bench/dedupe_speed.py --rows 2000000 --sample 100000
"""

from __future__ import annotations

import argparse
import hashlib
import heapq
import itertools
import json
import random
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from datasketch import MinHash, MinHashLSH

from verified_factory.config import DedupeConfig
from verified_factory.curate import dedupe
from verified_factory.curate.dedupe import DedupeReport, Dropped, Match, dedupe_kept
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
SINGLE_SEEDS = 150
IN_MEMORY_WEIGHTS = (0.03, 0.97)


def distinct_problems() -> Iterator[Problem]:
    """Math and coding problems with distinct statements: the generators', then pairs of them."""
    seen: set[bytes] = set()
    singles: dict[str, list[Problem]] = {"math": [], "code": []}
    for seed in range(SINGLE_SEEDS):
        batch = generate_math(1000, seed) + (generate_code(1000, seed) if seed % 3 == 0 else [])
        for problem in batch:
            digest = hashlib.blake2b(problem.problem.encode(), digest_size=16).digest()
            if digest not in seen:
                seen.add(digest)
                singles[problem.domain].append(problem)
                yield problem
    for step in range(1, len(singles["math"]) // 2):  # (a, b) and (b, a) never both
        for pool in singles.values():
            if step < len(pool) // 2:
                yield from map(paired, pool, pool[step:] + pool[:step])
    raise ValueError(f"the generators made too few distinct problems: {len(seen)}")


def paired(first: Problem, second: Problem) -> Problem:
    """One problem of two: both statements, both worked steps."""
    return first.model_copy(
        update={
            "id": f"{first.id}+{second.id}",
            "problem": f"{first.problem}\n\nThen: {second.problem}",
            "meta": {"steps": [*first.meta["steps"], *second.meta["steps"]]},
        }
    )


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


def build(rows_wanted: int, seed: int, folder: Path, threshold: float) -> Builder:
    """Write the rows to `folder/rows.jsonl` in run order and the earlier export beside them.

    Each problem's repeats wait in a heap until their place (a later problem, at random), so the
    builder holds the waiting copies only.
    """
    builder = Builder(seed, threshold)
    base_count = int(rows_wanted / (2 + 8 * PLANTED_SHARE))  # 2 rows a problem, and planted
    problems = distinct_problems()
    exported = list(itertools.islice(problems, EXPORT_PROBLEMS))
    write_export(folder / "earlier-export", [row for p in exported for row in builder.group(p)])
    waiting: list[tuple[float, int, list[str]]] = []
    serial = itertools.count()

    def wait(position: float, rows: list[Attempt]) -> None:
        lines = [row.model_dump_json() for row in rows]
        heapq.heappush(waiting, (position, next(serial), lines))

    for number in range(int(PLANTED_SHARE * base_count)):
        wait(
            builder.rng.uniform(0, base_count),
            builder.repeat(exported[number % EXPORT_PROBLEMS], "problem-export", number),
        )
    share = SHARED_RATIONALES / base_count
    donor: Message | None = None  # a rationale waiting for the next problem to share it
    with (folder / "rows.jsonl").open("w", encoding="utf-8") as out:
        for position, problem in enumerate(itertools.islice(problems, base_count)):
            while waiting and waiting[0][0] <= position:
                out.writelines(line + "\n" for line in heapq.heappop(waiting)[2])
            rows = builder.group(problem)
            plain = True
            for kind in ("rationale-exact", "rationale-near"):
                if builder.rng.random() < PLANTED_SHARE:
                    rows.append(builder.copied_rationale(rows, kind))
                    plain = False
            if plain and builder.rng.random() < share:
                if donor is None:
                    donor = rows[0].messages[1]
                else:
                    rows[0] = rows[0].model_copy(update={"messages": (rows[0].messages[0], donor)})
                    donor = None
            out.writelines(row.model_dump_json() + "\n" for row in rows)
            for kind in ("problem-exact", "problem-near"):
                if builder.rng.random() < PLANTED_SHARE:
                    later = builder.rng.uniform(position, base_count)
                    wait(later, builder.repeat(problem, kind, position))
        while waiting:
            out.writelines(line + "\n" for line in heapq.heappop(waiting)[2])
    return builder


def write_export(folder: Path, rows: list[Attempt]) -> None:
    (folder / "data").mkdir(parents=True)
    with (folder / "data" / "train-00000-of-00001.jsonl").open("w", encoding="utf-8") as out:
        out.writelines(json.dumps(row.sft_row()) + "\n" for row in rows)


def read_rows(path: Path, limit: int | None = None) -> Iterator[Attempt]:
    with path.open(encoding="utf-8") as lines:
        for line in itertools.islice(lines, limit):
            yield Attempt.model_validate_json(line)


class InMemory:
    """The index the job used until the disk one: `datasketch`'s MinHash and MinHashLSH, 128
    permutations in 14 bands of 9 (`IN_MEMORY_WEIGHTS`), the texts in Python lists and dicts,
    the same rules (`dedupe`'s own). The reference the disk index is compared with on a sample."""

    def __init__(self, threshold: float) -> None:
        self.threshold = threshold
        lsh = MinHashLSH(threshold=threshold, num_perm=dedupe.NUM_PERM, weights=IN_MEMORY_WEIGHTS)
        self.lsh = lsh
        self.empty = MinHash(num_perm=dedupe.NUM_PERM, hashfunc=int)
        self.exact: dict[tuple[str, bytes], str] = {}
        self.texts: list[tuple[str, str, Any]] = []  # record, scope, text

    def first_seen(self, text: str, record: str, scope: str) -> Match | None:
        read = dedupe._read(text)
        if (earlier := self.exact.get((scope, read.digest))) is not None:
            return Match(earlier)
        shingles = dedupe._shingles(read.words)
        minhash = self.empty.copy()
        minhash.update_batch(shingles)
        for index in sorted(self.lsh.query(minhash)):
            other_record, other_scope, other = self.texts[index]
            if other_scope == scope:
                jaccard = dedupe._near(read, shingles, other, self.threshold)
                if jaccard is not None:
                    return Match(other_record, jaccard)
        self.exact[scope, read.digest] = record
        self.lsh.insert(len(self.texts), minhash, check_duplication=False)
        self.texts.append((record, scope, read))
        return None


def dedupe_in_memory(rows: Iterable[Attempt], export: Path, threshold: float) -> DedupeReport:
    """`dedupe_kept`'s policy over the in-memory index."""
    problems = InMemory(threshold)
    seeded = 0
    for row in dedupe.export_rows(export):
        seeded += 1
        problems.first_seen(row.problem, f"{row.problem_id} in {export}", row.domain)
    rationales: dict[str, list[tuple[str, Any]]] = {}
    dropped, repeated, checked = [], {}, 0
    for row in rows:
        checked += 1
        match = problems.first_seen(row.messages[0].content, row.problem_id, row.domain)
        if match is not None and match.of != row.problem_id:
            repeated[row.problem_id] = match
            dropped.append(Dropped(row.id, row.problem_id, "problem", match))
            continue
        read, earlier = dedupe._read(row.rationale), rationales.setdefault(row.problem_id, [])
        shingles = dedupe._shingles(read.words)
        for row_id, text in earlier:
            same = text.digest == read.digest
            jaccard = None if same else dedupe._near(read, shingles, text, threshold)
            if same or jaccard is not None:
                dropped.append(Dropped(row.id, row.problem_id, "rationale", Match(row_id, jaccard)))
                break
        else:
            earlier.append((row.id, read))
    return DedupeReport(seeded, checked, dropped, repeated)


def run_dedupe(args: argparse.Namespace) -> None:
    """The child: dedupe the rows streamed from the file, write what it dropped and measured."""
    folder, threshold = Path(args.folder), DedupeConfig().near_threshold
    rows = read_rows(folder / "rows.jsonl", args.limit)
    export = folder / "earlier-export"
    before = peak_rss_mib()
    started = time.perf_counter()
    if args.index == "disk":
        report = dedupe_kept(rows, DedupeConfig(near_threshold=threshold, against=[export]))
    else:
        report = dedupe_in_memory(rows, export, threshold)
    result = {
        "seconds": time.perf_counter() - started,
        "checked": report.checked,
        "seeded": report.seeded,
        "repeated_problems": len(report.repeated_problems),
        "rss_before_mib": before,
        "peak_rss_mib": peak_rss_mib(),
        "dropped": {d.id: [d.what, d.reason] for d in report.dropped},
    }
    (folder / f"result-{args.index}.json").write_text(json.dumps(result))


def peak_rss_mib() -> float:
    """This process's peak resident memory (VmHWM: unlike `ru_maxrss`, not inherited from the
    parent across fork and exec)."""
    status = Path("/proc/self/status").read_text().splitlines()
    return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:")) / 1024


def dedupe_in_child(folder: Path, index: str, limit: int | None) -> dict[str, Any]:
    command = [sys.executable, __file__, "--child", "--folder", str(folder), "--index", index]
    subprocess.run([*command, *(["--limit", str(limit)] if limit else [])], check=True)
    return json.loads((folder / f"result-{index}.json").read_text())


def report_against_planted(result: dict[str, Any], builder: Builder) -> None:
    planted, found = builder.planted, result["dropped"]
    hits = found.keys() & planted.keys()
    elapsed = result["seconds"]
    print(
        f"deduped {result['checked']:,} rows (+ {result['seeded']:,} exported rows seeded) in "
        f"{elapsed:.1f} s: {result['checked'] / elapsed:,.0f} rows/s; peak RSS "
        f"{result['peak_rss_mib']:,.0f} MiB ({result['rss_before_mib']:,.0f} MiB before)"
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
    print(f"  repeated problems reported: {result['repeated_problems']:,}")
    for row_id in sorted(found.keys() - planted.keys())[:5]:
        print(f"  not planted: {row_id}: {found[row_id][0]} {found[row_id][1]}")
    for row_id in sorted(planted.keys() - found.keys())[:5]:
        print(f"  missed: {row_id} ({planted[row_id]})")


def compare_on_sample(folder: Path, sample: int) -> None:
    """Dedupe the first `sample` rows with both indexes; the in-memory one's drops as truth."""
    disk, memory = (dedupe_in_child(folder, index, sample) for index in ("disk", "memory"))
    same = disk["dropped"].keys() & memory["dropped"].keys()
    print(
        f"sample of {sample:,} rows: in memory {memory['seconds']:.1f} s, peak RSS "
        f"{memory['peak_rss_mib']:,.0f} MiB, dropped {len(memory['dropped']):,}; on disk "
        f"{disk['seconds']:.1f} s, peak RSS {disk['peak_rss_mib']:,.0f} MiB, dropped "
        f"{len(disk['dropped']):,}; precision {len(same) / max(len(disk['dropped']), 1):.4f}, "
        f"recall {len(same) / max(len(memory['dropped']), 1):.4f} against the in-memory index"
    )
    for row_id in sorted(disk["dropped"].keys() ^ memory["dropped"].keys())[:5]:
        side = "disk only" if row_id in disk["dropped"] else "memory only"
        print(f"  {side}: {row_id}: {(disk['dropped'] | memory['dropped'])[row_id]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--sample", type=int, default=0, help="rows deduped by both indexes")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--folder", help=argparse.SUPPRESS)
    parser.add_argument("--index", choices=("disk", "memory"), help=argparse.SUPPRESS)
    parser.add_argument("--limit", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        run_dedupe(args)
        return
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        started = time.perf_counter()
        builder = build(args.rows, args.seed, folder, DedupeConfig().near_threshold)
        with (folder / "rows.jsonl").open("rb") as rows:
            count = sum(1 for _ in rows)
        print(
            f"built {count:,} rows ({len(builder.planted):,} planted) in "
            f"{time.perf_counter() - started:.1f} s"
        )
        report_against_planted(dedupe_in_child(folder, "disk", None), builder)
        if args.sample:
            compare_on_sample(folder, args.sample)


if __name__ == "__main__":
    main()
