"""Decontamination: find the problems and rows that copy a public benchmark item, and drop them.

Every record is looked at through a few views, each an index of hashed token sequences built once
from the benchmark items, so that checking a record is a handful of set look-ups. The rules, in
the order they are tried (the first that matches names the item):

- `ngram`: prose (a statement, a math solution, the prose of an answer) shares a word n-gram
  with an item: 13 words, 10 for a math item; `SOLUTION_GRAMS` of them when they are n-grams of
  the item's solution, whose single phrases are math's common speech. Words are runs of letters
  or of digits, lower-cased after NFKC, so whitespace, punctuation and identifier style
  (`snake_case` is two words) do not matter, and the instruction a statement opens with ("Write
  a python function to") is cut off:
  it is in half of MBPP and says nothing of the task.
- `code`: code (a solution, tests, a fenced block, a Python statement) holds at least half of the
  windows of `CODE_NGRAM` Python tokens of one of an item's code texts, and `MIN_CODE_WINDOWS` of
  them. Each identifier that is not a keyword, builtin or attribute becomes the distance back to
  its previous occurrence (Baker's parameterised matching), so a consistent renaming changes
  nothing; comments go, strings (their words) and numbers stay.
- `calls`: the record calls an item's function with the item's literal arguments, as its tests
  and examples do (`minimum(1,2)` of `assert minimum(1,2) == 1`, `f([1.0,2.0],0.5)` of a
  doctest), in any field but a reference solution, prose included: `CALLS` of them (all, for an
  item with fewer), or three with the function renamed (arguments of `MIN_RENAMED_ARGS`
  characters or more only). A call whose arguments run to `LONG_ARGUMENTS` characters counts
  two. Arguments lose their whitespace, and a call that `COMMON_ITEMS` items make is dropped.
  This is what an MBPP item pasted with its asserts is caught by, its sentence being shorter
  than any n-gram; of items making the same calls (MBPP has such twins), the one whose
  statement shares most words with the record is named.
- `statement`: a statement, or a paragraph of one, is an item's statement word for word once
  both lose their opening instruction. An item's statement (a program's: its docstring before
  the examples) is found inside a longer text too, sized to the item rather than one n for all:
  anywhere when it has `MIN_WORDS` words or more; as a sentence or line (split at `.?!:`, line
  ends and `>>>`) of at most `SLACK` more words when it is shorter ("Implement a function that
  will find the minimum of two numbers."); and when the text holds `COVER` of it in runs of
  `MIN_WORDS` words (a word or two changed: a renamed function in its docstring).
- `ngram_numbers`, `code_numbers` and `statement` again: the same with each number as a
  placeholder, to catch copies with substituted literals. Each number keeps its place, so a
  template with other terms is not a copy ("the remainder when 5^96 is divided by 12" is not
  "when 129^34 + 96^38 is divided by 11"). The prose must keep `MIN_WORDS` words (of two letters
  or more, so "solve for x: N x + N = N" is not a copy of every linear equation); tests are left
  out of the code view, where without their numbers they are only a shape.

An n-gram or window that `COMMON_ITEMS` items share is boilerplate (a test harness, a nested loop,
an input list that MBPP reuses) and is not evidence of any of them.
"""

from __future__ import annotations

import builtins
import gzip
import json
import keyword
import re
import sys
import unicodedata
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from itertools import accumulate
from pathlib import Path
from typing import Any, Literal

from pydantic import TypeAdapter, ValidationError

from verified_factory.curate.benchmarks import BenchmarkItem, benchmark_paths, load_benchmarks
from verified_factory.records import (
    AssertTests,
    CallTests,
    Problem,
    PytestTests,
    RecordError,
    StdioTests,
    TestSpec,
    decode_json,
    parse_record,
)
from verified_factory.rows import Attempt

Rule = Literal["ngram", "code", "calls", "statement", "ngram_numbers", "code_numbers", "embedding"]

