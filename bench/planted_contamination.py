"""Planted contamination: HumanEval and MBPP turned into our Problems, copied and lightly edited.

Shared by `tests/test_decontaminate.py` and `bench/decontamination.py`; the benchmark files are
the repository's copies (`benchmark_data`).
Each kind of copy is one function of (problem, rng), so the two report the same rates:

- `exact`: the problem as it is;
- `whitespace`: indentation of two spaces, spaces inside brackets and none after commas, the
  prose rewrapped at 60 columns;
- `renamed`: every function, parameter and variable the code defines gets another name,
  everywhere (regex on word boundaries, docstrings included);
- `reworded`: the instruction of the statement reworded ("Write a function to" → "Implement a
  Python function that"), sentence order kept; in a HumanEval prompt only the docstring;
- `numbers`: every integer literal in statement, reference and tests changed;
- `edited`: whitespace, renamed and reworded at once.
"""

from __future__ import annotations

import ast
import builtins
import gzip
import json
import keyword
import random
import re
import textwrap
import warnings
from collections.abc import Callable

from benchmark_data import HUMANEVAL, MBPP

from verified_factory.records import AssertTests, Problem
from verified_factory.solve.prompts import load_prompts
from verified_factory.sources.code_problems import generate_code
from verified_factory.sources.math_problems import generate_math

_PROMPTS = load_prompts({}, {})


def humaneval_problems() -> list[Problem]:
    with gzip.open(HUMANEVAL, "rt") as stream:
        rows = [json.loads(line) for line in stream]
    return [
        Problem(
            id=row["task_id"],
            domain="code",
            problem=row["prompt"],
            reference=row["canonical_solution"],
            tests=AssertTests(
                format="assert",
                code=f"{row['test']}\n\ncheck({row['entry_point']})\n",
                entry_point=row["entry_point"],
            ),
            source="HumanEval",
        )
        for row in rows
    ]


def mbpp_problems() -> list[Problem]:
    rows = [json.loads(line) for line in MBPP.read_text().splitlines() if line.strip()]
    return [
        Problem(
            id=f"mbpp/{row['task_id']}",
            domain="code",
            problem=row["text"],
            reference=row["code"],
            tests=AssertTests(
                format="assert",
                code="\n".join([row["test_setup_code"], *row["test_list"]]).strip() + "\n",
            ),
            source="mbpp",
        )
        for row in rows
    ]


def clean_problems(code_seeds: int = 2, math_seeds: int = 2) -> list[Problem]:
    """The project's own generated problems, which copy no benchmark."""
    problems = []
    for seed in range(code_seeds):
        problems += generate_code(1400, seed)
    for seed in range(math_seeds):
        problems += generate_math(1400, seed)
    return problems


# --- the edits -----------------------------------------------------------------------------


def _with(problem: Problem, kind: str, statement: str, reference: str, tests: str) -> Problem:
    assert isinstance(problem.tests, AssertTests)
    return problem.model_copy(
        update={
            "id": f"{problem.id}#{kind}",
            "problem": statement,
            "reference": reference,
            "tests": problem.tests.model_copy(update={"code": tests}),
        }
    )


def _fields(problem: Problem) -> tuple[str, str, str]:
    assert isinstance(problem.tests, AssertTests)
    return problem.problem, problem.reference or "", problem.tests.code


def _is_code(statement: str) -> bool:
    return re.search(r"^\s*def ", statement, re.MULTILINE) is not None


def _respace_code(code: str) -> str:
    lines = []
    for line in code.splitlines():
        stripped = line.lstrip(" ")
        indent = (len(line) - len(stripped)) // 2
        lines.append(" " * indent + stripped.rstrip())
    code = "\n".join(lines)
    code = re.sub(r"([(\[])(?=\S)", r"\1 ", code)
    code = re.sub(r"(?<=\S)([)\]])", r" \1", code)
    return re.sub(r",\s+(?=\S)", ",", code) + "\n\n"


def _rewrap(text: str) -> str:
    return textwrap.fill(" ".join(text.split()), width=60) + "\n"


def whitespace(problem: Problem, rng: random.Random) -> Problem:
    statement, reference, tests = _fields(problem)
    statement = _respace_code(statement) if _is_code(statement) else _rewrap(statement)
    return _with(problem, "whitespace", statement, _respace_code(reference), _respace_code(tests))


_KEPT = set(dir(builtins)) | set(keyword.kwlist)
_NEW_NAMES = ("amber", "birch", "comet", "dune", "fjord", "gale", "heron", "iris", "juniper")
_NEW_NAMES += ("kelp", "lark", "moss", "nectar", "opal", "prism", "quill", "reef", "sorrel")


def _defined_names(code: str) -> set[str]:
    """Functions, parameters and variables the code defines (ast; a regex where it won't parse)."""
    try:
        with warnings.catch_warnings():  # MBPP's regular expressions have invalid escapes
            warnings.simplefilter("ignore")
            tree = ast.parse(code)
    except SyntaxError:
        return set(re.findall(r"def\s+(\w+)", code))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.arg):
            names.add(node.arg)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
    return {n for n in names if n not in _KEPT and not n.startswith("__")}


