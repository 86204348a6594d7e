"""How close OpenAIClient gets to the throughput bound of a slow loopback server, and its CPU.

Starts `tests/model_server.py` as its own process (so its CPU is not counted as the client's)
with a fixed latency, then sends the same requests at the same concurrency three ways:

    factory   OpenAIClient (max_concurrency = the concurrency)
    plain     AsyncOpenAI with its default HTTP client, chat.completions.create, a Semaphore
    plain-aio the same with openai.DefaultAioHttpClient

Throughput is the server's: responses over the time from the first request received to the
last response sent. The bound is concurrency / latency (320 req/s for 64 at 200 ms).

    .venv/bin/python bench/client_throughput.py [--requests 3000] [--concurrency 64]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Awaitable, Callable
from pathlib import Path

import openai

from verified_factory.config import ModelConfig
from verified_factory.models.base import ChatRequest, Message
from verified_factory.models.openai_client import OpenAIClient

ROOT = Path(__file__).resolve().parents[1]

PROMPT = "Solve: what is the sum of the first 100 positive integers? " * 4
MODEL = "bench-model"


def process_cpu_s(pid: int) -> float:
    """CPU seconds (user and system) a process of this machine has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Server:
    """tests/model_server.py in its own process."""

    def __init__(self, latency_s: float) -> None:
        self.process = subprocess.Popen(
            [
                sys.executable,
                str(ROOT / "tests" / "model_server.py"),
                "--port",
                "0",
                "--latency",
                str(latency_s),
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        self.base_url = self.process.stdout.readline().strip()
        if not self.base_url:
            raise RuntimeError("the model server did not start")
        self._root = self.base_url.removesuffix("/v1")

    def stats(self) -> dict[str, float]:
        with urllib.request.urlopen(f"{self._root}/stats") as answer:
            return json.load(answer)

    def reset(self) -> None:
        urllib.request.urlopen(urllib.request.Request(f"{self._root}/reset", method="POST")).close()

    def cpu_s(self) -> float:
        return process_cpu_s(self.process.pid)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


async def via_factory(base_url: str, requests: int, concurrency: int) -> None:
    config = ModelConfig(
        backend="openai", base_url=base_url, model=MODEL, max_concurrency=concurrency
    )
    client = OpenAIClient(config)
    message = (Message(role="user", content=PROMPT),)
    try:
        await asyncio.gather(
            *(
                client.complete(
                    ChatRequest(
                        model=MODEL, messages=message, temperature=0.8, max_tokens=512, sample=i
                    )
                )
                for i in range(requests)
            )
        )
    finally:
        await client.aclose()


async def via_plain(base_url: str, requests: int, concurrency: int, aiohttp: bool) -> None:
    http_client = openai.DefaultAioHttpClient() if aiohttp else None
    client = openai.AsyncOpenAI(
        base_url=base_url, api_key="EMPTY", max_retries=0, http_client=http_client
    )
    slots = asyncio.Semaphore(concurrency)

    async def one() -> str | None:
        async with slots:
            answer = await client.chat.completions.create(
                model=MODEL,
                messages=[{"role": "user", "content": PROMPT}],
                temperature=0.8,
                max_tokens=512,
            )
            return answer.choices[0].message.content

    try:
        await asyncio.gather(*(one() for _ in range(requests)))
    finally:
        await client.close()


def measure(name: str, server: Server, send: Callable[[], Awaitable[None]], bound: float) -> None:
    server.reset()
    server_cpu = server.cpu_s()
    cpu = time.process_time()
    started = time.perf_counter()
    asyncio.run(send())
    wall = time.perf_counter() - started
    cpu = time.process_time() - cpu
    server_cpu = server.cpu_s() - server_cpu
    stats = server.stats()
    rate = stats["responses"] / (stats["last_response_at"] - stats["first_request_at"])
    print(
        f"{name:10} {rate:7.1f} req/s  {rate / bound:6.1%} of {bound:.0f}  "
        f"client CPU {cpu:5.2f} s ({cpu / stats['responses'] * 1e3:.2f} ms/req)  "
        f"server CPU {server_cpu:4.2f} s  wall {wall:5.2f} s",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--latency", type=float, default=0.2, help="server seconds per answer")
    args = parser.parse_args()
    bound = args.concurrency / args.latency
    server = Server(args.latency)
    print(
        f"{args.requests} requests, {args.concurrency} in flight, {args.latency * 1e3:.0f} ms "
        f"latency, {os.cpu_count()} CPUs",
        flush=True,
    )
    n, c, url = args.requests, args.concurrency, server.base_url
    try:
        measure("factory", server, lambda: via_factory(url, n, c), bound)
        measure("plain", server, lambda: via_plain(url, n, c, aiohttp=False), bound)
        measure("plain-aio", server, lambda: via_plain(url, n, c, aiohttp=True), bound)
    finally:
        server.stop()


if __name__ == "__main__":
    main()