CODE_NGRAM = 12
"""Python tokens in a code window: about a line."""
CODE_SHARE = 0.5
"""Share of the windows of an item's code text a record must hold to copy it."""
MIN_CODE_WINDOWS = 8
"""Windows a record must share with an item's code text: `return a + b` is nobody's."""
MIN_GRAM_WORDS = 3
"""Words (not numbers) a word n-gram needs: a run of numbers (`0 1 2 3 ...`) is in many tests."""
MIN_WORDS = 8
"""Words (not numbers) a number-masked n-gram or statement needs."""
COMMON_ITEMS = 3
"""Items that share an n-gram for it to be boilerplate rather than evidence."""
CALLS = 2
"""An item's calls with literal arguments a record must make (all of them, if it has fewer)."""
MIN_RENAMED_ARGS = 4
"""Characters of arguments a call needs to be evidence with its function renamed: not `f(10)`."""
LONG_ARGUMENTS = 16
"""Characters of arguments that make one call count as two: `f([5,3,5,2,3,3,9,0,123])`."""
SLACK = 3
"""Words a sentence or line may have beyond a short item statement it contains."""
SOLUTION_GRAMS = 3
"""Distinct n-grams of one item's solution a text must share to copy it: a copied solution
shares many, while one shared phrase is math's common speech ("by Vieta's formulas the sum of
the roots is")."""
COVER = 0.5
"""Share of an item's statement a text must hold, in runs of `MIN_WORDS` words, to copy it."""
NUMBER = "<n>"


@dataclass(frozen=True)
class Hit:
    """Why a text is contaminated: the benchmark item it copies and the rule that matched."""

    benchmark: str
    item_id: str
    rule: Rule
    detail: str


# --- views ---------------------------------------------------------------------------------

_WORD = re.compile(r"[^\W\d_]+|\d+")


def words(text: str) -> list[str]:
    """Lower-cased runs of letters and runs of digits."""
    return _WORD.findall(unicodedata.normalize("NFKC", text).lower())


def mask_numbers(tokens: Sequence[str]) -> list[str]:
    """Every number token as one placeholder. Each number keeps its own, so a copy with its
    numbers changed keeps its shape while a template with other terms does not: "the remainder
    when 5^96 is divided by 12" (three numbers) is not "when 129^34 + 96^38 is divided by 11"."""
    return [NUMBER if token < ":" else token for token in tokens]  # digits sort before letters


def _mask_code_numbers(tokens: list[str]) -> list[str]:
    return [NUMBER if token[0].isdigit() else token for token in tokens]


_CODE_TOKEN = re.compile(
    r"""\#[^\n]*
    |[rRbBuUfF]{0,2}(?:\"\"\"[\s\S]*?\"\"\"|'''[\s\S]*?'''|"(?:\\.|[^"\\\n])*"|'(?:\\.|[^'\\\n])*')
    |\d[\w.]*
    |[^\W\d]\w*
    |\*\*=?|//=?|->|:=|<<=?|>>=?|[-+*/%@&|^<>=!]=|\S""",
    re.VERBOSE,
)
"""A comment, a string, a number, a name or an operator: the first character tells which."""
_KEPT_NAMES = frozenset(keyword.kwlist) | frozenset(keyword.softkwlist) | frozenset(dir(builtins))


def code_tokens(code: str) -> list[str]:
    """Python tokens with identifiers replaced by the distance to their previous occurrence.

    `@` is a first occurrence (or one more than `CODE_NGRAM` tokens after the last), `@k` one
    k tokens after the previous. Keywords, builtins and attributes (`x.append`) stay as they are.
    """
    tokens: list[str] = []
    last: dict[str, int] = {}
    after_dot = False
    for text in _CODE_TOKEN.findall(code):
        first = text[0]
        if first == "#":
            continue
        if text[-1] in "'\"":
            text = "'" + " ".join(_WORD.findall(text.lstrip("rRbBuUfF")))
        elif (first.isalpha() or first == "_") and text not in _KEPT_NAMES and not after_dot:
            position = len(tokens)
            previous = last.get(text)
            last[text] = position
            distance = position - previous if previous is not None else 0
            text = f"@{distance}" if 0 < distance <= CODE_NGRAM else "@"
        after_dot = text == "."
        tokens.append(text)
    return tokens


OPENING = re.compile(
    r"""^[^\w\n]*(?:please\s+)?
    (?:write|implement|create|develop|define|design|build|construct|code|make|produce|generate
      |give|provide|complete|compose|craft)
    \s+(?:[\w-]+\s+){0,3}?
    (?:function|program|method|script|routine|procedure|lambda|code)s?\b
    (?:\s+(?:in\s+python\s+)?(?:that|which|to|for|of|in\s+order\s+to|in\s+python))?\s*""",
    re.VERBOSE | re.IGNORECASE | re.MULTILINE,
)


def statement_words(text: str) -> list[str]:
    """The words of a statement without the instruction ("Write a function to") lines open with."""
    return words(OPENING.sub("", unicodedata.normalize("NFKC", text)))


