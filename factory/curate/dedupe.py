"""Deduplication of problems and rationales, exact and near, one record at a time.

A text is read as tokens: lower-cased runs of word characters and runs of punctuation. So case,
white space and the spacing around punctuation never make two texts different.

- exact: equal token sequences (a 128-bit BLAKE2 hash of them).
- near: the sets of 5-token shingles have a Jaccard similarity of at least the threshold, the
  texts hold the same literals in the same order (numbers, formulas `$...$` `\\(...\\)`
  `\\[...\\]`, code spans and short quoted strings, white space aside), and no run of up to
  `SUBSTITUTION_TOKENS` tokens of one stands where another run stands in the other.

Near duplicates are copies that drifted: reformatted, a prefix or a closing sentence added or
dropped, a passage reworded. A template makes new problems another way: it puts other numbers,
formulas, quoted strings or words in the same places (9 for 7, `x^2 - 1` for `x^2 - x - 1`,
`' '` for `','`, "smallest" for "largest", "Mei" for "Maya"), which on a long statement still
leaves a Jaccard similarity of 0.9 and more. So a changed literal or a word put in place of another
makes another problem (or rationale), however much text the two share: none of the 23,865
distinct problems the built-in generators make from 20 seeds is a duplicate of another. The price:
a copy that swaps a word for a synonym is not found.

Five tokens a shingle: a shingle then spans a formula or a clause, so texts that merely share
vocabulary and phrasing (the problems of one generator, behind the same prompt) stay apart, and an
edit costs at most five shingles, so a reformatted or extended copy of a paragraph stays above the
threshold.

The policy over a run's kept rows (`RowDeduper`):

- a problem (the user message of its first row) is checked against every earlier problem of its
  domain: the earlier exports' (`seed_from_exports`), then the run's, in order, through a
  `Deduper`: candidates from MinHash LSH (128 permutations in 16 bands of 8), then the rules above.
  A repeated problem keeps its first occurrence's rows only: every row of the repeat is dropped,
  and the repeat is reported (`RowDeduper.repeated_problems`). So no problem holds more than
  `solve.keep` rationales across runs and sources, and none gets twice the weight.
- a row of a new problem is dropped when its rationale duplicates one of the problem's earlier
  rows: problem and rationale both repeat. A problem holds a handful of rows, so they are
  compared pairwise, with no index. A rationale shared by two different problems is kept: the
  problems differ, so the rows do too; and an earlier export's rows need not be seen for this,
  as their problems' repeats are dropped whole.

Where it is held: on disk, so that a run of millions of rows curates in bounded memory. The texts,
the LSH bands and each problem's rationales are tables of a private SQLite database in a temporary
file (`scratch_database`), deleted when the dedupe closes; SQLite keeps `CACHE_MIB` of its pages
in memory and the operating system's page cache the rest. A band's key holds the text's scope and
literals besides its eight MinHash values: texts of another scope or other literals are never near
duplicates, so they are never proposed, and the templates' many problems that differ only in their
numbers do not pile up behind one key. The same candidates as an in-memory LSH, the same rules;
`bench/dedupe_speed.py` measures both on 100,000 rows and the disk one on 2 million.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import re
import sqlite3
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, NamedTuple

import numpy as np
import pyarrow.parquet as pq
from datasketch import MinHashLSH

from verified_factory.config import DedupeConfig
from verified_factory.errors import FactoryError
from verified_factory.rows import Attempt

SHINGLE_TOKENS = 5
NUM_PERM = 128
SUBSTITUTION_TOKENS = 3
"""The longest run of tokens put in place of another that makes two texts different."""
LSH_WEIGHTS = (0.005, 0.995)
"""Weights of false positives and false negatives when `datasketch` picks its bands: a false
positive costs a comparison, a false negative a duplicate let through. With 128 permutations this
gives 16 bands of 8 rows: a pair at a Jaccard similarity of 0.85 becomes a candidate with
probability 0.994, at 0.9 with 0.9999 (the balanced default: 0.46 and 0.81; 14 bands of 9, the
weights 0.03 and 0.97 until the bands held the literals: 0.975 and 0.999). A false positive is
cheap, as a band's key holds the text's literals: only texts with the same ones are compared."""
CACHE_MIB = 64
"""The pages of the dedupe's database that SQLite keeps in memory."""
COMMIT_EVERY = 4096
"""Writes to the database between commits: each commit hands SQLite's dirty pages to the file."""

