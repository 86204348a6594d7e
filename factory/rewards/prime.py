"""A reward function for prime's `verifiers` environments, from any verifier.

One function serves both of the library's reward shapes, as each calls it by parameter name:

- `verifiers` 0.4 (`verifiers.v1`): a plugged task reward `async (task, trace) -> float`, named
  in a task config (`rewards: {correct: {fn: "verified_factory.rewards.prime:reward"}}`). `task`
  is the row's `TaskData`, whose fields (extra ones included) give the candidate's; the
  completion is `trace.last_reply`.
- `verifiers` up to 0.3 (`Rubric(funcs=[reward])`, `verifiers.legacy` in 0.3): the rubric passes
  `prompt`, `completion`, `answer`, `info` and `state`; `info`'s keys and `answer` give the
  candidate's fields.

A verdict that is no judgment (`error`, `unverifiable`) raises `Unjudged`: `verifiers` 0.4 then
fails the rollout and leaves the reward unset (its rule: never record a guess); a legacy Rubric
logs the error and scores 0.0 itself, which is why each verdict is also written, as plain data,
under `verdicts` in the trace's `info` (0.4) or the rollout's `state` (legacy) for filtering.

Concurrent rollouts on one event loop are judged together: calls that arrive while a batch is
judged wait and go as the next batch, through the shared pool every adapter uses.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Callable, Coroutine, Mapping
from typing import Any

from verified_factory.errors import FactoryError
from verified_factory.records import Verdict
from verified_factory.rewards.judge import (
    candidate_fields,
    column_names,
    judge_samples,
    reward_of,
    shared_pool,
    text_of,
)

Sample = dict[str, Any]
PrimeReward = Callable[..., Coroutine[Any, Any, float]]


class Unjudged(FactoryError, RuntimeError):
    """The verdict on a rollout is no judgment (`error` or `unverifiable`): there is no reward."""

    def __init__(self, verdict: Verdict) -> None:
        super().__init__(f"no judgment ({verdict.status}): {verdict.reason}")
        self.verdict = verdict


def prime_reward(
    verifier: str | None = None,
    *,
    domain: str | None = None,
    columns: Mapping[str, str] | None = None,
    settings: Mapping[str, Mapping[str, Any]] | None = None,
    workers: int | None = None,
    name: str | None = None,
) -> PrimeReward:
    """A `verifiers` reward function judging each rollout with `verifier` (by default the one
    the registry picks by the row's domain).

    `domain` is the domain of rows that name none. `columns` maps a candidate field to the row
    field holding it; `reference` falls back to the row's `answer`, the field `verifiers`
    datasets use for the gold answer. `settings` and `workers` are the pool's, as for
    `trl_reward`. `name` is the function's name, under which its verdicts are recorded.
    """
    names = column_names(columns)
    title = name or f"{verifier or 'verified'}_reward"
    batches: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Batches] = (
        weakref.WeakKeyDictionary()
    )

    def judge(samples: list[Sample]) -> list[Verdict]:
        return judge_samples(shared_pool(settings, workers), samples)

    async def reward(
        task: Any = None,
        trace: Any = None,
        prompt: Any = None,
        completion: Any = None,
        answer: Any = None,
        info: Mapping[str, Any] | None = None,
        state: dict[str, Any] | None = None,
    ) -> float:
        if trace is not None:
            row = _data_of(task)
            problem, response = str(getattr(task, "prompt_text", "") or ""), trace.last_reply
            record: dict[str, Any] = trace.info
        else:
            row = {**(info or {}), "answer": answer}
            problem, response = text_of(prompt or ""), text_of(completion or "")
            record = state if state is not None else {}
        sample = candidate_fields(
            row,
            names,
            id=str(row.get("idx", 0)),
            problem=problem,
            response=response,
            domain=domain,
            verifier=verifier,
            fallbacks={} if "reference" in (columns or {}) else {"reference": "answer"},
        )
        loop = asyncio.get_running_loop()
        verdict = await batches.setdefault(loop, _Batches(judge)).verdict(sample)
        record.setdefault("verdicts", {})[title] = {
            "status": verdict.status,
            "reason": verdict.reason,
            "verifier": verdict.verifier,
        }
        score = reward_of(verdict)
        if score is None:
            raise Unjudged(verdict)
        return score

    reward.__name__ = reward.__qualname__ = title
    return reward


reward = prime_reward()
"""The reward a task config can name as it is: the registry's verifier for the row's domain."""


def _data_of(task: Any) -> dict[str, Any]:
    if isinstance(task, Mapping):
        return dict(task)
    dump = getattr(task, "model_dump", None)
    return dump(mode="json") if callable(dump) else {}


class _Batches:
    """The calls on one event loop, judged in batches: the calls that arrive while one batch is
    judged (the pool takes one at a time) go together as the next."""

    def __init__(self, judge: Callable[[list[Sample]], list[Verdict]]) -> None:
        self._judge = judge
        self._waiting: list[tuple[Sample, asyncio.Future[Verdict]]] = []
        self._drainer: asyncio.Task[None] | None = None

    async def verdict(self, sample: Sample) -> Verdict:
        future: asyncio.Future[Verdict] = asyncio.get_running_loop().create_future()
        self._waiting.append((sample, future))
        if self._drainer is None:
            self._drainer = asyncio.create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        try:
            while self._waiting:
                await asyncio.sleep(0)  # the calls made in the same turn join this batch
                batch, self._waiting = self._waiting, []
                try:
                    verdicts = await asyncio.to_thread(self._judge, [s for s, _ in batch])
                except Exception as err:  # the pool itself failed: every caller hears why
                    for _, future in batch:
                        if not future.done():
                            future.set_exception(err)
                    continue
                for (_, future), verdict in zip(batch, verdicts, strict=True):
                    if not future.done():  # a caller may have given up (its rollout timed out)
                        future.set_result(verdict)
        finally:
            self._drainer = None
