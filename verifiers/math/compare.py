"""The comparison cascade: is the predicted value the gold value?

Each function returns the name of the rule that showed equality, or None. Cheap rules come first:
exact rationals, then numbers with a relative tolerance (never an absolute rounding to zero: 1/2^99
is not 1/2^98), then a decimal that is the other value rounded to its own digits, then
structures (lists order-free, tuples ordered, intervals, relations by their solution sets,
equations up to a constant factor, matrices element by element), and last symbolic identity,
checked at random points before SymPy simplifies.
"""

from __future__ import annotations

import random

import sympy

from verified_factory.verifiers.math.parse import Items, Sym, Text, Value

RELATIVE_TOLERANCE = sympy.Rational(1, 10**9)
_POINTS = 4


def equal(gold: Value, pred: Value) -> str | None:
    """The rule by which `pred` equals `gold`, or None when it does not."""
    if isinstance(gold, Items) and len(gold.items) == 1:
        gold = gold.items[0]
    if isinstance(pred, Items) and len(pred.items) == 1:
        pred = pred.items[0]
    if isinstance(gold, Text) or isinstance(pred, Text):
        if isinstance(gold, Text) and isinstance(pred, Text) and gold.text == pred.text:
            return "text"
        return None
    if isinstance(gold, Items) or isinstance(pred, Items):
        return (
            _items_equal(_as_items(gold), _as_items(pred))
            or _pair_as_interval(gold, pred)
            or _decimal_comma(gold, pred)
        )
    return _sym_equal(gold, pred)


def _pair_as_interval(gold: Value, pred: Value) -> str | None:
    """`(0, 1)` read as an open interval, against a set or a relation such as `0 < x < 1`."""

    def interval(value: Value) -> Value:
        if isinstance(value, Items) and value.ordered and len(value.items) == 2:
            start, end = value.items
            # Only a pair that can be an interval: `(3, 1)` is a point, not the empty set.
            if isinstance(start, Sym) and isinstance(end, Sym) and bool(start.expr < end.expr):
                return Sym(sympy.Interval.open(start.expr, end.expr), decimals=end.decimals)
        return value

    g, p = interval(gold), interval(pred)
    if (g is gold and p is pred) or not (isinstance(g, Sym) and isinstance(p, Sym)):
        return None
    return _sym_equal(g, p)


def _decimal_comma(gold: Value, pred: Value) -> str | None:
    """`1000,99` is 1000.99 where the other side is a single decimal number."""

    def as_decimal(value: Value) -> Value:
        if isinstance(value, Items) and len(value.items) == 2 and not value.names:
            whole, fraction = value.items
            if all(isinstance(v, Sym) and v.expr.is_Integer and v.expr >= 0 for v in value.items):
                digits = f"{whole.expr}.{fraction.expr}"
                return Sym(sympy.Rational(digits), decimals=len(str(fraction.expr)))
        return value

    g, p = as_decimal(gold), as_decimal(pred)
    if (g is gold) == (p is pred) or not (isinstance(g, Sym) and isinstance(p, Sym)):
        return None
    return "decimal comma" if _sym_equal(g, p) else None


def _as_items(value: Value) -> Items | None:
    if isinstance(value, Items):
        return value
    if isinstance(value, Sym) and isinstance(value.expr, sympy.Interval):
        interval = value.expr
        if interval.left_open and interval.right_open:  # `(a, b)` may be a pair
            return Items((Sym(interval.start), Sym(interval.end)), ordered=True)
    return None


def _items_equal(gold: Items | None, pred: Items | None) -> str | None:
    if gold is None or pred is None or len(gold.items) != len(pred.items):
        return None
    if gold.names and pred.names:
        pairs = dict(zip(pred.names, pred.items, strict=True))
        if set(pairs) != set(gold.names):
            return None
        ok = all(equal(g, pairs[n]) for n, g in zip(gold.names, gold.items, strict=True))
        return "assignments" if ok else None
    if gold.ordered or pred.ordered:
        ok = all(equal(g, p) for g, p in zip(gold.items, pred.items, strict=True))
        return "tuple" if ok else None
    return "list (any order)" if _match_any_order(gold.items, pred.items) else None


def _match_any_order(gold: tuple[Value, ...], pred: tuple[Value, ...]) -> bool:
    remaining = list(pred)
    for g in gold:
        for i, p in enumerate(remaining):
            if equal(g, p):
                del remaining[i]
                break
        else:
            return False
    return True


