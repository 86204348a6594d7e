"""`factory export`: a run's kept rationales as SFT shards, with a dataset card and a manifest.

Rows stream from the committed unit files and each shard writer holds at most one shard;
statistics are counters. Everything is written into a staging folder beside the destination and
swapped in at the end, so a crash leaves the previous export or the new one, never a mix.

An export is deterministic: the same run exported with the same arguments (and the same pyarrow
and matplotlib, whose versions the manifest records) gives byte-identical files. Units are read
in name order and records in file order; JSON keys come in a fixed order; Parquet is written with
fixed settings (its only non-data metadata is the schema and pyarrow's `created_by` version);
the plots have no timestamp; nothing records the time or the destination folder.
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib.metadata
import json
import shutil
import tempfile
from collections import defaultdict
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import IO, Any, Literal

import pyarrow as pa
import pyarrow.parquet as pq

from verified_factory.card import RunStats, by_key, dataset_card, write_plots
from verified_factory.errors import FactoryError
from verified_factory.rows import Attempt, ProblemError, ReasoningShape
from verified_factory.run_store import read_unit, read_units, unit_files

ExportFormat = Literal["parquet", "jsonl"]
Split = Literal["train", "test"]

"""A committed unit file; anything else in `units/` (a `.tmp` being written) is not read."""

PAIRS_PER_PROBLEM = 4
"""At most this many preference pairs per problem, and kept or rejected attempts considered."""

PARQUET_OPTIONS: dict[str, Any] = {
    "version": "2.6",
    "compression": "zstd",
    "compression_level": 3,
    "use_dictionary": True,
    "write_statistics": True,
    "data_page_version": "1.0",
    "store_schema": True,
    "write_page_index": False,
}
"""Every Parquet setting that changes the bytes, fixed rather than left to pyarrow's defaults."""


def _message(reasoning: ReasoningShape) -> pa.StructType:
    """A chat message; in the `field` shape with its `reasoning_content` (null but for the
    assistant's reasoning), the key chat templates with a thinking field read."""
    fields = [
        pa.field("role", pa.string(), nullable=False),
        pa.field("content", pa.string(), nullable=False),
    ]
    if reasoning == "field":
        fields.append(pa.field("reasoning_content", pa.string()))
    return pa.struct(fields)


_PROVENANCE = pa.struct(
    [
        pa.field("synthesizer", pa.string()),
        pa.field("name", pa.string()),
        pa.field("seeds", pa.list_(pa.string())),
        pa.field("round", pa.int64()),
        pa.field("operation", pa.string()),
        pa.field(
            "snippet",  # OSS-Instruct: the code the problem was drawn from
            pa.struct(
                [
                    pa.field("path", pa.string()),
                    pa.field("start", pa.int64()),
                    pa.field("end", pa.int64()),
                ]
            ),
        ),
    ]
)


def sft_schema(reasoning: ReasoningShape = "think") -> pa.Schema:
    """The columns of `Attempt.sft_row`, fixed so that empty and non-empty shards agree."""
    return pa.schema(
        [
            pa.field("messages", pa.list_(_message(reasoning)), nullable=False),
            pa.field("id", pa.string(), nullable=False),
            pa.field("problem_id", pa.string(), nullable=False),
            pa.field("domain", pa.string(), nullable=False),
            pa.field("source", pa.string()),
            pa.field("verifier", pa.string()),
            pa.field("rationalized", pa.bool_(), nullable=False),
            pa.field("model", pa.string(), nullable=False),
            pa.field("reference", pa.string()),
            pa.field("agreement", pa.float64()),
            pa.field("tests", pa.string()),
            pa.field("provenance", _PROVENANCE),
        ]
    )


def rejected_schema(reasoning: ReasoningShape = "think") -> pa.Schema:
    """An attempt not kept: the SFT columns plus why (negatives for preference or verifier
    training)."""
    return pa.schema(
        [
            *sft_schema(reasoning),
            pa.field("status", pa.string(), nullable=False),
            pa.field("reason", pa.string(), nullable=False),
            pa.field("extracted", pa.string()),
        ]
    )


