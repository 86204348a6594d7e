"""Rewards through `factory serve`: the GRPO-shaped batches of `rewards_throughput.py` over HTTP.

A real `factory serve` process on loopback (Docker sandbox, one worker per core); each batch is
one `POST /v1/verify` of 512 candidates, timed from request to answer by a client in this process.
The first batch (the workers starting) is reported apart, as in `rewards_throughput.py`.
With `--ray` the service verifies on Ray (a local cluster here: one node, one worker per core).
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from rewards_throughput import code_batch, math_batch, run

FACTORY = Path(sys.executable).parent / "factory"
TOKEN = "bench-token"


def candidates(batch: tuple[list[str], list[str], dict[str, list]], domain: str) -> list[dict]:
    prompts, completions, columns = batch
    rows = []
    for index, (prompt, completion) in enumerate(zip(prompts, completions, strict=True)):
        row: dict[str, Any] = {
            "id": str(index),
            "domain": domain,
            "problem": prompt,
            "response": completion,
        }
        row.update({name: values[index] for name, values in columns.items()})
        rows.append(row)
    return rows


def post(url: str, rows: list[dict]) -> list[float | None]:
    request = urllib.request.Request(
        url + "/v1/verify",
        data=json.dumps({"candidates": rows}).encode(),
        headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=600) as response:
        return json.loads(response.read())["rewards"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--math-batches", type=int, default=11)
    parser.add_argument("--code-batches", type=int, default=4)
    parser.add_argument("--sandbox", default="docker", choices=["docker", "process"])
    parser.add_argument("--ray", action="store_true", help="factory serve --ray")
    args = parser.parse_args()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with tempfile.TemporaryDirectory() as scratch:
        token = Path(scratch) / "token"
        token.write_text(TOKEN)
        command = [str(FACTORY), "serve", "--port", str(port), "--token-file", str(token)]
        command += ["--sandbox", args.sandbox, *(["--ray"] if args.ray else [])]
        server = subprocess.Popen(command, env={**os.environ, "RAY_ADDRESS": ""})
        url = f"http://127.0.0.1:{port}"
        try:
            for _ in range(600):
                try:
                    urllib.request.urlopen(url + "/health", timeout=1).close()
                    break
                except OSError:
                    time.sleep(0.2)
            where = "on Ray" if args.ray else "in processes"
            print(
                f"factory serve on loopback, verifying {where}, POST /v1/verify, "
                "64 prompts x 8 completions a batch\n"
                "| rewards | batch | batches timed | rewards/s | p50 batch s | p99 batch s | "
                "first batch s | rewarded 1.0 | rewards |\n|---|---|---|---|---|---|---|---|---|"
            )
            math = [candidates(math_batch(seed), "math") for seed in range(args.math_batches)]
            run("math", lambda rows: post(url, rows), math, 0.5)
            code = [candidates(code_batch(64 * n), "code") for n in range(args.code_batches)]
            run(f"HumanEval code ({args.sandbox})", lambda rows: post(url, rows), code, 0.5)
        finally:
            server.terminate()
            server.wait(timeout=60)


if __name__ == "__main__":
    main()
