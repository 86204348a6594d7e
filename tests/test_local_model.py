"""A job against a real model: SmolLM2-135M-Instruct behind llama-cpp-python's OpenAI-compatible
server (`factory serve-model`, the `local` extra), run as `configs/local-model.yaml` says.

Skipped where the extra is not installed, unless FACTORY_REQUIRE_LOCAL_MODEL=1 (CI), which turns
the skip into a failure.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import get_args

import pytest
from generation_support import run_records

from verified_factory.config import load_config
from verified_factory.job.generate import generate
from verified_factory.models.base import FailureKind
from verified_factory.models.local_server import LocalModelError, LocalModelServer, bundled_model

ROOT = Path(__file__).resolve().parents[1]

pytestmark = [pytest.mark.slow, pytest.mark.local_model, pytest.mark.usefixtures("ray_session")]


@pytest.fixture(scope="module")
def model_server(tmp_path_factory: pytest.TempPathFactory):
    try:
        import llama_cpp.server  # noqa: F401

        model = bundled_model()
    except (ImportError, LocalModelError) as err:
        if os.environ.get("FACTORY_REQUIRE_LOCAL_MODEL") == "1":
            pytest.fail(f"FACTORY_REQUIRE_LOCAL_MODEL=1 but the local model is missing: {err}")
        pytest.skip(f"the `local` extra is not installed: {err}")
    log = tmp_path_factory.mktemp("server") / "server.log"
    with LocalModelServer(model, log=log) as server:
        yield server


def test_a_small_job_against_the_real_model_ends_in_verified_rows_or_reasons(
    tmp_path: Path, model_server
) -> None:
    config = load_config(ROOT / "configs" / "local-model.yaml")
    config = config.model_copy(
        update={
            "run_dir": tmp_path / "run",
            "model": config.model.model_copy(update={"base_url": model_server.base_url}),
        }
    )
    result = generate(config)

    attempts, errors = run_records(config.run_dir)
    problems = {a.problem_id for a in attempts} | {e.problem_id for e in errors}
    assert len(problems) == 8, "every problem ends in attempts or a recorded error"
    # A 135M model: some of its code is right (with the seeds of the config, 3 or 4 rows).
    assert result.export.rows >= 1
    # Every request answered, or recorded with a typed error.
    assert all(e.kind in get_args(FailureKind) for e in errors if e.stage == "model"), errors
    # Each attempt is one answered request; a request without an answer is a typed error.
    model_errors = [e for e in errors if e.stage == "model"]
    assert result.metrics.requests_bought + sum(result.metrics.model_failures.values()) == len(
        attempts
    ) + len(model_errors)
    # Nothing cut off is judged, let alone kept; every rejection keeps its reason.
    assert all(a.verdict.accepted for a in attempts if a.kept)
    assert all(a.verdict.status != "truncated" for a in attempts if a.kept)
    assert all(a.verdict.reason for a in attempts)

    export = config.run_dir / "export"
    manifest = json.loads((export / "manifest.json").read_text())
    truncated = sum(a.verdict.status == "truncated" for a in attempts)
    assert manifest["acceptance"].get("reply", {}).get("truncated", 0) == truncated
    assert (
        manifest["rows"]
        == result.export.rows
        == sum(a.kept for a in attempts) - (manifest["removed"])
    )
    card = (export / "README.md").read_text()
    assert f"- Rows: {manifest['rows']:,} verified rationales" in card

    # Every exported row is accepted again by `factory verify`, as a user would check it.
    import pyarrow.parquet as pq

    rows = [row for shard in sorted((export / "data").glob("*.parquet"))
            for row in pq.read_table(shard).to_pylist()]  # fmt: skip
    candidates = tmp_path / "candidates.jsonl"
    with candidates.open("w") as out:
        for row in rows:
            user, assistant = row["messages"]
            candidate = {k: row[k] for k in ("id", "domain", "reference", "tests", "verifier")}
            candidate.update(problem=user["content"], response=assistant["content"])
            out.write(json.dumps(candidate) + "\n")
    verdicts = tmp_path / "verdicts.jsonl"
    subprocess.run(
        [sys.executable, "-m", "verified_factory", "verify", str(candidates), "-o", str(verdicts)],
        check=True,
        capture_output=True,
    )
    statuses = [json.loads(line)["status"] for line in verdicts.read_text().splitlines()]
    assert statuses == ["accepted"] * len(rows)
