"""Distinct rationales: responses that reach the answer by the same path share a key.

- math: the results the reasoning states, in order: the right-hand side of every relation (`=`,
  `<`, `\\le`, ...) as a compact expression, and every other number that is not a given of the
  problem. Numbers become reduced fractions (`0.5`, `1/2` and `\\frac{1}{2}` are one value),
  single-letter variables are renamed in order of appearance, and a result repeated right after
  itself counts once. Wording, layout (numbered steps, bullets) and the names of variables leave
  the key alone; another intermediate result changes it.
- code: the syntax tree of the extracted program: `ast.dump` of every statement, in source order,
  without docstrings and annotations, the names the program binds (variables, arguments,
  functions, classes) renamed in order of appearance. Formatting, comments and renamings leave
  the key alone.
- any other domain, or a response the above finds nothing in: its words.

`choose_distinct` keeps one attempt per key; when there are more keys than it may keep, it keeps
the most different ones (distance: 1 - Jaccard of the keys' token sets).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator, Sequence
from fractions import Fraction

from verified_factory.rows import Attempt
from verified_factory.verifiers.code.extract import extract_program
from verified_factory.verifiers.math.extract import NUMBER, boxes
from verified_factory.verifiers.math.normalize import normalize

RationaleKey = tuple[str, ...]

_LIST_MARKER = re.compile(
    r"^[ \t]*(?:step[ \t]*\d+[ \t]*[:.)]|\d+[.)]|[-*•])[ \t]+", re.IGNORECASE | re.MULTILINE
)
_MATH_DELIMITER = re.compile(r"\$\$?|\\[\[\]()]")
_CLAUSE_END = re.compile(r"\n|(?<=[.!?])\s|;|,\s+(?=[A-Za-z]{2,})")
_RELATION = re.compile(
    r"\\(?:approx|equiv|neq?|[lg]eq?|[lg]t)(?![A-Za-z])|<=|>=|!=|(?<![<>!=])=(?!=)|[<>≤≥≈≠]"
)
_FRACTION = re.compile(r"\\[dt]?frac\s*\{\s*(-?\d+)\s*\}\s*\{\s*(-?\d+)\s*\}")
_TEXT_MACRO = re.compile(r"\\(?:text\w*|mbox|mathrm|operatorname)\s*\{([^{}]*)\}")
_PROSE_WORD = re.compile(r"(?<![\\A-Za-z])[A-Za-z]{2,}")
_LETTER = re.compile(r"(?<![\\A-Za-z])[A-Za-z](?![A-Za-z])")
_WORD = re.compile(r"\w+")


def rationale_key(attempt: Attempt) -> RationaleKey:
    """The attempt's reasoning path; equal keys are one rationale."""
    problem, response = attempt.messages[0].content, attempt.rationale
    if attempt.domain == "math":
        key = math_key(response, problem)
    elif attempt.domain == "code":
        key = code_key(response)
    else:
        key = ()
    return key or tuple(_WORD.findall(response.lower()))


def math_key(response: str, problem: str = "") -> RationaleKey:
    """The results a math response states, in order (see the module's docstring).

    Numbers of the `problem` are givens, not results: restating them is wording, not a step.
    Right-hand sides always count, givens or not.
    """
    givens = set(_numbers(problem))
    letters: dict[str, str] = {}
    key: list[str] = []
    for clause in _clauses(response):
        left, *rights = _RELATION.split(clause)
        results = [n for n in _numbers(left) if n not in givens]
        for right in rights:
            result, rest = _result(right, letters)
            results += [result] if result else []
            results += [n for n in _numbers(rest) if n not in givens]
        for result in results:
            if not key or result != key[-1]:
                key.append(result)
    return tuple(key)


def _clauses(response: str) -> list[str]:
    """The response cut at sentence and line ends and math delimiters, list markers dropped,
    boxes and text macros opened."""
    text = response
    for content, start, end in reversed(boxes(text)):
        text = f"{text[:start]} {content} {text[end:]}"
    text = _TEXT_MACRO.sub(r" \1 ", text)
    text = _MATH_DELIMITER.sub("\n", _LIST_MARKER.sub("", text))
    return [c for c in _CLAUSE_END.split(text) if c.strip()]


def _numbers(text: str) -> Iterator[str]:
    for match in NUMBER.finditer(_FRACTION.sub(r"\1/\2", text)):
        value = _value(match.group(0))
        if value is not None:
            yield value


def _result(right: str, letters: dict[str, str]) -> tuple[str | None, str]:
    """A right-hand side as a compact expression, and the prose that follows it."""
    prose = _PROSE_WORD.search(right)
    cut = prose.start() if prose else len(right)
    text = re.sub(r"\s+", "", normalize(right[:cut]).text).rstrip(",.")
    text = _FRACTION.sub(r"\1/\2", text)
    if not text:
        return None, right[cut:]
    value = _value(text)
    if value is None:
        value = _LETTER.sub(lambda m: letters.setdefault(m.group(0), f"#{len(letters)}"), text)
    return value, right[cut:]


