"""Replies as real models give them: cut off at max_tokens, reasoning in <think> tags or in a
`reasoning_content` field, without the format the prompt asked for."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from generation_support import run_records, sum_problems, sums_job
from model_server import ModelServer

from verified_factory.job.generate import export_existing, generate
from verified_factory.models.base import Completion
from verified_factory.solve.replies import missing_format, read_reply


def completion(text: str, finish_reason: str = "stop", reasoning: str | None = None) -> Completion:
    return Completion(
        key="k", text=text, model="m", finish_reason=finish_reason, reasoning=reasoning
    )


def test_the_answer_is_what_follows_the_think_block() -> None:
    reply = read_reply(
        completion("<think>\n2 + 2 = 4, so \\boxed{4}\n</think>\n\nIt is \\boxed{5}.")
    )
    assert reply.reasoning == "2 + 2 = 4, so \\boxed{4}"
    assert reply.answer == "It is \\boxed{5}."
    assert reply.truncated is None


def test_a_think_block_opened_by_the_chat_template_has_only_its_closing_tag() -> None:
    reply = read_reply(completion("2 + 2 = 4.\n</think>\nSo \\boxed{4}."))
    assert (reply.reasoning, reply.answer) == ("2 + 2 = 4.", "So \\boxed{4}.")


def test_a_reasoning_field_is_read_and_joined_with_inline_reasoning() -> None:
    reply = read_reply(completion("So \\boxed{4}.", reasoning="  2 + 2 = 4.  "))
    assert (reply.reasoning, reply.answer, reply.truncated) == (
        "2 + 2 = 4.",
        "So \\boxed{4}.",
        None,
    )


def test_an_unclosed_think_block_is_truncated_whatever_the_finish_reason() -> None:
    reply = read_reply(completion("<think>2 + 2 = 4, the answer is 4"))
    assert reply.truncated is not None and "never closed" in reply.truncated
    assert reply.answer == "<think>2 + 2 = 4, the answer is 4" and reply.reasoning is None


def test_a_reply_stopped_for_length_is_truncated_even_when_it_ends_on_an_answer() -> None:
    reply = read_reply(completion("2 + 2 = 4. The answer is \\boxed{4}", finish_reason="length"))
    assert reply.truncated is not None and "max_tokens" in reply.truncated


@pytest.mark.parametrize(
    ("domain", "answer", "missing"),
    [
        ("math", "The answer is \\boxed{4}.", False),
        ("math", "The answer is \\boxed {\\frac{1}{2}}.", False),
        ("math", "The answer is 4.", True),
        ("math", "The answer is \\boxed{4", True),
        ("code", "Here:\n```python\ndef f():\n    return 1\n```\n", False),
        ("code", "def f():\n    return 1\n", True),
        ("code", "```python\ndef f():\n    return 1\n", True),
        ("poetry", "anything", False),
    ],
)
def test_missing_format(domain: str, answer: str, missing: bool) -> None:
    assert (missing_format(domain, answer) is not None) is missing


# One shape per problem `What is N + N+1?` (its right answer is 2N+1), as a loopback server
# gives it; the comment says what the job must make of it.
def shaped(request: dict[str, Any]) -> str | dict[str, Any]:
    prompt = request["messages"][-1]["content"]
    a, b = map(int, re.search(r"What is (\d+) \+ (\d+)\?", prompt).groups())
    right, steps = a + b, f"We add {a} and {b}: {a} + {b} = {a + b}."
    return {
        # kept: a plain boxed answer
        0: f"{steps} The answer is \\boxed{{{right}}}.",
        # truncated: cut at max_tokens, though its last number is right
        1: {"content": f"{steps} So the answer is {right}", "finish_reason": "length"},
        # kept: reasoning in <think>, the answer after it
        2: f"<think>\n{steps}\n</think>\n\nThe answer is \\boxed{{{right}}}.",
        # rejected: the right answer only inside the reasoning
        3: f"<think>\n{steps} \\boxed{{{right}}}\n</think>\n\nIt is \\boxed{{{right + 1}}}.",
        # kept: reasoning in its own field (vLLM's reasoning parser)
        4: {"reasoning_content": steps, "content": f"The answer is \\boxed{{{right}}}."},
        # truncated: a think block never closed
        5: f"<think>\n{steps} The answer is {right}",
        # rejected: no \boxed{} though the prompt asked for one
        6: f"{steps} The answer is {right}.",
        # truncated: cut off while reasoning, no content at all
        7: {"reasoning_content": steps, "content": None, "finish_reason": "length"},
    }[a]


CHAT_TEMPLATE = """\
{%- for message in messages -%}
<|im_start|>{{ message.role }}
{% if message.role == "assistant" -%}
{%- set content = message.content -%}
{%- if message.reasoning_content is string -%}
{%- set reasoning = message.reasoning_content -%}
{%- elif "</think>" in content -%}
{%- set reasoning = content.split("</think>")[0].split("<think>")[-1].strip() -%}
{%- set content = content.split("</think>")[-1].lstrip() -%}
{%- else -%}
{%- set reasoning = "" -%}
{%- endif -%}
<think>
{{ reasoning }}
</think>

