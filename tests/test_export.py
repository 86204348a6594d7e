"""`export`: shards, rejected and error files, the dataset card, the manifest, and the
contract's promise that an exported row is accepted again by `factory verify`."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import yaml
from run_cli import run_factory

from verified_factory.export.exporter import ExportError, export_run
from verified_factory.export.pairs import PAIRS_PER_PROBLEM
from verified_factory.export.shapes import (
    PREFERENCE_SCHEMA,
    REJECTED_SCHEMA,
    SFT_SCHEMA,
    rejected_row,
    split_of,
)
from verified_factory.models.base import Message
from verified_factory.records import Verdict
from verified_factory.rows import Attempt, ProblemError
from verified_factory.run_store import RunDirError, read_units

ADD_TESTS = json.dumps(
    {
        "format": "call",
        "entry_point": "add",
        "cases": [{"args": [1, 2], "expected": 3}, {"args": [-4, 4], "expected": 0}],
    }
)


def math_attempt(
    n: int, *, kept: bool = True, rationalized: bool = False, source: str | None = "gen"
) -> Attempt:
    """`n + n = ?`, answered right when kept and wrong otherwise."""
    answer = 2 * n if kept else 2 * n + 1
    status = "accepted" if kept else "rejected"
    return Attempt(
        id=f"m{n}",
        problem_id=f"p{n}",
        domain="math",
        source=source,
        model="teacher",
        messages=(
            Message(role="user", content=f"What is {n} + {n}?"),
            Message(role="assistant", content=f"{n} + {n} = {answer}, so \\boxed{{{answer}}}."),
        ),
        reference=str(2 * n),
        tests=None,
        rationalized=rationalized,
        kept=kept,
        verdict=Verdict(
            id=f"m{n}",
            verifier="math",
            accepted=kept,
            status=status,
            reason="the answers agree" if kept else f"{answer} is not {2 * n}",
            extracted=str(answer),
        ),
    )


def code_attempt() -> Attempt:
    return Attempt(
        id="c1",
        problem_id="pc1",
        domain="code",
        source=None,
        model="teacher",
        messages=(
            Message(role="user", content="Write add(a, b)."),
            Message(role="assistant", content="```python\ndef add(a, b):\n    return a + b\n```"),
        ),
        reference=None,
        tests=ADD_TESTS,
        rationalized=True,
        kept=True,
        verdict=Verdict(id="c1", verifier="code", accepted=True, status="accepted", reason="ok"),
    )


def problem_error(problem_id: str) -> ProblemError:
    return ProblemError(
        problem_id=problem_id, stage="model", kind="rate_limited", message="429 after 8 retries"
    )


def write_unit(run_dir: Path, name: str, records: list[Attempt | ProblemError]) -> None:
    units = run_dir / "units"
    units.mkdir(parents=True, exist_ok=True)
    (units / name).write_text("".join(r.model_dump_json() + "\n" for r in records))


def make_run(tmp_path: Path, kept: int, rejected: int = 0) -> Path:
    """A run of `kept` kept math attempts, spread over units of 7 records, then `rejected`."""
    run_dir = tmp_path / "run"
    (run_dir / "units").mkdir(parents=True)
    records = [math_attempt(n) for n in range(kept)]
    records += [math_attempt(n, kept=False) for n in range(kept, kept + rejected)]
    for start in range(0, len(records), 7):
        write_unit(run_dir, f"unit-{start // 7:05d}.jsonl", records[start : start + 7])
    return run_dir


def export(run_dir: Path, out: Path, fmt: str = "parquet", shard_size: int = 10, **manifest):
    return export_run(run_dir, out, format=fmt, shard_size=shard_size, manifest=manifest)


def sample(problem: int, n: int, status: str = "accepted", *, kept: bool | None = None) -> Attempt:
    """Sample `n` of math problem `problem` (`q{problem}`), judged `status`; kept if accepted
    unless told otherwise."""
    accepted = status == "accepted"
    answer = problem if accepted else problem + 1 + n
    return Attempt(
        id=f"q{problem}/s{n}",
        problem_id=f"q{problem}",
        domain="math",
        source="gen",
        model="teacher",
        messages=(
            Message(role="user", content=f"What is {problem} + 0?"),
            Message(role="assistant", content=f"Take {problem}, add 0 ({n}): \\boxed{{{answer}}}"),
        ),
        reference=str(problem),
        tests=None,
        rationalized=False,
        kept=accepted if kept is None else kept,
        verdict=Verdict(
            id=f"q{problem}/s{n}",
            verifier="math",
            accepted=accepted,
            status=status,
            reason="the answers agree" if accepted else "no",
            extracted=str(answer),
        ),
    )


def rows_of(out: Path, pattern: str) -> list[dict]:
    """The rows of the shards matching `pattern`, Parquet or JSON Lines, in shard order."""
    rows = []
    for path in sorted(out.glob(pattern)):
        if path.suffix == ".parquet":
            rows += pq.read_table(path).to_pylist()
        else:
            rows += [json.loads(line) for line in path.read_text().splitlines()]
    return rows


def files_of(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()
    }


def parquet_rows(out: Path, folder: str = "data") -> list[dict]:
    return [row for f in sorted((out / folder).iterdir()) for row in pq.read_table(f).to_pylist()]


def front_matter(card: str) -> dict:
    assert card.startswith("---\n")
    return yaml.safe_load(card.split("---\n")[1])


def test_rows_are_split_into_shards_named_with_their_total(tmp_path: Path) -> None:
    run_dir = make_run(tmp_path, kept=25)
    summary = export(run_dir, tmp_path / "out")
    names = sorted(p.name for p in (tmp_path / "out" / "data").iterdir())
    assert names == [f"train-0000{i}-of-00003.parquet" for i in range(3)]
    assert [(s.file, s.rows) for s in summary.shards] == [
        (f"data/{name}", rows) for name, rows in zip(names, [10, 10, 5], strict=True)
    ]
    assert summary.rows == 25


def test_parquet_rows_round_trip_with_the_contract_columns(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    attempts = [math_attempt(1, rationalized=True, source=None), code_attempt()]
    write_unit(run_dir, "unit-00000.jsonl", attempts)
    export(run_dir, tmp_path / "out")
    table = pq.read_table(tmp_path / "out" / "data" / "train-00000-of-00001.parquet")
    assert table.schema.equals(SFT_SCHEMA)
    assert table.to_pylist() == [a.sft_row() for a in attempts]
    assert table.column_names == list(attempts[0].sft_row())


def test_jsonl_format(tmp_path: Path) -> None:
    run_dir = make_run(tmp_path, kept=12, rejected=1)
    export(run_dir, tmp_path / "out", fmt="jsonl")
    files = sorted((tmp_path / "out" / "data").iterdir())
    assert [f.name for f in files] == ["train-00000-of-00002.jsonl", "train-00001-of-00002.jsonl"]
    rows = [json.loads(line) for f in files for line in f.read_text().splitlines()]
    assert rows == [math_attempt(n).sft_row() for n in range(12)]
    rejected = (tmp_path / "out" / "rejected" / "rejected-00000-of-00001.jsonl").read_text()
    assert [json.loads(line) for line in rejected.splitlines()] == [
        rejected_row(math_attempt(12, kept=False))
    ]


@pytest.mark.parametrize("fmt", ["parquet", "jsonl"])
def test_no_rows_still_gives_one_empty_shard(tmp_path: Path, fmt: str) -> None:
    run_dir = tmp_path / "run"
    write_unit(run_dir, "unit-00000.jsonl", [problem_error("p1")])
    summary = export(run_dir, tmp_path / "out", fmt=fmt)
    shard = tmp_path / "out" / "data" / f"train-00000-of-00001.{fmt}"
    assert [p.name for p in shard.parent.iterdir()] == [shard.name]
    assert summary.rows == 0 and summary.errors == 1
    if fmt == "parquet":
        table = pq.read_table(shard)
        assert table.num_rows == 0 and table.schema.equals(SFT_SCHEMA)
        # No row group at all: `datasets` fails on a file holding an empty one.
        assert pq.ParquetFile(shard).metadata.num_row_groups == 0
    else:
        assert shard.read_text() == ""


def test_rejected_attempts_and_errors_have_their_own_files(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    write_unit(
        run_dir,
        "unit-00000.jsonl",
        [math_attempt(1), math_attempt(2, kept=False), problem_error("p3")],
    )
    write_unit(
        run_dir,
        "unit-00001.jsonl",
        [ProblemError(problem_id=None, line=9, stage="source", kind="bad_record", message="no id")],
    )
    summary = export(run_dir, tmp_path / "out")
    out = tmp_path / "out"
    table = pq.read_table(out / "rejected" / "rejected-00000-of-00001.parquet")
    assert table.schema.equals(REJECTED_SCHEMA)
    [row] = table.to_pylist()
    assert row == {
        **math_attempt(2, kept=False).sft_row(),
        "status": "rejected",
        "reason": "5 is not 4",
        "extracted": "5",
    }
    errors = [json.loads(line) for line in (out / "errors.jsonl").read_text().splitlines()]
    assert [(e["problem_id"], e["stage"], e["line"]) for e in errors] == [
        ("p3", "model", None),
        (None, "source", 9),
    ]
    assert (summary.rows, summary.rejected, summary.errors) == (1, 1, 2)


def test_only_committed_unit_files_are_read(tmp_path: Path) -> None:
    run_dir = make_run(tmp_path, kept=3)
    units = run_dir / "units"
    for name in ["unit-00001.jsonl.tmp", "unit-00001.tmp", ".unit-00002.jsonl", "notes.jsonl"]:
        (units / name).write_text(math_attempt(99).model_dump_json() + "\n")
    assert [r.id for r in read_units(run_dir)] == ["m0", "m1", "m2"]


def test_units_are_read_in_name_order_and_streamed(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    write_unit(run_dir, "unit-00001.jsonl", [math_attempt(2)])
    write_unit(run_dir, "unit-00000.jsonl", [math_attempt(1)])
    (run_dir / "units" / "unit-00002.jsonl").write_text('{"record": "attempt", "id": "x"}\n')
    records = read_units(run_dir)
    assert [next(records).id, next(records).id] == ["m1", "m2"]
    with pytest.raises(
        RunDirError, match=r"unit-00002\.jsonl, line 1: .*'attempt\.domain': Field required"
    ):
        next(records)


def test_reexport_replaces_the_old_export(tmp_path: Path) -> None:
    out = tmp_path / "out"
    export(make_run(tmp_path / "big", kept=25), out)
    summary = export(make_run(tmp_path / "small", kept=4), out, fmt="jsonl")
    assert sorted(p.name for p in (out / "data").iterdir()) == ["train-00000-of-00001.jsonl"]
    assert json.loads((out / "manifest.json").read_text())["rows"] == 4
    assert summary.out_dir == out
    assert sorted(p.name for p in tmp_path.iterdir()) == ["big", "out", "small"]


def test_a_failed_export_leaves_the_previous_one_untouched(tmp_path: Path) -> None:
    out = tmp_path / "out"
    run_dir = make_run(tmp_path, kept=3)
    export(run_dir, out)
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    (run_dir / "units" / "unit-00009.jsonl").write_text("not json\n")
    with pytest.raises(RunDirError, match=r"unit-00009\.jsonl, line 1"):
        export(run_dir, out)
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "run"]


def test_a_folder_that_is_not_an_export_is_not_replaced(tmp_path: Path) -> None:
    out = tmp_path / "home"
    out.mkdir()
    (out / "thesis.tex").write_text("precious")
    with pytest.raises(ExportError, match="not an earlier export"):
        export(make_run(tmp_path, kept=1), out)
    assert (out / "thesis.tex").read_text() == "precious"


def test_a_folder_without_units_is_refused(tmp_path: Path) -> None:
    with pytest.raises(RunDirError, match="no 'units' folder"):
        export(tmp_path, tmp_path / "out")


def test_dataset_card_front_matter_and_body(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    write_unit(run_dir, "unit-00000.jsonl", [math_attempt(1, rationalized=True), code_attempt()])
    export(run_dir, tmp_path / "out")
    card = (tmp_path / "out" / "README.md").read_text()
    meta = front_matter(card)
    assert meta["configs"][0] == {
        "config_name": "default",
        "data_files": [{"split": "train", "path": "data/train-*"}],
    }
    assert meta["license"] == "unknown"
    assert "text-generation" in meta["task_categories"]
    default_features = meta["dataset_info"][0]["features"]
    assert [f["name"] for f in default_features] == SFT_SCHEMA.names
    assert default_features[0] == {
        "name": "messages",
        "list": [{"name": "role", "dtype": "string"}, {"name": "content", "dtype": "string"}],
    }
    body = card.split("---\n", 2)[2]
    for fact in ["| `math` | 1 |", "| `code` | 1 |", "| `math` | 1 |", "`teacher`"]:
        assert fact in body
    assert "Rationalized: 2 of the 2 rows" in body
    assert "factory verify candidates.jsonl" in body


def test_manifest_merges_the_given_fields_with_the_counts(tmp_path: Path) -> None:
    run_dir = make_run(tmp_path, kept=11, rejected=2)
    write_unit(run_dir, "unit-00100.jsonl", [code_attempt(), problem_error("p9")])
    given = {"fingerprint": "abc123", "model": "teacher", "verifiers": {"math": "0.1.0"}}
    export(run_dir, tmp_path / "out", **given)
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert {k: manifest[k] for k in given} == given
    assert manifest["format"] == "parquet"
    assert manifest["rows"] == 12
    assert manifest["rows_per_domain"] == {"code": 1, "math": 11}
    assert manifest["rows_per_verifier"] == {"code": 1, "math": 11}
    assert manifest["rows_per_model"] == {"teacher": 12}
    assert manifest["rationalized"] == 1
    assert (manifest["rejected"], manifest["errors"]) == (2, 1)
    assert manifest["shards"] == [
        {"file": "data/train-00000-of-00002.parquet", "rows": 10},
        {"file": "data/train-00001-of-00002.parquet", "rows": 2},
    ]
    assert manifest["rejected_shards"] == [
        {"file": "rejected/rejected-00000-of-00001.parquet", "rows": 2}
    ]


def as_candidate(row: dict) -> dict:
    """An exported row as a Candidate line, as the dataset card tells a reader to make it."""
    user, assistant = row["messages"]
    candidate = {k: row[k] for k in ("id", "domain", "reference", "tests", "verifier")}
    return {**candidate, "problem": user["content"], "response": assistant["content"]}


def test_exported_rows_are_accepted_again_by_factory_verify(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FACTORY_SANDBOX_BACKEND", "process")
    run_dir = tmp_path / "run"
    write_unit(run_dir, "unit-00000.jsonl", [math_attempt(n) for n in range(5)])
    write_unit(run_dir, "unit-00001.jsonl", [code_attempt(), math_attempt(7, kept=False)])
    export(run_dir, tmp_path / "out")
    rows = parquet_rows(tmp_path / "out")
    candidates = tmp_path / "candidates.jsonl"
    candidates.write_text("".join(json.dumps(as_candidate(row)) + "\n" for row in rows))
    result = run_factory("verify", str(candidates), "--workers", "2")
    assert result.returncode == 0, result.stderr
    verdicts = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(v["id"], v["status"]) for v in verdicts] == [
        (row["id"], "accepted") for row in rows
    ], verdicts
    assert len(verdicts) == 6


REMOVALS = [
    {"benchmark": "gsm8k", "rule": "ngram", "record_id": "q3", "item_id": "gsm8k/7"},
    {"benchmark": "MATH", "rule": "statement", "record_id": "q5/s0", "item_id": "MATH/2"},
]


def rich_run(tmp_path: Path) -> Path:
    """40 math problems (kept, rejected and timed-out samples each), a code row, a rationalized
    one, a verifier error and a problem error, in units of 10 problems."""
    run_dir = tmp_path / "run"
    for unit in range(4):
        records: list[Attempt | ProblemError] = []
        for problem in range(unit * 10, unit * 10 + 10):
            records += [sample(problem, 0), sample(problem, 1, "rejected")]
            records += [sample(problem, 2, "timeout"), sample(problem, 3)]
        write_unit(run_dir, f"unit-{unit:05d}.jsonl", records)
    extra = [code_attempt(), math_attempt(1, rationalized=True), sample(99, 0, "error")]
    write_unit(run_dir, "unit-00004.jsonl", [*extra, problem_error("p9")])
    return run_dir


def full_export(run_dir: Path, out: Path, fmt: str = "parquet", **options):
    """An export with every option on: a test split, preference pairs and removals."""
    defaults = {"test_fraction": 0.3, "preference": True, "removals": REMOVALS}
    manifest = {"config_fingerprint": "abc", "run": {"elapsed_s": 12.5, "problems": {"done": 42}}}
    return export_run(
        run_dir, out, format=fmt, shard_size=7, manifest=manifest, **{**defaults, **options}
    )


@pytest.mark.parametrize("fmt", ["parquet", "jsonl"])
def test_exporting_a_run_twice_gives_identical_bytes(tmp_path: Path, fmt: str) -> None:
    run_dir = rich_run(tmp_path)
    full_export(run_dir, tmp_path / "a", fmt)
    full_export(run_dir, tmp_path / "b", fmt, removals=iter(REMOVALS[::-1]))
    first = files_of(tmp_path / "a")
    assert first == files_of(tmp_path / "b")
    for name in ["README.md", "manifest.json", "errors.jsonl", "removals.jsonl"]:
        assert name in first
    for prefix in ["data/train-", "data/test-", "rejected/test-", "preference/test-", "plots/"]:
        assert any(name.startswith(prefix) for name in first), prefix
    full_export(run_dir, tmp_path / "a", fmt)  # again, in place of the first
    assert files_of(tmp_path / "a") == first


EXPORT_SCRIPT = """
import sys
from pathlib import Path
from verified_factory.export.exporter import export_run
export_run(Path(sys.argv[1]), Path(sys.argv[2]), format="parquet", shard_size=7, manifest={},
           test_fraction=0.3, preference=True)
