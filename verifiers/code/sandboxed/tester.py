"""The judge of a code candidate (stdlib only; pytest for pytest tests): it holds the tests and
records every outcome, in its own process and user, apart from the solution.

    python3 -I tester.py        (the nonce on stdin; spec.json beside it; fd 3/4 to solver.py)

The solution runs in `solver.py`, another process the sandbox keeps this one out of reach of.
The tests run here, against stand-ins for the solution's names (`remote.py`): every call crosses
as plain data, and results are rebuilt here from built-in types only. This process writes the
report, one line on its stdout that starts with the nonce; nothing the solution does can write
to it.

Formats:
- `assert`: the test code runs with the solution's names in scope. Every `assert` is recorded
  on its own; a failed assert does not stop the others.
- `call`: `entry_point(*args, **kwargs)` per case; each result goes to the host as data (a value
  that is not data is a wrong answer), where it is compared with what is expected.
- `pytest`: pytest on the test module, which imports the stand-in module `solution`;
  `--noconftest`, and a plugin that records every test's outcome; a skip or xfail is not a pass.
- `differential`: the candidate's function on each given input, within a limit per call, its
  result (and the arguments, where the reference changes them in place) compared here with the
  reference's (`compare.py`), up to the first difference.
"""

from __future__ import annotations

import ast
import builtins
import json
import os
import sys
import time
import traceback
import types

import wire
from compare import same
from remote import Garbled, Link, OverTime, Remote, SolutionGone, Unsendable, solution_module

WORKDIR = os.path.dirname(os.path.abspath(__file__))
REPR_LIMIT = 300
if hasattr(sys, "set_int_max_str_digits"):
    sys.set_int_max_str_digits(0)


class Recorder:
    def __init__(self) -> None:
        self.outcomes: list[dict] = []

    def add(self, test: str, outcome: str, message: str = "") -> None:
        self.outcomes.append({"test": test, "outcome": outcome, "message": message[:500]})

    def failure(self, test: str, error: BaseException) -> None:
        """Record what a test's error says about the solution."""
        if isinstance(error, MemoryError):
            self.add(test, "memory_limit", "the program ran out of its memory limit")
        elif isinstance(error, Unsendable):
            self.add(test, "wrong_answer", str(error))
        elif isinstance(error, (SolutionGone, Garbled)):
            self.add(test, "runtime_error", str(error))
        else:
            self.add(test, "runtime_error", f"{type(error).__name__}: {error}")


_BLOCKS = ("body", "orelse", "finalbody", "handlers", "cases")
"""The fields that hold statements, or clauses that hold them (`except`, `case`)."""


def _record_asserts(statements: list) -> list:
    """`assert test, msg` -> `__vf_assert__(lambda: test, line)`: each assert recorded.

    An assert is a statement, so only statement blocks are walked, never the expressions (a
    test's large literals), and each new node takes the assert's location."""
    rewritten = []
    for node in statements:
        for field in _BLOCKS:
            block = getattr(node, field, None)
            if type(block) is list and block:
                setattr(node, field, _record_asserts(block))
        if type(node) is ast.Assert:
            check = ast.Call(
                func=_at(ast.Name("__vf_assert__", ast.Load()), node),
                args=[
                    _at(ast.Lambda(_no_arguments(), node.test), node),
                    _at(ast.Constant(node.lineno), node),
                ],
                keywords=[],
            )
            node = _at(ast.Expr(_at(check, node)), node)
        rewritten.append(node)
    return rewritten


def _at(new: ast.AST, old: ast.AST) -> ast.AST:
    return ast.copy_location(new, old)


def _no_arguments() -> ast.arguments:
    return ast.arguments(
        posonlyargs=[], args=[], vararg=None, kwonlyargs=[], kw_defaults=[], kwarg=None, defaults=[]
    )


def test_namespace(solution, asked: set) -> dict:
    """The solution's names the tests see: never one that would hide a built-in (`abs`,
    `range`, `len`), stand for a standard-library module (`math`) with something else, or be a
    pytest hook; names the tests ask for by name (the entry point) are always there."""
    namespace = {}
    for name, value in vars(solution).items():
        if name.startswith("__") or (name not in asked and _reserved(name, value)):
            continue
        namespace[name] = value
    return namespace


def asked_names(spec: dict, solution, tree: ast.Module | None = None) -> set:
    """The names the tests ask of the solution even where they hide a built-in: the entry
    point; without one, the solution's names the tests use, when every one of them has a
    built-in's name (MBPP's `sum`). Tests that use `mean` and `abs` ask only for `mean`."""
    if spec.get("entry_point"):
        return {spec["entry_point"]}
    defined = vars(solution)
    used = {
        node.id
        for node in ast.walk(tree or ast.parse(spec["code"]))
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) and node.id in defined
    }
    if any(not _reserved(name, defined[name]) for name in used):
        return set()
    return used


