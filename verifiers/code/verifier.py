"""The `code` verifier: the program of a response against its tests, run in the sandbox."""

from __future__ import annotations

import secrets
import time
from collections.abc import Mapping, Sequence
from typing import Any, get_args

from verified_factory.records import (
    AssertTests,
    CallTests,
    Candidate,
    PytestTests,
    StdioTests,
    TestSpec,
    Verdict,
)
from verified_factory.sandboxes import (
    Backend,
    Job,
    RunResult,
    Sandbox,
    SandboxError,
    open_sandbox,
)
from verified_factory.verifiers.base import Verifier
from verified_factory.verifiers.code.dual_agreement import (
    DualAgreementRule,
    judge_by_dual_agreement,
)
from verified_factory.verifiers.code.extract import extract_program
from verified_factory.verifiers.code.reference_check import (
    DifferentialSettings,
    ReferenceCheck,
    skipped,
)
from verified_factory.verifiers.code.report import NoReport, nonce_report
from verified_factory.verifiers.code.sandboxed import judged_job, wire

DEFAULT_TIME_LIMIT_S = 10.0
DEFAULT_MEMORY_LIMIT_MB = 512
SANDBOX_ATTEMPTS = 3
FLOAT_TOLERANCE = 1e-6
ISOLATION = "isolation"
"""The detail that says how the sandbox falls short of separate users for judge and program."""


class CodeVerifier(Verifier):
    """Runs the tests of a code candidate in the sandbox; accepts only a recorded full pass.

    When the record carries a `reference` solution, a candidate that passed its tests must also
    match the reference on generated inputs (`reference_check.py`). The samples of a problem
    without trusted tests are judged together by dual agreement (`dual_agreement.py`).

    Settings: `sandbox` (a Sandbox, or the backend to open on first use: `auto`, `docker` or
    `process`), `differential` (`DifferentialSettings`' fields) and `dual_agreement`
    (`DualAgreementRule`'s fields).
    """

    name = "code"
    domains = ("code",)

    def __init__(
        self,
        sandbox: Sandbox | Backend | None = None,
        differential: DifferentialSettings | Mapping[str, Any] | None = None,
        dual_agreement: DualAgreementRule | Mapping[str, Any] | None = None,
    ) -> None:
        if isinstance(sandbox, str) and sandbox not in get_args(Backend):
            raise ValueError(f"sandbox {sandbox!r}: use one of {', '.join(get_args(Backend))}")
        self._sandbox = sandbox if isinstance(sandbox, Sandbox) else None
        self._backend: Backend = sandbox if isinstance(sandbox, str) else "auto"
        self._weaker: str | None = None
        if not isinstance(differential, DifferentialSettings):
            differential = DifferentialSettings(**(differential or {}))
        self._differential = ReferenceCheck(differential)
        if not isinstance(dual_agreement, DualAgreementRule):
            dual_agreement = DualAgreementRule(**(dual_agreement or {}))
        self._dual_agreement = dual_agreement

    @property
    def sandbox(self) -> Sandbox:
        """Opened on first use: listing verifiers needs no engine."""
        if self._sandbox is None:
            self._sandbox = open_sandbox(self._backend)
        return self._sandbox

    def verify_group(self, candidates: Sequence[Candidate]) -> list[Verdict]:
        return judge_by_dual_agreement(candidates, self, self._dual_agreement)

    def verify(self, candidate: Candidate) -> Verdict:
        if candidate.tests is None:
            return Verdict.unverifiable(
                "field 'tests' is missing: the code verifier needs tests", id=candidate.id
            )
        program = extract_program(candidate.response)
        if program is None:
            return _verdict(
                candidate, "rejected", "no Python program found in the response", None, []
            )
        start = time.perf_counter()
        try:
            details = self.run_tests(program, candidate.tests)
            if self._differential.settings.applies(candidate) and not _failures(details):
                details.append(self._against_reference(program, candidate))
            details += self._isolation_note()
        except SandboxError as err:
            return Verdict.error(
                f"the sandbox failed {SANDBOX_ATTEMPTS} times: {err}", id=candidate.id
            )
        verdict = _judge(candidate, program, details)
        return verdict.model_copy(update={"elapsed_s": time.perf_counter() - start})

    def _isolation_note(self) -> list[dict[str, Any]]:
        """A detail saying what this sandbox cannot give, when its judge and program share a
        user (the process backend without root)."""
        if self._weaker is None:
            self._weaker = self.sandbox.isolation.get("weaker", "")
        if not self._weaker:
            return []
        return [{"test": ISOLATION, "outcome": "skipped", "message": f"weaker: {self._weaker}"}]

    def run_tests(self, program: str, tests: TestSpec) -> list[dict[str, Any]]:
        """The outcome of each test of `program`, as the verdict's `details` hold them."""
        if isinstance(tests, StdioTests):
            return [self._stdio_case(program, tests, i) for i in range(len(tests.cases))]
        spec: dict[str, Any] = {"format": tests.format}
        if isinstance(tests, AssertTests | PytestTests):
            spec["code"] = tests.code
        if isinstance(tests, AssertTests | CallTests):
            spec["entry_point"] = tests.entry_point
        if isinstance(tests, CallTests):  # the expected values never enter the sandbox
            spec["cases"] = [{"args": c.args, "kwargs": c.kwargs} for c in tests.cases]
        nonce = secrets.token_hex(16)
        job = judged_job(program, spec, nonce, **_limits(tests))
        result = self._run(job)
        limit = _limit_outcome(result)
        if limit:
            return limit
        outcomes, results = _read_report(result, nonce)
        if isinstance(tests, CallTests):
            return _compare_calls(tests, results or [], outcomes)
        return outcomes

    def _against_reference(self, program: str, candidate: Candidate) -> dict[str, Any]:
        cannot = skipped(candidate)
        if cannot:
            return cannot
        return self._differential.check(program, candidate, self._run)

    def _stdio_case(self, program: str, tests: StdioTests, index: int) -> dict[str, Any]:
        case = tests.cases[index]
        job = Job(
            argv=["python3", "-I", "solution.py"],
            files={"solution.py": program},
            stdin=case.input,
            warm=True,
            **_limits(tests),
        )
        result = self._run(job)
        name = f"case {index}"
        limit = _limit_outcome(result)
        if limit:
            return {**limit[0], "test": name}
        if result.exit_code != 0:
            return {
                "test": name,
                "outcome": "runtime_error",
                "message": result.stderr.strip()[-300:] or f"exit code {result.exit_code}",
            }
        if _lines(result.stdout) == _lines(case.output):
            return {"test": name, "outcome": "passed", "message": ""}
        return {
            "test": name,
            "outcome": "wrong_answer",
            "message": f"expected {case.output[:100]!r}, got {result.stdout[:100]!r}",
        }

    def _run(self, job: Job) -> RunResult:
        """Run, retrying a failing sandbox: its failure is never the program's fault."""
        error: SandboxError | None = None
        for _ in range(SANDBOX_ATTEMPTS):
            try:
                return self.sandbox.run(job)
            except SandboxError as err:
                error = err
        assert error is not None
        raise error


