"""The run directory: the job's only state, on the driver's node.

    RUN_DIR/config.json                  the job config the run was started with
    RUN_DIR/completions/unit-NNNNNN.jsonl every completion, appended the moment it arrives
    RUN_DIR/units/unit-NNNNNN.jsonl       a unit's attempts and errors, committed atomically
    RUN_DIR/units/unit-NNNNNN.retry       the unit has failures a resumed run should retry
    RUN_DIR/metrics.json, RUN_DIR/export/

This module is the one that writes the run directory and reads it back (`read_units`). A unit
file appears whole or not at all (written beside, flushed to disk, renamed), so a committed unit
is never redone. Completions are keyed by their request's hash; a resumed run
reads back those of its unfinished units and buys only the rest. A `kill -9` in the middle of
an append leaves at most one torn last line, which reading skips.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter, ValidationError

from verified_factory.config import JobConfig
from verified_factory.errors import FactoryError
from verified_factory.models.base import Completion
from verified_factory.records import describe_validation_error
from verified_factory.rows import Attempt, ProblemError, UnitRecord


class RunDirError(FactoryError, RuntimeError):
    """The run directory cannot be used as asked; the message says what to do."""


UNIT_NAME = re.compile(r"unit-[\w-]+\.jsonl")
"""A committed unit file; anything else in `units/` (a `.tmp` being written) is not read."""
_UNIT_RECORD: TypeAdapter[Attempt | ProblemError] = TypeAdapter(UnitRecord)


def read_units(run_dir: Path) -> Iterator[Attempt | ProblemError]:
    """The records of every committed unit of a run, unit files in name order, streamed."""
    for path in unit_files(run_dir):
        yield from read_unit(path)


def unit_files(run_dir: Path) -> list[Path]:
    """The committed unit files of a run, in name order."""
    units = run_dir / "units"
    if not units.is_dir():
        raise RunDirError(f"{run_dir}: no 'units' folder; is this a run directory?")
    return sorted(p for p in units.iterdir() if UNIT_NAME.fullmatch(p.name))


def read_unit(path: Path) -> Iterator[Attempt | ProblemError]:
    """The records of one unit file, streamed; a line that does not fit names its place."""
    with path.open("rb") as stream:
        for number, raw in enumerate(stream, 1):
            if not raw.strip():
                continue
            try:
                yield _UNIT_RECORD.validate_json(raw)
            except ValidationError as err:
                raise RunDirError(
                    f"{path}, line {number}: {describe_validation_error(err)}"
                ) from err


class RunStore:
    def __init__(self, run_dir: Path) -> None:
        self.run_dir = run_dir
        self.units_dir = run_dir / "units"
        self.completions_dir = run_dir / "completions"

    @classmethod
    def open(cls, run_dir: Path, config: JobConfig, *, resume: bool) -> RunStore:
        """Start a run in `run_dir`, or continue the one there when `resume` is set."""
        store = cls(run_dir)
        config_file = run_dir / "config.json"
        current = config.model_dump(mode="json")
        if config_file.exists() and store._has_work():
            if not resume:
                raise RunDirError(
                    f"{run_dir} already holds a run; pass --resume to continue it, "
                    "or choose another run directory with --out"
                )
            before = json.loads(config_file.read_text(encoding="utf-8"))
            changed = sorted(
                key for key, value in _pinned(current).items() if _pinned(before).get(key) != value
            )
            if changed:
                raise RunDirError(
                    f"{run_dir} was started with other settings for {', '.join(changed)}, "
                    "which decide what the run produces; resume with the same values, "
                    "or start a new run with --out"
                )
        run_dir.mkdir(parents=True, exist_ok=True)
        store.units_dir.mkdir(exist_ok=True)
        store.completions_dir.mkdir(exist_ok=True)
        if not store._has_work():  # a run that never got going (say, the endpoint was down)
            write_atomically(config_file, json.dumps(current, indent=2, sort_keys=True))
        return store

    def _has_work(self) -> bool:
        """Whether anything was bought or committed here."""
        return any(
            folder.is_dir() and any(folder.iterdir())
            for folder in (self.units_dir, self.completions_dir)
        )

    def committed_units(self) -> set[int]:
        """Units that are done: committed, and with nothing a later session should retry."""
        retry = {p.name.removesuffix(".retry") for p in self.units_dir.glob("unit-*.retry")}
        return {
            int(p.stem.removeprefix("unit-"))
            for p in self.units_dir.glob("unit-*.jsonl")
            if p.stem not in retry
        }

    def stored_completions(self, path: Path) -> dict[str, Completion]:
        """The completions stored in the log `path`, by request key."""
        found: dict[str, Completion] = {}
        if not path.exists():
            return found
        with path.open("rb") as stream:
            for raw in stream:
                try:
                    completion = Completion.model_validate_json(raw)
                except ValidationError:
                    continue  # the torn last line of an append cut short by a kill
                found[completion.key] = completion
        return found

    @staticmethod
    def append_completions(path: Path, completions: Iterable[Completion]) -> None:
        """Append `completions` to the log `path`, one line each, flushed."""
        with path.open("a", encoding="utf-8") as stream:
            stream.writelines(completion_line(c) for c in completions)

    def completions_file(self, unit: int) -> Path:
        """Where `unit`'s completions are appended, one JSON line each, the moment each
        arrives: by the generation worker on the driver's node, by the driver for the others."""
        return self.completions_dir / f"unit-{unit:06d}.jsonl"

    def synthesis_log(self, name: str) -> Path:
        """Where synthesizer `name`'s completions are appended."""
        return self.completions_dir / f"synthesis-{name}.jsonl"

    def synthesized_file(self, name: str) -> Path:
        """The problems synthesizer `name` made (its drops beside it, `NAME.dropped.jsonl`)."""
        return self.run_dir / "synthesized" / f"{name}.jsonl"

    def commit(
        self, unit: int, records: Iterable[Attempt | ProblemError], *, retry: bool = False
    ) -> None:
        """Write the unit's records as one file that appears whole or not at all.

        `retry` marks a unit whose failures may pass (the endpoint down, a sandbox error): it is
        exported as it is, and a `--resume` runs it again, from its stored completions.
        """
        text = "".join(record.model_dump_json() + "\n" for record in records)
        marker = self.units_dir / f"unit-{unit:06d}.retry"
        if retry:
            marker.touch()
        write_atomically(self.units_dir / f"unit-{unit:06d}.jsonl", text)
        if not retry:
            marker.unlink(missing_ok=True)


def completion_line(completion: Completion) -> str:
    """A completion as its log stores it."""
    return completion.model_dump_json() + "\n"


_PINNED_MODEL_KEYS = ("backend", "model", "temperature", "max_tokens", "offline_error_rate")


def _pinned(dumped: dict[str, Any]) -> dict[str, Any]:
    """The settings that decide what a run produces, flattened (`model.temperature`).

    Throughput, limits, workers, sandbox and export settings may change between sessions.
    """
    pinned = {f"{section}": dumped.get(section) for section in ("source", "solve", "star")}
    model = dumped.get("model") or {}
    pinned.update({f"model.{key}": model.get(key) for key in _PINNED_MODEL_KEYS})
    verify = dumped.get("verify") or {}
    for key in ("differential", "self_consistency", "dual_agreement"):
        pinned[f"verify.{key}"] = verify.get(key)
    return pinned


def write_atomically(path: Path, text: str) -> None:
    """`text` into `path`, which holds the old text or the new, never a part."""
    temporary = path.with_name(path.name + ".tmp")
    with temporary.open("w", encoding="utf-8") as stream:
        stream.write(text)
        stream.flush()
        os.fsync(stream.fileno())
    os.replace(temporary, path)
