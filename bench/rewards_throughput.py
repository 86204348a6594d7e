"""Rewards through the TRL adapter: GRPO-shaped batches (64 prompts x 8 completions).

Math: 512 completions per batch over 64 built-in math problems, half of them the right boxed
answer, the rest wrong or without an answer. Code: 64 HumanEval tasks x 8 completions, half the
canonical solution, half a `pass` stub, judged against HumanEval's tests in the Docker sandbox
(or the process one with `--sandbox process`). Every batch is one call of the reward function,
timed from call to return; the first call (which starts the workers) is reported apart.
open-r1's E2B code reward, for comparison: about 4 problems/s at 64-way.
"""

from __future__ import annotations

import argparse
import gzip
import json
import statistics
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

from benchmark_data import HUMANEVAL

from verified_factory.rewards import trl_reward
from verified_factory.sources.math_problems import generate_math

PROMPTS = 64
SAMPLES = 8


def math_batch(seed: int) -> tuple[list[str], list[str], dict[str, list]]:
    problems = list(generate_math(PROMPTS, seed))
    prompts, completions, references = [], [], []
    for problem in problems:
        for sample in range(SAMPLES):
            prompts.append(problem.problem)
            references.append(problem.reference)
            if sample % 2 == 0:
                completions.append(f"Working it out, the answer is \\boxed{{{problem.reference}}}.")
            elif sample % 4 == 1:
                completions.append("The answer is \\boxed{-12345}.")
            else:
                completions.append("I am not sure how to finish this one.")
    return prompts, completions, {"reference": references}


def code_batch(offset: int) -> tuple[list[str], list[str], dict[str, list]]:
    with gzip.open(HUMANEVAL, "rt") as handle:
        tasks = [json.loads(line) for line in handle]
    chosen = [tasks[(offset + i) % len(tasks)] for i in range(PROMPTS)]
    prompts, completions, tests = [], [], []
    for task in chosen:
        spec = {
            "format": "assert",
            "entry_point": task["entry_point"],
            "code": f"{task['test']}\ncheck({task['entry_point']})\n",
        }
        for sample in range(SAMPLES):
            body = task["canonical_solution"] if sample % 2 == 0 else "    pass\n"
            prompts.append(task["prompt"])
            completions.append(f"```python\n{task['prompt']}{body}```")
            tests.append(spec)
    return prompts, completions, {"tests": tests}


def run(name: str, score: Callable[[Any], list], batches: list, expected_share: float) -> None:
    """Time `score` on each batch, the first apart; print a row of the table."""
    latencies = []
    counts: Counter[object] = Counter()
    first = size = 0.0
    for index, batch in enumerate(batches):
        start = time.perf_counter()
        rewards = score(batch)
        took = time.perf_counter() - start
        counts.update(rewards)
        size = len(rewards)
        if index == 0:
            first = took
        else:
            latencies.append(took)
    ordered = sorted(latencies)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    total = sum(latencies)
    accepted = counts[1.0] / sum(counts.values())
    print(
        f"| {name} | {size:.0f} | {len(latencies)} | {size * len(latencies) / total:,.0f} | "
        f"{statistics.median(latencies):.2f} | {p99:.2f} | {first:.2f} | "
        f"{accepted:.1%} (due {expected_share:.0%}) | {dict(counts)} |",
        flush=True,
    )


def through(reward: Callable[..., list]) -> Callable[[Any], list]:
    """A batch `(prompts, completions, columns)` scored by a TRL reward function."""
    return lambda batch: reward(prompts=batch[0], completions=batch[1], **batch[2])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--math-batches", type=int, default=11)
    parser.add_argument("--code-batches", type=int, default=4)
    parser.add_argument("--sandbox", default="docker", choices=["docker", "process"])
    args = parser.parse_args()
    print(
        f"TRL adapter, {PROMPTS} prompts x {SAMPLES} completions a batch, workers: one per core; "
        "timed from call to return; the first batch (workers starting) apart\n"
        "| rewards | batch | batches timed | rewards/s | p50 batch s | p99 batch s | "
        "first batch s | rewarded 1.0 | rewards |\n|---|---|---|---|---|---|---|---|---|"
    )
    math_reward = trl_reward(domain="math")
    run("math", through(math_reward), [math_batch(s) for s in range(args.math_batches)], 0.5)
    code_reward = trl_reward(domain="code", settings={"code": {"sandbox": args.sandbox}})
    batches = [code_batch(PROMPTS * n) for n in range(args.code_batches)]
    run(f"HumanEval code ({args.sandbox})", through(code_reward), batches, 0.5)


if __name__ == "__main__":
    main()
