"""What the dataset card and `factory report` say of a run: statistics, their summary, plots.

`RunStats` counts a run's records as they stream past (counters only, so memory stays flat
however long the run); `summary_markdown` renders them, `write_plots` draws them, and
`dataset_card` puts the summary between the card's YAML metadata and its notes on the files.
"""

from __future__ import annotations

import dataclasses
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import yaml

from verified_factory.export.shapes import DEFAULT, PREFERENCE, DatasetConfig, Split
from verified_factory.records import JUDGMENTS
from verified_factory.rows import Attempt, ProblemError

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from verified_factory.export.exporter import ExportSummary
    from verified_factory.export.shapes import DatasetConfig, Split

NONE = "(none)"

PLOT_SIZE_IN = (6.4, 3.6)
PLOT_DPI = 100


@dataclasses.dataclass
class RunStats:
    """Counters over a run's records. "Rows" are the kept (verified) attempts: the SFT rows."""

    rows_per_split: Counter[str] = dataclasses.field(default_factory=Counter)
    domains: Counter[str] = dataclasses.field(default_factory=Counter)
    sources: Counter[str] = dataclasses.field(default_factory=Counter)
    verifiers: Counter[str] = dataclasses.field(default_factory=Counter)
    models: Counter[str] = dataclasses.field(default_factory=Counter)
    rationalized: int = 0
    not_kept: int = 0
    errors_per_stage: Counter[str] = dataclasses.field(default_factory=Counter)
    verdicts: defaultdict[str, Counter[str]] = dataclasses.field(
        default_factory=lambda: defaultdict(Counter)
    )
    """verifier -> verdict status -> attempts, kept or not."""
    lengths: defaultdict[str, Counter[int]] = dataclasses.field(
        default_factory=lambda: defaultdict(Counter)
    )
    """domain -> rationale length in characters -> rows."""
    removals: Counter[tuple[str, str]] = dataclasses.field(default_factory=Counter)
    """(benchmark, rule) -> removal records."""
    removed_items: defaultdict[tuple[str, str], set[str]] = dataclasses.field(
        default_factory=lambda: defaultdict(set)
    )
    """(benchmark, rule) -> the benchmark items the removal records name."""
    removed: int = 0
    """Attempts left out because a removal names them."""

    @property
    def rows(self) -> int:
        return self.rows_per_split.total()

    @property
    def errors(self) -> int:
        return self.errors_per_stage.total()

    def add(self, record: Attempt | ProblemError, split: str = "train") -> None:
        """Count a record; a kept attempt as a row of `split`."""
        if isinstance(record, ProblemError):
            self.errors_per_stage[record.stage] += 1
            return
        verifier = record.verdict.verifier or "unknown"
        self.verdicts[verifier][record.verdict.status] += 1
        if not record.kept:
            self.not_kept += 1
            return
        self.rows_per_split[split] += 1
        self.domains[record.domain] += 1
        self.sources[record.source or NONE] += 1
        self.verifiers[verifier] += 1
        self.models[record.model] += 1
        self.rationalized += record.rationalized
        self.lengths[record.domain][len(record.rationale)] += 1

    def add_removal(self, removal: Mapping[str, Any]) -> None:
        key = (str(removal.get("benchmark") or NONE), str(removal.get("rule") or NONE))
        self.removals[key] += 1
        if removal.get("item_id") is not None:
            self.removed_items[key].add(str(removal["item_id"]))

    def acceptance(self) -> dict[str, dict[str, int]]:
        """Per verifier: attempts, judged (`accepted`, `rejected` or `timeout`: not `error`,
        `unverifiable` or `truncated`), accepted, and truncated (replies cut off, never judged:
        `reply` only)."""
        return {
            name: {
                "attempts": counts.total(),
                "judged": sum(counts[status] for status in JUDGMENTS),
                "accepted": counts["accepted"],
                "truncated": counts["truncated"],
            }
            for name, counts in sorted(self.verdicts.items())
        }


