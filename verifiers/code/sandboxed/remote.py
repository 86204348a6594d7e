"""The judge's side of the wall (stdlib only): the solution, seen from outside its process.

`Link` speaks to `solver.py` over the run's private channel (fd 3 in, fd 4 out). `solution_module`
turns the solver's manifest into a module of stand-ins: data as plain values, modules as the
judge's own imports of the standard library, exception classes as local classes of the same
names and built-in bases, everything else as a `Remote`. A `Remote` can be called, iterated,
indexed, measured, turned into text or a truth value and asked for attributes, each a request
the solver answers with data (or another handle); it equals only itself, so nothing the
solution returns can pass a comparison it did not earn.
"""

from __future__ import annotations

import builtins
import json
import os
import select
import sys
import types

import wire

REPLY_LIMIT = 32 * 1024 * 1024
READ_CHUNK = 64 * 1024
"""Small enough to come from the heap, not a fresh mapping per read."""


class SolutionGone(Exception):
    """The solution's process ended or stopped answering; no later call can be made."""


class Garbled(Exception):
    """The solution's process answered with something that is not a well-formed reply."""


class Unsendable(Exception):
    """The solution produced a value that cannot cross as data."""


class OverTime(BaseException):
    """A call ran past its limit (a BaseException, so a test's `except Exception` cannot hide
    it)."""


class Link:
    def __init__(self, read_fd: int = 3, write_fd: int = 4) -> None:
        self._read_fd = read_fd
        self._write = os.fdopen(write_fd, "wb")
        self._buffer = b""
        self._dead: str | None = None
        self.mirrors: dict[str, type] = {}
        self._callbacks: list = []

    # --- the channel ---

    def receive(self, limit_s: float | None = None) -> dict:
        """The solver's next message."""
        if self._dead:
            raise SolutionGone(self._dead)
        chunks, size = [self._buffer], len(self._buffer)
        while b"\n" not in chunks[-1]:
            if limit_s is not None:
                ready, _, _ = select.select([self._read_fd], [], [], limit_s)
                if not ready:
                    self._dead = "it stopped answering after a call ran past its limit"
                    raise OverTime()
            chunk = os.read(self._read_fd, READ_CHUNK)
            if not chunk:
                self._dead = "the solution's process ended (it exited or was killed)"
                raise SolutionGone(self._dead)
            chunks.append(chunk)
            size += len(chunk)
            if size > REPLY_LIMIT and b"\n" not in chunk:
                self._dead = f"an answer of more than {REPLY_LIMIT >> 20} MB"
                raise Unsendable(self._dead)
        line, self._buffer = b"".join(chunks).split(b"\n", 1)
        try:
            message = json.loads(line)
        except (ValueError, RecursionError):
            raise Garbled("the solution's process sent something that is not JSON") from None
        if type(message) is not dict:
            raise Garbled("the solution's process sent something that is not a reply")
        return message

    def _send(self, message: dict) -> None:
        try:
            self._write.write(json.dumps(message, separators=(",", ":")).encode() + b"\n")
            self._write.flush()
        except (BrokenPipeError, OSError):
            self._dead = "the solution's process ended (it exited or was killed)"
            raise SolutionGone(self._dead) from None

    def _run_callback(self, message: dict) -> dict:
        """Run a function of the tests' that the solution called, with what it passed."""
        number = message.get("callback")
        if type(number) is not int or not 0 <= number < len(self._callbacks):
            raise Garbled("a call of a function the tests never passed")
        try:
            args = wire.decode(message.get("args", []), self.remote)
            kwargs = wire.decode({"$": "dict", "v": message.get("kwargs", [])}, self.remote)
            if type(args) is not list or any(type(k) is not str for k in kwargs):
                raise Garbled("a malformed call of a function of the tests")
        except wire.WireError as err:
            raise Garbled(f"a malformed call of a function of the tests: {err}") from None
        try:
            return {"value": wire.encode(self._callbacks[number](*args, **kwargs), self.outgoing)}
        except Exception as err:
            return {"raised": {"type": type(err).__name__, "message": str(err)[:500]}}

    def request(self, message: dict, limit_s: float | None = None) -> dict:
        if self._dead:
            raise SolutionGone(self._dead)
        self._send(message)
        reply = self.receive(limit_s)
        while "callback" in reply:  # the solution calls a function the tests gave it
            self._send(self._run_callback(reply))
            reply = self.receive(limit_s)
        if "raised" in reply:
            raise self._exception(reply["raised"])
        if "unsendable" in reply:
            raise Unsendable(f"the solution's result is not data: {str(reply['unsendable'])[:300]}")
        return reply

    def value(self, reply: dict):
        if "value" not in reply:
            raise Garbled("a reply without a value")
        try:
            return wire.decode(reply["value"], self.remote)
        except wire.WireError as err:
            raise Garbled(f"the solution's answer is not well-formed data: {err}") from None

    # --- values ---

    def remote(self, handle: dict) -> Remote:
        if handle.get("$") != "handle" or type(handle.get("id")) is not int:
            raise wire.WireError("only data and handles come from the solution")
        return Remote(self, handle)

    def outgoing(self, value) -> dict:
        """How a value the tests pass reaches the solution that is not data: a Remote by its
        handle, a built-in function by name, another function as a callback the solution can
        call (it runs here, on what the solution passes it)."""
        if isinstance(value, Remote):
            return object.__getattribute__(value, "_handle")
        name = getattr(value, "__name__", None)
        if type(name) is str and getattr(builtins, name, None) is value:
            return {"$": "builtin", "v": name}
        if callable(value):
            self._callbacks.append(value)
            return {"$": "callback", "id": len(self._callbacks) - 1}
        raise wire.NotData(f"a {type(value).__name__} cannot be passed to the solution")

    def call(self, target: dict, args: tuple, kwargs: dict, limit_s: float | None = None):
        sent_args = [wire.encode(a, self.outgoing) for a in args]
        sent_kwargs = {str(k): wire.encode(v, self.outgoing) for k, v in kwargs.items()}
        reply = self.request(
            {"op": "call", "target": target, "args": sent_args, "kwargs": sent_kwargs}, limit_s
        )
        value = self.value(reply)
        for key, new in reply.get("mutated", []):
            if type(key) is int and 0 <= key < len(args):
                _write_back(args[key], self.value({"value": new}))
            elif type(key) is str and key in kwargs:
                _write_back(kwargs[key], self.value({"value": new}))
        return value

    def _exception(self, info) -> BaseException:
        if type(info) is not dict:
            return Garbled("a malformed exception")
        name, base = str(info.get("type", "Exception")), str(info.get("base", "Exception"))
        message = str(info.get("message", ""))
        return self.exception_class(name, base)(message)

    def exception_class(self, name: str, base: str) -> type:
        """The local class for an exception the solution raises: the built-in one of that name,
        or a class of that name under its built-in base (never a BaseException only: SystemExit
        or KeyboardInterrupt from the solution cannot stop the judge)."""
        builtin = getattr(builtins, name, None)
        if name == base and _raisable(builtin):
            return builtin
        if name not in self.mirrors:
            parent = getattr(builtins, base, None)
            if not _raisable(parent):
                parent = RuntimeError if name in _ENDS or base in _ENDS else Exception
            self.mirrors[name] = type(name, (parent,), {"__module__": "solution"})
        return self.mirrors[name]


