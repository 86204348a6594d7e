"""MetaMath (Yu et al. 2024): seed math problems rephrased, and asked backwards.

- Rephrasing: the model rewords a seed problem; the gold answer stays the seed's. A rephrasing
  that changes the problem's numbers, or only copies it, is dropped.
- Backward (FOBAR): one number of the seed problem is masked as x and the original answer is
  stated; the masked number is the new gold answer, checked exactly by the math verifier. No
  model call is needed.

Only seeds with a reference are used.
"""

from __future__ import annotations

import random

from verified_factory.records import Problem
from verified_factory.synthesis.base import Ask, Dropped, Synthesized, Synthesizer, reply_text
from verified_factory.synthesis.filters import backward_question, failed_evolution, numbers_in

PROMPT = """Rephrase the following question without changing its meaning, its numbers or what \
it asks for. Reply with the rephrased question only, after "Question:".

Question: {problem}"""


class MetaMath(Synthesizer):
    kind = "metamath"

    async def run(self, seeds: list[Problem], ask: Ask, rng: random.Random) -> Synthesized:
        usable = [seed for seed in seeds if seed.reference and seed.reference.strip()]
        result = Synthesized()
        if self.settings.options.get("backward", True):
            self._backward(usable, rng, result)
        rephrasings = int(self.settings.options.get("rephrasings", 1))
        for round_ in range(1, min(rephrasings, self.settings.rounds) + 1):
            room = self.settings.count - len(result.problems)
            if room <= 0:
                break
            chosen = usable[:room]
            replies = await ask([PROMPT.format(problem=seed.problem) for seed in chosen])
            for seed, reply in zip(chosen, replies, strict=True):
                provenance = {**self.provenance([seed], round_), "operation": "rephrase"}
                text = reply_text(reply, "Question") if reply is not None else ""
                reason = "no completion" if reply is None else _bad_rephrasing(seed, text)
                if reason is not None:
                    result.dropped.append(Dropped(text, reason, provenance))
                    continue
                result.problems.append(
                    self.new_problem(
                        len(result.problems), text, provenance, reference=seed.reference
                    )
                )
        return result

    def _backward(self, seeds: list[Problem], rng: random.Random, result: Synthesized) -> None:
        for seed in seeds[: self.settings.count]:
            provenance = {**self.provenance([seed], 1), "operation": "backward"}
            asked = backward_question(
                seed.problem, seed.reference or "", choose=lambda n: rng.randrange(n)
            )
            if asked is None:
                reason = "no number to mask (or the problem already has an x)"
                result.dropped.append(Dropped(seed.problem, reason, provenance))
                continue
            result.problems.append(
                self.new_problem(
                    len(result.problems), asked.problem, provenance, reference=asked.masked
                )
            )


def _bad_rephrasing(seed: Problem, text: str) -> str | None:
    if not text:
        return "empty reply"
    if numbers_in(text) != numbers_in(seed.problem):
        return (
            f"changes the numbers ({', '.join(numbers_in(seed.problem))} -> "
            f"{', '.join(numbers_in(text))}), so the gold answer may no longer hold"
        )
    failure = failed_evolution(seed.problem, text)
    if failure and failure.startswith("adds nothing"):
        return "copies the question"
    return failure if failure and not failure.startswith("adds no new word") else None
