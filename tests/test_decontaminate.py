"""Decontamination: planted copies of HumanEval and MBPP are removed, our own problems are not.

The rates asserted here are the ones `bench/decontamination.py` reports.
"""

from __future__ import annotations

import gzip
import json
import os
import pickle
import random
import subprocess
import sys
import types
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from benchmark_data import BENCHMARKS, HUMANEVAL, MBPP
from pasted_contamination import look_alikes, pasted, pasted_row
from planted_contamination import (
    KINDS,
    as_row,
    clean_problems,
    humaneval_problems,
    mbpp_problems,
    planted,
)

from verified_factory.curate import benchmarks
from verified_factory.curate.benchmarks import (
    BenchmarkError,
    BenchmarkItem,
    benchmark_paths,
    load_benchmarks,
    pull_benchmarks,
)
from verified_factory.curate.decontaminate import (
    Decontaminator,
    Hit,
    decontaminate_file,
    literal_calls,
)
from verified_factory.models.base import Message
from verified_factory.records import Problem, Verdict
from verified_factory.rows import Attempt

RULES = {"ngram", "code", "calls", "statement", "ngram_numbers", "code_numbers"}


@pytest.fixture(scope="module")
def code_benchmarks() -> list[BenchmarkItem]:
    return load_benchmarks([HUMANEVAL, MBPP])


@pytest.fixture(scope="module")
def checker(code_benchmarks: list[BenchmarkItem]) -> Decontaminator:
    return Decontaminator(code_benchmarks)


@pytest.fixture(scope="module")
def copies() -> dict[str, list[Problem]]:
    return planted(seed=0)


def _original(copy: Problem) -> str:
    """`HumanEval/3#renamed` -> `HumanEval/3`; `mbpp/12#exact` -> `12` (MBPP's task_id)."""
    original = copy.id.split("#")[0]
    return original.removeprefix("mbpp/")


# --- planted contamination -------------------------------------------------------------------


@pytest.mark.parametrize("kind", list(KINDS))
def test_removes_at_least_99_percent_of_each_kind_of_copy(
    checker: Decontaminator, copies: dict[str, list[Problem]], kind: str
) -> None:
    problems = copies[kind]
    missed = [p.id for p in problems if checker.check_problem(p) is None]
    assert len(problems) == 164 + 974
    assert len(missed) <= 0.01 * len(problems), missed


def test_wrongly_removes_at_most_1_percent_of_our_own_problems(checker: Decontaminator) -> None:
    clean = clean_problems()
    assert len(clean) >= 2000
    assert {p.domain for p in clean} == {"code", "math"}
    removed = [(p.id, hit) for p in clean if (hit := checker.check_problem(p))]
    assert len(removed) <= 0.01 * len(clean), removed[:5]


def test_each_removal_names_the_benchmark_the_item_and_the_rule(
    checker: Decontaminator, copies: dict[str, list[Problem]]
) -> None:
    named = 0
    for copy in copies["exact"] + copies["edited"]:
        hit = checker.check_problem(copy)
        assert isinstance(hit, Hit)
        assert hit.benchmark == ("HumanEval" if copy.id.startswith("HumanEval") else "mbpp")
        assert hit.rule in RULES
        assert hit.detail
        named += hit.item_id == _original(copy)
    # MBPP holds some problems twice (same statement or same code): either one is a right answer
    assert named >= 0.95 * (len(copies["exact"]) * 2)


def test_rows_that_copy_a_benchmark_are_caught_and_ours_are_not(
    checker: Decontaminator, copies: dict[str, list[Problem]]
) -> None:
    for kind in ("exact", "edited", "numbers"):
        rows = [as_row(p) for p in copies[kind]]
        missed = [r["id"] for r in rows if checker.check_row(r) is None]
        assert len(missed) <= 0.01 * len(rows), (kind, missed[:5])
    clean = [as_row(p) for p in clean_problems(code_seeds=1, math_seeds=1)]
    assert sum(checker.check_row(r) is not None for r in clean) <= 0.01 * len(clean)


