"""Reading a normalised answer as a value: a SymPy object, a list or tuple of values, or text.

Structure is read here, before SymPy sees the string, because it decides how values compare:
top-level commas, semicolons and "and"/"or" make an unordered list of answers; parentheses with
commas make an ordered tuple; `name = value` is an assignment whose value is compared; a chain
`a = b = c` means its last member; `x \\approx 0.3` means the exact part when there is one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

import sympy
from latex2sympy2_extended.latex2sympy2 import ConversionConfig, NormalizationConfig, latex2sympy

from verified_factory.verifiers.math.normalize import normalize

_CONVERSION = ConversionConfig(
    interpret_as_mixed_fractions=True,
    interpret_simple_eq_as_assignment=False,
    interpret_contains_as_eq=True,
    lowercase_symbols=False,
)
_NO_NORMALIZATION = NormalizationConfig(
    basic_latex=True,
    units=False,
    malformed_operators=False,
    nits=False,
    boxed="none",
    equations=False,
)
MAX_ANSWER_CHARS = 1000
MAX_DIGITS = 100_000


class AnswerError(ValueError):
    """The answer cannot be read as a value; the message says why."""


@dataclass(frozen=True)
class Text:
    """A word answer (`odd`, `Evelyn`): compared without case."""

    text: str


@dataclass(frozen=True)
class Items:
    """Several answers: `ordered` for a tuple; `names` when each was assigned (`p=5, q=2`)."""

    items: tuple[Value, ...]
    ordered: bool
    names: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Sym:
    """One SymPy value; `decimals` counts the digits of a decimal literal (it may be rounded)."""

    expr: sympy.Basic
    percent: bool = False
    decimals: int | None = None
    assigned_to: str | None = field(default=None, compare=False)


Value = Text | Items | Sym

_OPENERS = {"(": ")", "[": "]", "{": "}"}
_CLOSERS = {")", "]", "}"}
_PLAIN_NUMBER = re.compile(r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)$")
_PLAIN_FRACTION = re.compile(r"^([+-]?\d+)\s*/\s*(\d+)$")
_MIXED_NUMBER = re.compile(r"^([+-]?\d+)\s+(\d+)\s*/\s*(\d+)$")
_CLOCK = re.compile(r"^\d{1,2}:\d{2}$")
_WORDS = re.compile(r"^[A-Za-z]{2,}(?:[ '-][A-Za-z]+)*$")  # `x y - x` is algebra
_NAME = re.compile(
    r"^(?:\\?[A-Za-z]+(?:_\{?[\w,]+\}?)?'*(?:\([^()]*\))?|\|[A-Za-z]+\||\\angle\s*[A-Za-z]+"
    r"|\\frac\{[A-Za-z]+\}\{[A-Za-z]+\})$"
)


def split_top(text: str, separators: re.Pattern[str]) -> list[str]:
    """Split at `separators` that stand outside every bracket pair."""
    parts, depth, start, i = [], 0, 0, 0
    while i < len(text):
        char = text[i]
        if char == "\\" and i + 1 < len(text) and text[i + 1] in "{}":
            depth += 1 if text[i + 1] == "{" else -1
            i += 2
            continue
        if char in _OPENERS:
            depth += 1
        elif char in _CLOSERS:
            depth = max(0, depth - 1)
        elif depth == 0:
            match = separators.match(text, i)
            if match and match.end() > i:
                parts.append(text[start:i])
                start = i = match.end()
                continue
        i += 1
    parts.append(text[start:])
    return [part.strip() for part in parts]


_GROUP_SEPARATORS = re.compile(r"\s*;\s*")
_LIST_SEPARATORS = re.compile(r"\s*(?:,|\band\b|\bor\b|\\text\{\s*(?:and|or)\s*\})\s*")
_DECIMAL_LITERAL = re.compile(r"(?<![\d.])\d*\.(\d+)")
_COMMA = re.compile(r"\s*,\s*")
_TUPLE_SEPARATORS = re.compile(r"\s*[,;]\s*")
_EQUALS = re.compile(r"(?<![<>!\\])=(?!=)")
_APPROX = re.compile(r"\\approx|≈")
_ELEMENT_OF = re.compile(r"\\in\b")


def is_name(text: str) -> bool:
    """A left-hand side that names the answer: `x`, `f(x)`, `a_{37}`, `|AB|`, `(p,q)`, `A:B`."""
    text = text.strip()
    if text.startswith("(") and text.endswith(")"):
        return all(is_name(part) for part in text[1:-1].split(","))
    return all(_NAME.match(part.strip()) for part in text.split(":"))


def parse_answer(answer: str) -> Value:
    """The value of an extracted answer (LaTeX or plain text)."""
    if len(answer) > MAX_ANSWER_CHARS:
        raise AnswerError(f"the answer is longer than {MAX_ANSWER_CHARS} characters")
    normalized = normalize(answer)
    if not normalized.text:
        raise AnswerError("the answer is empty")
    try:
        return _parse_cached(normalized.text, normalized.percent)
    except AnswerError:
        raise
    except Exception as err:  # SymPy raises anything from RecursionError to TypeError
        raise AnswerError(f"cannot read {normalized.text!r}: {type(err).__name__}") from err


@lru_cache(maxsize=4096)
def _parse_cached(text: str, percent: bool) -> Value:
    value = _parse_list(text)
    if percent:
        value = _with_percent(value)
    return value


def _with_percent(value: Value) -> Value:
    if isinstance(value, Sym):
        return Sym(value.expr, True, value.decimals, value.assigned_to)
    return value


def _strip_outer_braces(text: str) -> str:
    """`{1,3}` is a TeX group, not a set: only `\\{1,3\\}` is a set."""
    while text.startswith("{") and text.endswith("}") and _closes_at_end(text):
        text = text[1:-1].strip()
    return text


def _parse_list(text: str) -> Value:
    """Groups split by `;`, each a list split by `,`/"and"/"or"; one part is a single value."""
    text = _strip_outer_braces(text)
    if text.startswith("\\{") and text.endswith("\\}"):
        text = text[2:-2]
    groups = [g for g in split_top(text, _GROUP_SEPARATORS) if g]
    if len(groups) > 1:
        return _unordered([_parse_group(g) for g in groups])
    return _parse_group(text)


def _parse_group(text: str) -> Value:
    parts = [p for p in split_top(text, _LIST_SEPARATORS) if p]
    if len(parts) == 1:
        return _parse_single(parts[0])
    values = [_parse_single(part) for part in parts]
    names = [v.assigned_to if isinstance(v, Sym) else None for v in values]
    if all(names) and len(set(names)) == len(names):
        return Items(tuple(values), ordered=True, names=tuple(n for n in names if n))
    return _unordered(values)


def _unordered(values: list[Value]) -> Items:
    """An answer list: nested lists flattened, repeats dropped (answer lists are sets)."""
    flat: list[Value] = []
    for value in values:
        members = value.items if isinstance(value, Items) and not value.ordered else (value,)
        for member in members:
            if member not in flat:
                flat.append(member)
    return Items(tuple(flat), ordered=False)


def _parse_single(text: str) -> Value:
    if text.startswith("(") and _closes_at_end(text) and len(split_top(text[1:-1], _COMMA)) == 1:
        text = text[1:-1].strip()  # redundant grouping: `(35 + 70 = 105)`
    approx = split_top(text, _APPROX)
    if len(approx) > 1:
        text = approx[1] if is_name(approx[0]) else approx[0]
    members = split_top(text, _EQUALS)
    if len(members) > 2:
        return _parse_value(members[-1])
    if len(members) == 2:
        left, right = members
        if is_name(left):
            return _assigned(_parse_value(right), left)
        return _parse_value(text)
    element = split_top(text, _ELEMENT_OF)
    if len(element) == 2 and is_name(element[0]):
        return _parse_value(element[1])
    return _parse_value(text)


def _assigned(value: Value, name: str) -> Value:
    if isinstance(value, Sym):
        return Sym(value.expr, value.percent, value.decimals, re.sub(r"\s+", "", name))
    return value


def _parse_value(text: str) -> Value:
    text = text.strip()
    if not text:
        raise AnswerError("an empty part")
    number = _plain_number(text)
    if number is not None:
        return number
    if _CLOCK.match(text) or _WORDS.match(text) or text == "\\ldots":
        return Text(text.casefold())
    if text.startswith("(") and _closes_at_end(text):
        inner = split_top(text[1:-1], _TUPLE_SEPARATORS)
        if len(inner) > 1:
            return Items(tuple(_parse_single(p) for p in inner), ordered=True)
    decimals = [len(m.group(1)) for m in _DECIMAL_LITERAL.finditer(text)]
    return _from_sympy(_latex_to_sympy(text), min(decimals) if decimals else None)


def _closes_at_end(text: str) -> bool:
    """True when the bracket at the start is matched by the one at the end, not earlier."""
    if not text or text[0] not in "([{" or text[-1] not in ")]}":
        return False
    depth = 0
    for i, char in enumerate(text):
        depth += char in "([{"
        depth -= char in ")]}"
        if depth == 0 and i < len(text) - 1:
            return False
    return True


def _plain_number(text: str) -> Sym | None:
    if _PLAIN_NUMBER.match(text):
        if "." in text:
            decimals = len(text.split(".", 1)[1])
            return Sym(sympy.Rational(text.lstrip("+")), decimals=decimals)
        return Sym(sympy.Integer(text))
    fraction = _PLAIN_FRACTION.match(text)
    if fraction:
        if int(fraction.group(2)) == 0:
            raise AnswerError("division by zero")
        return Sym(sympy.Rational(int(fraction.group(1)), int(fraction.group(2))))
    mixed = _MIXED_NUMBER.match(text)
    if mixed and int(mixed.group(3)) != 0:
        whole, num, den = (int(g) for g in mixed.groups())
        sign = -1 if whole < 0 else 1
        return Sym(whole + sign * sympy.Rational(num, den))
    return None


def _latex_to_sympy(text: str) -> sympy.Basic:
    text = re.sub(r"\\begin\{array\}\{[^}]*\}", r"\\begin{bmatrix}", text)
    text = text.replace("\\end{array}", "\\end{bmatrix}")
    try:
        if text.count("^") > 1:  # a power tower may be too large to build: look first
            with sympy.evaluate(False):
                unevaluated = _convert(text)
            _refuse_huge_powers(unevaluated)
        return _convert(text)
    except AnswerError:
        raise
    except Exception as err:
        raise AnswerError(f"cannot read {text!r}: {str(err).splitlines()[0][:80]}") from err


def _convert(text: str) -> sympy.Basic:
    return latex2sympy(text, normalization_config=_NO_NORMALIZATION, conversion_config=_CONVERSION)


def _refuse_huge_powers(expr: sympy.Basic) -> None:
    """Refuse a numeric power with more than MAX_DIGITS digits before SymPy tries to build it."""
    for node in sympy.preorder_traversal(expr):
        if isinstance(node, sympy.Pow) and node.base.is_number and node.exp.is_number:
            # Floats of arbitrary exponent range: log10(10^(10^10)) is 1e10, not an overflow.
            digits = sympy.N(abs(node.exp) * abs(sympy.log(abs(node.base), 10)), 15)
            if not digits.is_finite or digits > MAX_DIGITS:
                raise AnswerError(f"a power with more than {MAX_DIGITS:,} digits")


def _from_sympy(expr: sympy.Basic, decimals: int | None = None) -> Value:
    """Lists and tuples become Items; decimal literals become exact rationals."""
    if isinstance(expr, sympy.FiniteSet):
        return _unordered([_from_sympy(e, decimals) for e in expr.args])
    if isinstance(expr, sympy.Tuple):
        return Items(tuple(_from_sympy(e, decimals) for e in expr.args), ordered=True)
    if isinstance(expr, sympy.MatrixExpr) and not isinstance(expr, sympy.MatrixBase):
        expr = expr.doit()
    if expr.has(sympy.zoo, sympy.nan):
        raise AnswerError("the answer is undefined (division by zero)")
    floats = expr.atoms(sympy.Float)
    if floats:
        expr = expr.xreplace({f: sympy.Rational(str(f)) for f in floats})
        return Sym(expr, decimals=decimals)
    return Sym(expr)
