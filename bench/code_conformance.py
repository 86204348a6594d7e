"""The code verifier through `factory verify` on HumanEval and MBPP, whole process, 2 workers.

Reference solutions must all be accepted and `pass` stubs all rejected. Reports problems/s from
process start to exit (the median of --runs runs, with the slowest and fastest), and the median
time of one verdict.

    .venv/bin/python bench/code_conformance.py [--workers 2] [--runs 3]
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

from benchmark_data import HUMANEVAL, MBPP

FACTORY = Path(sys.executable).parent / "factory"


def fenced(code: str) -> str:
    return f"```python\n{code}\n```"


def humaneval(stub: bool) -> list[dict]:
    rows = []
    with gzip.open(HUMANEVAL, "rt") as handle:
        for line in handle:
            task = json.loads(line)
            body = "    pass\n" if stub else task["canonical_solution"]
            rows.append(
                {
                    "id": task["task_id"],
                    "domain": "code",
                    "problem": task["prompt"],
                    "response": fenced(task["prompt"] + body),
                    "tests": {
                        "format": "assert",
                        "entry_point": task["entry_point"],
                        "code": f"{task['test']}\ncheck({task['entry_point']})\n",
                    },
                }
            )
    return rows


def mbpp() -> list[dict]:
    rows = []
    for line in MBPP.read_text().splitlines():
        task = json.loads(line)
        code = "\n".join([task["test_setup_code"], *task["test_list"]])
        rows.append(
            {
                "id": f"mbpp/{task['task_id']}",
                "domain": "code",
                "problem": task["text"],
                "response": fenced(task["code"]),
                "tests": {"format": "assert", "code": code},
            }
        )
    return rows


def verify(
    rows: list[dict], workers: int, scratch: Path
) -> tuple[Counter, float, list[float], list]:
    src, out = scratch / "in.jsonl", scratch / "out.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in rows))
    start = time.perf_counter()
    subprocess.run(
        [str(FACTORY), "verify", str(src), "-o", str(out), "--workers", str(workers)],
        check=True,
        stderr=subprocess.DEVNULL,
    )
    elapsed = time.perf_counter() - start
    verdicts = [json.loads(line) for line in out.read_text().splitlines()]
    misses = [v for v in verdicts if v["status"] != "accepted"]
    return (
        Counter(v["status"] for v in verdicts),
        elapsed,
        [v["elapsed_s"] for v in verdicts if v["elapsed_s"] is not None],
        misses,
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    print(
        f"factory verify, code verifier, {args.workers} workers, whole process, "
        f"median of {args.runs} runs (slowest-fastest)"
    )
    print("| set | problems | accepted | other | seconds | problems/s | median verdict ms |")
    print("|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as scratch:
        for name, rows in (
            ("HumanEval canonical", humaneval(stub=False)),
            ("HumanEval `pass` stubs", humaneval(stub=True)),
            ("MBPP reference", mbpp()),
        ):
            runs = [verify(rows, args.workers, Path(scratch)) for _ in range(args.runs)]
            counts, _, times, misses = runs[0]
            if any(run[0] != counts for run in runs):
                raise SystemExit(f"{name}: the runs disagree: {[run[0] for run in runs]}")
            seconds = sorted(run[1] for run in runs)
            rates = [len(rows) / s for s in seconds]
            median = statistics.median(seconds)
            other = ", ".join(f"{n} {s}" for s, n in counts.items() if s != "accepted") or "-"
            print(
                f"| {name} | {len(rows)} | {counts['accepted']} | {other} | {median:.2f} | "
                f"{len(rows) / median:.0f} ({rates[-1]:.0f}-{rates[0]:.0f}) | "
                f"{1000 * statistics.median(times):.0f} |"
            )
            if "stub" not in name:
                for miss in misses[:5]:
                    print(f"    miss {miss['id']}: {miss['reason'][:150]}")


if __name__ == "__main__":
    main()
