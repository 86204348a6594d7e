"""Filters for synthesised problems, after the papers that made them.

- `rouge_l` and `NoveltyPool`: Self-Instruct's novelty filter. A new instruction is kept only when
  its ROUGE-L with every instruction kept so far is at most 0.7.
- `instruction_problem`: Self-Instruct's heuristic filters (length, words a text model cannot act
  on, the first character).
- `failed_evolution`: WizardLM Evol-Instruct's elimination of failed evolutions, with the ChatGPT
  judgement of "no new information" replaced by a deterministic rule.
- `backward_question`: MetaMath's FOBAR questions, which mask a number of a question and give
  its answer, so that the masked number becomes the answer to find.

Each filter returns a reason a person can act on, or None when the text passes.
"""

from __future__ import annotations

import re
import string
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from operator import itemgetter
from typing import NamedTuple

# rouge_score's default tokenizer: lower-case, runs of [a-z0-9] (anything else separates tokens).
_ROUGE_TOKEN = re.compile(r"[a-z0-9]+")


def _rouge_tokens(text: str) -> list[str]:
    return _ROUGE_TOKEN.findall(text.lower())


def _positions(tokens: Sequence[str]) -> dict[str, int]:
    """Each token's positions in `tokens`, as the bits of an integer."""
    positions: dict[str, int] = {}
    for index, token in enumerate(tokens):
        positions[token] = positions.get(token, 0) | 1 << index
    return positions


def _lcs_length(a: Sequence[str], b_positions: dict[str, int], b_length: int) -> int:
    """The length of the longest common subsequence of `a` and b (given by `_positions`).

    Bit-parallel (Hyyrö, 2004): a row of the dynamic-programming table is the bits of an integer,
    which each token of `a` updates with a few integer operations instead of a loop over b.
    """
    row = (1 << b_length) - 1
    for token in a:
        matches = row & b_positions.get(token, 0)
        row = (row + matches) | (row - matches)
    return b_length - (row & ((1 << b_length) - 1)).bit_count()


def _lcs_f_measure(a: Sequence[str], b_positions: dict[str, int], b_length: int) -> float:
    """ROUGE-L's F-measure, 2PR/(P+R) with P = LCS/|a| and R = LCS/|b|, which is
    2·LCS/(|a|+|b|): computed so, a score that is exactly 0.7 is the float 0.7."""
    if not a or not b_length:
        return 0.0
    return 2 * _lcs_length(a, b_positions, b_length) / (len(a) + b_length)


def rouge_l(a: str, b: str) -> float:
    """ROUGE-L F-measure of two texts, tokenised as `rouge_score` does by default (no stemming).

    0.0 when either text has no token. The measure is symmetric.
    """
    b_tokens = _rouge_tokens(b)
    return _lcs_f_measure(_rouge_tokens(a), _positions(b_tokens), len(b_tokens))


def _bag(tokens: Iterable[str]) -> frozenset[str]:
    """The token multiset as a set ("the#1", "the#2", ...): the size of the intersection of two
    bags is the size of the intersection of the multisets."""
    seen: Counter[str] = Counter()
    bag = []
    for token in tokens:
        seen[token] += 1
        bag.append(f"{token}#{seen[token]}")
    return frozenset(bag)


class _Entry(NamedTuple):
    """A pool text, with what comparing it needs, computed once."""

    text: str
    size: int
    positions: dict[str, int]
    bag: frozenset[str]


def _entry(text: str, tokens: list[str]) -> _Entry:
    return _Entry(text, len(tokens), _positions(tokens), _bag(tokens))


