"""CodeT's dual agreement (Chen et al. 2022): code without trusted tests, judged by consensus.

The samples of one problem are run, in the sandbox, against tests the model wrote; each
assert is a test of its own. Solutions that pass exactly the same set of tests form a
consensus set, scored by (solutions in the set) x (tests it passes): a set is believed when
many independent solutions agree on the same behaviour and many tests confirm it. A problem's
`reference`, when it has one that is not trusted either (OSS-Instruct's own solution), votes
as one more solution but is never a candidate.

The best set is accepted when its score is the highest alone, it holds at least `min_group`
solutions and passes at least `min_tests` tests; its members are accepted and every other
sample rejected. Otherwise nothing is. Each verdict's `details` shows the consensus sets; an
accepted one carries the `Agreement`: the tests its set passes, which the row then carries as
its tests (so an exported row is checked again by its tests like any other), and whether the
reference was in the set.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from verified_factory.records import Agreement, AssertTests, Candidate, Verdict
from verified_factory.sandboxes import SandboxError
from verified_factory.verifiers.base import member_verdict
from verified_factory.verifiers.code.extract import extract_program

if TYPE_CHECKING:
    from verified_factory.verifiers.code.verifier import CodeVerifier

TEST_NAME = "dual_agreement"
REFERENCE = -1
"""The index of the problem's reference among the voters."""

_ASSERT_LINE = re.compile(r"^assert on line (\d+)$")


@dataclass(frozen=True)
class DualAgreementRule:
    min_group: int = 2
    """The accepted consensus set holds at least this many solutions (the reference counts)."""
    min_tests: int = 1
    """The accepted consensus set passes at least this many tests."""


@dataclass(frozen=True)
class SplitTests:
    """Model-written tests: the imports they need, and each top-level assert as one test."""

    imports: list[str]
    asserts: list[str]

    def code(self, chosen: list[int] | None = None) -> str:
        """The imports, then the asserts (those `chosen`, else all), one per line."""
        asserts = self.asserts if chosen is None else [self.asserts[i] for i in chosen]
        return "".join(line + "\n" for line in (*self.imports, *asserts))


def split_tests(code: str) -> SplitTests:
    """The top-level asserts of `code`, each on one line, and its imports.

    Everything else is left out: a `def` or an assignment in model-written tests could redefine
    the function under test and make every solution pass.
    """
    tree = ast.parse(code)
    imports: list[str] = []
    asserts: list[str] = []
    for node in tree.body:
        text = ast.unparse(node)
        if isinstance(node, ast.Import | ast.ImportFrom) and text not in imports:
            imports.append(text)
        elif isinstance(node, ast.Assert) and "\n" not in text and text not in asserts:
            asserts.append(text)
    return SplitTests(imports, asserts)


def calls_function(tree: ast.AST, name: str) -> bool:
    """Whether the code of `tree` calls the function `name` somewhere."""
    return any(
        isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == name
        for node in ast.walk(tree)
    )


def judge_by_dual_agreement(
    candidates: Sequence[Candidate], verifier: CodeVerifier, rule: DualAgreementRule
) -> list[Verdict]:
    """One verdict per sample of one problem, in order; the tests are the samples' `tests`."""
    tests = candidates[0].tests
    split = split_tests(tests.code) if isinstance(tests, AssertTests) else SplitTests([], [])
    if not split.asserts:
        reason = "no model-written assert to agree on (field 'tests')"
        return [Verdict.unverifiable(f"dual agreement: {reason}", id=c.id) for c in candidates]
    programs = {i: extract_program(c.response) for i, c in enumerate(candidates)}
    reference = candidates[0].reference
    if reference and reference.strip():
        programs[REFERENCE] = reference
    spec = tests.model_copy(update={"code": split.code()})  # type: ignore[union-attr]
    try:
        passed = _passed_tests(programs, spec, split, verifier)
    except SandboxError as err:
        return [
            Verdict.error(f"dual agreement: the sandbox failed: {err}", id=c.id) for c in candidates
        ]
    return _verdicts(candidates, programs, passed, split, spec, rule)


