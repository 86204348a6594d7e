"""Running the installed `factory` command from tests, as a user would."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

FACTORY = Path(sys.executable).parent / "factory"


def run_factory(
    *args: str,
    pythonpath: str = "",
    stdin: bytes | None = None,
    timeout: float = 120,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run the installed `factory` command as a user would, with plugins on `pythonpath` and
    `env` on top of this process's environment."""
    env = {**os.environ, "PYTHONPATH": pythonpath, **(env or {})}
    return subprocess.run(
        [str(FACTORY), *args],
        input=stdin.decode() if stdin is not None else None,
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
        check=False,
    )