def renamed(problem: Problem, rng: random.Random) -> Problem:
    statement, reference, tests = _fields(problem)
    code_statement = _is_code(statement)
    program = f"{statement}{reference}" if code_statement else reference
    names = sorted(_defined_names(program) | _defined_names(tests))
    fresh = rng.sample(_NEW_NAMES, len(_NEW_NAMES))
    mapping = {name: f"{fresh[i % len(fresh)]}_{i}" for i, name in enumerate(names)}
    if not mapping:
        return _with(problem, "renamed", statement, reference, tests)
    pattern = re.compile(r"\b(" + "|".join(map(re.escape, mapping)) + r")\b")

    def rename(text: str) -> str:
        return pattern.sub(lambda m: mapping[m.group()], text)

    functions = [n for n in names if re.search(rf"def\s+{re.escape(n)}\b", program)]
    if code_statement:
        statement = rename(statement)
    elif functions:  # prose: only the function names, not every word that is a variable too
        statement = re.sub(
            r"\b(" + "|".join(map(re.escape, functions)) + r")\b",
            lambda m: mapping[m.group()],
            statement,
        )
    return _with(problem, "renamed", statement, rename(reference), rename(tests))


_REWORDINGS = (
    (r"\bWrite a (?:P|p)ython function to\b", "Create a function which"),
    (r"\bWrite a function to\b", "Implement a Python function that"),
    (r"\bWrite a function that\b", "Implement a function which"),
    (r"\bWrite a function\b", "Develop a function"),
    (r"\bYou are given\b", "Suppose you have"),
    (r"\bGiven\b", "You are given"),
    (r"\bReturn\b", "Give back"),
    (r"\breturns\b", "gives back"),
    (r"\bCheck if\b", "Determine whether"),
    (r"\bFor example\b", "E.g."),
    (r"\bExample\b", "Sample"),
    (r"\bYour task is to\b", "You need to"),
)


def _reword_prose(text: str) -> str:
    for pattern, replacement in _REWORDINGS:
        text = re.sub(pattern, replacement, text, count=1)
    return text


def _reword_docstrings(code: str) -> str:
    return re.sub(
        r'("""|\'\'\')(.*?)\1',
        lambda m: m.group(1) + _reword_prose(m.group(2)) + m.group(1),
        code,
        flags=re.DOTALL,
    )


def reworded(problem: Problem, rng: random.Random) -> Problem:
    statement, reference, tests = _fields(problem)
    statement = _reword_docstrings(statement) if _is_code(statement) else _reword_prose(statement)
    return _with(problem, "reworded", statement, reference, tests)


def change_numbers(text: str, rng: random.Random) -> str:
    """Every integer literal of the text, each raised by 1 to 9."""
    return re.sub(r"(?<![A-Za-z_\d])\d+", lambda m: str(int(m.group()) + rng.randint(1, 9)), text)


def numbers(problem: Problem, rng: random.Random) -> Problem:
    statement, reference, tests = (change_numbers(text, rng) for text in _fields(problem))
    return _with(problem, "numbers", statement, reference, tests)


def edited(problem: Problem, rng: random.Random) -> Problem:
    copy = whitespace(reworded(renamed(problem, rng), rng), rng)
    return copy.model_copy(update={"id": f"{problem.id}#edited"})


def exact(problem: Problem, rng: random.Random) -> Problem:
    return problem.model_copy(update={"id": f"{problem.id}#exact"})


KINDS: dict[str, Callable[[Problem, random.Random], Problem]] = {
    "exact": exact,
    "whitespace": whitespace,
    "renamed": renamed,
    "reworded": reworded,
    "numbers": numbers,
    "edited": edited,
}


def planted(seed: int = 0) -> dict[str, list[Problem]]:
    """Every kind of copy of every HumanEval and MBPP problem."""
    originals = humaneval_problems() + mbpp_problems()
    rng = random.Random(seed)
    return {kind: [make(p, rng) for p in originals] for kind, make in KINDS.items()}


def as_row(problem: Problem) -> dict[str, object]:
    """The exported row a run would make of the problem, answered with its reference."""
    code = problem.problem + (problem.reference or "") if _is_code(problem.problem) else None
    solution = code or problem.reference or ""
    answer = f"The task asks for a short function.\n\n```python\n{solution.strip()}\n```\n"
    return {
        "messages": [
            {"role": "user", "content": _PROMPTS.prompt(problem)},
            {"role": "assistant", "content": answer},
        ],
        "id": f"{problem.id}/0",
        "problem_id": problem.id,
        "domain": problem.domain,
        "source": problem.source,
        "verifier": problem.domain,
        "rationalized": False,
        "model": "planted",
        "reference": problem.reference,
        "tests": problem.tests.model_dump_json() if problem.tests else None,
    }