def test_the_answer_alone_is_enough_to_catch_a_copied_solution(checker: Decontaminator) -> None:
    """A row whose prompt is ours but whose answer is a (renamed) benchmark solution."""
    original = mbpp_problems()[0]  # min_cost: a dynamic programme of some length
    renamed = KINDS["renamed"](original, random.Random(1))
    row = as_row(clean_problems(code_seeds=1, math_seeds=0)[0])
    row["messages"][1]["content"] = f"Here it is.\n\n```python\n{renamed.reference}```\n"
    hit = checker.check_row(row)
    assert hit is not None and (hit.benchmark, hit.item_id, hit.rule) == ("mbpp", "1", "code")


# --- math: n-grams of 10 words, numbers masked only where enough words are left ----------------

GSM_LIKE = [
    {
        "question": "A baker fills 12 trays with 8 rolls each, sells three quarters of the rolls "
        "in the morning and half of the rest in the afternoon. How many rolls are left?",
        "answer": "The baker makes 12 * 8 = 96 rolls. In the morning three quarters are sold, "
        "which is 72 rolls, so 24 remain. Half of those go in the afternoon, leaving 12 rolls."
        "\n#### 12",
    },
    {
        "question": "Mira reads 15 pages on Monday, 20 on Tuesday and 25 on Wednesday; her book "
        "has 120 pages and 3 chapters. How many pages are left after 2 more days of 10 pages?",
        "answer": "15 + 20 + 25 + 2 * 10 = 80 pages read, so 120 - 80 = 40 are left.\n#### 40",
    },
]
MATH_LIKE = [
    {
        "problem": "Solve for $x$: $2x + 3 = 7$.",
        "solution": "$2x = 4$, so $x = \\boxed{2}$.",
        "unique_id": "test/algebra/1.json",
    },
]


@pytest.fixture()
def math_checker(tmp_path: Path) -> Decontaminator:
    gsm = tmp_path / "gsm8k.jsonl"
    gsm.write_text("".join(json.dumps(r) + "\n" for r in GSM_LIKE))
    math = tmp_path / "math500.jsonl"
    math.write_text("".join(json.dumps(r) + "\n" for r in MATH_LIKE))
    return Decontaminator.from_paths([gsm, math])


def _math(problem: str) -> Problem:
    return Problem(id="m", domain="math", problem=problem, reference="1")


def test_math_copies_are_caught_with_their_numbers_changed(math_checker: Decontaminator) -> None:
    exact = math_checker.check_problem(_math(GSM_LIKE[0]["question"]))
    assert exact is not None and (exact.benchmark, exact.item_id, exact.rule) == (
        "gsm8k",
        "0",
        "ngram",
    )
    changed = GSM_LIKE[1]["question"]
    for old, new in (("15", "17"), ("20", "21"), ("25", "26"), ("120", "140"), ("3", "4")):
        changed = changed.replace(old, new)
    for old, new in (("2 more", "5 more"), ("10 pages", "11 pages")):
        changed = changed.replace(old, new)
    hit = math_checker.check_problem(_math("Some context first. " + changed))
    # The whole statement inside the text, up to numbers (the n-grams would catch it next).
    assert hit is not None and hit.item_id == "1", hit
    assert hit.rule == "statement" and "up to numbers" in hit.detail, hit
    same = math_checker.check_problem(_math(MATH_LIKE[0]["problem"]))
    assert same is not None and (same.item_id, same.rule) == ("test/algebra/1.json", "statement")


def test_a_bare_template_with_other_numbers_is_not_a_copy(math_checker: Decontaminator) -> None:
    assert math_checker.check_problem(_math("Solve for $x$: $5x + 1 = 11$.")) is None
    assert math_checker.check_text("Solve for $x$: $5x + 1 = 11$.", "math") is None


def test_a_copied_math_solution_in_an_answer_is_caught(math_checker: Decontaminator) -> None:
    row = {
        "messages": [
            {"role": "user", "content": "Solve the following math problem.\n\nSomething new."},
            {"role": "assistant", "content": "First, " + GSM_LIKE[0]["answer"]},
        ],
        "domain": "math",
    }
    hit = math_checker.check_row(row)
    assert hit is not None and hit.benchmark == "gsm8k"


# --- benchmark items as people paste them ----------------------------------------------------


@pytest.fixture(scope="module")
def every_checker() -> Decontaminator:
    """Against the four benchmarks the repository ships: HumanEval, MBPP, GSM8K, MATH-500."""
    return Decontaminator(load_benchmarks([BENCHMARKS]))


