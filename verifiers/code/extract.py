"""Finding the program in a model's response."""

from __future__ import annotations

import ast
import re

_FENCE = re.compile(r"```[ \t]*(?:python3?|py)?[ \t]*\n(.*?)```", re.DOTALL | re.IGNORECASE)


def code_blocks(response: str) -> list[str]:
    """The complete fenced code blocks, in order; else the whole response when it is Python."""
    blocks = _FENCE.findall(response)
    if blocks:
        return blocks
    try:
        ast.parse(response)
    except SyntaxError:
        return []
    return [response] if response.strip() else []


def extract_program(response: str) -> str | None:
    """The last complete fenced code block, else the whole response when it is Python."""
    blocks = code_blocks(response)
    return blocks[-1] if blocks else None
