"""Differential testing against a record's `reference` solution, from the host's side.

When a code candidate passed its tests and its record carries a reference solution, the code
verifier runs `differential.py` in the sandbox: the candidate must match the reference on edge
values, mutations of the tests' own arguments, Hypothesis draws and the draws of a strategy the
model wrote (`meta.input_strategy`). Its outcome is one more entry of the verdict's `details`,
with the first counterexample.

On by default; `FACTORY_DIFFERENTIAL=off` (or `verify.differential.enabled: false` in a job
config, `factory verify --no-differential`) turns it off, and `FACTORY_DIFFERENTIAL_BUDGET_S`
sets the time a check may spend building inputs.
"""

from __future__ import annotations

import ast
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from factory.records import AssertTests, CallTests, Candidate, PytestTests, TestSpec
from sandboxes import Job
from verifiers.code.extract import extract_program
from verifiers.code.report import NoReport, nonce_report

_HERE = Path(__file__).parent
FILES = {
    name: (_HERE / name).read_text() for name in ("harness.py", "inputs.py", "differential.py")
}
TEST_NAME = "differential"
STRATEGY_FIELD = "input_strategy"
_OFF = ("0", "off", "false", "no")


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

    @classmethod
    def from_env(cls) -> DifferentialSettings:
        budget = os.environ.get("FACTORY_DIFFERENTIAL_BUDGET_S")
        return cls(
            enabled=os.environ.get("FACTORY_DIFFERENTIAL", "on").strip().lower() not in _OFF,
            budget_s=float(budget) if budget else cls.budget_s,
        )

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


def differential_job(
    program: str, candidate: Candidate, settings: DifferentialSettings, nonce: str
) -> Job:
    """The sandbox run that compares `program` with the candidate's reference."""
    tests = candidate.tests
    assert isinstance(tests, AssertTests | CallTests | PytestTests)
    reference = extract_program(candidate.reference or "") or candidate.reference or ""
    spec = {
        "entry_point": function_under_test(tests),
        "tests": _seed_tests(tests),
        "strategy": candidate.meta.get(STRATEGY_FIELD),
        "draws": settings.draws,
        "mutations": settings.mutations,
        "max_inputs": settings.max_inputs,
        "budget_s": settings.budget_s,
        "call_limit_s": settings.call_limit_s,
    }
    return Job(
        argv=["python3", "-I", "differential.py"],
        files={
            **FILES,
            "solution.py": program,
            "reference.py": reference,
            "spec.json": json.dumps(spec),
        },
        stdin=nonce + "\n",
        time_limit_s=12 * settings.budget_s + 10,
        memory_limit_mb=tests.memory_limit_mb or 512,
        warm=True,
    )


def read_outcome(stdout: str, nonce: str) -> dict[str, Any]:
    """The check's detail entry, from the one report line that starts with the nonce."""
    try:
        report = nonce_report(stdout, nonce)
    except NoReport as err:
        message = (
            "more than one report: the program tampered with the check"
            if err.forged
            else "differential testing did not run to the end (the program ended it)"
        )
        return {"test": TEST_NAME, "outcome": "runtime_error", "message": message}
    detail: dict[str, Any] = {"test": TEST_NAME, **report}
    if report["outcome"] == "passed":
        inputs = report.get("inputs", {})
        parts = ", ".join(f"{count} {origin}" for origin, count in inputs.items())
        detail["message"] = f"matched the reference on {sum(inputs.values())} inputs ({parts})"
    return detail
