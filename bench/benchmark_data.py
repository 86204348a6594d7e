"""The public benchmark files this repository ships as test data, for tests and benchmarks alike.

They are copies of HumanEval, MBPP, GSM8K's test split, MATH-500 and the math-equivalence peer
file, unchanged (the last two gzipped here), with their origin and licences in
`tests/data/README.md`. `tests/data/benchmarks` holds only benchmarks, so
it can be named as a whole (`FACTORY_BENCHMARKS=tests/data/benchmarks`, `--against`).
"""

from __future__ import annotations

from pathlib import Path

DATA = Path(__file__).resolve().parents[1] / "tests" / "data"
BENCHMARKS = DATA / "benchmarks"
HUMANEVAL = BENCHMARKS / "HumanEval.jsonl.gz"
MBPP = BENCHMARKS / "mbpp.jsonl"
GSM8K = BENCHMARKS / "gsm8k.jsonl.gz"
MATH500 = BENCHMARKS / "math500.jsonl.gz"
MATH_PEER = DATA / "math_equivalence_peer.jsonl"
