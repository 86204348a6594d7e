"""Public benchmark sets to decontaminate against: loading them, and fetching the usual ones.

A benchmark is a JSON Lines file (gzipped or not), a Parquet file, or a folder written by
`datasets.Dataset.save_to_disk` (Arrow files plus `state.json`; read with pyarrow, so the
`datasets` package is not needed to load one). Its kind is recognised by the published field
names (`SCHEMAS`); a folder of such files or datasets loads them all.
"""

from __future__ import annotations

import gzip
import json
import os
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from verified_factory.errors import FactoryError

Domain = Literal["code", "math"]


class BenchmarkError(FactoryError, ValueError):
    """A benchmark that cannot be read or fetched; the message says which and what to do."""


class UnknownBenchmark(BenchmarkError):
    """A file whose fields are none of the known benchmarks'."""


@dataclass(frozen=True)
class BenchmarkItem:
    """One benchmark problem, reduced to the texts a copy of it could share with our data."""

    benchmark: str
    item_id: str
    domain: Domain
    problem: str
    solution: str
    tests: str = ""


@dataclass(frozen=True)
class Schema:
    """How one published benchmark names its fields.

    A file is one when it has the problem field and, for code, the solution field too: a math
    benchmark may come without solutions (a MATH-500 variant with `answer` only).
    """

    name: str
    domain: Domain
    problem: str
    solution: str
    tests: str | None = None

    @property
    def required(self) -> tuple[str, ...]:
        return (self.problem, self.solution) if self.domain == "code" else (self.problem,)

    def matches(self, fields: set[str]) -> bool:
        return set(self.required) <= fields


SCHEMAS = (
    Schema("HumanEval", "code", "prompt", "canonical_solution", "test"),
    Schema("MBPP", "code", "text", "code", "test_list"),
    Schema("MBPP (sanitized)", "code", "prompt", "code", "test_list"),
    Schema("MATH", "math", "problem", "solution"),
    Schema("GSM8K", "math", "question", "answer"),
)
"""First match wins: HumanEval before the MBPP variant that also has `prompt`."""

_ID_FIELDS = ("task_id", "unique_id", "id")
_FILE_SUFFIXES = (".jsonl", ".jsonl.gz", ".parquet")


def load_benchmarks(paths: Sequence[Path]) -> list[BenchmarkItem]:
    """Every item of every benchmark file or folder in `paths`, in order."""
    items: list[BenchmarkItem] = []
    for path in paths:
        loaded = list(_load_path(Path(path)))
        if not loaded:
            raise BenchmarkError(f"benchmark {path} holds no items")
        items += loaded
    return items


def _load_path(path: Path) -> Iterator[BenchmarkItem]:
    if path.is_dir():
        yield from _load_folder(path)
    elif path.is_file():
        try:
            records = _read_file(path)
        except BenchmarkError:
            raise
        except (OSError, ValueError) as err:  # a broken gzip or Parquet file, a bad encoding
            raise BenchmarkError(f"cannot read benchmark {path}: {err}") from err
        yield from _items(path, _benchmark_name(path), records)
    else:
        raise BenchmarkError(f"benchmark {path} does not exist")


def _load_folder(folder: Path) -> Iterator[BenchmarkItem]:
    if (folder / "state.json").is_file():
        yield from _items(folder, folder.name, _read_saved_dataset(folder))
        return
    if (folder / "dataset_dict.json").is_file():
        splits = json.loads((folder / "dataset_dict.json").read_text())["splits"]
        for split in splits:
            yield from _items(
                folder / split, f"{folder.name}/{split}", _read_saved_dataset(folder / split)
            )
        return
    for entry in sorted(folder.iterdir()):
        if entry.is_dir() or entry.name.endswith(_FILE_SUFFIXES):
            try:
                yield from _load_path(entry)
            except UnknownBenchmark as err:
                # A folder may hold other data beside its benchmarks; a file named on its own
                # must be one.
                sys.stderr.write(f"warning: skipped {err}\n")


def _benchmark_name(path: Path) -> str:
    name = path.name
    for suffix in _FILE_SUFFIXES:
        name = name.removesuffix(suffix)
    return name


