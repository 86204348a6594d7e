"""OSS-Instruct: seeds read from code files, snippets drawn from them, and replies parsed and
filtered, against a loopback endpoint with scripted replies."""

from __future__ import annotations

import asyncio
import json
import random
from pathlib import Path

import pytest
from model_server import ModelServer
from test_synthesis import run_synthesizer, scripted, settings

from verified_factory.config import SynthesizerConfig
from verified_factory.models.base import ChatRequest, Completion, Message
from verified_factory.records import AssertTests, Problem
from verified_factory.run_store import RunStore
from verified_factory.synthesis.base import Synthesized
from verified_factory.synthesis.filters import rouge_l
from verified_factory.synthesis.oss_instruct import OssInstruct, Snippet, draw_snippet, prompt
from verified_factory.synthesis.registry import synthesizer_class
from verified_factory.synthesis.runner import synthesize
from verified_factory.synthesis.self_instruct import SelfInstruct

STATS_PY = '''"""Small statistics helpers."""

import math


def mean(values):
    """The arithmetic mean."""
    return sum(values) / len(values)


def variance(values):
    centre = mean(values)
    return sum((v - centre) ** 2 for v in values) / len(values)



def stdev(values):
    return math.sqrt(variance(values))
'''

SERVER_GO = """package main

import "fmt"

// Window keeps the largest value seen so far.
type Window struct {
\tbest int
}

func (w *Window) Push(v int) {
\tif v > w.best {
\t\tw.best = v
\t}
}

func main() {
\tfmt.Println("ok")
}
"""


