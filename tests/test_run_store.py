"""The run directory: refusing to mix runs, atomic unit commits, completions read back."""

from __future__ import annotations

from pathlib import Path

import pytest
from generation_support import job_config

from verified_factory.models.base import Completion
from verified_factory.rows import ProblemError
from verified_factory.run_store import RunDirError, RunStore


def _completion(key: str) -> Completion:
    return Completion(key=key, text=f"answer {key}", model="m", completion_tokens=3)


def test_a_resume_keeps_what_decides_the_output_and_may_change_the_rest(tmp_path: Path) -> None:
    config = job_config(tmp_path)
    RunStore.open(config.run_dir, config, resume=False)
    other = job_config(tmp_path, solve={"samples": 9})
    RunStore.open(config.run_dir, other, resume=False)  # nothing was done there yet
    store = RunStore.open(config.run_dir, config, resume=False)
    store.commit(0, [])
    with pytest.raises(RunDirError, match="--resume"):
        RunStore.open(config.run_dir, config, resume=False)

    faster = job_config(tmp_path, model={"max_concurrency": 512}, verify={"workers": 8})
    RunStore.open(config.run_dir, faster, resume=True)

    hotter = job_config(tmp_path, model={"temperature": 1.2}, solve={"samples": 8})
    with pytest.raises(RunDirError, match=r"model\.temperature, solve"):
        RunStore.open(config.run_dir, hotter, resume=True)


def test_completions_are_read_back_by_key_and_a_torn_last_line_is_skipped(tmp_path: Path) -> None:
    store = RunStore.open(tmp_path / "run", job_config(tmp_path), resume=False)
    with store.completions_file(7).open("a") as log:
        for key in ("a", "b"):
            log.write(_completion(key).model_dump_json() + "\n")
        log.write(_completion("c").model_dump_json()[:25])  # a kill in the middle of a write
    stored = store.stored_completions(store.completions_file(7))
    assert set(stored) == {"a", "b"} and stored["b"].text == "answer b"
    assert store.stored_completions(store.completions_file(8)) == {}


def test_a_unit_commits_whole_and_only_committed_units_count(tmp_path: Path) -> None:
    store = RunStore.open(tmp_path / "run", job_config(tmp_path), resume=False)
    (store.units_dir / "unit-000003.jsonl.tmp").write_text("half a unit")
    error = ProblemError(problem_id="p", stage="model", kind="timeout", message="no answer")
    store.commit(2, [error])
    assert store.committed_units() == {2}
    assert (store.units_dir / "unit-000002.jsonl").read_text() == error.model_dump_json() + "\n"
    assert not list(store.units_dir.glob("unit-000002*.tmp"))


def test_a_unit_committed_for_retry_is_redone_by_a_resume_until_it_commits_clean(
    tmp_path: Path,
) -> None:
    store = RunStore.open(tmp_path / "run", job_config(tmp_path), resume=False)
    error = ProblemError(problem_id="p", stage="model", kind="connection", message="down")
    store.commit(1, [error], retry=True)
    store.commit(2, [])
    assert store.committed_units() == {2}
    assert (store.units_dir / "unit-000001.jsonl").exists(), "exported as it is meanwhile"
    store.commit(1, [])
    assert store.committed_units() == {1, 2}
    assert not list(store.units_dir.glob("*.retry"))
