"""`factory export`: a run's kept rationales as SFT shards, with a dataset card and a manifest.

Rows stream from the committed unit files and at most one shard is held in memory. Everything is
written into a staging folder beside the destination and swapped in at the end, so a crash
leaves the previous export or the new one, never a mix of the two.
"""

from __future__ import annotations

import dataclasses
import json
import re
import shutil
import tempfile
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, Literal

import pyarrow as pa
import pyarrow.parquet as pq
import yaml
from pydantic import TypeAdapter, ValidationError

from factory.records import describe_validation_error
from factory.rows import Attempt, ProblemError, UnitRecord

ExportFormat = Literal["parquet", "jsonl"]

UNIT_NAME = re.compile(r"unit-[\w-]+\.jsonl")
"""A committed unit file; anything else in `units/` (a `.tmp` being written) is not read."""

_UNIT_RECORD: TypeAdapter[Attempt | ProblemError] = TypeAdapter(UnitRecord)

_MESSAGE = pa.struct(
    [
        pa.field("role", pa.string(), nullable=False),
        pa.field("content", pa.string(), nullable=False),
    ]
)

SFT_SCHEMA = pa.schema(
    [
        pa.field("messages", pa.list_(_MESSAGE), nullable=False),
        pa.field("id", pa.string(), nullable=False),
        pa.field("problem_id", pa.string(), nullable=False),
        pa.field("domain", pa.string(), nullable=False),
        pa.field("source", pa.string()),
        pa.field("verifier", pa.string()),
        pa.field("rationalized", pa.bool_(), nullable=False),
        pa.field("model", pa.string(), nullable=False),
        pa.field("reference", pa.string()),
        pa.field("tests", pa.string()),
    ]
)
"""The columns of `Attempt.sft_row`, fixed so that empty and non-empty shards agree."""

REJECTED_SCHEMA = pa.schema(
    [
        *SFT_SCHEMA,
        pa.field("status", pa.string(), nullable=False),
        pa.field("reason", pa.string(), nullable=False),
        pa.field("extracted", pa.string()),
    ]
)
"""A rejected attempt: the SFT columns plus why the verifier said no (negatives for preference
or verifier training)."""


class ExportError(Exception):
    """An export that cannot be made; the message names the file at fault."""


@dataclasses.dataclass(frozen=True)
class Shard:
    """One written shard: its path relative to the export folder, and its row count."""

    file: str
    rows: int


@dataclasses.dataclass(frozen=True)
class ExportSummary:
    """What an export wrote: the counts that go into the manifest, and where the files are."""

    out_dir: Path
    format: ExportFormat
    rows: int
    rows_per_domain: dict[str, int]
    rows_per_verifier: dict[str, int]
    rows_per_model: dict[str, int]
    rationalized: int
    rejected: int
    errors: int
    shards: list[Shard]
    rejected_shards: list[Shard]

    def counts(self) -> dict[str, Any]:
        """The manifest's computed part: everything but the folder."""
        data = dataclasses.asdict(self)
        del data["out_dir"]
        return data


def read_units(run_dir: Path) -> Iterator[Attempt | ProblemError]:
    """The records of every committed unit of a run, unit files in name order, streamed."""
    units = run_dir / "units"
    if not units.is_dir():
        raise ExportError(f"{run_dir}: no 'units' folder; is this a run directory?")
    for name in sorted(p.name for p in units.iterdir() if UNIT_NAME.fullmatch(p.name)):
        yield from _read_unit(units / name)


def _read_unit(path: Path) -> Iterator[Attempt | ProblemError]:
    with path.open("rb") as stream:
        for number, raw in enumerate(stream, 1):
            if not raw.strip():
                continue
            try:
                yield _UNIT_RECORD.validate_json(raw)
            except ValidationError as err:
                raise ExportError(
                    f"{path}, line {number}: {describe_validation_error(err)}"
                ) from err


