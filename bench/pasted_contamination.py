"""Benchmark items as people paste them into a prompt: one text, no separate reference or tests.

Shared by `tests/test_decontaminate.py` and `bench/decontamination.py`. Where
`planted_contamination.py` keeps a copy's statement, reference and tests apart (a problem file
built from a benchmark), these kinds put everything a user would paste into the statement alone,
as the problem of a code Problem with no reference and no tests:

- `mbpp_prompt`: MBPP's own prompt, the task sentence, "Your code should pass these tests:" and
  the item's asserts, verbatim (half of them behind the "You are an expert Python programmer"
  preamble of the MBPP paper's prompt);
- `mbpp_reworded`: the same with the instruction reworded ("Write a function to" -> "Implement a
  python function that") and the whitespace of the asserts changed;
- `mbpp_renamed`: the same with the function renamed in every assert;
- `mbpp_sentence`: the task sentence alone behind a one-line instruction, no asserts;
- `humaneval_renamed`: a HumanEval prompt with its entry point renamed and every run of
  whitespace collapsed to one space, behind a one-line instruction;
- `humaneval_wrapped`: a HumanEval prompt between an instruction before it and one after it,
  punctuation of its docstring changed;
- `humaneval_prose`: a HumanEval task told in prose: its docstring's text with the signature in
  words ("Write a function f(a, b) that ..."), examples kept.

Word problems (GSM8K's test split and MATH-500), as math Problems with the question alone:

- `gsm8k_prompt` / `math500_prompt`: the question behind a solving instruction and before an
  answer cue, verbatim;
- `gsm8k_numbers` / `math500_numbers`: every number of the question changed (MATH-500: the items
  whose question keeps `MIN_WORDS` words besides numbers, the word problems; a short formula
  with other numbers, "Evaluate $(1+3i)7-2i$", is another exercise, not a copy);
- `gsm8k_edited`: numbers changed, whitespace collapsed and the instruction prepended at once;
- `math500_spacing`: the LaTeX respaced (spaces around operators and inside `$...$` added or
  removed) behind an instruction.

Clean look-alikes (`look_alikes`): the project's generated code problems rewritten in the same
paste formats (a task sentence, "Your code should pass these tests:" and their own asserts), so a
rule that fires on the format rather than on an item is caught.
"""

from __future__ import annotations

import gzip
import json
import random
import re
from collections.abc import Callable

from benchmark_data import GSM8K, HUMANEVAL, MATH500, MBPP
from planted_contamination import change_numbers

from verified_factory.curate.decontaminate import MIN_WORDS, mask_numbers, words
from verified_factory.records import AssertTests, CallTests, Problem
from verified_factory.sources.code_problems import generate_code
from verified_factory.sources.math_problems import generate_math

MBPP_PREAMBLE = "You are an expert Python programmer, and here is your task: "
INSTRUCTIONS = (
    "Complete the following Python function.",
    "Solve this problem in Python:",
    "Finish the implementation below.",
    "Here is a coding task for you.",
)
AFTER = (
    "Return only the code.",
    "Make sure all the examples pass.",
    "Explain your solution briefly.",
)
_NEW_NAMES = ("solve_task", "compute_value", "my_function", "answer_fn", "helper", "process")


def _mbpp_rows() -> list[dict]:
    return [json.loads(line) for line in MBPP.read_text().splitlines() if line.strip()]


def _humaneval_rows() -> list[dict]:
    with gzip.open(HUMANEVAL, "rt") as stream:
        return [json.loads(line) for line in stream]


def _pasted(item_id: str, kind: str, text: str) -> Problem:
    return Problem(id=f"{item_id}#{kind}", domain="code", problem=text, source="pasted")


def _entry_point(row: dict) -> str:
    found = re.search(r"assert\s+(?:not\s+)?\(?\s*(?:set\()?\s*(\w+)\s*\(", row["test_list"][0])
    return found.group(1) if found else ""


def mbpp_prompt(row: dict, rng: random.Random) -> Problem:
    tests = "\n".join(row["test_list"])
    text = f"{row['text']} Your code should pass these tests:\n\n{tests}"
    if rng.random() < 0.5:
        text = MBPP_PREAMBLE + text
    return _pasted(f"mbpp/{row['task_id']}", "mbpp_prompt", text)


