"""The inputs of differential testing: shapes, edge values, mutations and Hypothesis strategies.

Shipped into the sandbox next to `differential.py` (stdlib, and Hypothesis where installed; any
python3 >= 3.9). An argument's shape is read from the values the given tests pass it, or from its
type hint: its kind, and how big, long and what alphabet its values are. Edge values and random
draws keep to that scale, so a function written for small inputs is not judged on huge ones.
"""

from __future__ import annotations

import contextlib
import copy
import inspect
import math
import random
import signal
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


def build_inputs(
    function, seeds: list, model_draws: list, spec: dict, deadline: float, constants: list
) -> list:
    """The calls to try, in order: edge values (the reference's own constants among them),
    mutations, Hypothesis draws, the model's draws.

    Each is (origin, args, kwargs); repeats are dropped and at most `max_inputs` kept.
    """
    parameters = parameters_of(function)
    shapes = argument_shapes(function, parameters, seeds)
    inputs = Inputs(spec["max_inputs"])
    base = seeds[0] if seeds else plain_call(shapes)
    if base is not None:
        args, kwargs = base
        for position, shape in enumerate(shapes[: len(args)]):
            if shape is None:
                continue
            values = edge_values(shape, args[position]) + near_constants(shape, constants)
            for value in values:
                inputs.add("edge", (*args[:position], value, *args[position + 1 :]), kwargs)
    rng = random.Random(0)
    pool = list(seeds) or ([base] if base else [])
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
    if shapes and all(s is not None for s in shapes) and has_hypothesis():
        from hypothesis import strategies as st

        strategy = st.tuples(*(strategy_for(s) for s in shapes))
        room = max(0.5, (deadline - time.monotonic()) / 3)
        for example in hypothesis_draws(strategy, spec["draws"], room):
            inputs.add("hypothesis", tuple(example), {})
    for example in model_draws:
        inputs.add("model strategy", *as_call(example))
    return inputs.calls


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


def edge_values(shape: Shape, sample) -> list:
    """The values a careless solution gets wrong, of this argument's kind."""
    kind = shape.kind
    if kind == "union":
        return [v for option in shape.fields for v in edge_values(option, None)]
    if kind == "int":
        big = int(min(shape.magnitude, 10**9))
        return [0, 1, -1, 2, -2, 3, 10, -10, 100, big, -big]
    if kind == "float":
        return [0.0, 1.0, -1.0, 0.5, -0.5, 1e-9, 2.5, -2.5, 100.0, float(shape.magnitude)]
    if kind == "bool":
        return [False, True]
    if kind == "none":
        return [None]
    if kind == "str":
        values = ["", " ", "a", "A", "aA", "aa", "a a", "  a  ", "a\tb", "abc", "ABC", "1"]
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
