"""The program's side of a judged run (stdlib only): the candidate's code, and nothing else.

    python3 -I solver.py        (run by the sandbox beside a judge; fd 3 in, fd 4 out)

It loads `solution.py` as the module `solution`, tells the judge what the module holds (its
manifest), then answers the judge's requests, one JSON line each, until the judge hangs up:
call a function, read or set an attribute, index, take the length, iterate. Arguments and
results cross as plain data (`wire.py`); a value that is not data stays here and crosses as a
handle the judge can only call, iterate or ask about, never compare. After a call, arguments
the call changed in place (lists, dicts, sets, bytearrays) are sent back too.

This process decides nothing: whatever it sends is only the candidate's answer, which the judge
compares in its own process, where this one cannot reach.
"""

from __future__ import annotations

import builtins
import dataclasses
import itertools
import json
import os
import sys
import traceback
import types

import wire

MESSAGE_LIMIT = 64 * 1024 * 1024
ITEMS_LIMIT = 1_000_000
CONTAINERS = (list, dict, set, bytearray, tuple)


class Channel:
    """The private pipes to the judge: requests (and callback results) in, replies out."""

    def __init__(self) -> None:
        self._in = os.fdopen(3, "rb")
        self._out = os.fdopen(4, "wb")

    def read(self):
        line = self._in.readline()
        return json.loads(line) if line else None

    def send(self, message: dict) -> None:
        try:
            text = json.dumps(message, separators=(",", ":"))
        except (ValueError, RecursionError) as err:
            text = json.dumps(raised(err))
        self._out.write(text.encode() + b"\n")
        self._out.flush()


class Handles:
    """The objects the judge holds handles to, by number; and the judge's functions."""

    def __init__(self, channel: Channel) -> None:
        self.objects: list = []
        self._channel = channel

    def register(self, value) -> dict:
        self.objects.append(value)
        if hasattr(type(value), "__next__"):
            kind = "iterator"
        elif isinstance(value, type):
            kind = "class"
        elif callable(value):
            kind = "callable"
        else:
            kind = "object"
        name = getattr(value, "__name__", None) if kind in ("class", "callable") else None
        return {
            "$": "handle",
            "id": len(self.objects) - 1,
            "kind": kind,
            "type": type(value).__name__,
            "name": name if isinstance(name, str) else None,
        }

    def resolve(self, data: dict):
        """What a handle, a built-in's name or a callback of the judge's stands for here."""
        if data.get("$") == "builtin":
            found = getattr(builtins, str(data.get("v")), None)
            if not callable(found):
                raise wire.WireError(f"no built-in function {data.get('v')!r}")
            return found
        if data.get("$") == "callback":
            return self._callback(data.get("id"))
        number = data.get("id")
        if type(number) is not int or not 0 <= number < len(self.objects):
            raise wire.WireError(f"no object has handle {number!r}")
        return self.objects[number]

    def _callback(self, number):
        def call(*args, **kwargs):
            self._channel.send(
                {
                    "callback": number,
                    "args": [wire.encode(a, self.register) for a in args],
                    "kwargs": _pairs(kwargs, self.register),
                }
            )
            reply = self._channel.read()
            if reply is None:
                raise SystemExit(0)  # the judge hung up
            if "raised" in reply:
                info = reply["raised"]
                kind = getattr(builtins, str(info.get("type")), None)
                if not (isinstance(kind, type) and issubclass(kind, Exception)):
                    kind = RuntimeError
                raise kind(str(info.get("message", "")))
            return wire.decode(reply.get("value"), self.resolve)

        return call


def _pairs(kwargs: dict, register) -> list:
    return [[wire.encode(k), wire.encode(v, register)] for k, v in kwargs.items()]


def builtin_base_name(kind: type) -> str:
    """The nearest built-in class of an exception class, by name."""
    for base in kind.__mro__:
        if getattr(builtins, base.__name__, None) is base:
            return base.__name__
    return "Exception"


def raised(error: BaseException) -> dict:
    try:
        message = str(error)[:1000]
    except BaseException:
        message = "(its message cannot be shown)"
    return {
        "raised": {
            "type": type(error).__name__,
            "base": builtin_base_name(type(error)),
            "message": message,
        }
    }


