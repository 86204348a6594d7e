"""Differential testing, run inside the sandbox (stdlib and Hypothesis, any python3 >= 3.9).

    python3 -I differential.py        (the nonce on the first line of stdin)

The candidate must return what the reference returns on every valid input. Inputs come, in this
order, from: edge values (empty, zero, negative, one element, duplicates, case and whitespace
variants) put in place of one argument of a given test's call at a time; type-aware mutations of
the arguments the given tests call the function with (EvalPlus grew its inputs this way);
Hypothesis draws shaped by the signature's type hints or, failing those, by those arguments; and
draws from a strategy the model wrote. An input on which the reference raises, or runs past its
time, is not a valid input.

Separate processes keep the untrusted parties away from the reference and its results. The
candidate's process is forked first, before the spec, the nonce or any result exists; it is
sent only the calls to make and answers with the `repr` of each result, read back as a literal.
A second child runs the model's strategy, without stdin and before the nonce is read, and hands
back only literals. A third loads the reference, records the arguments of the given tests,
builds the inputs and the reference's results. This process compares, stopping at the first
difference, and writes the report as the harness does: one line that starts with the nonce,
which no untrusted process ever holds.
"""

from __future__ import annotations

import ast
import contextlib
import copy
import json
import math
import os
import pickle
import select
import signal
import sys
import time
import traceback

WORKDIR = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, WORKDIR)
if hasattr(sys, "set_int_max_str_digits"):  # results are compared through their repr
    sys.set_int_max_str_digits(0)

from harness import strict_equal  # noqa: E402  (after the path is set)
from inputs import (  # noqa: E402
    OverTime,
    build_inputs,
    has_hypothesis,
    hypothesis_draws,
    kind_of,
    time_limit,
    timed_call,
)

MAX_SEEDS = 200
MAX_CONSTANTS = 20
REPR_LIMIT = 300
RESULT_LIMIT = 1_000_000
LOAD_LIMIT_S = 30
FLOAT_TOLERANCE = 1e-6


def load_module(name: str, filename: str) -> dict:
    namespace = {"__name__": name, "__file__": os.path.join(WORKDIR, filename)}
    with open(namespace["__file__"], encoding="utf-8") as handle:
        source = handle.read()
    exec(compile(source, namespace["__file__"], "exec"), namespace)
    return namespace


# --- the reference's side ----------------------------------------------------------------------


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


def reference_side(spec: dict, model_draws: list) -> dict:
    """In its own process: the valid inputs in order, each with the reference's result."""
    with open(os.path.join(WORKDIR, "reference.py"), encoding="utf-8") as handle:
        source = handle.read()
    try:
        namespace = load_module("reference", "reference.py")
    except BaseException as err:
        return {"error": f"the reference does not load: {type(err).__name__}: {err}"}
    entry = entry_point(spec, source)
    if entry is None or not callable(namespace.get(entry)):
        return {"error": f"the reference defines no function {entry!r} that the tests call"}
    function = namespace[entry]
    deadline = time.monotonic() + spec["budget_s"]
    seeds = seed_calls(namespace, entry, spec["tests"], spec["budget_s"] / 4)
    calls = build_inputs(function, seeds, model_draws, spec, deadline, source_constants(source))
    valid, invalid, counted = [], 0, {}
    for origin, args, kwargs in calls:
        if time.monotonic() > deadline:
            break
        try:
            value, seconds = timed_call(function, args, kwargs, spec["call_limit_s"])
            pickle.dumps(value)
            if len(repr(value)) > RESULT_LIMIT:
                raise ValueError("too big a result to compare")
        except BaseException:  # raising, too slow, unpicklable or huge: not valid
            invalid += 1
            continue
        valid.append((origin, args, kwargs, value, seconds))
        counted[origin] = counted.get(origin, 0) + 1
    return {
        "entry": entry,
        "valid": valid,
        "invalid": invalid,
        "counted": counted,
        "seeds": len(seeds),
        "hypothesis": has_hypothesis(),
    }


def model_side(source: str, count: int, limit_s: float) -> list:
    """In its own process: the model's strategy's examples, as Python literals only."""
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


def in_child(work, *args, trusted: bool = True):
    """`work(*args)` in a forked process without stdin: ("ok", result) or ("error", message).

    A trusted child's result comes back pickled; an untrusted one's as JSON, which cannot make
    this process run anything.
    """
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read_end)
        os.close(0)
        encode = pickle.dumps if trusted else (lambda value: json.dumps(value).encode())
        try:
            payload = encode(["ok", work(*args)])
        except BaseException as err:
            payload = encode(["error", f"{type(err).__name__}: {err}"])
        with os.fdopen(write_end, "wb") as out:
            out.write(payload)
        os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as stream:
        data = stream.read()
    os.waitpid(pid, 0)
    try:
        status, value = pickle.loads(data) if trusted else json.loads(data)
    except Exception:
        return "error", "the process died before it answered"
    return status, value


