"""The factory against a real model: SmolLM2-135M-Instruct behind llama-cpp-python's server.

Needs the `local` extra. Starts the server (`LocalModelServer`), then, on the problems of
`configs/local-model.yaml`:

- throughput, alternating `--rounds` times: `plain` sends the job's solve requests (the same
  prompts, samples, seeds and max_tokens) through a plain `AsyncOpenAI` + Semaphore loop at the
  job's `max_concurrency`; `factory` runs the whole job on them (`generate()` in this process,
  Ray started beforehand; rationalization off so that it sends exactly those requests; units of
  2 problems so that verification overlaps the requests), verification and export included.
  Both are timed from the first request to the end; the ratio is factory / plain.
- what the model's replies give, from one run of the config as it is (rationalization on):
  replies truncated, without the asked format, judged; acceptance of the judged replies before
  and after rationalization; rows kept and removed; verified rows per hour.

    .venv/bin/python bench/local_model.py [--rounds 2]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from collections import Counter
from pathlib import Path

import openai
import ray

from factory.config import load_config
from factory.export import read_units
from factory.generate import generate
from factory.models.base import ChatRequest
from factory.models.local_server import LocalModelServer
from factory.prompts import load_prompts
from factory.rows import Attempt
from factory.sources import read_source
from factory.star import requests_for

ROOT = Path(__file__).resolve().parents[1]


async def plain_loop(base_url: str, requests: list[ChatRequest], concurrency: int) -> int:
    """Send every request; the completion tokens answered."""
    client = openai.AsyncOpenAI(base_url=base_url, api_key="EMPTY", max_retries=0)
    slots = asyncio.Semaphore(concurrency)

    async def one(request: ChatRequest) -> int:
        async with slots:
            answer = await client.chat.completions.create(
                model=request.model,
                messages=[{"role": m.role, "content": m.content} for m in request.messages],
                temperature=request.temperature,
                max_tokens=request.max_tokens,
                seed=request.seed,
            )
            return answer.usage.completion_tokens if answer.usage else 0

    try:
        return sum(await asyncio.gather(*(one(request) for request in requests)))
    finally:
        await client.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    config = load_config(ROOT / "configs" / "local-model.yaml")
    problems = list(read_source(config.source))
    prompts = load_prompts(config.star.prompts, config.star.hints)
    solve = [
        request
        for problem in problems
        for request in requests_for(
            problem, prompts, config.model, config.solve.samples, hinted=False
        )
    ]
    ray.init(num_cpus=2, include_dashboard=False, logging_level="WARNING")
    with tempfile.TemporaryDirectory() as scratch, LocalModelServer() as server:
        model = config.model.model_copy(update={"base_url": server.base_url})
        print(f"SmolLM2-135M-Instruct Q4_1, llama-cpp-python server, {len(problems)} problems")
        print(f"{len(solve)} solve requests, max_tokens {model.max_tokens}, "
              f"concurrency {model.max_concurrency}")  # fmt: skip
        rates: dict[str, list[float]] = {"plain": [], "factory": []}
        tokens: dict[str, list[float]] = {"plain": [], "factory": []}
        for number in range(args.rounds):
            start = time.perf_counter()
            answered = asyncio.run(plain_loop(server.base_url, solve, model.max_concurrency))
            seconds = time.perf_counter() - start
            rates["plain"].append(len(solve) / seconds)
            tokens["plain"].append(answered / seconds)
            job = config.model_copy(
                update={
                    "run_dir": Path(scratch) / f"throughput-{number}",
                    "model": model,
                    "star": config.star.model_copy(update={"rationalize": False}),
                    "solve": config.solve.model_copy(update={"unit_size": 2}),
                }
            )
            start = time.perf_counter()
            result = generate(job)
            seconds = time.perf_counter() - start
            rates["factory"].append(result.metrics.requests_bought / seconds)
            tokens["factory"].append(result.metrics.completion_tokens / seconds)
        print("| client | requests/s (each round) | completion tokens/s (each round) |")
        print("|---|---|---|")
        for name in rates:
            print(f"| {name} | {' '.join(f'{r:.2f}' for r in rates[name])} | "
                  f"{' '.join(f'{t:.0f}' for t in tokens[name])} |")  # fmt: skip
        ratios = [f / p for f, p in zip(rates["factory"], rates["plain"], strict=True)]
        token_ratios = [f / p for f, p in zip(tokens["factory"], tokens["plain"], strict=True)]
        print(f"factory / plain: requests/s median {statistics.median(ratios):.3f} "
              f"({' '.join(f'{r:.3f}' for r in ratios)}), completion tokens/s median "
              f"{statistics.median(token_ratios):.3f}")  # fmt: skip

        job = config.model_copy(update={"run_dir": Path(scratch) / "quality", "model": model})
        start = time.perf_counter()
        result = generate(job)
        seconds = time.perf_counter() - start
        attempts = [r for r in read_units(job.run_dir) if isinstance(r, Attempt)]
        report_quality(attempts, result.export.rows, result.export.removals, seconds)
    ray.shutdown()


def report_quality(attempts: list[Attempt], rows: int, removals: int, seconds: float) -> None:
    """What the model's replies gave, by round (plain, then hinted)."""
    print("| round | replies | truncated | without the format | judged | accepted |")
    print("|---|---|---|---|---|---|")
    for hinted in (False, True):
        chosen = [a for a in attempts if a.rationalized is hinted]
        statuses = Counter(
            "format" if a.verdict.verifier == "reply" and a.verdict.status == "rejected"
            else a.verdict.status
            for a in chosen
        )  # fmt: skip
        judged = len(chosen) - statuses["truncated"] - statuses["format"] - statuses["error"]
        print(f"| {'hinted' if hinted else 'plain'} | {len(chosen)} | {statuses['truncated']} | "
              f"{statuses['format']} | {judged} | {statuses['accepted']} |")  # fmt: skip
    solved_plain = {a.problem_id for a in attempts if a.verdict.accepted and not a.rationalized}
    solved = {a.problem_id for a in attempts if a.verdict.accepted}
    problems = {a.problem_id for a in attempts}
    print(json.dumps({
        "problems": len(problems),
        "solved_before_rationalization": len(solved_plain),
        "solved_after": len(solved),
        "rows_exported": rows,
        "rows_removed_by_curation": removals,
        "job_seconds": round(seconds, 1),
        "verified_rows_per_hour": round(rows * 3600 / seconds),
    }))  # fmt: skip


if __name__ == "__main__":
    main()