_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")
_FENCE = re.compile(r"```[^\n]*\n(.*?)(?:```|\Z)", re.DOTALL)
_DEFINITION = re.compile(r"(?:^|[\s:;.])(?:async\s+)?(?:def\s+\w+\s*\(|class\s+\w+\s*[(:])")


def looks_like_code(text: str) -> bool:
    """Whether a statement holds Python (a HumanEval prompt, even run into one line behind an
    instruction) rather than only prose."""
    return _DEFINITION.search(text) is not None


_CALL = re.compile(r"\b([A-Za-z_]\w*)\s*\(")
_STRING = re.compile(r"'(?:\\.|[^'\\\n])*'" + r'|"(?:\\.|[^"\\\n])*"')
_LITERAL_NUMBER = re.compile(r"\d[\w.]*")
_LITERAL_WORD = re.compile(r"\b(?:True|False|None)\b")
_LITERAL_PUNCTUATION = " \t\r\n,+-.[](){}:'"
MAX_CALL_CHARS = 400


def literal_calls(text: str) -> set[str]:
    """Each call of a named function (not a builtin) whose arguments are all literals, as
    `name(arguments)` with the arguments' whitespace removed: `minimum(1,2)`."""
    found = set()
    for match in _CALL.finditer(text):
        name = match.group(1)
        if name in _KEPT_NAMES:
            continue
        start = at = match.end()
        depth, stop = 1, min(len(text), start + MAX_CALL_CHARS)
        while at < stop and depth:
            depth += (text[at] in "([{") - (text[at] in ")]}")
            at += 1
        arguments = text[start : at - 1]
        if depth or not arguments.strip():
            continue
        bare = _LITERAL_WORD.sub("", _LITERAL_NUMBER.sub("", _STRING.sub("''", arguments)))
        if bare.strip(_LITERAL_PUNCTUATION):  # a name among the arguments: not all literals
            continue
        found.add(f"{name}({''.join(arguments.split())})".replace('"', "'"))
    return found


def _argument_chars(call: str) -> int:
    """Characters of a call's arguments: 3 for `f(1,2)`."""
    return len(call) - call.index("(") - 2


def _renamed(call: str) -> str | None:
    """The call with its function's name gone, when its arguments alone say enough."""
    if _argument_chars(call) < MIN_RENAMED_ARGS:
        return None
    return "@" + call[call.index("(") :]


_SEGMENT = re.compile(r"(?<=[.?!:])\s+|\n|>>>")
_DOCSTRING = re.compile(r'("""|\'\'\')(.*?)(?:\1|\Z)', re.DOTALL)
_EXAMPLES = re.compile(r">>>|\b(?:for )?examples?\b|\be\.g\.", re.IGNORECASE)


def _docstring_prose(code: str) -> str:
    """What a program's first docstring says before its examples: a HumanEval task, told."""
    docstring = _DOCSTRING.search(code)
    return _EXAMPLES.split(docstring.group(2), maxsplit=1)[0] if docstring else ""


PREFIX = 3
"""Words an item statement's start is looked up by; shorter statements are not looked for."""


# --- the index -----------------------------------------------------------------------------


def _grams(tokens: Sequence[str], n: int) -> Iterator[tuple[str, ...]]:
    return zip(*(tokens[i:] for i in range(n)), strict=False)


def _hashes(tokens: Sequence[str], n: int) -> Iterator[int]:
    return map(hash, _grams(tokens, n))


@dataclass
class _GramIndex:
    """Hashed token n-grams of the items, each to the item that has it.

    An n-gram that `COMMON_ITEMS` items share is boilerplate (a test harness, a nested loop, a
    reused input list), not evidence of a copy of any one of them: `seal` drops it.
    """

    n: int
    grams: dict[int, int] = field(default_factory=dict)
    _sharers: dict[int, set[int]] = field(default_factory=dict)

    def add(self, tokens: Sequence[str], item: int, min_words: int = 0) -> None:
        """Index the n-grams of `tokens` that hold at least `min_words` words (not numbers)."""
        # A word is two letters or more: `2 x 4 3 x 3` (a polynomial) is numbers.
        counts = list(accumulate((t[0].isalpha() and len(t) > 1 for t in tokens), initial=0))
        for start, gram in enumerate(_grams(tokens, self.n)):
            if counts[start + self.n] - counts[start] < min_words:
                continue
            key = hash(gram)
            first = self.grams.setdefault(key, item)
            if first != item:
                self._sharers.setdefault(key, {first}).add(item)

    def seal(self) -> None:
        for key, sharers in self._sharers.items():
            if len(sharers) >= COMMON_ITEMS:
                del self.grams[key]
        self._sharers.clear()

    def shared(self, tokens: Sequence[str]) -> list[tuple[int, tuple[str, ...]]]:
        """The n-grams of `tokens` that an item has, with the item; [] (the usual case) fast."""
        if self.grams.keys().isdisjoint(_hashes(tokens, self.n)):
            return []
        return [
            (self.grams[key], gram)
            for gram in _grams(tokens, self.n)
            if (key := hash(gram)) in self.grams
        ]