_TOKEN = re.compile(rb"[\w\x80-\xff]+|[^\w\s\x80-\xff]+")
_LITERAL = re.compile(
    r"\$\$.+?\$\$|\$[^$\n]+\$|\\\(.+?\\\)|\\\[.+?\\\]"  # formulas
    r"|(?<!`)`[^`\n]+`(?!`)|'[^'\n]{0,12}'|\"[^\"\n]{0,40}\"|\d+",  # code, quotes, numbers
    re.DOTALL,
)
_SPACE = re.compile(r"\s+")
# Odd multipliers, each a bijection modulo 2**64, so that a shingle's hash depends on every token.
_MIXERS = np.random.default_rng(20240601).integers(0, 2**63, SHINGLE_TOKENS, np.uint64) * 2 + 1
# The MinHash permutations: multiply-shift hashes of the 32-bit shingles, an odd multiplier each.
_PERMUTE_A = np.random.default_rng(20240602).integers(0, 2**63, NUM_PERM, np.uint64) * 2 + 1
_PERMUTE_B = np.random.default_rng(20240603).integers(0, 2**63, NUM_PERM, np.uint64)


@dataclass(frozen=True)
class Match:
    """The earlier record a text duplicates; `jaccard` is None for an exact duplicate."""

    of: str
    jaccard: float | None = None

    def describe(self) -> str:
        return "exact" if self.jaccard is None else f"near (jaccard≈{self.jaccard:.2f})"


class _Text(NamedTuple):
    """What a text is compared by: its tokens' hash, the tokens (hashed to 32 bits, 4 bytes
    each) and a hash of its literals."""

    digest: bytes
    words: np.ndarray
    literals: int


def _read(text: str) -> _Text:
    tokens = _TOKEN.findall(text.lower().encode())
    digest = hashlib.blake2b(b" ".join(tokens), digest_size=16).digest()
    words = np.fromiter(map(zlib.crc32, tokens), dtype=np.uint32, count=len(tokens))
    return _Text(digest, words, hash(_SPACE.sub("", "\0".join(_LITERAL.findall(text)))))


def _shingles(words: np.ndarray) -> np.ndarray:
    """The sorted set of 32-bit hashes of the runs of `SHINGLE_TOKENS` tokens (a shorter text
    is one run)."""
    words = words.astype(np.uint64) if len(words) else np.zeros(1, dtype=np.uint64)
    width = min(SHINGLE_TOKENS, len(words))
    runs = len(words) - width + 1
    mixed = np.zeros(runs, dtype=np.uint64)
    for offset in range(width):
        mixed += words[offset : offset + runs] * _MIXERS[offset]
    return np.unique((mixed >> np.uint64(32)).astype(np.uint32))


def _minhash(shingles: np.ndarray) -> np.ndarray:
    """The `NUM_PERM` minimum hashes of a text's shingles."""
    hashed = shingles.astype(np.uint64)[:, None] * _PERMUTE_A + _PERMUTE_B
    return (hashed >> np.uint64(32)).min(axis=0).astype(np.uint32)


def _near(text: _Text, shingles: np.ndarray, other: _Text, threshold: float) -> float | None:
    """The Jaccard similarity of two texts that are near duplicates, None for two that are not."""
    if text.literals != other.literals:
        return None
    others = _shingles(other.words)
    common = len(np.intersect1d(shingles, others, assume_unique=True))
    jaccard = common / (len(shingles) + len(others) - common)
    if jaccard < threshold or _substituted(text.words, other.words):
        return None
    return jaccard


