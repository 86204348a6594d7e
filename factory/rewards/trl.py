"""A reward function for TRL's trainers (`GRPOTrainer(reward_funcs=[...])`), from any verifier.

TRL calls `reward(prompts=..., completions=..., completion_ids=..., **columns)`: prompts and
completions as strings or as chat messages, and every other column of the dataset as a list with
one value per completion (`reference`, `tests`, `domain`, ... ; `columns` renames them), plus
`trainer_state`, `log_extra` and `log_metric`. It wants one float per completion, or None where
there is no judgment (TRL turns None into NaN and leaves it out of that function's part).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from verified_factory.records import JUDGMENTS, Verdict
from verified_factory.rewards.judge import (
    candidate_fields,
    column_names,
    judge_samples,
    reward_of,
    shared_pool,
    text_of,
)

RewardFunction = Callable[..., Any]


def trl_reward(
    verifier: str | None = None,
    *,
    domain: str | None = None,
    columns: Mapping[str, str] | None = None,
    settings: Mapping[str, Mapping[str, Any]] | None = None,
    workers: int | None = None,
    asynchronous: bool = False,
    name: str | None = None,
) -> RewardFunction:
    """A TRL reward function judging each completion with `verifier` (by default the one the
    registry picks by the sample's domain).

    `domain` is the domain of samples whose dataset has no `domain` column. `columns` maps a
    candidate field to the dataset column that holds it (`{"reference": "solution"}`).
    `settings` are the verifiers' keyword arguments by name (`{"code": {"sandbox": "docker"}}`),
    `workers` the verification processes (one per core by default). With `asynchronous` the
    function is a coroutine function, which TRL runs beside its other async reward functions.
    The function logs each completion's verdict status as a column of TRL's completions table
    and the share of completions with no judgment as a metric.
    """
    names = column_names(columns)
    title = name or f"{verifier or 'verified'}_reward"

    def judge(
        prompts: Sequence[Any], completions: Sequence[Any], kwargs: dict[str, Any]
    ) -> list[float | None]:
        samples = [
            _sample(index, prompt, completion, kwargs, names, domain, verifier)
            for index, (prompt, completion) in enumerate(zip(prompts, completions, strict=True))
        ]
        verdicts = judge_samples(shared_pool(settings, workers), samples)
        _log(title, verdicts, kwargs)
        return [reward_of(verdict) for verdict in verdicts]

    if asynchronous:

        async def reward_async(
            prompts: Sequence[Any], completions: Sequence[Any], **kwargs: Any
        ) -> list[float | None]:
            return await asyncio.to_thread(judge, prompts, completions, kwargs)

        chosen: RewardFunction = reward_async
    else:

        def reward(
            prompts: Sequence[Any], completions: Sequence[Any], **kwargs: Any
        ) -> list[float | None]:
            return judge(prompts, completions, kwargs)

        chosen = reward
    chosen.__name__ = chosen.__qualname__ = title
    return chosen


def _sample(
    index: int,
    prompt: Any,
    completion: Any,
    kwargs: Mapping[str, Any],
    names: Mapping[str, str],
    domain: str | None,
    verifier: str | None,
) -> dict[str, Any]:
    row = {
        column: values[index]
        for column, values in kwargs.items()
        if isinstance(values, Sequence) and not isinstance(values, str) and index < len(values)
    }
    return candidate_fields(
        row,
        names,
        id=str(index),
        problem=text_of(prompt),
        response=text_of(completion),
        domain=domain,
        verifier=verifier,
    )


def _log(title: str, verdicts: list[Verdict], kwargs: Mapping[str, Any]) -> None:
    log_extra = kwargs.get("log_extra")
    if callable(log_extra):
        log_extra(f"{title}_status", [verdict.status for verdict in verdicts])
    log_metric = kwargs.get("log_metric")
    if callable(log_metric) and verdicts:
        unjudged = sum(verdict.status not in JUDGMENTS for verdict in verdicts)
        log_metric(f"{title}/unjudged", unjudged / len(verdicts))