def _most_shared(
    index: _GramIndex, fields: Sequence[tuple[str, list[str]]], least: int = 1
) -> tuple[int, str, str] | None:
    """The item that shares most n-grams with the fields (a copy of one item may share a few
    with another), if at least `least` distinct ones, the field and one of the n-grams."""
    shared = [(item, name, gram) for name, tokens in fields for item, gram in index.shared(tokens)]
    if not shared:
        return None
    best, _ = Counter(item for item, _, _ in shared).most_common(1)[0]
    if len({gram for item, _, gram in shared if item == best}) < least:
        return None
    name, gram = next((name, gram) for item, name, gram in shared if item == best)
    return best, name, " ".join(gram)


@dataclass
class _CodeIndex:
    """Windows of code tokens of the items' code texts, and how many each text has.

    A text of an item is copied when `CODE_SHARE` of its windows are in the record's code: a
    renamed copy shares nearly all, a solution that only uses the same idioms a few. Boilerplate
    here is a window that `COMMON_ITEMS` texts share.
    """

    windows: _GramIndex = field(default_factory=lambda: _GramIndex(CODE_NGRAM))
    owners: list[int] = field(default_factory=list)  # text number -> item number
    sizes: list[int] = field(default_factory=list)  # text number -> windows kept

    def add(self, tokens: list[str], item: int) -> None:
        if len(tokens) >= CODE_NGRAM:
            self.windows.add(tokens, len(self.owners))
            self.owners.append(item)

    def seal(self) -> None:
        self.windows.seal()
        counts = Counter(self.windows.grams.values())
        self.sizes = [counts[text] for text in range(len(self.owners))]

    def copied(self, fields: Sequence[tuple[str, list[str]]]) -> tuple[int, str, int, int] | None:
        """The item whose text the fields copy most, a field, the windows shared and its size."""
        shared: dict[int, set[int]] = {}
        where: dict[int, str] = {}
        for name, tokens in fields:
            for text, gram in self.windows.shared(tokens):
                shared.setdefault(text, set()).add(hash(gram))
                where.setdefault(text, name)
        copied = [
            text
            for text, grams in shared.items()
            if len(grams) >= max(CODE_SHARE * self.sizes[text], MIN_CODE_WINDOWS)
        ]
        if not copied:
            return None
        text = max(copied, key=lambda t: len(shared[t]))
        count, size = len(shared[text]), self.sizes[text]
        return self.owners[text], where[text], count, size


@dataclass
class _CallIndex:
    """Calls with literal arguments, each to every item that makes it; a call that
    `COMMON_ITEMS` items make is dropped (`seal`), and `sizes` counts each item's calls kept."""

    items: dict[str, list[int]] = field(default_factory=dict)
    sizes: Counter[int] = field(default_factory=Counter)
    words: dict[int, set[str]] = field(default_factory=dict)  # item -> its statement's words

    def add(self, calls: set[str], item: int, words: set[str]) -> None:
        for call in calls:
            self.items.setdefault(call, []).append(item)
        if calls:
            self.words[item] = words

    def seal(self) -> None:
        self.items = {c: items for c, items in self.items.items() if len(items) < COMMON_ITEMS}
        self.sizes = Counter(item for items in self.items.values() for item in items)

    def made(
        self, calls: set[str], least: int, most: int, words: set[str]
    ) -> tuple[int, int, str] | None:
        """The item whose calls are among `calls`, how many and one of them: at least `least`
        and either `most` or all the item's calls, a call with `LONG_ARGUMENTS` characters of
        arguments counting two. Of items with as many, the one whose statement shares most of
        `words` (MBPP has items with the same calls)."""
        known = [(call, self.items[call]) for call in sorted(calls) if call in self.items]
        made: Counter[int] = Counter()
        weight: Counter[int] = Counter()
        for call, items in known:
            made.update(items)
            weight.update({item: 1 + (_argument_chars(call) >= LONG_ARGUMENTS) for item in items})
        enough = [item for item in made if weight[item] >= max(least, min(most, self.sizes[item]))]
        if not enough:
            return None
        best = max(enough, key=lambda i: (made[i], len(words & self.words[i]), -i))
        return best, made[best], next(call for call, items in known if best in items)