def by_key(counts: Counter[str]) -> dict[str, int]:
    """A counter as a plain dict in key order, as the manifest and the tables show it."""
    return dict(sorted(counts.items()))


def summary_markdown(
    stats: RunStats,
    run_metrics: Mapping[str, Any] | None = None,
    plots: Iterable[tuple[str, str]] = (),
) -> str:
    """The summary shared by the dataset card and `factory report`; `plots` are (title, path)."""
    sections = [
        _overview(stats),
        _count_table("Rows by domain", "domain", stats.domains, stats.rows),
        _count_table("Rows by source", "source", stats.sources, stats.rows),
        _count_table("Rows by verifier", "verifier", stats.verifiers, stats.rows),
        _acceptance_table(stats),
        _length_table(stats),
        _removal_table(stats),
        _session(run_metrics or {}),
        "\n\n".join(f"![{title}]({path})" for title, path in plots),
    ]
    return "\n\n".join(section for section in sections if section) + "\n"


def _share(part: int, whole: int) -> str:
    return f"{part / whole:.1%}" if whole else "-"


def _overview(stats: RunStats) -> str:
    ordered = sorted(stats.rows_per_split.items(), key=lambda item: (item[0] != "train", item))
    splits = ", ".join(f"{split} {n:,}" for split, n in ordered)
    models = ", ".join(f"`{model}`" for model in sorted(stats.models)) or "none (no rows)"
    errors = ", ".join(f"{stage} {n:,}" for stage, n in sorted(stats.errors_per_stage.items()))
    lines = [
        f"- Rows: {stats.rows:,} verified rationales" + (f" ({splits})" if splits else ""),
        f"- Model: {models}",
        f"- Rationalized: {stats.rationalized:,} of the {stats.rows:,} rows "
        f"({_share(stats.rationalized, stats.rows)}) were solved with the reference given as a "
        "hint (STaR rationalization); the hint is not in the stored prompt.",
        f"- Attempts not kept: {stats.not_kept:,}",
        f"- Problem errors: {stats.errors:,}" + (f" ({errors})" if errors else ""),
    ]
    if stats.removals or stats.removed:
        lines.append(
            f"- Removed by curation: {stats.removed:,} attempts, "
            f"named by {stats.removals.total():,} removal records"
        )
    return "\n".join(lines)


def _table(title: str, header: list[str], rows: list[list[str]], labels: int = 1) -> str:
    """A Markdown table under a heading: `labels` text columns, then right-aligned numbers."""
    align = ["---"] * labels + ["---:"] * (len(header) - labels)
    lines = [f"### {title}", "", _row(header), _row(align)]
    lines += (
        [_row(cells) for cells in rows] if rows else [_row(["(none)"] + [""] * (len(header) - 1))]
    )
    return "\n".join(lines)