{% endif -%}
{{ content }}<|im_end|>
{% endfor -%}
"""
"""A chat template with a thinking field, as Qwen3's reads it: `reasoning_content`, else the
reasoning split off the content at `</think>`."""


@pytest.mark.slow
def test_a_job_judges_only_finished_answers_and_keeps_the_reasoning(
    tmp_path: Path, ray_session: str
) -> None:
    sum_problems(tmp_path / "sums.jsonl", 8)
    with ModelServer(responder=shaped) as server:
        config = sums_job(
            tmp_path, server.base_url, max_concurrency=8, unit_size=8, export={"format": "parquet"}
        )
        generate(config)
    attempts, errors = run_records(config.run_dir)
    assert errors == []
    by_problem: dict[int, set[str]] = {}
    for attempt in attempts:
        by_problem.setdefault(int(attempt.problem_id.split("-")[1]), set()).add(
            attempt.verdict.status
        )
    kept = {int(a.problem_id.split("-")[1]): a for a in attempts if a.kept}
    assert sorted(kept) == [0, 2, 4]
    assert by_problem[1] == by_problem[5] == by_problem[7] == {"truncated"}
    assert by_problem[3] == by_problem[6] == {"rejected"}
    format_rejections = [a for a in attempts if a.problem_id == "sum-6"]
    assert all("\\boxed{}" in a.verdict.reason for a in format_rejections)
    assert all(a.verdict.verifier == "reply" for a in format_rejections)
    assert kept[2].reasoning.startswith("We add") and kept[4].reasoning.startswith("We add")
    assert kept[2].messages[1].content.startswith("The answer is")
    # Truncated replies are never judged, so no verifier counts them: the card does.
    card = (config.run_dir / "export" / "README.md").read_text()
    # (problems 1, 5 and 7: 2 samples, then 2 hinted samples each)
    assert "| `reply` | 16 | 4 | 0 | 0.0% | 12 |" in card, card

    datasets = pytest.importorskip("datasets")
    jinja2 = pytest.importorskip("jinja2")
    template = jinja2.Environment().from_string(CHAT_TEMPLATE)
    field = tmp_path / "field"
    export_existing(config.run_dir, field, reasoning="field")
    think = datasets.load_dataset(str(config.run_dir / "export"), split="train")
    apart = datasets.load_dataset(str(field), split="train")
    assert think.num_rows == apart.num_rows == 3
    for in_content, in_field in zip(think, apart, strict=True):
        assert in_content["id"] == in_field["id"]
        answer = in_field["messages"][1]
        if in_field["problem_id"] in {"sum-2", "sum-4"}:
            assert answer["reasoning_content"].startswith("We add")
            assert in_content["messages"][1]["content"].startswith("<think>\nWe add")
        else:
            assert answer["reasoning_content"] is None
            assert "<think>" not in in_content["messages"][1]["content"]
        # Both shapes render alike through a template with a thinking field.
        rendered = [template.render(messages=row["messages"]) for row in (in_content, in_field)]
        assert rendered[0] == rendered[1]
        if answer["reasoning_content"]:
            assert f"<think>\n{answer['reasoning_content']}\n</think>" in rendered[0]
    manifest = json.loads((config.run_dir / "export" / "manifest.json").read_text())
    assert manifest["acceptance"]["reply"]["attempts"] > 0
