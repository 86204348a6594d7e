"""Evol-Instruct (WizardLM, Xu et al. 2023): problems made harder, or new, round after round.

Each round evolves every problem of the last generation (the seeds first) with one operation
drawn at random: in depth (add a constraint, deepen, concretise, more reasoning steps) or in
breadth (a new, rarer problem of the same domain). A failed evolution (no new information, a
refusal, a copy of the rewrite prompt's wording, an empty or contentless reply) is eliminated
and recorded; the survivors are the next generation.
"""

from __future__ import annotations

import random

from verified_factory.records import Problem
from verified_factory.synthesis.base import Ask, Dropped, Synthesized, Synthesizer, reply_text
from verified_factory.synthesis.filters import failed_evolution

IN_DEPTH = """I want you to act as a problem rewriter. Rewrite the given problem into a more \
difficult version that a strong student would still find well-posed. {method} Keep it \
self-contained, with one definite final answer, and do not add more than 20 words.

Given problem:
{problem}

Reply with the rewritten problem only, after "Problem:"."""

METHODS = {
    "constraints": "Add one more constraint or requirement.",
    "deepen": "Make the question ask about a deeper or more general version of the same idea.",
    "concretize": "Replace a general concept with a more specific one.",
    "reasoning": "Make it need more steps of reasoning to solve.",
}

IN_BREADTH = """I want you to act as a problem creator. Draw inspiration from the given problem \
to write a brand new problem of the same domain ({domain}) that is rarer, but of similar length \
and difficulty. It must be self-contained, with one definite final answer.

Given problem:
{problem}

Reply with the new problem only, after "Problem:"."""

OPERATIONS = (*METHODS, "breadth")


class EvolInstruct(Synthesizer):
    kind = "evol_instruct"

    async def run(self, seeds: list[Problem], ask: Ask, rng: random.Random) -> Synthesized:
        result = Synthesized()
        generation = list(seeds)
        for round_ in range(1, self.settings.rounds + 1):
            room = self.settings.count - len(result.problems)
            if room <= 0 or not generation:
                break
            parents = generation[:room]
            operations = [rng.choice(OPERATIONS) for _ in parents]
            prompts = [self._prompt(p, op) for p, op in zip(parents, operations, strict=True)]
            replies = await ask(prompts)
            generation = []
            for parent, operation, prompt, reply in zip(
                parents, operations, prompts, replies, strict=True
            ):
                provenance = {**self.provenance([parent], round_), "operation": operation}
                root = parent.meta.get("provenance", {}).get("seeds")
                if root:  # the seed item an evolved problem descends from
                    provenance["seeds"] = root
                text = reply_text(reply) if reply is not None else ""
                reason = (
                    "no completion"
                    if reply is None
                    else failed_evolution(parent.problem, text, rewrite_prompt=prompt)
                )
                if reason is not None:
                    result.dropped.append(Dropped(text, reason, provenance))
                    continue
                problem = self.new_problem(len(result.problems), text, provenance)
                result.problems.append(problem)
                generation.append(problem)
        return result

    def _prompt(self, problem: Problem, operation: str) -> str:
        if operation == "breadth":
            return IN_BREADTH.format(domain=self.settings.domain, problem=problem.problem)
        return IN_DEPTH.format(method=METHODS[operation], problem=problem.problem)