def export_run(
    run_dir: Path,
    out_dir: Path,
    *,
    format: ExportFormat,
    shard_size: int,
    manifest: dict[str, Any],
) -> ExportSummary:
    """Export a run into `out_dir`, replacing an earlier export there.

    `manifest` (the config's fingerprint, the model, the verifiers' versions, run metrics) is
    written to `manifest.json` together with the counts computed here, which win on a clash.
    """
    _check_destination(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.export-", dir=out_dir.parent))
    try:
        summary = _write_records(run_dir, staging, out_dir, format, shard_size)
        manifest_text = json.dumps({**manifest, **summary.counts()}, indent=2, ensure_ascii=False)
        (staging / "manifest.json").write_text(manifest_text + "\n", encoding="utf-8")
        (staging / "README.md").write_text(_dataset_card(summary), encoding="utf-8")
        _swap_in(staging, out_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return summary


def rejected_row(attempt: Attempt) -> dict[str, Any]:
    """A rejected attempt's row: the SFT row plus the verdict's status, reason and extraction."""
    verdict = attempt.verdict
    return {
        **attempt.sft_row(),
        "status": verdict.status,
        "reason": verdict.reason,
        "extracted": verdict.extracted,
    }


def _check_destination(out_dir: Path) -> None:
    """Refuse to replace anything but an earlier export or an empty folder."""
    if out_dir.exists() and not out_dir.is_dir():
        raise ExportError(f"{out_dir} is a file, not a folder")
    if out_dir.is_dir() and any(out_dir.iterdir()) and not (out_dir / "manifest.json").is_file():
        raise ExportError(
            f"{out_dir} holds files but no manifest.json: it is not an earlier export, "
            "so it is not replaced; choose an empty or new folder"
        )


def _write_records(
    run_dir: Path, staging: Path, out_dir: Path, format: ExportFormat, shard_size: int
) -> ExportSummary:
    kept = _ShardWriter(staging, "data", "train", SFT_SCHEMA, format, shard_size)
    rejected = _ShardWriter(staging, "rejected", "rejected", REJECTED_SCHEMA, format, shard_size)
    domains: Counter[str] = Counter()
    verifiers: Counter[str] = Counter()
    models: Counter[str] = Counter()
    rationalized = errors = 0
    with (staging / "errors.jsonl").open("w", encoding="utf-8") as error_file:
        for record in read_units(run_dir):
            if isinstance(record, ProblemError):
                error_file.write(record.model_dump_json(exclude={"record"}) + "\n")
                errors += 1
            elif record.kept:
                kept.add(record.sft_row())
                domains[record.domain] += 1
                verifiers[record.verdict.verifier or "unknown"] += 1
                models[record.model] += 1
                rationalized += record.rationalized
            else:
                rejected.add(rejected_row(record))
    shards, rejected_shards = kept.close(), rejected.close()
    return ExportSummary(
        out_dir=out_dir,
        format=format,
        rows=sum(s.rows for s in shards),
        rows_per_domain=dict(sorted(domains.items())),
        rows_per_verifier=dict(sorted(verifiers.items())),
        rows_per_model=dict(sorted(models.items())),
        rationalized=rationalized,
        rejected=sum(s.rows for s in rejected_shards),
        errors=errors,
        shards=shards,
        rejected_shards=rejected_shards,
    )


class _ShardWriter:
    """Rows into shards of at most `size` rows each.

    A shard's name carries the total count, known only at the end: shards are written under
    part names and renamed by `close`, which also writes one empty shard when no row came.
    """

    def __init__(
        self,
        root: Path,
        folder: str,
        prefix: str,
        schema: pa.Schema,
        format: ExportFormat,
        size: int,
    ) -> None:
        self._folder = root / folder
        self._folder.mkdir()
        self._prefix = prefix
        self._schema = schema
        self._format = format
        self._size = size
        self._buffer: list[dict[str, Any]] = []
        self._counts: list[int] = []

    def add(self, row: dict[str, Any]) -> None:
        self._buffer.append(row)
        if len(self._buffer) == self._size:
            self._flush()

    def close(self) -> list[Shard]:
        if self._buffer or not self._counts:
            self._flush()
        total = len(self._counts)
        shards = []
        for index, rows in enumerate(self._counts):
            name = f"{self._prefix}-{index:05d}-of-{total:05d}.{self._format}"
            self._part(index).rename(self._folder / name)
            shards.append(Shard(f"{self._folder.name}/{name}", rows))
        return shards

    def _part(self, index: int) -> Path:
        return self._folder / f"{self._prefix}-{index:05d}.part"

    def _flush(self) -> None:
        path = self._part(len(self._counts))
        if self._format == "parquet":
            with pq.ParquetWriter(path, self._schema) as writer:
                # An empty shard gets no row group at all: `datasets` fails on an empty one.
                if self._buffer:
                    writer.write_table(pa.Table.from_pylist(self._buffer, schema=self._schema))
        else:
            with path.open("w", encoding="utf-8") as out:
                out.writelines(json.dumps(row, ensure_ascii=False) + "\n" for row in self._buffer)
        self._counts.append(len(self._buffer))
        self._buffer = []


def _swap_in(staging: Path, out_dir: Path) -> None:
    """Put the finished export in place of `out_dir`, putting the old one back on failure."""
    if not out_dir.exists():
        staging.rename(out_dir)
        return
    old = staging.with_name(staging.name + ".old")
    out_dir.rename(old)
    try:
        staging.rename(out_dir)
    except BaseException:
        old.rename(out_dir)
        raise
    shutil.rmtree(old)


def _features(fields: Iterable[pa.Field]) -> list[dict[str, Any]]:
    """The Hugging Face `features` of a schema; our scalar Arrow types print as their dtype."""
    return [
        {"name": f.name, "list": _features(f.type.value_type)}
        if pa.types.is_list(f.type)
        else {"name": f.name, "dtype": str(f.type)}
        for f in fields
    ]


def _card_metadata(summary: ExportSummary) -> dict[str, Any]:
    """The card's YAML: the configs `datasets.load_dataset` reads, with explicit features so
    that JSON Lines shards (even empty ones) load with the same types as Parquet."""
    return {
        "license": "unknown",
        "pretty_name": summary.out_dir.name,
        "task_categories": ["text-generation", "question-answering"],
        "tags": ["synthetic", "verified", "sft", *summary.rows_per_domain],
        "configs": [
            {
                "config_name": "default",
                "data_files": [{"split": "train", "path": "data/train-*"}],
            },
            {
                "config_name": "rejected",
                "data_files": [{"split": "train", "path": "rejected/rejected-*"}],
            },
        ],
        "dataset_info": [
            {"config_name": "default", "features": _features(SFT_SCHEMA)},
            {"config_name": "rejected", "features": _features(REJECTED_SCHEMA)},
        ],
    }


def _table(header: str, counts: dict[str, int]) -> str:
    lines = [f"| {header} | rows |", "|---|---:|"]
    lines += [f"| `{key}` | {count:,} |" for key, count in counts.items()]
    return "\n".join(lines) if counts else "(no rows)"


_REVERIFY = """\
```python
import json
from datasets import load_dataset

with open("candidates.jsonl", "w") as out:
    for row in load_dataset("{folder}", split="train"):  # this folder, or its Hub id
        user, assistant = row["messages"]
        keys = ("id", "domain", "reference", "tests", "verifier")
        candidate = {{k: row[k] for k in keys}}
        candidate.update(problem=user["content"], response=assistant["content"])
        out.write(json.dumps(candidate) + "\\n")
```
```sh
factory verify candidates.jsonl -o verdicts.jsonl   # one Verdict per row; all accepted
```"""


def _dataset_card(summary: ExportSummary) -> str:
    front = yaml.safe_dump(_card_metadata(summary), sort_keys=False, allow_unicode=True)
    models = ", ".join(f"`{model}`" for model in summary.rows_per_model) or "none (no rows)"
    return f"""---
{front}---

# {summary.out_dir.name}

Verified reasoning traces for supervised fine-tuning, made by verified-factory: a model
answered each problem, and a verifier checked every answer, math by the final answer against
the reference, code by running the program against the problem's tests in a sandbox. The
`train` split holds only accepted answers: one verified rationale a row, as a user/assistant
conversation.

- Rows: {summary.rows:,} in {len(summary.shards)} shard(s) under `data/`
- Model: {models}
- Rationalized: {summary.rationalized:,} of the {summary.rows:,} rows were solved with the
  reference given as a hint (STaR rationalization); the hint is not in the stored prompt.
- License: unknown; the terms of the model that wrote the answers and of the problem sources
  apply.

{_table("domain", summary.rows_per_domain)}

{_table("verifier", summary.rows_per_verifier)}

## Files

- `data/train-*.{summary.format}`: the rows. Columns: `messages`, `id`, `problem_id`,
  `domain`, `source`, `verifier`, `rationalized`, `model`, and what re-checks the row:
  `reference` (math: the gold answer) and `tests` (code: the test spec as JSON text).
- `rejected/rejected-*.{summary.format}`: the {summary.rejected:,} attempts the verifier did not
  accept, with its `status`, `reason` and `extracted` answer (`load_dataset(..., "rejected")`),
  negatives for preference or verifier training.
- `errors.jsonl`: the {summary.errors:,} problems that produced no attempt or lost some, and why.
- `manifest.json`: the counts, the job config's fingerprint, the model and the verifiers'
  versions.

## Re-verify a row

Every row is accepted again by `factory verify` when fed back as a Candidate, with the user
message as `problem` and the assistant message as `response`:

{_REVERIFY.format(folder=summary.out_dir.name)}
"""
