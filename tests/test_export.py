"""`factory.export`: shards, rejected and error files, the dataset card, the manifest, and the
contract's promise that an exported row is accepted again by `factory verify`."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import yaml
from run_cli import run_factory

from factory.export import (
    REJECTED_SCHEMA,
    SFT_SCHEMA,
    ExportError,
    export_run,
    read_units,
    rejected_row,
)
from factory.models.base import Message
from factory.records import Verdict
from factory.rows import Attempt, ProblemError

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
        ExportError, match=r"unit-00002\.jsonl, line 1: .*'attempt\.domain': Field required"
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
    with pytest.raises(ExportError, match=r"unit-00009\.jsonl, line 1"):
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
    with pytest.raises(ExportError, match="no 'units' folder"):
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
