from __future__ import annotations

import gzip
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from verified_factory.records import Problem, RecordError
from verified_factory.sources.files import read_problems

GOOD = {"id": "p1", "domain": "math", "problem": "2+2?", "reference": "4"}


def test_jsonl_bad_records_are_reported_and_the_rest_go_on(tmp_path: Path) -> None:
    lines = [
        json.dumps(GOOD),
        "{not json",
        "",
        json.dumps({"id": "p2", "domain": "math"}),
        json.dumps({**GOOD, "id": "p3", "tests": {"format": "assert"}}),
        json.dumps({**GOOD, "id": "p4"}),
    ]
    path = tmp_path / "problems.jsonl"
    path.write_text("\n".join(lines) + "\n")
    out = list(read_problems(path))
    assert [type(x).__name__ for x in out] == [
        "Problem",
        "RecordError",
        "RecordError",
        "RecordError",
        "Problem",
    ]
    assert out[1].line == 2 and "not JSON" in str(out[1])
    assert str(out[2]) == "problem 'p2' (line 4): field 'problem': Field required"
    assert out[3].record_id == "p3" and "field 'tests.code'" in str(out[3])
    assert isinstance(out[4], Problem) and out[4].id == "p4"


def test_gzipped_jsonl(tmp_path: Path) -> None:
    path = tmp_path / "problems.jsonl.gz"
    with gzip.open(path, "wt") as handle:
        handle.write(json.dumps(GOOD) + "\n")
    assert [p.id for p in read_problems(path)] == ["p1"]


def test_parquet_rows_with_a_bad_one(tmp_path: Path) -> None:
    rows = [
        GOOD,
        {"id": "p2", "domain": "code", "problem": None, "reference": None},
        {**GOOD, "id": "p3"},
    ]
    path = tmp_path / "problems.parquet"
    pq.write_table(pa.Table.from_pylist(rows), path)
    out = list(read_problems(path))
    assert [p.id for p in out if isinstance(p, Problem)] == ["p1", "p3"]
    (bad,) = [x for x in out if isinstance(x, RecordError)]
    assert (bad.record_id, bad.line) == ("p2", 2)
    assert "field 'problem'" in str(bad)


def test_a_jobs_domains_come_from_its_generators_synthesizers_and_first_records(
    tmp_path: Path,
) -> None:
    from verified_factory.config import SourceConfig
    from verified_factory.sources import domains

    problems = tmp_path / "problems.jsonl"
    lines = ["not json", json.dumps({"id": "c", "domain": "chemistry", "problem": "p"})]
    problems.write_text("\n".join(lines) + "\n")
    assert domains(SourceConfig(files=[problems], generators={"code": 2})) == {"chemistry", "code"}
    seeds = {"name": "s", "kind": "metamath", "seeds": [problems], "domain": "proof"}
    assert domains(SourceConfig(synthesize=[seeds])) == {"proof"}
