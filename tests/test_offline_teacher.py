"""The offline teacher: its answers judged by the real verifiers, its determinism and its rates."""

from __future__ import annotations

import asyncio
import re
import time
from pathlib import Path
from typing import Any

import pytest

from verified_factory.config import JobConfig
from verified_factory.models.base import ChatRequest, Completion, Message, ModelError
from verified_factory.records import Candidate, Problem, Verdict
from verified_factory.sandboxes import open_sandbox
from verified_factory.solve.prompts import Prompts, load_prompts
from verified_factory.sources.code_problems import FORMATS
from verified_factory.sources.math_problems import FAMILIES
from verified_factory.teacher import code_answers
from verified_factory.teacher.offline import OfflineTeacher, built_in_problems
from verified_factory.verifiers.code import CodeVerifier
from verified_factory.verifiers.code.extract import extract_program
from verified_factory.verifiers.math import MathVerifier

SEED = 7
TEMPLATES = 13
DEFAULT_PROMPTS = load_prompts({}, {})


def job(math: int = 0, code: int = 0, rate: float = 0.3, **sections: Any) -> JobConfig:
    return JobConfig.model_validate(
        {
            "source": {"generators": {"math": math, "code": code, "seed": SEED}},
            "model": {"offline_error_rate": rate, **sections.pop("model", {})},
            **sections,
        }
    )


def problems_of(config: JobConfig) -> list[Problem]:
    return built_in_problems(config.source.generators)


def ask(text: str, sample: int = 0, before: tuple[Message, ...] = ()) -> ChatRequest:
    return ChatRequest(
        model="offline-teacher",
        messages=(*before, Message(role="user", content=text)),
        temperature=0.8,
        max_tokens=2048,
        sample=sample,
    )


def complete(teacher: OfflineTeacher, requests: list[ChatRequest]) -> list[Completion]:
    async def run() -> list[Completion]:
        return [await teacher.complete(request) for request in requests]

    return asyncio.run(run())


def answer(teacher: OfflineTeacher, request: ChatRequest) -> str:
    return complete(teacher, [request])[0].text


def is_right(problem: Problem, text: str) -> bool:
    """Whether the response gives the reference: the boxed answer, or the program verbatim."""
    assert problem.reference is not None
    if problem.domain == "math":
        boxed = re.findall(r"\\boxed\{(.*)\}\$\.$", text)
        assert len(boxed) == 1, text
        return boxed[0] == problem.reference
    assert text.count("```python\n") == 1 and text.count("```") == 2, text
    return extract_program(text) == problem.reference


def judge(verifier: MathVerifier | CodeVerifier, problem: Problem, text: str) -> Verdict:
    return verifier.verify(Candidate(**problem.model_dump(), response=text))


# --- math -----------------------------------------------------------------------------------------


def test_math_answers_are_accepted_when_right_and_rejected_when_wrong() -> None:
    count = 10 * len(FAMILIES)
    problems = problems_of(job(math=count))
    assert {p.meta["family"] for p in problems} == set(FAMILIES)
    right = OfflineTeacher(job(math=count, rate=0))
    wrong = OfflineTeacher(job(math=count, rate=1))
    verifier = MathVerifier()
    for p in problems:
        for sample in range(3):
            request = ask(DEFAULT_PROMPTS.prompt(p), sample)
            text = answer(right, request)
            assert is_right(p, text)
            verdict = judge(verifier, p, text)
            assert verdict.status == "accepted", (p.id, verdict.reason, text)
            text = answer(wrong, request)
            assert not is_right(p, text)
            verdict = judge(verifier, p, text)
            assert verdict.status == "rejected", (p.id, verdict.reason, text)


@pytest.mark.slow
def test_every_math_problem_of_a_seed_gets_a_wrong_answer_the_verifier_rejects() -> None:
    count = 150 * len(FAMILIES)
    config = job(math=count, rate=1)
    wrong = OfflineTeacher(config)
    verifier = MathVerifier()
    for p in problems_of(config):
        text = answer(wrong, ask(DEFAULT_PROMPTS.prompt(p), sample=5))
        verdict = judge(verifier, p, text)
        assert verdict.status == "rejected", (p.id, verdict.reason, text)


def test_a_wrong_math_answer_is_not_contradicted_by_its_last_step() -> None:
    count = 10 * len(FAMILIES)
    config = job(math=count, rate=1)
    teacher = OfflineTeacher(config)
    for p in problems_of(config):
        text = answer(teacher, ask(DEFAULT_PROMPTS.prompt(p)))
        reasoning, conclusion = text.rsplit("\n\n", 1)
        given = re.findall(r"\\boxed\{(.*)\}", conclusion)[0]
        *earlier, last = p.meta["steps"]
        assert all(step in reasoning for step in earlier), text
        assert last not in reasoning and given in reasoning, text


# --- code -----------------------------------------------------------------------------------------


