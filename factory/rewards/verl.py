"""A `compute_score` for verl (`custom_reward_function.path`/`name`), from any verifier.

verl's reward managers call `compute_score(data_source, solution_str, ground_truth,
extra_info)` for each response (its batch manager: `compute_score(data_sources, solution_strs,
ground_truths, extra_infos)`, lists) and put `score` in the reward tensor, so it must be a
number: a verdict that is no judgment (`error`, `unverifiable`) scores `unjudged_score` (0.0 by
default) and says `judged: false`, which a user masks on. Every other key becomes a column of
verl's `reward_extra_info`, with the same keys for every response.

`ground_truth` is the gold final answer (math) or the tests (code: a TestSpec as an object or
JSON text, or verl's own `{"inputs": [...], "outputs": [...]}` stdio cases). `extra_info` may
name the `domain`, the `verifier`, the `reference` (a code problem's reference solution) and
`tests`; without a domain, tests make it code and anything else math.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from verified_factory.records import JUDGMENTS, Verdict
from verified_factory.rewards.judge import judge_samples, reward_of, shared_pool

Score = dict[str, Any]


def verl_score(
    *,
    unjudged_score: float = 0.0,
    settings: Mapping[str, Mapping[str, Any]] | None = None,
    workers: int | None = None,
) -> tuple[Callable[..., Score], Callable[..., list[Score]]]:
    """verl's `compute_score` (one response) and its batch form (lists), with these settings."""

    def compute_score(
        data_source: str,
        solution_str: str,
        ground_truth: Any,
        extra_info: Mapping[str, Any] | None = None,
        **_: Any,
    ) -> Score:
        return batch([data_source], [solution_str], [ground_truth], [extra_info])[0]

    def batch(
        data_sources: Sequence[str],
        solution_strs: Sequence[str],
        ground_truths: Sequence[Any],
        extra_infos: Sequence[Mapping[str, Any] | None] | None = None,
        **_: Any,
    ) -> list[Score]:
        infos = extra_infos if extra_infos is not None else [None] * len(solution_strs)
        samples = [
            _sample(index, *row)
            for index, row in enumerate(
                zip(data_sources, solution_strs, ground_truths, infos, strict=True)
            )
        ]
        verdicts = judge_samples(shared_pool(settings, workers), samples)
        return [_score(verdict, unjudged_score) for verdict in verdicts]

    return compute_score, batch


compute_score, compute_score_batch = verl_score()


def _sample(
    index: int,
    data_source: str,
    solution: str,
    ground_truth: Any,
    extra_info: Mapping[str, Any] | None,
) -> dict[str, Any]:
    info = dict(extra_info or {})
    tests = info.get("tests")
    reference = info.get("reference")
    domain = info.get("domain")
    if domain is None:
        domain = "code" if tests is not None or _tests_like(ground_truth) else "math"
    if domain == "code" and tests is None:
        tests = _tests(ground_truth)
    elif reference is None:
        reference = ground_truth if isinstance(ground_truth, str) else json.dumps(ground_truth)
    fields = {
        "id": str(info.get("index", index)),
        "domain": domain,
        "problem": str(info.get("question") or info.get("problem") or ""),
        "response": solution,
        "reference": reference,
        "tests": tests,
        "source": data_source,
        "verifier": info.get("verifier"),
    }
    return {key: value for key, value in fields.items() if value is not None}


def _tests_like(value: Any) -> bool:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return False
    return isinstance(value, Mapping) and ("format" in value or "inputs" in value)


def _tests(ground_truth: Any) -> Any:
    """The tests in `ground_truth`: a TestSpec as it is; verl's (APPS-style) cases as stdio
    tests, or as calls of `fn_name` (each input the list of arguments) when it names one."""
    value = ground_truth
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return value  # not JSON: the record's validation names the field
    if isinstance(value, Mapping) and "format" not in value and "inputs" in value:
        pairs = list(zip(value.get("inputs") or [], value.get("outputs") or [], strict=False))
        if value.get("fn_name"):
            cases = [{"args": i, "expected": o} for i, o in pairs]
            return {"format": "call", "entry_point": value["fn_name"], "cases": cases}
        return {"format": "stdio", "cases": [{"input": i, "output": o} for i, o in pairs]}
    return value


def _score(verdict: Verdict, unjudged_score: float) -> Score:
    reward = reward_of(verdict)
    return {
        "score": unjudged_score if reward is None else reward,
        "judged": verdict.status in JUDGMENTS,
        "status": verdict.status,
        "accepted": verdict.accepted,
        "reason": verdict.reason,
        "verifier": verdict.verifier or "",
    }