def _passed_tests(
    programs: dict[int, str | None], spec: AssertTests, split: SplitTests, verifier: CodeVerifier
) -> dict[int, frozenset[int]]:
    """The tests each program passes; a program is run once however many samples wrote it."""
    first_line = len(split.imports) + 1
    by_text: dict[str, frozenset[int]] = {}
    passed: dict[int, frozenset[int]] = {}
    for index, program in programs.items():
        if program is None:
            continue
        if program not in by_text:
            outcomes = verifier.run_tests(program, spec)
            by_text[program] = frozenset(
                int(match.group(1)) - first_line
                for outcome in outcomes
                if outcome["outcome"] == "passed" and (match := _ASSERT_LINE.match(outcome["test"]))
            )
        passed[index] = by_text[program]
    return passed


@dataclass(frozen=True)
class _Set:
    tests: frozenset[int]
    members: list[int]

    @property
    def score(self) -> int:
        return len(self.members) * len(self.tests)


def _verdicts(
    candidates: Sequence[Candidate],
    programs: dict[int, str | None],
    passed: dict[int, frozenset[int]],
    split: SplitTests,
    spec: AssertTests,
    rule: DualAgreementRule,
) -> list[Verdict]:
    groups: dict[frozenset[int], list[int]] = {}
    for index, tests in passed.items():
        groups.setdefault(tests, []).append(index)
    sets = sorted((_Set(t, m) for t, m in groups.items()), key=lambda s: s.score, reverse=True)
    voters = len(passed)
    summary: dict[str, Any] = {
        "test": TEST_NAME,
        "solutions": voters,
        "tests": len(split.asserts),
        "sets": [
            {"solutions": len(s.members), "passed": len(s.tests), "score": s.score}
            for s in sets[:5]
        ],
    }
    failure = _why_not(sets, rule)
    winner = sets[0] if failure is None else None
    agreement = None
    if winner is not None:
        agreement = Agreement(
            share=len(winner.members) / voters,
            tests=spec.model_copy(update={"code": split.code(sorted(winner.tests))}),
            reference_agrees=REFERENCE in winner.members,
        )
        summary.update(
            agreement=agreement.share,
            agreed_tests=split.code(sorted(winner.tests)),
            reference_agrees=agreement.reference_agrees,
        )
    verdicts = []
    for index, candidate in enumerate(candidates):
        status, reason = _judge_one(index, programs, passed, winner, failure, len(split.asserts))
        verdicts.append(
            member_verdict(
                candidate,
                status == "accepted",
                "dual agreement (tests not trusted)",
                reason,
                agreement,
                extracted=programs[index],
                detail={**summary, "passes": len(passed.get(index, ()))},
            )
        )
    return verdicts


def _judge_one(
    index: int,
    programs: dict[int, str | None],
    passed: dict[int, frozenset[int]],
    winner: _Set | None,
    failure: str | None,
    tests: int,
) -> tuple[str, str]:
    if programs[index] is None:
        return "rejected", "no Python program found in the response"
    if winner is None:
        return "rejected", f"no consensus: {failure}"
    agreed = (
        f"{len(winner.members)} solution(s) passing the same {len(winner.tests)} of {tests} tests"
    )
    if index in winner.members:
        return "accepted", agreed
    return "rejected", (
        f"it passes {len(passed[index])} of {tests} tests, not the set of the consensus ({agreed})"
    )


def _why_not(sets: list[_Set], rule: DualAgreementRule) -> str | None:
    """Why the best consensus set is not accepted; None when it is."""
    if not sets or sets[0].score == 0:
        return "no solution passes any test"
    best = sets[0]
    if len(sets) > 1 and sets[1].score == best.score:
        return f"two consensus sets tie at score {best.score}"
    if len(best.members) < rule.min_group:
        return (
            f"the best consensus set holds {len(best.members)} solution(s), "
            f"and acceptance needs at least {rule.min_group}"
        )
    if len(best.tests) < rule.min_tests:
        return (
            f"the best consensus set passes {len(best.tests)} test(s), "
            f"and acceptance needs at least {rule.min_tests}"
        )
    return None