def _value(number: str) -> str | None:
    """`0.5`, `1/2`, `2/4` → `1/2`; `1,000` → `1000`; None when not a number."""
    try:
        return str(Fraction(number.replace(",", "")))
    except (ValueError, ZeroDivisionError):
        return None


def code_key(response: str) -> RationaleKey:
    """The canonical syntax tree of the response's program; empty when it has none that parses."""
    program = extract_program(response)
    if program is None:
        return ()
    try:
        tree = ast.parse(program)
    except (SyntaxError, ValueError):
        return ()
    _strip_docs_and_annotations(tree)
    _rename_bound(tree)
    return tuple(ast.dump(node) for node in _in_order(tree) if isinstance(node, ast.stmt))


def _strip_docs_and_annotations(tree: ast.AST) -> None:
    """Drop bare string statements (docstrings and their like) and type annotations."""
    for node in ast.walk(tree):
        for field in ("body", "orelse", "finalbody"):
            statements = getattr(node, field, None)
            if isinstance(statements, list):
                setattr(node, field, [s for s in statements if not _is_bare_string(s)])
        if isinstance(node, ast.arg):
            node.annotation = None
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            node.returns = None


def _is_bare_string(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Expr)
        and isinstance(node.value, ast.Constant)
        and isinstance(node.value.value, str)
    )


_NAME_FIELD: dict[type[ast.AST], str] = {
    ast.Name: "id",
    ast.arg: "arg",
    ast.FunctionDef: "name",
    ast.AsyncFunctionDef: "name",
    ast.ClassDef: "name",
    ast.ExceptHandler: "name",
    ast.MatchAs: "name",
    ast.MatchStar: "name",
    ast.MatchMapping: "rest",
}
"""Where a node holds a name it binds (a `Name` binds it only when not loaded)."""


def _rename_bound(tree: ast.AST) -> None:
    """Rename every name the program binds to `_0`, `_1`, ... in order of appearance.

    Names only read (builtins, imported modules, attributes) are left alone: `sum(...)` and
    `max(...)` are different programs, `total` and `acc` are not.
    """
    bound = {name for node in _in_order(tree) if (name := _bound_name(node))}
    renamed: dict[str, str] = {}

    def canonical(name: str) -> str:
        return renamed.setdefault(name, f"_{len(renamed)}") if name in bound else name

    for node in _in_order(tree):
        field = _NAME_FIELD.get(type(node))
        if field is not None and getattr(node, field) is not None:
            setattr(node, field, canonical(getattr(node, field)))
        elif isinstance(node, ast.Global | ast.Nonlocal):
            node.names = [canonical(name) for name in node.names]


def _bound_name(node: ast.AST) -> str | None:
    field = _NAME_FIELD.get(type(node))
    if field is None or (isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load)):
        return None
    return getattr(node, field)


def _in_order(node: ast.AST) -> Iterator[ast.AST]:
    """`node` and every node under it, in source order (each before the ones it holds)."""
    yield node
    for child in ast.iter_child_nodes(node):
        yield from _in_order(child)


def choose_distinct(attempts: list[Attempt], keep: int) -> set[str]:
    """The ids of up to `keep` accepted attempts with distinct rationale keys.

    Unhinted attempts come before rationalized ones, each in the order given, and the first of a
    key represents it. Within each of the two groups, while more keys remain than places, the
    greedy max-min rule picks the key farthest from those already kept (the earliest on a tie),
    so the kept rationales are as different from each other as the greedy rule can make them.
    """
    accepted = [a for a in attempts if a.verdict.accepted]
    firsts: dict[RationaleKey, Attempt] = {}
    for attempt in sorted(accepted, key=lambda a: a.rationalized):  # stable: the order given
        firsts.setdefault(rationale_key(attempt), attempt)
    chosen: list[frozenset[str]] = []
    ids: set[str] = set()
    for hinted in (False, True):
        pool = [(frozenset(k), a.id) for k, a in firsts.items() if a.rationalized == hinted]
        while pool and len(ids) < keep:
            index = _farthest([tokens for tokens, _ in pool], chosen)
            tokens, attempt_id = pool.pop(index)
            chosen.append(tokens)
            ids.add(attempt_id)
    return ids


def _farthest(candidates: Sequence[frozenset[str]], chosen: Sequence[frozenset[str]]) -> int:
    """The index of the candidate whose nearest chosen key is farthest; the first on a tie."""
    if not chosen:
        return 0
    gaps = [min(_distance(c, k) for k in chosen) for c in candidates]
    return gaps.index(max(gaps))


def _distance(a: frozenset[str], b: frozenset[str]) -> float:
    union = len(a | b)
    return 1 - len(a & b) / union if union else 0.0
