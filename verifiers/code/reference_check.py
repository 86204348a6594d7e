"""Differential testing against a record's `reference` solution, from the host's side.

When a code candidate passed its tests and its record carries a reference solution, the
candidate must match the reference on edge values, mutations of the tests' own arguments,
Hypothesis draws and the draws of a strategy the model wrote (`meta.input_strategy`). The
reference and the candidate run in separate sandbox runs (`ReferenceCheck`). The outcome is one
more entry of the verdict's `details`, with the first counterexample.

On by default; the code verifier's `differential` setting (`DifferentialSettings`' fields) turns
it off or sets the time a check may spend building inputs: from a job's
`verify.differential`, or from `factory verify --no-differential`.
"""

from __future__ import annotations

import ast
import hashlib
import json
import secrets
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from verified_factory.records import AssertTests, CallTests, Candidate, PytestTests, TestSpec
from verified_factory.sandboxes import Job, RunResult
from verified_factory.verifiers.code.extract import extract_program
from verified_factory.verifiers.code.report import NoReport, nonce_report
from verified_factory.verifiers.code.sandboxed import judged_job, reference_job

TEST_NAME = "differential"
CACHED_REFERENCES = 256
LOAD_LIMIT_S = 30
STRATEGY_FIELD = "input_strategy"


@dataclass(frozen=True)
class DifferentialSettings:
    enabled: bool = True
    draws: int = 100
    """Hypothesis examples from the signature (and as many from the model's strategy)."""
    mutations: int = 100
    max_inputs: int = 400
    budget_s: float = 10.0
    """Time for building inputs and running the reference on them."""
    call_limit_s: float = 1.0
    """The reference's time per input; the candidate gets ten times the reference's, at least
    this."""

    def applies(self, candidate: Candidate) -> bool:
        return self.enabled and bool(candidate.reference and candidate.reference.strip())


def function_under_test(tests: TestSpec | None) -> str | None:
    """The function that `tests` call: their `entry_point`, or the name a pytest module
    imports from `solution`; None for a program's tests (stdio) or when none is named."""
    if isinstance(tests, AssertTests | CallTests):
        return tests.entry_point
    if isinstance(tests, PytestTests):
        for node in ast.walk(ast.parse(tests.code)):
            if isinstance(node, ast.ImportFrom) and node.module == "solution":
                named = [alias.name for alias in node.names if alias.name != "*"]
                return named[0] if named else None
    return None


def skipped(candidate: Candidate) -> dict[str, Any] | None:
    """The detail of a check that cannot run for this candidate's tests, else None."""
    tests = candidate.tests
    if isinstance(tests, AssertTests | CallTests):
        return None
    if isinstance(tests, PytestTests) and function_under_test(tests):
        return None
    return {
        "test": TEST_NAME,
        "outcome": "skipped",
        "message": f"differential testing needs a function to call; these {tests.format!r} "  # type: ignore[union-attr]
        "tests name none, so only the tests judged this candidate",
    }


def _seed_tests(tests: AssertTests | CallTests | PytestTests) -> dict[str, Any]:
    """The tests as the reference's side reads them for the arguments they call with.

    A pytest module becomes plain code: its imports from `solution` (the candidate, which must
    never load in the reference's process) are removed, and every `test_*` function is called
    once with no arguments, each failure ignored (fixtures and parametrize are not supported:
    such tests show no arguments).
    """
    if isinstance(tests, CallTests):
        return {
            "format": "call",
            "cases": [{"args": c.args, "kwargs": c.kwargs} for c in tests.cases],
        }
    if isinstance(tests, AssertTests):
        return {"format": "assert", "code": tests.code, "entry_point": tests.entry_point}
    tree = ast.parse(tests.code)
    tree.body = [node for node in tree.body if not _imports_solution(node)]
    code = ast.unparse(tree) + _CALL_EACH_TEST
    return {"format": "assert", "code": code, "entry_point": function_under_test(tests)}


_CALL_EACH_TEST = """
for __vf_name, __vf_test in list(globals().items()):
    if __vf_name.startswith('test') and callable(__vf_test):
        try:
            __vf_test()
        except Exception:
            pass
"""


def _imports_solution(node: ast.stmt) -> bool:
    if isinstance(node, ast.ImportFrom):
        return node.module == "solution"
    return isinstance(node, ast.Import) and any(a.name == "solution" for a in node.names)


