"""`verified_factory.curate.distinct`: rationale keys and the choice of distinct rationales."""

from __future__ import annotations

from attempts import make_attempt

from verified_factory.curate.distinct import choose_distinct, code_key, math_key, rationale_key
from verified_factory.rows import Attempt

EQUATION = "Solve for $x$: $2x + 4 = 10$."

SUBTRACT_FIRST = """Let's solve this step by step.

1. Subtract 4 from both sides: $2x = 6$.
2. Divide both sides by 2: $x = 3$.

The final answer is $\\boxed{3}$."""

SUBTRACT_FIRST_REWORDED = """Step 1: taking 4 away on each side leaves $2y=6$.
Step 2: halving (dividing by 2),   $y = 3$.

So the answer is \\boxed{3}"""

DIVIDE_FIRST = """Divide everything by 2: $x + 2 = 5$.
Then subtract 2: $x = 3$.
The final answer is $\\boxed{3}$."""

LOOP = '''```python
def total(limit: int) -> int:
    """Sum of the multiples of 3 below limit."""
    result = 0
    for value in range(3, limit, 3):
        result += value  # add it
    return result
```'''

LOOP_RENAMED = """Here is the code.

```python
def total(n):
    acc = 0
    for k in range(3, n, 3): acc += k


    return acc
```"""

ONE_LINER = """```python
def total(limit):
    return sum(range(3, limit, 3))
```"""

MAX_ONE_LINER = """```python
def total(limit):
    return max(range(3, limit, 3))
```"""


def attempt(
    response: str,
    name: str,
    *,
    domain: str = "math",
    problem: str = "Compute it.",
    accepted: bool = True,
    rationalized: bool = False,
) -> Attempt:
    return make_attempt(
        name, "p", problem, response, domain=domain, accepted=accepted, rationalized=rationalized
    )


def results(*values: int) -> str:
    """A math response stating these intermediate results, one sentence each."""
    return " ".join(f"Then $v = {value}$." for value in values)


def test_a_math_rationale_reworded_keeps_its_key() -> None:
    key = math_key(SUBTRACT_FIRST, EQUATION)
    assert key == ("6", "3")
    assert math_key(SUBTRACT_FIRST_REWORDED, EQUATION) == key


def test_another_math_path_has_another_key() -> None:
    assert math_key(DIVIDE_FIRST, EQUATION) == ("5", "3")
    assert math_key(DIVIDE_FIRST, EQUATION) != math_key(SUBTRACT_FIRST, EQUATION)


def test_math_values_are_read_as_numbers_and_variables_by_their_order() -> None:
    halves = "So $t = 0.5$ and $t^2 + 1 = 5/4$."
    assert math_key(halves) == math_key("So $u = \\frac{1}{2}$ and $u^{2}+1 = \\frac{5}{4}$.")
    assert math_key(halves) != math_key("So $t = 0.25$ and $t^2 + 1 = 17/16$.")
    assert math_key("$f(x) = x^2 + 5x$") == math_key("$g(t) = t^2 + 5t$")


def test_a_program_renamed_and_reformatted_keeps_its_key() -> None:
    assert code_key(LOOP) == code_key(LOOP_RENAMED)
    assert code_key(LOOP) != code_key(ONE_LINER)
    assert code_key(ONE_LINER) != code_key(MAX_ONE_LINER), "builtins are not renamed"


def test_a_response_without_a_program_falls_back_to_its_words() -> None:
    assert rationale_key(attempt("No code, sorry.", "a", domain="code")) == ("no", "code", "sorry")


def test_choose_distinct_keeps_one_attempt_per_key() -> None:
    attempts = [
        attempt(SUBTRACT_FIRST, "a", problem=EQUATION),
        attempt(SUBTRACT_FIRST_REWORDED, "b", problem=EQUATION),
        attempt(DIVIDE_FIRST, "c", problem=EQUATION),
        attempt("$x = 4$, so \\boxed{4}", "wrong", problem=EQUATION, accepted=False),
    ]
    assert choose_distinct(attempts, keep=4) == {"a", "c"}


def test_choose_distinct_respects_keep_and_prefers_unhinted() -> None:
    attempts = [
        attempt(results(1, 2), "hinted", rationalized=True),
        attempt(results(3, 4), "plain"),
        attempt(results(5, 6), "plain-2"),
    ]
    assert choose_distinct(attempts, keep=1) == {"plain"}
    assert choose_distinct(attempts, keep=2) == {"plain", "plain-2"}
    assert choose_distinct(attempts, keep=3) == {"plain", "plain-2", "hinted"}
    assert choose_distinct(attempts, keep=0) == set()


def test_a_hinted_attempt_with_an_unhinted_key_is_never_chosen() -> None:
    attempts = [attempt(results(1, 2), "hinted", rationalized=True), attempt(results(1, 2), "p")]
    assert choose_distinct(attempts, keep=2) == {"p"}


def test_choose_distinct_keeps_the_most_different() -> None:
    attempts = [
        attempt(results(11, 12, 13, 14), "first"),
        attempt(results(11, 12, 13, 15), "close-to-first"),
        attempt(results(21, 22, 23, 24), "far"),
        attempt(results(11, 12, 23, 24), "between"),
    ]
    assert choose_distinct(attempts, keep=2) == {"first", "far"}
    assert choose_distinct(attempts, keep=3) == {"first", "far", "between"}
    assert choose_distinct(list(attempts), keep=3) == choose_distinct(attempts, keep=3)


def test_hinted_attempts_fill_the_places_left_most_different_first() -> None:
    attempts = [
        attempt(results(11, 12, 13, 14), "plain"),
        attempt(results(11, 12, 13, 15), "hinted-close", rationalized=True),
        attempt(results(31, 32, 33, 34), "hinted-far", rationalized=True),
    ]
    assert choose_distinct(attempts, keep=2) == {"plain", "hinted-far"}