def preference_schema(reasoning: ReasoningShape = "think") -> pa.Schema:
    """A pair of `preference_row`: TRL's conversational preference format, plus the pair's ids."""
    message = pa.list_(_message(reasoning))
    return pa.schema(
        [
            pa.field("prompt", message, nullable=False),
            pa.field("chosen", message, nullable=False),
            pa.field("rejected", message, nullable=False),
            pa.field("problem_id", pa.string(), nullable=False),
            pa.field("domain", pa.string(), nullable=False),
            pa.field("chosen_id", pa.string(), nullable=False),
            pa.field("rejected_id", pa.string(), nullable=False),
        ]
    )


SFT_SCHEMA = sft_schema()
REJECTED_SCHEMA = rejected_schema()
PREFERENCE_SCHEMA = preference_schema()


@dataclasses.dataclass(frozen=True)
class _Config:
    """A dataset config of the card: its folder, columns and each split's file name prefix."""

    name: str
    folder: str
    schema: pa.Schema
    prefixes: Mapping[str, str]


DEFAULT = _Config("default", "data", SFT_SCHEMA, {"train": "train", "test": "test"})
REJECTED = _Config("rejected", "rejected", REJECTED_SCHEMA, {"train": "rejected", "test": "test"})
PREFERENCE = _Config(
    "preference", "preference", PREFERENCE_SCHEMA, {"train": "train", "test": "test"}
)


def _configs(preference: bool, reasoning: ReasoningShape) -> list[_Config]:
    """The dataset configs of an export, their columns in the reasoning's shape."""
    schemas = {
        DEFAULT.name: sft_schema(reasoning),
        REJECTED.name: rejected_schema(reasoning),
        PREFERENCE.name: preference_schema(reasoning),
    }
    chosen = [DEFAULT, REJECTED, *([PREFERENCE] if preference else [])]
    return [dataclasses.replace(config, schema=schemas[config.name]) for config in chosen]


class ExportError(FactoryError):
    """An export that cannot be made; the message names the file at fault."""


@dataclasses.dataclass(frozen=True)
class Shard:
    """One written shard: its path relative to the export folder, and its row count."""

    file: str
    rows: int


@dataclasses.dataclass(frozen=True)
class FileDigest:
    """A written file's size in bytes and SHA-256 (hex)."""

    bytes: int
    sha256: str


@dataclasses.dataclass(frozen=True)
class ExportSummary:
    """What an export wrote: the counts that go into the manifest, and where the files are."""

    out_dir: Path
    format: ExportFormat
    test_fraction: float
    rows: int
    rows_per_split: dict[str, int]
    rows_per_domain: dict[str, int]
    rows_per_source: dict[str, int]
    rows_per_verifier: dict[str, int]
    rows_per_model: dict[str, int]
    rationalized: int
    rejected: int
    errors: int
    removals: int
    removed: int
    preference_pairs: int
    acceptance: dict[str, dict[str, int]]
    shards: list[Shard]
    rejected_shards: list[Shard]
    preference_shards: list[Shard]
    files: dict[str, FileDigest] = dataclasses.field(default_factory=dict)
    """Every file of the export but `manifest.json`, by its path relative to the folder."""

    def counts(self) -> dict[str, Any]:
        """The manifest's computed part: everything but the folder."""
        data = dataclasses.asdict(self)
        del data["out_dir"]
        return data


def split_of(problem_id: str, test_fraction: float) -> Split:
    """`test` for a share `test_fraction` of problem ids, else `train`.

    A hash of the id, not a draw: a problem lands in the same split in every export of every run,
    so a held-out problem never leaks into a later export's training split.
    """
    digest = hashlib.sha256(problem_id.encode("utf-8")).digest()
    return "test" if int.from_bytes(digest[:8], "big") < test_fraction * 2**64 else "train"


