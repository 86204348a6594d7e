"""Dual agreement without tests: how often the kept code rows are right, and how many are kept.

The offline teacher solves the built-in function problems with their tests and references
withheld (`generators.tests: false`, `references: false`); it is wrong at `--error-rate` in its
solutions (realistic bugs) and in each assert it writes when asked for tests. The rows kept by
dual agreement are then run against the problems' real, withheld tests in the sandbox. One
`factory generate` per sample count, default rule (the best consensus set alone, with at least
2 solutions and 1 test).

    .venv/bin/python bench/dual_agreement.py [--problems 260] [--samples 4 8]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

from factory.records import Candidate
from factory.sources.code_problems import generate_code
from sandboxes import open_sandbox
from verifiers.code.verifier import CodeVerifier

FACTORY = Path(sys.executable).parent / "factory"
SEED = 5


def run(problems: int, samples: int, error_rate: float, folder: Path) -> dict:
    config = {
        "run_dir": str(folder / f"run-{samples}"),
        "source": {
            "generators": {"code": problems, "seed": SEED, "references": False, "tests": False}
        },
        "model": {"backend": "offline", "offline_error_rate": error_rate},
        "solve": {"samples": samples, "keep": 1},
        "curate": {"decontaminate": {"enabled": False}},
        "export": {"format": "jsonl"},
    }
    path = folder / f"job-{samples}.yaml"
    path.write_text(yaml.safe_dump(config))
    subprocess.run([str(FACTORY), "generate", str(path)], check=True, stdout=subprocess.DEVNULL)
    truth = {p.id: p for p in generate_code(problems, SEED) if p.tests.format != "stdio"}
    rows = []
    for shard in sorted((Path(config["run_dir"]) / "export" / "data").glob("*.jsonl")):
        rows += [json.loads(line) for line in shard.read_text().splitlines()]
    rows = [row for row in rows if row["problem_id"] in truth]
    verifier = CodeVerifier(open_sandbox("auto"))
    right = 0
    for row in rows:
        problem = truth[row["problem_id"]]
        candidate = Candidate(
            **problem.model_dump(exclude={"reference"}), response=row["messages"][1]["content"]
        )
        right += verifier.verify(candidate).accepted
    return {"functions": len(truth), "kept": len(rows), "right": right}


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
    print("| samples | function problems kept | kept rows right (real tests) |")
    print("|---|---|---|")
    with tempfile.TemporaryDirectory() as scratch:
        for samples in args.samples:
            result = run(args.problems, samples, args.error_rate, Path(scratch))
            functions, kept, right = result["functions"], result["kept"], result["right"]
            print(
                f"| {samples} | {kept}/{functions} ({kept / functions:.1%}) | "
                f"{right}/{kept} = {right / max(kept, 1):.1%} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
