"""Self-consistency without references: how often the kept rows are right, and how many are kept.

The offline teacher (wrong at `--error-rate`, with its realistic near-miss answers) solves the
built-in math problems with their gold answers withheld (`generators.references: false`); the
rows kept by agreement are then checked against the withheld answers. One `factory generate` per
sample count, default rule (the majority holds at least half of at least 4 samples).

    .venv/bin/python bench/self_consistency.py [--problems 400] [--samples 4 6 8 12]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from offline_job import generated_rows

from verified_factory.sources.math_problems import generate_math
from verified_factory.verifiers.math.check import check

SEED = 5


def run(problems: int, samples: int, error_rate: float, folder: Path) -> dict:
    config = {
        "source": {"generators": {"math": problems, "seed": SEED, "references": False}},
        "model": {"backend": "offline", "offline_error_rate": error_rate},
        "solve": {"samples": samples, "keep": 1},
        "curate": {"decontaminate": {"enabled": False}},
    }
    gold = {p.id: p.reference for p in generate_math(problems, SEED)}
    rows = generated_rows(config, folder, f"run-{samples}")
    right = sum(check(r["messages"][1]["content"], gold[r["problem_id"]]).accepted for r in rows)
    return {"samples": samples, "kept": len(rows), "right": right}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--problems", type=int, default=400)
    parser.add_argument("--samples", type=int, nargs="+", default=[4, 6, 8, 12])
    parser.add_argument("--error-rate", type=float, default=0.3)
    args = parser.parse_args()
    print(
        f"{args.problems} math problems, no references, offline teacher wrong at "
        f"{args.error_rate:.0%}; rule: majority >= half of >= 4 samples"
    )
    print("| samples | problems kept | kept rows right |")
    print("|---|---|---|")
    with tempfile.TemporaryDirectory() as scratch:
        for samples in args.samples:
            result = run(args.problems, samples, args.error_rate, Path(scratch))
            kept, right = result["kept"], result["right"]
            print(
                f"| {samples} | {kept} ({kept / args.problems:.1%}) | "
                f"{right}/{kept} = {right / max(kept, 1):.1%} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