def check_code(
    verifier: CodeVerifier,
    problem: Problem,
    text: str,
    accepted: bool,
) -> None:
    """The verifier's judgement is the one expected."""
    verdict = judge(verifier, problem, text)
    expected = "accepted" if accepted else "rejected"
    assert verdict.status == expected, (problem.id, verdict.reason, text)


@pytest.fixture
def process_verifier():
    verifier = CodeVerifier(open_sandbox("process"))
    yield verifier
    verifier.sandbox.close()


def test_code_answers_are_accepted_when_right_and_rejected_when_wrong(
    process_verifier: CodeVerifier,
) -> None:
    count = 8 * TEMPLATES
    problems = problems_of(job(code=count))
    assert len({p.meta["template"] for p in problems}) == TEMPLATES
    assert {p.tests.format for p in problems if p.tests} == set(FORMATS)
    right = OfflineTeacher(job(code=count, rate=0))
    wrong = OfflineTeacher(job(code=count, rate=1))
    for p in problems:
        text = answer(right, ask(DEFAULT_PROMPTS.prompt(p)))
        assert is_right(p, text)
        check_code(process_verifier, p, text, True)
        for sample in range(3):  # samples draw different bugs
            text = answer(wrong, ask(DEFAULT_PROMPTS.prompt(p), sample))
            assert not is_right(p, text)
            check_code(process_verifier, p, text, False)


@pytest.mark.slow
def test_every_code_problem_of_a_seed_gets_a_bug_its_tests_catch(
    process_verifier: CodeVerifier,
) -> None:
    """A hundred variants of every template: each wrong program is rejected by the verifier."""
    count = 100 * TEMPLATES
    config = job(code=count, rate=1)
    wrong = OfflineTeacher(config)
    for p in problems_of(config):
        text = answer(wrong, ask(DEFAULT_PROMPTS.prompt(p), sample=5))
        check_code(process_verifier, p, text, False)


@pytest.mark.docker
def test_pytest_format_answers_are_judged_for_real_in_docker(docker_engine) -> None:
    count = 4 * TEMPLATES
    problems = [p for p in problems_of(job(code=count)) if p.tests and p.tests.format == "pytest"]
    right = OfflineTeacher(job(code=count, rate=0))
    wrong = OfflineTeacher(job(code=count, rate=1))
    verifier = CodeVerifier(sandbox="docker")
    try:
        for p in problems:
            request = ask(DEFAULT_PROMPTS.prompt(p))
            assert judge(verifier, p, answer(right, request)).status == "accepted", p.id
            assert judge(verifier, p, answer(wrong, request)).status == "rejected", p.id
    finally:
        verifier.sandbox.close()


