"""The inputs of differential testing: shapes, edge values, mutations and Hypothesis strategies.

Shipped into the sandbox next to `differential.py` (stdlib, and Hypothesis where installed; any
python3 >= 3.9). An argument's shape is read from the values the given tests pass it, or from its
type hint: its kind, and how big, long and what alphabet its values are. Edge values and random
draws keep to that scale, so a function written for small inputs is not judged on huge ones.
Far values (integers past 2**53, huge floats, strings and lists of thousands of items, numbers
in text past the scale) are the exception: each is first tried on the reference in a forked
child that is killed when its time is up, and only those the reference answers at once are kept.
"""

from __future__ import annotations

import contextlib
import copy
import inspect
import math
import os
import random
import re
import select
import signal
import sys
import time
import typing


class OverTime(BaseException):
    """A call ran past its limit (a BaseException, so `except Exception` cannot swallow it)."""


def _alarm(signum, frame):
    raise OverTime()


@contextlib.contextmanager
def time_limit(limit_s: float):
    """Raise OverTime in the block once `limit_s` seconds have passed."""
    signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, limit_s)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)


def timed_call(function, args: tuple, kwargs: dict, limit_s: float):
    """`function(*args, **kwargs)` on deep copies, within `limit_s`: (value, seconds)."""
    args, kwargs = copy.deepcopy(args), copy.deepcopy(kwargs)
    start = time.perf_counter()
    with time_limit(limit_s):
        value = function(*args, **kwargs)
    return value, time.perf_counter() - start


EDGE_SEEDS = 3
"""The tests' calls whose arguments are varied one at a time: the first, the largest, the last."""
LONG = 5000
"""The length of the long strings and lists: past a recursion per item, pair or triple."""
PROBE_CALL_S = 0.025
PROBE_TOTAL_S = 0.3
"""A far value is kept if the reference answers it within PROBE_CALL_S; all of them are tried
within PROBE_TOTAL_S."""


def build_inputs(
    function, seeds: list, model_draws: list, spec: dict, deadline: float, constants: list
) -> list:
    """The calls to try, in order: edge values (the reference's own constants among them),
    mutations, the far values the reference answers at once (edge values too), Hypothesis
    draws, the model's draws.

    Each is (origin, args, kwargs); repeats are dropped and at most `max_inputs` kept.
    """
    parameters = parameters_of(function)
    shapes = argument_shapes(function, parameters, seeds)
    inputs = Inputs(spec["max_inputs"])
    plain = plain_call(shapes)
    bases = edge_bases(seeds) or ([plain] if plain is not None else [])
    no_floats = int_hinted(function, parameters)
    for number, (args, kwargs) in enumerate(bases):
        if number and len(inputs.calls) >= spec["max_inputs"] // 2:
            break  # the other seeds' edges leave room for mutations and draws
        for position, shape in enumerate(shapes[: len(args)]):
            if shape is None:
                continue
            sample = args[position]
            values = edge_values(shape, sample, floats=position not in no_floats)
            values += near_constants(shape, constants) + text_numbers(sample, constants)
            for value in values:
                inputs.add("edge", (*args[:position], value, *args[position + 1 :]), kwargs)
    rng = random.Random(0)
    pool = list(seeds) or ([plain] if plain else [])
    for _ in range(spec["mutations"]):
        args, kwargs = rng.choice(pool) if pool else ((), {})
        if not args:
            break
        args = list(args)
        for _ in range(rng.randint(1, 2)):
            at = rng.randrange(len(args))
            args[at] = mutate(args[at], rng, shapes[at] if at < len(shapes) else None)
        if inputs.add("mutation", tuple(args), kwargs):
            pool.append((tuple(args), kwargs))
    if bases:  # after the small inputs, so that a counterexample is short when it can be
        args, kwargs = bases[0]
        far, groups = [], []
        for position, shape in enumerate(shapes[: len(args)]):
            for value in far_values(shape, args[position]) if shape is not None else []:
                far.append(((*args[:position], value, *args[position + 1 :]), kwargs))
                groups.append((position, hasattr(value, "__len__") and len(value) >= LONG))
        answered = probe(function, far, groups, PROBE_CALL_S, PROBE_TOTAL_S)
        for index, (far_args, far_kwargs) in enumerate(far):
            if answered[index]:
                inputs.add("edge", far_args, far_kwargs)
    if shapes and all(s is not None for s in shapes) and has_hypothesis():
        from hypothesis import strategies as st

        strategy = st.tuples(*(strategy_for(s) for s in shapes))
        room = max(0.5, (deadline - time.monotonic()) / 3)
        for example in hypothesis_draws(strategy, spec["draws"], room):
            inputs.add("hypothesis", tuple(example), {})
    for example in model_draws:
        inputs.add("model strategy", *as_call(example))
    return inputs.calls