def _sym_equal(gold: Sym, pred: Sym) -> str | None:
    g, p = gold.expr, pred.expr
    if isinstance(g, sympy.MatrixBase) or isinstance(p, sympy.MatrixBase):
        return _matrix_equal(gold, pred)
    if isinstance(g, sympy.Set) or isinstance(p, sympy.Set):
        return _set_equal(gold, pred)
    if isinstance(g, sympy.Eq) or isinstance(p, sympy.Eq):
        return _equation_equal(gold, pred)
    if _is_relation(g) or _is_relation(p):
        return _relation_equal(g, p)
    if not isinstance(g, sympy.Expr) or not isinstance(p, sympy.Expr):
        return "structure" if g == p else None
    if g.is_number and p.is_number:
        return _number_equal(gold, pred)
    return _symbolic_equal(g, p)


def _number_equal(gold: Sym, pred: Sym) -> str | None:
    g, p = gold.expr, pred.expr
    if g == p and gold.percent == pred.percent:
        return "exact"
    rule = _close(g, p, gold.decimals, pred.decimals) if gold.percent == pred.percent else None
    if rule:
        return rule
    if gold.percent != pred.percent:
        # 28% is 0.28; a whole number with and without % is the same answer written two ways.
        scale = sympy.Integer(100)
        a, b = (g, p * scale) if gold.percent else (g * scale, p)
        if a == b or _close(a, b, None, None):
            return "percent"
        if g.is_Integer and p.is_Integer and g == p:
            return "percent sign ignored"
    return None


def _close(
    g: sympy.Expr, p: sympy.Expr, g_decimals: int | None, p_decimals: int | None
) -> str | None:
    try:
        gv, pv = sympy.N(g, 30), sympy.N(p, 30)
    except (TypeError, ValueError):
        return None
    if not (gv.is_real and pv.is_real) and not (gv.is_complex and pv.is_complex):
        return None
    difference = abs(gv - pv)
    scale = max(abs(gv), abs(pv))
    if scale != 0 and difference <= RELATIVE_TOLERANCE * scale:
        return "numeric (relative 1e-9)"
    for decimals in (g_decimals, p_decimals):
        if (
            decimals is not None
            and decimals >= 2
            and difference <= sympy.Rational(1, 2 * 10**decimals)
        ):
            return f"rounded to {decimals} decimals"
    return None


def _matrix_equal(gold: Sym, pred: Sym) -> str | None:
    g, p = gold.expr, pred.expr
    if not (isinstance(g, sympy.MatrixBase) and isinstance(p, sympy.MatrixBase)):
        return None
    if g.shape != p.shape:
        return None
    ok = all(
        _sym_equal(Sym(a, decimals=gold.decimals), Sym(b, decimals=pred.decimals))
        for a, b in zip(g, p, strict=True)
    )
    return "matrix" if ok else None


def _set_equal(gold: Sym, pred: Sym) -> str | None:
    g, p = gold.expr, pred.expr
    if _is_relation(g):
        g = _solution_set(g)
    if not (isinstance(g, sympy.Set) and isinstance(p, sympy.Set)):
        return None
    if g == p:
        return "set"
    if isinstance(g, sympy.Interval) and isinstance(p, sympy.Interval):
        same_ends = g.left_open == p.left_open and g.right_open == p.right_open
        ends = ((g.start, p.start), (g.end, p.end))
        ok = same_ends and all(_value_equal(a, b, gold, pred) for a, b in ends)
        return "interval" if ok else None
    if isinstance(g, sympy.Union) and isinstance(p, sympy.Union) and len(g.args) == len(p.args):
        remaining = list(p.args)
        for part in g.args:
            match = next(
                (
                    q
                    for q in remaining
                    if _set_equal(Sym(part, decimals=gold.decimals), Sym(q, decimals=pred.decimals))
                ),
                None,
            )
            if match is None:
                return None
            remaining.remove(match)
        return "union of intervals"
    return None


def _value_equal(a: sympy.Expr, b: sympy.Expr, gold: Sym, pred: Sym) -> bool:
    if a == b:
        return True
    if a.is_infinite or b.is_infinite:
        return False
    return _number_equal(Sym(a, decimals=gold.decimals), Sym(b, decimals=pred.decimals)) is not None


def _is_relation(expr: sympy.Basic) -> bool:
    if isinstance(expr, sympy.And):
        return all(_is_relation(arg) for arg in expr.args)
    return isinstance(expr, sympy.Rel) and not isinstance(expr, sympy.Eq)


def _solution_set(relation: sympy.Basic) -> sympy.Basic:
    """The set a univariate relation describes; the relation itself when it has other unknowns."""
    unknowns = _unknowns(relation)
    if len(unknowns) != 1:
        return relation
    (unknown,) = unknowns
    variable = sympy.Symbol("_v", real=True)
    try:
        return relation.subs(unknown, variable).as_set()
    except (NotImplementedError, TypeError, ValueError):
        return relation


