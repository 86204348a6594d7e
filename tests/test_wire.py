"""The data that crosses between a judge and the program it judges: round trips, and refusals."""

from __future__ import annotations

import collections
import datetime
import decimal
import enum
import fractions
import json
import math

import pytest

from verified_factory.verifiers.code.sandboxed import wire

VALUES = [
    None,
    True,
    0,
    -7,
    10**5000,
    -(2**4000) + 1,
    1.5,
    [1, [2, [3]]],
    (1, "a", (2.0,)),
    {1: "a", (1, 2): [3], "k": {"n": None}},
    {1, 2, 3},
    frozenset({"x"}),
    b"\x00\xff bytes",
    bytearray(b"ab"),
    3 + 4j,
    fractions.Fraction(3, 7),
    decimal.Decimal("1.10"),
    collections.Counter("hello"),
    collections.OrderedDict([("b", 1), ("a", 2)]),
    collections.deque([1, 2]),
    datetime.date(2024, 2, 29),
    datetime.datetime(2024, 1, 2, 3, 4, 5, 6),
    datetime.time(1, 2),
    datetime.timedelta(days=1, seconds=2, microseconds=3),
    range(1, 10, 2),
    "",
    "ünïcode ✓",
    int,
    ValueError,
]


@pytest.mark.parametrize("value", VALUES, ids=lambda v: type(v).__name__)
def test_values_come_back_equal_and_of_the_same_type(value) -> None:
    back = wire.loads(wire.dumps(value))
    assert type(back) is type(value)
    assert back == value


def test_special_floats_cross() -> None:
    back = wire.loads(wire.dumps([math.nan, math.inf, -math.inf, -0.0]))
    assert math.isnan(back[0]) and back[1:3] == [math.inf, -math.inf]
    assert math.copysign(1, back[3]) == -1


def test_subclasses_of_built_ins_cross_as_their_base_type() -> None:
    class Colour(enum.IntEnum):
        RED = 1

    default = collections.defaultdict(list, {"a": [1]})
    for value, base in ((Colour.RED, int), (default, dict)):
        back = wire.loads(wire.dumps(value))
        assert type(back) is base and back == value


def test_named_tuples_cross_with_their_field_names() -> None:
    point = collections.namedtuple("Point", "x y")(1, 2)
    back = wire.loads(wire.dumps(point))
    assert back == (1, 2) and (back.x, back.y) == (1, 2) and type(back).__name__ == "Point"
    assert type(back) is not type(point)  # rebuilt on this side, not the sender's class
    for bad in ('"fields": ["x", "class"], "v": [1, 2]', '"fields": ["x"], "v": [1, 2]'):
        with pytest.raises(wire.WireError):
            wire.loads('{"$": "namedtuple", "name": "P", ' + bad + "}")


def test_a_lying_subclass_crosses_as_its_honest_value() -> None:
    class Liar(int):
        def __eq__(self, other):
            return True

        __hash__ = int.__hash__

    back = wire.loads(wire.dumps(Liar(3)))
    assert type(back) is int and back == 3 and back != 4


def test_what_is_not_data_needs_a_handle_table() -> None:
    with pytest.raises(wire.NotData):
        wire.dumps(lambda: 1)
    seen = []
    text = wire.dumps([len], handles=lambda v: seen.append(v) or {"$": "handle", "id": 0})
    assert seen == [len]
    with pytest.raises(wire.WireError, match="handle"):
        wire.loads(text)  # no handle function: a handle is not data
    assert wire.loads(text, handle=lambda h: ("made", h["id"])) == [("made", 0)]


def test_recursive_and_too_deep_values_are_refused() -> None:
    loop: list = []
    loop.append(loop)
    with pytest.raises(wire.NotData):
        wire.dumps(loop)
    deep: list = []
    for _ in range(wire.MAX_DEPTH + 5):
        deep = [deep]
    with pytest.raises(wire.NotData):
        wire.dumps(deep)


@pytest.mark.parametrize(
    "text",
    [
        "{not json",
        '{"no": "tag"}',
        '{"$": "evil", "v": 1}',
        '{"$": "set", "v": [[1, 2]]}',  # an unhashable element
        '{"$": "dict", "v": [[[1], 2]]}',  # an unhashable key
        '{"$": "dict", "v": [[1, 2, 3]]}',
        '{"$": "fraction", "v": [1, 0]}',
        '{"$": "fraction", "v": ["1", 2]}',
        '{"$": "int", "v": "12z"}',
        '{"$": "bytes", "v": 5}',
        '{"$": "date", "v": "yesterday"}',
        '{"$": "complex", "v": [1]}',
        '{"$": "range", "v": [1, 2, 0]}',
        '{"$": "decimal", "v": "one"}',
        '{"$": "tuple", "v": {"a": 1}}',
        '{"$": "type", "v": "print"}',  # a built-in, but not a type
        '{"$": "type", "v": "Liar"}',
        "[" * 100000 + "]" * 100000,
    ],
)
def test_malformed_data_is_refused_with_a_wire_error(text: str) -> None:
    with pytest.raises(wire.WireError):
        wire.loads(text)


def test_nothing_decoded_is_of_a_type_outside_the_format() -> None:
    allowed = {type(v) for v in VALUES} | {float}
    encoded = json.loads(wire.dumps(VALUES))
    decoded = wire.decode(encoded)

    def walk(value) -> None:
        assert type(value) in allowed, type(value)
        if isinstance(value, dict):
            for key, item in value.items():
                walk(key)
                walk(item)
        elif isinstance(value, (list, tuple, set, frozenset, collections.deque)):
            for item in value:
                walk(item)

    walk(decoded)
