"""Finding the program in a model's response."""

from __future__ import annotations

import ast
import re

_FENCE = re.compile(r"```[ \t]*(?:python3?|py)?[ \t]*\n(.*?)```", re.DOTALL | re.IGNORECASE)


def extract_program(response: str) -> str | None:
    """The last complete fenced code block, else the whole response when it is Python."""
    blocks = _FENCE.findall(response)
    if blocks:
        return blocks[-1]
    try:
        ast.parse(response)
    except SyntaxError:
        return None
    return response if response.strip() else None
