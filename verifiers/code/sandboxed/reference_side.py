"""The reference's side of differential testing (stdlib and Hypothesis, any python3 >= 3.9).

    python3 -I reference_side.py        (the nonce on the first line of stdin)

Run alone in the sandbox, with no candidate anywhere near: it loads the record's reference,
records the arguments the given tests call it with, builds the inputs (`inputs.py`: edge values,
mutations, Hypothesis draws, the model's strategy) and the reference's result on each, and
writes them as plain data (`wire.py`) on one line that starts with the nonce. An input on which
the reference raises, runs past its limit, or returns something that is not data or is huge is
not a valid input. Each input also records the arguments as the reference left them when it
changed them in place (a function that sorts its list), so the candidate is held to that too.
The candidate is then run against these results by `tester.py`, in another run.

The model's strategy runs in a child of its own session, without stdin, stdout or stderr,
after the spec and the reference were read and before the nonce is, and hands back literals
only; this process is non-dumpable, so the child cannot rewrite it.
"""

from __future__ import annotations

import ast
import contextlib
import copy
import ctypes
import json
import os
import signal
import sys
import time

import wire
from inputs import build_inputs, has_hypothesis, hypothesis_draws, time_limit

WORKDIR = os.path.dirname(os.path.abspath(__file__))
if hasattr(sys, "set_int_max_str_digits"):
    sys.set_int_max_str_digits(0)
MAX_SEEDS = 200
MAX_CONSTANTS = 20
RESULT_LIMIT = 1_000_000
TOTAL_LIMIT = 32_000_000
"""Inputs stop being added once the results written so far pass this size."""


def load_module(name: str, path: str, source: str) -> dict:
    namespace = {"__name__": name, "__file__": path}
    exec(compile(source, path, "exec"), namespace)
    return namespace


def seed_calls(namespace: dict, entry: str, tests: dict, limit_s: float) -> list:
    """The (args, kwargs) the given tests call the entry point with."""
    if tests["format"] == "call":
        return [(tuple(c.get("args", [])), dict(c.get("kwargs", {}))) for c in tests["cases"]]
    calls: list = []
    function = namespace[entry]

    def recording(*args, **kwargs):
        if len(calls) < MAX_SEEDS:
            calls.append(copy.deepcopy((args, kwargs)))
        return function(*args, **kwargs)

    scope = dict(namespace)
    scope[entry] = recording
    try:
        with time_limit(limit_s):
            exec(compile(tests["code"], "tests.py", "exec"), scope)
    except BaseException:  # a failing test, or one past the limit, still showed its arguments
        pass
    return calls


def entry_point(spec: dict, reference_source: str) -> str | None:
    """The function under test: named by the tests, else the reference's function they call."""
    named = spec.get("entry_point") or spec["tests"].get("entry_point")
    if named:
        return named
    defined = [
        node.name
        for node in ast.parse(reference_source).body
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
    ]
    called = [
        node.func.id
        for node in ast.walk(ast.parse(spec["tests"].get("code", "")))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
    ]
    return next((name for name in called if name in defined), None)


