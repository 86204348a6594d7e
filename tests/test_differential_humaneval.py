"""The bar on HumanEval: every canonical solution accepted by differential testing against
itself, and >= 95% of our planted wrong solutions (all of which pass the original tests)
rejected (`bench/differential_humaneval.py` builds the candidates and prints the same numbers)."""

from __future__ import annotations

import pytest
from differential_humaneval import (
    canonical_candidates,
    planted_candidates,
    verify,
)

pytestmark = [pytest.mark.slow, pytest.mark.docker]


@pytest.fixture(autouse=True)
def docker_sandbox(docker_engine, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FACTORY_SANDBOX_BACKEND", "docker")


def test_all_164_canonical_solutions_are_accepted() -> None:
    verdicts, _ = verify(canonical_candidates(), workers=2)
    assert len(verdicts) == 164
    refused = [(v["id"], v["reason"]) for v in verdicts if not v["accepted"]]
    assert refused == []
    assert all(
        any(d["test"] == "differential" and d["outcome"] == "passed" for d in v["details"])
        for v in verdicts
    )


def test_planted_wrong_solutions_that_pass_the_tests_are_rejected() -> None:
    planted = planted_candidates()
    assert len(planted) >= 130
    tests_only, _ = verify(planted, 2, "--no-differential")
    assert all(v["accepted"] for v in tests_only), "each planted solution passes the tests"
    judged, _ = verify(planted, workers=2)
    rejected = sum(not v["accepted"] for v in judged)
    assert rejected / len(planted) >= 0.95, f"{rejected} of {len(planted)} rejected"
    for verdict in judged:
        if not verdict["accepted"]:
            (check,) = [d for d in verdict["details"] if d["test"] == "differential"]
            assert check["counterexample"]["input"][:150] in verdict["reason"]  # the reason is cut