_ENDS = ("StopIteration", "StopAsyncIteration")
"""Never raised as themselves on the judge's side: `map`, `zip` and `for` would take them for
the end of their data and skip the rest of a test."""


def _raisable(kind) -> bool:
    return (
        isinstance(kind, type)
        and issubclass(kind, Exception)
        and not issubclass(kind, (StopIteration, StopAsyncIteration))
    )


def _write_back(original, new) -> None:
    """Apply a change the solution made to an argument in place, to the tests' own object
    (and to the lists, dicts and sets inside a tuple argument)."""
    if type(original) is not type(new):
        return
    if isinstance(original, (list, bytearray)):
        original[:] = new
    elif isinstance(original, (dict, set)):
        original.clear()
        original.update(new)
    elif isinstance(original, tuple) and len(original) == len(new):
        for inner, changed in zip(original, new, strict=True):
            _write_back(inner, changed)


_UNREAD = object()


class Remote:
    """A value that stayed in the solution's process (a function, a class, an object, an
    iterator): every use is a request, and what comes back is data or another Remote.

    An object's items are read once, the first time the tests take its length, truth value,
    items or an item by position, and kept here: the tests then see one list, and a length or
    truth value the solution gives that contradicts it is an error (a `len` of 5 over two
    items cannot pass what a real list could not)."""

    __slots__ = ("_contents", "_handle", "_link")

    def __init__(self, link: Link, handle: dict) -> None:
        object.__setattr__(self, "_link", link)
        object.__setattr__(self, "_handle", handle)
        object.__setattr__(self, "_contents", _UNREAD)

    def _items(self):
        """(is a mapping, [items]) of an iterable object, read once; None when it has none."""
        if object.__getattribute__(self, "_handle").get("kind") == "iterator":
            return None  # iterated one item at a time: reading it would consume it
        contents = object.__getattribute__(self, "_contents")
        if contents is _UNREAD:
            contents = self._ask("items")
            if contents is not None and (
                type(contents) is not list or len(contents) != 2 or type(contents[1]) is not list
            ):
                raise TypeError(f"{self!r} gave no items")
            object.__setattr__(self, "_contents", contents)
        return contents

    def _ask(self, op: str, **fields):
        link = object.__getattribute__(self, "_link")
        handle = object.__getattribute__(self, "_handle")
        return link.value(link.request({"op": op, "target": handle, **fields}))

    def __call__(self, *args, **kwargs):
        link = object.__getattribute__(self, "_link")
        return link.call(object.__getattribute__(self, "_handle"), args, kwargs)

    def __getattr__(self, name: str):
        if name.startswith("__"):
            raise AttributeError(name)
        return self._ask("getattr", name=name)

    def __setattr__(self, name: str, value) -> None:
        link = object.__getattribute__(self, "_link")
        self._ask("setattr", name=name, value=wire.encode(value, link.outgoing))

    def __getitem__(self, key):
        if type(key) in (int, slice):
            contents = self._items()
            if contents is not None and not contents[0]:  # a sequence: its items, as read
                return contents[1][key]
        link = object.__getattribute__(self, "_link")
        return self._ask("getitem", key=wire.encode(key, link.outgoing))

    def __len__(self) -> int:
        length = self._ask("len")
        if type(length) is not int or length < 0:
            raise TypeError("the solution's object gave no length")
        contents = self._items()
        if contents is not None and length != len(contents[1]):
            raise TypeError(f"{self!r} says its length is {length} but has {len(contents[1])}")
        return length

    def __iter__(self):
        if object.__getattribute__(self, "_handle").get("kind") == "iterator":
            return self
        contents = self._items()
        if contents is None:
            raise TypeError(f"{self!r} is not iterable")
        return iter(contents[1])

    def __next__(self):
        link = object.__getattribute__(self, "_link")
        reply = link.request({"op": "next", "target": object.__getattribute__(self, "_handle")})
        if reply.get("stop"):
            raise StopIteration
        return link.value(reply)

    def __bool__(self) -> bool:
        """The solution's own answer: no more than returning a bool, which it could anyway."""
        truth = self._ask("bool")
        if type(truth) is not bool:
            raise TypeError(f"{self!r} gave no truth value")
        contents = self._items()
        if contents is not None and truth != bool(contents[1]):
            raise TypeError(f"{self!r} says it is {truth} but has {len(contents[1])} items")
        return truth

    def __str__(self) -> str:
        text = self._ask("str")
        if type(text) is not str:
            raise TypeError(f"{self!r} gave no text")
        return text

    def __repr__(self) -> str:
        handle = object.__getattribute__(self, "_handle")
        name = handle.get("name") or handle.get("type")
        return f"<{handle.get('kind', 'object')} {name!s:.60} of the solution>"

    def __instancecheck__(self, value) -> bool:
        """`isinstance(x, solution.Class)`: the solution's answer, a bool like any other."""
        link = object.__getattribute__(self, "_link")
        answer = self._ask("isinstance", value=wire.encode(value, link.outgoing))
        if type(answer) is not bool:
            raise TypeError("the solution gave no answer to isinstance")
        return answer

    def __eq__(self, other) -> bool:
        """Identity; for two dataclass instances, their type names and compared fields, as
        data compared here (never the solution's `__eq__`)."""
        if self is other:
            return True
        if not isinstance(other, Remote):
            return NotImplemented
        mine, theirs = self._ask("fields"), other._ask("fields")
        return mine is not None and theirs is not None and mine == theirs

    def __ne__(self, other) -> bool:
        equal = self.__eq__(other)
        return equal if equal is NotImplemented else not equal

    def __hash__(self) -> int:
        return id(self)