@pytest.fixture(scope="module")
def pastes() -> dict[str, list[Problem]]:
    return pasted(seed=0)


PASTE_KINDS = [
    *("mbpp_prompt", "mbpp_reworded", "mbpp_renamed", "mbpp_sentence"),
    *("humaneval_renamed", "humaneval_wrapped", "humaneval_prose"),
    *("gsm8k_prompt", "gsm8k_numbers", "gsm8k_edited"),
    *("math500_prompt", "math500_spacing", "math500_numbers"),
]


def test_every_paste_kind_is_measured(pastes: dict[str, list[Problem]]) -> None:
    assert sorted(pastes) == sorted(PASTE_KINDS)
    assert all(p.reference is None and p.tests is None for ps in pastes.values() for p in ps)


@pytest.mark.parametrize("kind", PASTE_KINDS)
def test_removes_at_least_99_percent_of_each_kind_of_paste_naming_its_item(
    every_checker: Decontaminator, pastes: dict[str, list[Problem]], kind: str
) -> None:
    problems = pastes[kind]
    hits = [every_checker.check_problem(p) for p in problems]
    missed = [p.id for p, hit in zip(problems, hits, strict=True) if hit is None]
    assert len(missed) <= 0.01 * len(problems), missed[:5]
    own = sum(
        hit is not None and p.id.split("#")[0].split("/", 1)[-1] in hit.item_id
        for p, hit in zip(problems, hits, strict=True)
    )
    # MBPP and GSM8K hold a few items twice: naming the twin is no error.
    assert own >= 0.98 * len(problems), (kind, own, len(problems))


def test_pastes_as_exported_rows_are_caught_too(
    every_checker: Decontaminator, pastes: dict[str, list[Problem]]
) -> None:
    for kind, problems in pastes.items():
        missed = [p.id for p in problems if every_checker.check_row(pasted_row(p)) is None]
        assert len(missed) <= 0.01 * len(problems), (kind, missed[:5])


def test_generated_problems_pasted_the_same_way_are_kept(every_checker: Decontaminator) -> None:
    problems = look_alikes()
    assert {p.domain for p in problems} == {"code", "math"} and len(problems) >= 5000
    removed = [(p.id, hit) for p in problems if (hit := every_checker.check_problem(p))]
    assert len(removed) <= 0.01 * len(problems), removed[:5]
    as_rows = [p.id for p in problems if every_checker.check_row(pasted_row(p))]
    assert len(as_rows) <= 0.01 * len(problems), as_rows[:5]


def test_the_mbpp_prompt_of_the_report_is_caught_by_its_asserts(
    every_checker: Decontaminator,
) -> None:
    pasted_prompt = (
        "Write a python function to find the minimum of two numbers. Your code should pass "
        "these tests:\nassert minimum(1,2) == 1\nassert minimum(-5,-4) == -5\n"
        "assert minimum(0,0) == 0"
    )
    hit = every_checker.check_problem(Problem(id="p", domain="code", problem=pasted_prompt))
    assert hit is not None and (hit.benchmark, hit.rule) == ("mbpp", "calls"), hit
    assert "minimum(" in hit.detail
    # As text taken for code too, the asserts are the item's test code, window for window.
    as_code = every_checker.check_text(pasted_prompt, "code")
    assert as_code is not None and as_code.item_id == hit.item_id, as_code
    # The sentence alone, behind an instruction: the item's short statement as a sentence.
    alone = every_checker.check_text(
        "Solve this problem in Python:\nImplement a python function that will find the minimum "
        "of two numbers.",
        "code",
    )
    assert alone is not None and alone.rule == "statement" and alone.item_id == hit.item_id


def test_one_call_of_an_item_or_the_topic_alone_is_not_a_copy(
    every_checker: Decontaminator,
) -> None:
    one_call = "Return the smaller of a and b.\nassert minimum(1,2) == 1\nassert minimum(7,9) == 7"
    assert every_checker.check_text(one_call, "code") is None
    topic = "Write a function that returns the minimum of two numbers a and b, without min()."
    assert every_checker.check_text(topic, "code") is None