def _substituted(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether a short run of tokens of `a` stands where another run stands in `b`."""
    matcher = difflib.SequenceMatcher(None, a.tolist(), b.tolist(), autojunk=False)
    return any(
        tag == "replace" and max(i2 - i1, j2 - j1) <= SUBSTITUTION_TOKENS
        for tag, i1, i2, j1, j2 in matcher.get_opcodes()
    )


def scratch_database() -> sqlite3.Connection:
    """A private SQLite database in a temporary file, deleted when it is closed."""
    database = sqlite3.connect("", check_same_thread=False)
    database.execute(f"PRAGMA cache_size = -{CACHE_MIB * 1024}")
    database.execute("PRAGMA journal_mode = OFF")
    database.execute("PRAGMA synchronous = OFF")
    return database


class _Writes:
    """Commits the database every `COMMIT_EVERY` writes, so no transaction grows with the run."""

    def __init__(self, database: sqlite3.Connection) -> None:
        self.database = database
        self._pending = 0

    def many(self, statement: str, rows: Iterable[tuple[Any, ...]]) -> None:
        self.database.executemany(statement, rows)
        self._pending += 1
        if self._pending >= COMMIT_EVERY:
            self.database.commit()
            self._pending = 0


class Deduper:
    """Texts seen so far, indexed; each new one is either a duplicate of an earlier one or added.

    A `scope` partitions the records: a text only ever duplicates one of its own scope. The index
    is three tables of `database` (a scratch database of its own when none is given).
    """

    def __init__(self, threshold: float, database: sqlite3.Connection | None = None) -> None:
        self._threshold = threshold
        lsh = MinHashLSH(threshold=threshold, num_perm=NUM_PERM, weights=LSH_WEIGHTS)
        self._bands = [slice(band * lsh.r, (band + 1) * lsh.r) for band in range(lsh.b)]
        self._writes = _Writes(database or scratch_database())
        self._database = self._writes.database
        self._database.executescript(
            """
            CREATE TABLE texts (id INTEGER PRIMARY KEY, record TEXT, words BLOB);
            CREATE TABLE exact (digest BLOB PRIMARY KEY, record TEXT) WITHOUT ROWID;
            CREATE TABLE bands (key INTEGER, text INTEGER, PRIMARY KEY (key, text)) WITHOUT ROWID;
            """
        )
        self._candidates = (
            "SELECT record, words FROM texts WHERE id IN (SELECT text FROM bands WHERE key IN "
            f"({', '.join('?' * len(self._bands))})) ORDER BY id"
        )
        self._count = 0

    def __len__(self) -> int:
        return self._count

    def first_seen(self, text: str, record_id: str, scope: str = "") -> Match | None:
        """The earliest record `text` duplicates, or None after adding it as `record_id`."""
        read = _read(text)
        digest = _hash(scope.encode(), read.digest)
        exact = self._database.execute("SELECT record FROM exact WHERE digest = ?", (digest,))
        if earlier := exact.fetchone():
            return Match(earlier[0])
        shingles = _shingles(read.words)
        keys = self._band_keys(_minhash(shingles), scope, read.literals)
        # A candidate shares a band key with the text, so its scope and literals too.
        for record, words in self._database.execute(self._candidates, keys):
            jaccard = _near(read, shingles, _stored(b"", words, read.literals), self._threshold)
            if jaccard is not None:
                return Match(record, jaccard)
        self._count += 1
        words = read.words.tobytes()
        self._writes.many("INSERT INTO texts VALUES (?, ?, ?)", [(self._count, record_id, words)])
        self._writes.many("INSERT INTO exact VALUES (?, ?)", [(digest, record_id)])
        bands = [(key, self._count) for key in keys]
        self._writes.many("INSERT OR IGNORE INTO bands VALUES (?, ?)", bands)
        return None

    def _band_keys(self, minhash: np.ndarray, scope: str, literals: int) -> list[int]:
        """A key for each band: its MinHash values, the band's number, the scope and literals."""
        prefix = f"{scope}\0{literals}\0".encode()
        keys = (_hash(prefix, bytes([n]), minhash[b].tobytes()) for n, b in enumerate(self._bands))
        return [int.from_bytes(key[:8], "big", signed=True) for key in keys]


def _stored(digest: bytes, words: bytes, literals: int) -> _Text:
    return _Text(digest, np.frombuffer(words, np.uint32), literals)


def _hash(*parts: bytes) -> bytes:
    return hashlib.blake2b(b"\0".join(parts), digest_size=16).digest()


@dataclass(frozen=True)
class Dropped:
    """A kept row that dedupe drops: what repeats (its problem or its rationale) and of what.

    `match.of` is the earlier problem's id for a repeated problem, the earlier row's id for a
    repeated rationale.
    """

    id: str
    problem_id: str
    what: Literal["problem", "rationale"]
    match: Match

    @property
    def reason(self) -> str:
        return f"duplicate of {self.match.of}: {self.match.describe()}"


class RowDeduper:
    """The policy of the module's docstring over a stream of kept rows; close it when done (or
    use it as a context manager), which deletes its database."""

    def __init__(self, threshold: float) -> None:
        self._threshold = threshold
        self._database = scratch_database()
        self._problems = Deduper(threshold, self._database)
        self._writes = _Writes(self._database)
        self._database.executescript(
            """
            CREATE TABLE rationales (
                problem TEXT, row TEXT, digest BLOB, words BLOB, literals INTEGER
            );
            CREATE INDEX rationales_of_a_problem ON rationales (problem);
            """
        )
        self.repeated_problems: dict[str, Match] = {}
        """Each repeated problem of the run and the earlier problem it repeats."""

    def __enter__(self) -> RowDeduper:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        self._database.close()

    def seed_from_exports(self, paths: Iterable[Path]) -> int:
        """Count the problems of earlier runs' exports as seen; returns the rows read."""
        rows = 0
        for path in paths:
            for row in export_rows(path):
                rows += 1
                self._problems.first_seen(row.problem, f"{row.problem_id} in {path}", row.domain)
        return rows

    def check(self, row: Attempt) -> Dropped | None:
        """Why the kept `row` is dropped, or None when it stays (and counts as seen)."""
        repeat = self._problem_match(row)
        if repeat is not None:
            return Dropped(row.id, row.problem_id, "problem", repeat)
        match = self._rationale_match(row)
        return None if match is None else Dropped(row.id, row.problem_id, "rationale", match)

    def _problem_match(self, row: Attempt) -> Match | None:
        """The earlier problem the row's repeats; a problem's later rows find its first row's
        record, itself, which is no repeat."""
        problem = row.messages[0].content
        match = self._problems.first_seen(problem, row.problem_id, row.domain)
        if match is None or match.of == row.problem_id:
            return None
        self.repeated_problems[row.problem_id] = match
        return match

    def _rationale_match(self, row: Attempt) -> Match | None:
        """The problem's earliest row whose rationale the row's duplicates; else it is added."""
        read = _read(row.rationale)
        earlier = self._database.execute(
            "SELECT row, digest, words, literals FROM rationales WHERE problem = ? ORDER BY rowid",
            (row.problem_id,),
        ).fetchall()
        for row_id, digest, _, _ in earlier:
            if digest == read.digest:
                return Match(row_id)
        shingles = _shingles(read.words)
        for row_id, digest, words, literals in earlier:
            jaccard = _near(read, shingles, _stored(digest, words, literals), self._threshold)
            if jaccard is not None:
                return Match(row_id, jaccard)
        self._writes.many(
            "INSERT INTO rationales VALUES (?, ?, ?, ?, ?)",
            [(row.problem_id, row.id, read.digest, read.words.tobytes(), read.literals)],
        )
        return None


@dataclass(frozen=True)
class DedupeReport:
    """What dedupe of a run found: rows read from earlier exports, kept rows checked, the rows
    dropped (in order) and the repeated problems (problem id → the earlier one)."""

    seeded: int
    checked: int
    dropped: list[Dropped]
    repeated_problems: dict[str, Match]


def dedupe_kept(attempts: Iterable[Attempt], config: DedupeConfig) -> DedupeReport:
    """Apply the policy to the kept attempts of `attempts`, in order, after seeding `against`."""
    with RowDeduper(config.near_threshold) as deduper:
        seeded = deduper.seed_from_exports(config.against)
        checked = 0
        dropped = []
        for attempt in attempts:
            if not attempt.kept:
                continue
            checked += 1
            drop = deduper.check(attempt)
            if drop is not None:
                dropped.append(drop)
    return DedupeReport(seeded, checked, dropped, dict(deduper.repeated_problems))


class DedupeError(FactoryError):
    """An earlier export that cannot be read; the message names the path."""


class ExportedRow(NamedTuple):
    """What dedupe reads of an exported row: its problem."""

    problem_id: str
    domain: str
    problem: str


def export_rows(path: Path) -> Iterator[ExportedRow]:
    """The rows of an export folder (`data/train-*.parquet` or `.jsonl`), shard by shard."""
    data = path / "data"
    shards = sorted(data.glob("train-*.parquet")) + sorted(data.glob("train-*.jsonl"))
    if not shards:
        raise DedupeError(f"{path}: no data/train-*.parquet or .jsonl; is it an export folder?")
    for shard in shards:
        try:
            yield from _shard_rows(shard)
        except (OSError, ValueError, LookupError, TypeError) as err:
            raise DedupeError(f"{shard}: cannot read its rows: {err!r}") from err


def _shard_rows(shard: Path) -> Iterator[ExportedRow]:
    if shard.suffix == ".parquet":
        columns = ["problem_id", "domain", "messages"]
        for batch in pq.ParquetFile(shard).iter_batches(columns=columns):
            for row in batch.to_pylist():
                yield _exported(row)
        return
    with shard.open(encoding="utf-8") as lines:
        for line in lines:
            if line.strip():
                yield _exported(json.loads(line))


def _exported(row: dict[str, Any]) -> ExportedRow:
    return ExportedRow(row["problem_id"], row["domain"], row["messages"][0]["content"])