def source_constants(source: str) -> list:
    """The distinct numbers written in the reference's code (not its docstrings' examples)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if (
            isinstance(node, ast.Constant)
            and type(node.value) in (int, float)
            and node.value not in found
        ):
            found.append(node.value)
    return found[:MAX_CONSTANTS]


def reference_side(spec: dict, source: str, model_draws: list) -> dict:
    """The valid inputs in order, each with the reference's result, as plain data."""
    try:
        namespace = load_module("reference", os.path.join(WORKDIR, "reference.py"), source)
    except BaseException as err:
        return {"error": f"the reference does not load: {type(err).__name__}: {err}"}
    entry = entry_point(spec, source)
    if entry is None or not callable(namespace.get(entry)):
        return {"error": f"the reference defines no function {entry!r} that the tests call"}
    function = namespace[entry]
    deadline = time.monotonic() + spec["budget_s"]
    seeds = seed_calls(namespace, entry, spec["tests"], spec["budget_s"] / 4)
    inputs = build_inputs(function, seeds, model_draws, spec, deadline, source_constants(source))
    valid, invalid, counted, size = [], 0, {}, 0
    for origin, args, kwargs in inputs:
        if time.monotonic() > deadline or size > TOTAL_LIMIT:
            break
        try:
            sent = [wire.encode(list(args)), wire.encode(dict(kwargs))]
            passed = copy.deepcopy((list(args), dict(kwargs)))
            start = time.perf_counter()
            with time_limit(spec["call_limit_s"]):
                value = function(*passed[0], **passed[1])
            seconds = time.perf_counter() - start
            result = wire.encode(value)
            left = [wire.encode(passed[0]), wire.encode(passed[1])]
            written = len(json.dumps([sent, result]))
            if written > RESULT_LIMIT:
                raise ValueError("too big a result to compare")
        except BaseException:  # raising, too slow, not data or huge: not valid
            invalid += 1
            continue
        size += written
        valid.append([origin, *sent, result, seconds, None if left == sent else left])
        counted[origin] = counted.get(origin, 0) + 1
    return {
        "entry": entry,
        "calls": valid,
        "invalid": invalid,
        "counted": counted,
        "seeds": len(seeds),
        "hypothesis": has_hypothesis(),
    }


def model_side(source: str, count: int, limit_s: float) -> list:
    """The model's strategy's examples, as Python literals only."""
    from hypothesis import strategies as st

    namespace = {"st": st, "strategies": st}
    exec(compile(source, "strategy.py", "exec"), namespace)
    strategy = namespace.get("strategy")
    if strategy is None:
        raise ValueError("the strategy code defines no name 'strategy'")
    literals = []
    for example in hypothesis_draws(strategy, count, limit_s):
        text = repr(example)
        try:
            if ast.literal_eval(text) == example:
                literals.append(text)
        except (ValueError, SyntaxError, MemoryError, RecursionError):
            continue
    return literals


def model_draws(spec: dict) -> tuple[list, list]:
    """The examples of the model's strategy, if it wrote one, and a note if it failed.

    Run in a forked child of its own session, without stdin, stdout or stderr, answering JSON
    only, and killed with whatever it started once it answered. This process has read the spec
    and the reference before, and is non-dumpable, so the child can change neither.
    """
    if not spec.get("strategy"):
        return [], []
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.setsid()
        os.close(read_end)
        null = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(null, fd)
        try:
            payload = ["ok", model_side(spec["strategy"], spec["draws"], spec["budget_s"] / 4)]
        except BaseException as err:
            payload = ["error", f"{type(err).__name__}: {err}"]
        with os.fdopen(write_end, "w") as out:
            out.write(json.dumps(payload))
        os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end) as stream:
        data = stream.read()
    with contextlib.suppress(OSError):
        os.killpg(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    try:
        status, value = json.loads(data)
    except (ValueError, TypeError):
        status, value = "error", "the process died before it answered"
    if status != "ok" or not isinstance(value, list):
        return [], [f"the model's strategy failed: {value}"]
    draws = []
    for text in value:
        with contextlib.suppress(ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            draws.append(ast.literal_eval(text))
    return draws, []


def main() -> None:
    with open(os.path.join(WORKDIR, "spec.json"), encoding="utf-8") as handle:
        spec = json.load(handle)
    with open(os.path.join(WORKDIR, "reference.py"), encoding="utf-8") as handle:
        source = handle.read()
    ctypes.CDLL(None).prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE: no child may rewrite this one
    draws, notes = model_draws(spec)
    nonce = sys.stdin.readline().strip()
    report = os.fdopen(os.dup(1), "w")
    result = reference_side(spec, source, draws)
    result["notes"] = notes + (
        [] if result.get("hypothesis", True) else ["Hypothesis is not installed"]
    )
    sys.stdout.flush()
    report.write("\n" + nonce + " " + json.dumps(result) + "\n")
    report.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
