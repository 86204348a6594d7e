"""`report`: the dataset card's summary from a run directory, before or after an export."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_export import code_attempt, math_attempt, problem_error, sample, write_unit

from verified_factory.export.exporter import export_run
from verified_factory.export.report import report
from verified_factory.run_store import RunDirError

METRICS = {
    "elapsed_s": 61.25,
    "problems": {"total": 4, "done": 4, "skipped_as_committed": 0, "solved": 3},
    "requests": {"bought": 12, "reused_from_store": 3, "failed": {"rate_limited": 1}, "per_s": 0.2},
    "tokens": {"prompt": 1200, "completion": 3400, "per_s": 75},
}


def make_run(tmp_path: Path) -> Path:
    run_dir = tmp_path / "demo"
    records = [math_attempt(1, rationalized=True), math_attempt(2, kept=False), code_attempt()]
    records += [sample(3, 0), sample(3, 1, "rejected"), problem_error("p4")]
    write_unit(run_dir, "unit-00000.jsonl", records)
    (run_dir / "metrics.json").write_text(json.dumps(METRICS))
    return run_dir


def test_a_report_before_any_export(tmp_path: Path) -> None:
    run_dir = make_run(tmp_path)
    text = report(run_dir)
    assert text.startswith("# demo\n\n- Rows: 3 verified rationales (train 3)\n")
    for fact in [
        "Rationalized: 2 of the 3 rows (66.7%)",
        "- Attempts not kept: 2",
        "- Problem errors: 1 (model 1)",
        "| `math` | 2 | 66.7% |",
        "| `math` | 4 | 4 | 2 | 50.0% |",
        "| `code` | 1 | 1 | 1 | 100.0% |",
        "- Problems: 4 done, 3 solved, 0 committed by an earlier session",
        "- Requests: 12 bought, 3 reused from the store, failed: rate_limited 1",
        "- Tokens: 1,200 prompt, 3,400 completion",
        "- Elapsed: 61.2 s",
    ]:
        assert fact in text
    assert "Removals" not in text and "Removed" not in text
    assert not (run_dir / "export").exists()


def test_a_report_without_metrics_leaves_the_session_out(tmp_path: Path) -> None:
    run_dir = make_run(tmp_path)
    (run_dir / "metrics.json").unlink()
    text = report(run_dir)
    assert "- Rows: 3 verified rationales" in text and "Last session" not in text


def test_the_report_is_the_summary_of_the_card(tmp_path: Path) -> None:
    """After the run's own export, the report says what the card says (but the plots), and
    counts without the attempts the export's removals left out."""
    run_dir = make_run(tmp_path)
    removals = [{"record_id": "q3", "benchmark": "gsm8k", "rule": "ngram", "item_id": "g/1"}]
    export_run(
        run_dir,
        run_dir / "export",
        format="parquet",
        shard_size=10,
        manifest={"run": METRICS},
        removals=removals,
    )
    card = (run_dir / "export" / "README.md").read_text()
    card_summary = card.split("\n## Summary\n\n", 1)[1].split("\n## Files\n", 1)[0]
    text = report(run_dir)
    plots = (
        "![Rationale length by domain](plots/rationale_length.png)\n\n"
        "![Acceptance per verifier](plots/acceptance.png)\n"
    )
    assert card_summary == text.split("\n\n", 1)[1] + "\n" + plots
    assert "- Rows: 2 verified rationales (train 2)" in text
    assert "| `gsm8k` | `ngram` | 1 |" in text
    assert "Removed by curation: 2 attempts, named by 1 removal records" in text


def test_a_folder_without_units_is_no_run(tmp_path: Path) -> None:
    with pytest.raises(RunDirError, match="no 'units' folder"):
        report(tmp_path)
