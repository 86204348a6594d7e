"""The offline teacher: the built-in model for demos and tests, with no network and no weights.

It answers exactly the problems of the config's built-in generators, asked with the config's
prompts. It rebuilds them from the config alone (the generators are seeded, the prompts are
files the config names), so it runs on any Ray node without a shared file system, and it maps the
exact text of every solve and hinted prompt, and of every request for tests, to its problem in
one dict.

An answer is the problem's worked steps, worded a little differently per sample, and then its
reference answer. With probability `model.offline_error_rate` (a quarter of it when the prompt
gives the reference as a hint) the answer is deliberately wrong, so the verifier has something to
reject and STaR something to rationalize. Every choice is drawn from a generator seeded with the
request's key: the same request always gets the same text, which a resumed run relies on, while
the samples of one problem differ. Asked for tests, it writes asserts from the problem's own test
cases, some of them wrong at the same rate (`written_tests.py`).
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from typing import Literal

from verified_factory.config import Generators, JobConfig
from verified_factory.models.base import ChatRequest, Completion, ModelError
from verified_factory.records import Problem
from verified_factory.solve.model_tests import prompt_for_tests
from verified_factory.solve.prompts import Prompts, load_prompts
from verified_factory.sources import as_sourced
from verified_factory.sources.code_problems import generate_code
from verified_factory.sources.math_problems import generate_math
from verified_factory.teacher.code_answers import BuggyPrograms
from verified_factory.teacher.math_answers import wrong_answer, wrong_steps
from verified_factory.teacher.written_tests import written_tests

HINTED_ERROR_SHARE = 0.25  # a hint makes a wrong answer this much less likely

_INTROS = {
    "math": (
        "",
        "Let's solve this step by step.",
        "We work through the problem one step at a time.",
        "Let me work this out carefully.",
    ),
    "code": (
        "",
        "Let me plan the solution before writing it.",
        "First the approach, then the code.",
        "Here is how to solve it.",
    ),
}
_CONCLUSIONS = (
    "The final answer is",
    "Therefore, the answer is",
    "So the answer is",
    "Putting it together, the answer is",
)
_CODE_LEADS = (
    "Here is the solution:",
    "The complete solution:",
    "Putting it together in Python:",
    "In code:",
)


class OfflineTeacher:
    """A ModelClient that answers the built-in generators' problems of one job config."""

    def __init__(self, config: JobConfig) -> None:
        self._model = config.model.model
        self._error_rate = config.model.offline_error_rate
        self._generators = config.source.generators
        prompts = load_prompts(config.star.prompts, config.star.hints)
        self._known = index_prompts(built_in_problems(self._generators), prompts, self._generators)
        self._bugs = BuggyPrograms()

    async def probe(self) -> None:
        """Nothing to reach: the teacher is in this process."""

    async def complete(self, request: ChatRequest) -> Completion:
        text = self._answer(request)
        prompt_chars = sum(len(message.content) for message in request.messages)
        return Completion(
            key=request.key,
            text=text,
            model=self._model,
            finish_reason="stop",
            prompt_tokens=_tokens(prompt_chars),
            completion_tokens=_tokens(len(text)),
            attempts=1,
        )

    async def aclose(self) -> None:
        """Nothing to release."""

    def _answer(self, request: ChatRequest) -> str:
        asked = next((m.content for m in reversed(request.messages) if m.role == "user"), None)
        known = self._known.get(asked) if asked is not None else None
        if known is None:
            raise ModelError("declined", self._declined())
        problem, asked_for = known
        rng = random.Random(request.key)
        if asked_for == "tests":
            return written_tests(problem, self._error_rate, rng)
        rate = self._error_rate * (HINTED_ERROR_SHARE if asked_for == "hinted" else 1.0)
        wrong = rng.random() < rate
        if problem.domain == "math":
            return _math_answer(problem, wrong, rng)
        program = self._bugs.program(problem, rng) if wrong else problem.reference or ""
        return _code_answer(problem, program, rng)

    def _declined(self) -> str:
        g = self._generators
        return (
            "the offline teacher answers only the problems of this config's built-in generators "
            f"(source.generators: math {g.math}, code {g.code}, seed {g.seed}), asked with the "
            "config's prompts; to solve other problems use a real model: set model.backend: "
            "openai and model.base_url"
        )


def built_in_problems(generators: Generators) -> list[Problem]:
    """The problems the config's generators make, the same on every node."""
    return [
        *generate_math(generators.math, generators.seed),
        *generate_code(generators.code, generators.seed),
    ]


AskedFor = Literal["solve", "hinted", "tests"]


def index_prompts(
    problems: Iterable[Problem], prompts: Prompts, generators: Generators
) -> dict[str, tuple[Problem, AskedFor]]:
    """Each problem under the text of its solve prompt, its hinted prompt and its request for
    tests, each asked about the problem as the job sees it (`as_sourced`)."""
    index: dict[str, tuple[Problem, AskedFor]] = {}
    for problem in problems:
        sourced = as_sourced(problem, generators)
        index[prompts.prompt(sourced)] = (problem, "solve")
        index[prompts.hinted(problem)] = (problem, "hinted")
        index[prompt_for_tests(sourced)] = (problem, "tests")
    return index


def _math_answer(problem: Problem, wrong: bool, rng: random.Random) -> str:
    reference = problem.reference or ""
    steps = list(problem.meta.get("steps", []))
    answer = reference
    if wrong:
        answer = wrong_answer(reference, rng)
        steps = wrong_steps(steps, reference, answer)
    conclusion = f"{rng.choice(_CONCLUSIONS)} $\\boxed{{{answer}}}$."
    return f"{_worked(steps, _INTROS['math'], rng)}\n\n{conclusion}"


def _code_answer(problem: Problem, program: str, rng: random.Random) -> str:
    steps = list(problem.meta.get("steps", []))
    block = f"```python\n{program.rstrip()}\n```"
    return f"{_worked(steps, _INTROS['code'], rng)}\n\n{rng.choice(_CODE_LEADS)}\n\n{block}"


def _worked(steps: list[str], intros: tuple[str, ...], rng: random.Random) -> str:
    """The steps as a numbered list, a list of `Step n:` lines, bullets or one paragraph."""
    layout = rng.randrange(4)
    if layout == 0:
        body = "\n".join(f"{n}. {step}" for n, step in enumerate(steps, 1))
    elif layout == 1:
        body = "\n".join(f"Step {n}: {step}" for n, step in enumerate(steps, 1))
    elif layout == 2:
        body = "\n".join(f"- {step}" for step in steps)
    else:
        body = " ".join(steps)
    intro = rng.choice(intros)
    return f"{intro}\n\n{body}" if intro else body


def _tokens(chars: int) -> int:
    """A rough token count: about four characters a token."""
    return max(1, (chars + 3) // 4)
