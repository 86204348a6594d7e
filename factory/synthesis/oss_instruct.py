"""OSS-Instruct (Magicoder, Wei et al. 2024): Python problems inspired by snippets of real code.

The seeds are the user's code files, not problems (`load_seeds` reads files and folders). Each
request shows a snippet of `min_lines` to `max_lines` (1 to 15) consecutive lines of a file drawn
at random, in whatever language, and asks for a self-contained Python problem it inspires, with a
solution, 5 to 10 assert tests and, optionally, a Hypothesis strategy for the function's inputs.
Real code as the seed of each request makes the problems more diverse, and closer to the code
people write, than what a model imagines alone: that is the paper's point.

A reply is dropped, with the reason, when a section is missing; the problem fails the length
filter (`min_words` 5, `max_words` 400) or the `blacklist` (empty: "file" is a normal word in a
code problem); the solution or the tests are not Python; the solution does not define the entry
point at its top level; the tests have no top-level assert or never call the entry point; the
problem does not name it; or its ROUGE-L with a problem kept earlier in the run is above
`threshold` (0.7). The model wrote the tests along with the solution, so a kept problem is marked
`tests_trusted: False`: the pipeline judges it by dual agreement, not by its tests alone.
"""

from __future__ import annotations

import ast
import keyword
import random
import re
import textwrap
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from verified_factory.records import AssertTests, Problem
from verified_factory.synthesis.base import Ask, Dropped, Synthesized, Synthesizer
from verified_factory.synthesis.filters import NoveltyPool, instruction_problem
from verified_factory.verifiers.code.dual_agreement import calls_function, split_tests

CODE_EXTENSIONS: tuple[str, ...] = (
    ".py",
    ".js",
    ".ts",
    ".java",
    ".c",
    ".cc",
    ".cpp",
    ".h",
    ".go",
    ".rs",
    ".rb",
    ".sh",
    ".jl",
    ".scala",
    ".kt",
    ".swift",
    ".php",
    ".cs",
    ".lua",
    ".r",
)
"""The files a seed folder contributes, by extension (case-insensitive)."""

SKIPPED_DIRS = frozenset({"__pycache__", ".venv", "node_modules"})
"""Folders never walked, besides hidden ones."""

SNIPPET_TRIES = 20
"""Random starts tried before a snippet's start is chosen among the non-blank windows only."""

PROMPT = """You are exceptionally skilled at crafting high-quality programming problems and \
offering precise solutions. Gain inspiration from the following random code snippet to create a \
high-quality, self-contained Python programming problem. The snippet may be in any language and \
is only a starting point: the problem need not mention it, and it must be solvable without it.

Code snippet:
{fence}
{snippet}
{fence}

The problem is always about writing one Python function. Reply in exactly these labelled \
sections:

Problem:
<the problem statement, complete and self-contained; it must name the Python function to write \
and give its signature>
Entry point: <the function's name>
Solution:
```python
<a correct solution that defines the function, with the standard library only>
```
Tests:
```python
<5 to 10 independent assert statements, one per line, each calling the function>
```
Input strategy (optional):
```python
<code that defines `strategy`, a Hypothesis strategy drawing tuples of arguments for the \
function; `st` (hypothesis.strategies) is in scope>
```"""

SECTIONS = ("Problem", "Entry point", "Solution", "Tests", "Input strategy")
REQUIRED = SECTIONS[:4]

# A section's label on a line of its own or before a colon, with or without markdown around it:
# "Tests:", "**Problem:**", "### Solution", "Input strategy (optional):".
_HEADER = re.compile(
    r"^[ \t]*(?:#{1,6}[ \t]*)?[*_]*[ \t]*"
    r"(problem(?:[ \t]+statement)?|entry[ _-]?point|solution|tests?(?:[ \t]+cases)?"
    r"|input[ _-]?strategy)"
    r"[ \t]*(?:\([^)\n]*\))?[ \t]*[*_]*[ \t]*(?::[ \t]*[*_]*|$)",
    re.IGNORECASE | re.MULTILINE,
)
# A fenced block, with any language tag or none; it closes with a fence at least as long.
_FENCE = re.compile(r"^[ \t]*(`{3,})[^\n`]*\n(.*?)^[ \t]*\1`*[ \t]*$", re.DOTALL | re.MULTILINE)
_OPENING_FENCE = re.compile(r"\A[ \t]*`{3,}[^\n`]*\n")
_IDENTIFIER = re.compile(r"[A-Za-z_]\w*")


@dataclass(frozen=True)
class Snippet:
    """Lines `start` to `end` (1-based, inclusive) of a code file, and their text."""

    start: int
    end: int
    text: str


@dataclass(frozen=True)
class Draft:
    """A reply that passed every filter but novelty."""

    problem: str
    entry_point: str
    solution: str
    tests: str
    input_strategy: str | None


