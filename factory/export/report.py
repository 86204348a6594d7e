"""`factory report RUN_DIR`: the summary of the dataset card, for the terminal.

Made from the committed units and `metrics.json`, so it works before any export, and while a
resumable run is half done. The removals it shows (and leaves out of the counts) are those of
the run's own export, `RUN_DIR/export/removals.jsonl`, when there is one.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from verified_factory.export.card import summary_markdown
from verified_factory.export.exporter import run_stats


def report(run_dir: Path) -> str:
    """The run's summary as Markdown text; `ExportError` if `run_dir` holds no units."""
    stats = run_stats(run_dir, _exported_removals(run_dir))
    title = run_dir.resolve().name
    return f"# {title}\n\n{summary_markdown(stats, _metrics(run_dir))}"


def _metrics(run_dir: Path) -> dict[str, Any]:
    path = run_dir / "metrics.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


def _exported_removals(run_dir: Path) -> list[dict[str, Any]]:
    path = run_dir / "export" / "removals.jsonl"
    if not path.is_file():
        return []
    with path.open(encoding="utf-8") as lines:
        return [json.loads(line) for line in lines if line.strip()]