def test_without_a_bug_that_applies_the_misspelt_name_still_fails_every_format(
    process_verifier: CodeVerifier, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(code_answers, "_BUGS", {})
    config = job(code=8, rate=1)
    wrong = OfflineTeacher(config)
    problems = problems_of(config)
    assert {p.tests.format for p in problems if p.tests} == set(FORMATS)
    for p in problems:
        text = answer(wrong, ask(DEFAULT_PROMPTS.prompt(p)))
        check_code(process_verifier, p, text, False)


# --- determinism and rates ------------------------------------------------------------------------


def test_the_same_request_gets_the_same_text_and_other_samples_mostly_differ() -> None:
    config = job(math=2 * len(FAMILIES), code=TEMPLATES)
    first, again = OfflineTeacher(config), OfflineTeacher(config)  # as a resumed run would
    texts = []
    for p in problems_of(config):
        requests = [ask(DEFAULT_PROMPTS.prompt(p), sample) for sample in range(4)]
        answers = [c.text for c in complete(first, requests)]
        assert answers == [c.text for c in complete(first, requests)]
        assert answers == [c.text for c in complete(again, requests)]
        texts.append(answers)
    distinct = sum(len(set(answers)) for answers in texts) / sum(map(len, texts))
    assert distinct > 0.85, distinct


def wrong_share(teacher: OfflineTeacher, problems: list[Problem], prompt) -> float:
    requests = [(p, ask(prompt(p), sample)) for p in problems for sample in range(8)]
    texts = complete(teacher, [request for _, request in requests])
    return sum(not is_right(p, c.text) for (p, _), c in zip(requests, texts, strict=True)) / len(
        requests
    )


def test_wrong_answers_come_at_the_configured_rate_and_less_often_with_a_hint() -> None:
    config = job(math=200, code=4 * TEMPLATES, rate=0.3)
    teacher = OfflineTeacher(config)
    problems = problems_of(config)
    assert wrong_share(teacher, problems, DEFAULT_PROMPTS.prompt) == pytest.approx(0.3, abs=0.04)
    assert wrong_share(teacher, problems, DEFAULT_PROMPTS.hinted) == pytest.approx(0.075, abs=0.025)


# --- what the teacher knows -----------------------------------------------------------------------


def test_an_unknown_problem_is_declined() -> None:
    config = job(math=8, code=4)
    teacher = OfflineTeacher(config)
    other_seed = built_in_problems(config.source.generators.model_copy(update={"seed": SEED + 1}))
    for text in ("What is 2 + 2?", DEFAULT_PROMPTS.prompt(other_seed[0])):
        with pytest.raises(ModelError) as caught:
            answer(teacher, ask(text))
        assert caught.value.kind == "declined"
        assert "built-in generators" in caught.value.message
        assert "model.backend: openai" in caught.value.message


def test_the_last_user_message_is_the_one_answered() -> None:
    config = job(math=8, rate=0)
    teacher = OfflineTeacher(config)
    p = problems_of(config)[3]
    earlier = (
        Message(role="system", content="You are a careful mathematician."),
        Message(role="user", content="Hello"),
        Message(role="assistant", content="Hi! Which problem?"),
    )
    assert is_right(p, answer(teacher, ask(DEFAULT_PROMPTS.prompt(p), before=earlier)))


def hint_wording(prompts: Prompts, problem: Problem) -> list[str]:
    """The phrases a hinted prompt adds to the solve prompt, the reference itself left out."""
    assert problem.reference is not None
    extra = prompts.hinted(problem).replace(prompts.prompt(problem), "")
    extra = extra.replace(problem.reference.strip(), "\n")
    return [part.strip() for part in re.split(r"[\n()]", extra) if len(part.split()) >= 3]


def test_hinted_prompts_are_answered_without_repeating_the_hint() -> None:
    config = job(math=2 * len(FAMILIES), code=TEMPLATES, rate=0)
    teacher = OfflineTeacher(config)
    for p in problems_of(config):
        for sample in range(2):
            text = answer(teacher, ask(DEFAULT_PROMPTS.hinted(p), sample))
            assert is_right(p, text)
            wording = hint_wording(DEFAULT_PROMPTS, p)
            assert wording and not any(phrase in text for phrase in wording), text
            assert "hint" not in text.lower() and "told" not in text.lower()


def test_a_config_with_its_own_prompt_files_is_honoured(tmp_path: Path) -> None:
    files = {
        "math.txt": "Problem:\n{problem}\n\nBox the final answer.",
        "math_hint.txt": "{prompt}\n\nPSST: it is {reference}. Keep that to yourself.",
        "code.txt": "Task for a Python programmer:\n{problem}",
        "code_hint.txt": "{prompt}\n\nPSST: one solution is\n{reference}",
    }
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    star = {
        "prompts": {d: str(tmp_path / f"{d}.txt") for d in ("math", "code")},
        "hints": {d: str(tmp_path / f"{d}_hint.txt") for d in ("math", "code")},
    }
    config = job(math=len(FAMILIES), code=4, rate=0, star=star)
    teacher = OfflineTeacher(config)
    custom = load_prompts(config.star.prompts, config.star.hints)
    for p in problems_of(config):
        assert is_right(p, answer(teacher, ask(custom.prompt(p))))
        hinted = answer(teacher, ask(custom.hinted(p)))
        assert is_right(p, hinted) and "PSST" not in hinted
        with pytest.raises(ModelError, match="built-in generators"):
            answer(teacher, ask(DEFAULT_PROMPTS.prompt(p)))


# --- the completion -------------------------------------------------------------------------------


def test_a_completion_names_the_configured_model_and_estimates_its_tokens() -> None:
    config = job(math=8, model={"model": "teacher-7b"})
    teacher = OfflineTeacher(config)
    request = ask(DEFAULT_PROMPTS.prompt(problems_of(config)[0]))
    asyncio.run(teacher.probe())
    completion = complete(teacher, [request])[0]
    asyncio.run(teacher.aclose())
    assert completion.key == request.key
    assert completion.model == "teacher-7b"
    assert completion.finish_reason == "stop" and completion.attempts == 1
    prompt_chars = len(request.messages[0].content)
    assert completion.prompt_tokens == pytest.approx(prompt_chars / 4, abs=1)
    assert completion.completion_tokens == pytest.approx(len(completion.text) / 4, abs=1)


def test_thousands_of_completions_a_second() -> None:
    config = job(math=400, code=4 * TEMPLATES)
    teacher = OfflineTeacher(config)
    requests = [
        ask(DEFAULT_PROMPTS.prompt(p), sample) for p in problems_of(config) for sample in range(8)
    ]
    for request in requests:
        _ = request.key  # hashed once by whoever builds the request, not by the teacher
    complete(teacher, requests)  # the first wrong program of a problem is checked once
    start = time.perf_counter()
    complete(teacher, requests)
    rate = len(requests) / (time.perf_counter() - start)
    assert rate > 2000, f"{rate:.0f} completions/s"