# --- the decontaminator --------------------------------------------------------------------


@dataclass(frozen=True)
class _Text:
    """One field of a record to check, and the views it is checked in."""

    name: str
    text: str
    prose: bool = False
    code: bool = False
    statement: bool = False
    tests: bool = False  # mostly literals: with numbers masked only a shape is left
    solution: bool = False  # a reference: its own calls, not the item's tests or examples

    def prose_words(self) -> list[str]:
        return statement_words(self.text) if self.statement else words(self.text)


class Decontaminator:
    """Answers whether a problem, a row or a text copies one of the benchmark items.

    An item is matched with the n-gram length of its domain: `math_ngram` words for math,
    `ngram` for the others. Prose (statements, math solutions) is matched by words, code
    (solutions, tests, a statement that is Python) by code tokens.
    """

    def __init__(
        self, items: Iterable[BenchmarkItem], *, ngram: int = 13, math_ngram: int = 10
    ) -> None:
        self.items = list(items)
        self.ngram = ngram
        self.math_ngram = math_ngram
        # By length: plain and number-masked n-grams of the statements, and of math solutions.
        self._prose: dict[int, _GramIndex] = {}
        self._solutions: dict[int, _GramIndex] = {}
        self._code = _CodeIndex()
        self._code_masked = _CodeIndex()  # numbers as one placeholder
        self._statements: dict[int, list[tuple[int, tuple[str, ...]]]] = {}
        # Statements by their first PREFIX words: of MIN_WORDS words or more as written and
        # with numbers masked, and shorter ones.
        self._starts: dict[int, list[tuple[int, tuple[str, ...]]]] = {}
        self._short_starts: dict[int, list[tuple[int, tuple[str, ...]]]] = {}
        self._masked_starts: dict[int, list[tuple[int, tuple[str, ...]]]] = {}
        self._told = _GramIndex(MIN_WORDS)  # windows of the items' statements
        self._told_sizes: dict[int, int] = {}
        self._calls = _CallIndex()  # `name(arguments)` -> items
        self._renamed_calls = _CallIndex()  # `@(arguments)` -> items
        for number, item in enumerate(self.items):
            self._add(number, item)
        indexes = (*self._prose.values(), *self._solutions.values(), self._code, self._code_masked)
        for index in (*indexes, self._told, self._calls, self._renamed_calls):
            index.seal()

    def __getstate__(self) -> dict[str, Any]:
        """Only the items travel (to a Ray worker): n-grams are keyed by `hash`, which differs
        from one process to the next, so the receiver builds its own index."""
        return {"items": self.items, "ngram": self.ngram, "math_ngram": self.math_ngram}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["items"], ngram=state["ngram"], math_ngram=state["math_ngram"])

    @classmethod
    def from_paths(
        cls, against: Sequence[Path], *, ngram: int = 13, math_ngram: int = 10
    ) -> Decontaminator:
        """Built from benchmark files or folders; none given: the default folder."""
        items = load_benchmarks(benchmark_paths(against))
        return cls(items, ngram=ngram, math_ngram=math_ngram)

    def _add(self, number: int, item: BenchmarkItem) -> None:
        n = self.math_ngram if item.domain == "math" else self.ngram
        statements = self._prose.setdefault(n, _GramIndex(n))
        solutions = self._solutions.setdefault(n, _GramIndex(n))
        indexed = [(statements, statement_words(item.problem))]
        if item.domain == "math":
            indexed += [(solutions, words(item.solution)), (solutions, words(item.tests))]
        for index, tokens in indexed:
            index.add(tokens, number, MIN_GRAM_WORDS)
            index.add(mask_numbers(tokens), number, MIN_WORDS)
        if item.domain == "code":
            programs = [item.solution, item.problem if looks_like_code(item.problem) else ""]
            for text in programs:
                tokens = code_tokens(text)
                self._code.add(tokens, number)
                self._code_masked.add(_mask_code_numbers(tokens), number)
            self._code.add(code_tokens(item.tests), number)
        if statement := tuple(statement_words(item.problem)):
            key = hash(tuple(mask_numbers(statement)))
            self._statements.setdefault(key, []).append((number, statement))
        # Looked for inside longer texts: a prose statement, or a program's docstring told.
        told = _docstring_prose(item.problem) if looks_like_code(item.problem) else item.problem
        if len(statement := tuple(statement_words(told))) >= MIN_WORDS:
            self._told.add(statement, number, MIN_GRAM_WORDS)
            self._told_sizes[number] = len(statement)
        if len(statement) >= PREFIX:
            starts = self._starts if len(statement) >= MIN_WORDS else self._short_starts
            starts.setdefault(hash(statement[:PREFIX]), []).append((number, statement))
            masked = tuple(mask_numbers(statement))
            if sum(t != NUMBER for t in masked) >= MIN_WORDS:
                start = hash(masked[:PREFIX])
                self._masked_starts.setdefault(start, []).append((number, masked))
        calls = literal_calls(item.tests) | literal_calls(item.problem)
        said = set(statement_words(told))
        self._calls.add(calls, number, said)
        self._renamed_calls.add({r for c in calls if (r := _renamed(c))}, number, said)

    def _check_fields(self, texts: Iterable[_Text]) -> Hit | None:
        """Whether the fields of one record copy an item, the most literal evidence first."""
        texts = [t for t in texts if t.text.strip()]
        words_of = {t.name: t.prose_words() for t in texts if t.prose}
        prose = list(words_of.items())
        if hit := self._check_prose(prose, "ngram"):
            return hit
        code = [(t, code_tokens(t.text)) for t in texts if t.code]
        if hit := self._check_code(self._code, [(t.name, c) for t, c in code], "code"):
            return hit
        if hit := self._check_calls(texts, {w for _, tokens in prose for w in tokens}):
            return hit
        for t in texts:
            if t.statement and (hit := self._check_statement(t, words_of[t.name])):
                return hit
        masked = [(name, mask_numbers(tokens)) for name, tokens in prose]
        changed = [m for m, (_, tokens) in zip(masked, prose, strict=True) if m[1] != tokens]
        if hit := self._check_prose(changed, "ngram_numbers"):
            return hit
        masked = [(t.name, _mask_code_numbers(c)) for t, c in code if not t.tests]
        return self._check_code(self._code_masked, masked, "code_numbers")

    def _check_prose(self, fields: list[tuple[str, list[str]]], rule: Rule) -> Hit | None:
        views = [(index, 1, "") for index in self._prose.values()]
        views += [(index, SOLUTION_GRAMS, " of its solution") for index in self._solutions.values()]
        for index, least, whose in views:
            if found := _most_shared(index, fields, least):
                item, name, gram = found
                return self._hit(item, rule, f"{index.n}-gram{whose} in {name}: {gram}")
        return None

    def _check_code(
        self, index: _CodeIndex, fields: list[tuple[str, list[str]]], rule: Rule
    ) -> Hit | None:
        if found := index.copied(fields):
            item, name, count, size = found
            detail = f"{name} holds {count} of the {size} code windows of the item's code"
            return self._hit(item, rule, detail)
        return None

    def _check_calls(self, texts: Iterable[_Text], words: set[str]) -> Hit | None:
        calls = set().union(
            *(literal_calls(t.text) for t in texts if not t.solution and "(" in t.text)
        )
        if not calls:
            return None
        renamed = {r for c in calls if (r := _renamed(c))}
        views = (
            (self._calls, calls, 1, CALLS, ""),
            (self._renamed_calls, renamed, 2, 3, " renamed"),
        )
        for index, keys, least, most, how in views:
            if found := index.made(keys, least, most, words):
                item, made, call = found
                detail = (
                    f"makes {made} of the item's {index.sizes[item]} calls with literal "
                    f"arguments{how}: {call}"
                )
                return self._hit(item, "calls", detail)
        return None

    def _check_statement(self, text: _Text, whole: list[str]) -> Hit | None:
        paragraphs = _PARAGRAPH_BREAK.split(text.text)
        masked_whole = mask_numbers(whole)
        statements = [(tuple(whole), masked_whole)]
        if len(paragraphs) > 1:  # a row's prompt: the template's instruction, then the statement
            for paragraph in paragraphs:
                words_of = statement_words(paragraph)
                statements.append((tuple(words_of), mask_numbers(words_of)))
        for statement, masked in statements:
            for item, theirs in self._statements.get(hash(tuple(masked)), ()):
                if statement == theirs:
                    return self._hit(item, "statement", f"{text.name} is the item's statement")
                if sum(t != NUMBER for t in masked) >= MIN_WORDS:
                    detail = f"{text.name} is the item's statement up to numbers"
                    return self._hit(item, "statement", detail)
        starts = set(_hashes(whole, PREFIX))
        if found := _contained(whole, self._starts, starts):
            return self._hit(found, "statement", f"{text.name} holds the item's statement")
        if found := _contained(masked_whole, self._masked_starts):
            detail = f"{text.name} holds the item's statement up to numbers"
            return self._hit(found, "statement", detail)
        if found := self._covered(whole):
            item, covered = found
            detail = (
                f"{text.name} holds {covered} of the {self._told_sizes[item]} words of the item's "
                f"statement in runs of at least {MIN_WORDS}"
            )
            return self._hit(item, "statement", detail)
        if _contained(whole, self._short_starts, starts) is None:
            return None  # no short statement anywhere: no sentence to look at
        for segment in _SEGMENT.split(text.text):
            if found := _contained(statement_words(segment), self._short_starts, slack=SLACK):
                detail = f"a sentence of {text.name} is the item's short statement"
                return self._hit(found, "statement", detail)
        return None

    def _covered(self, tokens: Sequence[str]) -> tuple[int, int] | None:
        """The item `COVER` of whose statement `tokens` hold in runs of `MIN_WORDS` words or more
        (a copy with a word or two changed: a renamed function, a dropped article), and how
        many of its words."""
        positions: dict[int, set[int]] = {}
        n = self._told.n
        if self._told.grams.keys().isdisjoint(_hashes(tokens, n)):
            return None
        for at, key in enumerate(_hashes(tokens, n)):
            if (item := self._told.grams.get(key)) is not None:
                positions.setdefault(item, set()).update(range(at, at + n))
        for item, held in positions.items():
            if len(held) >= COVER * self._told_sizes[item]:
                return item, len(held)
        return None

    def _hit(self, number: int, rule: Rule, detail: str) -> Hit:
        item = self.items[number]
        return Hit(item.benchmark, item.item_id, rule, detail[:300])

    def check_text(self, text: str, domain: str) -> Hit | None:
        """Whether a statement, a solution or both in one text copy a benchmark item."""
        code = domain == "code"
        return self._check_fields([_Text("text", text, prose=True, code=code, statement=True)])

    def check_problem(self, problem: Problem) -> Hit | None:
        """Whether a problem's statement, reference or tests copy a benchmark item."""
        statement = problem.problem
        code = problem.domain == "code"
        texts = [
            _Text(
                "statement", statement, prose=True, code=looks_like_code(statement), statement=True
            ),
            _Text("reference", problem.reference or "", prose=not code, code=code, solution=True),
        ]
        if problem.tests is not None:
            texts.append(_tests_text(problem.tests))
        return self._check_fields(texts)

    def check_row(self, row: Attempt | Mapping[str, Any]) -> Hit | None:
        """Whether an exported row (or an Attempt) copies a benchmark item in what it holds.

        The prose of the answer is matched as prose, its fenced code blocks as code; an answer
        to a code problem without fences is matched both ways.
        """
        data = row.sft_row() if isinstance(row, Attempt) else row
        messages = {m["role"]: m["content"] for m in data.get("messages") or ()}
        code = data.get("domain") == "code"
        user, answer = messages.get("user", ""), messages.get("assistant", "")
        blocks = _FENCE.findall(answer)
        texts = [
            _Text("user", user, prose=True, code=looks_like_code(user), statement=True),
            _Text("assistant", _FENCE.sub("\n", answer), prose=True, code=code and not blocks),
            *(_Text("assistant code", block, code=True) for block in blocks),
            _Text(
                "reference", data.get("reference") or "", prose=not code, code=code, solution=True
            ),
        ]
        if tests := data.get("tests"):  # JSON text in an exported row
            spec = (
                _TEST_SPEC.validate_json if isinstance(tests, str) else _TEST_SPEC.validate_python
            )
            texts.append(_tests_text(spec(tests)))
        return self._check_fields(texts)