def edge_bases(seeds: list) -> list:
    """The seeds whose arguments edge values replace: the first, the largest, the last."""
    if not seeds:
        return []
    chosen = [seeds[0], max(seeds, key=lambda seed: len(repr(seed))), seeds[-1]]
    bases, seen = [], set()
    for seed in chosen:
        if repr(seed) not in seen:
            seen.add(repr(seed))
            bases.append(seed)
    return bases[:EDGE_SEEDS]


def int_hinted(function, parameters: list) -> set:
    """The positions whose type hint says int (or a container of ints): no floats there."""
    try:
        hints = typing.get_type_hints(function)
    except Exception:
        return set()
    return {
        position
        for position, parameter in enumerate(parameters)
        if parameter.name in hints and "int" in repr(hints[parameter.name])
    }


def probe(function, calls: list, groups: list, call_s: float, total_s: float) -> list:
    """Which of `calls` (args, kwargs) the function answers within `call_s` each, within
    `total_s` in all; once a call of a group runs past its time, the rest of that group is not
    tried. They run in a forked child, which is killed when a call does not answer in time
    (stuck in C code, as `10 ** n` with a huge n is, where no alarm reaches it); the calls after
    it go on in a new child. A call that raises is not answered."""
    answered = [False] * len(calls)
    if not hasattr(os, "fork"):
        return answered
    end = time.monotonic() + total_s
    given_up: set = set()
    start = 0
    while start < len(calls) and time.monotonic() < end:
        stuck = _probe_from(function, calls, groups, start, given_up, call_s, end, answered)
        if stuck < len(calls):
            given_up.add(groups[stuck])
        start = stuck + 1
    return answered


def _probe_from(
    function, calls: list, groups: list, start: int, given_up: set, call_s, end, answered
) -> int:
    """Try calls[start:] in a child, one answer byte each (1 answered, 0 raised or skipped, t
    past its time); the index of the first call left without an answer (the child is killed
    there), or len(calls)."""
    try:
        read_end, write_end = os.pipe()
        pid = os.fork()
    except OSError:
        return len(calls)
    if pid == 0:  # the child: its output goes nowhere, its answers down the pipe
        try:
            os.close(read_end)
            if hasattr(sys, "set_int_max_str_digits"):  # the limit a candidate's process has
                sys.set_int_max_str_digits(sys.int_info.default_max_str_digits)
            null = os.open(os.devnull, os.O_WRONLY)
            os.dup2(null, 1)
            os.dup2(null, 2)
            for index in range(start, len(calls)):
                answer = b"0"
                if groups[index] not in given_up:
                    args, kwargs = calls[index]
                    try:
                        timed_call(function, args, kwargs, call_s)
                        answer = b"1"
                    except OverTime:
                        given_up.add(groups[index])
                        answer = b"t"
                    except BaseException:
                        pass
                os.write(write_end, answer)
        finally:
            os._exit(0)
    os.close(write_end)
    index = start
    try:
        while index < len(calls):
            wait = min(end - time.monotonic(), call_s + 0.02)
            if wait <= 0 or not select.select([read_end], [], [], wait)[0]:
                break
            chunk = os.read(read_end, 4096)
            if not chunk:  # the child died on this call
                break
            for byte in chunk:
                answered[index] = byte == ord("1")
                if byte == ord("t"):  # past its time: the next child skips the group too
                    given_up.add(groups[index])
                index += 1
    finally:
        if index < len(calls):
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        os.close(read_end)
        with contextlib.suppress(OSError):
            os.waitpid(pid, 0)
    return index


class Inputs:
    """Distinct calls of the entry point, each with where it came from."""

    def __init__(self, limit: int) -> None:
        self.calls: list = []
        self._seen: set = set()
        self._limit = limit

    def add(self, origin: str, args: tuple, kwargs: dict) -> bool:
        key = repr((args, sorted(kwargs.items())))
        if key in self._seen or len(self.calls) >= self._limit:
            return False
        self._seen.add(key)
        self.calls.append((origin, args, kwargs))
        return True


