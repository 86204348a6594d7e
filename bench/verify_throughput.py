"""`factory verify` throughput and memory on a trivial verifier, whole process, 1 and 2 workers.

The trivial verifier is the example plugin (`examples/exact-match-verifier`), installed into a
scratch folder exactly as a third-party plugin would be. Times include process start-up.
Peak RSS is the largest of the `factory` process and its workers; it must not grow with the input.

    .venv/bin/python bench/verify_throughput.py [--lines 200000] [--memory-lines 100000]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FACTORY = Path(sys.executable).parent / "factory"


def install_example(site: Path) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--target",
            str(site),
            str(ROOT / "examples" / "exact-match-verifier"),
        ],
        check=True,
    )


def write_candidates(path: Path, count: int) -> None:
    with path.open("w") as out:
        for i in range(count):
            answer = "Paris" if i % 3 else "Lyon"
            row = {
                "id": f"q{i}",
                "domain": "text",
                "problem": "Capital of France?",
                "reference": "Paris",
                "response": f"Let me think.\nAnswer: {answer}",
            }
            out.write(json.dumps(row) + "\n")


def run_verify(src: Path, workers: int, site: Path) -> tuple[float, float]:
    """Wall seconds and peak RSS (MiB) of one whole `factory verify` run."""
    env = {**os.environ, "PYTHONPATH": str(site)}
    start = time.perf_counter()
    process = subprocess.Popen(
        [str(FACTORY), "verify", str(src), "-o", os.devnull, "--workers", str(workers)],
        env=env,
        stderr=subprocess.PIPE,
    )
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - start
    stderr = process.stderr.read().decode() if process.stderr else ""
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"factory verify failed:\n{stderr}")
    return elapsed, usage.ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=200_000)
    parser.add_argument("--memory-lines", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        tmp = Path(scratch)
        install_example(tmp / "site")
        src = tmp / "in.jsonl"
        write_candidates(src, args.lines)
        print(f"factory verify, exact_match verifier, {args.lines:,} lines, whole process")
        print("| workers | seconds | lines/s | peak RSS MiB |")
        print("|---|---|---|---|")
        for workers in (1, 2):
            elapsed, rss = run_verify(src, workers, tmp / "site")
            print(f"| {workers} | {elapsed:.2f} | {args.lines / elapsed:,.0f} | {rss:.0f} |")
        print()
        print("peak RSS against input size, 2 workers")
        print("| lines | seconds | peak RSS MiB |")
        print("|---|---|---|")
        for count in (args.memory_lines, args.memory_lines * 10):
            write_candidates(src, count)
            elapsed, rss = run_verify(src, 2, tmp / "site")
            print(f"| {count:,} | {elapsed:.1f} | {rss:.0f} |")


if __name__ == "__main__":
    main()
