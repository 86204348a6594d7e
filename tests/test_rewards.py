"""Reward adapters: the verdict-to-reward contract, TRL's and verl's call shapes, the pool."""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import os
import sys
from typing import Any, get_args

import pytest

from verified_factory.records import Status, Verdict
from verified_factory.rewards import (
    REWARDS,
    close_pools,
    compute_score,
    compute_score_batch,
    reward_of,
    shared_pool,
    trl_reward,
    verl_score,
)

ADD_TESTS = {"format": "assert", "code": "assert add(1, 2) == 3\nassert add(-1, 1) == 0\n"}
RIGHT = "```python\ndef add(a, b):\n    return a + b\n```"
WRONG = "```python\ndef add(a, b):\n    return a - b\n```"
FOREVER = "```python\ndef add(a, b):\n    while True:\n        pass\n```"
PROCESS = {"code": {"sandbox": "process"}}


@pytest.fixture(autouse=True, scope="module")
def _pools_stopped_after() -> object:
    """The shared pools outlive each call by design; not this module's tests."""
    yield
    close_pools()
    assert not multiprocessing.active_children()


def test_every_status_has_a_reward_and_only_judgments_are_numbers() -> None:
    assert set(REWARDS) == set(get_args(Status))
    judged = {status for status, reward in REWARDS.items() if reward is not None}
    assert judged == {"accepted", "rejected", "timeout", "truncated"}
    assert reward_of(Verdict(id="a", accepted=True, status="accepted", reason="")) == 1.0
    assert reward_of(Verdict.error("the sandbox died")) is None
    assert reward_of(Verdict.unverifiable("field 'reference' is missing")) is None


def test_trl_math_rewards_one_per_completion_none_where_no_judgment() -> None:
    reward = trl_reward(domain="math")
    logged: dict[str, Any] = {}
    prompts = ["What is 1/2 + 1/4?"] * 4 + ["What is 2+2?"]
    completions = [
        "1/2 + 1/4 = 3/4, so \\boxed{\\frac{3}{4}}",
        "The answer is \\boxed{0.75}.",
        "I think \\boxed{1/3}",
        "Half plus a quarter.",
        "\\boxed{4}",
    ]
    rewards = reward(
        prompts=prompts,
        completions=completions,
        completion_ids=[[1, 2]] * 5,
        reference=["3/4", "3/4", "3/4", "3/4", None],  # the last row's gold is missing
        trainer_state=object(),
        log_extra=lambda column, values: logged.__setitem__(column, values),
        log_metric=lambda name, value: logged.__setitem__(name, value),
    )
    assert rewards == [1.0, 1.0, 0.0, 0.0, None]
    assert reward.__name__ == "verified_reward"
    assert logged["verified_reward_status"] == [
        "accepted",
        "accepted",
        "rejected",
        "rejected",
        "unverifiable",
    ]
    assert logged["verified_reward/unjudged"] == pytest.approx(0.2)


def test_trl_conversational_samples_renamed_columns_and_bad_rows() -> None:
    reward = trl_reward("math", columns={"reference": "solution"}, name="math_ok")
    prompts = [[{"role": "system", "content": "Be brief."}, {"role": "user", "content": "1+1?"}]]
    completion = [{"role": "assistant", "content": "\\boxed{2}"}]
    assert reward(prompts=prompts * 2, completions=[completion] * 2, solution=["2", "3"]) == [
        1.0,
        0.0,
    ]
    assert reward.__name__ == "math_ok"
    # A row the record schema refuses (tests that are no test spec) gives None, not a crash.
    code = trl_reward(domain="code", settings=PROCESS)
    assert code(prompts=["p"], completions=[RIGHT], tests=[{"format": "nonsense"}]) == [None]
    with pytest.raises(ValueError, match="no candidate field"):
        trl_reward(columns={"answer": "gold"})


def test_trl_code_rewards_in_the_sandbox_and_async(tmp_path: Any) -> None:
    reward = trl_reward(domain="code", settings=PROCESS, asynchronous=True)
    assert asyncio.iscoroutinefunction(reward)
    completions = [RIGHT, WRONG, FOREVER, "no code at all", RIGHT]
    tests = [json.dumps(ADD_TESTS)] * 4 + [None]  # JSON text, as datasets keep it; one missing
    rewards = asyncio.run(
        reward(prompts=["Write add(a, b)."] * 5, completions=completions, tests=tests)
    )
    assert rewards == [1.0, 0.0, 0.0, 0.0, None]