def manifest(module: types.ModuleType, handles: Handles) -> dict:
    """What the module's names are: data (sent by value), modules (by name), exception classes
    (by name and built-in base), anything else (a handle)."""
    names = {}
    for name, value in list(vars(module).items()):
        if name.startswith("__"):
            continue
        if isinstance(value, types.ModuleType):
            names[name] = {"kind": "module", "module": value.__name__}
        elif isinstance(value, type) and issubclass(value, BaseException):
            names[name] = {"kind": "exception", "base": builtin_base_name(value)}
        else:
            try:
                names[name] = {"kind": "value", "value": wire.encode(value, handles.register)}
            except (wire.NotData, RecursionError) as err:
                names[name] = {"kind": "unsendable", "why": str(err)[:200]}
    return names


def answer(request: dict, handles: Handles) -> dict:
    op = request.get("op")
    target = handles.resolve(request.get("target") or {})
    if op == "call":
        args = [wire.decode(a, handles.resolve) for a in request.get("args", [])]
        kwargs = {k: wire.decode(v, handles.resolve) for k, v in request.get("kwargs", {}).items()}
        value = target(*args, **kwargs)
        reply = {"value": wire.encode(value, handles.register)}
        changed = mutations(request.get("args", []), args, handles)
        changed += mutations(request.get("kwargs", {}), kwargs, handles)
        if changed:
            reply["mutated"] = changed
        return reply
    if op == "next":
        try:
            return {"value": wire.encode(next(target), handles.register)}
        except StopIteration:
            return {"stop": True}
    if op == "getattr":
        return {"value": wire.encode(getattr(target, str(request["name"])), handles.register)}
    if op == "setattr":
        setattr(target, str(request["name"]), wire.decode(request["value"], handles.resolve))
        return {"value": None}
    if op == "getitem":
        key = wire.decode(request["key"], handles.resolve)
        return {"value": wire.encode(target[key], handles.register)}
    if op == "iter":
        return {"value": wire.encode(iter(target), handles.register)}
    if op == "len":
        return {"value": len(target)}
    if op == "str":
        return {"value": str(target)[:100_000]}
    if op == "bool":
        return {"value": bool(target)}
    if op == "isinstance":
        return {"value": isinstance(wire.decode(request["value"], handles.resolve), target)}
    if op == "fields":  # a dataclass instance's fields, every one, for structural equality
        if not dataclasses.is_dataclass(target) or isinstance(target, type):
            return {"value": None}
        fields = [[f.name, getattr(target, f.name)] for f in dataclasses.fields(target)]
        return {"value": wire.encode([type(target).__qualname__, fields], handles.register)}
    if op == "items":  # an iterable's items, read once by the judge
        try:
            iterator = iter(target)
        except TypeError:
            return {"value": None}
        items = list(itertools.islice(iterator, ITEMS_LIMIT + 1))
        if len(items) > ITEMS_LIMIT:
            raise ValueError(f"more than {ITEMS_LIMIT} items")
        return {"value": wire.encode([hasattr(target, "keys"), items], handles.register)}
    raise wire.WireError(f"unknown request {op!r}")


def mutations(raw, live, handles: Handles) -> list:
    """[position or name, new value] of each argument the call changed in place (a list, or a
    list inside a tuple)."""
    keys = range(len(raw)) if isinstance(raw, list) else list(raw)
    changed = []
    for key in keys:
        if isinstance(live[key], CONTAINERS):
            now = wire.encode(live[key], handles.register)
            if now != raw[key]:
                changed.append([key, now])
    return changed


def load() -> types.ModuleType:
    sys.path.insert(0, os.getcwd())
    module = types.ModuleType("solution")
    module.__file__ = os.path.join(os.getcwd(), "solution.py")
    sys.modules["solution"] = module
    with open(module.__file__, encoding="utf-8") as handle:
        source = handle.read()
    exec(compile(source, module.__file__, "exec"), module.__dict__)
    return module


def load_error(error: BaseException) -> str:
    if isinstance(error, SyntaxError):
        return f"SyntaxError: {error.msg} (line {error.lineno})"
    where = [
        f for f in traceback.extract_tb(error.__traceback__) if f.filename.endswith("solution.py")
    ]
    line = f" (line {where[-1].lineno})" if where else ""
    return f"{type(error).__name__}{line}: {str(error)[:500]}"


def main() -> None:
    channel = Channel()
    handles = Handles(channel)
    try:
        module = load()
        hello = {"manifest": manifest(module, handles)}
    except BaseException as err:  # SystemExit and KeyboardInterrupt too
        channel.send({"load": load_error(err)})
        return
    channel.send(hello)
    while True:
        try:
            request = channel.read()
            if request is None:
                return
            reply = answer(request, handles)
        except wire.NotData as err:
            reply = {"unsendable": str(err)[:500]}
        except BaseException as err:
            reply = raised(err)
        channel.send(reply)


if __name__ == "__main__":
    main()