class NoveltyPool:
    """Self-Instruct's novelty filter: texts admitted so far, and the ROUGE-L of a new text with
    the closest of them.

    A text is tokenised once, when it joins the pool. A query does not compute the LCS with
    every pool text: the LCS is at most the size of the two token multisets' intersection, so
    2·overlap/(n+m) bounds a pool text's score. Pool texts are tried in decreasing order of that
    bound, and the search stops at the first bound no higher than the best score found, which
    leaves the result exact.
    """

    def __init__(self, texts: Iterable[str] = (), threshold: float = 0.7) -> None:
        """Start the pool with `texts`, all of them, whatever their similarity (seed tasks)."""
        self.threshold = threshold
        self._entries = [_entry(text, _rouge_tokens(text)) for text in texts]

    def __len__(self) -> int:
        return len(self._entries)

    def closest(self, text: str) -> tuple[float, str | None]:
        """The highest ROUGE-L of `text` with a pool text, and that pool text.

        (0.0, None) when no pool text shares a token with `text`.
        """
        return self._closest(_rouge_tokens(text))

    def admit(self, text: str) -> tuple[bool, float, str | None]:
        """Add `text` to the pool if its highest ROUGE-L with the pool is at most the threshold.

        Returns whether it was added, the highest score and the pool text that has it.
        """
        tokens = _rouge_tokens(text)
        score, closest = self._closest(tokens)
        novel = score <= self.threshold
        if novel:
            self._entries.append(_entry(text, tokens))
        return novel, score, closest

    def _closest(self, tokens: list[str]) -> tuple[float, str | None]:
        if not tokens:
            return 0.0, None
        bag = _bag(tokens)
        bounds = []
        for entry in self._entries:
            overlap = len(bag & entry.bag)
            if overlap:
                bounds.append((2 * overlap / (len(tokens) + entry.size), entry))
        bounds.sort(key=itemgetter(0), reverse=True)
        best_score, best = 0.0, None
        for bound, entry in bounds:
            if bound <= best_score:
                break
            score = _lcs_f_measure(tokens, entry.positions, entry.size)
            if score > best_score:
                best_score, best = score, entry
        return best_score, None if best is None else best.text


# Self-Instruct's words (its own list, then Alpaca's additions): things a text model cannot see,
# make or do.
DEFAULT_BLACKLIST: tuple[str, ...] = (
    "image",
    "images",
    "graph",
    "graphs",
    "picture",
    "pictures",
    "file",
    "files",
    "map",
    "maps",
    "draw",
    "plot",
    "go to",
    "video",
    "audio",
    "music",
    "flowchart",
    "diagram",
)


def _phrase_pattern(phrases: Iterable[str]) -> re.Pattern[str]:
    """Any of `phrases` as a whole word or phrase, case-insensitive, any white space inside."""
    alternatives = (r"\s+".join(map(re.escape, phrase.split())) for phrase in phrases)
    return re.compile(rf"(?<!\w)(?:{'|'.join(alternatives)})(?!\w)", re.IGNORECASE)


def _word_count(count: int) -> str:
    return f"{count} word" if count == 1 else f"{count} words"


def instruction_problem(
    text: str,
    *,
    min_words: int = 3,
    max_words: int = 150,
    blacklist: Iterable[str] = DEFAULT_BLACKLIST,
) -> str | None:
    """Why Self-Instruct's filters drop `text`, or None when it passes.

    In order: empty; a first character that is punctuation or not an ASCII letter or digit; too
    few or too many words (runs of non-space characters); a blacklisted word or phrase, whole.
    """
    text = text.strip()
    if not text:
        return "is empty"
    first = text[0]
    if first in string.punctuation:
        return f"starts with the punctuation mark {first!r}; start with a word"
    if not (first.isascii() and first.isalnum()):
        return f"starts with {first!r}, which is not an English letter or digit"
    count = len(text.split())
    if count < min_words:
        return f"has {_word_count(count)}; at least {min_words} are required"
    if count > max_words:
        return f"has {_word_count(count)}; at most {max_words} are allowed"
    phrases = [phrase for phrase in blacklist if phrase.strip()]
    found = _phrase_pattern(phrases).search(text) if phrases else None
    if found:
        return f"mentions {found.group()!r}, which a text model cannot handle"
    return None


