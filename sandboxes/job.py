"""What a sandbox runs and what comes back; the supervisor's wire format, typed."""

from __future__ import annotations

from dataclasses import dataclass, field

from verified_factory.errors import FactoryError


class SandboxError(FactoryError, RuntimeError):
    """The sandbox itself failed (engine, container, supervisor): never a judgement of a program."""


@dataclass(frozen=True)
class Judge:
    """A trusted Python script that judges the job's program from outside it (see `Job.judge`).

    `argv` is `python3 [flags] script.py`; the script always runs warm, in a fork of the
    supervisor's interpreter, never through exec, which would make it dumpable again.
    """

    argv: list[str]
    files: dict[str, str] = field(default_factory=dict)
    stdin: str = ""
    modules: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Job:
    """One program run: `files` are written into a fresh work directory, then `argv` runs there.

    With a `judge`, the judge runs beside the program, in its own process, work directory and
    (where the sandbox can) user, which the program cannot read, write, trace or signal. The two
    talk over a private channel: in each, fd 3 reads what the other sends and fd 4 writes to
    it. The judge's stdout is the run's `report`; the run ends when the judge ends.
    """

    argv: list[str]
    files: dict[str, str] = field(default_factory=dict)
    stdin: str = ""
    time_limit_s: float = 10.0
    memory_limit_mb: int = 512
    output_limit_bytes: int = 1024 * 1024
    warm: bool = False
    """`argv` is `python3 [flags] script.py`: run the script in a fork of the sandbox's warm
    interpreter instead of starting python3 (about 1 ms instead of 20)."""
    modules: dict[str, str] = field(default_factory=dict)
    """Python files ({name.py: source}) the warm script imports, or is: compiled once per
    distinct source outside the sandbox's users and imported from memory (never written to the
    work dir), so only files the caller wrote itself, never a program's."""
    judge: Judge | None = None


@dataclass(frozen=True)
class RunResult:
    exit_code: int | None
    signal: int | None
    timed_out: bool
    memory_exceeded: bool
    output_exceeded: bool
    stdout: str
    stderr: str
    """The program's output; never part of the `report`."""
    wall_s: float
    cpu_s: float
    dirty: list[str]
    """Why the sandbox should not run another program (leftover processes or files)."""
    report: str | None = None
    """What the judge wrote to its stdout (None without a judge)."""
    judge_stderr: str = ""

    @classmethod
    def from_wire(cls, data: dict) -> RunResult:
        if "error" in data:
            raise SandboxError(f"the supervisor could not run the job: {data['error']}")
        try:
            return cls(**{name: data[name] for name in cls.__dataclass_fields__})
        except KeyError as err:
            raise SandboxError(f"the supervisor's answer lacks {err}") from err