def _reserved(name: str, value) -> bool:
    if hasattr(builtins, name) or name.startswith("pytest"):
        return True
    if name in sys.stdlib_module_names:
        return sys.modules.get(name) is not value  # only the judge's own import of it
    return False


def run_assert(spec: dict, solution, recorder: Recorder) -> None:
    def check(test, line: int) -> None:
        name = f"assert on line {line}"
        try:
            ok = bool(test())
        except Exception as err:
            recorder.failure(name, err)
            return
        recorder.add(name, "passed" if ok else "failed")

    tree = ast.parse(spec["code"], "tests.py")
    namespace = test_namespace(solution, asked_names(spec, solution, tree))
    namespace.update(__name__="__main__", __vf_assert__=check)
    tree.body = _record_asserts(tree.body)
    exec(compile(tree, "tests.py", "exec"), namespace)
    if not recorder.outcomes:
        recorder.add("tests", "failed", "the tests ran no assert")


def _entry(solution, name: str, recorder: Recorder):
    function = getattr(solution, name, None)
    if not isinstance(function, Remote):
        recorder.add("entry point", "runtime_error", f"{name!r} is not defined as a function")
        return None
    return function


def run_call(spec: dict, solution, recorder: Recorder) -> list:
    function = _entry(solution, spec["entry_point"], recorder)
    if function is None:
        return []
    results = []
    for index, case in enumerate(spec["cases"]):
        try:
            value = function(*case.get("args", []), **case.get("kwargs", {}))
            results.append(wire.encode(value))
            recorder.add(f"case {index}", "returned")
        except wire.NotData as err:
            results.append(None)
            recorder.add(f"case {index}", "wrong_answer", f"the result is not data: {err}")
        except Exception as err:
            results.append(None)
            recorder.failure(f"case {index}", err)
    return results


def pytest_module(solution, code: str) -> types.ModuleType:
    """The module a pytest test module imports as `solution`: the names `test_namespace`
    gives, less those the test module binds itself, so `from solution import *` cannot replace
    the `isclose` it imported from `math`."""
    tree = ast.parse(code)
    asked, bound = set(), set()
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.module == "solution":
            asked.update(alias.name for alias in node.names)
        elif isinstance(node, ast.Import | ast.ImportFrom):
            bound.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            bound.add(node.name)
        elif isinstance(node, ast.Assign | ast.AnnAssign | ast.AugAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            bound.update(n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name))
    names = {k: v for k, v in test_namespace(solution, asked).items() if k not in bound - asked}
    module = types.ModuleType("solution")
    vars(module).update(names)
    module.__all__ = sorted(names)
    return module


def run_pytest(spec: dict, solution, recorder: Recorder) -> None:
    try:
        import pytest  # in the sandbox image and the project's environment
    except ImportError:
        recorder.add("pytest", "sandbox_error", "pytest is not installed in the sandbox")
        return
    sys.modules["solution"] = pytest_module(solution, spec["code"])
    path = os.path.join(WORKDIR, "test_solution.py")
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(spec["code"])
    config = os.path.join(WORKDIR, "pytest.ini")  # named, so no parent directory's is read
    with open(config, "w", encoding="utf-8") as handle:
        handle.write("[pytest]\n")

    class Plugin:
        collected = 0

        def pytest_collection_finish(self, session) -> None:
            Plugin.collected = len(session.items)

        def pytest_runtest_logreport(self, report) -> None:
            if report.when == "call" or report.outcome != "passed":
                outcome = {"passed": "passed", "failed": "failed", "skipped": "failed"}[
                    report.outcome
                ]
                message = "skipped" if report.skipped else str(report.longrepr or "")[-300:]
                if hasattr(report, "wasxfail"):
                    outcome, message = "failed", "xfail is not a pass"
                recorder.add(report.nodeid, outcome, message if outcome != "passed" else "")

    # No plugin of the interpreter's environment joins the judge: it would see the tests, and
    # finding them all costs more than the run (the process sandbox's environment is large).
    os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    args = ["-q", "-c", config, "-p", "no:cacheprovider", "--noconftest", "--rootdir", WORKDIR]
    pytest.main([*args, path], plugins=[Plugin()])
    if Plugin.collected == 0:
        recorder.add("tests", "failed", "pytest collected no test")