# --- the candidate's side ------------------------------------------------------------------------


class CandidateProcess:
    """The candidate, in a process forked before anything else was read: it never holds the
    tests, the reference or its results, so no frame or heap of its own can give them away.

    It is sent the calls to make (trusted data, pickled), and answers one JSON line per call:
    the result's `repr`, what it raised, or that it ran past its limit. The host side reads the
    `repr` back with `ast.literal_eval`, so nothing the candidate sends is ever executed.
    """

    def __init__(self) -> None:
        calls_read, self._calls = os.pipe()
        self._answers, answers_write = os.pipe()
        self.pid = os.fork()
        if self.pid == 0:
            os.close(0)
            os.close(self._calls)
            os.close(self._answers)
            _answer_calls(calls_read, answers_write)
            os._exit(0)
        os.close(calls_read)
        os.close(answers_write)
        self._lines = os.fdopen(self._answers, "r", encoding="utf-8", errors="replace")

    def send(self, entry: str, calls: list) -> None:
        with os.fdopen(self._calls, "wb") as out:
            out.write(pickle.dumps((entry, calls)))

    def answer(self, within_s: float) -> dict:
        ready, _, _ = select.select([self._lines], [], [], within_s)
        line = self._lines.readline() if ready else None
        if line is None:
            return {"timeout": True}
        if not line:
            return {"gone": True}
        try:
            answer = json.loads(line)
        except ValueError:
            return {"gone": True}
        return answer if isinstance(answer, dict) else {"gone": True}

    def stop(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGKILL)
        os.waitpid(self.pid, 0)


def _answer_calls(calls_read: int, answers_write: int) -> None:
    with os.fdopen(calls_read, "rb") as stream:
        entry, calls = pickle.loads(stream.read())
    out = os.fdopen(answers_write, "w", encoding="utf-8")

    def send(answer: dict) -> None:
        out.write(json.dumps(answer) + "\n")
        out.flush()

    try:
        namespace = load_module("solution", "solution.py")
    except SyntaxError as err:
        send({"load": f"SyntaxError: {err.msg} (line {err.lineno})"})
        return
    except BaseException as err:  # SystemExit too
        where = traceback.extract_tb(err.__traceback__)[-1:]
        line = f" (line {where[0].lineno})" if where else ""
        send({"load": f"{type(err).__name__}{line}: {err}"})
        return
    function = namespace.get(entry)
    if not callable(function):
        send({"load": f"{entry!r} is not defined"})
        return
    for args, kwargs, limit in calls:
        try:
            value, _ = timed_call(function, args, kwargs, limit)
            send({"repr": repr(value)[: RESULT_LIMIT + 1]})
        except OverTime:
            send({"timeout": True})
        except BaseException as err:
            send({"raised": f"{type(err).__name__}: {_short(str(err))}"})


def same(expected, got) -> bool:
    """Equal as Python compares results, numbers within a relative 1e-6."""
    kinds = {kind_of(expected), kind_of(got)}
    if kinds == {"int"}:
        return expected == got
    if kinds <= {"int", "float"}:
        try:
            if math.isnan(expected) or math.isnan(got):
                return math.isnan(expected) and math.isnan(got)
            return math.isclose(expected, got, rel_tol=FLOAT_TOLERANCE, abs_tol=1e-9)
        except OverflowError:  # an int too big for a float is not near a float
            return False
    if type(expected) in (list, tuple) and type(got) is type(expected):
        return len(expected) == len(got) and all(map(same, expected, got))
    if type(expected) is dict and type(got) is dict:
        return expected.keys() == got.keys() and all(same(expected[k], got[k]) for k in expected)
    try:
        return strict_equal(expected, got)
    except Exception:  # a comparison that raises is not a match
        return False


def matches(expected, text: str) -> bool:
    """Whether the candidate's `repr` is the reference's result (read back as a literal only)."""
    try:
        got = ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return text == repr(expected)
    return same(expected, got)


def call_text(entry: str, args: tuple, kwargs: dict) -> str:
    parts = [repr(a) for a in args] + [f"{k}={v!r}" for k, v in kwargs.items()]
    return _short(f"{entry}({', '.join(parts)})")