def write(path: Path, content: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    return path


def code_seeds(folder: Path) -> list[Problem]:
    write(folder / "stats.py", STATS_PY)
    write(folder / "window.go", SERVER_GO)
    return OssInstruct.load_seeds([folder])


def test_load_seeds_keeps_code_files_and_skips_hidden_generated_binary_and_empty(
    tmp_path: Path,
) -> None:
    src = tmp_path / "src"
    kept = [
        write(src / "a.py", "x = 1\n"),
        write(src / "b.js", "let y = 2;\n"),
        write(src / "pkg" / "deep" / "c.py", "def c():\n    return 3\n"),
    ]
    write(src / "notes.txt", "not code\n")
    write(src / "blank.py", "  \n\n")
    write(src / "empty.py", "")
    write(src / "binary.py", b"\xff\xfe\x00\x01")
    write(src / "nul.py", "x = 1\0\n")
    write(src / ".hidden" / "d.py", "d = 4\n")
    write(src / "__pycache__" / "e.py", "e = 5\n")
    write(src / "node_modules" / "f.js", "f = 6\n")
    write(src / ".venv" / "g.py", "g = 7\n")
    single = write(tmp_path / "one.rs", "fn main() {}\n")

    seeds = OssInstruct.load_seeds([src, single, src / "a.py"])  # a.py twice: kept once

    assert [seed.id for seed in seeds] == [str(p) for p in [*kept, single]]
    for seed, path in zip(seeds, [*kept, single], strict=True):
        assert seed.domain == "code"
        assert seed.problem == path.read_text()
        assert seed.source == f"file:{path}"
        assert seed.meta == {"path": str(path)}


def test_load_seeds_says_which_paths_held_no_code_file(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    prose = write(tmp_path / "docs" / "readme.md", "# Read me\n").parent
    with pytest.raises(ValueError, match="no readable code file") as raised:
        OssInstruct.load_seeds([empty, prose])
    assert str(empty) in str(raised.value) and str(prose) in str(raised.value)
    with pytest.raises(ValueError, match="does not exist"):
        OssInstruct.load_seeds([tmp_path / "missing"])


def test_the_default_load_seeds_reads_problem_files_and_names_a_bad_one(tmp_path: Path) -> None:
    good = write(tmp_path / "seeds.jsonl", json.dumps({"id": "s1", "problem": "1 + 1?"}) + "\n")
    with pytest.raises(ValueError, match=f"seed file {good}: problem 's1'"):
        SelfInstruct.load_seeds([good])  # no domain
    good.write_text(json.dumps({"id": "s1", "domain": "math", "problem": "1 + 1?"}) + "\n")
    assert [seed.id for seed in SelfInstruct.load_seeds([good])] == ["s1"]
    empty = write(tmp_path / "empty.jsonl", "")
    with pytest.raises(ValueError, match="hold no problem"):
        SelfInstruct.load_seeds([empty])


def test_snippets_are_consecutive_non_blank_runs_of_the_drawn_length() -> None:
    lines = STATS_PY.splitlines()
    rng = random.Random(7)
    for min_lines, max_lines in ((1, 15), (3, 5), (4, 4)):
        lengths = set()
        for _ in range(300):
            snippet = draw_snippet(STATS_PY, rng, min_lines, max_lines)
            assert 1 <= snippet.start <= snippet.end <= len(lines)
            length = snippet.end - snippet.start + 1
            assert min_lines <= length <= max_lines
            assert snippet.text == "\n".join(lines[snippet.start - 1 : snippet.end])
            assert snippet.text.strip()
            lengths.add(length)
        assert lengths == set(range(min_lines, max_lines + 1))


def test_a_snippet_finds_the_one_code_line_among_blank_ones() -> None:
    code = "\n" * 200 + "answer = 42\n" + "\n" * 200
    rng = random.Random(0)
    for _ in range(20):
        assert draw_snippet(code, rng, 1, 1) == Snippet(201, 201, "answer = 42")
    short = draw_snippet("a = 1\nb = 2\n", rng, 5, 9)
    assert (short.start, short.end) == (1, 2)  # a file shorter than the length: all of it


def test_the_prompt_shows_the_snippet_exactly_in_a_fence_it_cannot_close() -> None:
    snippet = Snippet(3, 4, "def f(x):\n    return {x: '{y}'}")
    assert "```\ndef f(x):\n    return {x: '{y}'}\n```" in prompt(snippet)
    fenced = prompt(Snippet(1, 3, 'doc = """\n```python\n"""'))
    assert '````\ndoc = """\n```python\n"""\n````' in fenced
    assert "Gain inspiration from the following random code snippet" in fenced


def reply(
    problem: str,
    *,
    entry: str = "running_max",
    solution: str = "",
    tests: str = "",
    strategy: str | None = None,
) -> str:
    """A reply in the requested layout."""
    text = (
        f"Problem:\n{problem}\nEntry point: {entry}\n"
        f"Solution:\n```python\n{solution or SOLUTION}\n```\n"
        f"Tests:\n```python\n{tests or TESTS}\n```\n"
    )
    if strategy is not None:
        text += f"Input strategy (optional):\n```python\n{strategy}\n```\n"
    return text


KEPT = (
    "Write a Python function `running_max(values: list[int]) -> list[int]` that returns a list "
    "whose i-th item is the largest of the first i + 1 items of values; an empty input gives an "
    "empty list."
)
# 11 of KEPT's 37 words changed: ROUGE-L 26/37 = 0.703, above 0.7.
NEAR = (
    "Write a Python function `running_max(values: list[int]) -> list[int]` that gives a list "
    "where i-th entry is the maximum of the leading i + 1 elements in values; an empty argument "
    "yields a blank list."
)
# One word more changed: 25/37 = 0.676, not above.
FAR_ENOUGH = NEAR.replace("maximum of the", "maximum among the")
SOLUTION = """def running_max(values):
    best, out = None, []
    for v in values:
        best = v if best is None else max(best, v)
        out.append(best)
    return out"""
TESTS = """assert running_max([]) == []
assert running_max([3, 1, 4]) == [3, 3, 4]"""
STRATEGY = "strategy = st.tuples(st.lists(st.integers()))"

# The good reply, in the markdown a model likes; the tests have an import, a two-line assert
# and a bare fence.
GOOD = f"""Here is a problem inspired by the snippet.

**Problem:**
{KEPT}

**Entry point:** `running_max`

### Solution
```python
{SOLUTION}
```

**Tests:**
```
import math
assert running_max([]) == []
assert running_max(
    [2, 7, 1]) == [2, 7, 7]
assert math.isclose(running_max([0.5])[0], 0.5)
```

**Input strategy (optional):**
```python
{STRATEGY}
```
"""

SCRIPT = [
    (GOOD, None),
    (reply(KEPT).split("Solution:")[0] + "Tests:\n```python\n" + TESTS + "\n```", "no Solution"),
    (reply(KEPT, tests="assert running_max([1] == [1]"), "the tests are not valid Python"),
    (reply(KEPT, solution="def running_max(:\n    pass"), "the solution is not valid Python"),
    (reply(KEPT, entry="prefix_max"), "defines no top-level function 'prefix_max'"),
    (reply(KEPT, tests="x = running_max([1])"), "no top-level assert"),
    (reply(KEPT, tests="assert max([1, 2]) == 2"), "never call 'running_max'"),
    (reply("Compute running maxima."), "the problem has 3 words; at least 5"),
    (reply(KEPT.replace("running_max", "the function")), "does not name the entry point"),
    (reply(NEAR), "ROUGE-L 0.703 with an earlier problem, above 0.7"),
    (reply(FAR_ENOUGH, strategy="strategy = st.tuples("), None),  # a bad strategy is omitted
]


def run_script(tmp_path: Path, prompts: list[str]) -> tuple[list[Problem], Synthesized]:
    seeds = code_seeds(tmp_path / "src")
    replies = [text for text, _ in SCRIPT]
    with ModelServer(responder=scripted(replies, prompts)) as server:
        synthesizer = OssInstruct(settings("oss", count=len(replies), rounds=1))
        return seeds, run_synthesizer(synthesizer, server, seeds)


def test_a_run_keeps_good_replies_and_says_why_it_dropped_each_other(tmp_path: Path) -> None:
    prompts: list[str] = []
    seeds, result = run_script(tmp_path, prompts)

    first, second = result.problems
    assert first.id == "oss/r1-0" and second.id == "oss/r1-1"
    assert first.domain == "code"  # the settings say math
    assert first.source == "synthesis:oss"
    assert first.problem == KEPT and second.problem == FAR_ENOUGH
    assert first.reference == SOLUTION
    assert first.tests == AssertTests(
        format="assert",
        code="import math\n"
        "assert running_max([]) == []\n"
        "assert running_max([2, 7, 1]) == [2, 7, 7]\n"
        "assert math.isclose(running_max([0.5])[0], 0.5)\n",
        entry_point="running_max",
    )
    assert first.meta["entry_point"] == "running_max"
    assert first.meta["tests_trusted"] is False
    assert first.meta["input_strategy"] == STRATEGY
    assert "input_strategy" not in second.meta
    provenance = first.meta["provenance"]
    assert provenance["synthesizer"] == "oss_instruct" and provenance["round"] == 1

    reasons = [d.reason for d in result.dropped]
    expected = [reason for _, reason in SCRIPT if reason is not None]
    assert len(reasons) == len(expected)
    for reason, wanted in zip(reasons, expected, strict=True):
        assert wanted in reason, (wanted, reason)
    assert result.dropped[1].text == SCRIPT[2][0]  # the reply as it came

    # every candidate's snippet (file, first and last line) is the one its prompt showed
    texts = {seed.meta["path"]: seed.problem.splitlines() for seed in seeds}
    kept = iter(problem.meta["provenance"] for problem in result.problems)
    dropped = iter(candidate.provenance for candidate in result.dropped)
    in_order = [next(kept) if reason is None else next(dropped) for _, reason in SCRIPT]
    for provenance, shown in zip(in_order, prompts, strict=True):
        snippet = provenance["snippet"]
        lines = texts[snippet["path"]][snippet["start"] - 1 : snippet["end"]]
        assert 1 <= snippet["end"] - snippet["start"] + 1 <= 15
        assert "```\n" + "\n".join(lines) + "\n```" in shown
        assert provenance["seeds"] == [snippet["path"]]
    assert {p["snippet"]["path"] for p in in_order} == set(texts)  # both files were drawn


def test_the_novelty_threshold_sits_between_the_two_near_copies() -> None:
    assert 0.7 < rouge_l(KEPT, NEAR) < 0.71
    assert 0.67 < rouge_l(KEPT, FAR_ENOUGH) < 0.7


def test_a_request_without_completion_is_dropped(tmp_path: Path) -> None:
    async def nothing(prompts: list[str]) -> list[str | None]:
        return [None] * len(prompts)

    synthesizer = OssInstruct(settings("oss", count=2, rounds=2))
    result = asyncio.run(synthesizer.run(code_seeds(tmp_path), nothing, random.Random(0)))
    assert result.problems == []
    assert [(d.text, d.reason) for d in result.dropped] == [("", "no completion")] * 4
    assert [d.provenance["round"] for d in result.dropped] == [1, 1, 2, 2]


def test_line_options_are_checked() -> None:
    synthesizer = OssInstruct(settings("oss", options={"min_lines": 5, "max_lines": 2}))
    with pytest.raises(ValueError, match=r"min_lines \(5\) must be at least 1"):
        asyncio.run(synthesizer.run([], no_model, random.Random(0)))


async def no_model(prompts: list[str]) -> list[str | None]:
    raise AssertionError("no request was due")


def test_oss_instruct_is_found_by_kind() -> None:
    assert synthesizer_class("oss_instruct") is OssInstruct


def run_entries(tmp_path: Path, entry: SynthesizerConfig, answer: str) -> list[Path]:
    """`runner.synthesize` on one entry, every request answered with `answer`."""

    def make_request(prompt_text: str, sample: int) -> ChatRequest:
        message = Message(role="user", content=prompt_text)
        return ChatRequest(
            model="m", messages=(message,), temperature=0.8, max_tokens=64, sample=sample
        )

    async def complete(log: Path, requests: list[ChatRequest]) -> dict[str, Completion]:
        return {r.key: Completion(key=r.key, text=answer, model="m") for r in requests}

    store = RunStore(tmp_path / "run")
    return asyncio.run(synthesize([entry], store, complete, make_request, seed=1))


def test_the_runner_reads_seeds_the_way_the_kind_says(tmp_path: Path) -> None:
    folder = tmp_path / "src"
    code_seeds(folder)
    entry = SynthesizerConfig(name="snips", kind="oss_instruct", seeds=[folder], count=2, rounds=1)
    (output,) = run_entries(tmp_path, entry, GOOD)
    rows = [json.loads(line) for line in output.read_text().splitlines()]
    assert [row["id"] for row in rows] == ["snips/r1-0"]  # the second is a repeat: ROUGE-L 1.0
    assert rows[0]["tests"]["entry_point"] == "running_max"
    assert rows[0]["meta"]["provenance"]["snippet"]["path"].startswith(str(folder))

    empty = tmp_path / "empty"
    empty.mkdir()
    entry = entry.model_copy(update={"seeds": [empty]})
    with pytest.raises(ValueError, match="synthesizer 'snips': no readable code file"):
        run_entries(tmp_path / "again", entry, GOOD)

    # a Problem-file synthesizer still reads Problem files, and its errors name the entry
    entry = SynthesizerConfig(name="si", kind="self_instruct", seeds=[folder / "stats.py"])
    with pytest.raises(ValueError, match=r"synthesizer 'si': seed file .*stats\.py: line 1"):
        run_entries(tmp_path / "problems", entry, "Problem: What is 2 + 2?")


# --- a whole job: snippets -> problems -> samples judged by dual agreement ----------------------

TASKS = {
    "double_all": (
        "Write a Python function `double_all(xs: list[int]) -> list[int]` that returns a new "
        "list holding twice each element of xs, in the same order.",
        "def double_all(xs):\n    return [2 * x for x in xs]\n",
        "def double_all(xs):\n    return xs\n",
        ["double_all([]) == []", "double_all([1, -2]) == [2, -4]", "double_all([3]) == [6]"],
    ),
    "count_evens": (
        "Implement `count_evens(values: list[int]) -> int` in Python: how many of the integers "
        "in values are divisible by two? Zero and negative numbers count too.",
        "def count_evens(values):\n    return sum(1 for v in values if v % 2 == 0)\n",
        "def count_evens(values):\n    return sum(1 for v in values if v % 2 == 1)\n",
        ["count_evens([]) == 0", "count_evens([1, 2, 4]) == 2", "count_evens([0, -2]) == 2"],
    ),
    "largest_gap": (
        "Given a list of numbers, the function `largest_gap(nums)` must report the difference "
        "between its maximum and its minimum, or 0 for an empty list. Write it.",
        "def largest_gap(nums):\n    return max(nums) - min(nums) if nums else 0\n",
        "def largest_gap(nums):\n    return max(nums) - min(nums)\n",
        ["largest_gap([]) == 0", "largest_gap([4, 1, 9]) == 8", "largest_gap([5]) == 0"],
    ),
}


def oss_reply(name: str) -> str:
    problem, right, _, asserts = TASKS[name]
    tests = "\n".join(f"assert {a}" for a in [*asserts[:2], f"{name}([7]) == 99"])  # one wrong
    return (
        f"Problem:\n{problem}\n\nEntry point: {name}\n\nSolution:\n```python\n{right}```\n\n"
        f"Tests:\n```python\n{tests}\n```\n"
    )


@pytest.mark.slow
def test_a_job_makes_problems_from_snippets_and_judges_them_by_dual_agreement(
    tmp_path: Path,
) -> None:
    """OSS-Instruct as a source, its problems solved against model-written tests: the right
    samples and the model's own solution agree, the wrong sample and the wrong tests are left
    out, the rows carry the agreed tests; a resumed run asks nothing again."""
    from generation_support import exported_rows, generate_locally, job_config, run_records

    from verified_factory.records import Candidate
    from verified_factory.sandboxes import open_sandbox
    from verified_factory.verifiers.code.verifier import CodeVerifier

    code = tmp_path / "code"
    code.mkdir()
    (code / "util.py").write_text("def scale(xs, k):\n    return [x * k for x in xs]\n")
    names = iter(TASKS)
    seen: dict[str, int] = {}

    def respond(request: dict) -> str:
        prompt_text = request["messages"][-1]["content"]
        if "Gain inspiration" in prompt_text:
            return oss_reply(next(names))
        name = next(n for n in TASKS if f"`{n}" in prompt_text or f"{n}(" in prompt_text)
        _, right, wrong, asserts = TASKS[name]
        if prompt_text.startswith("Write tests"):
            lines = [*asserts, f"{name}([1, 2, 3]) == -1"]  # the last is wrong
            return "```python\n" + "".join(f"assert {line}\n" for line in lines) + "```"
        seen[prompt_text] = seen.get(prompt_text, 0) + 1
        program = wrong if seen[prompt_text] == 4 else right  # one sample in four is wrong
        return f"The approach is simple.\n\n```python\n{program}```"

    with ModelServer(responder=respond) as server:
        config = job_config(
            tmp_path,
            source={
                "synthesize": [
                    {
                        "name": "oss",
                        "kind": "oss_instruct",
                        "seeds": [str(code)],
                        "count": 3,
                        "rounds": 1,
                    }
                ]
            },
            model={"backend": "openai", "base_url": server.base_url, "model": "loopback"},
            solve={"samples": 4, "keep": 1, "unit_size": 4},
            curate={"decontaminate": {"enabled": False}},
            sandbox={"backend": "process"},
        )
        asked = generate_locally(config, server)

    assert asked == 3 + 3 * (4 + 2)  # synthesis; per problem 4 samples and 2 requests for tests
    attempts, errors = run_records(config.run_dir)
    assert errors == []
    assert len(attempts) == 12 and not any(a.rationalized for a in attempts)
    accepted = [a for a in attempts if a.verdict.accepted]
    assert len(accepted) == 9, [a.verdict.reason for a in attempts]
    assert all("dual agreement" in a.verdict.reason for a in attempts)
    assert all(a.agreement == pytest.approx(4 / 5) for a in accepted)  # 3 samples + reference

    rows = exported_rows(config.run_dir / "export")
    assert len(rows) == 3
    with open_sandbox("process") as box:
        verifier = CodeVerifier(box)
        for row in rows:
            assert row["provenance"]["synthesizer"] == "oss_instruct"
            snippet = {"path": str(code / "util.py"), "start": 1, "end": 2}
            assert row["provenance"]["snippet"] == snippet
            tests = json.loads(row["tests"])
            assert "99" not in tests["code"] and "-1" not in tests["code"]  # wrong tests left out
            assert tests["code"].count("assert") == 3
            assert row["reference"], "the model's solution was in the consensus: it stays"
            again = Candidate(
                id="again",
                domain="code",
                problem="again",
                tests=tests,
                reference=row["reference"],
                response=row["messages"][1]["content"],
            )
            assert verifier.verify(again).accepted