"""


def test_exports_from_other_processes_and_matplotlib_settings_are_identical(
    tmp_path: Path,
) -> None:
    run_dir = rich_run(tmp_path)
    rc_file = tmp_path / "matplotlibrc"
    rc_file.write_text("axes.facecolor: red\nlines.linewidth: 7\nfont.size: 20\nsavefig.dpi: 300\n")
    for seed, out, extra in [("1", "a", {}), ("2", "b", {"MATPLOTLIBRC": str(rc_file)})]:
        env = {**os.environ, "PYTHONHASHSEED": seed, **extra}
        args = [sys.executable, "-c", EXPORT_SCRIPT, str(run_dir), str(tmp_path / out)]
        subprocess.run(args, env=env, check=True, timeout=120)
    assert files_of(tmp_path / "a") == files_of(tmp_path / "b")


def test_manifest_gives_size_and_sha256_of_every_other_file(tmp_path: Path) -> None:
    summary = full_export(rich_run(tmp_path), tmp_path / "out")
    written = files_of(tmp_path / "out")
    manifest = json.loads(written.pop("manifest.json"))
    expected = {
        name: {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}
        for name, data in written.items()
    }
    assert manifest["files"] == expected
    assert {name: vars(digest) for name, digest in summary.files.items()} == expected
    assert sorted(manifest["software"]) == ["matplotlib", "pyarrow"]
    assert manifest["config_fingerprint"] == "abc"
    assert manifest["test_fraction"] == 0.3
    assert (manifest["rows"], manifest["rejected"], manifest["errors"]) == (
        summary.rows,
        summary.rejected,
        1,
    )


def test_a_held_out_split_takes_whole_problems(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    for unit in range(10):
        records: list[Attempt | ProblemError] = []
        for problem in range(unit * 100, unit * 100 + 100):
            records += [sample(problem, 0), sample(problem, 1), sample(problem, 2, "rejected")]
        write_unit(run_dir, f"unit-{unit:05d}.jsonl", records)
    out = tmp_path / "out"
    summary = export_run(
        run_dir, out, format="parquet", shard_size=500, manifest={}, test_fraction=0.2
    )
    train = [row["problem_id"] for row in rows_of(out, "data/train-*")]
    test = [row["problem_id"] for row in rows_of(out, "data/test-*")]
    assert not set(train) & set(test)
    assert len(set(train) | set(test)) == 1000
    assert 0.15 < len(set(test)) / 1000 < 0.25
    assert {split_of(problem, 0.2) for problem in test} == {"test"}
    assert {row["problem_id"] for row in rows_of(out, "rejected/test-*")} == set(test)
    assert {row["problem_id"] for row in rows_of(out, "rejected/rejected-*")} == set(train)
    assert summary.rows_per_split == {"test": len(test), "train": len(train)}
    configs = front_matter((out / "README.md").read_text())["configs"]
    assert [c["data_files"] for c in configs] == [
        [{"split": "train", "path": "data/train-*"}, {"split": "test", "path": "data/test-*"}],
        [
            {"split": "train", "path": "rejected/rejected-*"},
            {"split": "test", "path": "rejected/test-*"},
        ],
    ]


def test_splits_are_stable_and_grow_with_the_fraction() -> None:
    problems = [f"problem-{n}" for n in range(2000)]
    assert {split_of(p, 0.0) for p in problems} == {"train"}
    small = {p for p in problems if split_of(p, 0.1) == "test"}
    large = {p for p in problems if split_of(p, 0.5) == "test"}
    assert small < large
    assert 0.07 < len(small) / 2000 < 0.13


@pytest.mark.parametrize("fraction", [-0.1, 1.0, 1.5])
def test_a_test_fraction_outside_0_to_1_is_refused(tmp_path: Path, fraction: float) -> None:
    with pytest.raises(ExportError, match="test_fraction"):
        export_run(
            make_run(tmp_path, kept=2),
            tmp_path / "out",
            format="parquet",
            shard_size=5,
            manifest={},
            test_fraction=fraction,
        )
    assert not (tmp_path / "out").exists()


def test_preference_pairs_join_kept_and_failed_attempts_of_one_problem(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    first = [sample(1, n, status) for n, status in enumerate(["accepted", "rejected", "accepted"])]
    first += [sample(1, 3, "timeout"), sample(1, 4, "error"), sample(1, 5, "accepted", kept=False)]
    first += [sample(1, n, "rejected") for n in (6, 7, 8, 9)]  # the first four rejected count
    first += [sample(2, 0), sample(2, 1)]  # kept only: no pair
    first += [sample(3, 0, "rejected")]  # failed only: no pair
    first += [sample(4, 0, "rejected"), sample(4, 1)]
    write_unit(run_dir, "unit-00000.jsonl", first)
    write_unit(
        run_dir,
        "unit-00001.jsonl",
        [sample(5, 0, "rejected"), sample(5, 1, "timeout"), sample(5, 2)],
    )
    out = tmp_path / "out"
    summary = export_run(run_dir, out, format="parquet", shard_size=3, manifest={}, preference=True)
    pairs = rows_of(out, "preference/train-*")
    attempts = {a.id: a for a in read_units(run_dir) if isinstance(a, Attempt)}
    for pair in pairs:
        chosen, rejected = attempts[pair["chosen_id"]], attempts[pair["rejected_id"]]
        assert chosen.problem_id == rejected.problem_id == pair["problem_id"]
        assert chosen.kept and chosen.verdict.status == "accepted"
        assert rejected.verdict.status == "rejected"  # a timeout may be right, checked slowly
        assert pair["prompt"] == [{"role": "user", "content": chosen.messages[0].content}]
        assert pair["chosen"] == [chosen.messages[1].model_dump()]
        assert pair["rejected"] == [rejected.messages[1].model_dump()]
        assert pair["domain"] == "math"
    assert [(p["chosen_id"], p["rejected_id"]) for p in pairs] == [
        ("q1/s0", "q1/s1"),
        ("q1/s2", "q1/s6"),
        ("q1/s0", "q1/s7"),
        ("q1/s2", "q1/s8"),
        ("q4/s1", "q4/s0"),
        ("q5/s2", "q5/s0"),
    ]
    assert PAIRS_PER_PROBLEM == 4
    assert summary.preference_pairs == 6
    assert sum(s.rows for s in summary.preference_shards) == 6
    shard = out / summary.preference_shards[0].file
    assert pq.read_table(shard).schema.equals(PREFERENCE_SCHEMA)
    meta = front_matter((out / "README.md").read_text())
    assert meta["configs"][2] == {
        "config_name": "preference",
        "data_files": [{"split": "train", "path": "preference/train-*"}],
    }
    assert "dpo" in meta["tags"]


def test_no_preference_folder_unless_asked(tmp_path: Path) -> None:
    summary = export(make_run(tmp_path, kept=3, rejected=3), tmp_path / "out")
    assert not (tmp_path / "out" / "preference").exists()
    assert summary.preference_shards == [] and summary.preference_pairs == 0
    configs = front_matter((tmp_path / "out" / "README.md").read_text())["configs"]
    assert [c["config_name"] for c in configs] == ["default", "rejected"]


def test_removals_are_written_summarised_and_left_out(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    records = [sample(1, 0), sample(1, 1, "rejected"), sample(2, 0), sample(2, 1), sample(3, 0)]
    write_unit(run_dir, "unit-00000.jsonl", [*records, problem_error("q1")])
    removals = [
        {"record_id": "q2/s1", "benchmark": "MATH", "rule": "ngram", "item_id": "MATH/9"},
        {"record_id": "q1", "benchmark": "gsm8k", "rule": "statement", "item_id": "gsm8k/4"},
        {"record_id": "q1", "benchmark": "gsm8k", "rule": "ngram", "item_id": "gsm8k/4"},
        {"record_id": "q2/s1", "benchmark": "gsm8k", "rule": "ngram", "item_id": "gsm8k/4"},
        {"record_id": "q2/s1", "benchmark": "gsm8k", "rule": "ngram", "item_id": "gsm8k/7"},
    ]
    out = tmp_path / "out"
    summary = export_run(
        run_dir,
        out,
        format="jsonl",
        shard_size=10,
        manifest={},
        preference=True,
        removals=iter(removals),
    )
    assert [row["id"] for row in rows_of(out, "data/*")] == ["q2/s0", "q3/s0"]
    assert rows_of(out, "rejected/*") == rows_of(out, "preference/*") == []
    assert [json.loads(line)["problem_id"] for line in (out / "errors.jsonl").open()] == ["q1"]
    written = [json.loads(line) for line in (out / "removals.jsonl").read_text().splitlines()]
    assert written == sorted(removals, key=lambda r: json.dumps(r, sort_keys=True))
    assert all(list(record) == sorted(record) for record in written)
    assert (summary.removals, summary.removed, summary.rows) == (5, 3, 2)
    body = (out / "README.md").read_text().split("---\n", 2)[2]
    for fact in [
        "| benchmark | rule | records | benchmark items hit |",
        "| `MATH` | `ngram` | 1 | 1 |",
        "| `gsm8k` | `ngram` | 3 | 2 |",  # three records, two items
        "| `gsm8k` | `statement` | 1 | 1 |",
        "Removed by curation: 3 attempts, named by 5 removal records",
    ]:
        assert fact in body


def test_a_removal_without_a_record_id_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ExportError, match="without 'record_id'"):
        export_run(
            make_run(tmp_path, kept=2),
            tmp_path / "out",
            format="parquet",
            shard_size=5,
            manifest={},
            removals=[{"benchmark": "MATH", "rule": "ngram", "id": "m1"}],
        )


def test_card_summarises_counts_acceptance_and_lengths_and_links_the_plots(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    records = [math_attempt(1, rationalized=True), math_attempt(2, kept=False)]
    records += [math_attempt(3, source=None), code_attempt()]
    records += [sample(7, 0, "error"), sample(8, 0, "timeout")]
    write_unit(run_dir, "unit-00000.jsonl", records)
    summary = export(run_dir, tmp_path / "out")
    out = tmp_path / "out"
    body = (out / "README.md").read_text().split("---\n", 2)[2]
    code_length = len(code_attempt().messages[1].content)
    for fact in [
        "- Rows: 3 verified rationales (train 3)",
        "Rationalized: 2 of the 3 rows (66.7%)",
        "| `math` | 2 | 66.7% |",  # by domain and by verifier
        "| `(none)` | 2 | 66.7% |",  # by source
        "| `gen` | 1 | 33.3% |",
        "| `math` | 5 | 4 | 2 | 50.0% |",  # acceptance: the error verdict judged nothing
        "| `code` | 1 | 1 | 1 | 100.0% |",
        f"| `code` | 1 | {code_length} | {code_length} | {code_length} |",
        "![Rationale length by domain](plots/rationale_length.png)",
        "![Acceptance per verifier](plots/acceptance.png)",
    ]:
        assert fact in body
    assert summary.acceptance == {
        "code": {"attempts": 1, "judged": 1, "accepted": 1, "truncated": 0},
        "math": {"attempts": 5, "judged": 4, "accepted": 2, "truncated": 0},
    }
    for plot in ["rationale_length.png", "acceptance.png"]:
        data = (out / "plots" / plot).read_bytes()
        assert data.startswith(b"\x89PNG\r\n\x1a\n") and b"Software" not in data


@pytest.mark.parametrize("fmt", ["parquet", "jsonl"])
def test_datasets_loads_every_config_and_split(
    tmp_path: Path, fmt: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    datasets = pytest.importorskip("datasets")
    summary = full_export(rich_run(tmp_path), tmp_path / "out", fmt)

    def load(config: str) -> dict:
        loaded = datasets.load_dataset(
            str(tmp_path / "out"), config, cache_dir=str(tmp_path / "cache")
        )
        return {split: loaded[split] for split in loaded}

    default = load("default")
    assert {split: len(rows) for split, rows in default.items()} == summary.rows_per_split
    assert default["train"].column_names == SFT_SCHEMA.names
    assert default["train"][0]["messages"][1]["role"] == "assistant"
    rejected = load("rejected")
    assert sorted(rejected) == ["test", "train"]
    assert sum(len(rows) for rows in rejected.values()) == summary.rejected
    preference = load("preference")
    assert sum(len(rows) for rows in preference.values()) == summary.preference_pairs
    assert preference["train"].column_names == PREFERENCE_SCHEMA.names
    assert preference["test"][0]["prompt"][0]["role"] == "user"


@pytest.mark.parametrize("fmt", ["parquet", "jsonl"])
def test_splits_without_rows_are_not_listed_so_the_rest_loads(
    tmp_path: Path, fmt: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`datasets` cannot load an empty split (and then fails the whole config)."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    datasets = pytest.importorskip("datasets")
    run_dir = tmp_path / "run"
    write_unit(run_dir, "unit-00000.jsonl", [sample(1, 0), sample(1, 1)])
    assert split_of("q1", 0.01) == "train"
    summary = full_export(run_dir, tmp_path / "out", fmt, test_fraction=0.01, removals=())
    # Every shard is written, empty or not.
    assert [(s.file, s.rows) for s in summary.shards] == [
        (f"data/train-00000-of-00001.{fmt}", 2),
        (f"data/test-00000-of-00001.{fmt}", 0),
    ]
    assert (tmp_path / "out" / f"preference/test-00000-of-00001.{fmt}").is_file()
    meta = front_matter((tmp_path / "out" / "README.md").read_text())
    assert meta["configs"] == [
        {"config_name": "default", "data_files": [{"split": "train", "path": "data/train-*"}]}
    ]
    assert [info["config_name"] for info in meta["dataset_info"]] == ["default"]
    loaded = datasets.load_dataset(str(tmp_path / "out"), cache_dir=str(tmp_path / "cache"))
    assert {split: len(loaded[split]) for split in loaded} == {"train": 2}