def run_differential(spec: dict, solution, link: Link) -> dict:
    """The candidate against the reference's results, input by input, to the first difference."""
    entry = spec["entry_point"]
    function = getattr(solution, entry, None)
    if not isinstance(function, Remote):
        return {"outcome": "runtime_error", "message": f"{entry!r} is not defined as a function"}
    handle = object.__getattribute__(function, "_handle")
    deadline = time.monotonic() + spec["total_limit_s"]
    for origin, args, kwargs, expected, limit, left in spec["calls"]:
        args, kwargs, expected = wire.decode(args), wire.decode(kwargs), wire.decode(expected)
        example = {"input": call_text(entry, args, kwargs), "origin": origin}
        expected_text = short(repr(expected))
        if time.monotonic() > deadline:
            return {
                "outcome": "timeout",
                "message": f"took more than {spec['total_limit_s']:.3g} s over the inputs, ten "
                "times what the reference took",
            }
        try:
            got = link.call(handle, args, kwargs, limit_s=min(limit, deadline - time.monotonic()))
        except OverTime:
            return counterexample("timeout", example, f"ran past {limit:.2g} s")
        except (SolutionGone, Garbled) as err:
            return counterexample("runtime_error", example, str(err))
        except Unsendable as err:
            example["expected"] = expected_text
            return counterexample("wrong_answer", example, str(err))
        except Exception as err:
            example["expected"] = expected_text
            return counterexample("runtime_error", example, f"raised {type(err).__name__}: {err}")
        if not same(expected, got):
            example.update(expected=expected_text, got=short(repr(got)))
            what = f"returned {example['got']} where the reference returns {expected_text}"
            return counterexample("wrong_answer", example, what)
        if left is not None and not same(wire.decode(left), [args, kwargs]):
            example.update(expected=short(repr(wire.decode(left))), got=short(repr([args, kwargs])))
            what = (
                f"left its arguments as {example['got']} where the reference leaves them as "
                f"{example['expected']}"
            )
            return counterexample("wrong_answer", example, what)
    return {"outcome": "passed", "message": ""}


def counterexample(outcome: str, example: dict, what: str) -> dict:
    return {
        "outcome": outcome,
        "message": f"{example['input']} {what} ({example['origin']} input)",
        "counterexample": example,
    }


def call_text(entry: str, args, kwargs) -> str:
    parts = [repr(a) for a in args] + [f"{k}={v!r}" for k, v in kwargs.items()]
    return short(f"{entry}({', '.join(parts)})")


def short(text: str) -> str:
    return text if len(text) <= REPR_LIMIT else text[: REPR_LIMIT - 3] + "..."


def load(link: Link, recorder: Recorder):
    """The stand-in module of the solution, or None (its load failure recorded)."""
    try:
        hello = link.receive()
    except (SolutionGone, Garbled) as err:
        recorder.add("solution", "runtime_error", f"it does not load: {err}")
        return None
    if "load" in hello:
        why = str(hello["load"])[:500]
        kind = "syntax_error" if why.startswith("SyntaxError") else "runtime_error"
        recorder.add("solution", kind, why)
        return None
    manifest = hello.get("manifest")
    if type(manifest) is not dict:
        recorder.add("solution", "runtime_error", "it does not load: no manifest")
        return None
    return solution_module(link, manifest)


def judge(spec: dict, link: Link) -> dict:
    recorder = Recorder()
    solution = load(link, recorder)
    if solution is None:
        if spec["format"] == "differential":
            (failure,) = recorder.outcomes
            return {"differential": {"outcome": "runtime_error", "message": failure["message"]}}
        return {"outcomes": recorder.outcomes, "results": None}
    if spec["format"] == "differential":
        return {"differential": run_differential(spec, solution, link)}
    results = None
    try:
        if spec["format"] == "assert":
            run_assert(spec, solution, recorder)
        elif spec["format"] == "call":
            results = run_call(spec, solution, recorder)
        elif spec["format"] == "pytest":
            run_pytest(spec, solution, recorder)
    except Exception as err:  # an error of the tests themselves, outside any assert
        where = traceback.extract_tb(err.__traceback__)[-1:]
        line = f" (line {where[0].lineno})" if where else ""
        recorder.add("tests", "runtime_error", f"{type(err).__name__}{line}: {err}")
    return {"outcomes": recorder.outcomes, "results": results}


def main() -> None:
    nonce = sys.stdin.readline().strip()
    with open(os.path.join(WORKDIR, "spec.json"), encoding="utf-8") as handle:
        spec = json.load(handle)
    report = judge(spec, Link())
    sys.stdout.write("\n" + nonce + " " + json.dumps(report, default=repr) + "\n")
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
