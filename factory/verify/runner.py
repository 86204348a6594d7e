"""`factory verify`: one Verdict per Candidate line, in input order, from parallel workers.

The parent process only reads raw lines and writes verdict lines; decoding, validation, the choice
of verifier and the verification itself happen in the workers, so the work scales with them.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, BinaryIO, TextIO

from verified_factory.progress import Tally
from verified_factory.records import Candidate, RecordError, Verdict, decode_line
from verified_factory.verifiers.base import Verifier
from verified_factory.verifiers.registry import Registry, SelectionError
from verified_factory.verify.workers import Handler, OrderedPool, WorkerFailure

Line = tuple[int, bytes]
"""A 1-based line number and the line's bytes."""

Outcome = tuple[str, str]
"""A verdict's status and its JSON text."""


def read_lines(stream: BinaryIO) -> Iterator[Line]:
    """Number the lines of a binary stream, without their line endings."""
    for number, raw in enumerate(stream, 1):
        yield number, raw.rstrip(b"\r\n")


def verify_lines(registry: Registry, lines: list[Line], override: str | None) -> list[Outcome]:
    """Verify a batch of raw lines; never raises for a bad line or a failing verifier."""
    verdicts: list[Verdict | None] = [None] * len(lines)
    decoded: list[int] = []
    candidates: list[Candidate] = []
    for index, line in enumerate(lines):
        try:
            candidates.append(decode_line(Candidate, *line))
            decoded.append(index)
        except RecordError as err:
            verdicts[index] = Verdict.error(str(err), id=err.record_id, line=line[0])
    for index, verdict in zip(
        decoded, judge_candidates(registry, candidates, override), strict=True
    ):
        verdicts[index] = verdict.model_copy(update={"line": lines[index][0]})
    done = [v for v in verdicts if v is not None]
    assert len(done) == len(lines), "every line must have a verdict"
    return [(v.status, v.model_dump_json()) for v in done]


def judge_candidates(
    registry: Registry, candidates: list[Candidate], override: str | None = None
) -> list[Verdict]:
    """One verdict per candidate, in order, each naming its candidate and verifier.

    Candidates are grouped by verifier so that batch verifiers see whole batches; a candidate no
    verifier serves, or one whose verifier fails, gets an `error` verdict saying so.
    """
    verdicts: list[Verdict | None] = [None] * len(candidates)
    groups: dict[str, tuple[Verifier, list[int]]] = {}
    for index, candidate in enumerate(candidates):
        try:
            verifier = registry.select(candidate, override)
        except SelectionError as err:
            verdicts[index] = Verdict.error(str(err), id=candidate.id)
            continue
        groups.setdefault(verifier.name, (verifier, []))[1].append(index)
    for verifier, indices in groups.values():
        batch = [candidates[i] for i in indices]
        for index, verdict in zip(indices, _judge(verifier, batch), strict=True):
            verdicts[index] = verdict.model_copy(
                update={"id": candidates[index].id, "verifier": verifier.name}
            )
    return [v for v in verdicts if v is not None]


def judge_group(registry: Registry, group: list[Candidate]) -> list[Verdict]:
    """One verdict per sample of one problem, in order, judged together by their verifier
    (`Verifier.verify_group`); a verifier that fails or answers wrongly gives `error`s."""
    try:
        verifier = registry.select(group[0])
    except SelectionError as err:
        return [Verdict.error(str(err), id=candidate.id) for candidate in group]
    try:
        verdicts = verifier.verify_group(group)
        _check_answers(verifier, verdicts, len(group))
    except Exception as err:
        reason = f"verifier {verifier.name!r} failed on a group: {type(err).__name__}: {err}"
        verdicts = [Verdict.error(reason) for _ in group]
    return [
        verdict.model_copy(update={"id": candidate.id, "verifier": verifier.name})
        for candidate, verdict in zip(group, verdicts, strict=True)
    ]


def _judge(verifier: Verifier, candidates: list[Candidate]) -> list[Verdict]:
    """The verifier's verdicts, with any exception or malformed answer turned into an error."""
    start = time.perf_counter()
    try:
        verdicts = verifier.verify_batch(candidates)
        _check_answers(verifier, verdicts, len(candidates))
    except Exception:
        return [_judge_one(verifier, candidate) for candidate in candidates]
    share = (time.perf_counter() - start) / len(candidates)
    return [
        v if v.elapsed_s is not None else v.model_copy(update={"elapsed_s": share})
        for v in verdicts
    ]


