"""Finding the final answer in a model's response (or in a reference that is a whole solution).

Rules, first that applies wins; the rule's name goes into the verdict's reason:
- `boxed`: the last `\\boxed{}`/`\\fbox{}`; boxes separated only by a few words ("and", ",",
  "papers and") are one multi-part answer, joined with commas.
- `final-answer`: the last "final answer is …", "answer is …", "Answer: …" (and a few languages),
  when it comes after the last box.
- `bold`: the last markdown `**…**` holding a number.
- `bare`: a response that is a formula, not prose, is the answer itself.
- `math`: the last `$…$`, `\\(…\\)`, `\\[…\\]` or `$$…$$`, of the last sentence when it has one.
  Inline `$…$` and `\\(…\\)` never span lines.
- `last-number`: the last number of the last sentence that has one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Extraction:
    answer: str
    rule: str


_BOX = re.compile(r"\\(?:boxed|fbox)\s*")
_MAX_WORDS_BETWEEN_BOXES = 4
_CONNECTOR_NOISE = re.compile(
    r"\\(?:text|textbf|mathrm|mbox)\{([^{}]*)\}|\\quad|\\qquad|\\[,;:! ]|\$|\\\(|\\\)|\\\[|\\\]"
)

_FINAL_ANSWER = re.compile(
    r"(?:final\s+answer\s*(?:is|:)|the\s+answer\s+is|answer\s*:|answer\s+is|réponse\s*(?:est|:)"
    r"|答案\s*[:：]?|所以答案是)\s*[:：]?\s*(?P<answer>.+)",
    re.IGNORECASE,
)
_CHAT_TURN = re.compile(r"<\|im_start\|>|<\|im_end\|>|<\|endoftext\|>")
_CLOSING = re.compile(r"[.\s]*I hope it is correct[.!]?\s*$", re.IGNORECASE)
_BOLD = re.compile(r"\*\*([^*]+)\*\*")
_MATH = re.compile(
    r"(?<!\\)\$\$(.+?)(?<!\\)\$\$|\\\[(.+?)\\\]|\\\(([^\n]+?)\\\)|(?<!\\)\$([^$\n]+?)(?<!\\)\$",
    re.DOTALL,
)
NUMBER = re.compile(r"-?\d[\d,]*(?:\.\d+)?(?:/\d+)?")
_PROSE_WORD = re.compile(r"(?<![\\A-Za-z])[A-Za-z]{2,}|[^\x00-\x7f°²³€£¥√π±×÷≤≥≠≈∞]")
_MAX_PROSE_WORDS_IN_FORMULA = 2
_ENVIRONMENT = re.compile(r"\\(?:begin|end)\{[^{}]*\}(?:\{[^{}]*\})?")
_SENTENCE_END = re.compile(r"(?<=[.!?。])\s+|\n\s*\n")


def braced(text: str, start: int) -> tuple[str, int] | None:
    """The contents of the brace group opening at `text[start]`, and the index after it."""
    if start >= len(text) or text[start] != "{":
        return None
    depth = 0
    for i in range(start, len(text)):
        char = text[i]
        if char == "\\":
            continue
        if char == "{" and (i == 0 or text[i - 1] != "\\"):
            depth += 1
        elif char == "}" and text[i - 1] != "\\":
            depth -= 1
            if depth == 0:
                return text[start + 1 : i], i + 1
    return None


def boxes(text: str) -> list[tuple[str, int, int]]:
    """Every `\\boxed{…}` in `text`: contents, start and end offsets."""
    found = []
    for match in _BOX.finditer(text):
        group = braced(text, match.end())
        if group is None:
            # `\boxed 5`: a single token without braces.
            token = re.match(r"[^\s$]+", text[match.end() :])
            if token and not match.group(0).endswith("{"):
                found.append((token.group(0), match.start(), match.end() + token.end()))
            continue
        found.append((group[0], match.start(), group[1]))
    return found


def _words_between(text: str) -> int:
    gap = _CONNECTOR_NOISE.sub(lambda m: f" {m.group(1) or ''} ", text)
    return len(re.findall(r"[^\s,;.]+", gap))


def last_boxed_group(text: str) -> str | None:
    """The last box, joined with the boxes just before it that only a few words separate."""
    found = boxes(text)
    if not found:
        return None
    group = [found[-1]]
    for previous in reversed(found[:-1]):
        between = text[previous[2] : group[0][1]]
        if _words_between(between) > _MAX_WORDS_BETWEEN_BOXES:
            break
        group.insert(0, previous)
    return ", ".join(contents for contents, _, _ in group)


def extract_answer(text: str) -> Extraction | None:
    """The final answer of a response, or None when it has none."""
    text = _CLOSING.sub("", _CHAT_TURN.split(text)[0]).strip()
    if not text:
        return None
    final = final_answer_phrase(text)
    found = boxes(text)
    if found and (final is None or found[-1][1] >= final[1]):
        return Extraction(last_boxed_group(text) or "", "boxed")
    if final is not None:
        return Extraction(final[0], "final-answer")
    bolds = [b for b in _BOLD.findall(text) if re.search(r"\d", b)]
    if bolds:
        return Extraction(bolds[-1], "bold")
    if is_formula(text):
        return Extraction(text, "bare")
    return last_math_or_number(text)


def final_answer_phrase(text: str) -> tuple[str, int] | None:
    """The answer after the last "final answer is"-like phrase, and where that phrase starts."""
    matches = list(_FINAL_ANSWER.finditer(text))
    if not matches:
        return None
    answer = matches[-1].group("answer").strip()
    # "Final Answer: The final answer is 5"
    while (nested := _FINAL_ANSWER.search(answer)) is not None and nested.start() <= 12:
        answer = nested.group("answer").strip()
    answer = answer.splitlines()[0].strip() if answer else ""
    answer = re.sub(r"(?<!\.)\.$", "", answer).strip()  # the sentence's full stop, not `...`
    return (answer, matches[-1].start()) if answer else None


def is_formula(text: str) -> bool:
    """At most a couple of words outside LaTeX commands, and no math span inside: not prose."""
    spans = list(_MATH.finditer(text))
    if spans and not (len(spans) == 1 and spans[0].group(0) == text):
        return False
    text = _ENVIRONMENT.sub(" ", text)
    return len(_PROSE_WORD.findall(text)) <= _MAX_PROSE_WORDS_IN_FORMULA


def last_math_or_number(text: str) -> Extraction | None:
    """Whichever comes last, a math span or a number, in the last sentence that has one."""
    for sentence in reversed(_SENTENCE_END.split(text)):
        maths = list(_MATH.finditer(sentence))
        outside = _MATH.sub(lambda m: " " * len(m.group(0)), sentence)
        numbers = list(NUMBER.finditer(outside))
        if numbers and (not maths or numbers[-1].start() > maths[-1].end()):
            return Extraction(numbers[-1].group(0), "last-number")
        if maths:
            return Extraction(next(g for g in maths[-1].groups() if g is not None), "math")
    return None


def after_last_is(text: str) -> str | None:
    """`The volume of $V$ is 120` → `120`: what a sentence says its subject is."""
    parts = re.split(r"\s(?:is|are|equals|was|be)\s", text)
    return parts[-1].strip() if len(parts) > 1 else None


def reference_answer(reference: str) -> str:
    """The gold answer: a reference may be a whole solution with a boxed answer."""
    boxed = last_boxed_group(reference)
    if boxed is not None:
        return boxed
    return reference.strip()