class OssInstruct(Synthesizer):
    kind = "oss_instruct"

    @classmethod
    def load_seeds(cls, paths: list[Path]) -> list[Problem]:
        """One seed a code file: each path is a code file or a folder, walked recursively."""
        seeds: list[Problem] = []
        seen: set[Path] = set()
        for file in (file for path in paths for file in code_files(path)):
            if file.resolve() in seen:
                continue
            seen.add(file.resolve())
            code = _read_code(file)
            if code is None:
                continue
            seeds.append(
                Problem(
                    id=str(file),
                    domain="code",
                    problem=code,
                    source=f"file:{file}",
                    meta={"path": str(file)},
                )
            )
        if not seeds:
            listed = ", ".join(map(str, paths))
            raise ValueError(
                f"no readable code file ({' '.join(CODE_EXTENSIONS)}) in the seeds: {listed}"
            )
        return seeds

    async def run(self, seeds: list[Problem], ask: Ask, rng: random.Random) -> Synthesized:
        options = self.settings.options
        min_lines, max_lines = self._line_range()
        limits = {
            "min_words": int(options.get("min_words", 5)),
            "max_words": int(options.get("max_words", 400)),
            "blacklist": options.get("blacklist", ()),
        }
        files = [seed for seed in seeds if seed.problem.strip()]
        if not files:
            raise ValueError(f"synthesizer {self.settings.name!r}: every seed file is blank")
        pool = NoveltyPool((), float(options.get("threshold", 0.7)))
        result = Synthesized()
        for round_ in range(1, self.settings.rounds + 1):
            wanted = self.settings.count - len(result.problems)
            if wanted <= 0:
                break
            drawn = []
            for _ in range(wanted):
                seed = rng.choice(files)
                drawn.append((seed, draw_snippet(seed.problem, rng, min_lines, max_lines)))
            replies = await ask([prompt(snippet) for _, snippet in drawn])
            for (seed, snippet), reply in zip(drawn, replies, strict=True):
                provenance = self.provenance([seed], round_)
                provenance["snippet"] = {
                    "path": seed.meta.get("path", seed.id),
                    "start": snippet.start,
                    "end": snippet.end,
                }
                found = "no completion" if reply is None else read_reply(reply, **limits)
                if isinstance(found, Draft):
                    found = _novel(found, pool)
                if isinstance(found, str):
                    result.dropped.append(Dropped(reply or "", found, provenance))
                    continue
                result.problems.append(self._problem(len(result.problems), found, provenance))
        return result

    def _line_range(self) -> tuple[int, int]:
        options = self.settings.options
        min_lines = int(options.get("min_lines", 1))
        max_lines = int(options.get("max_lines", 15))
        if not 1 <= min_lines <= max_lines:
            raise ValueError(
                f"synthesizer {self.settings.name!r}: min_lines ({min_lines}) must be at least 1 "
                f"and at most max_lines ({max_lines})"
            )
        return min_lines, max_lines

    def _problem(self, number: int, found: Draft, provenance: dict[str, Any]) -> Problem:
        problem = self.new_problem(
            number, found.problem, provenance, reference=found.solution, domain="code"
        )
        problem.tests = AssertTests(
            format="assert", code=found.tests, entry_point=found.entry_point
        )
        problem.meta["entry_point"] = found.entry_point
        problem.meta["tests_trusted"] = False
        if found.input_strategy is not None:
            problem.meta["input_strategy"] = found.input_strategy
        return problem


def _novel(found: Draft, pool: NoveltyPool) -> Draft | str:
    """`found` when its problem joins the pool, else why it does not."""
    novel, score, closest = pool.admit(found.problem)
    if novel:
        return found
    return (
        f"ROUGE-L {score:.3f} with an earlier problem, above {pool.threshold:g}: "
        f"{(closest or '')[:80]!r}"
    )


def code_files(path: Path) -> list[Path]:
    """`path` if it is a code file, else the code files under the folder `path`, sorted.

    Hidden folders and those of `SKIPPED_DIRS` are not walked; links to folders are not followed.
    """
    if path.is_dir():
        return _walk(path)
    if not path.exists():
        raise ValueError(f"seed path {path} does not exist")
    return [path] if _is_code(path) else []


def _walk(folder: Path) -> list[Path]:
    files = []
    for entry in sorted(folder.iterdir()):
        if entry.is_dir():
            if not (entry.is_symlink() or entry.name.startswith(".") or entry.name in SKIPPED_DIRS):
                files.extend(_walk(entry))
        elif _is_code(entry):
            files.append(entry)
    return files


def _is_code(path: Path) -> bool:
    return path.is_file() and path.suffix.lower() in CODE_EXTENSIONS