# NLTK's English stop words, as the word runs `_words` makes of them ("don't" is "don", "t").
STOP_WORDS = frozenset(
    """
    a about above after again against ain all am an and any are aren as at be because been before
    being below between both but by can couldn d did didn do does doesn doing don down during each
    few for from further had hadn has hasn have haven having he her here hers herself him himself
    his how i if in into is isn it its itself just ll m ma me mightn more most mustn my myself
    needn no nor not now o of off on once only or other our ours ourselves out over own re s same
    shan she should shouldn so some such t than that the their theirs them themselves then there
    these they this those through to too under until up ve very was wasn we were weren what when
    where which while who whom why will with won wouldn y you your yours yourself yourselves
    """.split()  # noqa: SIM905 - a long word list reads best as text
)

# Phrases of a model that declines the task; with a short text, the evolution failed.
REFUSAL_PHRASES: tuple[str, ...] = (
    "sorry",
    "i apologize",
    "as an ai",
    "as a language model",
    "i cannot",
    "i can't",
    "i can not",
    "i am unable",
    "i'm unable",
    "i am not able",
)
REFUSAL_MAX_WORDS = 80

# The evolving prompt's own names for the texts; "#Rewritten Prompt#" reads as "rewritten prompt".
PROMPT_PHRASES: tuple[str, ...] = ("given prompt", "rewritten prompt", "created prompt")
COPIED_RUN = 8
NO_GAIN_ROUGE_L = 0.95


def _words(text: str) -> list[str]:
    """Case-folded runs of letters and digits, in any script."""
    return re.findall(r"[^\W_]+", text.casefold())


def _has_phrase(words: Sequence[str], phrase: str) -> bool:
    return f" {' '.join(_words(phrase))} " in f" {' '.join(words)} "


def _runs(words: Sequence[str], length: int) -> set[tuple[str, ...]]:
    return {tuple(words[i : i + length]) for i in range(len(words) - length + 1)}


def _copied_run(evolved: list[str], original: list[str], rewrite_prompt: str) -> str | None:
    """The first run of `COPIED_RUN` words of `evolved` that is in the rewrite prompt but not in
    the original (a filled-in prompt holds the original, whose words an evolution may keep)."""
    prompt_runs = _runs(_words(rewrite_prompt), COPIED_RUN) - _runs(original, COPIED_RUN)
    for i in range(len(evolved) - COPIED_RUN + 1):
        run = tuple(evolved[i : i + COPIED_RUN])
        if run in prompt_runs:
            return " ".join(run)
    return None


def failed_evolution(original: str, evolved: str, *, rewrite_prompt: str = "") -> str | None:
    """Why an Evol-Instruct evolution of `original` into `evolved` failed, or None if it did not.

    WizardLM's rules. Words are case-folded runs of letters and digits.
    - empty, or only stop words and punctuation;
    - a refusal ("sorry", "as an AI", "I cannot", ...) under `REFUSAL_MAX_WORDS` words;
    - the evolving prompt's wording: "given prompt", "rewritten prompt", "created prompt", or a
      run of `COPIED_RUN` words of `rewrite_prompt` that the original does not have;
    - no new information: the original's words, or a ROUGE-L of at least `NO_GAIN_ROUGE_L` with
      the original without a word the original lacks.
    """
    if not evolved.strip():
        return "is empty"
    words = _words(evolved)
    if all(word in STOP_WORDS for word in words):
        return "has only stop words and punctuation"
    if len(evolved.split()) < REFUSAL_MAX_WORDS:
        refusal = next((p for p in REFUSAL_PHRASES if _has_phrase(words, p)), None)
        if refusal:
            return f"reads as a refusal ({refusal!r} in under {REFUSAL_MAX_WORDS} words)"
    prompt_phrase = next((p for p in PROMPT_PHRASES if _has_phrase(words, p)), None)
    if prompt_phrase:
        return f"copies the rewrite prompt's wording ({prompt_phrase!r})"
    original_words = _words(original)
    copied = _copied_run(words, original_words, rewrite_prompt)
    if copied:
        return f"copies the rewrite prompt's wording ({copied!r})"
    if words == original_words:
        return "adds nothing: it is the original up to case, white space and punctuation"
    score = rouge_l(original, evolved)
    if score >= NO_GAIN_ROUGE_L and set(words) <= set(original_words):
        return f"adds no new word and has a ROUGE-L of {score:.2f} with the original"
    return None


