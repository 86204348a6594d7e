"""Procedural math problems with exact gold answers and worked steps.

Eight families take turns (round robin), so every family appears once `count` reaches eight.
Each problem is built from small random integers drawn from `random.Random(seed)` alone, and its
answer is computed exactly with `Fraction` and integer arithmetic, never with floats. The
reference is written the way the math checker reads it: integers, `\\frac{a}{b}`, ordered pairs
`(a, b)` and polynomials such as `x^2 + 5x + 6`. `meta["steps"]` is a short worked solution whose
last step states the reference.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from fractions import Fraction
from typing import NamedTuple

from verified_factory.records import Problem
from verified_factory.sources.drawing import take_turns

SOURCE = "generator:math"

Number = int | Fraction


class _Made(NamedTuple):
    problem: str
    reference: str
    steps: list[str]


# --- LaTeX formatting ----------------------------------------------------------------------------


def _number(value: Number) -> str:
    """`3`, `-3`, `\\frac{7}{3}`, `-\\frac{7}{3}`."""
    value = Fraction(value)
    if value.denominator == 1:
        return str(value.numerator)
    sign = "-" if value < 0 else ""
    return f"{sign}\\frac{{{abs(value.numerator)}}}{{{value.denominator}}}"


def _join_terms(terms: Sequence[tuple[Number, str]]) -> str:
    """`[(2, "x"), (-1, "y"), (5, "")]` as `2x - y + 5`; zero terms dropped, `0` if none remain."""
    text = ""
    for coefficient, variable in terms:
        if coefficient == 0:
            continue
        magnitude = "" if variable and abs(coefficient) == 1 else _number(abs(coefficient))
        if not text:
            text = f"{'-' if coefficient < 0 else ''}{magnitude}{variable}"
        else:
            text += f" {'-' if coefficient < 0 else '+'} {magnitude}{variable}"
    return text or "0"


def _power(degree: int) -> str:
    return {0: "", 1: "x"}.get(degree, f"x^{degree}")


def polynomial_text(coefficients: Sequence[Number]) -> str:
    """A polynomial in x, coefficients constant term first: `[6, 5, 1]` is `x^2 + 5x + 6`."""
    terms = [(c, _power(d)) for d, c in enumerate(coefficients)]
    return _join_terms(terms[::-1])


def _evaluate(coefficients: Sequence[Number], x: Number) -> Fraction:
    return sum((Fraction(c) * Fraction(x) ** d for d, c in enumerate(coefficients)), Fraction(0))


def _substituted(coefficients: Sequence[int], x: int) -> str:
    """The polynomial with `x` written in, e.g. `2(-1)^3 - 3(-1) + 5`."""
    shown = f"({x})" if x < 0 else str(x)
    parts = []
    for degree in range(len(coefficients) - 1, -1, -1):
        coefficient = coefficients[degree]
        if coefficient == 0:
            continue
        value = {0: "", 1: shown}.get(degree, f"{shown}^{degree}")
        factor = "" if degree and abs(coefficient) == 1 else str(abs(coefficient))
        body = f"{factor} \\cdot {value}" if factor and value else factor + value
        sign = "-" if coefficient < 0 else "+"
        parts.append(f"{sign} {body}" if parts else f"{'-' if coefficient < 0 else ''}{body}")
    return " ".join(parts) or "0"


def _derivative(coefficients: Sequence[Number]) -> list[Number]:
    return [d * c for d, c in enumerate(coefficients)][1:]


def _factorize(n: int) -> dict[int, int]:
    factors: Counter[int] = Counter()
    prime = 2
    while prime * prime <= n:
        while n % prime == 0:
            factors[prime] += 1
            n //= prime
        prime += 1
    if n > 1:
        factors[n] += 1
    return dict(factors)


def _factored(factors: dict[int, int]) -> str:
    """`{2: 2, 3: 1, 7: 1}` as `2^2 \\cdot 3 \\cdot 7`."""
    # Every number factored here is below 2^10, so an exponent is a single digit.
    return " \\cdot ".join(str(p) if e == 1 else f"{p}^{e}" for p, e in sorted(factors.items()))


def _nonzero(rng: random.Random, low: int, high: int) -> int:
    return rng.choice([v for v in range(low, high + 1) if v != 0])


# --- families ------------------------------------------------------------------------------------

_NAMES = ("Maya", "Liam", "Aisha", "Carlos", "Mei", "Jonas", "Priya", "Omar", "Sofia", "Kenji")


def _arithmetic(rng: random.Random) -> _Made:
    """A short word problem with a whole-number answer."""
    name = rng.choice(_NAMES)
    kind = rng.randrange(6)
    if kind == 0:
        trays, per_tray = rng.randint(3, 9), rng.randint(6, 24)
        baked = trays * per_tray
        sold = rng.randint(1, baked - 1)
        answer = baked - sold
        problem = (
            f"A bakery bakes {trays} trays of {per_tray} muffins each and sells {sold} muffins. "
            "How many muffins are left?"
        )
        steps = [
            f"The bakery bakes ${trays} \\times {per_tray} = {baked}$ muffins.",
            f"After selling {sold}, ${baked} - {sold} = {answer}$ muffins are left.",
        ]
    elif kind == 1:
        notebooks, price = rng.randint(2, 9), rng.randint(2, 12)
        spent = notebooks * price
        money = spent + rng.randint(1, 60)
        answer = money - spent
        problem = (
            f"{name} has {money} dollars and buys {notebooks} notebooks that cost {price} dollars "
            f"each. How many dollars does {name} have left?"
        )
        steps = [
            f"The notebooks cost ${notebooks} \\times {price} = {spent}$ dollars.",
            f"{name} has ${money} - {spent} = {answer}$ dollars left.",
        ]
    elif kind == 2:
        speed1, hours1 = rng.randint(4, 12) * 10, rng.randint(2, 5)
        speed2, hours2 = rng.randint(4, 12) * 10, rng.randint(2, 5)
        first, second = speed1 * hours1, speed2 * hours2
        answer = first + second
        problem = (
            f"A train travels at {speed1} km per hour for {hours1} hours, then at {speed2} km per "
            f"hour for {hours2} hours. How many kilometres does it travel in total?"
        )
        steps = [
            f"First part: ${speed1} \\times {hours1} = {first}$ km.",
            f"Second part: ${speed2} \\times {hours2} = {second}$ km.",
            f"In total the train travels ${first} + {second} = {answer}$ km.",
        ]
    elif kind == 3:
        friends, share = rng.randint(3, 9), rng.randint(5, 20)
        total, given = friends * share, rng.randint(1, share - 1)
        answer = share - given
        problem = (
            f"A group of {friends} friends shares {total} stickers equally, and then each friend "
            f"gives away {given} stickers. How many stickers does each friend have left?"
        )
        steps = [
            f"Each friend gets ${total} \\div {friends} = {share}$ stickers.",
            f"After giving away {given}, each has ${share} - {given} = {answer}$ stickers left.",
        ]
    elif kind == 4:
        pack = rng.randint(3, 12)
        needed = pack * rng.randint(2, 12) + rng.randint(1, pack - 1)
        full, extra = divmod(needed, pack)
        answer = full + 1
        problem = (
            f"Pencils are sold in packs of {pack}. {name} needs at least {needed} pencils. "
            f"What is the smallest number of packs {name} must buy?"
        )
        steps = [
            f"${needed} = {full} \\times {pack} + {extra}$, so {full} packs give only "
            f"{full * pack} pencils.",
            f"One more pack is needed for the remaining {extra}, so {name} buys "
            f"${full} + 1 = {answer}$ packs.",
        ]
    else:
        age, times = rng.randint(4, 12), rng.randint(3, 5)
        parent = age * times
        answer = (times - 2) * age
        problem = (
            f"{name} is {age} years old, and {name}'s mother is {times} times as old. In how many "
            f"years will the mother be exactly twice as old as {name}?"
        )
        steps = [
            f"The mother is ${times} \\times {age} = {parent}$ years old.",
            f"In $y$ years: ${parent} + y = 2({age} + y)$, so $y = {parent} - {2 * age}$.",
            f"So $y = {answer}$ years.",
        ]
    return _Made(problem, str(answer), steps)


def _linear_equation(rng: random.Random) -> _Made:
    """`ax + b = cx + d` with a != c; the solution is an integer two times in three."""
    a = _nonzero(rng, -9, 9)
    c = rng.choice([v for v in range(-9, 10) if v != a])
    b = rng.randint(-20, 20)
    integral_solution = rng.randrange(3) > 0
    d = (a - c) * rng.randint(-10, 10) + b if integral_solution else rng.randint(-20, 20)
    x = Fraction(d - b, a - c)
    problem = f"Solve for $x$: ${polynomial_text([b, a])} = {polynomial_text([d, c])}$."
    collected = f"${polynomial_text([0, a - c])} = {d - b}$"
    steps = [f"Bring the $x$ terms to the left and the constants to the right: {collected}."]
    if a - c == 1:
        steps.append(f"So $x = {_number(x)}$.")
    else:
        steps.append(f"Divide both sides by ${a - c}$: $x = {_number(x)}$.")
    return _Made(problem, _number(x), steps)


def _linear_system(rng: random.Random) -> _Made:
    """Two equations in x and y with an integer solution and a nonzero determinant."""
    x, y = rng.randint(-6, 6), rng.randint(-6, 6)
    while True:
        a1, b1, a2, b2 = (_nonzero(rng, -6, 6) for _ in range(4))
        det = a1 * b2 - b1 * a2
        if det != 0:
            break
    c1, c2 = a1 * x + b1 * y, a2 * x + b2 * y
    first = _join_terms([(a1, "x"), (b1, "y")])
    second = _join_terms([(a2, "x"), (b2, "y")])
    problem = (
        f"Solve the system of equations ${first} = {c1}$ and ${second} = {c2}$. "
        "Give the answer as an ordered pair $(x, y)$."
    )
    answer = f"({x}, {y})"
    steps = [
        f"The determinant is $({a1})({b2}) - ({b1})({a2}) = {det}$, which is not zero.",
        f"By Cramer's rule, $x = \\frac{{({c1})({b2}) - ({b1})({c2})}}{{{det}}} = "
        f"\\frac{{{c1 * b2 - b1 * c2}}}{{{det}}} = {x}$.",
        f"Likewise $y = \\frac{{({a1})({c2}) - ({c1})({a2})}}{{{det}}} = "
        f"\\frac{{{a1 * c2 - c1 * a2}}}{{{det}}} = {y}$.",
        f"So $(x, y) = {answer}$.",
    ]
    return _Made(problem, answer, steps)


def _polynomial(rng: random.Random) -> _Made:
    """Expand a product of two linear factors, evaluate a polynomial, or add/multiply roots."""
    kind = rng.randrange(3)
    if kind == 0:
        p, q = rng.choice([1, 1, 2, 3]), rng.choice([1, 1, 2, 3])
        a, b = _nonzero(rng, -9, 9), _nonzero(rng, -9, 9)
        product = [a * b, p * b + a * q, p * q]
        answer = polynomial_text(product)
        problem = f"Expand $({polynomial_text([a, p])})({polynomial_text([b, q])})$."
        terms = _join_terms([(p * q, "x^2"), (p * b, "x"), (a * q, "x"), (a * b, "")])
        steps = [
            f"Multiply each term of the first factor by each term of the second: ${terms}$.",
            f"Combining like terms gives ${answer}$.",
        ]
        return _Made(problem, answer, steps)
    if kind == 1:
        coefficients = [rng.randint(-9, 9), *(rng.randint(-5, 5) for _ in range(2))]
        coefficients.append(_nonzero(rng, -3, 3))
        point = _nonzero(rng, -3, 3)
        value = _evaluate(coefficients, point)
        answer = _number(value)
        problem = f"Let $p(x) = {polynomial_text(coefficients)}$. Compute $p({point})$."
        steps = [
            f"Substitute $x = {point}$: $p({point}) = {_substituted(coefficients, point)}$.",
            f"Add the terms: $p({point}) = {answer}$.",
        ]
        return _Made(problem, answer, steps)
    lead = rng.choice([1, 1, 2, 3])
    r1 = rng.randint(-7, 7)
    r2 = rng.choice([v for v in range(-7, 8) if v != r1])
    coefficients = [lead * r1 * r2, -lead * (r1 + r2), lead]
    equation = f"${polynomial_text(coefficients)} = 0$"
    b, c = coefficients[1], coefficients[0]
    if rng.randrange(2):
        answer = _number(r1 + r2)
        problem = f"Find the sum of the roots of {equation}."
        rule = f"the sum of the roots is $-\\frac{{b}}{{a}} = -\\frac{{{b}}}{{{lead}}}$"
        result = f"The sum of the roots is ${answer}$."
    else:
        answer = _number(r1 * r2)
        problem = f"Find the product of the roots of {equation}."
        rule = f"the product of the roots is $\\frac{{c}}{{a}} = \\frac{{{c}}}{{{lead}}}$"
        result = f"The product of the roots is ${answer}$."
    steps = [
        f"Here $a = {lead}$, $b = {b}$, $c = {c}$, and the discriminant "
        f"${b}^2 - 4({lead})({c}) = {b * b - 4 * lead * c}$ is positive, so there are two roots.",
        f"By Vieta's formulas {rule}.",
        result,
    ]
    return _Made(problem, answer, steps)


def _derivative_problem(rng: random.Random) -> _Made:
    """The derivative of a polynomial, its value at a point, or a product rule at a point."""
    kind = rng.randrange(3)
    if kind == 2:
        a, b, c = _nonzero(rng, -5, 5), _nonzero(rng, -4, 4), _nonzero(rng, -6, 6)
        point = rng.randint(-3, 3)
        value = 2 * point * (b * point + c) + b * (point * point + a)
        square, line = polynomial_text([a, 0, 1]), polynomial_text([c, b])
        problem = f"Let $f(x) = ({square})({line})$. Find $f'({point})$."
        steps = [
            f"By the product rule, $f'(x) = 2x({line}) + ({b})({square})$.",
            f"At $x = {point}$: $f'({point}) = 2({point})({b * point + c}) + "
            f"({b})({point * point + a})$.",
            f"So $f'({point}) = {value}$.",
        ]
        return _Made(problem, str(value), steps)
    coefficients = [rng.randint(-9, 9), *(rng.randint(-5, 5) for _ in range(2))]
    coefficients.append(_nonzero(rng, -4, 4))
    if rng.randrange(2):
        coefficients.append(_nonzero(rng, -2, 2))
    derivative = _derivative(coefficients)
    rule = "Apply the power rule $\\frac{d}{dx} x^n = n x^{n-1}$ to each term."
    if kind == 0:
        answer = polynomial_text(derivative)
        problem = (
            f"Find the derivative of $f(x) = {polynomial_text(coefficients)}$ with respect to $x$."
        )
        steps = [rule, f"So $f'(x) = {answer}$."]
        return _Made(problem, answer, steps)
    point = _nonzero(rng, -3, 3)
    answer = _number(_evaluate(derivative, point))
    problem = f"Let $f(x) = {polynomial_text(coefficients)}$. Find $f'({point})$."
    steps = [
        rule,
        f"This gives $f'(x) = {polynomial_text(derivative)}$.",
        f"Substitute $x = {point}$: $f'({point}) = {_substituted(derivative, point)}$.",
        f"So $f'({point}) = {answer}$.",
    ]
    return _Made(problem, answer, steps)


def _integral(rng: random.Random) -> _Made:
    """The definite integral of a polynomial of degree 1 to 3 between small integer bounds."""
    degree = rng.randint(1, 3)
    coefficients = [rng.randint(-6, 6) for _ in range(degree)] + [_nonzero(rng, -4, 4)]
    low = rng.randint(-3, 2)
    high = rng.randint(low + 1, 3)
    antiderivative = [Fraction(0)] + [Fraction(c, d + 1) for d, c in enumerate(coefficients)]
    at_high, at_low = _evaluate(antiderivative, high), _evaluate(antiderivative, low)
    answer = _number(at_high - at_low)
    problem = (
        f"Evaluate the definite integral $\\int_{{{low}}}^{{{high}}} "
        f"({polynomial_text(coefficients)})\\,dx$. Give the exact value."
    )
    steps = [
        f"An antiderivative is $F(x) = {polynomial_text(antiderivative)}$.",
        f"$F({high}) = {_number(at_high)}$ and $F({low}) = {_number(at_low)}$.",
        f"The integral is $F({high}) - F({low}) = {answer}$.",
    ]
    return _Made(problem, answer, steps)


def _number_theory(rng: random.Random) -> _Made:
    """A gcd, an lcm, a remainder of a power, or a number of divisors."""
    kind = rng.randrange(4)
    if kind == 0:
        g = rng.randint(2, 12)
        m = rng.randint(2, 15)
        n = rng.choice([v for v in range(2, 16) if v != m and math.gcd(v, m) == 1])
        a, b = g * m, g * n
        problem = f"What is the greatest common divisor of {a} and {b}?"
        steps = [
            f"${a} = {_factored(_factorize(a))}$ and ${b} = {_factored(_factorize(b))}$.",
            f"The common primes with their lowest powers give "
            f"$\\gcd({a}, {b}) = {_factored(_factorize(g))} = {g}$.",
        ]
        return _Made(problem, str(g), steps)
    if kind == 1:
        a = rng.randint(4, 40)
        b = rng.choice([v for v in range(4, 41) if v != a and math.lcm(a, v) <= 600])
        lcm = math.lcm(a, b)
        problem = f"What is the least common multiple of {a} and {b}?"
        steps = [
            f"${a} = {_factored(_factorize(a))}$ and ${b} = {_factored(_factorize(b))}$.",
            f"Every prime with its highest power gives "
            f"$\\operatorname{{lcm}}({a}, {b}) = {_factored(_factorize(lcm))} = {lcm}$.",
        ]
        return _Made(problem, str(lcm), steps)
    if kind == 2:
        modulus = rng.randint(5, 13)
        base = rng.choice(
            [v for v in range(2, 13) if v % modulus > 1 and math.gcd(v, modulus) == 1]
        )
        exponent = rng.randint(20, 99)
        powers = [pow(base, k, modulus) for k in range(1, modulus + 1)]
        order = powers.index(1) + 1
        rest = exponent % order
        answer = pow(base, exponent, modulus)
        listed = ", ".join(f"{base}^{{{k}}} \\equiv {powers[k - 1]}" for k in range(1, order + 1))
        problem = f"What is the remainder when ${base}^{{{exponent}}}$ is divided by {modulus}?"
        steps = [
            f"Modulo {modulus}: ${listed}$, so the powers repeat every {order}.",
            f"${exponent} = {exponent // order} \\cdot {order} + {rest}$, so "
            f"${base}^{{{exponent}}} \\equiv {base}^{{{rest}}} \\pmod{{{modulus}}}$.",
            f"The remainder is ${answer}$.",
        ]
        return _Made(problem, str(answer), steps)
    n = rng.randint(12, 400)
    factors = _factorize(n)
    count = math.prod(e + 1 for e in factors.values())
    product = " \\cdot ".join(f"({e} + 1)" for _, e in sorted(factors.items()))
    problem = f"How many positive divisors does {n} have?"
    steps = [
        f"${n} = {_factored(factors)}$.",
        f"A divisor picks each prime's exponent independently, so there are ${product} = {count}$.",
    ]
    return _Made(problem, str(count), steps)


_WORDS = (
    "LEVEL",
    "BANANA",
    "BALLOON",
    "LETTER",
    "COFFEE",
    "PEPPER",
    "CANADA",
    "SUCCESS",
    "TOMATO",
    "PUZZLE",
    "RADAR",
    "ASSESS",
    "MAMMAL",
    "KAYAK",
    "TATTOO",
    "ALGEBRA",
    "GARAGE",
    "CHEESE",
)


def _counting(rng: random.Random) -> _Made:
    """Combinations, permutations, word arrangements, seating in a row, a two-group committee."""
    kind = rng.randrange(5)
    if kind == 0:
        n = rng.randint(5, 12)
        k = rng.randint(2, min(n - 2, 5))
        answer = math.comb(n, k)
        falling = " \\cdot ".join(str(n - i) for i in range(k))
        problem = f"In how many ways can a committee of {k} people be chosen from {n} people?"
        steps = [
            f"Order does not matter, so count combinations: $\\binom{{{n}}}{{{k}}}$.",
            f"$\\binom{{{n}}}{{{k}}} = \\frac{{{falling}}}{{{k}!}} = "
            f"\\frac{{{math.perm(n, k)}}}{{{math.factorial(k)}}} = {answer}$.",
        ]
    elif kind == 1:
        n, k = rng.randint(5, 12), rng.choice([2, 3])
        answer = math.perm(n, k)
        roles = (
            "a president and a vice-president"
            if k == 2
            else ("a president, a vice-president and a treasurer")
        )
        falling = " \\times ".join(str(n - i) for i in range(k))
        problem = (
            f"A club has {n} members. In how many ways can it choose {roles}, "
            "if no member holds two offices?"
        )
        steps = [
            f"Order matters: there are {n} choices for president, then {n - 1} for "
            "vice-president" + ("" if k == 2 else f", then {n - 2} for treasurer") + ".",
            f"So there are ${falling} = {answer}$ ways.",
        ]
    elif kind == 2:
        word = rng.choice(_WORDS)
        letters = Counter(word)
        repeated = sorted((c, m) for c, m in letters.items() if m > 1)
        denominator = math.prod(math.factorial(m) for _, m in repeated)
        answer = math.factorial(len(word)) // denominator
        shown = ", ".join(f"{c} appears {m} times" for c, m in repeated)
        orders = " \\cdot ".join(f"{m}!" for _, m in repeated)
        problem = f"How many distinct arrangements of the letters of the word {word} are there?"
        steps = [
            f"{word} has {len(word)} letters; {shown}.",
            f"Divide the arrangements of {len(word)} letters by the orders of the repeated ones: "
            f"$\\frac{{{len(word)}!}}{{{orders}}} = "
            f"\\frac{{{math.factorial(len(word))}}}{{{denominator}}} = {answer}$.",
        ]
    elif kind == 3:
        n = rng.randint(4, 7)
        first, second = rng.sample(_NAMES, 2)
        answer = 2 * math.factorial(n - 1)
        problem = (
            f"In how many ways can {n} people sit in a row of {n} chairs if two of them, "
            f"{first} and {second}, must sit next to each other?"
        )
        steps = [
            f"Treat {first} and {second} as one block: ${n - 1}$ units can be ordered in "
            f"${n - 1}! = {math.factorial(n - 1)}$ ways.",
            f"Inside the block they can sit in 2 orders, so there are "
            f"$2 \\times {math.factorial(n - 1)} = {answer}$ ways.",
        ]
    else:
        teachers, students = rng.randint(3, 7), rng.randint(4, 9)
        i, j = rng.randint(1, min(3, teachers - 1)), rng.randint(1, min(4, students - 1))
        from_teachers, from_students = math.comb(teachers, i), math.comb(students, j)
        answer = from_teachers * from_students
        problem = (
            f"A team is formed by choosing {i} of {teachers} teachers and {j} of {students} "
            "students. How many different teams are possible?"
        )
        steps = [
            f"Teachers: $\\binom{{{teachers}}}{{{i}}} = {from_teachers}$ ways; students: "
            f"$\\binom{{{students}}}{{{j}}} = {from_students}$ ways.",
            f"The choices are independent: ${from_teachers} \\times {from_students} = {answer}$.",
        ]
    return _Made(problem, str(answer), steps)


FAMILIES: dict[str, Callable[[random.Random], _Made]] = {
    "arithmetic": _arithmetic,
    "linear_equation": _linear_equation,
    "linear_system": _linear_system,
    "polynomial": _polynomial,
    "derivative": _derivative_problem,
    "integral": _integral,
    "number_theory": _number_theory,
    "counting": _counting,
}


def generate_math(count: int, seed: int) -> list[Problem]:
    """`count` distinct procedural math problems, the same for the same seed."""
    return list(draw_math(count, seed))


def draw_math(count: int, seed: int) -> Iterator[Problem]:
    """`generate_math`'s problems one at a time, so a job holds none it has not reached."""
    turns = take_turns(
        count, list(FAMILIES.items()), random.Random(seed), lambda _, made: made.problem, "math"
    )
    for index, family, made, _ in turns:
        yield Problem(
            id=f"gen-math-{seed}-{index}",
            domain="math",
            problem=made.problem,
            reference=made.reference,
            source=SOURCE,
            meta={"family": family, "steps": made.steps},
        )
