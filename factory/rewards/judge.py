"""What every reward adapter shares: the verdict-to-reward contract, the pool, the candidates.

The contract (`REWARDS`, `docs/rewards.md`): `accepted` 1.0; `rejected` 0.0; `timeout` 0.0, as a
timeout is the candidate's own (its program, or the check of its answer, ran past its limit,
judged alone); `error` (the infrastructure failed) and `unverifiable` (the reference or tests
cannot judge anything) are not judgments of the candidate and give None, never 0 or 1. A policy
that learns to make its judge time out would otherwise escape every penalty.

Every adapter judges through one `VerdictPool` per settings, `factory verify`'s worker processes
kept between calls: the first call starts them, later calls reuse them, and they stop when the
process exits.
"""

from __future__ import annotations

import atexit
import json
import threading
from collections.abc import Mapping, Sequence
from typing import Any

from verified_factory.records import Candidate, RecordError, Status, Verdict, parse_record
from verified_factory.verify.runner import VerdictPool

REWARDS: dict[Status, float | None] = {
    "accepted": 1.0,
    "rejected": 0.0,
    "timeout": 0.0,
    "truncated": 0.0,
    "error": None,
    "unverifiable": None,
}


def reward_of(verdict: Verdict) -> float | None:
    """The verdict's reward by the contract: None when it does not judge the candidate."""
    return REWARDS[verdict.status]


_pools: dict[str, VerdictPool] = {}
_pools_lock = threading.Lock()


def shared_pool(
    settings: Mapping[str, Mapping[str, Any]] | None = None, workers: int | None = None
) -> VerdictPool:
    """The process's pool for these verifier settings (by name) and worker count, made on first
    use and closed at exit."""
    key = json.dumps([settings or {}, workers], sort_keys=True, default=str)
    with _pools_lock:
        if key not in _pools:
            plain = {name: dict(values) for name, values in (settings or {}).items()}
            _pools[key] = VerdictPool(workers=workers, settings=plain)
        return _pools[key]


@atexit.register
def close_pools() -> None:
    """Stop every shared pool's workers now (they stop at exit anyway); the next call of an
    adapter starts them again."""
    with _pools_lock:
        for pool in _pools.values():
            pool.close()


FIELDS = ("id", "domain", "reference", "tests", "meta", "verifier", "source")
"""The candidate's fields a dataset row may give, by its column of the same name unless an
adapter's `columns` says otherwise."""


def column_names(columns: Mapping[str, str] | None) -> dict[str, str]:
    """Each candidate field's column: `columns`' choice, else the field's own name; a choice
    for a field that no row can give is refused."""
    unknown = set(columns or {}) - set(FIELDS)
    if unknown:
        raise ValueError(f"columns: no candidate field {sorted(unknown)}; known: {FIELDS}")
    return {field: (columns or {}).get(field, field) for field in FIELDS}


def candidate_fields(
    row: Mapping[str, Any],
    names: Mapping[str, str],
    *,
    id: str,
    problem: str,
    response: str,
    domain: str | None,
    verifier: str | None,
    fallbacks: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """A candidate's fields from one dataset row, by `names` (`column_names`), with `id`
    where the row gives none; a field whose column is missing or None reads its `fallbacks`
    column, if any. A verifier named outright judges whatever the domain: the record still
    needs one. With no domain anywhere, a row with tests is code and any other is math."""
    fields: dict[str, Any] = {"id": id, "domain": domain or verifier, "verifier": verifier}
    for field, column in names.items():
        value = row.get(column)
        if value is None and field in (fallbacks or {}):
            value = row.get((fallbacks or {})[field])
        if value is not None:
            fields[field] = value
    fields["id"] = str(fields["id"])
    if fields["domain"] is None:
        fields["domain"] = "code" if fields.get("tests") is not None else "math"
    fields["problem"] = problem
    fields["response"] = response
    return {key: value for key, value in fields.items() if value is not None}


def text_of(value: str | Sequence[Mapping[str, Any]]) -> str:
    """A prompt or completion as text: a string as it is; a list of chat messages as the
    content of its last user message (a prompt) or of its assistant messages (a completion)."""
    if isinstance(value, str):
        return value
    messages = [m for m in value if isinstance(m, Mapping)]
    said = [_content(m) for m in messages if m.get("role") == "assistant"]
    if said:
        return "\n".join(said)
    asked = [_content(m) for m in messages if m.get("role") == "user"]
    return asked[-1] if asked else "\n".join(_content(m) for m in messages)


def _content(message: Mapping[str, Any]) -> str:
    content = message.get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # content blocks: [{"type": "text", "text": ...}, ...]
        return "".join(b.get("text", "") for b in content if isinstance(b, Mapping))
    return ""


def judge_samples(
    pool: VerdictPool, samples: Sequence[Mapping[str, Any] | Verdict]
) -> list[Verdict]:
    """One verdict per sample, in order: each a candidate's fields, or already a verdict (a
    sample that could not be made a candidate)."""
    candidates: list[Candidate] = []
    places: list[int] = []
    verdicts: list[Verdict | None] = []
    for index, sample in enumerate(samples):
        if isinstance(sample, Verdict):
            verdicts.append(sample)
            continue
        try:
            candidates.append(parse_record(Candidate, dict(sample)))
        except RecordError as err:
            verdicts.append(Verdict.unverifiable(str(err), id=err.record_id))
            continue
        places.append(index)
        verdicts.append(None)
    for index, verdict in zip(places, pool.judge(candidates) if candidates else [], strict=True):
        verdicts[index] = verdict
    return [v for v in verdicts if v is not None]
