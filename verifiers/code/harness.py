"""The test harness, run inside the sandbox (stdlib only, any python3 >= 3.9).

    python3 -I harness.py        (the nonce on the first line of stdin)

It reads `spec.json` and deletes it before the candidate's code is loaded, so the program
cannot read what the tests expect from the file. It writes its report, once every test has
run, through a duplicate of stdout taken before the candidate is loaded, on one line that
starts with the run's nonce; the host trusts nothing else (not the exit code, not the output).

Formats:
- `assert`: the solution's code runs as a module, then the test code in the same namespace.
  Every `assert` is rewritten so that `==` compares strictly (same built-in types, element by
  element, never a subclass's `__eq__`) and its outcome is recorded; a failed assert does not
  stop the others.
- `call`: `entry_point(*args, **kwargs)` per case; each result leaves as JSON data (anything
  else is a wrong answer) and is compared outside the sandbox.
- `pytest`: pytest on the test module, `--noconftest`, with a plugin that records every test's
  outcome; a skip or xfail is not a pass.
"""

from __future__ import annotations

import ast
import json
import os
import sys
import traceback
import types

WORKDIR = os.path.dirname(os.path.abspath(__file__))


class Recorder:
    def __init__(self) -> None:
        self.outcomes: list[dict] = []

    def add(self, test: str, outcome: str, message: str = "") -> None:
        self.outcomes.append({"test": test, "outcome": outcome, "message": message[:500]})


def strict_equal(a: object, b: object) -> bool:
    """Python's `==`, but only between honest values, so a crafted `__eq__` cannot fake a pass.

    Honest: built-in and standard-library types, and subclasses of built-ins that keep their
    base's `__eq__` and `__ne__` (a named tuple, an IntEnum), all the way down any container.
    Then the comparison is Python's own: `Counter` equals a `dict`, `0 == False`, sets of tuples.
    """
    return is_honest(a) and is_honest(b) and a == b


def is_honest(value: object) -> bool:
    """Whether `value` is made of honest types only, so that its `==` can be trusted."""
    return _honest(value, set())


_BUILTIN_BASES = (
    bool,
    int,
    float,
    complex,
    str,
    bytes,
    bytearray,
    type(None),
    list,
    tuple,
    dict,
    set,
    frozenset,
    range,
)


def _stdlib_types() -> set:
    import collections
    import datetime
    import decimal
    import fractions

    return {
        collections.Counter,
        collections.OrderedDict,
        collections.defaultdict,
        collections.deque,
        fractions.Fraction,
        decimal.Decimal,
        datetime.date,
        datetime.datetime,
        datetime.time,
        datetime.timedelta,
    }


_STDLIB_TYPES = _stdlib_types()


def _honest(value: object, seen: set) -> bool:
    kind = type(value)
    if kind not in _BUILTIN_BASES and kind not in _STDLIB_TYPES:
        base = next((b for b in _BUILTIN_BASES if isinstance(value, b)), None)
        if base is None or kind.__eq__ is not base.__eq__ or kind.__ne__ is not base.__ne__:
            return False
    if isinstance(value, (list, tuple, set, frozenset, dict)) or type(value) in _STDLIB_TYPES:
        if id(value) in seen or len(seen) > 100_000:
            return id(value) in seen  # a cycle is honest; a monstrous structure is not
        seen.add(id(value))
        if isinstance(value, dict):
            return all(_honest(k, seen) and _honest(v, seen) for k, v in value.items())
        if isinstance(value, (list, tuple, set, frozenset)) or type(value).__name__ == "deque":
            return all(_honest(item, seen) for item in value)
    return True


class _StrictAsserts(ast.NodeTransformer):
    """`assert test, msg` → `__vf_assert__(lambda: test, line)` with strict `==` and `!=`."""

    def visit_Compare(self, node: ast.Compare) -> ast.AST:
        self.generic_visit(node)
        if len(node.ops) != 1 or not isinstance(node.ops[0], (ast.Eq, ast.NotEq)):
            return node
        call = ast.Call(
            func=ast.Name("__vf_equal__", ast.Load()),
            args=[node.left, node.comparators[0]],
            keywords=[],
        )
        if isinstance(node.ops[0], ast.NotEq):
            return ast.UnaryOp(ast.Not(), call)
        return call

    def visit_Assert(self, node: ast.Assert) -> ast.AST:
        self.generic_visit(node)
        check = ast.Call(
            func=ast.Name("__vf_assert__", ast.Load()),
            args=[ast.Lambda(_no_arguments(), node.test), ast.Constant(node.lineno)],
            keywords=[],
        )
        return ast.copy_location(ast.Expr(check), node)


def _no_arguments() -> ast.arguments:
    return ast.arguments(
        posonlyargs=[],
        args=[],
        vararg=None,
        kwonlyargs=[],
        kw_defaults=[],
        kwarg=None,
        defaults=[],
    )