def _short(text: str) -> str:
    return text if len(text) <= REPR_LIMIT else text[: REPR_LIMIT - 3] + "..."


def compare(
    candidate: CandidateProcess, reference: dict, call_limit_s: float, budget_s: float
) -> dict:
    """The candidate's results against the reference's, input by input, up to the first
    difference."""
    entry, valid = reference["entry"], reference["valid"]
    limits = [max(call_limit_s, 10 * seconds + 0.1) for *_, seconds in valid]
    candidate.send(
        entry,
        [(args, kwargs, limit) for (_, args, kwargs, *_), limit in zip(valid, limits, strict=True)],
    )
    total_limit = max(budget_s, 10 * sum(seconds for *_, seconds in valid) + 1)
    deadline = time.monotonic() + total_limit
    for index, ((origin, args, kwargs, expected, seconds), limit) in enumerate(
        zip(valid, limits, strict=True)
    ):
        wait = limit + 1 + (LOAD_LIMIT_S if index == 0 else 0)
        answer = candidate.answer(min(wait, max(0.0, deadline - time.monotonic())))
        if "load" in answer:
            return {"outcome": "runtime_error", "message": f"it does not load: {answer['load']}"}
        if answer.get("timeout") and time.monotonic() >= deadline:
            return {
                "outcome": "timeout",
                "message": f"took more than {total_limit:.3g} s over {len(valid)} inputs, ten "
                "times what the reference took",
            }
        example = {"input": call_text(entry, args, kwargs), "origin": origin}
        expected_text = _short(repr(expected))
        if answer.get("timeout"):
            what = f"ran past {limit:.2g} s where the reference took {seconds:.2g} s"
            return _counterexample("timeout", example, what)
        if answer.get("gone"):
            return _counterexample("runtime_error", example, "ended the program")
        if "raised" in answer:
            example["expected"] = expected_text
            return _counterexample("runtime_error", example, f"raised {answer['raised']}")
        if not matches(expected, answer.get("repr", "")):
            example.update(expected=expected_text, got=_short(answer.get("repr", "")))
            what = f"returned {example['got']} where the reference returns {expected_text}"
            return _counterexample("wrong_answer", example, what)
    return {"outcome": "passed", "message": ""}


def _counterexample(outcome: str, example: dict, what: str) -> dict:
    return {
        "outcome": outcome,
        "message": f"{example['input']} {what} ({example['origin']} input)",
        "counterexample": example,
    }


def model_draws(spec: dict) -> tuple[list, list]:
    """The examples of the model's strategy, if it wrote one, and a note if it failed."""
    if not spec.get("strategy"):
        return [], []
    limit_s = spec["budget_s"] / 4
    status, value = in_child(model_side, spec["strategy"], spec["draws"], limit_s, trusted=False)
    if status != "ok" or not isinstance(value, list):
        return [], [f"the model's strategy failed: {value}"]
    draws = []
    for text in value:
        with contextlib.suppress(ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            draws.append(ast.literal_eval(text))
    return draws, []


def run(spec: dict, draws: list, notes: list, candidate: CandidateProcess) -> dict:
    status, reference = in_child(reference_side, spec, draws)
    if status != "ok" or "error" in reference:
        message = reference if status != "ok" else reference["error"]
        return {"outcome": "reference_error", "message": message}
    summary = {
        "inputs": reference["counted"],
        "invalid": reference["invalid"],
        "seeds": reference["seeds"],
        "notes": notes + ([] if reference["hypothesis"] else ["Hypothesis is not installed"]),
    }
    if not reference["valid"]:
        return {"outcome": "skipped", "message": "no valid input could be built", **summary}
    verdict = compare(candidate, reference, spec["call_limit_s"], spec["budget_s"])
    return {**verdict, **summary}


def main() -> None:
    # The order keeps secrets from the untrusted parties: the candidate's process is forked
    # first (it never holds the spec, the nonce or a result), the model's strategy runs before
    # the nonce is read, and neither has stdin.
    candidate = CandidateProcess()
    spec_path = os.path.join(WORKDIR, "spec.json")
    with open(spec_path, encoding="utf-8") as handle:
        spec = json.load(handle)
    os.unlink(spec_path)
    draws, notes = model_draws(spec)
    nonce = sys.stdin.readline().strip()
    report = os.fdopen(os.dup(1), "w")
    try:
        result = run(spec, draws, notes, candidate)
    finally:
        candidate.stop()
    sys.stdout.flush()
    report.write("\n" + nonce + " " + json.dumps(result, default=repr) + "\n")
    report.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
