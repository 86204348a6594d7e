"""The job's driver: problems stream in units through the generation worker and the verifiers.

The driver is one asyncio loop. It reads the source lazily and keeps a bounded number of units
in flight (enough requests to keep `max_concurrency` busy, twice over), so memory stays flat
however long the input is. Each unit runs source -> solve -> verify -> (rationalize -> verify) ->
commit on its own; units finish in any order. Completions are appended to the run directory as
they arrive and units commit atomically, so a killed job resumes without redoing a committed
unit or buying a stored completion again.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Iterable, Iterator
from itertools import chain, islice
from pathlib import Path
from typing import TYPE_CHECKING

import ray
from ray.exceptions import RayActorError, RayTaskError

from verified_factory.config import JobConfig
from verified_factory.curate.decontaminate import Decontaminator
from verified_factory.curate.removals import contaminated
from verified_factory.errors import FactoryError

if TYPE_CHECKING:
    from verified_factory.curate.embedding import EmbeddingIndex
from verified_factory.job.metrics import RunMetrics
from verified_factory.job.run_store import RunStore
from verified_factory.job.verifier_pool import VerifierPool
from verified_factory.models.base import ChatRequest, Completion, ModelFailure, ModelUnreachable
from verified_factory.records import AssertTests, Candidate, Problem, RecordError, Verdict
from verified_factory.rows import Attempt, ProblemError, worth_retrying
from verified_factory.solve.model_tests import gathered_tests, requests_for_tests
from verified_factory.solve.prompts import Prompts
from verified_factory.solve.replies import SCREEN, Reply, missing_format, read_reply
from verified_factory.solve.star import (
    asks_for_tests,
    attempt_for,
    attempt_id,
    can_rationalize,
    candidate_for,
    mark_kept,
    requests_for,
)
from verified_factory.sources import read_source
from verified_factory.sources.files import read_problems
from verified_factory.synthesis.runner import synthesize

STREAM_RESTARTS = 5
"""How often one unit re-sends what had not arrived when the generation worker is lost."""

VERIFY_BACKLOG = 4
"""Units in flight per unit generating: room for verification to lag behind the model without
holding up the requests, within a fixed bound on memory."""

Item = Problem | ProblemError


class JobFailed(FactoryError, RuntimeError):
    """The job cannot go on (for instance the endpoint is unreachable); nothing was lost."""


class Driver:
    def __init__(
        self,
        config: JobConfig,
        store: RunStore,
        prompts: Prompts,
        metrics: RunMetrics,
        generator: ray.actor.ActorHandle,
        verifiers: VerifierPool,
        decontaminator: Decontaminator | None = None,
        paraphrases: EmbeddingIndex | None = None,
    ) -> None:
        self.config = config
        self.store = store
        self.prompts = prompts
        self.metrics = metrics
        self.generator = generator
        self.verifiers = verifiers
        self.decontaminator = decontaminator
        self.paraphrases = paraphrases
        self._generating = asyncio.Semaphore(1)  # sized in run()
        self._synthesized: list[Path] = []  # the synthesizers' problem files, made in run()

    async def run(self) -> None:
        await self._start_generator()
        self._synthesized = await synthesize(
            self.config.source.synthesize,
            self.store,
            self._complete,
            self._synthesis_request,
            self.config.source.generators.seed,
        )
        committed = self.store.committed_units()
        generating = self._units_generating()
        self._generating = asyncio.Semaphore(generating)
        window = asyncio.Semaphore(VERIFY_BACKLOG * generating)
        running: set[asyncio.Task[None]] = set()
        failed: list[BaseException] = []

        def finished(task: asyncio.Task[None]) -> None:
            running.discard(task)
            window.release()
            if not task.cancelled() and task.exception() is not None:
                failed.append(task.exception())  # type: ignore[arg-type]

        for unit, items in enumerate(_units(self._items(), self.config.solve.unit_size)):
            problems = sum(isinstance(item, Problem) for item in items)
            if unit in committed:
                self.metrics.problems_skipped += problems
                continue
            await window.acquire()
            if failed:
                break
            task = asyncio.create_task(self._unit(unit, items, problems))
            running.add(task)
            task.add_done_callback(finished)
        if running:
            await asyncio.wait(set(running))
        if failed:
            raise failed[0]

    async def _start_generator(self) -> None:
        try:
            node, pid = await self.generator.start.remote()
        except RayTaskError as err:
            cause = err.as_instanceof_cause()
            if isinstance(cause, ModelUnreachable):
                raise JobFailed(str(cause.args[0]) if cause.args else str(cause)) from None
            raise
        self.metrics.processes["generation"] = pid
        self.metrics.verified_on_node.setdefault(node, 0)

    def _synthesis_request(self, prompt: str, number: int) -> ChatRequest:
        return ChatRequest.asking(self.config.model, prompt, number)

    def _units_generating(self) -> int:
        """Units asking the model at once: enough for twice `max_concurrency` requests."""
        per_unit = self.config.solve.unit_size * self.config.solve.samples
        return max(2, math.ceil(2 * self.config.model.max_concurrency / per_unit))

    def _items(self) -> Iterator[Item]:
        """The source's problems; bad records, repeated ids and problems that copy a benchmark
        as errors naming them."""
        seen: set[str] = set()
        synthesized = (read_problems(path) for path in self._synthesized)
        for item in chain(read_source(self.config.source), *synthesized):
            if isinstance(item, RecordError):
                yield ProblemError(
                    problem_id=item.record_id,
                    line=item.line,
                    stage="source",
                    kind="bad_record",
                    message=str(item),
                )
            elif item.id in seen:
                yield ProblemError(
                    problem_id=item.id,
                    stage="source",
                    kind="duplicate_id",
                    message=f"problem {item.id!r} ({item.source}): an earlier problem has this id; "
                    "ids must be unique in a run, so this one is skipped",
                )
            else:
                seen.add(item.id)
                hit = self.decontaminator and self.decontaminator.check_problem(item)
                yield contaminated(item.id, hit) if hit else item

    async def _unit(self, unit: int, items: list[Item], count: int) -> None:
        problems = [item for item in items if isinstance(item, Problem)]
        records: list[Attempt | ProblemError] = [i for i in items if isinstance(i, ProblemError)]
        if self.paraphrases is not None and problems:
            # A batch of embeddings takes a moment: off the loop, which keeps streaming.
            hits = await asyncio.to_thread(self.paraphrases.check_problems, problems)
            records += [
                contaminated(p.id, hit) for p, hit in zip(problems, hits, strict=True) if hit
            ]
            problems = [p for p, hit in zip(problems, hits, strict=True) if not hit]
        attempts, failures = await self._round(unit, problems, hinted=False)
        records += failures
        if self.config.star.rationalize:
            solved = {a.problem_id for a in attempts if a.verdict.accepted}
            unsolved = [p for p in problems if p.id not in solved and can_rationalize(p)]
            hinted, failures = await self._round(unit, unsolved, hinted=True)
            attempts += hinted
            records += failures
        by_problem: dict[str, list[Attempt]] = {}
        for attempt in attempts:
            by_problem.setdefault(attempt.problem_id, []).append(attempt)
        for group in by_problem.values():
            records.extend(mark_kept(group, self.config.solve.keep))
        self.store.commit(unit, records, retry=any(worth_retrying(r) for r in records))
        self.metrics.unit(count, records)

    async def _round(
        self, unit: int, problems: list[Problem], *, hinted: bool
    ) -> tuple[list[Attempt], list[ProblemError]]:
        """Ask for every problem's samples (and, for code without trusted tests, for tests),
        verify what came back: the attempts, and an error for each request with no completion."""
        if not problems:
            return [], []
        samples = self.config.solve.samples
        plan = [
            (problem, request)
            for problem in problems
            for request in requests_for(
                problem, self.prompts, self.config.model, samples, hinted=hinted
            )
        ]
        writing = [] if hinted else [p for p in problems if asks_for_tests(p)]
        asked_for_tests = [
            (problem, request)
            for problem in writing
            for request in requests_for_tests(
                problem, self.config.model, self.config.verify.dual_agreement.test_samples
            )
        ]
        log = self.store.completions_file(unit)
        answers = await self._complete(log, [request for _, request in plan + asked_for_tests])
        suites, failures = _test_suites(writing, asked_for_tests, answers)
        judged: list[tuple[Problem, ChatRequest, Completion, Reply]] = []
        screened: list[Attempt] = []
        for problem, request in plan:
            answer = answers[request.key]
            if isinstance(answer, ModelFailure):
                what = "rationalization" if hinted else "sample"
                failures.append(_no_completion(problem, f"{what} {request.sample}", answer))
                continue
            reply = read_reply(answer)
            verdict = self._screen(problem, request, reply, hinted=hinted)
            if verdict is None:
                judged.append((problem, request, answer, reply))
            else:
                screened.append(
                    attempt_for(
                        problem, self.prompts, request, answer, reply, verdict, hinted=hinted
                    )
                )
        self.metrics.screened([attempt.verdict for attempt in screened])
        candidates: list[Candidate] = [
            candidate_for(problem, request, reply, hinted=hinted)
            for problem, request, _, reply in judged
        ]
        candidates = [
            c.model_copy(
                update={"tests": suites[c.problem_id], "meta": {**c.meta, "tests_trusted": False}}
            )
            if c.problem_id in suites
            else c
            for c in candidates
        ]
        verdicts = await self._verify(candidates)
        attempts = screened + [
            attempt_for(problem, self.prompts, request, answer, reply, verdict, hinted=hinted)
            for (problem, request, answer, reply), verdict in zip(judged, verdicts, strict=True)
        ]
        return attempts, failures

    def _screen(
        self, problem: Problem, request: ChatRequest, reply: Reply, *, hinted: bool
    ) -> Verdict | None:
        """The verdict of a reply that no verifier should see (cut off, or without the format
        the prompt asked for), or None when it goes on to be judged."""
        id = attempt_id(problem, request, hinted=hinted)
        if reply.truncated is not None:
            return Verdict(
                id=id, verifier=SCREEN, accepted=False, status="truncated", reason=reply.truncated
            )
        if self.config.verify.require_format:
            missing = missing_format(problem.domain, reply.answer)
            if missing is not None:
                return Verdict(
                    id=id, verifier=SCREEN, accepted=False, status="rejected", reason=missing
                )
        return None

    async def _verify(self, candidates: list[Candidate]) -> list[Verdict]:
        """Each candidate's verdict, in order: alone, or together with the other samples of its
        problem when there is nothing trusted to judge one against (`judged_together`)."""
        groups: dict[str, list[int]] = {}
        alone: list[int] = []
        for index, candidate in enumerate(candidates):
            if candidate.judged_together:
                groups.setdefault(candidate.problem_id or candidate.id, []).append(index)
            else:
                alone.append(index)
        by_verifier, by_agreement = await asyncio.gather(
            self.verifiers.verify([candidates[i] for i in alone]),
            self.verifiers.verify_groups([[candidates[i] for i in g] for g in groups.values()]),
        )
        verdicts: dict[int, Verdict] = dict(zip(alone, by_verifier, strict=True))
        grouped = [index for group in groups.values() for index in group]
        verdicts.update(zip(grouped, by_agreement, strict=True))
        return [verdicts[index] for index in range(len(candidates))]

    async def _complete(
        self, log: Path, requests: list[ChatRequest]
    ) -> dict[str, Completion | ModelFailure]:
        """Each request's completion: from the store if bought before, else from the model.

        If the generation worker dies mid-stream, Ray restarts it and the unit asks again for
        what is neither answered nor stored: the worker stores each completion before sending
        it on, so only the requests in flight are bought twice.
        """
        answers: dict[str, Completion | ModelFailure] = {}
        for restart in range(STREAM_RESTARTS + 1):
            stored = self.store.stored_completions(log)
            missing: dict[str, ChatRequest] = {}
            for request in requests:
                if request.key in answers:
                    continue
                if request.key in stored:
                    answers[request.key] = stored[request.key]
                    self.metrics.completion(stored[request.key], reused=True)
                else:
                    missing[request.key] = request
            if not missing:
                break
            try:
                async with self._generating:
                    await self._stream(log, list(missing.values()), answers)
                break
            except RayActorError:
                if restart == STREAM_RESTARTS:
                    raise
                await asyncio.sleep(min(2**restart, 10))  # Ray is restarting the worker
        return answers

    async def _stream(
        self, log: Path, requests: list[ChatRequest], answers: dict[str, Completion | ModelFailure]
    ) -> None:
        stream = self.generator.complete.options(num_returns="streaming").remote(requests, str(log))
        async for ref in stream:
            arrived: list[Completion | ModelFailure] = await ref
            for answer in arrived:
                answers[answer.key] = answer
                self.metrics.completion(answer, reused=False)


def _test_suites(
    problems: list[Problem],
    asked: list[tuple[Problem, ChatRequest]],
    answers: dict[str, Completion | ModelFailure],
) -> tuple[dict[str, AssertTests | None], list[ProblemError]]:
    """Each problem's tests, gathered from its own and the model's replies (`model_tests`),
    and an error for each request for tests with no completion."""
    replies: dict[str, list[str]] = {problem.id: [] for problem in problems}
    failures = []
    for problem, request in asked:
        answer = answers[request.key]
        if isinstance(answer, ModelFailure):
            failures.append(_no_completion(problem, f"request for tests {request.sample}", answer))
        elif (reply := read_reply(answer)).truncated is None:
            replies[problem.id].append(reply.answer)
    suites = {problem.id: gathered_tests(problem, replies[problem.id]) for problem in problems}
    return suites, failures


def _no_completion(problem: Problem, what: str, failure: ModelFailure) -> ProblemError:
    return ProblemError(
        problem_id=problem.id,
        stage="model",
        kind=failure.kind,
        message=f"{what} of problem {problem.id!r} got no completion after "
        f"{failure.attempts} attempt(s): {failure.message}",
    )


def _units(items: Iterable[Item], size: int) -> Iterator[list[Item]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk
