"""The files of an export: rows into numbered shards (Parquet with fixed settings, or JSON
Lines), their digests, and the swap that puts a finished export in place of the old one."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import shutil
from pathlib import Path
from typing import Any, Literal

import pyarrow as pa
import pyarrow.parquet as pq

ExportFormat = Literal["parquet", "jsonl"]


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


class ShardWriter:
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


def digests(root: Path) -> dict[str, FileDigest]:
    """Size and SHA-256 of every file under `root`, by relative path, in path order."""
    digests = {}
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        with path.open("rb") as stream:
            sha256 = hashlib.file_digest(stream, "sha256").hexdigest()
        digests[path.relative_to(root).as_posix()] = FileDigest(path.stat().st_size, sha256)
    return digests


def swap_in(staging: Path, out_dir: Path) -> None:
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
