"""Dual agreement without tests: how often the kept code rows are right, and how many are kept.

The offline teacher solves the built-in function problems with their tests and references
withheld (`generators.tests: false`, `references: false`); it is wrong at `--error-rate` in its
solutions (realistic bugs) and in each assert it writes when asked for tests. The rows kept by
dual agreement are then run against the problems' real, withheld tests in the sandbox, and so,
for comparison, is the first sample of each problem that passes every test the model wrote (the
baseline that trusts the model's tests). One `factory generate` per sample count, default rule
(the best consensus set alone, with at least 2 solutions and 1 test).

    .venv/bin/python bench/dual_agreement.py [--problems 260] [--samples 4 8]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from offline_job import generated_rows

from verified_factory.records import Candidate, Problem
from verified_factory.rows import Attempt
from verified_factory.run_store import read_units
from verified_factory.sandboxes import open_sandbox
from verified_factory.sources.code_problems import generate_code
from verified_factory.verifiers.code.verifier import CodeVerifier

SEED = 5


def run(problems: int, samples: int, error_rate: float, folder: Path) -> dict:
    config = {
        "source": {
            "generators": {"code": problems, "seed": SEED, "references": False, "tests": False}
        },
        "model": {"backend": "offline", "offline_error_rate": error_rate},
        "solve": {"samples": samples, "keep": 1},
        "curate": {"decontaminate": {"enabled": False}},
    }
    truth = {p.id: p for p in generate_code(problems, SEED) if p.tests.format != "stdio"}
    rows = generated_rows(config, folder, f"run-{samples}")
    kept = {r["problem_id"]: r["messages"][1]["content"] for r in rows if r["problem_id"] in truth}
    trusting = _passing_every_test(folder / f"run-{samples}", truth)
    verifier = CodeVerifier(open_sandbox("auto"))
    return {
        "functions": len(truth),
        "kept": len(kept),
        "right": _right(verifier, truth, kept),
        "trusting": len(trusting),
        "trusting_right": _right(verifier, truth, trusting),
    }


def _passing_every_test(run_dir: Path, truth: dict[str, Problem]) -> dict[str, str]:
    """The baseline that trusts the model's tests: per problem, its first sample that passes
    every test the model wrote."""
    chosen: dict[str, str] = {}
    for record in read_units(run_dir):
        if not isinstance(record, Attempt) or record.problem_id not in truth:
            continue
        detail = record.verdict.details[0] if record.verdict.details else {}
        if detail.get("passes") and detail["passes"] == detail.get("tests"):
            chosen.setdefault(record.problem_id, record.messages[1].content)
    return chosen


def _right(verifier: CodeVerifier, truth: dict[str, Problem], chosen: dict[str, str]) -> int:
    """How many of the chosen responses (by problem id) pass their problem's real tests."""
    right = 0
    for problem_id, response in chosen.items():
        problem = truth[problem_id]
        candidate = Candidate(**problem.model_dump(exclude={"reference"}), response=response)
        right += verifier.verify(candidate).accepted
    return right


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--problems", type=int, default=260)
    parser.add_argument("--samples", type=int, nargs="+", default=[4, 8])
    parser.add_argument("--error-rate", type=float, default=0.3)
    args = parser.parse_args()
    print(
        f"{args.problems} code problems (stdio ones aside), no tests, no references; offline "
        f"teacher wrong at {args.error_rate:.0%} in solutions and in each assert it writes"
    )
    print(
        "| samples | kept by dual agreement | right (real tests) "
        "| kept trusting the model's tests | right |"
    )
    print("|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as scratch:
        for samples in args.samples:
            result = run(args.problems, samples, args.error_rate, Path(scratch))
            functions = result["functions"]
            cells = [
                f"{result[kept]}/{functions} ({result[kept] / functions:.1%}) | "
                f"{result[right]}/{result[kept]} = {result[right] / max(result[kept], 1):.1%}"
                for kept, right in (("kept", "right"), ("trusting", "trusting_right"))
            ]
            print(f"| {samples} | {' | '.join(cells)} |", flush=True)


if __name__ == "__main__":
    main()