_TEST_SPEC: TypeAdapter[Any] = TypeAdapter(TestSpec)


def _contained(
    tokens: Sequence[str],
    starts: Mapping[int, list[tuple[int, tuple[str, ...]]]],
    prefixes: set[int] | None = None,
    *,
    slack: int | None = None,
) -> int | None:
    """The item whose statement (one of `starts`) `tokens` hold, with at most `slack` words
    around it when given; `prefixes`, the hashes of the PREFIX-grams of `tokens` if known."""
    if starts.keys().isdisjoint(prefixes if prefixes is not None else _hashes(tokens, PREFIX)):
        return None  # the usual answer, fast
    for at, key in enumerate(_hashes(tokens, PREFIX)):
        for item, theirs in starts.get(key, ()):
            if slack is not None and len(tokens) > len(theirs) + slack:
                continue
            if tuple(tokens[at : at + len(theirs)]) == theirs:
                return item
    return None


def _tests_text(tests: Any) -> _Text:
    """Tests as Python where they are (calls become asserts), else their inputs and outputs."""
    match tests:
        case AssertTests() | PytestTests():
            return _Text("tests", tests.code, code=True, tests=True)
        case CallTests():
            calls = (
                f"assert {tests.entry_point}({_arguments(case.args, case.kwargs)}) == "
                f"{case.expected!r}"
                for case in tests.cases
            )
            return _Text("tests", "\n".join(calls), code=True, tests=True)
        case StdioTests():
            cases = "\n".join(f"{c.input}\n{c.output}" for c in tests.cases)
            return _Text("tests", cases, prose=True)
    raise TypeError(f"not a test spec: {type(tests).__name__}")


