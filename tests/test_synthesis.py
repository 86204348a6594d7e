"""Synthesizers against a loopback endpoint with scripted replies, and in a whole job."""

from __future__ import annotations

import asyncio
import json
import random
import re
from pathlib import Path
from typing import Any

import pytest
from generation_support import exported_rows, generate_locally, job_config, run_records
from model_server import ModelServer

from verified_factory.config import ModelConfig
from verified_factory.models.base import ChatRequest, Completion, Message
from verified_factory.models.openai_client import OpenAIClient
from verified_factory.records import Problem
from verified_factory.synthesis.base import Settings, Synthesized, Synthesizer
from verified_factory.synthesis.evol_instruct import EvolInstruct
from verified_factory.synthesis.metamath import MetaMath
from verified_factory.synthesis.registry import UnknownSynthesizer, synthesizer_class
from verified_factory.synthesis.self_instruct import SelfInstruct

SEEDS = [
    Problem(
        id="seed-1",
        domain="math",
        problem="A baker makes 12 loaves a day for 5 days. How many loaves does he make?",
        reference="60",
    ),
    Problem(
        id="seed-2",
        domain="math",
        problem="Tom has 3 boxes of 8 pencils and gives away 4 pencils. How many are left?",
        reference="20",
    ),
    Problem(
        id="seed-3",
        domain="math",
        problem="What is the sum of the first 10 positive integers?",
        reference="55",
    ),
]


def scripted(replies: list[str], prompts: list[str] | None = None):
    """A responder giving `replies` in arrival order (requests are sent in order, one at a
    time), then the last one forever; it notes each prompt in `prompts`."""
    queue = list(replies)

    def respond(request: dict[str, Any]) -> str:
        if prompts is not None:
            prompts.append(request["messages"][-1]["content"])
        return queue.pop(0) if len(queue) > 1 else queue[0]

    return respond


def run_synthesizer(
    synthesizer: Synthesizer, server: ModelServer, seeds: list[Problem] = SEEDS
) -> Synthesized:
    """The synthesizer's run with an `ask` that goes through the real client to `server`."""
    config = ModelConfig(backend="openai", base_url=server.base_url, model="loopback", api_key="k")

    async def main() -> Synthesized:
        client = OpenAIClient(config)

        async def ask(prompts: list[str]) -> list[str | None]:
            replies = []
            for number, prompt in enumerate(prompts):  # in order, so the script lines up
                request = ChatRequest(
                    model="loopback",
                    messages=(Message(role="user", content=prompt),),
                    temperature=0.8,
                    max_tokens=256,
                    sample=number,
                )
                answer = await client.complete(request)
                replies.append(answer.text if isinstance(answer, Completion) else None)
            return replies

        try:
            return await synthesizer.run(seeds, ask, random.Random(0))
        finally:
            await client.aclose()

    return asyncio.run(main())


def settings(name: str, **overrides: Any) -> Settings:
    base: dict[str, Any] = {"name": name, "domain": "math", "count": 10, "rounds": 1}
    return Settings(**{**base, **overrides})


def test_self_instruct_keeps_novel_problems_and_says_why_it_dropped_the_rest() -> None:
    replies = [
        "Problem: A train travels 60 km in 45 minutes. What is its speed in km per hour?",
        # a near copy of seed-1: ROUGE-L above 0.7
        "Problem: A baker makes 12 loaves a day for 6 days. How many loaves does he make?",
        "Problem: Draw a graph of y = 2x and find its slope.",  # the blacklist
        "Problem: Add.",  # too short
        "Sure! Problem: How many diagonals does a convex hexagon have?\n\nSolution: 9",
    ]
    prompts: list[str] = []
    with ModelServer(responder=scripted(replies, prompts)) as server:
        result = run_synthesizer(SelfInstruct(settings("si", count=5)), server)
    texts = [p.problem for p in result.problems]
    assert texts == [
        "A train travels 60 km in 45 minutes. What is its speed in km per hour?",
        "How many diagonals does a convex hexagon have?",
    ]
    reasons = [d.reason for d in result.dropped]
    assert reasons[0].startswith("ROUGE-L 0.9") and "above 0.7" in reasons[0]
    assert "mentions 'Draw'" in reasons[1]
    assert "1 word" in reasons[2]
    first = result.problems[0]
    assert first.id == "si/r1-0" and first.reference is None
    assert first.source == "synthesis:si"
    provenance = first.meta["provenance"]
    assert provenance["synthesizer"] == "self_instruct" and provenance["round"] == 1
    assert set(provenance["seeds"]) <= {s.id for s in SEEDS} and provenance["seeds"]
    # the first prompt showed the seeds the first problem's provenance names
    named = [s.problem for s in SEEDS if s.id in provenance["seeds"]]
    assert all(text in prompts[0] for text in named)
    assert "Write one new problem" in prompts[0]


def test_self_instruct_runs_more_rounds_until_it_has_enough() -> None:
    cube = "Problem: How many edges does a cube have?"
    replies = [
        cube,
        cube,  # a repeat: ROUGE-L 1.0
        "Problem: A train covers 300 km in 4 hours; what is its average speed?",
        cube,
        "Problem: What is the greatest common divisor of 84 and 36?",  # round 2
        cube,
        "Problem: In how many orders can 5 different books stand on a shelf?",  # round 3
    ]
    with ModelServer(responder=scripted(replies)) as server:
        result = run_synthesizer(SelfInstruct(settings("si", count=4, rounds=3)), server)
    assert [p.meta["provenance"]["round"] for p in result.problems] == [1, 1, 2, 3]
    assert sum("ROUGE-L 1.00" in d.reason for d in result.dropped) == 3
    # later rounds show earlier machine-made problems among the examples
    assert any(seed.startswith("si/") for seed in result.problems[3].meta["provenance"]["seeds"])


