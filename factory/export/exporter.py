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
import importlib.metadata
import json
import shutil
import tempfile
from collections import defaultdict
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import IO, Any

from verified_factory.errors import FactoryError
from verified_factory.export.card import RunStats, by_key, card_metadata, dataset_card, write_plots
from verified_factory.export.pairs import Pairs
from verified_factory.export.shapes import (
    DEFAULT,
    PREFERENCE,
    REJECTED,
    DatasetConfig,
    Split,
    dataset_configs,
    rejected_row,
    split_of,
)
from verified_factory.export.shards import (
    ExportFormat,
    FileDigest,
    Shard,
    ShardWriter,
    digests,
    swap_in,
)
from verified_factory.rows import Attempt, ProblemError, ReasoningShape
from verified_factory.run_store import read_unit, read_units, unit_files


class ExportError(FactoryError):
    """An export that cannot be made; the message names the file at fault."""


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
        configs = dataset_configs(preference, reasoning)
        splits: list[Split] = ["train", "test"] if test_fraction else ["train"]
        exporter = _Exporter(staging, configs, splits, format, shard_size, test_fraction, reasoning)
        summary = exporter.run(run_dir, out_dir, _Removals(removals))
        metadata = card_metadata(run_dir.resolve().name, configs, exporter.split_rows, summary)
        plots = write_plots(exporter.stats, staging / "plots")
        card = dataset_card(
            summary, exporter.stats, metadata, run_metrics=manifest.get("run"), plots=plots
        )
        (staging / "README.md").write_text(card, encoding="utf-8")
        summary = dataclasses.replace(summary, files=digests(staging))
        full = {**manifest, "software": _software(), **summary.counts()}
        manifest_text = json.dumps(full, indent=2, ensure_ascii=False, sort_keys=True)
        (staging / "manifest.json").write_text(manifest_text + "\n", encoding="utf-8")
        swap_in(staging, out_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return summary


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
        configs: list[DatasetConfig],
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
            (config.name, split): ShardWriter(
                staging / config.folder, config.prefixes[split], config.schema, format, shard_size
            )
            for config in configs
            for split in splits
        }
        self._reasoning = reasoning
        preference = any(config.name == PREFERENCE.name for config in configs)
        self._pairs = Pairs(reasoning) if preference else None

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


def _software() -> dict[str, str]:
    """The libraries whose versions the exported bytes depend on."""
    return {name: importlib.metadata.version(name) for name in ("matplotlib", "pyarrow")}
