"""A model's reply as the job reads it before anything judges it: reasoning, answer, and whether
it ended and kept the format the prompt asked for.

Reasoning models give their reasoning in one of two shapes: a `reasoning_content` (or
`reasoning`) field beside the content, as vLLM's and SGLang's reasoning parsers return it, or a
`<think>…</think>` block at the head of the content, as R1-style models write it (some chat
templates open the block in the prompt, so the reply may start inside it, with only the closing
tag). Either way the answer is only what comes after the reasoning: a box or a code block inside
the reasoning is a draft, never the answer.

A reply is `truncated`, and never judged, when the server stopped it for length
(`finish_reason: "length"`), or when a think block is opened and never closed: a cut-off text
that happens to end on the right number is not a rationale.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from verified_factory.models.base import Completion
from verified_factory.verifiers.math.extract import braced

SCREEN = "reply"
"""The `verifier` of a verdict that the job gave a reply before any verifier saw it."""

_OPEN = "<think>"
_CLOSE = "</think>"
_BOXED = re.compile(r"\\boxed\s*\{")
_FENCED = re.compile(r"```[^\n`]*\n.*?```", re.DOTALL)


@dataclass(frozen=True)
class Reply:
    """A completion split into its reasoning (None when it has none) and its answer."""

    answer: str
    reasoning: str | None
    truncated: str | None = None
    """Why the reply cannot be judged as a finished answer, or None when it ended."""


def read_reply(completion: Completion) -> Reply:
    """The reasoning and the answer of `completion`, and whether it was cut off."""
    reasoning = completion.reasoning.strip() if completion.reasoning else None
    answer = completion.text
    opened = answer.find(_OPEN)
    closed = answer.find(_CLOSE)
    truncated = None
    if closed >= 0 and (opened < 0 or opened < closed):
        inline = answer[opened + len(_OPEN) if opened >= 0 else 0 : closed].strip()
        reasoning = "\n\n".join(part for part in (reasoning, inline) if part) or None
        answer = answer[closed + len(_CLOSE) :]
    elif opened >= 0:  # kept as written: an export must not close a block the model left open
        truncated = "its <think> block was never closed: the reply ended inside its reasoning"
    if completion.finish_reason == "length":
        count = completion.completion_tokens
        tokens = f" after {count} tokens" if count else ""
        truncated = (
            f"the server stopped it at max_tokens{tokens} (finish_reason 'length'): "
            "a cut-off reply is never judged"
        )
    return Reply(answer=answer.strip(), reasoning=reasoning, truncated=truncated)


def missing_format(domain: str, answer: str) -> str | None:
    """Why `answer` lacks the format the prompt asked of `domain`'s replies, or None when it
    has it (or the domain asks for none)."""
    if domain == "math" and not _closed_box(answer):
        return "the reply has no \\boxed{} answer, which the prompt asked for"
    if domain == "code" and not _FENCED.search(answer):
        return "the reply has no complete fenced code block, which the prompt asked for"
    return None


def _closed_box(text: str) -> bool:
    """Whether `text` holds a `\\boxed{…}` whose braces close."""
    return any(braced(text, match.end() - 1) for match in _BOXED.finditer(text))