def _arguments(args: list[Any], kwargs: dict[str, Any]) -> str:
    return ", ".join([*map(repr, args), *(f"{k}={v!r}" for k, v in kwargs.items())])


# --- files ---------------------------------------------------------------------------------


@dataclass
class Counts:
    """What `decontaminate_file` did: records read, kept, removed (by benchmark) and bad."""

    read: int = 0
    kept: int = 0
    removed: int = 0
    bad: int = 0
    by_benchmark: dict[str, int] = field(default_factory=dict)


def decontaminate_file(
    in_path: Path,
    out: Path,
    log: Path,
    against: Sequence[Path],
    *,
    ngram: int = 13,
    math_ngram: int = 10,
) -> Counts:
    """Copy the JSON Lines (.gz too) of problems or exported rows in `in_path` that copy no item.

    Survivors go to `out` as they were; each removal is a line of `log` (the record's id and
    line, the benchmark, item, rule and detail), and so is each line that is neither a problem
    nor a row, which is skipped and also reported on stderr.
    """
    checker = Decontaminator.from_paths(against, ngram=ngram, math_ngram=math_ngram)
    counts = Counts()
    opener = gzip.open if in_path.suffix == ".gz" else open
    with (
        opener(in_path, "rb") as source,
        out.open("wb") as kept,
        log.open("w", encoding="utf-8") as removals,
    ):
        for number, raw in enumerate(source, 1):
            if not raw.strip():
                continue
            counts.read += 1
            try:
                record_id, hit = _check_line(checker, number, raw)
            except RecordError as err:
                counts.bad += 1
                removals.write(json.dumps({"line": number, "error": str(err)}) + "\n")
                print(f"{in_path}: skipped {err}", file=sys.stderr)
                continue
            if hit is None:
                counts.kept += 1
                kept.write(raw if raw.endswith(b"\n") else raw + b"\n")
                continue
            counts.removed += 1
            counts.by_benchmark[hit.benchmark] = counts.by_benchmark.get(hit.benchmark, 0) + 1
            entry = {"id": record_id, "line": number, **asdict(hit)}
            removals.write(json.dumps(entry, ensure_ascii=False) + "\n")
    return counts


