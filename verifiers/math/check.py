"""One math check, start to end, with no time limit of its own (the verifier adds that)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from verified_factory.verifiers.math.compare import equal
from verified_factory.verifiers.math.extract import (
    Extraction,
    after_last_is,
    extract_answer,
    is_formula,
    last_math_or_number,
    reference_answer,
)
from verified_factory.verifiers.math.normalize import Normalized, normalize
from verified_factory.verifiers.math.parse import AnswerError, Value, parse_answer


@dataclass(frozen=True)
class Check:
    """What one check decided, with the rules that decided it in `reason`."""

    accepted: bool
    reason: str
    extracted: str | None
    unusable_reference: bool = False
    """The reference cannot be read, so the answer could be judged against nothing."""


_LETTER_GOLD = re.compile(r"^\(?([A-E])\)?(?:[.:]?\s+[A-Za-z][A-Za-z ]*)?$")
_LETTER = r"(?<![A-Za-z])\(?([A-E])\)?(?![A-Za-z])"
_LETTER_CUE = re.compile(r"(?:answer|réponse|think it's|it's|option|choice)\b", re.IGNORECASE)
_LEADING_LETTER = re.compile(r"^\s*\(?([A-E])\)?(?:[.,:;)。，\s]|[^\x00-\x7f]|$)")


def check(response: str, reference: str) -> Check:
    """Does the final answer of `response` equal `reference`?"""
    gold_text = reference_answer(reference)
    letter = gold_letter(gold_text)
    if letter is not None:
        return _check_letter(response, letter)
    extraction = extract_answer(response)
    if extraction is None:
        return Check(False, "no final answer found in the response", None)
    found = f"answer {extraction.answer!r} (found by rule {extraction.rule})"
    if _spaceless(normalize(gold_text)) == _spaceless(normalize(extraction.answer)):
        return Check(True, f"{found} equals the reference as written", extraction.answer)
    try:
        gold = parse_answer(gold_text)
    except AnswerError as err:
        reason = f"field 'reference' cannot be read ({err}); {found} judged against nothing"
        return Check(False, reason, extraction.answer, unusable_reference=True)
    extraction, pred, problem = _read_prediction(extraction)
    found = f"answer {extraction.answer!r} (found by rule {extraction.rule})"
    if pred is None:
        return Check(False, f"{found}: {problem}", extraction.answer)
    try:
        rule = equal(gold, pred)
    except Exception as err:  # a SymPy failure is a reason to reject, never to crash
        return Check(False, f"{found}: comparison failed ({type(err).__name__})", extraction.answer)
    if rule is None:
        return Check(False, f"{found} differs from the reference {gold_text!r}", extraction.answer)
    return Check(True, f"{found} equals the reference by rule {rule}", extraction.answer)


def _spaceless(normalized: Normalized) -> tuple[str, bool]:
    return "".join(normalized.text.split()), normalized.percent


def _read_prediction(extraction: Extraction) -> tuple[Extraction, Value | None, str]:
    """Parse the extracted answer; when it is prose, read what it says the answer is.

    A formula that cannot be read is rejected as it is: picking a number out of it would turn
    `\\frac{1}{0}` into 0.
    """
    if is_formula(extraction.answer):
        try:
            return extraction, parse_answer(extraction.answer), ""
        except AnswerError as err:
            return extraction, None, str(err)
    problem = "the answer is a sentence, not a formula"
    subject = after_last_is(extraction.answer)
    if subject is not None and is_formula(subject):
        extraction = Extraction(subject, f"{extraction.rule}, then 'is'")
        try:
            return extraction, parse_answer(subject), ""
        except AnswerError as err:
            problem = str(err)
    rescue = last_math_or_number(extraction.answer)
    if rescue is None or rescue.answer == extraction.answer:
        return extraction, None, problem
    rescued = Extraction(rescue.answer, f"{extraction.rule}, then {rescue.rule}")
    try:
        return rescued, parse_answer(rescue.answer), ""
    except AnswerError as err:
        return rescued, None, str(err)


def gold_letter(gold: str) -> str | None:
    """`C`, `(C)`, `(C) Cecile`: a multiple-choice reference, read from its last such line."""
    text = normalize(gold).text
    for line in reversed(gold.strip().splitlines() or [text]):
        match = _LETTER_GOLD.match(normalize(line).text)
        if match:
            return match.group(1)
    return None


def _check_letter(response: str, letter: str) -> Check:
    chosen = chosen_letter(response)
    if chosen is None:
        return Check(False, f"no choice letter found; the reference is {letter}", None)
    if chosen == letter:
        return Check(True, f"choice {chosen} equals the reference", chosen)
    return Check(False, f"choice {chosen} differs from the reference {letter}", chosen)


def chosen_letter(response: str) -> str | None:
    """The letter after the last answer cue, else a letter the response starts with."""
    extraction = extract_answer(response)
    if extraction is not None and extraction.rule == "boxed":
        response = extraction.answer
    text = normalize(response).text if len(response) < 200 else response
    cues = list(_LETTER_CUE.finditer(text))
    if cues:
        after = re.search(_LETTER, text[cues[-1].end() :])
        if after:
            return after.group(1)
    leading = _LEADING_LETTER.match(text)
    return leading.group(1) if leading else None
