"""The curation commands as a user runs them: decontaminate, export, report."""

from __future__ import annotations

import json
from pathlib import Path

from attempts import make_attempt
from benchmark_data import MBPP
from generation_support import job_config
from run_cli import run_factory

from verified_factory.run_store import RunStore


def test_decontaminate_keeps_the_clean_lines_and_logs_each_removal(tmp_path: Path) -> None:
    mbpp = json.loads(MBPP.read_text().splitlines()[3])
    records = [
        {"id": "leak", "domain": "code", "problem": mbpp["text"]},
        {"id": "fine", "domain": "math", "problem": "What is 2 + 2?", "reference": "4"},
        {"id": "broken"},
    ]
    source = tmp_path / "problems.jsonl"
    source.write_text("".join(json.dumps(r) + "\n" for r in records))
    done = run_factory("decontaminate", str(source), "--against", str(MBPP))
    assert done.returncode == 0, done.stderr
    assert "1 of 3 kept" in done.stdout
    kept = (tmp_path / "problems.clean.jsonl").read_text().splitlines()
    assert [json.loads(line)["id"] for line in kept] == ["fine"]
    log = [
        json.loads(line) for line in (tmp_path / "problems.removed.jsonl").read_text().splitlines()
    ]
    assert log[0]["id"] == "leak" and log[0]["benchmark"] == "mbpp" and log[0]["rule"]
    assert log[1]["line"] == 3 and "problem" in log[1]["error"]


def test_export_and_report_of_a_run(tmp_path: Path) -> None:
    config = job_config(tmp_path, curate={"decontaminate": {"enabled": False}})
    store = RunStore.open(config.run_dir, config, resume=False)
    store.commit(
        0,
        [
            make_attempt("p/s0", "p", "What is 2 + 2?", "2 + 2 = \\boxed{4}", kept=True),
            make_attempt("p/s1", "p", "What is 2 + 2?", "\\boxed{5}", accepted=False),
        ],
    )
    out = tmp_path / "export"
    done = run_factory("export", str(config.run_dir), "--out", str(out), "--preference")
    assert done.returncode == 0, done.stderr
    assert "1 rows in 1 shard(s), 1 rejected" in done.stdout
    pair = json.loads((out / "preference" / "train-00000-of-00001.jsonl").read_text())
    assert pair["chosen_id"] == "p/s0" and pair["rejected_id"] == "p/s1"
    shown = run_factory("report", str(config.run_dir))
    assert shown.returncode == 0 and "1 verified rationale" in shown.stdout
    missing = run_factory("report", str(tmp_path))
    assert missing.returncode != 0 and "not a run directory" in missing.stderr
