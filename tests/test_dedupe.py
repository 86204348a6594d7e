"""`curate.dedupe`: exact and near duplicates of problems and rationales, and the policy over a
run's kept rows."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from attempts import make_attempt

from verified_factory.config import DedupeConfig
from verified_factory.curate.dedupe import DedupeError, Deduper, Match, RowDeduper, dedupe_kept
from verified_factory.export.shapes import SFT_SCHEMA
from verified_factory.rows import Attempt
from verified_factory.solve.prompts import load_prompts
from verified_factory.sources.code_problems import generate_code
from verified_factory.sources.math_problems import generate_math

STATEMENT = (
    "Write a Python function `third_largest(values: list[int]) -> int | None` that returns the "
    "third largest distinct value in values (a value that occurs several times counts once), or "
    "None if values holds fewer than 3 distinct values. values may be empty; its elements are "
    "integers between -1000 and 1000, and the function must not change the list it is given."
)
RATIONALE = (
    "Let's solve this step by step.\n1. Put the distinct values in a set, so repeats count once.\n"
    "2. Sort them in decreasing order.\n3. Return the third, or None when there are fewer than "
    "3.\n\n```python\ndef third_largest(values):\n    distinct = sorted(set(values), "
    "reverse=True)\n    return distinct[2] if len(distinct) >= 3 else None\n```"
)


def test_exact_duplicates_differ_only_in_case_and_spacing() -> None:
    deduper = Deduper(0.85)
    assert deduper.first_seen(STATEMENT, "a") is None
    copy = STATEMENT.upper().replace(" ", "  ").replace("(", " ( ")
    assert deduper.first_seen(copy, "b") == Match("a")
    assert len(deduper) == 1


def test_a_copy_with_a_closing_sentence_is_a_near_duplicate() -> None:
    deduper = Deduper(0.85)
    deduper.first_seen(STATEMENT, "a")
    match = deduper.first_seen(STATEMENT + " Explain your approach briefly.", "b")
    assert match is not None and match.of == "a"
    assert match.jaccard is not None and 0.85 <= match.jaccard < 1
    assert match.describe() == f"near (jaccard≈{match.jaccard:.2f})"


@pytest.mark.parametrize(
    "changed",
    [
        STATEMENT.replace("-1000", "-999"),  # a number in place of another
        STATEMENT.replace("largest distinct", "smallest distinct"),  # a word for another
        STATEMENT.replace("`third_largest(", "`top_three(", 1),
        STATEMENT + " It must run in under 2 seconds.",  # a number more
        "Print the sum of two integers read from standard input, one per line.",
    ],
)
def test_a_different_problem_is_not_a_duplicate(changed: str) -> None:
    """The first four share more than 85% of their shingles with the statement."""
    deduper = Deduper(0.85)
    deduper.first_seen(STATEMENT, "a")
    assert deduper.first_seen(changed, "b") is None
    assert len(deduper) == 2


def test_records_of_another_scope_are_never_duplicates() -> None:
    deduper = Deduper(0.85)
    deduper.first_seen(STATEMENT, "a", scope="code")
    assert deduper.first_seen(STATEMENT, "b", scope="math") is None
    assert deduper.first_seen(STATEMENT, "c", scope="math") == Match("b")


def test_no_two_generated_problems_are_duplicates() -> None:
    """Problems that differ in numbers, formulas or a word are different problems."""
    prompts = load_prompts({}, {})
    problems = generate_math(1000, seed=11) + generate_code(1000, seed=11)
    deduper = Deduper(0.85)
    found = {p.id: deduper.first_seen(prompts.prompt(p), p.id, p.domain) for p in problems}
    assert {key: match for key, match in found.items() if match is not None} == {}


def row(problem_id: str, number: int, problem: str, answer: str, *, kept: bool = True) -> Attempt:
    return make_attempt(
        f"{problem_id}/s{number}",
        problem_id,
        problem,
        answer,
        domain="code",
        accepted=kept,
        kept=kept,
    )


def test_a_repeated_problem_keeps_its_first_occurrences_rows_only() -> None:
    other = STATEMENT.replace("third", "second").replace("3", "2")
    rows = [
        row("p", 0, STATEMENT, RATIONALE),
        row("q", 0, other, RATIONALE),  # the same rationale for another problem: kept
        row("p-again", 0, STATEMENT + " Explain your approach briefly.", "A new way."),
        row("p-again", 1, STATEMENT + " Explain your approach briefly.", "Another way."),
    ]
    report = dedupe_kept(rows, DedupeConfig())
    assert [(d.id, d.what, d.match.of) for d in report.dropped] == [
        ("p-again/s0", "problem", "p"),
        ("p-again/s1", "problem", "p"),
    ]
    assert report.dropped[0].reason.startswith("duplicate of p: near (jaccard≈")
    assert list(report.repeated_problems) == ["p-again"]
    assert report.checked == 4


def test_a_rationale_repeated_within_its_problem_is_dropped() -> None:
    reformatted = RATIONALE.replace("\n", "\n\n").replace("step by step", "Step By Step")
    extended = RATIONALE + "\nI hope it is correct, and that it is clear."
    rows = [
        row("p", 0, STATEMENT, RATIONALE),
        row("p", 1, STATEMENT, reformatted),
        row("p", 2, STATEMENT, extended),
        row("p", 3, STATEMENT, RATIONALE.replace("reverse=True", "reverse=False")),
        row("p", 4, STATEMENT, RATIONALE, kept=False),
    ]
    report = dedupe_kept(rows, DedupeConfig())
    assert [(d.id, d.what, d.reason[:27]) for d in report.dropped] == [
        ("p/s1", "rationale", "duplicate of p/s0: exact"),
        ("p/s2", "rationale", "duplicate of p/s0: near (ja"),
    ]
    assert report.checked == 4
    assert report.repeated_problems == {}


def test_a_problems_rows_need_not_come_one_after_another() -> None:
    """A problem's rationales are found again after other problems' rows (a resumed run, a
    rationalized attempt): they are kept by problem, not by place."""
    other = STATEMENT.replace("third", "second").replace("3", "2")
    rows = [
        row("p", 0, STATEMENT, RATIONALE),
        *(row(f"q{n}", 0, other.replace("1000", str(n)), RATIONALE) for n in range(30)),
        row("p", 1, STATEMENT, RATIONALE.upper()),
        row("p", 2, STATEMENT, "Another way entirely."),
    ]
    report = dedupe_kept(rows, DedupeConfig())
    assert [(d.id, d.what, d.match) for d in report.dropped] == [
        ("p/s1", "rationale", Match("p/s0"))
    ]
    assert report.repeated_problems == {}
    assert report.checked == 33


def write_jsonl_export(folder: Path, rows: list[Attempt]) -> Path:
    (folder / "data").mkdir(parents=True)
    lines = [json.dumps(r.sft_row()) + "\n" for r in rows]
    (folder / "data" / "train-00000-of-00001.jsonl").write_text("".join(lines), encoding="utf-8")
    return folder


def test_seeding_from_an_earlier_export_marks_its_problems_as_seen(tmp_path: Path) -> None:
    earlier = write_jsonl_export(
        tmp_path / "old-export", [row("p", 0, STATEMENT, RATIONALE), row("p", 1, STATEMENT, "B.")]
    )
    other = STATEMENT.replace("third", "fifth").replace("3", "5")
    rows = [row("p2", 0, STATEMENT.lower(), "New."), row("q", 0, other, RATIONALE)]
    report = dedupe_kept(rows, DedupeConfig(against=[earlier]))
    assert report.seeded == 2
    assert [(d.id, d.reason) for d in report.dropped] == [
        ("p2/s0", f"duplicate of p in {earlier}: exact")
    ]


def test_seeding_reads_parquet_exports_and_refuses_other_folders(tmp_path: Path) -> None:
    (tmp_path / "export" / "data").mkdir(parents=True)
    table = pa.Table.from_pylist([row("p", 0, STATEMENT, RATIONALE).sft_row()], schema=SFT_SCHEMA)
    pq.write_table(table, tmp_path / "export" / "data" / "train-00000-of-00001.parquet")
    deduper = RowDeduper(0.85)
    assert deduper.seed_from_exports([tmp_path / "export"]) == 1
    assert deduper.check(row("p", 0, STATEMENT, "Anything.")) is not None
    with pytest.raises(DedupeError, match="is it an export folder"):
        deduper.seed_from_exports([tmp_path])
