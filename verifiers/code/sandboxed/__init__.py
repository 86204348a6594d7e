"""What runs inside the sandbox (stdlib only, run by file name there), and the jobs that run it.

The files here are written into the sandbox's work directories and imported there by their bare
names (`import wire`); on the host only `wire` (the data format) is imported, to read results.

- `solver.py` (the program's side): the candidate's code, answering calls as plain data.
- `tester.py`, `remote.py` (the judge's side): the tests, stand-ins for the solution's names,
  every outcome recorded, the report.
- `reference_side.py`, `inputs.py` (alone): a reference's results on generated inputs.
- `wire.py`, `compare.py`: the data format, and how differential results are compared.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from verified_factory.sandboxes import Job, Judge

_HERE = Path(__file__).parent
REFERENCE_OUTPUT_LIMIT = 64 * 1024 * 1024
"""The reference's results on up to 400 inputs, written as one line."""


def _files(*names: str) -> dict[str, str]:
    return {name: (_HERE / name).read_text() for name in names}


PROGRAM_FILES = _files("solver.py", "wire.py")
JUDGE_FILES = _files("tester.py", "remote.py", "wire.py", "compare.py")
REFERENCE_FILES = _files("reference_side.py", "inputs.py", "wire.py")


def judged_job(
    program: str, spec: dict[str, Any], nonce: str, time_limit_s: float, memory_limit_mb: int
) -> Job:
    """`program` run as the solution under `solver.py`, judged by `tester.py` on `spec`."""
    return Job(
        argv=["python3", "-I", "solver.py"],
        files={"solution.py": program},
        warm=True,
        modules=PROGRAM_FILES,
        time_limit_s=time_limit_s,
        memory_limit_mb=memory_limit_mb,
        judge=Judge(
            argv=["python3", "-I", "tester.py"],
            files={"spec.json": json.dumps(spec)},
            stdin=nonce + "\n",
            modules=JUDGE_FILES,
        ),
    )


def reference_job(
    reference: str, spec: dict[str, Any], nonce: str, time_limit_s: float, memory_limit_mb: int
) -> Job:
    """The reference alone, building inputs and its results on them (`reference_side.py`)."""
    return Job(
        argv=["python3", "-I", "reference_side.py"],
        files={"reference.py": reference, "spec.json": json.dumps(spec)},
        stdin=nonce + "\n",
        time_limit_s=time_limit_s,
        memory_limit_mb=memory_limit_mb,
        output_limit_bytes=REFERENCE_OUTPUT_LIMIT,
        warm=True,
        modules=REFERENCE_FILES,
    )
