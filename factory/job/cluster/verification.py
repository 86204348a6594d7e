"""Verification on Ray: a pool of verify workers, each batch on whichever worker is free.

`judge` is what the solve stage is given: each candidate judged alone, or together with the
other samples of its problem when there is nothing trusted to judge one against
(`Candidate.judged_together`). `judge_lines` is what `factory serve --ray` is given: candidates
as the JSON texts clients sent, read on the workers.

A batch that outlives its deadline, or whose worker dies, is not lost: the worker is restarted
and the batch's candidates are judged again one by one, so only a candidate that itself hangs or
kills its worker ends with a `timeout` or `error` verdict. A worker that dies under a lone
candidate is no proof (its node may have gone): the candidate is sent again, and is `error` only
after `DEATHS` workers died under it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import ray
from ray.exceptions import RayActorError

from verified_factory.job.metrics import RunMetrics
from verified_factory.records import Candidate, Verdict
from verified_factory.verify.runner import line_id

BATCH = 16
"""Candidates per call: small enough that every worker gets a share of a unit."""
DEATHS = 3
"""Workers that may die under one candidate (or one group) before it is judged `error`: a worker
also dies with its node, which is no doing of the candidate's."""


class VerifierPool:
    def __init__(
        self, actors: list[ray.actor.ActorHandle], timeout_s: float, metrics: RunMetrics
    ) -> None:
        self._actors = actors
        self._timeout_s = timeout_s
        self._metrics = metrics
        self._idle: asyncio.Queue[ray.actor.ActorHandle] | None = None

    @property
    def actors(self) -> list[ray.actor.ActorHandle]:
        return list(self._actors)

    async def start(self) -> None:
        """Wait for every worker to come up; note their nodes and processes."""
        self._idle = asyncio.Queue()
        for number, actor in enumerate(self._actors):
            node, pid = await actor.ping.remote()
            self._metrics.verified_on_node.setdefault(node, 0)
            self._metrics.processes[f"verify-{number}"] = pid
            self._idle.put_nowait(actor)

    async def judge(self, candidates: list[Candidate]) -> list[Verdict]:
        """Each candidate's verdict, in order: alone, or with its problem's other samples."""
        groups: dict[str, list[int]] = {}
        alone: list[int] = []
        for index, candidate in enumerate(candidates):
            if candidate.judged_together:
                groups.setdefault(candidate.problem_id or candidate.id, []).append(index)
            else:
                alone.append(index)
        by_verifier, by_agreement = await asyncio.gather(
            self._alone([candidates[i] for i in alone]),
            self._together([[candidates[i] for i in g] for g in groups.values()]),
        )
        verdicts: dict[int, Verdict] = dict(zip(alone, by_verifier, strict=True))
        grouped = [index for group in groups.values() for index in group]
        verdicts.update(zip(grouped, by_agreement, strict=True))
        return [verdicts[index] for index in range(len(candidates))]

    async def judge_lines(self, lines: list[bytes]) -> list[Verdict]:
        """One verdict per JSON text of a candidate, in order, read on the workers as
        `factory verify` reads lines: a bad one gets an `error` verdict naming its field."""
        numbered = list(enumerate(lines, 1))
        # Four batches a worker at most: a client's batch is often large, and each call costs.
        size = max(BATCH, -(-len(numbered) // (4 * len(self._actors))))
        batches = [numbered[i : i + size] for i in range(0, len(numbered), size)]
        results = await asyncio.gather(*(self._lines(batch) for batch in batches))
        return [verdict for batch in results for verdict in batch]

    async def _lines(self, lines: list[tuple[int, bytes]]) -> list[Verdict]:
        lives = DEATHS if len(lines) == 1 else 1
        try:
            return await self._call(lambda actor: actor.verify_lines.remote(lines), lives)
        except (TimeoutError, RayActorError) as err:
            if len(lines) == 1:
                [(number, raw)] = lines
                verdict = _unfinished(line_id(raw), err, self._timeout_s)
                return [verdict.model_copy(update={"line": number})]
            return [v for line in lines for v in await self._lines([line])]

    async def _alone(self, candidates: list[Candidate]) -> list[Verdict]:
        """One verdict per candidate, in order."""
        batches = [candidates[i : i + BATCH] for i in range(0, len(candidates), BATCH)]
        results = await asyncio.gather(*(self._batch(batch) for batch in batches))
        return [verdict for batch in results for verdict in batch]

    async def _together(self, groups: list[list[Candidate]]) -> list[Verdict]:
        """For each group (the samples of one problem, judged together), one verdict per
        sample; all groups' verdicts in order."""
        results = await asyncio.gather(*(self._group(group) for group in groups))
        return [verdict for group in results for verdict in group]

    async def _group(self, group: list[Candidate]) -> list[Verdict]:
        try:
            return await self._call(lambda actor: actor.verify_groups.remote([group]), DEATHS)
        except (TimeoutError, RayActorError) as err:
            return [_unfinished(candidate.id, err, self._timeout_s) for candidate in group]

    async def _batch(self, candidates: list[Candidate]) -> list[Verdict]:
        lives = DEATHS if len(candidates) == 1 else 1
        try:
            return await self._call(lambda actor: actor.verify.remote(candidates), lives)
        except (TimeoutError, RayActorError) as err:
            if len(candidates) == 1:
                return [_unfinished(candidates[0].id, err, self._timeout_s)]
            return [v for c in candidates for v in await self._batch([c])]

    async def _call(
        self, send: Callable[[ray.actor.ActorHandle], ray.ObjectRef], lives: int = 1
    ) -> list[Verdict]:
        """`send` to an idle worker; a worker past the deadline is killed (Ray restarts it). A
        worker that dies under the call is restarted by Ray, and the call is sent again while
        it has `lives` left."""
        assert self._idle is not None, "start() the pool first"
        for life in range(lives, 0, -1):
            actor = await self._idle.get()
            try:
                node, verdicts = await asyncio.wait_for(send(actor), self._timeout_s)
                break
            except TimeoutError:
                ray.kill(actor, no_restart=False)  # Ray restarts it (max_restarts=-1)
                raise
            except RayActorError:
                if life == 1:
                    raise
            finally:
                self._idle.put_nowait(actor)
        self._metrics.verified(node, verdicts)
        return verdicts


def _unfinished(record_id: str | None, err: BaseException, timeout_s: float) -> Verdict:
    if isinstance(err, TimeoutError):
        return Verdict(
            id=record_id,
            accepted=False,
            status="timeout",
            reason=f"verification did not finish within verify.timeout_s={timeout_s:g} s; "
            "its worker was restarted",
        )
    return Verdict.error(
        f"the verification worker died while judging this candidate: {err}", id=record_id
    )