def test_a_phrase_of_a_solution_is_no_copy_but_the_solution_is(
    every_checker: Decontaminator,
) -> None:
    item = next(
        i for i in every_checker.items if i.item_id == "test/intermediate_algebra/1279.json"
    )

    def row(answer: str) -> dict[str, Any]:
        question = "The roots of x^2 - 5x + 6 = 0 are r and s. What is r + s?"
        messages = [{"role": "user", "content": question}, {"role": "assistant", "content": answer}]
        return {"messages": messages, "domain": "math"}

    # The offline teacher's rationale shares one 10-gram with this item's solution: common speech.
    common = "By Vieta's formulas, the sum of the roots is 5, so the answer is \\boxed{5}."
    assert every_checker.check_row(row(common)) is None
    copied = every_checker.check_row(row("Here is how: " + item.solution))
    assert copied is not None and copied.item_id == item.item_id, copied
    assert "of its solution" in copied.detail


def test_literal_calls_are_calls_of_named_functions_with_literal_arguments() -> None:
    text = (
        "assert minimum(1, 2) == 1\n"
        "assert set(similar_elements((3, 4), (5, 4))) == set((4,))\n"
        'assert text_match("ab  c") == "Found a match!"\n'
        "assert f(x, 2) == 3\n"  # a name among the arguments
        "print(len([1, 2]))\n"  # builtins
        ">>> has_close_elements([1.0, -2.8e3], 0.5)\nFalse\n"
        "g()\n"  # no arguments
    )
    assert literal_calls(text) == {
        "minimum(1,2)",
        "similar_elements((3,4),(5,4))",
        "text_match('abc')",
        "has_close_elements([1.0,-2.8e3],0.5)",
    }


# --- loading benchmarks ----------------------------------------------------------------------


def _write_jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "wt") as out:
        out.writelines(json.dumps(r) + "\n" for r in rows)
    return path


def _save_to_disk(folder: Path, rows: list[dict[str, Any]]) -> Path:
    """The layout `datasets.Dataset.save_to_disk` writes: Arrow IPC stream plus its JSON."""
    folder.mkdir(parents=True)
    table = pa.Table.from_pylist(rows)
    with (
        pa.OSFile(str(folder / "data-00000-of-00001.arrow"), "wb") as sink,
        pa.ipc.new_stream(sink, table.schema) as writer,
    ):
        writer.write_table(table)
    state = {"_data_files": [{"filename": "data-00000-of-00001.arrow"}], "_split": "test"}
    (folder / "state.json").write_text(json.dumps(state))
    (folder / "dataset_info.json").write_text(json.dumps({"features": {}}))
    return folder


def test_loads_the_shared_humaneval_and_mbpp(code_benchmarks: list[BenchmarkItem]) -> None:
    humaneval = [i for i in code_benchmarks if i.benchmark == "HumanEval"]
    mbpp = [i for i in code_benchmarks if i.benchmark == "mbpp"]
    assert (len(humaneval), len(mbpp)) == (164, 974)
    first = humaneval[0]
    assert first.item_id == "HumanEval/0" and first.domain == "code"
    assert "def has_close_elements" in first.problem and "check(candidate)" in first.tests
    assert mbpp[0].item_id == "1" and mbpp[0].problem.startswith("Write a function")
    assert mbpp[0].tests.count("assert") == 3


def test_loads_jsonl_gz_parquet_and_saved_datasets(tmp_path: Path) -> None:
    gsm = [{"question": "How many?", "answer": "#### 3"}]
    math = [{"problem": "Find x.", "solution": "x = 1", "unique_id": "test/a/1.json"}]
    mbpp = [{"task_id": 7, "text": "Write a function.", "code": "def f(): pass", "test_list": []}]
    _write_jsonl(tmp_path / "gsm8k.jsonl", gsm)
    _write_jsonl(tmp_path / "math500.jsonl.gz", math)
    pq.write_table(pa.Table.from_pylist(mbpp), tmp_path / "mbpp.parquet")
    _save_to_disk(tmp_path / "saved", gsm)
    _save_to_disk(tmp_path / "dict" / "test", math)
    (tmp_path / "dict" / "dataset_dict.json").write_text(json.dumps({"splits": ["test"]}))
    (tmp_path / "notes.txt").write_text("not a benchmark")

    items = load_benchmarks([tmp_path])
    assert {(i.benchmark, i.item_id, i.domain) for i in items} == {
        ("dict/test", "test/a/1.json", "math"),
        ("gsm8k", "0", "math"),
        ("math500", "test/a/1.json", "math"),
        ("mbpp", "7", "code"),
        ("saved", "0", "math"),
    }
    saved = next(i for i in items if i.benchmark == "saved")
    assert (saved.problem, saved.solution) == ("How many?", "#### 3")


