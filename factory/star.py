"""STaR for one problem: the requests to send, the candidates they yield, the rationales kept.

Each problem gets `samples` solve requests. When none of the answers is verified and the problem
has a reference, it gets `samples` more with the reference as a hint (rationalization); those
attempts are flagged `rationalized`, and their stored prompt is the plain solve prompt, never the
hinted one. Up to `keep` verified, distinct rationales are kept, unhinted ones first.
"""

from __future__ import annotations

from factory.config import ModelConfig
from factory.curate.distinct import choose_distinct
from factory.models.base import ChatRequest, Completion, Message
from factory.prompts import Prompts
from factory.records import Candidate, Problem, Verdict
from factory.rows import Attempt
from verifiers.math.agreement import consensus


def requests_for(
    problem: Problem, prompts: Prompts, model: ModelConfig, samples: int, *, hinted: bool
) -> list[ChatRequest]:
    """The problem's solve requests, or its rationalization requests when `hinted`."""
    text = prompts.hinted(problem) if hinted else prompts.prompt(problem)
    return [
        ChatRequest(
            model=model.model,
            messages=(Message(role="user", content=text),),
            temperature=model.temperature,
            max_tokens=model.max_tokens,
            sample=sample,
        )
        for sample in range(samples)
    ]


def can_rationalize(problem: Problem) -> bool:
    return problem.reference is not None and bool(problem.reference.strip())


def judged_by_agreement(problem: Problem) -> bool:
    """A math problem without a reference: its samples are judged by self-consistency."""
    return problem.domain == "math" and not can_rationalize(problem)


def attempt_id(problem: Problem, request: ChatRequest, *, hinted: bool) -> str:
    return f"{problem.id}/{'r' if hinted else 's'}{request.sample}"


def candidate_for(
    problem: Problem, request: ChatRequest, completion: Completion, *, hinted: bool
) -> Candidate:
    """What the verifier judges: the problem with the response, under the attempt's id."""
    return Candidate(
        **problem.model_dump(exclude={"id"}),
        id=attempt_id(problem, request, hinted=hinted),
        problem_id=problem.id,
        response=completion.text,
    )


def attempt_for(
    problem: Problem,
    prompts: Prompts,
    request: ChatRequest,
    completion: Completion,
    verdict: Verdict,
    *,
    hinted: bool,
) -> Attempt:
    """The attempt as stored: the plain solve prompt, whatever was sent.

    An attempt accepted by agreement records it, and the majority answer as its `reference`,
    so the row can be checked again like any other.
    """
    agreed = consensus(verdict)
    return Attempt(
        id=attempt_id(problem, request, hinted=hinted),
        problem_id=problem.id,
        domain=problem.domain,
        source=problem.source,
        model=completion.model,
        messages=(
            Message(role="user", content=prompts.prompt(problem)),
            Message(role="assistant", content=completion.text),
        ),
        reference=problem.reference if agreed is None else agreed[1],
        agreement=None if agreed is None else agreed[0],
        provenance=problem.meta.get("provenance"),
        tests=problem.tests.model_dump_json() if problem.tests else None,
        rationalized=hinted,
        kept=False,
        verdict=verdict,
        prompt_tokens=completion.prompt_tokens,
        completion_tokens=completion.completion_tokens,
    )


def mark_kept(attempts: list[Attempt], keep: int) -> list[Attempt]:
    """The attempts with up to `keep` accepted ones of distinct reasoning marked kept."""
    chosen = choose_distinct(attempts, keep)
    return [a.model_copy(update={"kept": a.id in chosen}) for a in attempts]
