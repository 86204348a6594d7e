"""Helpers for the tests of `factory generate`: job configs, arithmetic problems, reading runs."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from verified_factory.config import JobConfig
from verified_factory.rows import Attempt, ProblemError
from verified_factory.run_store import read_units


def job_config(tmp_path: Path, **sections: Any) -> JobConfig:
    """A small job into `tmp_path/run`: the given sections over quick defaults."""
    base: dict[str, Any] = {
        "run_dir": str(tmp_path / "run"),
        "source": {"generators": {"math": 0, "code": 0, "seed": 0}},
        "model": {"backend": "offline", "max_concurrency": 16},
        "solve": {"samples": 2, "keep": 1, "unit_size": 4},
        "verify": {"workers": 2, "timeout_s": 120},
        "sandbox": {"backend": "process"},
        "export": {"format": "jsonl", "shard_size": 50},
    }
    for name, value in sections.items():
        if isinstance(value, dict) and isinstance(base.get(name), dict):
            base[name] = {**base[name], **value}
        else:
            base[name] = value
    return JobConfig.model_validate(base)


def sum_problems(path: Path, count: int) -> list[dict[str, Any]]:
    """`count` math problems `What is A + B?` written to `path` as JSON Lines."""
    problems = [
        {
            "id": f"sum-{i}",
            "domain": "math",
            "problem": f"What is {i} + {2 * i + 1}?",
            "reference": str(3 * i + 1),
        }
        for i in range(count)
    ]
    path.write_text("".join(json.dumps(p) + "\n" for p in problems))
    return problems


def sums_job(
    tmp_path: Path, base_url: str, *, max_concurrency: int, unit_size: int, **sections: Any
) -> JobConfig:
    """A job of the `sums.jsonl` problems in `tmp_path`, two samples each, from `base_url`."""
    return job_config(
        tmp_path,
        **sections,
        source={"files": [str(tmp_path / "sums.jsonl")]},
        model={
            "backend": "openai",
            "base_url": base_url,
            "model": "loopback",
            "max_concurrency": max_concurrency,
        },
        solve={"samples": 2, "keep": 1, "unit_size": unit_size},
    )


def solve_sum(request: dict[str, Any]) -> str:
    """The test server's answer to a `What is A + B?` prompt: right, step by step."""
    a, b = map(
        int, re.search(r"What is (\d+) \+ (\d+)\?", request["messages"][-1]["content"]).groups()
    )
    return f"We add {a} and {b}: {a} + {b} = {a + b}. The answer is \\boxed{{{a + b}}}."


def generate_locally(config: JobConfig, server: Any = None) -> int | None:
    """Run the job on a local two-CPU Ray. With the loopback `server`, run it again with
    `--resume`, check that nothing more was asked, and return the requests the job made."""
    import ray

    from verified_factory.job.generate import generate

    ray.init(num_cpus=2, include_dashboard=False, logging_level="WARNING")
    try:
        generate(config)
        if server is None:
            return None
        asked = server.stats()["requests"]
        generate(config, resume=True)
        assert server.stats()["requests"] == asked, "a resumed run buys nothing again"
        return asked
    finally:
        ray.shutdown()


def run_records(run_dir: Path) -> tuple[list[Attempt], list[ProblemError]]:
    attempts: list[Attempt] = []
    errors: list[ProblemError] = []
    for record in read_units(run_dir):
        (attempts if isinstance(record, Attempt) else errors).append(record)
    return attempts, errors


def exported_rows(export_dir: Path) -> list[dict[str, Any]]:
    rows = []
    for shard in sorted((export_dir / "data").glob("train-*.jsonl")):
        rows += [json.loads(line) for line in shard.read_text().splitlines()]
    return rows
