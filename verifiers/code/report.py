"""The one trusted output of a sandbox run: the report line that starts with the run's nonce."""

from __future__ import annotations

import json
from typing import Any


class NoReport(Exception):
    """No single report line to trust: none was written (the run ended early), or several."""


def nonce_report(text: str, nonce: str) -> dict[str, Any]:
    """The JSON report of the one line of `text` that starts with `nonce`; NoReport otherwise."""
    lines = [line for line in text.splitlines() if line.startswith(nonce + " ")]
    if len(lines) != 1:
        raise NoReport(f"{len(lines)} report lines")
    return json.loads(lines[0][len(nonce) + 1 :])
