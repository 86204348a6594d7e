"""The math checker's rules, one by one, and its properties on random expressions."""

from __future__ import annotations

import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

from verified_factory.verifiers.math.check import check
from verified_factory.verifiers.math.extract import extract_answer


@pytest.mark.parametrize(
    ("response", "answer", "rule"),
    [
        ("So $x = \\boxed{\\frac{1}{2}}$.", "\\frac{1}{2}", "boxed"),
        (
            "\\boxed{\\left( 3, \\frac{\\pi}{2} \\right)}",
            "\\left( 3, \\frac{\\pi}{2} \\right)",
            "boxed",
        ),
        ("Roots: \\boxed{-2} and \\boxed{1}.", "-2, 1", "boxed"),
        (
            "Work...\nFinal Answer: The final answer is $7$. I hope it is correct.",
            "$7$",
            "final-answer",
        ),
        ("We get $x=3$ and so on. Thus the total is 12 apples.", "12", "last-number"),
        ("The sum is **73**.", "73", "bold"),
        ("\\frac{3}{4}", "\\frac{3}{4}", "bare"),
        ("First \\boxed{5}. Final Answer: The final answer is 6.", "6", "final-answer"),
    ],
)
def test_extraction(response: str, answer: str, rule: str) -> None:
    extraction = extract_answer(response)
    assert extraction is not None
    assert (extraction.answer, extraction.rule) == (answer, rule)


@pytest.mark.parametrize(
    ("response", "gold"),
    [
        ("\\boxed{7} or \\boxed{8}", "7"),
        ("The answer is 7 or 8.", "7"),
        ("\\boxed{1, 2, 3, 4, 5}", "3"),
        ("\\boxed{\\pm 2021}", "2021"),
    ],
)
def test_a_hedge_never_matches_a_single_answer(response: str, gold: str) -> None:
    assert not check(response, gold).accepted


@pytest.mark.parametrize(
    ("response", "gold"),
    [
        ("$\\frac{1}{2^{98}}$", "$\\frac{1}{2^{99}}$"),
        ("$\\frac{1}{2006!}$", "$\\frac{1}{2004!}$"),
        ("$2^{10}.$", "$2$"),
        ("5.001", "5"),
        ("0.28", "28"),
        ("$e + 1$", "$e$"),
        ("$(1,2)$", "$[1,2]$"),
        ("50", "0.5"),
    ],
)
def test_near_misses_are_rejected(response: str, gold: str) -> None:
    assert not check(response, gold).accepted


@pytest.mark.parametrize(
    ("response", "gold", "rule"),
    [
        ("\\boxed{0.5}", "\\frac{1}{2}", "exact"),
        ("\\boxed{3.1416}", "\\pi", "rounded to 4 decimals"),
        ("\\boxed{28\\%}", "28", "percent sign ignored"),
        ("\\boxed{x \\geq 5}", "5 \\leq x", "same solution set"),
        ("\\boxed{y = -\\frac{1}{2}x + \\frac{3}{4}}", "2x + 4y - 3 = 0", "equivalent equation"),
        ("\\boxed{\\{3, 1, 2\\}}", "\\{1, 2, 3\\}", "list (any order)"),
        ("\\boxed{(x+1)^2}", "x^2 + 2x + 1", "symbolic"),
        (
            "\\boxed{\\begin{bmatrix}1 & 2\\\\ 3 & 4\\end{bmatrix}}",
            "\\begin{pmatrix}1 & 2\\\\ 3 & 4\\end{pmatrix}",
            "matrix",
        ),
        ("The answer is (C) Cecile", "C", "choice"),
    ],
)
def test_accepts_and_names_the_rule(response: str, gold: str, rule: str) -> None:
    result = check(response, gold)
    assert result.accepted, result.reason
    assert rule in result.reason


def test_no_answer_is_a_rejection_with_a_reason() -> None:
    result = check("I don't know.", "5")
    assert not result.accepted
    assert "no final answer" in result.reason or "differs" in result.reason


x, y = sympy.symbols("x y")
atoms = st.sampled_from([x, y, sympy.Integer(2), sympy.Integer(3), sympy.Integer(-1)])
expressions = st.recursive(
    atoms,
    lambda inner: st.tuples(inner, inner, st.sampled_from(["+", "*", "-"])).map(
        lambda t: t[0] + t[1] if t[2] == "+" else t[0] * t[1] if t[2] == "*" else t[0] - t[1]
    ),
    max_leaves=6,
)


@settings(max_examples=40, deadline=None)
@given(expressions)
def test_an_expression_matches_its_expanded_factored_and_printed_forms(expr: sympy.Expr) -> None:
    gold = sympy.latex(expr)
    for form in (sympy.expand(expr), sympy.factor(expr), expr):
        result = check(f"\\boxed{{{sympy.latex(form)}}}", gold)
        assert result.accepted, (gold, sympy.latex(form), result.reason)


@settings(max_examples=40, deadline=None)
@given(expressions, st.integers(min_value=1, max_value=5))
def test_an_expression_never_matches_itself_plus_a_constant(expr: sympy.Expr, k: int) -> None:
    result = check(f"\\boxed{{{sympy.latex(expr + k)}}}", sympy.latex(expr))
    assert not result.accepted, result.reason


@settings(max_examples=30, deadline=None)
@given(
    st.sampled_from(["<", ">", "\\leq", "\\geq"]),
    st.integers(-20, 20),
    st.integers(-20, 20),
)
def test_relations_compare_symmetrically(op: str, a: int, b: int) -> None:
    first, second = f"x {op} {a}", f"x {op} {b}"
    assert check(f"${first}$", second).accepted == check(f"${second}$", first).accepted
    assert check(f"${first}$", first).accepted


@pytest.mark.parametrize("tower", ["10^{10^{10^{10}}}", "9^{9^{9^{9}}}", "2^{3^{100}}"])
def test_power_towers_are_refused_before_evaluation(tower: str) -> None:
    result = check(f"\\boxed{{{tower}}}", "1")
    assert not result.accepted
    assert "digits" in result.reason


def test_large_but_reasonable_powers_are_evaluated() -> None:
    assert check("\\boxed{\\frac{2^{2005}}{2^{2004}}}", "2").accepted
    assert check("\\boxed{2^{2^{2^{2}}}}", "65536").accepted


def test_expressions_differing_by_a_constant_are_rejected_as_different() -> None:
    result = check("\\boxed{x^2 + 5x + 7}", "x^2 + 5x + 6")
    assert not result.accepted
    assert "differs" in result.reason
