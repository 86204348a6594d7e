"""The factory against a real model: SmolLM2-135M-Instruct behind llama-cpp-python's server.

Needs the `local` extra. Starts the server (`LocalModelServer`), then, on the problems of
`configs/local-model.yaml`:

- throughput, alternating `--rounds` times: `plain` sends the job's solve requests (the same
  prompts, samples, seeds and max_tokens) through a plain `AsyncOpenAI` + Semaphore loop at the
  job's `max_concurrency`; `factory` runs the whole job on them (`generate()` in this process,
  Ray started beforehand; rationalization off so that it sends exactly those requests; units of
  2 problems so that verification overlaps the requests), verification and export included.
  Both are timed over the whole run (the job's start-up, verification tail and export
  included) and from the first answer to the last (the endpoint's steady state); the ratios
  are factory / plain.
- what the model's replies give, from one run of the config as it is (rationalization on):
  replies truncated, without the asked format, judged; acceptance of the judged replies before
  and after rationalization; rows kept and removed; verified rows per hour.

    .venv/bin/python bench/local_model.py [--rounds 2] [--threads 1] [--samples N] [--shared-cpus]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import statistics
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import openai
import ray

from verified_factory.config import load_config
from verified_factory.job.generate import generate
from verified_factory.models.base import ChatRequest
from verified_factory.models.local_server import LocalModelServer
from verified_factory.rows import Attempt
from verified_factory.run_store import read_units
from verified_factory.solve.prompts import load_prompts
from verified_factory.solve.star import requests_for
from verified_factory.sources import read_source

ROOT = Path(__file__).resolve().parents[1]


class Arrivals:
    """When answers arrived: the plain loop notes its own; for a job, a thread counts the lines
    of the run's completion logs (each answer is appended there as it arrives) every 10 ms."""

    def __init__(self) -> None:
        self.times: list[float] = []

    def steady_rate(self) -> float:
        """Answers per second between the first answer and the last: start-up and tail left out."""
        return (len(self.times) - 1) / (self.times[-1] - self.times[0])

    @contextlib.contextmanager
    def watching(self, folder: Path) -> Iterator[None]:
        done = threading.Event()

        def watch() -> None:
            seen = 0
            while not done.is_set():
                lines = sum(
                    len(path.read_bytes().splitlines()) for path in folder.glob("*.jsonl")
                ) if folder.is_dir() else 0  # fmt: skip
                self.times += [time.perf_counter()] * (lines - seen)
                seen = max(seen, lines)
                done.wait(0.01)

        watcher = threading.Thread(target=watch)
        watcher.start()
        try:
            yield
        finally:
            done.set()
            watcher.join()


async def plain_loop(
    base_url: str, requests: list[ChatRequest], concurrency: int, arrivals: Arrivals
) -> int:
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
            arrivals.times.append(time.perf_counter())
            return answer.usage.completion_tokens if answer.usage else 0

    try:
        return sum(await asyncio.gather(*(one(request) for request in requests)))
    finally:
        await client.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1, help="the server's threads")
    parser.add_argument(
        "--shared-cpus",
        action="store_true",
        help="let the server and the factory share every CPU (default: the server on the last "
        "CPU, this process, Ray and the process sandbox on the others, as a model server on "
        "its own hardware)",
    )
    parser.add_argument(
        "--samples", type=int, default=None, help="per problem  [default: the config's]"
    )
    args = parser.parse_args()
    config = load_config(ROOT / "configs" / "local-model.yaml")
    if args.samples:
        config = config.model_copy(
            update={"solve": config.solve.model_copy(update={"samples": args.samples})}
        )
    problems = list(read_source(config.source))
    prompts = load_prompts(config.star.prompts, config.star.hints)
    solve = [
        request
        for problem in problems
        for request in requests_for(
            problem, prompts, config.model, config.solve.samples, hinted=False
        )
    ]
    cpus = sorted(os.sched_getaffinity(0))
    server_cpus = None
    if not args.shared_cpus and len(cpus) > 1:
        server_cpus = {cpus[-1]}
        os.sched_setaffinity(0, cpus[:-1])  # Ray's processes and the sandbox's inherit it
        config = config.model_copy(
            update={"sandbox": config.sandbox.model_copy(update={"backend": "process"})}
        )
    ray.init(num_cpus=2, include_dashboard=False, logging_level="WARNING")
    with (
        tempfile.TemporaryDirectory() as scratch,
        LocalModelServer(threads=args.threads, cpus=server_cpus) as server,
    ):
        model = config.model.model_copy(update={"base_url": server.base_url})
        where = "every CPU" if server_cpus is None else f"CPU {cpus[-1]}, the factory on the rest"
        print(f"the server on {where}; sandbox backend {config.sandbox.backend}")
        print(
            f"SmolLM2-135M-Instruct Q4_1, llama-cpp-python server ({args.threads} thread(s)), "
            f"{len(problems)} problems"
        )
        print(f"{len(solve)} solve requests, max_tokens {model.max_tokens}, "
              f"concurrency {model.max_concurrency}")  # fmt: skip
        rates: dict[str, list[float]] = {"plain": [], "factory": []}
        steady: dict[str, list[float]] = {"plain": [], "factory": []}
        tokens: dict[str, list[float]] = {"plain": [], "factory": []}
        for number in range(args.rounds):
            arrivals = Arrivals()
            start = time.perf_counter()
            answered = asyncio.run(
                plain_loop(server.base_url, solve, model.max_concurrency, arrivals)
            )
            seconds = time.perf_counter() - start
            rates["plain"].append(len(solve) / seconds)
            tokens["plain"].append(answered / seconds)
            steady["plain"].append(arrivals.steady_rate())
            job = config.model_copy(
                update={
                    "run_dir": Path(scratch) / f"throughput-{number}",
                    "model": model,
                    "star": config.star.model_copy(update={"rationalize": False}),
                    "solve": config.solve.model_copy(update={"unit_size": 2}),
                }
            )
            arrivals = Arrivals()
            start = time.perf_counter()
            with arrivals.watching(job.run_dir / "completions"):
                result = generate(job)
            seconds = time.perf_counter() - start
            rates["factory"].append(result.metrics.requests_bought / seconds)
            tokens["factory"].append(result.metrics.completion_tokens / seconds)
            steady["factory"].append(arrivals.steady_rate())
        print("| client | requests/s, whole run | completion tokens/s, whole run | "
              "requests/s, first answer to last |")  # fmt: skip
        print("|---|---|---|---|")
        for name in rates:
            print(f"| {name} | {' '.join(f'{r:.3f}' for r in rates[name])} | "
                  f"{' '.join(f'{r:.0f}' for r in tokens[name])} | "
                  f"{' '.join(f'{r:.3f}' for r in steady[name])} |")  # fmt: skip
        for label, table in (
            ("requests/s, whole run", rates),
            ("completion tokens/s, whole run", tokens),
            ("requests/s, first answer to last", steady),
        ):
            ratios = [f / p for f, p in zip(table["factory"], table["plain"], strict=True)]
            print(f"factory / plain, {label}: median {statistics.median(ratios):.3f} "
                  f"({' '.join(f'{r:.3f}' for r in ratios)})")  # fmt: skip

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
