"""The benchmark files the repository ships are the published bytes, and load as benchmarks."""

from __future__ import annotations

import hashlib

from benchmark_data import BENCHMARKS, HUMANEVAL, MATH_PEER, MBPP

from verified_factory.curate.benchmarks import load_benchmarks

PUBLISHED = {
    HUMANEVAL: "b796127e635a67f93fb35c04f4cb03cf06f38c8072ee7cee8833d7bee06979ef",
    MBPP: "ccf64ceae9c5403bf50a044cb6d505bfd2a2963ee58338ba268fd65beab92a9f",
    MATH_PEER: "3edb358332936eb1bdb0c2bb8821b2a900b7eb589e206fe2bcdc48b6a08cb3b7",
}


def test_the_copies_are_the_published_files() -> None:
    digests = {path: hashlib.sha256(path.read_bytes()).hexdigest() for path in PUBLISHED}
    assert digests == PUBLISHED


def test_the_benchmark_folder_loads_whole_as_humaneval_and_mbpp() -> None:
    items = load_benchmarks([BENCHMARKS])
    counts = {
        name: sum(i.benchmark == name for i in items) for name in {i.benchmark for i in items}
    }
    assert counts == {"HumanEval": 164, "mbpp": 974}
