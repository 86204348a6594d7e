"""The reward adapter for prime's `verifiers`, driven by the library itself.

`verifiers` cannot live in the project's own environment (its 0.4 pins openai below 3, and it
brings a framework of its own), so `.ci/wheel-check` runs this file in the wheel's venvs: one
with the newest `verifiers` (its 0.4 tasks: `verifiers.v1`) and one with 0.1.14 (the `Rubric` of
the environments hub). `FACTORY_REQUIRE_PRIME=v1` or `=rubric` turns the matching skip into a
failure there. Without the library every test here skips, saying so.
"""

from __future__ import annotations

import asyncio
import importlib
import os
from typing import Any

import pytest

from verified_factory.rewards import prime
from verified_factory.rewards.prime import Unjudged, prime_reward

SETTINGS = {"code": {"sandbox": "process"}}
CODE_TESTS = {"format": "call", "entry_point": "add", "cases": [{"args": [2, 3], "expected": 5}]}


def _library(shape: str, module: str, attribute: str) -> Any:
    """The library's module for one reward shape, or a skip (a failure where CI requires it)."""
    try:
        found = importlib.import_module(module)
    except ImportError:
        found = None
    if found is None or not hasattr(found, attribute):
        why = f"prime's verifiers with {module}.{attribute} is not installed (.ci/wheel-check)"
        if os.environ.get("FACTORY_REQUIRE_PRIME") == shape:
            pytest.fail(why)
        pytest.skip(why)
    return found