def test_a_file_with_none_of_the_known_fields_is_an_error_naming_it(tmp_path: Path) -> None:
    path = _write_jsonl(tmp_path / "peer.jsonl", [{"prediction": "1", "gold": "1"}])
    with pytest.raises(BenchmarkError, match=r"peer\.jsonl.*gold, prediction"):
        load_benchmarks([path])
    broken = tmp_path / "broken.jsonl.gz"
    broken.write_bytes(b"not gzip")
    with pytest.raises(BenchmarkError, match=r"cannot read benchmark .*broken\.jsonl\.gz"):
        load_benchmarks([broken])
    with pytest.raises(BenchmarkError, match="does not exist"):
        load_benchmarks([tmp_path / "missing.jsonl"])
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(BenchmarkError, match="holds no items"):
        load_benchmarks([empty])


def test_without_benchmarks_the_error_says_to_pull_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FACTORY_BENCHMARKS", str(tmp_path / "none"))
    with pytest.raises(BenchmarkError, match=r"factory benchmarks pull.*--against"):
        benchmark_paths([])
    (tmp_path / "none").mkdir()
    _write_jsonl(tmp_path / "none" / "gsm8k.jsonl", [{"question": "q"}])
    assert benchmark_paths([]) == [tmp_path / "none"]


# --- pulling benchmarks ----------------------------------------------------------------------


def test_pull_without_the_datasets_package_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "datasets", None)  # `import datasets` raises ImportError
    with pytest.raises(BenchmarkError, match=r"needs the `datasets` package.*pip install datasets"):
        pull_benchmarks(tmp_path)


def test_pull_offline_says_the_hub_is_unreachable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def load_dataset(repo: str, config: str | None, split: str) -> list[dict[str, Any]]:
        raise ConnectionError("Couldn't reach 'openai/openai_humaneval' on the Hub")

    monkeypatch.setitem(sys.modules, "datasets", types.SimpleNamespace(load_dataset=load_dataset))
    with pytest.raises(BenchmarkError, match=r"cannot fetch openai/openai_humaneval.*network"):
        pull_benchmarks(tmp_path)


