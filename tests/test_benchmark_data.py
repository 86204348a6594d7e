"""The benchmark files the repository ships are the published bytes, and load as benchmarks."""

from __future__ import annotations

import gzip
import hashlib

from benchmark_data import BENCHMARKS, GSM8K, HUMANEVAL, MATH500, MATH_PEER, MBPP

from verified_factory.curate.benchmarks import load_benchmarks

PUBLISHED = {
    HUMANEVAL: "b796127e635a67f93fb35c04f4cb03cf06f38c8072ee7cee8833d7bee06979ef",
    MBPP: "ccf64ceae9c5403bf50a044cb6d505bfd2a2963ee58338ba268fd65beab92a9f",
    MATH_PEER: "3edb358332936eb1bdb0c2bb8821b2a900b7eb589e206fe2bcdc48b6a08cb3b7",
}


PUBLISHED_GZIPPED = {
    # openai/grade-school-math, grade_school_math/data/test.jsonl
    GSM8K: "3730d312f6e3440559ace48831e51066acaca737f6eabec99bccb9e4b3c39d14",
    # openai/prm800k, prm800k/math_splits/test.jsonl (the sha256 of its Git LFS pointer)
    MATH500: "35dc41080a3680858b27fa7e0533d2d547825316fc5dafe5d316f4ccc5a06132",
}


def test_the_copies_are_the_published_files() -> None:
    digests = {path: hashlib.sha256(path.read_bytes()).hexdigest() for path in PUBLISHED}
    assert digests == PUBLISHED
    unzipped = {
        path: hashlib.sha256(gzip.decompress(path.read_bytes())).hexdigest()
        for path in PUBLISHED_GZIPPED
    }
    assert unzipped == PUBLISHED_GZIPPED


def test_the_benchmark_folder_loads_whole_as_the_four_benchmarks() -> None:
    items = load_benchmarks([BENCHMARKS])
    counts = {
        name: sum(i.benchmark == name for i in items) for name in {i.benchmark for i in items}
    }
    assert counts == {"HumanEval": 164, "mbpp": 974, "gsm8k": 1319, "math500": 500}