def _judge_one(verifier: Verifier, candidate: Candidate) -> Verdict:
    start = time.perf_counter()
    try:
        verdict = verifier.verify(candidate)
        _check_answers(verifier, [verdict], 1)
    except Exception as err:
        return Verdict.error(f"verifier {verifier.name!r} failed: {type(err).__name__}: {err}")
    if verdict.elapsed_s is None:
        verdict = verdict.model_copy(update={"elapsed_s": time.perf_counter() - start})
    return verdict


def _check_answers(verifier: Verifier, verdicts: object, expected: int) -> None:
    if not isinstance(verdicts, list) or len(verdicts) != expected:
        raise TypeError(f"returned {verdicts!r:.80} where {expected} Verdict(s) were due")
    for verdict in verdicts:
        if not isinstance(verdict, Verdict):
            raise TypeError(f"returned a {type(verdict).__name__}, not a Verdict")


def make_handler(override: str | None, settings: dict[str, dict[str, Any]]) -> Handler:
    """Build the registry once in a worker process and return its batch handler."""
    registry = Registry(settings=settings)
    return lambda lines: verify_lines(registry, lines, override)


def line_id(raw: bytes) -> str | None:
    """The record id a line's JSON gives, if it gives one: for the verdict of a line that could
    not be judged."""
    try:
        data = json.loads(raw)
    except ValueError:
        return None
    if isinstance(data, dict) and isinstance(data.get("id"), str | int):
        return str(data["id"])
    return None


def _failure_outcome(line: Line, failure: WorkerFailure) -> Outcome:
    """The verdict for a line whose worker died, raised or hung on it alone."""
    number, raw = line
    record_id = line_id(raw)
    status = "timeout" if failure.kind == "deadline" else "error"
    verdict = Verdict(
        id=record_id,
        accepted=False,
        status=status,
        reason=f"line {number}: verification did not finish: {failure.message}",
        line=number,
    )
    return verdict.status, verdict.model_dump_json()


def run(
    lines: Iterable[Line],
    out: TextIO,
    *,
    workers: int,
    override: str | None = None,
    settings: dict[str, dict[str, Any]] | None = None,
    item_timeout_s: float = 300.0,
    on_progress: Callable[[Tally], None] | None = None,
) -> Tally:
    """Verify every line into `out`, one verdict line each, in input order; `settings`: what
    each verifier is created with, by name."""
    tally = Tally()
    pool: OrderedPool[Line, Outcome] = OrderedPool(
        make_handler,
        (override, settings or {}),
        workers=workers,
        on_failure=_failure_outcome,
        item_timeout_s=item_timeout_s,
    )
    for status, text in pool.map(lines):
        out.write(text)
        out.write("\n")
        tally.add(status)
        if on_progress is not None:
            on_progress(tally)
    out.flush()
    return tally


class VerdictPool:
    """`factory verify`'s worker processes, kept for many batches: the judge behind the reward
    adapters (`verified_factory.rewards`) and the verification service.

    The first `judge` starts the workers; later ones reuse them, one batch at a time (a lock),
    each batch spread over all the workers. A candidate whose worker dies or hangs gets an
    `error` or `timeout` verdict, as in `factory verify`; the pool goes on.
    """

    def __init__(
        self,
        *,
        workers: int | None = None,
        verifier: str | None = None,
        settings: dict[str, dict[str, Any]] | None = None,
        item_timeout_s: float = 300.0,
    ) -> None:
        self._pool: OrderedPool[Line, Outcome] = OrderedPool(
            make_handler,
            (verifier, settings or {}),
            workers=workers or os.cpu_count() or 1,
            on_failure=_failure_outcome,
            item_timeout_s=item_timeout_s,
            keep_workers=True,
        )
        self._lock = threading.Lock()

    def judge(self, candidates: Sequence[Candidate]) -> list[Verdict]:
        """One verdict per candidate, in order."""
        return self.judge_lines([c.model_dump_json().encode() for c in candidates])

    def judge_lines(self, lines: Sequence[bytes]) -> list[Verdict]:
        """One verdict per JSON text of a candidate, in order, read in the workers as
        `factory verify` reads lines: a bad one gets an `error` verdict naming its field."""
        with self._lock:
            outcomes = list(self._pool.map(enumerate(lines, 1)))
        return [Verdict.model_validate_json(text) for _, text in outcomes]

    def close(self) -> None:
        """Stop the workers; a later `judge` starts them again."""
        with self._lock:
            self._pool.close()