def _unknowns(expr: sympy.Basic) -> set[sympy.Basic]:
    functions = {
        f for f in expr.atoms(sympy.Function) if isinstance(f, sympy.core.function.AppliedUndef)
    }
    symbols = {s for s in expr.free_symbols if not any(s in f.free_symbols for f in functions)}
    return symbols | functions


def _relation_equal(g: sympy.Basic, p: sympy.Basic) -> str | None:
    if not (_is_relation(g) and _is_relation(p)):
        return None
    g_set, p_set = _solution_set(g), _solution_set(p)
    if isinstance(g_set, sympy.Set) and isinstance(p_set, sympy.Set):
        return "same solution set" if g_set == p_set else None
    g_rel, p_rel = _canonical(g), _canonical(p)
    if g_rel is None or p_rel is None or g_rel[1] != p_rel[1]:
        return None
    return "same inequality" if _positive_multiple(g_rel[0], p_rel[0]) else None


def _canonical(relation: sympy.Basic) -> tuple[sympy.Expr, str] | None:
    """`a < b` as (`b - a`, '>'), so every inequality reads `expression > 0` or `>= 0`."""
    if isinstance(relation, sympy.StrictGreaterThan | sympy.GreaterThan):
        return relation.lhs - relation.rhs, relation.rel_op
    if isinstance(relation, sympy.StrictLessThan):
        return relation.rhs - relation.lhs, ">"
    if isinstance(relation, sympy.LessThan):
        return relation.rhs - relation.lhs, ">="
    if isinstance(relation, sympy.Ne):
        return relation.lhs - relation.rhs, "!="
    return None


def _equation_equal(gold: Sym, pred: Sym) -> str | None:
    g, p = _as_equation(gold), _as_equation(pred)
    if g is None or p is None:
        return None
    ratio = _constant_ratio(g.lhs - g.rhs, p.lhs - p.rhs)
    return "equivalent equation" if ratio is not None and ratio != 0 else None


def _as_equation(value: Sym) -> sympy.Eq | None:
    if isinstance(value.expr, sympy.Eq):
        return value.expr
    if value.assigned_to is not None and isinstance(value.expr, sympy.Expr):
        try:
            name = sympy.Symbol(value.assigned_to)
        except (TypeError, ValueError):
            return None
        return sympy.Eq(name, value.expr, evaluate=False)
    return None


def _positive_multiple(a: sympy.Expr, b: sympy.Expr) -> bool:
    ratio = _constant_ratio(a, b)
    return ratio is not None and ratio > 0


def _constant_ratio(a: sympy.Expr, b: sympy.Expr) -> sympy.Expr | None:
    """`a / b` when it is the same number at every point tried, else None."""
    symbols = sorted(a.free_symbols | b.free_symbols, key=str)
    ratios = []
    for point in _points(symbols):
        try:
            av, bv = sympy.N(a.subs(point), 20), sympy.N(b.subs(point), 20)
        except (TypeError, ValueError):
            return None
        if not (av.is_number and bv.is_number) or bv == 0:
            continue
        ratios.append(av / bv)
    if len(ratios) < 2:
        return None
    first = ratios[0]
    if all(abs(r - first) <= 1e-9 * max(1, abs(first)) for r in ratios):
        return sympy.nsimplify(first, rational=True)
    return None


def _points(symbols: list[sympy.Symbol]) -> list[dict[sympy.Symbol, sympy.Rational]]:
    rng = random.Random(1729)  # the same points every time: a verdict must be reproducible
    return [
        {s: sympy.Rational(rng.randint(11, 97), rng.randint(7, 31)) for s in symbols}
        for _ in range(_POINTS)
    ]


def _symbolic_equal(g: sympy.Expr, p: sympy.Expr) -> str | None:
    if g.free_symbols != p.free_symbols and not (g.free_symbols and p.free_symbols):
        return None
    difference = g - p
    if difference == 0:
        return "identical"
    if difference.atoms(sympy.core.function.AppliedUndef):
        return "symbolic" if sympy.simplify(difference) == 0 else None
    symbols = sorted(g.free_symbols | p.free_symbols, key=str)  # x cancels in (x+7) - (x+6)
    for point in _points(symbols):
        try:
            value = sympy.N(difference.subs(point), 30)
            scale = sympy.N(abs(g.subs(point)) + abs(p.subs(point)), 30)
        except (TypeError, ValueError):
            return None
        if not value.is_number:
            return "symbolic" if sympy.simplify(difference) == 0 else None
        if abs(value) > RELATIVE_TOLERANCE * max(scale, 1):
            return None
    return f"symbolic (equal at {_POINTS} points)"