def _limits(tests) -> dict[str, Any]:
    return {
        "time_limit_s": tests.time_limit_s or DEFAULT_TIME_LIMIT_S,
        "memory_limit_mb": tests.memory_limit_mb or DEFAULT_MEMORY_LIMIT_MB,
    }


def _lines(text: str) -> list[str]:
    """Output as compared: trailing whitespace of each line and at the end ignored."""
    return [line.rstrip() for line in text.rstrip().splitlines()]


def _limit_outcome(result: RunResult) -> list[dict[str, Any]]:
    for hit, outcome, message in (
        (result.timed_out, "timeout", "the program ran past its time limit"),
        (result.memory_exceeded, "memory_limit", "the program ran past its memory limit"),
        (result.output_exceeded, "output_limit", "the program wrote more than the output limit"),
    ):
        if hit:
            return [{"test": "program", "outcome": outcome, "message": message}]
    return []


def _read_report(result: RunResult, nonce: str) -> tuple[list[dict[str, Any]], list | None]:
    """The tester's outcomes and call results: the one line of its report that starts with the
    nonce. The program's own output is never read."""
    try:
        report = nonce_report(result.report or "", nonce)
    except NoReport:
        tail = result.judge_stderr.strip()[-300:]
        message = "the tests did not run to the end" + (f"; tester: {tail}" if tail else "")
        return [{"test": "program", "outcome": "runtime_error", "message": message}], None
    return report["outcomes"], report.get("results")


