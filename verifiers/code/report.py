"""The one trusted output of a sandbox run: the report line that starts with the run's nonce."""

from __future__ import annotations

import json
from typing import Any


class NoReport(Exception):
    """No report to trust: none was written (the program ended the run early), or, when
    `forged`, more than one (the program wrote one of its own)."""

    def __init__(self, forged: bool) -> None:
        super().__init__("more than one report" if forged else "no report")
        self.forged = forged


def nonce_report(stdout: str, nonce: str) -> dict[str, Any]:
    """The JSON report of the one stdout line that starts with `nonce`; NoReport otherwise."""
    lines = [line for line in stdout.splitlines() if line.startswith(nonce + " ")]
    if len(lines) != 1:
        raise NoReport(forged=bool(lines))
    return json.loads(lines[0][len(nonce) + 1 :])
