"""The example plugin in `examples/` is installed like any third-party package and just works."""

from __future__ import annotations

import json
from pathlib import Path

from run_cli import run_factory


def test_the_installed_example_is_listed(installed_example: str) -> None:
    before = run_factory("verifiers", "--json")
    assert "exact_match" not in before.stdout
    result = run_factory("verifiers", "--json", pythonpath=installed_example)
    infos = {info["name"]: info for info in map(json.loads, result.stdout.splitlines())}
    assert infos["exact_match"] == {
        "name": "exact_match",
        "domains": ["text"],
        "version": "0.1.0",
        "package": "verified-factory-exact-match",
        "target": "exact_match_verifier:ExactMatchVerifier",
        "problem": None,
    }


def test_factory_verify_uses_the_example_by_its_domain(
    tmp_path: Path, installed_example: str
) -> None:
    rows = [
        {
            "id": "t1",
            "domain": "text",
            "problem": "Capital of France?",
            "reference": "Paris",
            "response": "The capital is on the Seine.\nAnswer: Paris.",
        },
        {
            "id": "t2",
            "domain": "text",
            "problem": "Capital of Italy?",
            "reference": "Rome",
            "response": "Answer: Milan",
        },
        {"id": "t3", "domain": "text", "problem": "Symbol of gold?", "response": "Au"},
    ]
    src = tmp_path / "text.jsonl"
    src.write_text("".join(json.dumps(row) + "\n" for row in rows))
    result = run_factory("verify", str(src), pythonpath=installed_example)
    assert result.returncode == 0, result.stderr
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(v["id"], v["verifier"], v["status"]) for v in out] == [
        ("t1", "exact_match", "accepted"),
        ("t2", "exact_match", "rejected"),
        ("t3", "exact_match", "unverifiable"),
    ]
    assert out[0]["extracted"] == "Paris."
    assert "'reference'" in out[2]["reason"]