_REWORD = (
    (r"^Write a python function to\b", "Implement a python function that will"),
    (r"^Write a function to\b", "Implement a python function to"),
    (r"^Write a function that\b", "Create a function which"),
    (r"^Write a\b", "Implement a"),
)


def _reword(sentence: str) -> str:
    for pattern, replacement in _REWORD:
        changed = re.sub(pattern, replacement, sentence, flags=re.IGNORECASE)
        if changed != sentence:
            return changed
    return "Please " + sentence[0].lower() + sentence[1:]


def _respace(assertion: str) -> str:
    assertion = re.sub(r"\s*([(),=\[\]])\s*", r"\1", assertion)
    return re.sub(r",", ", ", assertion).replace("==", " == ")


def mbpp_reworded(row: dict, rng: random.Random) -> Problem:
    tests = "\n".join(_respace(t) for t in row["test_list"])
    text = f"{_reword(row['text'])}\nYour code should pass these tests:\n{tests}"
    return _pasted(f"mbpp/{row['task_id']}", "mbpp_reworded", text)


def mbpp_renamed(row: dict, rng: random.Random) -> Problem:
    name = _entry_point(row)
    tests = "\n".join(row["test_list"])
    if name:
        tests = re.sub(rf"\b{re.escape(name)}\b", rng.choice(_NEW_NAMES), tests)
    text = f"{row['text']} Your code should pass these tests:\n\n{tests}"
    return _pasted(f"mbpp/{row['task_id']}", "mbpp_renamed", text)


def mbpp_sentence(row: dict, rng: random.Random) -> Problem:
    text = f"{rng.choice(INSTRUCTIONS)}\n{_reword(row['text'])}"
    return _pasted(f"mbpp/{row['task_id']}", "mbpp_sentence", text)


def humaneval_renamed(row: dict, rng: random.Random) -> Problem:
    fresh = rng.choice(_NEW_NAMES)
    prompt = re.sub(rf"\b{re.escape(row['entry_point'])}\b", fresh, row["prompt"])
    text = f"{rng.choice(INSTRUCTIONS)} " + " ".join(prompt.split())
    return _pasted(row["task_id"], "humaneval_renamed", text)


def humaneval_wrapped(row: dict, rng: random.Random) -> Problem:
    prompt = re.sub(
        r"[,;:!]", lambda m: {",": " ,", ";": ".", ":": " -", "!": "."}[m.group()], row["prompt"]
    )
    text = f"{rng.choice(INSTRUCTIONS)}\n\n{prompt}\n{rng.choice(AFTER)}"
    return _pasted(row["task_id"], "humaneval_wrapped", text)


def humaneval_prose(row: dict, rng: random.Random) -> Problem:
    prompt = row["prompt"]
    signature = re.search(rf"def\s+{re.escape(row['entry_point'])}\s*\(([^)]*)\)", prompt)
    params = ", ".join(
        p.split(":")[0].split("=")[0].strip()
        for p in (signature.group(1) if signature else "").split(",")
    )
    docstring = re.search(r'("""|\'\'\')(.*?)\1', prompt, re.DOTALL)
    body = " ".join((docstring.group(2) if docstring else prompt).split())
    text = f"Write a function {row['entry_point']}({params}) in Python. {body}"
    return _pasted(row["task_id"], "humaneval_prose", text)


MBPP_KINDS: dict[str, Callable[[dict, random.Random], Problem]] = {
    "mbpp_prompt": mbpp_prompt,
    "mbpp_reworded": mbpp_reworded,
    "mbpp_renamed": mbpp_renamed,
    "mbpp_sentence": mbpp_sentence,
}
HUMANEVAL_KINDS: dict[str, Callable[[dict, random.Random], Problem]] = {
    "humaneval_renamed": humaneval_renamed,
    "humaneval_wrapped": humaneval_wrapped,
    "humaneval_prose": humaneval_prose,
}


SOLVE = (
    "Solve the following math problem step by step. Put your final answer in \\boxed{}.",
    "Question:",
    "Please answer the following question.",
    "Problem:",
)
CUE = ("Answer:", "Let's think step by step.", "", "Show your work.")


def _word_problem(item_id: str, kind: str, text: str) -> Problem:
    return Problem(id=f"{item_id}#{kind}", domain="math", problem=text, source="pasted")


def _prompted(question: str, rng: random.Random) -> str:
    return f"{rng.choice(SOLVE)}\n\n{question}\n\n{rng.choice(CUE)}".strip()