def test_the_novelty_threshold_is_an_option() -> None:
    near_copy = "Problem: A baker makes 12 loaves a day for 6 days. How many loaves does he make?"
    for threshold, kept in ((0.7, 0), (0.95, 1)):
        with ModelServer(responder=scripted([near_copy])) as server:
            options = {"threshold": threshold}
            synthesizer = SelfInstruct(settings("si", count=1, options=options))
            assert len(run_synthesizer(synthesizer, server).problems) == kept


def test_evol_instruct_eliminates_failed_evolutions_and_evolves_the_survivors() -> None:
    replies = [
        "Problem: A baker makes 12 loaves a day for 5 days and sells 3 of every 4 loaves. "
        "How many loaves does he sell?",
        "I'm sorry, but I cannot rewrite this problem.",
        "Problem: #Rewritten Prompt#: What is the sum of the first 10 positive integers?",
        # round 2: the one survivor evolves again
        "Problem: A baker makes 12 loaves a day for 5 days, sells 3 of every 4 and gives half "
        "of the rest away. How many loaves does he keep?",
    ]
    with ModelServer(responder=scripted(replies)) as server:
        result = run_synthesizer(EvolInstruct(settings("evol", count=10, rounds=3)), server)
    assert [p.meta["provenance"]["round"] for p in result.problems] == [1, 2]
    assert all(p.meta["provenance"]["seeds"] == ["seed-1"] for p in result.problems)
    reasons = " | ".join(d.reason for d in result.dropped)
    assert "refusal" in reasons and "rewrite prompt" in reasons
    assert {d.provenance["operation"] for d in result.dropped} <= {
        "constraints",
        "deepen",
        "concretize",
        "reasoning",
        "breadth",
    }


def test_metamath_asks_backwards_with_the_masked_number_as_gold_and_rephrases() -> None:
    replies = [
        "Question: For 5 days a baker bakes 12 loaves daily. How many loaves in total?",
        "Question: Tom has 4 boxes of 8 pencils and gives away 4. How many are left?",
        "Question: Find the total of the first 10 positive whole numbers.",
    ]
    with ModelServer(responder=scripted(replies)) as server:
        result = run_synthesizer(MetaMath(settings("mm", count=10)), server)
    backward = [p for p in result.problems if p.meta["provenance"]["operation"] == "backward"]
    assert len(backward) == 3
    for problem in backward:
        seed = next(s for s in SEEDS if s.id == problem.meta["provenance"]["seeds"][0])
        assert "unknown variable x" in problem.problem
        assert f"is {seed.reference}," in problem.problem
        # putting the gold back where x is gives the seed problem again
        assert problem.reference is not None
        masked = problem.problem.split(" If we know")[0]
        restored = re.sub(r"\bx\b", problem.reference, masked, count=1)
        assert restored == seed.problem
    rephrased = [p for p in result.problems if p.meta["provenance"]["operation"] == "rephrase"]
    assert [p.reference for p in rephrased] == ["60", "55"]  # the seeds' gold answers
    (dropped,) = result.dropped
    assert "changes the numbers" in dropped.reason  # 3 boxes became 4


def test_synthesizers_are_found_by_kind() -> None:
    assert synthesizer_class("self_instruct") is SelfInstruct
    with pytest.raises(UnknownSynthesizer, match="installed: evol_instruct, metamath"):
        synthesizer_class("nope")


def add_problem(n: int) -> str:
    return f"What is {n} + {2 * n + 1}?"


@pytest.mark.slow
def test_a_job_synthesizes_solves_by_agreement_and_records_provenance(tmp_path: Path) -> None:
    """Self-Instruct as a source: new sums from the model, solved by self-consistency (no gold
    answer), every row with its provenance; a resumed run asks nothing again."""

    seeds = tmp_path / "seeds.jsonl"
    seeds.write_text(
        "".join(
            json.dumps({"id": f"s{n}", "domain": "math", "problem": add_problem(n)}) + "\n"
            for n in (1, 2, 3)
        )
    )
    made = iter(range(100, 1000, 37))

    def respond(request: dict[str, Any]) -> str:
        prompt = request["messages"][-1]["content"]
        if "Write one new problem" in prompt:
            return f"Problem: {add_problem(next(made))}"
        a, b = map(int, re.search(r"What is (\d+) \+ (\d+)\?", prompt).groups())
        return f"{a} + {b} = {a + b}. The answer is \\boxed{{{a + b}}}."

    with ModelServer(responder=respond) as server:
        config = job_config(
            tmp_path,
            source={
                "synthesize": [
                    {"name": "sums", "kind": "self_instruct", "seeds": [str(seeds)], "count": 6}
                ]
            },
            model={"backend": "openai", "base_url": server.base_url, "model": "loopback"},
            solve={"samples": 4, "keep": 1, "unit_size": 4},
            curate={"decontaminate": {"enabled": False}},
        )
        asked = generate_locally(config, server)

    assert asked == 6 + 6 * 4  # six synthesis requests, four samples of each new problem
    _, errors = run_records(config.run_dir)
    assert errors == []
    rows = exported_rows(config.run_dir / "export")
    assert len(rows) == 6
    for row in rows:
        assert row["source"] == "synthesis:sums"
        assert row["agreement"] == 1.0
        provenance = row["provenance"]
        assert provenance["synthesizer"] == "self_instruct" and provenance["round"] == 1
        assert set(provenance["seeds"]) <= {"s1", "s2", "s3"}
    stored = (config.run_dir / "synthesized" / "sums.jsonl").read_text().splitlines()
    assert len(stored) == 6