class _Removals:
    """Curation's removal records, in a stable order, and the attempts they name.

    A record's `record_id` names an attempt by its `id`, or all attempts of a problem by its
    `problem_id`. The records are held in memory: they are few, next to the rows.
    """

    def __init__(self, records: Iterable[Mapping[str, Any]]) -> None:
        dumped = sorted(json.dumps(dict(r), sort_keys=True, ensure_ascii=False) for r in records)
        self.records: list[dict[str, Any]] = [json.loads(line) for line in dumped]
        self.lines = [line + "\n" for line in dumped]
        missing = [r for r in self.records if r.get("record_id") is None]
        if missing:
            raise ExportError(f"a removal record without 'record_id': {missing[0]}")
        self._ids = {str(r["record_id"]) for r in self.records}

    def covers(self, attempt: Attempt) -> bool:
        return attempt.id in self._ids or attempt.problem_id in self._ids


def run_stats(run_dir: Path, removals: Iterable[Mapping[str, Any]] = ()) -> RunStats:
    """What an export of the run would count (all rows in `train`), without writing anything."""
    index = _Removals(removals)
    stats = RunStats()
    for removal in index.records:
        stats.add_removal(removal)
    for record in read_units(run_dir):
        if isinstance(record, Attempt) and index.covers(record):
            stats.removed += 1
        else:
            stats.add(record)
    return stats


