"""Self-Instruct (Wang et al. 2023): new problems written from a few examples of the pool.

Each request shows `seed_examples` seed problems and `new_examples` problems made in earlier
rounds, and asks for one new problem. A reply is kept when it passes the length and blacklist
filters and its ROUGE-L against every problem so far (seeds included) is at most `threshold`
(0.7, the paper's); a kept problem joins the pool. Rounds go on until `count` problems are kept
or `rounds` are spent.
"""

from __future__ import annotations

import random

from verified_factory.records import Problem
from verified_factory.synthesis.base import Ask, Dropped, Synthesized, Synthesizer, reply_text
from verified_factory.synthesis.filters import DEFAULT_BLACKLIST, NoveltyPool, instruction_problem

PROMPT = """You are writing new {domain} problems for a training set. Here are some of the \
problems already in it:

{examples}

Write one new problem that is different from all of these, in topic or in the reasoning it \
needs. It must be self-contained and have one definite final answer. Reply with the problem \
only, after "Problem:"."""


class SelfInstruct(Synthesizer):
    kind = "self_instruct"

    async def run(self, seeds: list[Problem], ask: Ask, rng: random.Random) -> Synthesized:
        options = self.settings.options
        threshold = float(options.get("threshold", 0.7))
        seed_examples = int(options.get("seed_examples", 3))
        new_examples = int(options.get("new_examples", 1))
        limits = {
            "min_words": int(options.get("min_words", 3)),
            "max_words": int(options.get("max_words", 150)),
            "blacklist": options.get("blacklist", DEFAULT_BLACKLIST),
        }
        pool = NoveltyPool((seed.problem for seed in seeds), threshold)
        result = Synthesized()
        for round_ in range(1, self.settings.rounds + 1):
            wanted = self.settings.count - len(result.problems)
            if wanted <= 0:
                break
            shown = [
                rng.sample(seeds, min(seed_examples, len(seeds)))
                + rng.sample(result.problems, min(new_examples, len(result.problems)))
                for _ in range(wanted)
            ]
            replies = await ask([self._prompt(examples) for examples in shown])
            for examples, reply in zip(shown, replies, strict=True):
                provenance = self.provenance(examples, round_)
                text = reply_text(reply) if reply is not None else ""
                reason = "no completion" if reply is None else instruction_problem(text, **limits)
                if reason is None:
                    novel, score, closest = pool.admit(text)
                    if not novel:
                        reason = (
                            f"ROUGE-L {score:.2f} with an earlier problem, above {threshold:g}: "
                            f"{closest[:80]!r}"
                        )
                if reason is not None:
                    result.dropped.append(Dropped(text, reason, provenance))
                    continue
                result.problems.append(self.new_problem(len(result.problems), text, provenance))
        return result

    def _prompt(self, examples: list[Problem]) -> str:
        listed = "\n\n".join(f"Problem {n}: {p.problem}" for n, p in enumerate(examples, 1))
        return PROMPT.format(domain=self.settings.domain, examples=listed)