def plain_call(shapes: list):
    """A call to vary when the tests show none: a plain value of each argument's shape."""
    if not shapes or any(shape is None for shape in shapes):
        return None
    values = [edge_values(shape, None) for shape in shapes]
    if not all(values):
        return None
    return tuple(v[1] if len(v) > 1 else v[0] for v in values), {}


def parameters_of(function) -> list:
    try:
        return [
            p
            for p in inspect.signature(function).parameters.values()
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
        ]
    except (TypeError, ValueError):
        return []


def argument_shapes(function, parameters: list, seeds: list) -> list:
    """Each positional argument's shape: from the seeds' values, else from its type hint."""
    try:
        hints = typing.get_type_hints(function)
    except Exception:  # an annotation that does not evaluate
        hints = {}
    count = max([len(args) for args, _ in seeds] + [len(parameters)])
    shapes = []
    for position in range(count):
        values = [args[position] for args, _ in seeds if len(args) > position]
        if values:
            shapes.append(shape_of(values))
        elif position < len(parameters) and parameters[position].name in hints:
            shapes.append(shape_of_hint(hints[parameters[position].name]))
        else:
            shapes.append(None)
    return shapes


def has_hypothesis() -> bool:
    try:
        import hypothesis  # noqa: F401
    except ImportError:
        return False
    return True


# --- shapes: what an argument looks like, from its values or its type hint ---------------------


class Shape:
    """The kind of an argument and its observed extent: magnitude, length, alphabet, items."""

    def __init__(self, kind: str, **extent) -> None:
        self.kind = kind  # int float bool str none list tuple set dict union any
        self.magnitude = extent.get("magnitude", 10)
        self.length = extent.get("length", 5)
        self.alphabet = extent.get("alphabet", "")
        self.items = extent.get("items")  # list/set items, dict values
        self.keys = extent.get("keys")
        self.fields = extent.get("fields", [])  # tuple items, union options


def shape_of(values: list) -> Shape:
    """The merged shape of the values one argument took."""
    kinds = {kind_of(v) for v in values}
    if kinds == {"int", "float"}:
        kinds = {"float"}
    if len(kinds) > 1:
        groups = {}
        for value in values:
            groups.setdefault(kind_of(value), []).append(value)
        return Shape("union", fields=[shape_of(group) for group in groups.values()])
    kind = kinds.pop() if kinds else "any"
    if kind in ("int", "float"):
        biggest = max((abs(v) for v in values if math.isfinite(v)), default=10)
        return Shape(kind, magnitude=max(10, 2 * biggest))
    if kind == "str":
        alphabet = "".join(sorted(set("".join(values)) | set("aAzZ0 ")))
        return Shape(kind, length=max(8, 2 * max(len(v) for v in values)), alphabet=alphabet)
    if kind in ("list", "set"):
        items = [item for value in values for item in value]
        length = max(6, 2 * max(len(v) for v in values))
        return Shape(kind, length=length, items=shape_of(items) if items else None)
    if kind == "tuple":
        sizes = {len(v) for v in values}
        if len(sizes) == 1:
            return Shape(
                kind, fields=[shape_of([v[i] for v in values]) for i in range(sizes.pop())]
            )
        items = [item for value in values for item in value]
        return Shape("list", length=max(len(v) for v in values), items=shape_of(items))
    if kind == "dict":
        keys = [k for value in values for k in value]
        items = [item for value in values for item in value.values()]
        return Shape(
            kind,
            length=max(4, 2 * max(len(v) for v in values)),
            keys=shape_of(keys) if keys else None,
            items=shape_of(items) if items else None,
        )
    return Shape(kind)


def kind_of(value) -> str:
    if value is None:
        return "none"
    for kind in (bool, int, float, str, list, tuple, set, dict):
        if type(value) is kind:
            return kind.__name__
    if isinstance(value, frozenset):
        return "set"
    return "any"