def export_run(
    run_dir: Path,
    out_dir: Path,
    *,
    format: ExportFormat,
    shard_size: int,
    manifest: dict[str, Any],
    test_fraction: float = 0.0,
    preference: bool = False,
    removals: Iterable[Mapping[str, Any]] = (),
    reasoning: ReasoningShape = "think",
) -> ExportSummary:
    """Export a run into `out_dir`, replacing an earlier export there.

    `manifest` (the config's fingerprint, the model, the verifiers' versions, and under `run`
    the run's metrics, which the card summarises too) is written to `manifest.json` together
    with the counts and file digests computed here, which win on a clash.

    `test_fraction` of the problems go to a `test` split (see `split_of`); `preference` adds
    preference pairs of each problem's kept and rejected attempts; `removals` (curation's records,
    each with a `record_id`) go to `removals.jsonl`, and the attempts they name are left out;
    `reasoning` is where a reasoning model's reasoning goes (`Attempt.assistant_message`).
    """
    _check_destination(out_dir)
    if not 0 <= test_fraction < 1:
        raise ExportError(f"test_fraction must be at least 0 and below 1, not {test_fraction}")
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.export-", dir=out_dir.parent))
    try:
        configs = _configs(preference, reasoning)
        splits: list[Split] = ["train", "test"] if test_fraction else ["train"]
        exporter = _Exporter(staging, configs, splits, format, shard_size, test_fraction, reasoning)
        summary = exporter.run(run_dir, out_dir, _Removals(removals))
        metadata = _card_metadata(run_dir.resolve().name, configs, exporter.split_rows, summary)
        plots = write_plots(exporter.stats, staging / "plots")
        card = dataset_card(
            summary, exporter.stats, metadata, run_metrics=manifest.get("run"), plots=plots
        )
        (staging / "README.md").write_text(card, encoding="utf-8")
        summary = dataclasses.replace(summary, files=_digests(staging))
        full = {**manifest, "software": _software(), **summary.counts()}
        manifest_text = json.dumps(full, indent=2, ensure_ascii=False, sort_keys=True)
        (staging / "manifest.json").write_text(manifest_text + "\n", encoding="utf-8")
        _swap_in(staging, out_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return summary


def rejected_row(attempt: Attempt, reasoning: ReasoningShape = "think") -> dict[str, Any]:
    """A rejected attempt's row: the SFT row plus the verdict's status, reason and extraction."""
    verdict = attempt.verdict
    return {
        **attempt.sft_row(reasoning),
        "status": verdict.status,
        "reason": verdict.reason,
        "extracted": verdict.extracted,
    }


def preference_row(
    chosen: Attempt, rejected: Attempt, reasoning: ReasoningShape = "think"
) -> dict[str, Any]:
    """A pair in TRL's conversational preference format (explicit prompt), with its ids."""
    return {
        "prompt": [chosen.prompt_message(reasoning)],
        "chosen": [chosen.assistant_message(reasoning)],
        "rejected": [rejected.assistant_message(reasoning)],
        "problem_id": chosen.problem_id,
        "domain": chosen.domain,
        "chosen_id": chosen.id,
        "rejected_id": rejected.id,
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


class _Exporter:
    """The records of a run into the shards of each config and split, counted as they pass."""

    def __init__(
        self,
        staging: Path,
        configs: list[_Config],
        splits: list[Split],
        format: ExportFormat,
        shard_size: int,
        test_fraction: float,
        reasoning: ReasoningShape,
    ) -> None:
        self.staging = staging
        self.format = format
        self.test_fraction = test_fraction
        self.stats = RunStats()
        self.split_rows: dict[tuple[str, Split], int] = {}
        """Rows per config and split, once written."""
        self._writers = {
            (config.name, split): _ShardWriter(
                staging / config.folder, config.prefixes[split], config.schema, format, shard_size
            )
            for config in configs
            for split in splits
        }
        self._reasoning = reasoning
        preference = any(config.name == PREFERENCE.name for config in configs)
        self._pairs = _Pairs(reasoning) if preference else None

    def run(self, run_dir: Path, out_dir: Path, removals: _Removals) -> ExportSummary:
        (self.staging / "removals.jsonl").write_text("".join(removals.lines), encoding="utf-8")
        for removal in removals.records:
            self.stats.add_removal(removal)
        with (self.staging / "errors.jsonl").open("w", encoding="utf-8") as errors:
            for path in unit_files(run_dir):
                for record in read_unit(path):
                    self._record(record, removals, errors)
                self._end_unit()
        return self._close(out_dir, len(removals.records))

    def _record(self, record: Attempt | ProblemError, removals: _Removals, errors: IO[str]) -> None:
        if isinstance(record, ProblemError):
            errors.write(record.model_dump_json(exclude={"record"}) + "\n")
            self.stats.add(record)
            return
        if removals.covers(record):
            self.stats.removed += 1
            return
        split = split_of(record.problem_id, self.test_fraction)
        self.stats.add(record, split)
        if record.kept:
            self._writers[DEFAULT.name, split].add(record.sft_row(self._reasoning))
        else:
            self._writers[REJECTED.name, split].add(rejected_row(record, self._reasoning))
        if self._pairs is not None:
            self._pairs.add(record)

    def _end_unit(self) -> None:
        if self._pairs is None:
            return
        for row in self._pairs.drain():
            self._writers[PREFERENCE.name, split_of(row["problem_id"], self.test_fraction)].add(row)

    def _close(self, out_dir: Path, removals: int) -> ExportSummary:
        """Close the shard writers (filling `split_rows`); what was written."""
        shards: defaultdict[str, list[Shard]] = defaultdict(list)
        for (config, split), writer in self._writers.items():
            written = writer.close(self.staging)
            shards[config] += written
            self.split_rows[config, split] = sum(shard.rows for shard in written)
        stats = self.stats
        return ExportSummary(
            out_dir=out_dir,
            format=self.format,
            test_fraction=self.test_fraction,
            rows=stats.rows,
            rows_per_split=by_key(stats.rows_per_split),
            rows_per_domain=by_key(stats.domains),
            rows_per_source=by_key(stats.sources),
            rows_per_verifier=by_key(stats.verifiers),
            rows_per_model=by_key(stats.models),
            rationalized=stats.rationalized,
            rejected=stats.not_kept,
            errors=stats.errors,
            removals=removals,
            removed=stats.removed,
            preference_pairs=sum(s.rows for s in shards[PREFERENCE.name]),
            acceptance=stats.acceptance(),
            shards=shards[DEFAULT.name],
            rejected_shards=shards[REJECTED.name],
            preference_shards=shards[PREFERENCE.name],
        )


class _Pairs:
    """Preference pairs, made a unit at a time: all attempts of a problem commit in one unit.

    Of each problem it keeps the first `PAIRS_PER_PROBLEM` kept attempts (chosen) and the first
    as many with status `rejected` (judged wrong), in file order.
    """

    def __init__(self, reasoning: ReasoningShape) -> None:
        self._reasoning = reasoning
        self._chosen: dict[str, list[Attempt]] = {}
        self._failed: dict[str, list[Attempt]] = {}

    def add(self, attempt: Attempt) -> None:
        if attempt.kept:
            side = self._chosen
        elif attempt.verdict.status == "rejected":  # a timeout may be a right answer checked slowly
            side = self._failed
        else:
            return
        found = side.setdefault(attempt.problem_id, [])
        if len(found) < PAIRS_PER_PROBLEM:
            found.append(attempt)

    def drain(self) -> list[dict[str, Any]]:
        """The unit's pairs, problems in the order of their first kept attempt; every chosen and
        every rejected attempt is paired once before any is paired again, so no pair repeats."""
        chosen_of, failed_of = self._chosen, self._failed
        self._chosen, self._failed = {}, {}
        rows = []
        for problem_id, chosen in chosen_of.items():
            failed = failed_of.get(problem_id, [])
            for k in range(max(len(chosen), len(failed)) if failed else 0):
                pair = chosen[k % len(chosen)], failed[k % len(failed)]
                rows.append(preference_row(*pair, self._reasoning))
        return rows


class _ShardWriter:
    """Rows into shards of at most `size` rows each.

    A shard's name carries the total count, known only at the end: shards are written under
    part names and renamed by `close`, which also writes one empty shard when no row came.
    """

    def __init__(
        self, folder: Path, prefix: str, schema: pa.Schema, format: ExportFormat, size: int
    ) -> None:
        self._folder = folder
        self._folder.mkdir(exist_ok=True)
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

    def close(self, root: Path) -> list[Shard]:
        """Name the shards; their paths are given relative to `root`."""
        if self._buffer or not self._counts:
            self._flush()
        total = len(self._counts)
        shards = []
        for index, rows in enumerate(self._counts):
            path = self._folder / f"{self._prefix}-{index:05d}-of-{total:05d}.{self._format}"
            self._part(index).rename(path)
            shards.append(Shard(path.relative_to(root).as_posix(), rows))
        return shards

    def _part(self, index: int) -> Path:
        return self._folder / f"{self._prefix}-{index:05d}.part"

    def _flush(self) -> None:
        path = self._part(len(self._counts))
        if self._format == "parquet":
            with pq.ParquetWriter(path, self._schema, **PARQUET_OPTIONS) as writer:
                # An empty shard gets no row group at all: `datasets` fails on an empty one.
                if self._buffer:
                    table = pa.Table.from_pylist(self._buffer, schema=self._schema)
                    writer.write_table(table, row_group_size=len(self._buffer))
        else:
            with path.open("w", encoding="utf-8") as out:
                out.writelines(json.dumps(row, ensure_ascii=False) + "\n" for row in self._buffer)
        self._counts.append(len(self._buffer))
        self._buffer = []


def _digests(root: Path) -> dict[str, FileDigest]:
    """Size and SHA-256 of every file under `root`, by relative path, in path order."""
    digests = {}
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        with path.open("rb") as stream:
            sha256 = hashlib.file_digest(stream, "sha256").hexdigest()
        digests[path.relative_to(root).as_posix()] = FileDigest(path.stat().st_size, sha256)
    return digests


def _software() -> dict[str, str]:
    """The libraries whose versions the exported bytes depend on."""
    return {name: importlib.metadata.version(name) for name in ("matplotlib", "pyarrow")}


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
    return [{"name": f.name, **_feature_type(f.type)} for f in fields]


def _feature_type(kind: pa.DataType) -> dict[str, Any]:
    if pa.types.is_list(kind):
        item = kind.value_type
        return {"list": _features(item) if pa.types.is_struct(item) else str(item)}
    if pa.types.is_struct(kind):
        return {"struct": _features(kind)}
    return {"dtype": str(kind)}


def _card_metadata(
    title: str,
    configs: list[_Config],
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