def test_the_pool_is_started_once_and_survives_a_worker_killed_mid_batch(
    test_plugins: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for path in reversed(test_plugins.split(os.pathsep)):
        monkeypatch.syspath_prepend(path)
    reward = trl_reward("scripted", domain="scripted", workers=2, settings={"scripted": {}})
    pool = shared_pool({"scripted": {}}, 2)
    assert reward(prompts=["p"], completions=["a"], reference=["a"]) == [1.0]
    workers = [w.process.pid for w in pool._pool._workers]
    assert len(workers) == 2
    assert reward(prompts=["p"], completions=["b"], reference=["a"]) == [0.0]
    assert [w.process.pid for w in pool._pool._workers] == workers  # started once
    meta = [{}, {"do": "kill"}, {}, {"do": "raise"}]
    rewards = reward(
        prompts=["p"] * 4, completions=["a", "a", "b", "a"], reference=["a"] * 4, meta=meta
    )
    assert rewards == [1.0, None, 0.0, None]
    alive = [w.process.pid for w in pool._pool._workers]
    assert len(alive) == 2 and alive != workers  # the killed worker was replaced
    assert reward(prompts=["p"], completions=["a"], reference=["a"]) == [1.0]
    assert [w.process.pid for w in pool._pool._workers] == alive  # and the pool reused


def test_verl_compute_score_shapes() -> None:
    right = compute_score("openai/gsm8k", "so #### \\boxed{18}", "18", {"index": 3})
    assert right["score"] == 1.0 and right["judged"] and right["status"] == "accepted"
    unjudged = compute_score("lighteval/MATH", "\\boxed{1}", "\\frac{")
    assert unjudged["score"] == 0.0 and unjudged["judged"] is False
    assert unjudged["status"] == "unverifiable" and "reference" in unjudged["reason"]
    assert set(right) == set(unjudged)  # verl wants the same keys for every response

    strict_score, strict_batch = verl_score(unjudged_score=-1.0, settings=PROCESS)
    assert strict_score("x", "\\boxed{1}", "\\frac{")["score"] == -1.0
    stdio = {"inputs": ["1 2\n", "5 5\n"], "outputs": ["3\n", "10\n"]}
    program = "```python\na, b = map(int, input().split())\nprint(a + b)\n```"
    call = {"fn_name": "add", "inputs": [[1, 2], [3, 4]], "outputs": [3, 7]}
    scores = strict_batch(
        data_sources=["codecontests", "apps", "apps"],
        solution_strs=[program, RIGHT, WRONG],
        ground_truths=[json.dumps(stdio), call, call],
        extra_infos=[None, {"domain": "code"}, None],
    )
    assert [s["score"] for s in scores] == [1.0, 1.0, 0.0], scores
    assert len(compute_score_batch(["a"], ["\\boxed{2}"], ["2"])) == 1


def test_verl_loads_the_module_by_file_path_as_its_custom_reward_function() -> None:
    """verl imports `custom_reward_function.path` as a file of its own, not as a package."""
    import importlib.util

    from verified_factory.rewards import verl

    spec = importlib.util.spec_from_file_location("custom_module", verl.__file__)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.compute_score("gsm8k", "\\boxed{7}", "7")["score"] == 1.0


@pytest.mark.skipif(sys.platform != "linux", reason="the sandboxes run on Linux")
def test_a_training_script_without_a_main_guard_is_not_run_again_by_the_workers(
    tmp_path: Any,
) -> None:
    """Workers that spawn import the parent's `__main__` unless kept from it: an unguarded
    script would train again in each of them."""
    import subprocess

    marker = tmp_path / "runs"
    script = tmp_path / "train.py"
    script.write_text(
        "import threading, time\n"
        "from verified_factory.rewards import trl_reward\n"
        f"open({str(marker)!r}, 'a').write('run\\n')\n"
        "threading.Thread(target=time.sleep, args=(5,), daemon=True).start()  # forces spawn\n"
        "reward = trl_reward(domain='math', workers=2)\n"
        "print(reward(prompts=['q'], completions=['\\\\boxed{2}'], reference=['2']))\n"
    )
    done = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[1.0]"
    assert marker.read_text() == "run\n"