def _compare_calls(tests: CallTests, results: list, outcomes: list[dict]) -> list[dict[str, Any]]:
    """Each case's result compared here with what it should be: the sandbox only says what was
    returned, and a case passes only by this comparison."""
    compared = []
    for index, (case, outcome) in enumerate(zip(tests.cases, outcomes, strict=False)):
        if outcome["outcome"] != "returned":
            if outcome["outcome"] == "passed":  # never a label the sandbox can give
                outcome = {**outcome, "outcome": "runtime_error", "message": "not compared"}
            compared.append(outcome)
            continue
        got = _as_json(results[index] if index < len(results) else None)
        if got is _NOT_JSON:
            compared.append(
                {
                    "test": f"case {index}",
                    "outcome": "wrong_answer",
                    "message": "the result is not JSON data",
                }
            )
        elif _same_json(got, case.expected):
            compared.append({"test": f"case {index}", "outcome": "passed", "message": ""})
        else:
            compared.append(
                {
                    "test": f"case {index}",
                    "outcome": "wrong_answer",
                    "message": f"expected {case.expected!r:.100}, got {got!r:.100}",
                }
            )
    if len(outcomes) < len(tests.cases):  # the harness stopped early (an error while loading)
        compared += outcomes[len(tests.cases) :] or [
            {"test": "program", "outcome": "runtime_error", "message": "not every case ran"}
        ]
    return compared


_NOT_JSON = object()


def _as_json(encoded: Any) -> Any:
    """A result as JSON data (tuples as lists, sets as sorted lists), or _NOT_JSON."""
    try:
        value = wire.decode(encoded)
    except wire.WireError:
        return _NOT_JSON
    return _json_data(value)


def _json_data(value: Any) -> Any:
    if value is None or type(value) in (bool, int, float, str):
        return value
    if isinstance(value, list | tuple):
        items = [_json_data(item) for item in value]
        return _NOT_JSON if any(i is _NOT_JSON for i in items) else items
    if type(value) in (set, frozenset):
        return _json_data(sorted(value, key=repr))
    if type(value) is dict and all(type(k) is str for k in value):
        items = {k: _json_data(v) for k, v in value.items()}
        return _NOT_JSON if any(v is _NOT_JSON for v in items.values()) else items
    return _NOT_JSON


def _same_json(got: Any, expected: Any) -> bool:
    """JSON data equal to what is expected: a float within a relative 1e-6 (1e-9 near zero), an
    integer exactly (as an int, or a float of that exact value), the rest of the same type,
    element by element."""
    numbers = all(isinstance(v, int | float) and not isinstance(v, bool) for v in (got, expected))
    if numbers and isinstance(expected, float):
        try:  # relative, with a floor for answers of zero: 0.0 is not 0.5**20
            return abs(got - expected) <= max(FLOAT_TOLERANCE * abs(expected), 1e-9)
        except OverflowError:  # an int too big for a float is not near one
            return False
    if numbers:
        return got == expected
    if type(got) is not type(expected):
        return False
    if isinstance(expected, list):
        return len(got) == len(expected) and all(map(_same_json, got, expected))
    if isinstance(expected, dict):
        return got.keys() == expected.keys() and all(
            _same_json(got[k], expected[k]) for k in expected
        )
    return got == expected


NOT_FAILURES = ("passed", "skipped")


def _failures(details: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [d for d in details if d["outcome"] not in NOT_FAILURES]


def _judge(candidate: Candidate, program: str, details: list[dict[str, Any]]) -> Verdict:
    broken = [d for d in details if d["outcome"] == "sandbox_error"]
    if broken:  # the infrastructure failed: no judgement of the program
        return Verdict.error(
            f"the sandbox cannot run these tests: {broken[0]['message']}", id=candidate.id
        ).model_copy(update={"details": details})
    bad_reference = [d for d in details if d["outcome"] == "reference_error"]
    if bad_reference:  # the record's reference cannot be run: no judgement of the program
        return Verdict.unverifiable(
            f"field 'reference': {bad_reference[0]['message']}", id=candidate.id
        ).model_copy(update={"details": details})
    failures = _failures(details)
    if details and not failures:
        return _verdict(candidate, "accepted", _passed_reason(details), program, details)
    first = (
        failures[0]
        if failures
        else {"test": "tests", "outcome": "failed", "message": "no test ran"}
    )
    status = "timeout" if first["outcome"] == "timeout" else "rejected"
    reason = (
        f"{len(failures)} of {len(details)} test(s) failed; first: {first['test']}: "
        f"{first['outcome']}" + (f" ({first['message'][:200]})" if first["message"] else "")
    )
    return _verdict(candidate, status, reason, program, details)


def _passed_reason(details: list[dict[str, Any]]) -> str:
    tests = [d for d in details if d["test"] not in ("differential", ISOLATION)]
    reason = f"all {len(tests)} test(s) passed"
    checks = [d for d in details if d["test"] == "differential"]
    return reason + "".join(f"; {d['message']}" for d in checks if d["message"])


def _verdict(
    candidate: Candidate,
    status: str,
    reason: str,
    program: str | None,
    details: list[dict[str, Any]],
) -> Verdict:
    return Verdict(
        id=candidate.id,
        accepted=status == "accepted",
        status=status,
        reason=reason,
        extracted=program,
        details=details,
    )
