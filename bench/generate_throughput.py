"""`factory generate` against a slow loopback endpoint, the demo job's yield, and its memory.

1. Endpoint saturation: `tests/model_server.py` in its own process answers after 200 ms; 3000
   one-sample math problems go through `factory generate` (a whole process: Ray start-up, the
   generation worker, verification, commits, export) at `max_concurrency: 64`, bound 320 req/s.
   The rate is the server's: responses over first request to last response. The same server
   then serves a plain AsyncOpenAI + Semaphore loop in this process, for comparison.
2. The demo job (`configs/demo.yaml`: offline teacher, local Ray, Docker sandbox where an engine
   answers): verified rows per minute, whole process and inside the job.
3. Memory: the demo's generators at 1x and 10x the problems; the peak resident memory of the
   driver and of each Ray worker of the job (VmHWM), summed.

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

ROOT = Path(__file__).resolve().parents[1]
FACTORY = Path(sys.executable).parent / "factory"


def factory_generate(config: dict, folder: Path) -> tuple[float, dict]:
    """Run `factory generate` on `config`; its wall time and metrics.json."""
    path = folder / "job.yaml"
    path.write_text(yaml.safe_dump(config))
    started = time.perf_counter()
    subprocess.run([str(FACTORY), "generate", str(path)], check=True, stdout=subprocess.DEVNULL)
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


def demo(folder: Path, scale: int) -> tuple[float, dict]:
    config = yaml.safe_load((ROOT / "configs" / "demo.yaml").read_text())
    config["run_dir"] = str(folder / f"demo-x{scale}")
    generators = config["source"]["generators"]
    generators["math"] *= scale
    generators["code"] *= scale
    return factory_generate(config, folder)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--latency", type=float, default=0.2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        saturation(args.requests, args.concurrency, args.latency, folder)
        peaks = {}
        for scale in (1, 10):
            wall, metrics = demo(folder, scale)
            rows = metrics["kept"]["rows"]
            peaks[scale] = sum(metrics["peak_rss_mib"].values())
            print(
                f"demo x{scale}: {metrics['problems']['done']} problems, {rows} verified rows, "
                f"{rows / wall * 60:,.0f} rows/min whole process ({wall:.1f} s), "
                f"{rows / metrics['elapsed_s'] * 60:,.0f} rows/min in the job; acceptance "
                f"{metrics['acceptance']}; peak RSS {peaks[scale]:.0f} MiB "
                f"{metrics['peak_rss_mib']}",
                flush=True,
            )
        print(f"peak memory, 10x the problems: {peaks[10] / peaks[1]:.2f}x", flush=True)


if __name__ == "__main__":
    main()