def shape_of_hint(hint) -> Shape | None:
    """The shape a type hint describes; None for what it cannot draw."""
    origin = typing.get_origin(hint) or hint
    arguments = typing.get_args(hint)
    if origin is typing.Union or type(hint).__name__ == "UnionType":
        options = [shape_of_hint(a) for a in arguments]
        if any(option is None for option in options):
            return None
        return Shape("union", fields=options)
    simple = {int: "int", float: "float", bool: "bool", str: "str", type(None): "none"}
    if origin in simple:
        return Shape(simple[origin], magnitude=100, length=10, alphabet="aAbBzZ019 ,.-")
    if origin in (list, set, frozenset, typing.List, typing.Set):  # noqa: UP006
        items = shape_of_hint(arguments[0]) if arguments else Shape("int", magnitude=100)
        kind = "list" if origin in (list, typing.List) else "set"  # noqa: UP006
        return Shape(kind, length=8, items=items) if items else None
    if origin in (tuple, typing.Tuple):  # noqa: UP006
        if len(arguments) == 2 and arguments[1] is Ellipsis:
            items = shape_of_hint(arguments[0])
            return Shape("list", length=8, items=items) if items else None
        fields = [shape_of_hint(a) for a in arguments]
        return Shape("tuple", fields=fields) if fields and None not in fields else None
    if origin in (dict, typing.Dict):  # noqa: UP006
        keys, items = (shape_of_hint(a) for a in arguments) if arguments else (None, None)
        return Shape("dict", length=6, keys=keys, items=items) if keys and items else None
    return None


# --- edge values and mutations --------------------------------------------------------------------


BIG_INTS = [3**35, 2**63 - 1, 10**16 - 1, 2**53 + 1, -(2**53 + 1)]
"""Integers a float cannot hold (2**53 + 1 becomes 2**53): powers, int64's end, nines."""
BIG_FLOATS = [1e16, -1e16, 4503599627370497.5]
FINE_FLOATS = [0.49999999999999994, -0.49999999999999994, 1.0000000000000002, 0.1, 1e-07]
"""Floats at the precision's edge: just below a half, one ulp above 1, not a binary fraction."""
NUMBER_TEXTS = ["0", "-0", "0.5", "-0.5", "1.5", "2.5", "-2.5", "0.49999999999999994", "1e3"]
OTHER_TEXTS = ["é", "É", "Straße", "İ", "abcdefghijklmnopqrstuvwxyz", "ABCDEFGHIJKLMNOPQRSTUVWXYZ"]
"""Non-ASCII letters (whose case maps are not one to one) and every letter once."""
DIGITS = re.compile(r"\d+")


def edge_values(shape: Shape, sample, floats: bool = True) -> list:
    """The values a careless solution gets wrong, of this argument's kind (`floats`: a float
    may stand among the integers of a list)."""
    kind = shape.kind
    if kind == "union":
        return [v for option in shape.fields for v in edge_values(option, None)]
    if kind == "int":
        big = int(min(shape.magnitude, 10**9))
        return [0, 1, -1, 2, -2, 3, 10, -10, 100, big, -big]
    if kind == "float":
        values = [0.0, 1.0, -1.0, 0.5, -0.5, 1e-9, 2.5, -2.5, 100.0, float(shape.magnitude)]
        return values + FINE_FLOATS
    if kind == "bool":
        return [False, True]
    if kind == "none":
        return [None]
    if kind == "str":
        values = ["", " ", "a", "A", "aA", "aa", "a a", "  a  ", "a\tb", "abc", "ABC", "1"]
        values += OTHER_TEXTS
        if isinstance(sample, str) and sample:
            values += [
                sample.upper(),
                sample.lower(),
                sample.swapcase(),
                " " + sample,
                sample + " ",
                sample.replace(" ", "  "),
                " ".join([*sample.split(), *sample.split()[-1:]]),  # a repeated word
                sample[::-1],
                sample[:1],
                sample + sample[-1],
            ]
        return values
    if kind in ("list", "tuple", "set"):
        items = shape.items if kind != "tuple" or not shape.fields else None
        if kind == "tuple" and shape.fields:
            return []  # a fixed-size record: its fields vary through mutations
        element = _first(sample) if sample else None
        if element is None and items is not None:
            element = (edge_values(items, None) or [None])[0]
        values = [[]] + ([[element], [element, element]] if element is not None else [])
        if sample:
            listed = list(sample)
            values += [listed[:1], listed + listed[-1:], listed[::-1], listed[1:]]
            with contextlib.suppress(TypeError):
                values.append(sorted(listed))
            if all(kind_of(v) in ("int", "float") for v in listed):
                values += [[-v for v in listed], [*listed, 0], [0, *listed]]
                if len(listed) > 1:  # sums of zero: a triple, the whole list
                    values.append([listed[0], listed[1], -(listed[0] + listed[1])])
                    values.append([*listed[:-1], -sum(listed[:-1])])
                if floats and all(kind_of(v) == "int" for v in listed):
                    values.append([*listed[:-1], listed[-1] + 0.5])
            if all(isinstance(v, str) for v in listed):
                values += [[v.upper() for v in listed], [v + " " for v in listed]]
        convert = {"list": list, "tuple": tuple, "set": set}[kind]
        return [convert(v) for v in values]
    if kind == "dict":
        values = [{}]
        if sample:
            first = next(iter(sample))
            values += [{first: sample[first]}]
            if all(isinstance(k, str) for k in sample):
                values += [{k.upper(): v for k, v in sample.items()}]
        return values
    return []


