"""The synthesizer interface: new problems asked of the model, from seed problems.

A synthesizer is a class registered by `kind` (built in, or under the entry-point group
`verified_factory.synthesizers`, as a verifier plugin is). Its `load_seeds` reads the entry's
`seeds` paths (Problem files unless it says otherwise). The job's driver gives it the seed
problems, an `ask` that buys completions through the run's store (so a crash never pays twice
and a resumed run gets the same answers back), and a random generator seeded by the job; it
returns the new problems and every candidate it dropped, with the reason.

Every new problem carries its provenance in `meta.provenance`: the synthesizer, the seed items
it came from and the round; the pipeline copies it onto every row.
"""

from __future__ import annotations

import random
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from verified_factory.records import Problem, RecordError
from verified_factory.sources.files import read_problems

Ask = Callable[[list[str]], Awaitable[list[str | None]]]
"""Prompts in, the model's replies out, in order; None for a prompt that got no completion."""

SYNTHESIZER_ENTRY_POINTS = "verified_factory.synthesizers"


@dataclass(frozen=True)
class Settings:
    """One `source.synthesize` entry, as the synthesizer sees it."""

    name: str
    domain: str
    count: int
    rounds: int
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Dropped:
    """A candidate problem a filter refused, and why."""

    text: str
    reason: str
    provenance: dict[str, Any]


@dataclass
class Synthesized:
    problems: list[Problem] = field(default_factory=list)
    dropped: list[Dropped] = field(default_factory=list)


class Synthesizer(ABC):
    kind: ClassVar[str]

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @classmethod
    def load_seeds(cls, paths: list[Path]) -> list[Problem]:
        """The seeds in the entry's `seeds` paths; by default, the Problems of Problem files.

        A ValueError names the file at fault, or says that the files hold no problem.
        """
        seeds: list[Problem] = []
        for path in paths:
            for item in read_problems(path):
                if isinstance(item, RecordError):
                    raise ValueError(f"seed file {path}: {item}")
                seeds.append(item)
        if not seeds:
            raise ValueError(f"the seed files hold no problem: {', '.join(map(str, paths))}")
        return seeds

    @abstractmethod
    async def run(self, seeds: list[Problem], ask: Ask, rng: random.Random) -> Synthesized:
        """New problems from `seeds`, up to `settings.count`."""

    def provenance(self, seeds: list[Problem], round_: int) -> dict[str, Any]:
        return {
            "synthesizer": self.kind,
            "name": self.settings.name,
            "seeds": [seed.id for seed in seeds],
            "round": round_,
        }

    def new_problem(
        self,
        number: int,
        text: str,
        provenance: dict[str, Any],
        *,
        reference: str | None = None,
        domain: str | None = None,
    ) -> Problem:
        round_ = provenance["round"]
        return Problem(
            id=f"{self.settings.name}/r{round_}-{number}",
            domain=domain or self.settings.domain,
            problem=text,
            reference=reference,
            source=f"synthesis:{self.settings.name}",
            meta={"provenance": provenance},
        )


def reply_text(reply: str, label: str = "Problem") -> str:
    """The problem in a reply: after the last `Problem:` label if there is one, and before any
    `Solution:` or `Answer:` section."""
    lower = reply.lower()
    marker = lower.rfind(label.lower() + ":")
    text = reply[marker + len(label) + 1 :] if marker >= 0 else reply
    for section in ("\nsolution:", "\nanswer:", "\n**solution", "\n**answer"):
        cut = text.lower().find(section)
        if cut >= 0:
            text = text[:cut]
    return text.strip().strip("*").strip()
