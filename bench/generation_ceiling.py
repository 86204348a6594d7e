"""The ceiling of generation: completions/s that 1, 2 or 4 generation workers deliver to a driver.

`tests/model_server.py` in its own process answers at once (zero latency), so the server is not
the bound. The job's generation workers (`GenerationWorker`, Ray actors on the driver's node,
the job's own `generation_actors` for `model.generation_workers` 1, 2 and 4, which split
`max_concurrency` between them) stream completions back for calls of 8 requests each (a unit's
worth), 64 such calls in flight, as the driver keeps units in flight; the completions are
appended to a log file as in a job. The calls are dealt round-robin. Also reported: the CPU
seconds of the workers, of the driver (this process) and of the server per 1,000 completions,
which say where a 2-core machine's time goes.

    .venv/bin/python bench/generation_ceiling.py [--requests 6000] [--workers 1 2 4]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
from pathlib import Path

import ray
from client_throughput import Server, process_cpu_s

from verified_factory.config import JobConfig
from verified_factory.job.cluster.actors import generation_actors
from verified_factory.models.base import ChatRequest, Message

PER_CALL = 8
CALLS_IN_FLIGHT = 64


def _requests(count: int) -> list[ChatRequest]:
    return [
        ChatRequest(
            model="bench-model",
            messages=(Message(role="user", content=f"What is {n} + {n + 1}?"),),
            temperature=0.0,
            max_tokens=64,
        )
        for n in range(count)
    ]


async def _drive(actors: list, requests: list[ChatRequest], folder: Path) -> int:
    folder.mkdir()
    calls = [requests[i : i + PER_CALL] for i in range(0, len(requests), PER_CALL)]
    slots = asyncio.Semaphore(CALLS_IN_FLIGHT)
    received = 0

    async def one(number: int, batch: list[ChatRequest]) -> None:
        nonlocal received
        actor = actors[number % len(actors)]
        async with slots:
            log = folder / f"unit-{number}.jsonl"
            stream = actor.complete.options(num_returns="streaming").remote(batch, str(log))
            async for ref in stream:
                arrived = await ref  # awaited first: `received += len(await ref)` loses counts
                received += len(arrived)

    await asyncio.gather(*(one(n, batch) for n, batch in enumerate(calls)))
    return received


def measure(workers: int, total: int, concurrency: int, server: Server) -> str:
    config = JobConfig.model_validate(
        {
            "model": {
                "backend": "openai",
                "base_url": server.base_url,
                "model": "bench-model",
                "max_concurrency": concurrency,
                "generation_workers": workers,
                "timeout_s": 60,
            }
        }
    )
    actors = generation_actors(config)
    pids = [pid for _, pid in ray.get([a.start.remote() for a in actors])]
    requests = _requests(total)

    async def warmed_and_timed(folder: Path) -> tuple[int, float, list[float]]:
        await _drive(actors, requests[: total // 10], folder / "warm-up")
        before = _cpu(server, pids)
        started = time.perf_counter()
        received = await _drive(actors, requests, folder / "timed")
        seconds = time.perf_counter() - started
        return received, seconds, [b - a for a, b in zip(before, _cpu(server, pids), strict=True)]

    with tempfile.TemporaryDirectory() as folder:
        received, seconds, cpu = asyncio.run(warmed_and_timed(Path(folder)))
    for actor in actors:
        ray.kill(actor)
    assert received == total, (received, total)
    per_k = 1000 / total
    workers_cpu, driver_cpu, server_cpu = (value * per_k for value in cpu)
    return (
        f"| {workers} | {total:,} | {seconds:.2f} | {total / seconds:,.0f} | "
        f"{workers_cpu:.2f} | {driver_cpu:.2f} | {server_cpu:.2f} |"
    )


def _cpu(server: Server, workers: list[int]) -> list[float]:
    """CPU seconds so far: the generation workers together, this driver, the server."""
    return [sum(map(process_cpu_s, workers)), process_cpu_s(os.getpid()), server.cpu_s()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=6000)
    parser.add_argument("--concurrency", type=int, default=128)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    args = parser.parse_args()
    ray.init(num_cpus=2, include_dashboard=False, logging_level="WARNING")
    server = Server(0.0)
    try:
        print(
            "generation workers against a zero-latency loopback server, "
            f"max_concurrency {args.concurrency} split between them\n"
            "| workers | completions | s | completions/s | CPU s per 1,000 completions: "
            "workers | driver | server |\n|---|---|---|---|---|---|---|"
        )
        for workers in args.workers:
            print(measure(workers, args.requests, args.concurrency, server), flush=True)
    finally:
        server.stop()
        ray.shutdown()


if __name__ == "__main__":
    main()
