"""A `factory generate` job run as a user runs it, for the benchmarks: its exported rows."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

FACTORY = Path(sys.executable).parent / "factory"


def generated_rows(config: dict[str, Any], folder: Path, name: str) -> list[dict[str, Any]]:
    """Run the job `config` (its `run_dir` under `folder/name`, export as JSON Lines) and return
    the rows of its export's train split."""
    run_dir = folder / name
    config = {**config, "run_dir": str(run_dir), "export": {"format": "jsonl"}}
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(config))
    subprocess.run([str(FACTORY), "generate", str(path)], check=True, stdout=subprocess.DEVNULL)
    rows = []
    for shard in sorted((run_dir / "export" / "data").glob("*.jsonl")):
        rows += [json.loads(line) for line in shard.read_text().splitlines()]
    return rows
