"""The solve stage of a unit: STaR's rounds over its problems, each reply judged as it comes.

A round asks for every problem's `samples` (and, for code without trusted tests, for tests:
`model_tests.py`), reads each reply (`replies.py`), screens out what no verifier should see (a
cut-off reply, one without the format the prompt asked for) and has the rest judged. With
`star.rationalize`, the problems none of whose samples was accepted and that have a reference to
hint at get a second, hinted round. The stage knows nothing of Ray or of the run directory: it is
given how to buy completions (`Complete`) and how to judge candidates (`Judge`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Awaitable, Callable
from pathlib import Path

from verified_factory.config import JobConfig
from verified_factory.models.base import ChatRequest, Complete, Completion, ModelFailure
from verified_factory.records import AssertTests, Candidate, Problem, Verdict
from verified_factory.rows import Attempt, ProblemError
from verified_factory.solve.model_tests import gathered_tests, requests_for_tests
from verified_factory.solve.prompts import Prompts
from verified_factory.solve.replies import SCREEN, Reply, missing_format, read_reply
from verified_factory.solve.star import (
    asks_for_tests,
    attempt_for,
    attempt_id,
    can_rationalize,
    candidate_for,
    requests_for,
)

Judge = Callable[[list[Candidate]], Awaitable[list[Verdict]]]
"""One verdict per candidate, in order."""

Solved = tuple[list[Attempt], list[ProblemError]]
"""The attempts made, and an error for each request that got no completion."""


class Solver:
    def __init__(
        self, config: JobConfig, prompts: Prompts, complete: Complete, judge: Judge
    ) -> None:
        self.config = config
        self.prompts = prompts
        self.complete = complete
        self.judge = judge

    async def solve(self, log: Path, problems: list[Problem]) -> Solved:
        """Every attempt at the problems, hinted ones included, each with its problem's pass
        rate; completions bought into `log`."""
        attempts, failures = await self._round(log, problems, hinted=False)
        rates = _pass_rates(attempts)
        if self.config.star.rationalize:
            solved = {a.problem_id for a in attempts if a.verdict.accepted}
            unsolved = [p for p in problems if p.id not in solved and can_rationalize(p)]
            hinted, more = await self._round(log, unsolved, hinted=True)
            attempts += hinted
            failures += more
        rated = [a.model_copy(update={"pass_rate": rates.get(a.problem_id)}) for a in attempts]
        return rated, failures

    async def _round(self, log: Path, problems: list[Problem], *, hinted: bool) -> Solved:
        if not problems:
            return [], []
        samples = self.config.solve.samples
        model = self.config.model
        plan = [
            (problem, request)
            for problem in problems
            for request in requests_for(problem, self.prompts, model, samples, hinted=hinted)
        ]
        writing = [] if hinted else [p for p in problems if asks_for_tests(p)]
        test_samples = self.config.verify.dual_agreement.test_samples
        asked_for_tests = [
            (problem, request)
            for problem in writing
            for request in requests_for_tests(problem, model, test_samples)
        ]
        answers = await self.complete(log, [request for _, request in plan + asked_for_tests])
        suites, failures = _test_suites(writing, asked_for_tests, answers)
        judged: list[tuple[Problem, ChatRequest, Completion, Reply]] = []
        attempts: list[Attempt] = []
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
                attempts.append(
                    attempt_for(
                        problem, self.prompts, request, answer, reply, verdict, hinted=hinted
                    )
                )
        candidates = [
            _with_tests(candidate_for(problem, request, reply, hinted=hinted), suites)
            for problem, request, _, reply in judged
        ]
        verdicts = await self.judge(candidates)
        attempts += [
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


def _pass_rates(plain: list[Attempt]) -> dict[str, float]:
    """Each problem's share of accepted plain samples, over the samples that got a completion
    (what RL users keep a band of: open-r1 keeps 0.1 to 0.6)."""
    made = Counter(attempt.problem_id for attempt in plain)
    accepted = Counter(attempt.problem_id for attempt in plain if attempt.verdict.accepted)
    return {problem: accepted[problem] / made[problem] for problem in made}


def _with_tests(candidate: Candidate, suites: dict[str, AssertTests | None]) -> Candidate:
    """The candidate judged against the tests gathered for its problem, when it asked for some;
    they are marked untrusted, so its samples are judged together (dual agreement)."""
    if candidate.problem_id not in suites:
        return candidate
    meta = {**candidate.meta, "tests_trusted": False}
    return candidate.model_copy(update={"tests": suites[candidate.problem_id], "meta": meta})


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