def near_constants(shape: Shape, constants: list) -> list:
    """Values at the reference's own boundaries: the numbers in its source, and their
    neighbours, where the argument is a number or a list of numbers (`gpa > 3.7`: 3.7)."""
    numbers = [c for c in constants if kind_of(c) in ("int", "float")]
    if shape.kind == "int":
        return [v for c in numbers if kind_of(c) == "int" for v in (c - 1, c, c + 1)]
    if shape.kind == "float":
        return [float(c) for c in numbers]
    if shape.kind == "list" and shape.items is not None:
        return [[v] for v in near_constants(shape.items, constants)]
    return []


def text_numbers(sample, constants: list) -> list:
    """Numbers written in a text argument, changed: the text of numbers at the edge of a float
    when the whole text is a number; else each of its first digit runs one up, one down, or
    one of the reference's integer constants, and all of them 0."""
    if not isinstance(sample, str):
        return []
    values = []
    with contextlib.suppress(ValueError):
        float(sample)
        values += NUMBER_TEXTS
    runs = list(DIGITS.finditer(sample))[:3]
    if not runs:
        return values
    numbers = [c for c in constants if kind_of(c) == "int" and 0 <= c < 10**6]
    for run in runs:
        width = len(run.group())
        value = int(run.group())
        for number in [value + 1, value - 1, *numbers]:
            if number >= 0:
                text = str(number).zfill(width)
                values.append(sample[: run.start()] + text + sample[run.end() :])
    values.append(DIGITS.sub("0", sample))
    return values