def _check_line(checker: Decontaminator, number: int, raw: bytes) -> tuple[Any, Hit | None]:
    """The record's id and its hit; a RecordError for a line that is neither problem nor row."""
    data = decode_json(number, raw, "Problem or row")
    if isinstance(data, dict) and "messages" in data:
        return data.get("id"), _check_row_data(checker, data, number)
    if isinstance(data, dict) and "problem" in data:
        problem = parse_record(Problem, data, line=number)
        return problem.id, checker.check_problem(problem)
    raise RecordError(
        f"line {number} is neither a problem (field 'problem') nor a row (field 'messages')",
        record_id=None,
        line=number,
    )


def _check_row_data(checker: Decontaminator, data: dict[str, Any], number: int) -> Hit | None:
    messages = data["messages"]
    if not isinstance(messages, list) or not all(
        isinstance(m, dict) and isinstance(m.get("role"), str) and isinstance(m.get("content"), str)
        for m in messages
    ):
        raise RecordError(
            f"line {number}: field 'messages' must be a list of {{role, content}} objects",
            record_id=None,
            line=number,
        )
    try:
        return checker.check_row(data)
    except ValidationError as err:
        raise RecordError(
            f"line {number}: field 'tests' is not a test spec", record_id=None, line=number
        ) from err