@dataclass(frozen=True)
class BackwardQuestion:
    """A FOBAR question: `problem` asks for the number `masked`, the `position`-th eligible number
    of the forward question (the index `choose` returned)."""

    problem: str
    masked: str
    position: int


# An integer or decimal, with or without thousands commas, that is not part of a word or of a
# longer number ("x2", "10th", "3.5.1", "1,0000").
_NUMBER = re.compile(r"(?<![\w.])(?<!\d,)(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?!\w|[.,]\d)")
# A lone x, which may follow a digit ("2x") but not a letter ("max").
_VARIABLE_X = re.compile(r"(?<![^\W\d_])x(?![^\W\d_])")
_LATEX_COMMAND = re.compile(r"\\[A-Za-z]+")


def numbers_in(text: str) -> list[str]:
    """The numbers written in `text` (thousands commas dropped), sorted: equal lists mean the
    same numbers, whatever their order."""
    return sorted(match.group().replace(",", "") for match in _NUMBER.finditer(text))


def _group_end(text: str, start: int) -> int | None:
    """The end of the {...} or [...] group that opens at `start`; None when none opens there or it
    is not closed."""
    if start >= len(text) or text[start] not in "{[":
        return None
    closer = "}" if text[start] == "{" else "]"
    depth = 0
    for index in range(start + 1, len(text)):
        char = text[index]
        if char == closer and depth == 0:
            return index + 1
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
    return None


def _latex_arguments(text: str) -> list[tuple[int, int]]:
    """The spans of the {...} and [...] arguments of LaTeX commands (`\\frac{1}{2}`,
    `\\sqrt[3]{8}`, `\\hspace{2pt}`)."""
    spans = []
    for command in _LATEX_COMMAND.finditer(text):
        position = command.end()
        while True:
            while position < len(text) and text[position].isspace():
                position += 1
            end = _group_end(text, position)
            if end is None:
                break
            spans.append((position, end))
            position = end
    return spans


def _answer_value(answer: str) -> Decimal | None:
    """The answer's number when it has exactly one ("$1,000", "18 apples"); its sign is ignored."""
    numbers = _NUMBER.findall(answer)
    return Decimal(numbers[0].replace(",", "")) if len(numbers) == 1 else None


def backward_question(
    question: str, answer: str, *, choose: Callable[[int], int] | None = None
) -> BackwardQuestion | None:
    """MetaMath's FOBAR question: `question` with one number replaced by x, and its answer given.

    Eligible numbers are integers and decimals (thousands commas allowed) outside words and
    LaTeX command arguments, except those equal to the answer: masking one would make x the
    answer itself. `choose(n)` returns the index of the eligible number to mask (default: 0).
    None when the question already has a variable x or no eligible number. The question's text is
    kept as it is, but for trailing white space.
    """
    if _VARIABLE_X.search(question):
        return None
    arguments = _latex_arguments(question)
    value = _answer_value(answer)
    eligible = [
        number
        for number in _NUMBER.finditer(question)
        if not any(start <= number.start() < end for start, end in arguments)
        and Decimal(number.group().replace(",", "")) != value
    ]
    if not eligible:
        return None
    position = choose(len(eligible)) if choose else 0
    if not 0 <= position < len(eligible):
        raise ValueError(f"choose({len(eligible)}) returned {position}, not an eligible index")
    number = eligible[position]
    masked_question = question[: number.start()] + "x" + question[number.end() :]
    problem = (
        f"{masked_question.rstrip()} If we know the answer to the above question is "
        f"{answer.strip()}, what is the value of unknown variable x?"
    )
    return BackwardQuestion(problem, number.group().replace(",", ""), position)