def far_values(shape: Shape, sample) -> list:
    """Values past the argument's scale, to be tried on the reference first (`probe`): integers
    past 2**53, huge floats, long strings and lists (past a recursion per item), numbers in
    text near a ratio of 1 and past 2**53."""
    kind = shape.kind
    if kind == "int" and shape.magnitude < 2**53:
        return list(BIG_INTS)
    if kind == "float" and shape.magnitude < 1e15:
        return list(BIG_FLOATS)
    if kind == "str" and isinstance(sample, str):
        unit = sample or "a"
        values = [unit * -(-LONG // len(unit)), unit[:1] * LONG]
        # no text of more than 4000 digits in a row: past 4300, int() refuses it (Python 3.11)
        values = [v for v in values if max(map(len, DIGITS.findall(v)), default=0) <= 4000]
        count = len(DIGITS.findall(sample))
        if count:
            near = iter(["10000001", "10000000"] * count)
            values.append(DIGITS.sub(lambda run: next(near), sample))
            values.append(DIGITS.sub(str(2**53 + 1), sample, count=1))
        return values
    if kind == "list" and isinstance(sample, list):
        unit = sample or [_fresh_item(shape)]
        values = [unit * -(-LONG // len(unit)), unit[:1] * LONG]
        items = shape.items.kind if shape.items is not None else None
        if items == "int":
            values += [[big] for big in BIG_INTS]
        elif items == "float":
            values += [[big] for big in BIG_FLOATS]
        return values
    return []


def _first(collection):
    for item in collection:
        return item
    return None


def mutate(value, rng: random.Random, shape: Shape | None = None):
    """One type-aware change of a value: numbers nudged, strings and lists edited in place."""
    kind = kind_of(value)
    if kind == "bool":
        return not value
    if kind == "int":
        return rng.choice(
            [value + 1, value - 1, -value, value * 2, value // 2, 0, value + rng.randint(-10, 10)]
        )
    if kind == "float":
        return rng.choice(
            [value + 1, value - 1, -value, value * 2, value / 2, float(round(value)), 0.0]
        )
    if kind == "str":
        return _mutate_text(value, rng)
    if kind in ("list", "tuple"):
        items = list(value)
        if not items:
            fresh = _fresh_item(shape)
            return type(value)([] if fresh is None else [fresh])
        at = rng.randrange(len(items))
        step = rng.randrange(6)
        if step == 0:
            items.insert(rng.randrange(len(items) + 1), copy.deepcopy(items[at]))
        elif step == 1 and (kind == "list" or len(items) > 1):
            del items[at]
        elif step == 2:
            other = rng.randrange(len(items))
            items[at], items[other] = items[other], items[at]
        elif step == 3:
            items.append(mutate(items[at], rng))
        elif step == 4:
            items.reverse()
        else:
            items[at] = mutate(items[at], rng)
        if kind == "tuple" and len(items) != len(value):
            items = list(value)
            items[at] = mutate(items[at], rng)
        return type(value)(items)
    if kind == "set":
        return set(mutate(list(value), rng, shape))
    if kind == "dict":
        if not value:
            return value
        items = dict(value)
        key = rng.choice(list(items))
        step = rng.randrange(3)
        if step == 0:
            items[key] = mutate(items[key], rng)
        elif step == 1:
            del items[key]
        else:
            items[mutate(key, rng)] = copy.deepcopy(items[key])
        return items
    return value


def _mutate_text(text: str, rng: random.Random) -> str:
    alphabet = (text or "a") + "aZ0 "
    if not text:
        return rng.choice(alphabet)
    at = rng.randrange(len(text))
    step = rng.randrange(8)
    if step == 0:
        return text[:at] + rng.choice(alphabet) + text[at:]
    if step == 1:
        return text[:at] + text[at + 1 :]
    if step == 2:
        return text[:at] + rng.choice(alphabet) + text[at + 1 :]
    if step == 3:
        return text[:at] + text[at].swapcase() + text[at + 1 :]
    if step == 4:
        return text[:at] + text[at] + text[at:]
    if step == 5:
        return text[:at] + " " + text[at:]
    if step == 6:
        return text + text
    return text.upper() if rng.random() < 0.5 else text.lower()


def _fresh_item(shape: Shape | None):
    if shape is not None and shape.items is not None:
        values = edge_values(shape.items, None)
        if values:
            return values[1 % len(values)]
    return 1


# --- Hypothesis ----------------------------------------------------------------------------------


def strategy_for(shape: Shape):
    from hypothesis import strategies as st

    kind = shape.kind
    if kind == "union":
        return st.one_of([strategy_for(option) for option in shape.fields])
    if kind == "int":
        bound = int(min(shape.magnitude, 10**9))
        return st.integers(-bound, bound)
    if kind == "float":
        bound = float(min(shape.magnitude, 1e9))
        return st.floats(-bound, bound, allow_nan=False, allow_infinity=False)
    if kind == "bool":
        return st.booleans()
    if kind == "none":
        return st.none()
    if kind == "str":
        return st.text(alphabet=st.sampled_from(shape.alphabet or "ab "), max_size=shape.length)
    if kind in ("list", "set"):
        items = strategy_for(shape.items) if shape.items else st.integers(-10, 10)
        if kind == "set":
            return st.sets(items, max_size=shape.length)
        return st.lists(items, max_size=shape.length)
    if kind == "tuple":
        return st.tuples(*(strategy_for(field) for field in shape.fields))
    if kind == "dict":
        keys = strategy_for(shape.keys) if shape.keys else st.text(max_size=4)
        items = strategy_for(shape.items) if shape.items else st.integers(-10, 10)
        return st.dictionaries(keys, items, max_size=shape.length)
    return st.none()


def hypothesis_draws(strategy, count: int, limit_s: float) -> list:
    """Up to `count` examples of `strategy`, derandomized so a verdict can be reproduced."""
    from hypothesis import HealthCheck, Phase, given, settings

    drawn: list = []

    @settings(
        max_examples=count,
        database=None,
        derandomize=True,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def collect(example) -> None:
        drawn.append(copy.deepcopy(example))

    with contextlib.suppress(OverTime), time_limit(limit_s):
        collect()
    return drawn


def as_call(example) -> tuple[tuple, dict]:
    """A drawn example as (args, kwargs): a model's strategy draws tuples of arguments, or
    dicts of keyword arguments; anything else is the one argument."""
    if isinstance(example, tuple):
        return example, {}
    if isinstance(example, dict) and all(isinstance(key, str) for key in example):
        return (), example
    return (example,), {}