def test_pull_writes_json_lines_that_load(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    published = {
        "openai/openai_humaneval": {
            "task_id": "HumanEval/0",
            "prompt": "def f():\n",
            "canonical_solution": "    return 1\n",
            "test": "assert f() == 1",
            "entry_point": "f",
        },
        "google-research-datasets/mbpp": {
            "task_id": 1,
            "text": "Write a function.",
            "code": "def g(): pass",
            "test_list": ["assert g() is None"],
        },
        "openai/gsm8k": {"question": "How many?", "answer": "#### 2"},
        "HuggingFaceH4/MATH-500": {
            "problem": "Find $x$.",
            "solution": "$x = 1$",
            "answer": "1",
            "unique_id": "test/x/1.json",
        },
    }
    requested = []

    def load_dataset(repo: str, config: str | None, split: str) -> list[dict[str, Any]]:
        requested.append((repo, config, split))
        return [published[repo]]

    monkeypatch.setitem(sys.modules, "datasets", types.SimpleNamespace(load_dataset=load_dataset))
    folder = tmp_path / "benchmarks"
    paths = pull_benchmarks(folder)
    assert [p.name for p in paths] == [
        "HumanEval.jsonl.gz",
        "mbpp.jsonl",
        "gsm8k.jsonl",
        "math500.jsonl",
    ]
    assert ("openai/gsm8k", "main", "test") in requested
    items = load_benchmarks([folder])
    assert sorted((i.benchmark, i.domain) for i in items) == [
        ("HumanEval", "code"),
        ("gsm8k", "math"),
        ("math500", "math"),
        ("mbpp", "code"),
    ]


def test_the_default_folder_follows_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FACTORY_BENCHMARKS", "/data/bench")
    assert benchmarks.default_benchmark_folder() == Path("/data/bench")
    monkeypatch.delenv("FACTORY_BENCHMARKS")
    monkeypatch.setenv("XDG_CACHE_HOME", "/cache")
    assert benchmarks.default_benchmark_folder() == Path("/cache/verified-factory/benchmarks")


# --- decontaminating a file ------------------------------------------------------------------


def test_decontaminate_file_keeps_the_clean_lines_and_logs_each_removal(tmp_path: Path) -> None:
    clean = clean_problems(code_seeds=1, math_seeds=1)[:40:4]
    copied = humaneval_problems()[5]
    lines = [p.model_dump_json() for p in clean[:5]]
    lines.append(copied.model_dump_json())
    lines.append(json.dumps(as_row(mbpp_problems()[10])))
    lines.append(json.dumps(as_row(clean[5])))
    lines.append("{not json")
    lines.append(json.dumps({"id": "x", "text": "neither a problem nor a row"}))
    lines.append(json.dumps({"id": "y", "domain": "code"}))  # a problem without `problem`
    lines.append(json.dumps({"id": "z", "problem": "p", "domain": "code", "tests": {"format": 1}}))
    lines += [p.model_dump_json() for p in clean[6:]]
    source = tmp_path / "in.jsonl"
    source.write_text("\n".join(lines) + "\n")
    out, log = tmp_path / "out.jsonl", tmp_path / "removed.jsonl"

    counts = decontaminate_file(source, out, log, [HUMANEVAL, MBPP])

    kept = out.read_text().splitlines()
    assert kept == [*lines[:5], lines[7], *lines[12:]]
    assert (counts.read, counts.kept, counts.removed, counts.bad) == (len(lines), 10, 2, 4)
    assert counts.by_benchmark == {"HumanEval": 1, "mbpp": 1}
    entries = [json.loads(line) for line in log.read_text().splitlines()]
    removals = [e for e in entries if "error" not in e]
    assert [(e["id"], e["line"], e["benchmark"], e["item_id"]) for e in removals] == [
        ("HumanEval/5", 6, "HumanEval", "HumanEval/5"),
        ("mbpp/11/0", 7, "mbpp", "11"),
    ]
    assert all(e["rule"] in RULES and e["detail"] for e in removals)
    errors = {e["line"]: e["error"] for e in entries if "error" in e}
    assert sorted(errors) == [9, 10, 11, 12]
    assert "not JSON" in errors[9]
    assert "neither a problem" in errors[10] and "neither a problem" in errors[11]
    assert "tests" in errors[12]


def test_decontaminate_file_reads_gzip(tmp_path: Path) -> None:
    source = _write_jsonl(
        tmp_path / "in.jsonl.gz", [json.loads(mbpp_problems()[3].model_dump_json())]
    )
    counts = decontaminate_file(source, tmp_path / "out.jsonl", tmp_path / "log.jsonl", [MBPP])
    assert (counts.read, counts.removed) == (1, 1)
    assert (tmp_path / "out.jsonl").read_text() == ""


def test_an_attempt_is_checked_like_its_exported_row(
    checker: Decontaminator, copies: dict[str, list[Problem]]
) -> None:
    row = as_row(copies["edited"][7])
    attempt = Attempt(
        id=str(row["id"]),
        problem_id=str(row["problem_id"]),
        domain="code",
        source=None,
        model="planted",
        messages=tuple(Message(**m) for m in row["messages"]),
        reference=row["reference"],
        tests=row["tests"],
        rationalized=False,
        kept=True,
        verdict=Verdict(id=str(row["id"]), accepted=True, status="accepted", reason="passed"),
    )
    assert checker.check_row(attempt) == checker.check_row(row) is not None


def test_a_decontaminator_sent_to_another_process_still_matches(
    checker: Decontaminator, copies: dict[str, list[Problem]], tmp_path: Path
) -> None:
    """n-grams are keyed by `hash`, salted per process: the receiver must build its own index."""
    (tmp_path / "checker.pickle").write_bytes(pickle.dumps(checker))
    (tmp_path / "copy.json").write_text(copies["renamed"][3].model_dump_json())
    script = (
        "import pickle, sys; from pathlib import Path\n"
        "from verified_factory.records import Problem\n"
        "folder = Path(sys.argv[1])\n"
        "checker = pickle.loads((folder / 'checker.pickle').read_bytes())\n"
        "problem = Problem.model_validate_json((folder / 'copy.json').read_text())\n"
        "print(checker.check_problem(problem).item_id)\n"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    done = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.strip() == "HumanEval/3"