def _read_file(path: Path) -> list[dict[str, Any]]:
    if path.name.endswith(".parquet"):
        import pyarrow.parquet as pq

        return pq.read_table(path).to_pylist()
    opener = gzip.open if path.suffix == ".gz" else open
    records = []
    with opener(path, "rt", encoding="utf-8") as stream:
        for number, line in enumerate(stream, 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as err:
                raise BenchmarkError(f"{path} line {number} is not JSON: {err.msg}") from err
            if not isinstance(record, dict):
                raise BenchmarkError(f"{path} line {number} is not a JSON object")
            records.append(record)
    return records


def _read_saved_dataset(folder: Path) -> list[dict[str, Any]]:
    """The rows of a `save_to_disk` folder: its Arrow files (IPC streams) in `state.json` order."""
    import pyarrow as pa

    state = json.loads((folder / "state.json").read_text())
    names = [entry["filename"] for entry in state.get("_data_files", [])]
    files = [folder / name for name in names] or sorted(folder.glob("*.arrow"))
    rows: list[dict[str, Any]] = []
    for file in files:
        with pa.memory_map(str(file)) as source:
            try:
                table = pa.ipc.open_stream(source).read_all()
            except pa.ArrowInvalid:
                table = pa.ipc.open_file(source).read_all()
        rows.extend(table.to_pylist())
    return rows


def _items(path: Path, name: str, records: list[dict[str, Any]]) -> Iterator[BenchmarkItem]:
    if not records:
        return
    fields = set(records[0])
    schema = next((s for s in SCHEMAS if s.matches(fields)), None)
    if schema is None:
        known = "; ".join(f"{s.name}: {' + '.join(s.required)}" for s in SCHEMAS)
        raise UnknownBenchmark(
            f"{path} is not a benchmark this knows: its fields are {', '.join(sorted(fields))}; "
            f"expected one of {known}"
        )
    for row, record in enumerate(records):
        yield BenchmarkItem(
            benchmark=name,
            item_id=_item_id(record, row),
            domain=schema.domain,
            problem=_text(record.get(schema.problem)),
            solution=_text(record.get(schema.solution)),
            tests=_text(record.get(schema.tests)) if schema.tests else "",
        )


def _item_id(record: dict[str, Any], row: int) -> str:
    for field in _ID_FIELDS:
        if record.get(field) is not None:
            return str(record[field])
    return str(row)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return "\n".join(_text(v) for v in value)
    return str(value)


def default_benchmark_folder() -> Path:
    """Where `factory benchmarks pull` puts the benchmarks: `$FACTORY_BENCHMARKS`, else a cache."""
    if folder := os.environ.get("FACTORY_BENCHMARKS"):
        return Path(folder).expanduser()
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "verified-factory" / "benchmarks"


def benchmark_paths(against: Sequence[Path]) -> list[Path]:
    """The benchmarks to use: `against`, or the default folder, which must then hold some."""
    if against:
        return [Path(p) for p in against]
    folder = default_benchmark_folder()
    if folder.is_dir() and any(folder.iterdir()):
        return [folder]
    raise BenchmarkError(
        f"no benchmarks to decontaminate against: {folder} is empty or missing. "
        "Run `factory benchmarks pull` to fetch HumanEval, MBPP, GSM8K and MATH-500 there, "
        "or name benchmark files with --against"
    )


@dataclass(frozen=True)
class _Pull:
    file: str
    repo: str
    config: str | None
    split: str


PULLED = (
    _Pull("HumanEval.jsonl.gz", "openai/openai_humaneval", None, "test"),
    _Pull("mbpp.jsonl", "google-research-datasets/mbpp", "full", "train+test+validation+prompt"),
    _Pull("gsm8k.jsonl", "openai/gsm8k", "main", "test"),
    _Pull("math500.jsonl", "HuggingFaceH4/MATH-500", None, "test"),
)
"""All of MBPP, not only its test split: its train and prompt splits are benchmarks' few-shots.
HumanEval and MBPP take their upstream file names, the names the repository's copies have."""


def pull_benchmarks(folder: Path) -> list[Path]:
    """Fetch HumanEval, MBPP, GSM8K (test) and MATH-500 from the Hugging Face Hub as JSON Lines."""
    try:
        import datasets
    except ImportError as err:
        raise BenchmarkError(
            "fetching benchmarks needs the `datasets` package, which is not installed: "
            "`pip install datasets`, or download the files yourself and pass them with --against"
        ) from err
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for pull in PULLED:
        try:
            rows = datasets.load_dataset(pull.repo, pull.config, split=pull.split)
        except Exception as err:  # the hub's failures come as many types: offline, moved, gated
            raise BenchmarkError(
                f"cannot fetch {pull.repo} from the Hugging Face Hub "
                f"({type(err).__name__}: {err}); is the network up? "
                "Otherwise pass benchmark files with --against"
            ) from err
        paths.append(_write_jsonl(folder / pull.file, rows))
    return paths


def _write_jsonl(path: Path, rows: Any) -> Path:
    partial = path.with_name(path.name + ".partial")
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(partial, "wt", encoding="utf-8") as out:
        for row in rows:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
    partial.replace(path)
    return path
