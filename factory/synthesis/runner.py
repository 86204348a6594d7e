"""The synthesis stage of a job: each `source.synthesize` entry run once, its output stored.

It runs before any problem is solved. The new problems go to `RUN_DIR/synthesized/NAME.jsonl`
(written whole or not at all) and the candidates the filters dropped, with their reasons, to
`NAME.dropped.jsonl`; a resumed run reads them back instead of synthesizing again. The model's
completions are stored as they arrive (`completions/synthesis-NAME.jsonl`), and the random
generator is seeded by the job's seed and the entry's name, so a run killed mid-synthesis asks
the same questions again and gets the stored answers back for free.
"""

from __future__ import annotations

import dataclasses
import json
import random
from collections.abc import Callable
from pathlib import Path

from verified_factory.config import SynthesizerConfig
from verified_factory.models.base import ChatRequest, Complete, Completion
from verified_factory.run_store import RunStore, write_atomically
from verified_factory.synthesis.base import Settings, Synthesized
from verified_factory.synthesis.registry import synthesizer_class

MakeRequest = Callable[[str, int], ChatRequest]


async def synthesize(
    entries: list[SynthesizerConfig],
    store: RunStore,
    complete: Complete,
    make_request: MakeRequest,
    seed: int,
) -> list[Path]:
    """Run every entry not run before; the files of new problems, in the config's order."""
    outputs = []
    for entry in entries:
        output = store.synthesized_file(entry.name)
        if not output.exists():
            result = await _run(entry, store, complete, make_request, seed)
            _store(output, result)
        outputs.append(output)
    return outputs


async def _run(
    entry: SynthesizerConfig,
    store: RunStore,
    complete: Complete,
    make_request: MakeRequest,
    seed: int,
) -> Synthesized:
    cls = synthesizer_class(entry.kind)
    try:
        seeds = cls.load_seeds(entry.seeds)
    except ValueError as err:
        raise ValueError(f"synthesizer {entry.name!r}: {err}") from err
    log = store.synthesis_log(entry.name)
    asked = 0

    async def ask(prompts: list[str]) -> list[str | None]:
        nonlocal asked
        requests = [make_request(prompt, asked + n) for n, prompt in enumerate(prompts)]
        asked += len(prompts)
        answers = await complete(log, requests)
        return [
            answer.text if isinstance(answer, Completion) else None
            for answer in (answers[request.key] for request in requests)
        ]

    settings = Settings(
        name=entry.name,
        domain=entry.domain,
        count=entry.count,
        rounds=entry.rounds,
        options=dict(entry.options),
    )
    synthesizer = cls(settings)
    return await synthesizer.run(seeds, ask, random.Random(f"{seed}/{entry.name}"))


def _store(output: Path, result: Synthesized) -> None:
    output.parent.mkdir(parents=True, exist_ok=True)
    dropped = output.with_name(output.stem + ".dropped.jsonl")
    write_atomically(
        dropped, "".join(json.dumps(dataclasses.asdict(d)) + "\n" for d in result.dropped)
    )
    write_atomically(output, "".join(p.model_dump_json() + "\n" for p in result.problems))
