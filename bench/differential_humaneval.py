"""Differential testing on HumanEval: canonical solutions kept, planted wrong ones caught.

Every candidate is judged by `factory verify` (Docker sandbox, 2 workers) with the original
`check` tests and `reference` = the canonical solution:
- the 164 canonical solutions, which must all be accepted;
- `bench/humaneval_planted.jsonl`: our own wrong solutions that pass the original tests (edge
  cases the tests miss, overfitting to the tests' inputs), which should be rejected; the same
  set with `--no-differential` shows what the tests alone let through. Each row has the task, the
  solution, its flaw and a witness: an input on which it differs from the canonical solution.

HumanEval is the repository's copy (`bench/benchmark_data.py`).

    .venv/bin/python bench/differential_humaneval.py [--workers 2]
"""

from __future__ import annotations

import argparse
import gzip
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from benchmark_data import HUMANEVAL

PLANTED = Path(__file__).with_name("humaneval_planted.jsonl")
FACTORY = Path(sys.executable).parent / "factory"


def tasks() -> dict[str, dict]:
    with gzip.open(HUMANEVAL, "rt") as handle:
        return {task["task_id"]: task for task in map(json.loads, handle)}


def candidate(task: dict, program: str, id_: str) -> dict:
    return {
        "id": id_,
        "domain": "code",
        "problem": task["prompt"],
        "reference": task["prompt"] + task["canonical_solution"],
        "response": f"```python\n{program}\n```",
        "tests": {
            "format": "assert",
            "entry_point": task["entry_point"],
            "code": f"{task['test']}\ncheck({task['entry_point']})\n",
        },
    }


def canonical_candidates() -> list[dict]:
    return [
        candidate(task, task["prompt"] + task["canonical_solution"], task_id)
        for task_id, task in tasks().items()
    ]


def planted_candidates() -> list[dict]:
    known = tasks()
    rows = [json.loads(line) for line in PLANTED.read_text().splitlines() if line.strip()]
    return [
        candidate(known[row["task_id"]], row["solution"], f"{row['task_id']}/planted-{n}")
        for n, row in enumerate(rows)
    ]


def verify(rows: list[dict], workers: int, *flags: str) -> tuple[list[dict], float]:
    with tempfile.TemporaryDirectory() as scratch:
        src, out = Path(scratch) / "in.jsonl", Path(scratch) / "out.jsonl"
        src.write_text("".join(json.dumps(r) + "\n" for r in rows))
        start = time.perf_counter()
        command = [str(FACTORY), "verify", str(src), "-o", str(out), "--workers", str(workers)]
        subprocess.run([*command, *flags], check=True, stderr=subprocess.DEVNULL)
        elapsed = time.perf_counter() - start
        return [json.loads(line) for line in out.read_text().splitlines()], elapsed


def differential(verdict: dict) -> dict:
    return next((d for d in verdict["details"] if d["test"] == "differential"), {})


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()

    canonical, seconds = verify(canonical_candidates(), args.workers)
    accepted = sum(v["accepted"] for v in canonical)
    inputs = [sum(differential(v).get("inputs", {}).values()) for v in canonical]
    times = [v["elapsed_s"] for v in canonical]
    print(
        f"canonical: {accepted}/{len(canonical)} accepted in {seconds:.1f} s "
        f"({len(canonical) / seconds:.1f}/s with {args.workers} workers); inputs per task: "
        f"median {statistics.median(inputs):.0f}, min {min(inputs)}; verdict time: median "
        f"{statistics.median(times):.2f} s, max {max(times):.1f} s"
    )
    for verdict in canonical:
        if not verdict["accepted"]:
            print(f"  NOT accepted: {verdict['id']}: {verdict['reason'][:200]}")

    planted = planted_candidates()
    tests_only, _ = verify(planted, args.workers, "--no-differential")
    judged, _ = verify(planted, args.workers)
    passing = [v["accepted"] for v in tests_only]
    caught = [not v["accepted"] for v, ok in zip(judged, passing, strict=True) if ok]
    origins = Counter(
        differential(v).get("counterexample", {}).get("origin", "-")
        for v, ok in zip(judged, passing, strict=True)
        if ok and not v["accepted"]
    )
    times = [v["elapsed_s"] for v in judged]
    print(
        f"planted: {len(planted)} wrong solutions over "
        f"{len({p['id'].split('/planted')[0] for p in planted})} tasks; the original tests "
        f"accept {sum(passing)}; differential testing rejects {sum(caught)} of those "
        f"= {sum(caught) / max(1, len(caught)):.1%}; first counterexample by origin: "
        f"{dict(origins)}; verdict time: median {statistics.median(times):.2f} s"
    )
    for verdict, ok in zip(judged, passing, strict=True):
        if ok and verdict["accepted"]:
            print(f"  missed: {verdict['id']}")


if __name__ == "__main__":
    main()
