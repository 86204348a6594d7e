"""Deduplication of problems and rationales, exact and near, one record at a time.

A text is read as tokens: lower-cased runs of word characters and runs of punctuation. So case,
white space and the spacing around punctuation never make two texts different.

- exact: equal token sequences (a 128-bit BLAKE2 hash of them).
- near: the sets of 5-token shingles have a Jaccard similarity of at least the threshold (pairs
  found with MinHash LSH from `datasketch`, 128 permutations, then measured exactly), the texts
  hold the same numbers in the same order, and no word or short run of words (up to
  `SUBSTITUTION_TOKENS`) of one stands in the place of another in the other.

Near duplicates are copies that drifted: reformatted, a prefix or a closing sentence added or
dropped, a passage reworded. A template makes new problems another way, by putting other numbers
or words in the same places ("smallest" for "largest", "Mei" for "Maya", `' '` for `','`, 9 for 7),
and that gives a Jaccard similarity of 0.9 and more on a long statement: so a changed number, or a
word put in place of another, makes another problem (or rationale), however much text the two
share. The price: a copy that swaps a word for a synonym is not found.

Five tokens a shingle: a shingle then spans a formula or a clause, so texts that merely share
vocabulary and phrasing (the problems of one generator, behind the same prompt) stay apart, and
an edit costs at most five shingles, so a reformatted or extended copy of a paragraph stays above
the threshold.

The policy over a run's kept rows (`RowDeduper`):

- a problem (the user message of its first row) is checked against every earlier problem of its
  domain: the earlier exports' (`seed_from_exports`), then the run's, in order. A repeated problem
  keeps its first occurrence's rows only: every row of the repeat is dropped, and the repeat is
  reported (`RowDeduper.repeated_problems`). So no problem holds more than `solve.keep`
  rationales across runs and sources, and none gets twice the weight.
- a row of a new problem is dropped when its rationale duplicates an earlier row of the same
  problem: problem and rationale both repeat. A rationale shared by two different problems is
  kept: the problems differ, so the rows do too.

An earlier export's problems are all the policy needs of it: its rows' rationales belong to
problems whose repeats are dropped whole.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import re
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, NamedTuple

import numpy as np
import pyarrow.parquet as pq
from datasketch import MinHash, MinHashLSH

from factory.config import DedupeConfig
from factory.rows import Attempt

SHINGLE_TOKENS = 5
NUM_PERM = 128
SUBSTITUTION_TOKENS = 3
"""The longest run of tokens put in place of another that makes two texts different."""
LSH_WEIGHTS = (0.1, 0.9)
"""Weights of false positives and false negatives when `datasketch` picks its bands: a false
positive costs one exact comparison, a false negative a duplicate let through. With 128
permutations this gives 11 bands of 11 rows: a pair at Jaccard 0.85 becomes a candidate with
probability 0.87, at 0.9 with 0.98 (the balanced default: 0.46 and 0.81)."""

_TOKEN = re.compile(rb"[\w\x80-\xff]+|[^\w\s\x80-\xff]+")
_LITERAL = re.compile(
    r"\$\$.+?\$\$|\$[^$\n]+\$|\\\(.+?\\\)|\\\[.+?\\\]"  # formulas
    r"|(?<!`)`[^`\n]+`(?!`)|'[^'\n]{0,12}'|\"[^\"\n]{0,40}\"|\d+",  # code, quotes, numbers
    re.DOTALL,
)
_SPACE = re.compile(r"\s+")
_MIXER_SEED = 20240601


@dataclass(frozen=True)
class Match:
    """The earlier record a text duplicates; `jaccard` is None for an exact duplicate."""

    of: str
    jaccard: float | None = None

    def describe(self) -> str:
        return "exact" if self.jaccard is None else f"near (jaccard≈{self.jaccard:.2f})"


class Deduper:
    """Texts seen so far; each new one is either a duplicate of an earlier one or added.

    A `scope` partitions the records: a text only ever duplicates one of its own scope. Each
    record keeps its token hashes (4 bytes a token) for the exact comparison of a candidate.
    """

    def __init__(
        self, threshold: float, *, num_perm: int = NUM_PERM, shingle: int = SHINGLE_TOKENS
    ) -> None:
        self._threshold = threshold
        self._empty = MinHash(num_perm=num_perm, hashfunc=_identity)
        self._lsh = MinHashLSH(threshold=threshold, num_perm=num_perm, weights=LSH_WEIGHTS)
        rng = np.random.default_rng(_MIXER_SEED)
        # Odd multipliers, each a bijection modulo 2**64: a shingle's hash weighs every token.
        self._mixers = rng.integers(0, 2**63, size=shingle, dtype=np.uint64) * 2 + 1
        self._exact: dict[tuple[str, bytes], int] = {}
        self._ids: list[str] = []
        self._scopes: list[str] = []
        self._literals: list[int] = []
        self._words: list[np.ndarray] = []

    def __len__(self) -> int:
        return len(self._ids)

    def first_seen(self, text: str, record_id: str, scope: str = "") -> Match | None:
        """The earliest record `text` duplicates, or None after adding it as `record_id`."""
        tokens = _TOKEN.findall(text.lower().encode())
        digest = hashlib.blake2b(b" ".join(tokens), digest_size=16).digest()
        earlier = self._exact.get((scope, digest))
        if earlier is not None:
            return Match(self._ids[earlier])
        words = np.fromiter(map(zlib.crc32, tokens), dtype=np.uint32, count=len(tokens))
        shingles = self._shingles(words)
        minhash = self._empty.copy()
        minhash.update_batch(shingles)
        literals = hash(_SPACE.sub("", "\0".join(_LITERAL.findall(text))))
        match = self._near(words, shingles, literals, scope, self._lsh.query(minhash))
        if match is None:
            index = len(self._ids)
            self._exact[scope, digest] = index
            self._ids.append(record_id)
            self._scopes.append(scope)
            self._literals.append(literals)
            self._words.append(words)
            self._lsh.insert(index, minhash, check_duplication=False)
        return match

    def _shingles(self, words: np.ndarray) -> np.ndarray:
        """The set (sorted) of 32-bit hashes of the runs of `shingle` tokens; a shorter text is
        one run."""
        words = words.astype(np.uint64) if len(words) else np.zeros(1, dtype=np.uint64)
        width = min(len(self._mixers), len(words))
        runs = len(words) - width + 1
        mixed = np.zeros(runs, dtype=np.uint64)
        for offset in range(width):
            mixed += words[offset : offset + runs] * self._mixers[offset]
        return np.unique((mixed >> np.uint64(32)).astype(np.uint32))

    def _near(
        self,
        words: np.ndarray,
        shingles: np.ndarray,
        literals: int,
        scope: str,
        candidates: Iterable[int],
    ) -> Match | None:
        """The earliest candidate that is a near duplicate (see the module's docstring)."""
        for index in sorted(candidates):
            if self._scopes[index] != scope or self._literals[index] != literals:
                continue
            other = self._shingles(self._words[index])
            common = len(np.intersect1d(shingles, other, assume_unique=True))
            jaccard = common / (len(shingles) + len(other) - common)
            if jaccard >= self._threshold and not _substituted(words, self._words[index]):
                return Match(self._ids[index], jaccard)
        return None


def _substituted(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether a short run of tokens of `a` stands where another run stands in `b`."""
    matcher = difflib.SequenceMatcher(None, a.tolist(), b.tolist(), autojunk=False)
    return any(
        tag == "replace" and max(i2 - i1, j2 - j1) <= SUBSTITUTION_TOKENS
        for tag, i1, i2, j1, j2 in matcher.get_opcodes()
    )


def _identity(value: int) -> int:
    """The shingles are hashed already; `datasketch` mixes them further."""
    return value


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
    """The policy of the module's docstring over a stream of kept rows."""

    def __init__(self, threshold: float) -> None:
        self._problems = Deduper(threshold)
        self._rationales = Deduper(threshold)
        self._problem_matches: dict[str, Match | None] = {}
        self.repeated_problems: dict[str, Match] = {}
        """Each repeated problem of the run and the earlier problem it repeats."""

    def seed_from_exports(self, paths: Iterable[Path]) -> int:
        """Count the problems of earlier runs' exports as seen; returns the rows read."""
        rows = 0
        for path in paths:
            seen: set[str] = set()
            for row in export_rows(path):
                rows += 1
                if row.problem_id not in seen:
                    seen.add(row.problem_id)
                    record = f"{row.problem_id} in {path}"
                    self._problems.first_seen(row.problem, record, row.domain)
        return rows

    def check(self, row: Attempt) -> Dropped | None:
        """Why the kept `row` is dropped, or None when it stays (and counts as seen)."""
        repeat = self._problem_match(row)
        if repeat is not None:
            return Dropped(row.id, row.problem_id, "problem", repeat)
        match = self._rationales.first_seen(row.messages[1].content, row.id, row.problem_id)
        return None if match is None else Dropped(row.id, row.problem_id, "rationale", match)

    def _problem_match(self, row: Attempt) -> Match | None:
        if row.problem_id not in self._problem_matches:
            problem = row.messages[0].content
            match = self._problems.first_seen(problem, row.problem_id, row.domain)
            self._problem_matches[row.problem_id] = match
            if match is not None:
                self.repeated_problems[row.problem_id] = match
        return self._problem_matches[row.problem_id]


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
    deduper = RowDeduper(config.near_threshold)
    seeded = deduper.seed_from_exports(config.against)
    checked = 0
    dropped = []
    for attempt in attempts:
        if not attempt.kept:
            continue
        checked += 1
        verdict = deduper.check(attempt)
        if verdict is not None:
            dropped.append(verdict)
    return DedupeReport(seeded, checked, dropped, dict(deduper.repeated_problems))


class DedupeError(Exception):
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