def _row(cells: list[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def _count_table(title: str, header: str, counts: Counter[str], total: int) -> str:
    rows = [[f"`{key}`", f"{n:,}", _share(n, total)] for key, n in by_key(counts).items()]
    return _table(title, [header, "rows", "share"], rows)


def _acceptance_table(stats: RunStats) -> str:
    rows = [
        [
            f"`{name}`",
            f"{counts['attempts']:,}",
            f"{counts['judged']:,}",
            f"{counts['accepted']:,}",
            _share(counts["accepted"], counts["judged"]),
            f"{counts['truncated']:,}",
        ]
        for name, counts in stats.acceptance().items()
    ]
    header = ["verifier", "attempts", "judged", "accepted", "accepted / judged", "truncated"]
    return _table("Acceptance per verifier (all attempts)", header, rows)


def _length_table(stats: RunStats) -> str:
    rows = [
        [
            f"`{domain}`",
            f"{counts.total():,}",
            f"{_quantile(counts, 0.5):,}",
            f"{_quantile(counts, 0.9):,}",
            f"{max(counts):,}",
        ]
        for domain, counts in sorted(stats.lengths.items())
    ]
    header = ["domain", "rows", "median", "p90", "max"]
    return _table("Rationale length (characters)", header, rows)


def _quantile(counts: Counter[int], q: float) -> int:
    """The smallest value with at least a share `q` of the counted items at or below it."""
    needed, seen = q * counts.total(), 0
    for value in sorted(counts):
        seen += counts[value]
        if seen >= needed:
            return value
    raise ValueError("no values counted")


def _removal_table(stats: RunStats) -> str:
    if not stats.removals:
        return ""
    rows = [
        [f"`{benchmark}`", f"`{rule}`", f"{n:,}", f"{len(stats.removed_items[key]):,}"]
        for key, n in sorted(stats.removals.items())
        for benchmark, rule in [key]
    ]
    headers = ["benchmark", "rule", "records", "benchmark items hit"]
    return _table("Removals (`removals.jsonl`)", headers, rows, 2)


def _session(metrics: Mapping[str, Any]) -> str:
    """The last session's figures from `metrics.json` (a resumed run's counts its own work)."""
    if not metrics:
        return ""
    problems = metrics.get("problems", {})
    requests = metrics.get("requests", {})
    tokens = metrics.get("tokens", {})
    failed = ", ".join(f"{kind} {n:,}" for kind, n in sorted(requests.get("failed", {}).items()))
    return "\n".join(
        [
            "### Last session (`metrics.json`)",
            "",
            f"- Problems: {problems.get('done', 0):,} done, {problems.get('solved', 0):,} solved, "
            f"{problems.get('skipped_as_committed', 0):,} committed by an earlier session",
            f"- Requests: {requests.get('bought', 0):,} bought, "
            f"{requests.get('reused_from_store', 0):,} reused from the store, "
            f"failed: {failed or 'none'}",
            *_endpoint_lines(requests.get("per_endpoint") or {}),
            f"- Tokens: {tokens.get('prompt', 0):,} prompt, {tokens.get('completion', 0):,} "
            "completion",
            f"- Elapsed: {metrics.get('elapsed_s', 0):,.1f} s",
            *_bound_line(metrics.get("verification_bound") or {}),
        ]
    )


def _bound_line(bound: Mapping[str, float]) -> list[str]:
    """Said when verification, not the endpoint, set the pace for a share of the session."""
    if bound.get("share", 0) < 0.01:
        return []
    return [
        f"- Verification-bound {bound['share']:.0%} of the time ({bound['seconds']:,.1f} s): "
        "the endpoint had room for more requests while every unit the job may hold waited on "
        "verification; more verification workers (`verify.workers`, or nodes) would buy faster"
    ]


def _endpoint_lines(per_endpoint: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """One line per endpoint, when the session had several."""
    if len(per_endpoint) < 2:
        return []
    return [
        f"- Endpoint `{url}`: {counts.get('bought', 0):,} bought, {counts.get('per_s', 0):,} req/s"
        for url, counts in sorted(per_endpoint.items())
    ]


def write_plots(stats: RunStats, folder: Path) -> list[tuple[str, str]]:
    """Draw the card's plots into `folder`; their (title, path relative to its parent).

    The PNG bytes depend only on the statistics (and matplotlib's version): the default style
    whatever the user's matplotlibrc, a fixed size and resolution, and no `Software` text chunk.
    """
    # Imported here: matplotlib takes half a second to import and only exports draw.
    import matplotlib.style
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    folder.mkdir()
    plots = [
        ("Rationale length by domain", "rationale_length.png", _draw_lengths),
        ("Acceptance per verifier", "acceptance.png", _draw_acceptance),
    ]
    with matplotlib.style.context("default"):
        for _, name, draw in plots:
            figure = Figure(figsize=PLOT_SIZE_IN, dpi=PLOT_DPI, layout="tight")
            FigureCanvasAgg(figure)
            draw(figure, stats)
            figure.savefig(folder / name, format="png", metadata={"Software": None})
    return [(title, f"{folder.name}/{name}") for title, name, _ in plots]


def _draw_lengths(figure: Figure, stats: RunStats) -> None:
    import numpy as np

    axes = figure.add_subplot()
    axes.set_title("Rationale length of the rows, by domain")
    axes.set_xlabel("characters (log scale)")
    axes.set_ylabel("rows")
    if not stats.lengths:
        axes.text(0.5, 0.5, "no rows", ha="center", va="center", transform=axes.transAxes)
        return
    # Lengths below 1 would fall off a log scale; counted at 1.
    low = max(1, min(min(counts) for counts in stats.lengths.values()))
    high = max(max(counts) for counts in stats.lengths.values())
    edges = np.geomspace(low, max(high, low) + 1, 31)
    for domain, counts in sorted(stats.lengths.items()):
        values = [max(1, length) for length in counts]
        axes.hist(values, bins=edges, weights=list(counts.values()), histtype="step", label=domain)
    axes.set_xscale("log")
    axes.legend()


def _draw_acceptance(figure: Figure, stats: RunStats) -> None:
    axes = figure.add_subplot()
    axes.set_title("Acceptance per verifier (accepted / judged attempts)")
    axes.set_xlim(0, 1.25)  # room for the labels right of a full bar
    axes.set_xticks([0, 0.25, 0.5, 0.75, 1], ["0%", "25%", "50%", "75%", "100%"])
    acceptance = stats.acceptance()
    if not acceptance:
        axes.text(0.5, 0.5, "no attempts", ha="center", va="center", transform=axes.transAxes)
        return
    rates = [c["accepted"] / c["judged"] if c["judged"] else 0.0 for c in acceptance.values()]
    bars = axes.barh(list(acceptance), rates)
    labels = [f"{c['accepted']:,}/{c['judged']:,}" for c in acceptance.values()]
    axes.bar_label(bars, labels, padding=3)
    axes.invert_yaxis()


def dataset_card(
    summary: ExportSummary,
    stats: RunStats,
    metadata: Mapping[str, Any],
    *,
    run_metrics: Mapping[str, Any] | None,
    plots: Iterable[tuple[str, str]],
) -> str:
    """The export's `README.md`: `metadata` as YAML front matter, then the summary and notes."""
    front = yaml.safe_dump(dict(metadata), sort_keys=False, allow_unicode=True)
    return f"""---
{front}---

# {metadata["pretty_name"]}

Verified reasoning traces for supervised fine-tuning, made by verified-factory: a model
answered each problem, and a verifier checked every answer, math by the final answer against
the reference, code by running the program against the problem's tests in a sandbox. The rows
hold only accepted answers: one verified rationale a row, as a user/assistant conversation.
{_split_note(summary)}
License: unknown; the terms of the model that wrote the answers and of the problem sources apply.

## Summary

{summary_markdown(stats, run_metrics, plots)}
## Files

{_files(summary)}

## Re-verify a row

Every row is accepted again by `factory verify` when fed back as a Candidate, with the user
message as `problem` and the assistant message as `response`:

{_REVERIFY}
"""


def _split_note(summary: ExportSummary) -> str:
    if not summary.test_fraction:
        return "All rows are in the `train` split.\n"
    return (
        f"A `test` split holds out about {summary.test_fraction:.0%} of the problems, chosen by\n"
        "a hash of `problem_id`: all rows of a problem (kept, rejected and preference rows\n"
        "alike) are in one split.\n"
    )


def _files(summary: ExportSummary) -> str:
    ext = summary.format
    data = "`data/train-*`" + (" and `data/test-*`" if summary.test_fraction else "")
    lines = [
        f"- {data} ({ext}): the {summary.rows:,} rows. Columns: `messages`, `id`, `problem_id`,",
        "  `domain`, `source`, `verifier`, `rationalized`, `model`, and what re-checks the row:",
        "  `reference` (math: the gold answer) and `tests` (code: the test spec as JSON text).",
        f"- `rejected/` ({ext}): the {summary.rejected:,} attempts not kept, with the verdict's",
        '  `status`, `reason` and `extracted` answer (`load_dataset(..., "rejected")`): negatives',
        "  for preference or verifier training. Accepted answers beyond the rationales kept per",
        "  problem are here too, with status `accepted`.",
    ]
    if summary.preference_shards:
        lines += [
            f"- `preference/` ({ext}): {summary.preference_pairs:,} pairs in TRL's conversational",
            '  preference format (`load_dataset(..., "preference")`, for `DPOTrainer`): `prompt`',
            "  (the user message), `chosen` (a kept answer) and `rejected` (an answer the verifier",
            "  judged wrong: status `rejected`, not a timeout) of one problem, with `problem_id`,",
            "  `domain`, `chosen_id` and `rejected_id`.",
        ]
    lines += [
        f"- `errors.jsonl`: the {summary.errors:,} problems that produced no attempt or lost",
        "  some, and why.",
        f"- `removals.jsonl`: the {summary.removals:,} removal records of curation (benchmark,",
        "  rule, record); the attempts they name are left out of every file.",
        "- `plots/`: the plots above.",
        "- `manifest.json`: the counts, the size and SHA-256 of every other file, the job",
        "  config's fingerprint, the model, the verifiers' versions and the run's metrics.",
    ]
    return "\n".join(lines)


_REVERIFY = """\
```python
import json
from datasets import load_dataset

with open("candidates.jsonl", "w") as out:
    for row in load_dataset("path/to/this/folder", split="train"):  # or its Hub id
        user, assistant = row["messages"]
        keys = ("id", "domain", "reference", "tests", "verifier")
        candidate = {k: row[k] for k in keys}
        candidate.update(problem=user["content"], response=assistant["content"])
        out.write(json.dumps(candidate) + "\\n")
```
```sh
factory verify candidates.jsonl -o verdicts.jsonl   # one Verdict per row; all accepted
```"""


def _features(fields: Iterable[pa.Field]) -> list[dict[str, Any]]:
    """The Hugging Face `features` of a schema; our scalar Arrow types print as their dtype."""
    return [{"name": f.name, **_feature_type(f.type)} for f in fields]


def _feature_type(kind: pa.DataType) -> dict[str, Any]:
    if pa.types.is_list(kind):
        item = kind.value_type
        return {"list": _features(item) if pa.types.is_struct(item) else str(item)}
    if pa.types.is_struct(kind):
        return {"struct": _features(kind)}
    return {"dtype": str(kind)}


def card_metadata(
    title: str,
    configs: list[DatasetConfig],
    split_rows: Mapping[tuple[str, Split], int],
    summary: ExportSummary,
) -> dict[str, Any]:
    """The card's YAML: the configs `datasets.load_dataset` reads, with explicit features so
    that JSON Lines shards (even empty ones) load with the same types as Parquet.

    A split without rows is left out (its empty shard stays): `datasets` cannot load an empty
    split, and one would make its whole config fail to load. The default `train` split stays.
    """
    data_files = {
        config.name: [
            {"split": split, "path": f"{config.folder}/{config.prefixes[split]}-*"}
            for (name, split), rows in split_rows.items()
            if name == config.name and (rows or (name, split) == (DEFAULT.name, "train"))
        ]
        for config in configs
    }
    listed = [config for config in configs if data_files[config.name]]
    return {
        "license": "unknown",
        "pretty_name": title,
        "task_categories": ["text-generation", "question-answering"],
        "tags": [
            "synthetic",
            "verified",
            "sft",
            *(["dpo"] if any(config.name == PREFERENCE.name for config in listed) else []),
            *summary.rows_per_domain,
        ],
        "configs": [
            {"config_name": config.name, "data_files": data_files[config.name]} for config in listed
        ],
        "dataset_info": [
            {"config_name": config.name, "features": _features(config.schema)} for config in listed
        ],
    }
