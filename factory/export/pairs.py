"""Preference pairs: each problem's kept attempts against its rejected ones, a unit at a time."""

from __future__ import annotations

from typing import Any

from verified_factory.export.shapes import preference_row
from verified_factory.rows import Attempt, ReasoningShape

PAIRS_PER_PROBLEM = 4
"""At most this many preference pairs per problem, and kept or rejected attempts considered."""


class Pairs:
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