def _load_solution() -> types.ModuleType:
    sys.path.insert(0, WORKDIR)
    module = types.ModuleType("solution")
    module.__file__ = os.path.join(WORKDIR, "solution.py")
    sys.modules["solution"] = module
    with open(module.__file__, encoding="utf-8") as handle:
        source = handle.read()
    exec(compile(source, module.__file__, "exec"), module.__dict__)
    return module


def run_assert(spec: dict, recorder: Recorder) -> None:
    module = _load_solution()

    def check(test, line: int) -> None:
        name = f"assert on line {line}"
        try:
            ok = test()
        except MemoryError:
            recorder.add(name, "memory_limit", "the program ran out of its memory limit")
            return
        except Exception as err:
            recorder.add(name, "runtime_error", f"{type(err).__name__}: {err}")
            return
        recorder.add(name, "passed" if ok is True or (type(ok) is bool and ok) else "failed")

    namespace = module.__dict__
    namespace["__vf_assert__"] = check
    namespace["__vf_equal__"] = strict_equal
    tree = _StrictAsserts().visit(ast.parse(spec["code"], "tests.py"))
    ast.fix_missing_locations(tree)
    exec(compile(tree, "tests.py", "exec"), namespace)
    if not recorder.outcomes:
        recorder.add("tests", "failed", "the tests ran no assert")


def run_call(spec: dict, recorder: Recorder) -> list:
    module = _load_solution()
    function = getattr(module, spec["entry_point"], None)
    if not callable(function):
        recorder.add("entry point", "runtime_error", f"{spec['entry_point']!r} is not defined")
        return []
    results = []
    for index, case in enumerate(spec["cases"]):
        try:
            value = function(*case.get("args", []), **case.get("kwargs", {}))
            results.append(json.loads(json.dumps(value, allow_nan=False, default=_refuse)))
            recorder.add(f"case {index}", "returned")
        except _NotData as err:
            results.append(None)
            recorder.add(f"case {index}", "wrong_answer", str(err))
        except MemoryError:
            results.append(None)
            recorder.add(f"case {index}", "memory_limit", "the program ran out of its memory limit")
        except Exception as err:
            results.append(None)
            recorder.add(f"case {index}", "runtime_error", f"{type(err).__name__}: {err}")
    return results


class _NotData(TypeError):
    pass


def _refuse(value: object) -> object:
    if type(value) in (set, frozenset):
        return sorted(value, key=repr)
    raise _NotData(f"the result is a {type(value).__name__}, not JSON data")


def run_pytest(spec: dict, recorder: Recorder) -> None:
    try:
        import pytest  # in the sandbox image; a process sandbox needs it on the host
    except ImportError:
        recorder.add("pytest", "sandbox_error", "pytest is not installed in the sandbox")
        return

    with open(os.path.join(WORKDIR, "test_solution.py"), "w", encoding="utf-8") as handle:
        handle.write(spec["code"])
    sys.path.insert(0, WORKDIR)

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

    args = [
        "-q",
        "-p",
        "no:cacheprovider",
        "--noconftest",
        "-o",
        "addopts=",
        "--rootdir",
        WORKDIR,
        os.path.join(WORKDIR, "test_solution.py"),
    ]
    pytest.main(args, plugins=[Plugin()])
    if Plugin.collected == 0:
        recorder.add("tests", "failed", "pytest collected no test")


def main() -> None:
    nonce = sys.stdin.readline().strip()
    report = os.fdopen(os.dup(1), "w")  # before the candidate can touch stdout
    spec_path = os.path.join(WORKDIR, "spec.json")
    with open(spec_path, encoding="utf-8") as handle:
        spec = json.load(handle)
    os.unlink(spec_path)
    recorder = Recorder()
    results = None
    try:
        if spec["format"] == "assert":
            run_assert(spec, recorder)
        elif spec["format"] == "call":
            results = run_call(spec, recorder)
        elif spec["format"] == "pytest":
            run_pytest(spec, recorder)
    except SyntaxError as err:
        recorder.add("solution", "syntax_error", f"{err.msg} (line {err.lineno})")
    except MemoryError:
        recorder.add("solution", "memory_limit", "the program ran out of its memory limit")
    except BaseException as err:  # SystemExit and KeyboardInterrupt raised by the program too
        where = traceback.extract_tb(err.__traceback__)[-1:]
        line = f" (line {where[0].lineno})" if where else ""
        recorder.add("solution", "runtime_error", f"{type(err).__name__}{line}: {err}")
    sys.stdout.flush()  # what the program printed goes first; the report starts a line of its own
    payload = json.dumps({"outcomes": recorder.outcomes, "results": results})
    report.write("\n" + nonce + " " + payload)
    report.write("\n")
    report.flush()
    os._exit(0)  # no atexit handler or finaliser of the program runs after the report


if __name__ == "__main__":
    main()