@pytest.fixture
def counted_batches(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The size of each batch the adapter sends to the pool."""
    sizes: list[int] = []
    judge = prime.judge_samples

    def counting(pool: Any, samples: list[Any]) -> Any:
        sizes.append(len(samples))
        return judge(pool, samples)

    monkeypatch.setattr(prime, "judge_samples", counting)
    return sizes


def _v1_task(vf: Any, data: dict[str, Any], fn: str) -> Any:
    class Row(vf.TaskData):
        answer: str | None = None
        domain: str | None = None
        tests: dict[str, Any] | None = None

    class RowTask(vf.Task[Row]):
        pass

    config = vf.TaskConfig(rewards={"correct": {"fn": fn}})
    return RowTask(Row(**data), config)


def _v1_trace(vf: Any, task: Any, reply: str) -> Any:
    """The trace of a one-turn rollout: the task's prompt and the model's sampled reply."""
    return vf.Trace(
        task={"type": type(task).__name__, "data": task.data},
        agent={"config": vf.AgentConfig()},
        nodes=[
            {"message": {"role": "user", "content": task.data.prompt}},
            {"parent": 0, "message": {"role": "assistant", "content": reply}, "sampled": True},
        ],
    )


async def _v1_score(vf: Any, rows: list[tuple[dict[str, Any], str]], fn: str) -> list[Any]:
    """Score each (task data, reply) as the library does after a rollout, all at once; a task
    whose scoring failed gives its error in place of its trace."""
    tasks = [_v1_task(vf, data, fn) for data, _ in rows]
    traces = [_v1_trace(vf, task, reply) for task, (_, reply) in zip(tasks, rows, strict=True)]
    failures = await asyncio.gather(
        *(task.score(trace) for task, trace in zip(tasks, traces, strict=True)),
        return_exceptions=True,
    )
    return [f if isinstance(f, BaseException) else t for f, t in zip(failures, traces, strict=True)]


def test_a_v1_task_config_plugs_the_reward_and_its_rewards_are_the_verdicts(
    counted_batches: list[int],
) -> None:
    vf = _library("v1", "verifiers.v1", "TaskConfig")
    rows = [
        ({"prompt": "What is 6*7?", "answer": "42", "domain": "math"}, "So \\boxed{42}."),
        ({"prompt": "What is 6*7?", "answer": "42", "domain": "math"}, "So \\boxed{41}."),
        ({"prompt": "Half of 1?", "answer": "1/2", "domain": "math"}, "It is \\boxed{0.5}"),
        (
            {"prompt": "Write add(a, b).", "domain": "code", "tests": CODE_TESTS},
            "```python\ndef add(a, b):\n    return a + b\n```",
        ),
        (
            {"prompt": "Write add(a, b).", "domain": "code", "tests": CODE_TESTS},
            "```python\ndef add(a, b):\n    return a - b\n```",
        ),
    ]
    traces = asyncio.run(_v1_score(vf, rows, "test_prime_rewards:code_in_process"))
    assert not [t for t in traces if isinstance(t, BaseException)], traces
    scores = [trace.rewards["correct"].score for trace in traces]
    assert scores == [1.0, 0.0, 1.0, 1.0, 0.0]
    assert [t.info["verdicts"]["verified_reward"]["status"] for t in traces] == [
        "accepted",
        "rejected",
        "accepted",
        "accepted",
        "rejected",
    ]
    assert traces[0].reward == 1.0 and traces[1].reward == 0.0
    # The five concurrent rollouts went to the pool together, not one by one.
    assert sum(counted_batches) == 5 and len(counted_batches) <= 2, counted_batches


def test_a_v1_verdict_that_is_no_judgment_fails_the_rollout_and_leaves_no_reward() -> None:
    vf = _library("v1", "verifiers.v1", "TaskConfig")
    rows = [
        ({"prompt": "What is 6*7?", "answer": None, "domain": "math"}, "\\boxed{42}"),
        ({"prompt": "What is 6*7?", "answer": "\\frac{", "domain": "math"}, "\\boxed{42}"),
        ({"prompt": "What is 6*7?", "answer": "42", "domain": "math"}, "\\boxed{42}"),
    ]
    outcomes = asyncio.run(_v1_score(vf, rows, "verified_factory.rewards.prime:reward"))
    for failed in outcomes[:2]:
        assert isinstance(failed, vf.errors.TaskError), failed
        assert "no judgment (unverifiable)" in str(failed) and "reference" in str(failed)
    assert outcomes[2].rewards["correct"].score == 1.0


def test_the_default_reward_is_a_v1_plugged_function_as_named_in_a_config() -> None:
    vf = _library("v1", "verifiers.v1", "TaskConfig")
    [trace] = asyncio.run(
        _v1_score(
            vf,
            [({"prompt": "2+2?", "answer": "4"}, "\\boxed{4}")],  # no domain: math by default
            "verified_factory.rewards.prime:reward",
        )
    )
    assert trace.rewards["correct"].score == 1.0
    assert trace.info["verdicts"]["verified_reward"]["verifier"] == "math"


def test_a_rubric_scores_with_the_reward_and_records_each_verdict_in_the_state() -> None:
    vf = _library("rubric", "verifiers", "Rubric")
    reward = prime_reward(domain="math", name="correct")
    rubric = vf.Rubric(funcs=[reward], weights=[1.0])

    def state(completion: Any, answer: str, info: dict[str, Any] | None = None) -> Any:
        return vf.State(
            prompt=[{"role": "user", "content": "What is 6*7?"}],
            completion=completion,
            answer=answer,
            info=info or {},
            trajectory=[],
        )

    states = [
        state([{"role": "assistant", "content": "\\boxed{42}"}], "42"),
        state("\\boxed{41}", "42"),
        state("\\boxed{42}", "", {"reference": "42"}),  # `info` names the field itself
        state("\\boxed{42}", ""),  # no reference anywhere
    ]
    asyncio.run(rubric.score_group(states))
    assert [s["reward"] for s in states[:3]] == [1.0, 0.0, 1.0]
    assert [s["verdicts"]["correct"]["status"] for s in states] == [
        "accepted",
        "rejected",
        "accepted",
        "unverifiable",
    ]
    # The Rubric turns the raised Unjudged into 0.0 itself; the state says it was no judgment.
    assert states[3]["reward"] == 0.0


def test_unjudged_carries_the_verdict() -> None:
    async def no_reference() -> float:
        return await prime_reward(domain="math")(prompt="q", completion="\\boxed{1}", answer="")

    with pytest.raises(Unjudged) as raised:
        asyncio.run(no_reference())
    assert raised.value.verdict.status == "unverifiable"


code_in_process = prime_reward(settings=SETTINGS, workers=1)
