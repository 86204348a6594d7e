"""Problem files: JSON Lines (gzipped or not) or Parquet, one Problem a record.

A bad record does not stop the reading: it comes out as a RecordError that names its line (the
row, for Parquet) and its fields, in the place where the Problem would have been.
"""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from pathlib import Path

from verified_factory.records import Problem, RecordError, decode_line, parse_record

PARQUET_BATCH_ROWS = 1024


def read_problems(path: Path) -> Iterator[Problem | RecordError]:
    """Every record of a Problem file, in order; bad ones as RecordError."""
    if path.suffix == ".parquet":
        yield from _read_parquet(path)
        return
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as stream:
        for number, raw in enumerate(stream, 1):
            line = raw.rstrip(b"\r\n")
            if not line.strip():
                continue  # a blank line in a source file is not a record
            try:
                yield decode_line(Problem, number, line)
            except RecordError as err:
                yield err


def _read_parquet(path: Path) -> Iterator[Problem | RecordError]:
    import pyarrow.parquet as pq

    row = 0
    for batch in pq.ParquetFile(path).iter_batches(batch_size=PARQUET_BATCH_ROWS):
        for record in batch.to_pylist():
            row += 1
            try:
                yield parse_record(Problem, record, line=row)
            except RecordError as err:
                yield err
