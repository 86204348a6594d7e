"""Our math verifier and Math-Verify 0.9.0 side by side on the peer file, whole processes.

Each checker runs the 421 labelled pairs `--repeat` times (default 5) in a process of its own
with one worker; the parent times each process from start to exit, so imports and start-up
count. Our checker's first pass is reported alone too, because its parse cache helps repeats.

    .venv/bin/python bench/math_vs_peer.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time

from benchmark_data import MATH_PEER


def load_rows() -> list[dict]:
    return [json.loads(line) for line in MATH_PEER.read_text().splitlines()]


def run_ours(rows: list[dict], repeat: int) -> dict:
    from verified_factory.records import Candidate
    from verified_factory.verifiers.math import MathVerifier
    from verified_factory.verifiers.math.verifier import TIME_LIMIT_S

    verifier = MathVerifier()
    latencies, correct, first_pass_s, over_limit = [], 0, 0.0, 0
    for round_ in range(repeat):
        round_start = time.perf_counter()
        for row in rows:
            candidate = Candidate(
                id=row["id"],
                domain="math",
                problem="",
                reference=row["gold"],
                response=row["prediction"],
            )
            start = time.perf_counter()
            verdict = verifier.verify(candidate)
            elapsed = time.perf_counter() - start
            latencies.append(elapsed)
            over_limit += elapsed > TIME_LIMIT_S + 0.5
            correct += round_ == 0 and verdict.accepted == row["expected"]
        if round_ == 0:
            first_pass_s = time.perf_counter() - round_start
    return summary(latencies, correct, first_pass_s, over_limit)


def run_math_verify(rows: list[dict], repeat: int) -> dict:
    from math_verify import parse, verify

    latencies, correct, first_pass_s = [], 0, 0.0
    for round_ in range(repeat):
        round_start = time.perf_counter()
        for row in rows:
            start = time.perf_counter()
            try:
                accepted = bool(verify(parse(row["gold"]), parse(row["prediction"])))
            except Exception:
                accepted = False
            latencies.append(time.perf_counter() - start)
            correct += round_ == 0 and accepted == row["expected"]
        if round_ == 0:
            first_pass_s = time.perf_counter() - round_start
    return summary(latencies, correct, first_pass_s, over_limit=None)


def summary(latencies: list[float], correct: int, first_pass_s: float, over_limit) -> dict:
    ordered = sorted(latencies)
    return {
        "checks": len(latencies),
        "correct": correct,
        "first_pass_s": first_pass_s,
        "p50_ms": 1000 * statistics.median(ordered),
        "p99_ms": 1000 * ordered[int(0.99 * (len(ordered) - 1))],
        "max_ms": 1000 * ordered[-1],
        "over_limit": over_limit,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--checker", choices=["ours", "math-verify"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    rows = load_rows()
    if args.checker == "ours":
        print(json.dumps(run_ours(rows, args.repeat)))
        return
    if args.checker == "math-verify":
        print(json.dumps(run_math_verify(rows, args.repeat)))
        return
    results = {}
    for checker in ("math-verify", "ours"):
        start = time.perf_counter()
        out = subprocess.run(
            [sys.executable, __file__, "--checker", checker, "--repeat", str(args.repeat)],
            check=True,
            capture_output=True,
            text=True,
        )
        results[checker] = json.loads(out.stdout.splitlines()[-1])
        results[checker]["process_s"] = time.perf_counter() - start
    print(f"peer file x{args.repeat} ({len(rows) * args.repeat} checks), one worker, whole process")
    print("| checker | correct (of 421) | process s | first pass s | p50 ms | p99 ms | max ms |")
    print("|---|---|---|---|---|---|---|")
    for checker, r in results.items():
        print(
            f"| {checker} | {r['correct']} | {r['process_s']:.1f} | {r['first_pass_s']:.1f} | "
            f"{r['p50_ms']:.1f} | {r['p99_ms']:.1f} | {r['max_ms']:.0f} |"
        )
    ratio = results["ours"]["process_s"] / results["math-verify"]["process_s"]
    print(
        f"time ratio ours / Math-Verify: {ratio:.2f}; "
        f"checks past the limit (ours): {results['ours']['over_limit']}"
    )


if __name__ == "__main__":
    main()
