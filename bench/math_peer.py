"""Accuracy of the math checker on the peer file, by category, with every miss listed.

.venv/bin/python bench/math_peer.py [--misses]
"""

from __future__ import annotations

import argparse
import json
import time
from collections import Counter

from benchmark_data import MATH_PEER

from verified_factory.verifiers.math.check import check


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--misses", action="store_true", help="print every wrong row")
    args = parser.parse_args()
    rows = [json.loads(line) for line in MATH_PEER.read_text().splitlines()]
    right, total = Counter(), Counter()
    false_accepts, false_rejects = [], []
    start = time.perf_counter()
    for row in rows:
        result = check(row["prediction"], row["gold"])
        total[row["category"]] += 1
        if result.accepted == row["expected"]:
            right[row["category"]] += 1
        else:
            (false_accepts if result.accepted else false_rejects).append((row, result))
    elapsed = time.perf_counter() - start
    print(
        f"{sum(right.values())}/{len(rows)} correct, {len(false_accepts)} false accepts, "
        f"{len(false_rejects)} false rejects, {elapsed:.1f} s"
    )
    for category in sorted(total):
        print(f"  {category:24} {right[category]:3}/{total[category]}")
    if args.misses:
        for label, misses in (("FALSE ACCEPT", false_accepts), ("FALSE REJECT", false_rejects)):
            for row, result in misses:
                print(
                    f"{label} {row['id'][:9]} {row['category']}: gold={row['gold'][-80:]!r} "
                    f"pred={row['prediction'][-80:]!r}\n    -> {result.reason[:200]}"
                )


if __name__ == "__main__":
    main()