def solution_module(link: Link, manifest: dict) -> types.ModuleType:
    """The module the tests import as `solution`, made of stand-ins (see the module docstring)."""
    module = types.ModuleType("solution")
    for name, entry in manifest.items():
        if type(entry) is not dict or type(name) is not str:
            continue
        kind = entry.get("kind")
        if kind == "value":
            try:
                setattr(module, name, wire.decode(entry.get("value"), link.remote))
            except wire.WireError:
                continue
        elif kind == "module":
            imported = _stdlib_module(str(entry.get("module")))
            if imported is not None:
                setattr(module, name, imported)
        elif kind == "exception":
            setattr(module, name, link.exception_class(name, str(entry.get("base"))))
    return module


MODULES = frozenset(
    {
        *("array", "bisect", "calendar", "cmath", "collections", "copy", "dataclasses"),
        *("datetime", "decimal", "enum", "fractions", "functools", "hashlib", "heapq"),
        *("itertools", "json", "math", "operator", "random", "re", "statistics", "string"),
        *("struct", "textwrap", "time", "typing", "unicodedata"),
    }
)
"""Modules the tests may find under a name the solution imported them as (`math`): the judge
imports its own copy, and only of these, whose import does nothing but define."""


def _stdlib_module(name: str):
    if name not in MODULES and name not in sys.modules:
        return None
    try:
        __import__(name)
    except Exception:
        return None
    return sys.modules.get(name)
