"""A third-party verifier judges the samples of a problem together, in a real job.

The example plugin (`examples/exact-match-verifier`), installed as a package of its own, gets its
setting from the job config (`verify.settings.exact_match.majority`) and judges the samples of a
problem without a reference by their agreement; the exported row carries the agreed answer as
its reference, so it is checked again like any other.
"""

from __future__ import annotations

import json
import os
import threading
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from generation_support import exported_rows, generate_locally, job_config, run_records
from model_server import ModelServer

pytestmark = pytest.mark.slow

ANSWERS = {
    "What is the capital of France?": ["Paris", "Paris", "paris.", "Lyon"],
    "Which planet is the largest?": ["Jupiter", "Saturn", "Mars", "Jupiter"],
}


REASONING = [
    "I recall the atlas I studied at school and the first name that comes to mind.",
    "Going through what I know step by step, one answer stands out above the others.",
    "A quick check of geography facts and textbooks points one clear way here.",
    "Weighing the options against each other, I settle on a single choice now.",
]


class Answers:
    """Each question's answers in turn, whatever order the samples are asked in."""

    def __init__(self) -> None:
        self._asked: Counter[str] = Counter()
        self._lock = threading.Lock()

    def __call__(self, request: dict[str, Any]) -> str:
        question = next(q for q in ANSWERS if q in request["messages"][-1]["content"])
        with self._lock:
            turn = self._asked[question]
            self._asked[question] += 1
        return f"{REASONING[turn % 4]}\nAnswer: {ANSWERS[question][turn % 4]}"


def test_a_plugin_judges_a_group_with_its_setting_and_the_row_keeps_the_agreed_answer(
    tmp_path: Path, installed_example: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The plugin reaches the job's verification workers as any installed package would.
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([installed_example, *os.sys.path]))
    problems = tmp_path / "questions.jsonl"
    problems.write_text(
        "".join(
            json.dumps({"id": f"q{n}", "domain": "text", "problem": question}) + "\n"
            for n, question in enumerate(ANSWERS)
        )
    )
    with ModelServer(responder=Answers()) as server:
        config = job_config(
            tmp_path,
            source={"files": [str(problems)]},
            model={"backend": "openai", "base_url": server.base_url, "model": "loopback"},
            solve={"samples": 4, "keep": 2, "unit_size": 4},
            star={"rationalize": False},
            verify={"settings": {"exact_match": {"majority": 0.6}}},
            curate={"decontaminate": {"enabled": False}},
        )
        generate_locally(config)
    attempts, errors = run_records(config.run_dir)
    assert errors == []
    by_problem = {p: [a for a in attempts if a.problem_id == p] for p in ("q0", "q1")}
    france = [a.verdict for a in by_problem["q0"]]
    assert sorted(v.status for v in france) == ["accepted"] * 3 + ["rejected"]
    assert {v.verifier for v in france} == {"exact_match"}
    accepted = [v for v in france if v.accepted]
    assert all(v.agreement.share == 0.75 and v.agreement.answer for v in accepted)
    # Jupiter holds 2 of 4, which the configured majority (more than 0.6) does not allow.
    planets = [a.verdict for a in by_problem["q1"]]
    assert not any(v.accepted for v in planets)
    assert all("more than 0.6 of the samples" in v.reason for v in planets), planets[0].reason
    rows = exported_rows(config.run_dir / "export")
    assert len(rows) == 2 and {r["problem_id"] for r in rows} == {"q0"}
    assert {r["reference"].strip(".").lower() for r in rows} == {"paris"}
