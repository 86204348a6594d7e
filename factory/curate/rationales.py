"""Rationales worth training on: kept rows whose text would teach the wrong thing, and why.

A verified answer is not always a rationale. A rationalized (hinted) row that only restates the
hint, or says it was given one, teaches a student to produce answers without reasoning, or to
expect a hint; a code row whose module runs demo code (`print(f(3))  # 5`) teaches it to leave
side effects, often with a comment stating a wrong output that no test checked. Each rule here
names such a row; curation drops it with a removal record naming the rule (`removals.py`).

Rules for rationalized rows:
- `mentions_hint`: the text speaks of a hint, a reference or given solution, or being told.
- `no_reasoning`: fewer than `MIN_PROSE_WORDS` words outside code blocks and boxed answers.
- `copies_hint` (code): the program is the reference solution again, token for token but for
  at most `1 - COPY_SIMILARITY` of the tokens (names and literals count; comments and layout
  do not).
Rule for every code row judged by unit tests (`stdio` programs are meant to run):
- `runs_module_code`: the program does something when imported: a call, a loop, a print, any
  statement but imports, definitions, constant assignments and an `if __name__ == "__main__":`
  block. Such rows are dropped, not stripped: the text around the code often speaks of what the
  demo printed, and a row is the model's words or nothing.
"""

from __future__ import annotations

import ast
import io
import json
import re
import tokenize
from dataclasses import dataclass
from difflib import SequenceMatcher

from verified_factory.rows import Attempt
from verified_factory.verifiers.code.extract import extract_program
from verified_factory.verifiers.math.extract import boxes

MIN_PROSE_WORDS = 8
COPY_SIMILARITY = 0.9

_FENCED = re.compile(r"```.*?(?:```|$)", re.DOTALL)
_WORD = re.compile(r"[^\W\d_]{2,}")
_MENTIONS_HINT = re.compile(
    r"\bhints?\b|\b(?:reference|given|provided|supplied|shown)\s+(?:final\s+)?"
    r"(?:solution|answer|code)\b|\b(?:solution|answer|code)\s+(?:given|provided|shown)\s+"
    r"(?:above|earlier|before|in\s+the\s+(?:prompt|question|task))\b"
    r"|\b(?:was|were|been)\s+(?:told|given|shown)\s+(?:the|that|a)\b",
    re.IGNORECASE,
)
_HARMLESS_CALLS = frozenset(
    {"set", "frozenset", "dict", "list", "tuple", "range", "int", "float", "str", "bytes",
     "complex", "bool", "object", "namedtuple", "defaultdict", "Counter", "deque", "compile",
     "TypeVar", "NamedTuple", "getcontext", "setrecursionlimit", "lru_cache", "cache"}
)  # fmt: skip
"""Calls a module may make at import without doing anything a reader would call running."""


@dataclass(frozen=True)
class Flaw:
    rule: str
    detail: str


def rationale_flaw(attempt: Attempt) -> Flaw | None:
    """Why the kept `attempt` is not worth training on, or None."""
    if attempt.rationalized and (flaw := _hinted_flaw(attempt)):
        return flaw
    if attempt.domain == "code" and _tested_as_module(attempt.tests):
        program = extract_program(attempt.messages[1].content)
        if program is not None and (running := _module_code(program)):
            return Flaw("runs_module_code", f"the program runs code when imported: {running}")
    return None


def _hinted_flaw(attempt: Attempt) -> Flaw | None:
    text = attempt.rationale
    if match := _MENTIONS_HINT.search(text):
        return Flaw("mentions_hint", f"a hinted reply that says so: {match.group(0)!r}")
    words = len(_WORD.findall(_prose(text)))
    if words < MIN_PROSE_WORDS:
        return Flaw(
            "no_reasoning",
            f"a hinted reply with {words} word(s) outside its code and boxed answer "
            f"(at least {MIN_PROSE_WORDS} are asked)",
        )
    if attempt.domain == "code" and attempt.reference:
        program = extract_program(attempt.messages[1].content)
        if program is not None:
            similarity = _token_similarity(program, attempt.reference)
            if similarity >= COPY_SIMILARITY:
                return Flaw(
                    "copies_hint",
                    f"a hinted reply whose program is the reference again ({similarity:.0%} of "
                    f"tokens alike, at least {COPY_SIMILARITY:.0%} counts as a copy)",
                )
    return None


def _prose(text: str) -> str:
    """`text` without its fenced code and the contents of its boxes."""
    text = _FENCED.sub(" ", text)
    for _, start, end in reversed(boxes(text)):
        text = f"{text[:start]} {text[end:]}"
    return text


def _tokens(program: str) -> list[str]:
    """The program's tokens without comments and layout; its words when it does not tokenize."""
    try:
        return [
            token.string
            for token in tokenize.generate_tokens(io.StringIO(program).readline)
            if token.type
            not in (tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT,
                    tokenize.DEDENT, tokenize.ENDMARKER)
        ]  # fmt: skip
    except (tokenize.TokenError, SyntaxError):
        return program.split()


def _token_similarity(program: str, reference: str) -> float:
    return SequenceMatcher(None, _tokens(program), _tokens(reference), autojunk=False).ratio()


def _tested_as_module(tests: str | None) -> bool:
    """Whether the row's tests import the program (every format but `stdio`)."""
    if tests is None:
        return True
    try:
        return json.loads(tests).get("format") != "stdio"
    except (ValueError, AttributeError):
        return True


def _module_code(program: str) -> str | None:
    """The first top-level statement of `program` that does something at import, as source."""
    try:
        tree = ast.parse(program)
    except SyntaxError:
        return None
    for statement in tree.body:
        if not _inert(statement):
            return ast.get_source_segment(program, statement) or type(statement).__name__
    return None


def _inert(statement: ast.stmt) -> bool:
    if isinstance(
        statement,
        ast.Import | ast.ImportFrom | ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef,
    ):
        return True
    if isinstance(statement, ast.Pass):
        return True
    if isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant):
        return True  # a docstring, or `...`
    if isinstance(statement, ast.Assign | ast.AnnAssign | ast.AugAssign):
        return statement.value is None or _no_calls(statement.value)
    if isinstance(statement, ast.If) and _is_main_guard(statement.test):
        return True
    if isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Call):
        return _call_name(statement.value) == "setrecursionlimit"
    return False


def _no_calls(node: ast.AST) -> bool:
    return all(
        not isinstance(inner, ast.Call) or _call_name(inner) in _HARMLESS_CALLS
        for inner in ast.walk(node)
    )


def _call_name(call: ast.Call) -> str | None:
    function = call.func
    if isinstance(function, ast.Name):
        return function.id
    if isinstance(function, ast.Attribute):
        return function.attr
    return None


def _is_main_guard(test: ast.expr) -> bool:
    """`__name__ == "__main__"` either way round."""
    if not (isinstance(test, ast.Compare) and len(test.ops) == 1):
        return False
    if not isinstance(test.ops[0], ast.Eq):
        return False
    sides = [test.left, test.comparators[0]]
    names = [s.id for s in sides if isinstance(s, ast.Name)]
    constants = [s.value for s in sides if isinstance(s, ast.Constant)]
    return names == ["__name__"] and constants == ["__main__"]
