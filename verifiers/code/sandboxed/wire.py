"""Plain data across the wall between a judge and the program it judges (stdlib only).

One value is one JSON document. JSON's own null, booleans, numbers, strings and arrays (lists)
stand for themselves; every other kind is an object tagged by "$":

    tuple, set, frozenset, deque       {"$": kind, "v": [items]}
    dict, Counter, OrderedDict         {"$": kind, "v": [[key, value], ...]}
    bytes, bytearray                   {"$": kind, "v": "latin-1 text"}
    complex                            {"$": "complex", "v": [real, imag]}
    big int (past 3000 bits)           {"$": "int", "v": "hex digits"}
    Fraction                           {"$": "fraction", "v": [numerator, denominator]}
    Decimal                            {"$": "decimal", "v": "text"}
    date, time, datetime, timedelta    {"$": kind, "v": ISO text} (timedelta: [days, s, us])
    range                              {"$": "range", "v": [start, stop, step]}
    a built-in type (int, str, ...)    {"$": "type", "v": "int"}
    a named tuple                      {"$": "namedtuple", "name": str, "fields": [...], "v": [...]}
    anything else                      {"$": "handle", "id": n, "kind": ..., "type": name}

A function the tests pass to the solution crosses the other way, by name for a built-in
({"$": "builtin", "v": "len"}) and as {"$": "callback", "id": n} for the rest (the judge runs
it when the solution calls it); like handles, these go to the caller's `handle` function.

`decode` rebuilds values from built-in and standard-library types only, checking every field, so
no object with a crafted `__eq__`, `__hash__`, `__bool__` or `__len__` can come out of it: a
handle becomes whatever the caller's `handle` function makes of it (the judge's proxies), or an
error. `encode` writes subclasses of built-ins as their base type (a named tuple as a tuple, an
IntEnum as an int), through the base type's own methods.
"""

from __future__ import annotations

import builtins
import collections
import datetime
import decimal
import fractions
import json

BIG_INT_BITS = 3000
MAX_DEPTH = 200


class NotData(TypeError):
    """A value that cannot cross as data (and no handle table was given to send it by)."""


class WireError(ValueError):
    """Text that is not a well-formed value of this format."""


_SEQUENCES = {tuple: "tuple", set: "set", frozenset: "frozenset"}
_DATES = {
    datetime.datetime: "datetime",
    datetime.date: "date",
    datetime.time: "time",
}


def dumps(value, handles=None) -> str:
    """`value` as one line of JSON text (NotData when it cannot cross and `handles` is None)."""
    return json.dumps(encode(value, handles), separators=(",", ":"))


def encode(value, handles=None, depth: int = 0):
    """`value` as JSON-ready data; a non-data value is registered with `handles(value)`, which
    returns its handle object, or raises NotData without one."""
    if depth > MAX_DEPTH:
        raise NotData(f"the value is nested more than {MAX_DEPTH} deep")
    kind = type(value)
    if value is None or kind in (bool, str):
        return value
    if kind is int:
        return (
            value if value.bit_length() <= BIG_INT_BITS else {"$": "int", "v": format(value, "x")}
        )
    if kind is float:
        return value
    if kind is list:
        return [encode(item, handles, depth + 1) for item in value]
    if kind in _SEQUENCES:
        return {"$": _SEQUENCES[kind], "v": [encode(i, handles, depth + 1) for i in value]}
    if kind is dict:
        return {"$": "dict", "v": _pairs(dict.items(value), handles, depth)}
    if isinstance(value, tuple) and _is_named_tuple(kind):
        return {
            "$": "namedtuple",
            "name": kind.__name__,
            "fields": list(kind._fields),
            "v": [encode(i, handles, depth + 1) for i in tuple.__iter__(value)],
        }
    special = _special(value, handles, depth)
    if special is not None:
        return special
    base = _builtin_base(value)
    if base is not None:
        return encode(base(value), handles, depth)
    if handles is None:
        raise NotData(f"a {kind.__name__} is not data")
    return handles(value)


def _pairs(items, handles, depth: int) -> list:
    return [[encode(k, handles, depth + 1), encode(v, handles, depth + 1)] for k, v in items]


def _special(value, handles, depth: int):
    """Standard-library values, exactly of their type; None for anything else."""
    kind = type(value)
    if kind is complex:
        return {"$": "complex", "v": [value.real, value.imag]}
    if kind in (bytes, bytearray):
        return {"$": kind.__name__, "v": bytes(value).decode("latin-1")}
    if kind is collections.Counter:
        return {"$": "Counter", "v": _pairs(dict.items(value), handles, depth)}
    if kind is collections.OrderedDict:
        return {"$": "OrderedDict", "v": _pairs(dict.items(value), handles, depth)}
    if kind is collections.defaultdict:
        return {"$": "dict", "v": _pairs(dict.items(value), handles, depth)}
    if kind is collections.deque:
        return {"$": "deque", "v": [encode(i, handles, depth + 1) for i in value]}
    if kind is fractions.Fraction:
        return {"$": "fraction", "v": [value.numerator, value.denominator]}
    if kind is decimal.Decimal:
        return {"$": "decimal", "v": str(value)}
    if kind in _DATES:
        return {"$": _DATES[kind], "v": value.isoformat()}
    if kind is datetime.timedelta:
        return {"$": "timedelta", "v": [value.days, value.seconds, value.microseconds]}
    if kind is range:
        return {"$": "range", "v": [value.start, value.stop, value.step]}
    if kind is type and _builtin_type(value.__name__) is value:
        return {"$": "type", "v": value.__name__}
    return None


def _builtin_type(name: str):
    found = getattr(builtins, name, None) if isinstance(name, str) else None
    return found if isinstance(found, type) else None