def _gsm8k_rows() -> list[dict]:
    with gzip.open(GSM8K, "rt") as stream:
        return [json.loads(line) for line in stream]


def _math500_rows() -> list[dict]:
    with gzip.open(MATH500, "rt") as stream:
        return [json.loads(line) for line in stream]


def is_word_problem(question: str) -> bool:
    """Whether a question keeps `MIN_WORDS` words besides its numbers."""
    return sum(t != "<n>" for t in mask_numbers(words(question))) >= MIN_WORDS


def _respace_latex(text: str, rng: random.Random) -> str:
    if rng.random() < 0.5:
        return re.sub(r"\s*([=+\-*/^<>])\s*", r" \1 ", text)
    return re.sub(r"\s*([=+\-*/^<>,()])\s*", r"\1", text).replace("$ ", "$")


def word_problems(seed: int = 0) -> dict[str, list[Problem]]:
    """Every word-problem kind of every GSM8K test item and MATH-500 item."""
    rng = random.Random(seed)
    gsm8k = [(f"gsm8k/{n}", row["question"]) for n, row in enumerate(_gsm8k_rows())]
    math500 = [(row["unique_id"], row["problem"]) for row in _math500_rows()]
    wordy = [(i, q) for i, q in math500 if is_word_problem(q)]
    return {
        "gsm8k_prompt": [_word_problem(i, "p", _prompted(q, rng)) for i, q in gsm8k],
        "gsm8k_numbers": [_word_problem(i, "n", change_numbers(q, rng)) for i, q in gsm8k],
        "gsm8k_edited": [
            _word_problem(
                i, "e", f"{rng.choice(SOLVE)} " + " ".join(change_numbers(q, rng).split())
            )
            for i, q in gsm8k
        ],
        "math500_prompt": [_word_problem(i, "p", _prompted(q, rng)) for i, q in math500],
        "math500_spacing": [
            _word_problem(i, "s", _prompted(_respace_latex(q, rng), rng)) for i, q in math500
        ],
        "math500_numbers": [_word_problem(i, "n", change_numbers(q, rng)) for i, q in wordy],
    }


def pasted(seed: int = 0) -> dict[str, list[Problem]]:
    """Every paste kind of every MBPP or HumanEval item, then every word-problem kind."""
    rng = random.Random(seed)
    kinds = {kind: [make(r, rng) for r in _mbpp_rows()] for kind, make in MBPP_KINDS.items()}
    humaneval = _humaneval_rows()
    kinds |= {kind: [make(r, rng) for r in humaneval] for kind, make in HUMANEVAL_KINDS.items()}
    return kinds | word_problems(seed)


def _asserts(problem: Problem) -> list[str]:
    match problem.tests:
        case AssertTests():
            return [line for line in problem.tests.code.splitlines() if line.startswith("assert")]
        case CallTests():
            name = problem.tests.entry_point
            return [
                f"assert {name}({', '.join(map(repr, case.args))}) == {case.expected!r}"
                for case in problem.tests.cases
            ]
    return []


def pasted_row(problem: Problem) -> dict[str, object]:
    """The exported row of a pasted problem: the paste as the prompt, an answer of the model's."""
    answer = "Here is the solution, checked against the examples.\n\\boxed{1}"
    return {
        "id": problem.id,
        "domain": problem.domain,
        "messages": [
            {"role": "user", "content": problem.problem},
            {"role": "assistant", "content": answer},
        ],
    }


def look_alikes(seeds: int = 2) -> list[Problem]:
    """Generated code problems pasted as MBPP is (sentence, the phrase, their own asserts), and
    generated math problems behind the same instructions as the word problems."""
    rng = random.Random(seeds)
    problems = []
    for seed in range(seeds):
        for problem in generate_code(1400, seed):
            asserts = _asserts(problem)[:3]
            text = problem.problem
            if asserts:
                text = f"{text} Your code should pass these tests:\n\n" + "\n".join(asserts)
            if rng.random() < 0.3:
                text = f"{rng.choice(INSTRUCTIONS)}\n{text}\n{rng.choice(AFTER)}"
            problems.append(
                Problem(id=f"{problem.id}#pasted", domain="code", problem=text, source="clean")
            )
        for problem in generate_math(1400, seed):
            text = _prompted(problem.problem, rng)
            problems.append(
                Problem(id=f"{problem.id}#pasted", domain="math", problem=text, source="clean")
            )
    return problems
