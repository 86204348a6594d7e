"""`factory generate` against a slow loopback endpoint: how full the job keeps it.

`tests/model_server.py` in its own process answers after 200 ms; 3000 one-sample math problems
go through `factory generate` (a whole process: Ray start-up, the generation worker,
verification, commits, export) at `max_concurrency: 64`, bound 320 req/s. The rate is the
server's: responses over first request to last response. The same server then serves a plain
AsyncOpenAI + Semaphore loop in this process, for comparison. (The demo job's yield and memory
at several scales: `cost_curve.py`.)

    .venv/bin/python bench/generate_throughput.py [--requests 3000] [--concurrency 64]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml
from client_throughput import Server, via_plain

FACTORY = Path(sys.executable).parent / "factory"


def factory_generate(config: dict, folder: Path, *options: str) -> tuple[float, dict]:
    """Run `factory generate` on `config` with `options`; its wall time and metrics.json."""
    path = folder / "job.yaml"
    path.write_text(yaml.safe_dump(config))
    started = time.perf_counter()
    command = [str(FACTORY), "generate", str(path), *options]
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - started
    return wall, json.loads((Path(config["run_dir"]) / "metrics.json").read_text())


def saturation(requests: int, concurrency: int, latency: float, folder: Path) -> None:
    bound = concurrency / latency
    problems = folder / "problems.jsonl"
    with problems.open("w") as out:
        for i in range(requests):
            record = {"id": f"p{i}", "domain": "math", "problem": f"What is {i} + {i + 1}?"}
            out.write(json.dumps({**record, "reference": str(2 * i + 1)}) + "\n")
    server = Server(latency)
    try:
        config = {
            "run_dir": str(folder / "saturation"),
            "source": {"files": [str(problems)]},
            "model": {
                "backend": "openai",
                "base_url": server.base_url,
                "model": "bench-model",
                "max_concurrency": concurrency,
            },
            "solve": {"samples": 1, "keep": 1},
            "star": {"rationalize": False},
            "export": {"format": "jsonl"},
        }
        server.reset()
        wall, metrics = factory_generate(config, folder)
        ours = _rate(server.stats())
        server.reset()
        asyncio.run(via_plain(server.base_url, requests, concurrency, aiohttp=False))
        plain = _rate(server.stats())
    finally:
        server.stop()
    print(
        f"endpoint saturation, {requests} requests, {concurrency} in flight, "
        f"{latency * 1e3:.0f} ms latency (bound {bound:.0f} req/s):\n"
        f"  factory generate           {ours:6.1f} req/s = {ours / bound:6.1%} of the bound "
        f"(whole process {wall:.1f} s, {metrics['problems']['done']} problems, "
        f"verification-bound {metrics['verification_bound']['share']:.1%} of the job)\n"
        f"  AsyncOpenAI + Semaphore    {plain:6.1f} req/s = {plain / bound:6.1%} of the bound",
        flush=True,
    )


def _rate(stats: dict) -> float:
    return stats["responses"] / (stats["last_response_at"] - stats["first_request_at"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--latency", type=float, default=0.2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        saturation(args.requests, args.concurrency, args.latency, Path(scratch))


if __name__ == "__main__":
    main()