def _is_named_tuple(kind: type) -> bool:
    fields = getattr(kind, "_fields", None)
    return (
        type(fields) is tuple
        and all(type(f) is str for f in fields)
        and type(getattr(kind, "__name__", None)) is str
    )


_BASES = (bool, int, float, complex, str, bytes, bytearray, tuple, list, dict, frozenset, set)


def _builtin_base(value):
    """The built-in type a subclass instance is written as (named tuples, IntEnums, ...)."""
    for base in _BASES:
        if isinstance(value, base):
            return base
    return None


def loads(text, handle=None):
    """The value of one JSON document of this format (WireError when malformed)."""
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as err:
        raise WireError(f"not a value: {str(err)[:100]}") from None
    return decode(data, handle)


def decode(data, handle=None, depth: int = 0):
    """The value `data` (parsed JSON) stands for, from built-in types only."""
    if depth > MAX_DEPTH + 2:
        raise WireError("nested too deep")
    kind = type(data)
    if data is None or kind in (bool, int, float, str):
        return data
    if kind is list:
        return [decode(item, handle, depth + 1) for item in data]
    if kind is not dict or not isinstance(data.get("$"), str):
        raise WireError(f"not a value of this format: {str(data)[:100]}")
    tag = data["$"]
    if tag in ("handle", "callback", "builtin"):
        if handle is None:
            raise WireError(f"a {tag} where data was expected")
        return handle(data)
    if tag not in _DECODERS and tag != "namedtuple":
        raise WireError(f"unknown kind {tag!r}")
    try:
        if tag == "namedtuple":
            return _named_tuple(data, handle, depth + 1)
        return _DECODERS[tag](data.get("v"), handle, depth + 1)
    except WireError:
        raise
    except (TypeError, ValueError, ArithmeticError, RecursionError) as err:
        raise WireError(f"a malformed {tag}: {str(err)[:100]}") from None


def _items(value, handle, depth: int) -> list:
    if type(value) is not list:
        raise WireError("expected a list of items")
    return [decode(item, handle, depth) for item in value]


def _mapping(factory):
    def build(value, handle, depth: int):
        pairs = _items(value, handle, depth)
        if not all(type(p) is list and len(p) == 2 for p in pairs):
            raise WireError("expected [key, value] pairs")
        return factory((k, v) for k, v in pairs)

    return build


def _exact(kind, value):
    if type(value) is not kind:
        raise WireError(f"expected a {kind.__name__}")
    return value


def _big_int(value, handle, depth):
    text = _exact(str, value)
    if not text or any(c not in "-0123456789abcdef" for c in text):
        raise WireError("expected hex digits")
    return int(text, 16)


def _fraction(value, handle, depth):
    numerator, denominator = _items(value, handle, depth)
    if type(numerator) is not int or type(denominator) is not int:
        raise WireError("a fraction of two integers")
    return fractions.Fraction(numerator, denominator)


def _complex(value, handle, depth):
    real, imag = _items(value, handle, depth)
    if type(real) not in (int, float) or type(imag) not in (int, float):
        raise WireError("a complex of two numbers")
    return complex(real, imag)


def _range(value, handle, depth):
    parts = _items(value, handle, depth)
    if len(parts) != 3 or any(type(p) is not int for p in parts):
        raise WireError("a range of three integers")
    return range(*parts)


def _timedelta(value, handle, depth):
    parts = _items(value, handle, depth)
    if len(parts) != 3 or any(type(p) is not int for p in parts):
        raise WireError("a timedelta of three integers")
    return datetime.timedelta(days=parts[0], seconds=parts[1], microseconds=parts[2])


_DECODERS = {
    "tuple": lambda v, h, d: tuple(_items(v, h, d)),
    "set": lambda v, h, d: set(_items(v, h, d)),
    "frozenset": lambda v, h, d: frozenset(_items(v, h, d)),
    "deque": lambda v, h, d: collections.deque(_items(v, h, d)),
    "dict": _mapping(dict),
    "Counter": _mapping(lambda pairs: collections.Counter(dict(pairs))),
    "OrderedDict": _mapping(collections.OrderedDict),
    "bytes": lambda v, h, d: _exact(str, v).encode("latin-1"),
    "bytearray": lambda v, h, d: bytearray(_exact(str, v).encode("latin-1")),
    "int": _big_int,
    "complex": _complex,
    "fraction": _fraction,
    "decimal": lambda v, h, d: decimal.Decimal(_exact(str, v)),
    "date": lambda v, h, d: datetime.date.fromisoformat(_exact(str, v)),
    "time": lambda v, h, d: datetime.time.fromisoformat(_exact(str, v)),
    "datetime": lambda v, h, d: datetime.datetime.fromisoformat(_exact(str, v)),
    "timedelta": _timedelta,
    "range": _range,
    "type": lambda v, h, d: _builtin_type(_exact(str, v)) or _refuse(f"no built-in type {v!r}"),
}


_NAMED_TUPLES: dict = {}


def _named_tuple(data: dict, handle, depth: int):
    name, fields = data.get("name"), data.get("fields")
    if type(name) is not str or type(fields) is not list or not all(type(f) is str for f in fields):
        raise WireError("a named tuple needs a name and field names")
    items = _items(data.get("v"), handle, depth)
    if any(hasattr(tuple, f) and callable(v) for f, v in zip(fields, items, strict=True)):
        return tuple(items)  # a callable as `count` or `index` would answer the tuple's methods
    key = (name, tuple(fields))
    if key not in _NAMED_TUPLES:
        if len(_NAMED_TUPLES) > 1000:
            raise WireError("too many kinds of named tuple")
        _NAMED_TUPLES[key] = collections.namedtuple(name, fields)  # checks the names
    return _NAMED_TUPLES[key](*items)


def _refuse(why: str):
    raise WireError(why)