def _read_code(path: Path) -> str | None:
    """The text of a code file; None when it cannot be read, is binary or is blank."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    return text if text.strip() and "\0" not in text else None


def draw_snippet(code: str, rng: random.Random, min_lines: int = 1, max_lines: int = 15) -> Snippet:
    """`randint(min_lines, max_lines)` consecutive lines of `code` (all of it when shorter), not
    all blank, their start uniform among such windows; `code` must have a non-blank line."""
    lines = code.splitlines()
    length = min(rng.randint(min_lines, max_lines), len(lines))
    last_start = len(lines) - length

    def blank(start: int) -> bool:
        return not any(line.strip() for line in lines[start : start + length])

    start = rng.randint(0, last_start)
    tries = 1
    while blank(start) and tries < SNIPPET_TRIES:
        start = rng.randint(0, last_start)
        tries += 1
    if blank(start):
        start = rng.choice([s for s in range(last_start + 1) if not blank(s)])
    return Snippet(start + 1, start + length, "\n".join(lines[start : start + length]))


def prompt(snippet: Snippet) -> str:
    """The request for a problem inspired by `snippet`, shown in a fence longer than any run of
    backquotes in it."""
    longest = max((len(run) for run in re.findall(r"`+", snippet.text)), default=0)
    return PROMPT.format(fence="`" * max(3, longest + 1), snippet=snippet.text)


def reply_sections(reply: str) -> dict[str, str]:
    """The labelled sections of a reply (`SECTIONS`), each the text up to the next label; a label
    inside a fenced block does not count, and the first of a repeated label wins."""
    fences = [match.span() for match in _FENCE.finditer(reply)]
    headers = [
        match
        for match in _HEADER.finditer(reply)
        if not any(start <= match.start() < end for start, end in fences)
    ]
    sections: dict[str, str] = {}
    for header, following in zip(headers, [*headers[1:], None], strict=True):
        key = next(s for s in SECTIONS if header.group(1).lower().startswith(s[:4].lower()))
        end = following.start() if following else len(reply)
        sections.setdefault(key, reply[header.end() : end])
    return sections


def section_code(text: str) -> str:
    """The code of a section: its first fenced block, else its text without an unclosed opening
    fence (a reply cut short), dedented."""
    block = _FENCE.search(text)
    code = block.group(2) if block else _OPENING_FENCE.sub("", text.strip("\n"))
    return textwrap.dedent(code).strip()


def read_reply(
    reply: str,
    *,
    min_words: int = 5,
    max_words: int = 400,
    blacklist: Iterable[str] = (),
) -> Draft | str:
    """The problem, solution and tests of a reply, or why it is dropped (novelty aside)."""
    sections = reply_sections(reply)
    missing = [name for name in REQUIRED if not sections.get(name, "").strip()]
    if missing:
        return f"no {' or '.join(missing)} section"
    problem = sections["Problem"].strip()
    reason = instruction_problem(
        problem, min_words=min_words, max_words=max_words, blacklist=blacklist
    )
    if reason is not None:
        return f"the problem {reason}"
    solution, tests = section_code(sections["Solution"]), section_code(sections["Tests"])
    solution_tree = _parse(solution)
    if isinstance(solution_tree, str):
        return f"the solution is not valid Python: {solution_tree}"
    tests_tree = _parse(tests)
    if isinstance(tests_tree, str):
        return f"the tests are not valid Python: {tests_tree}"
    defined = [node.name for node in solution_tree.body if isinstance(node, ast.FunctionDef)]
    entry = _entry_point(sections["Entry point"], defined)
    if entry is None:
        return "the Entry point section names no Python function"
    if entry not in defined:
        return (
            f"the solution defines no top-level function {entry!r} "
            f"(it defines: {', '.join(defined) or 'none'})"
        )
    asserts = [node for node in tests_tree.body if isinstance(node, ast.Assert)]
    if not asserts:
        return "the tests hold no top-level assert statement"
    if not calls_function(tests_tree, entry):
        return f"the tests never call {entry!r}"
    if not re.search(rf"(?<!\w){re.escape(entry)}(?!\w)", problem):
        return f"the problem does not name the entry point {entry!r}"
    return Draft(
        problem=problem,
        entry_point=entry,
        solution=solution,
        tests=split_tests(tests).code(),
        input_strategy=_input_strategy(sections.get("Input strategy")),
    )


def _parse(code: str) -> ast.Module | str:
    """The module, or the syntax error with its line."""
    try:
        return ast.parse(code)
    except SyntaxError as err:
        return f"{err.msg} (line {err.lineno})"


def _entry_point(text: str, defined: list[str]) -> str | None:
    """The function the Entry point section names: on its first non-blank line, the first name
    the solution defines, else the first name that is not a keyword ("def", "lambda")."""
    line = next((line for line in text.splitlines() if line.strip()), "")
    names = [name for name in _IDENTIFIER.findall(line) if not keyword.iskeyword(name)]
    return next((name for name in names if name in defined), names[0] if names else None)


def _input_strategy(text: str | None) -> str | None:
    """The input strategy's code, when it parses and defines `strategy` at its top level."""
    if text is None:
        return None
    code = section_code(text)
    tree = _parse(code)
    if isinstance(tree, str):
        return None
    return code if "strategy" in _top_level_names(tree) else None


def _top_level_names(tree: ast.Module) -> set[str]:
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names.update(target.id for target in targets if isinstance(target, ast.Name))
    return names
