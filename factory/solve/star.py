"""STaR for one problem: the requests to send, the candidates they yield, the attempts they make.

Each problem gets `samples` solve requests. When none of the answers is verified and the problem
has a reference, it gets `samples` more with the reference as a hint (rationalization); those
attempts are flagged `rationalized`, and their stored prompt is the plain solve prompt, never the
hinted one. Which verified rationales are kept is curation's choice (`curate/curator.py`).
"""

from __future__ import annotations

from verified_factory.config import ModelConfig
from verified_factory.models.base import ChatRequest, Completion, Message
from verified_factory.records import Candidate, Problem, TestSpec, Verdict
from verified_factory.rows import Attempt
from verified_factory.solve.prompts import Prompts
from verified_factory.solve.replies import Reply


def requests_for(
    problem: Problem, prompts: Prompts, model: ModelConfig, samples: int, *, hinted: bool
) -> list[ChatRequest]:
    """The problem's solve requests, or its rationalization requests when `hinted`."""
    text = prompts.hinted(problem) if hinted else prompts.prompt(problem)
    return [ChatRequest.asking(model, text, sample) for sample in range(samples)]


def _has_reference(problem: Problem) -> bool:
    return problem.reference is not None and bool(problem.reference.strip())


def can_rationalize(problem: Problem) -> bool:
    """A problem with a reference to hint at, unless that reference is not trusted: a hint
    from it would only teach the samples to agree with it."""
    return _has_reference(problem) and not asks_for_tests(problem)


def asks_for_tests(problem: Problem) -> bool:
    """A code problem without tests, or whose tests the model wrote (`meta.tests_trusted` is
    false): the model is asked for tests too, and its samples are judged together against
    them (dual agreement)."""
    return problem.domain == "code" and (
        problem.tests is None or problem.meta.get("tests_trusted") is False
    )


def attempt_id(problem: Problem, request: ChatRequest, *, hinted: bool) -> str:
    return f"{problem.id}/{'r' if hinted else 's'}{request.sample}"


def candidate_for(
    problem: Problem, request: ChatRequest, reply: Reply, *, hinted: bool
) -> Candidate:
    """What the verifier judges: the problem with the reply's answer (never its reasoning),
    under the attempt's id."""
    return Candidate(
        **problem.model_dump(exclude={"id"}),
        id=attempt_id(problem, request, hinted=hinted),
        problem_id=problem.id,
        response=reply.answer,
    )


def attempt_for(
    problem: Problem,
    prompts: Prompts,
    request: ChatRequest,
    completion: Completion,
    reply: Reply,
    verdict: Verdict,
    *,
    hinted: bool,
) -> Attempt:
    """The attempt as stored: the plain solve prompt, whatever was sent, and the reply's
    answer and reasoning apart.

    An attempt accepted by agreement records it. By self-consistency, the majority answer
    becomes its `reference`; by dual agreement, the tests its consensus set passes become its
    `tests` (and the problem's reference stays only if it was in that set). So the row can be
    checked again like any other.
    """
    agreement, reference, tests = _judged_by(problem, verdict)
    return Attempt(
        id=attempt_id(problem, request, hinted=hinted),
        problem_id=problem.id,
        domain=problem.domain,
        source=problem.source,
        model=completion.model,
        messages=(
            Message(role="user", content=prompts.prompt(problem)),
            Message(role="assistant", content=reply.answer),
        ),
        reasoning=reply.reasoning,
        reference=reference,
        agreement=agreement,
        provenance=problem.meta.get("provenance"),
        tests=tests.model_dump_json() if tests else None,
        rationalized=hinted,
        kept=False,
        verdict=verdict,
        prompt_tokens=completion.prompt_tokens,
        completion_tokens=completion.completion_tokens,
    )


def _judged_by(
    problem: Problem, verdict: Verdict
) -> tuple[float | None, str | None, TestSpec | None]:
    """The row's agreement, reference and tests, as its verdict establishes them: what the
    samples agreed on replaces what the problem lacked, and a reference outside the agreement
    is dropped."""
    agreed = verdict.agreement
    if agreed is None:
        return None, problem.reference, problem.tests
    reference = agreed.answer or (problem.reference if agreed.reference_agrees else None)
    return agreed.share, reference, agreed.tests or problem.tests