class ReferenceCheck:
    """Differential testing in two sandbox runs that never meet.

    First the reference runs alone and hands back the inputs and its results on them, as plain
    data (`reference_side.py`); that run is made once per reference and tests, and reused for
    every candidate of the problem. Then the candidate runs as a judged program: `tester.py`, in
    its own process and user, calls the candidate's function on each input and compares with the
    reference's result, up to the first difference.
    """

    def __init__(self, settings: DifferentialSettings) -> None:
        self.settings = settings
        self._references: OrderedDict[str, dict[str, Any]] = OrderedDict()

    def check(
        self, program: str, candidate: Candidate, run: Callable[[Job], RunResult]
    ) -> dict[str, Any]:
        """The detail entry of `program` against the candidate's reference."""
        reference = self._reference(candidate, run)
        if "error" in reference:
            return {"test": TEST_NAME, "outcome": "reference_error", "message": reference["error"]}
        summary = {
            "inputs": reference["counted"],
            "invalid": reference["invalid"],
            "seeds": reference["seeds"],
            "notes": reference["notes"],
        }
        calls = reference["calls"]
        if not calls:
            return {
                "test": TEST_NAME,
                "outcome": "skipped",
                "message": "no valid input could be built",
                **summary,
            }
        limits = [max(self.settings.call_limit_s, 10 * call[4] + 0.1) for call in calls]
        total = max(self.settings.budget_s, 10 * sum(call[4] for call in calls) + 1)
        spec = {
            "format": "differential",
            "entry_point": reference["entry"],
            "calls": [
                [origin, args, kwargs, expected, limit, left]
                for (origin, args, kwargs, expected, _, left), limit in zip(
                    calls, limits, strict=True
                )
            ],
            "total_limit_s": total,
        }
        nonce = secrets.token_hex(16)
        tests = candidate.tests
        result = run(
            judged_job(
                program,
                spec,
                nonce,
                time_limit_s=total + LOAD_LIMIT_S,
                memory_limit_mb=tests.memory_limit_mb or 512,  # type: ignore[union-attr]
            )
        )
        outcome = _outcome(result, nonce)
        if outcome["outcome"] == "passed":
            parts = ", ".join(f"{count} {origin}" for origin, count in summary["inputs"].items())
            outcome["message"] = f"matched the reference on {len(calls)} inputs ({parts})"
        return {"test": TEST_NAME, **outcome, **summary}

    def _reference(self, candidate: Candidate, run: Callable[[Job], RunResult]) -> dict[str, Any]:
        """The reference's inputs and results (cached), or {"error": why it cannot be run}."""
        tests = candidate.tests
        assert isinstance(tests, AssertTests | CallTests | PytestTests)
        reference = extract_program(candidate.reference or "") or candidate.reference or ""
        spec = {
            "entry_point": function_under_test(tests),
            "tests": _seed_tests(tests),
            "strategy": candidate.meta.get(STRATEGY_FIELD),
            "draws": self.settings.draws,
            "mutations": self.settings.mutations,
            "max_inputs": self.settings.max_inputs,
            "budget_s": self.settings.budget_s,
            "call_limit_s": self.settings.call_limit_s,
        }
        key = hashlib.sha256(json.dumps([reference, spec], sort_keys=True).encode()).hexdigest()
        if key in self._references:
            self._references.move_to_end(key)
            return self._references[key]
        nonce = secrets.token_hex(16)
        result = run(
            reference_job(
                reference,
                spec,
                nonce,
                time_limit_s=2 * self.settings.budget_s + 10,
                memory_limit_mb=tests.memory_limit_mb or 512,
            )
        )
        found = _reference_results(result, nonce)
        self._references[key] = found
        if len(self._references) > CACHED_REFERENCES:
            self._references.popitem(last=False)
        return found


def _reference_results(result: RunResult, nonce: str) -> dict[str, Any]:
    for hit, what in (
        (result.timed_out, "ran past its time limit"),
        (result.memory_exceeded, "ran past its memory limit"),
        (result.output_exceeded, "wrote more than the output limit"),
    ):
        if hit:
            return {"error": f"the reference {what} while its inputs were built"}
    try:
        return nonce_report(result.stdout, nonce)
    except NoReport:
        tail = result.stderr.strip()[-300:]
        return {"error": "the reference's run did not finish" + (f": {tail}" if tail else "")}


def _outcome(result: RunResult, nonce: str) -> dict[str, Any]:
    """The comparison's outcome, from the tester's report."""
    for hit, outcome, message in (
        (result.timed_out, "timeout", "the program ran past its time limit"),
        (result.memory_exceeded, "memory_limit", "the program ran past its memory limit"),
        (result.output_exceeded, "output_limit", "the program wrote more than the output limit"),
    ):
        if hit:
            return {"outcome": outcome, "message": message}
    try:
        report = nonce_report(result.report or "", nonce)["differential"]
    except (NoReport, KeyError, TypeError):
        return {
            "outcome": "runtime_error",
            "message": "differential testing did not run to the end",
        }
    if report["outcome"] == "passed":
        return {"outcome": "passed", "message": ""}
    return report
