"""The registered `math` verifier: errors named by field, the hard limit, threads, Ray, the CLI."""

from __future__ import annotations

import json
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from run_cli import run_factory

from verified_factory.records import Candidate
from verified_factory.verifiers import Registry
from verified_factory.verifiers.math import MathVerifier

LIMIT_S = 2.0


@pytest.fixture(scope="module")
def verifier() -> MathVerifier:
    return MathVerifier(time_limit_s=LIMIT_S)


def candidate(response: str, reference: str | None = "1/2", record_id: str = "m") -> Candidate:
    return Candidate(
        id=record_id, domain="math", problem="p", reference=reference, response=response
    )


def test_registered_under_its_name_like_any_plugin() -> None:
    info = next(i for i in Registry().infos() if i.name == "math")
    assert (info.domains, info.package, info.problem) == (("math",), "verified-factory", None)


def test_verdict_carries_the_extracted_answer_and_the_rule(verifier: MathVerifier) -> None:
    verdict = verifier.verify(candidate("So the answer is $\\boxed{0.5}$."))
    assert (verdict.status, verdict.extracted) == ("accepted", "0.5")
    assert "boxed" in verdict.reason and "exact" in verdict.reason
    rejected = verifier.verify(candidate("\\boxed{0.6}"))
    assert rejected.status == "rejected" and "differs" in rejected.reason


@pytest.mark.parametrize(("reference", "problem"), [(None, "is missing"), ("  ", "is empty")])
def test_a_missing_reference_is_unverifiable_naming_the_field(
    verifier: MathVerifier, reference: str | None, problem: str
) -> None:
    verdict = verifier.verify(candidate("\\boxed{1}", reference))
    assert verdict.status == "unverifiable"
    assert f"field 'reference' {problem}" in verdict.reason


@pytest.mark.parametrize("reference", ["\\frac{", "x +* 3", "\\sqrt"])
def test_an_unreadable_reference_is_unverifiable_never_a_judgment(
    verifier: MathVerifier, reference: str
) -> None:
    """Peers score an answer against a gold they cannot parse as 0 (or even 1); here no answer
    can pass or fail against it, so the verdict says so and names the field."""
    for response in ("\\boxed{5}", "\\boxed{\\frac{1}{2}}"):
        verdict = verifier.verify(candidate(response, reference))
        assert verdict.status == "unverifiable", verdict.reason
        assert "field 'reference' cannot be read" in verdict.reason


ADVERSARIAL = [
    "\\boxed{10^{10^{10^{10}}}}",
    "\\boxed{9^{9^{9^{9}}}}",
    "\\boxed{(10^{9})!}",
    "\\boxed{" + "(" * 400 + "1" + ")" * 400 + "}",
    "\\boxed{" + "x^" * 300 + "x}",
    "\\boxed{" + "1+" * 3000 + "1}",
    "\\boxed{\\frac{1}{0}}",
    "\\boxed{" + "\\sqrt{" * 200 + "2" + "}" * 200 + "}",
    "\\boxed{" * 500 + "1" + "}" * 500,
]


@pytest.mark.slow
@pytest.mark.parametrize("response", ADVERSARIAL, ids=range(len(ADVERSARIAL)))
def test_adversarial_answers_end_within_the_limit_and_are_never_accepted(
    verifier: MathVerifier, response: str
) -> None:
    start = time.perf_counter()
    verdict = verifier.verify(candidate(response, reference="2"))
    assert time.perf_counter() - start < LIMIT_S + 1.5
    assert verdict.status in {"rejected", "timeout"}, verdict.reason


def test_callable_from_threads(verifier: MathVerifier) -> None:
    cases = [(f"\\boxed{{{n}/2}}", f"{n / 2}", True) for n in range(1, 7)]
    cases += [("\\boxed{3}", "4", False)]
    with ThreadPoolExecutor(4) as pool:
        verdicts = list(pool.map(lambda c: verifier.verify(candidate(c[0], c[1])), cases))
    assert [v.accepted for v in verdicts] == [expected for _, _, expected in cases]


@pytest.mark.slow
def test_callable_from_a_ray_task(monkeypatch: pytest.MonkeyPatch) -> None:
    ray = pytest.importorskip("ray")
    # Ray workers import this module to run `judge`; they find it on the PYTHONPATH they inherit.
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(Path(__file__).parent), *sys.path]))
    ray.init(num_cpus=1, include_dashboard=False, log_to_driver=False, _node_ip_address="127.0.0.1")
    try:

        @ray.remote
        def judge(response: str, reference: str, limit_s: float) -> tuple[str, str]:
            verdict = MathVerifier(time_limit_s=limit_s).verify(candidate(response, reference))
            return verdict.status, verdict.reason

        status, reason = ray.get(judge.remote("\\boxed{\\frac{2}{4}}", "0.5", 5.0), timeout=120)
        assert status == "accepted", reason
        # A limit no real check meets: the hard limit works inside a Ray worker too.
        slow = "\\boxed{\\int_0^1 x^2 \\sin(x) \\, dx + \\sqrt{\\frac{17}{3}}}"
        status, reason = ray.get(judge.remote(slow, "1", 0.001), timeout=120)
        assert status == "timeout", reason
    finally:
        ray.shutdown()


def test_factory_verify_uses_math_for_the_math_domain(tmp_path: Path) -> None:
    rows = [
        {
            "id": "c1",
            "domain": "math",
            "problem": "2+2?",
            "reference": "4",
            "response": "2+2 is \\boxed{4}.",
        },
        {
            "id": "c2",
            "domain": "math",
            "problem": "2+2?",
            "reference": "4",
            "response": "It is \\boxed{5}.",
        },
        {"id": "c3", "domain": "math", "problem": "2+2?", "response": "\\boxed{4}"},
    ]
    src = tmp_path / "math.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in rows))
    result = run_factory("verify", str(src), "--workers", "2")
    assert result.returncode == 0, result.stderr
    verdicts = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(v["id"], v["verifier"], v["status"]) for v in verdicts] == [
        ("c1", "math", "accepted"),
        ("c2", "math", "rejected"),
        ("c3", "math", "unverifiable"),
    ]
