"""String normalisation of an extracted answer, before any parsing.

It removes what carries no mathematical content (delimiters, spacing macros, `\\left`/`\\right`,
text wrappers, units, degrees, currency, trailing punctuation, thousands separators) and records
what changes the value's reading (a percent sign).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from verified_factory.verifiers.math.extract import braced


@dataclass(frozen=True)
class Normalized:
    text: str
    percent: bool = False


_DELIMITERS = [("$$", "$$"), ("\\[", "\\]"), ("\\(", "\\)"), ("$", "$")]
_WRAPPERS = re.compile(
    r"\\(?:text|textbf|textit|textrm|textnormal|mathrm|mathbf|mathit|mbox|operatorname|boxed|fbox"
    r"|displaystyle\s*)\s*(?=\{)"
)
_UNIT_WORDS = (
    "cm|mm|km|m|meters?|metres?|centimeters?|kilometers?|miles?|inches|inch|feet|foot|ft|yards?"
    "|units?|square|sq|cubic|dollars?|cents?|yuan|euros?|pounds?|degrees?|hours?|minutes?|mins?"
    "|seconds?|secs?|days?|weeks?|months?|years?|kg|g|grams?|kilograms?|liters?|litres?|l|ml"
    "|people|persons?|students?|ways?|points?|times|mph|km/h"
)
_TRAILING_UNITS = re.compile(rf"(?<=[\d}}])(?:\s*(?:{_UNIT_WORDS})(?:\^?\{{?[23]\}}?|²|³)?)+\s*$")
_PERCENT = re.compile(r"\\%|%|\s*(?<![A-Za-z])(?:percentage|percent|pct)\b")
_SPACING = re.compile(r"(?<!\\)\\[,;:! ]|\\quad|\\qquad|~|\\displaystyle|\\limits")
_LEFT_RIGHT = re.compile(r"\\(?:left|right|bigl|bigr|Bigl|Bigr|big|Big)\s*(\\[{}]|[()\[\]|.])")
_FRAC_ALIASES = re.compile(r"\\[dtc]frac")
_UNIT_TEXT = re.compile(
    r"(?<=[\d}])\s*\\(?:text|mbox|textnormal|mathrm|textrm)\s*\{(?!\s*(?:and|or|,)\s*\})[^{}]*\}"
)
_NON_LATIN = re.compile(r"[\u3000-\u303f\u3040-\u9fff\uac00-\ud7af\uff00-\uffef]+")
_ELLIPSIS = re.compile(r"\.\.\.|…|\\[lc]?dots\b")
# Not inside a pair: `(12,102)` is two numbers.
_THOUSANDS = re.compile(r"(?<![\d.(\[])(?<![(\[] )([1-9]\d{0,2})((?:,\d{3})+)(?![\d])(?!\s*[)\]])")
_SPACED_THOUSANDS = re.compile(r"(?<![\d.])(\d{1,3})((?: \d{3})+)(?![\d.])")


def strip_delimiters(text: str) -> str:
    """Drop math delimiters around the whole answer, as often as they nest."""
    text = text.strip()
    changed = True
    while changed:
        changed = False
        for opening, closing in _DELIMITERS:
            long_enough = len(text) >= len(opening) + len(closing)
            if long_enough and text.startswith(opening) and text.endswith(closing):
                text = text[len(opening) : len(text) - len(closing)].strip()
                changed = True
    return text


def unwrap(text: str, pattern: re.Pattern[str]) -> str:
    """Replace `\\macro{contents}` by `contents` for every macro `pattern` matches."""
    while True:
        match = pattern.search(text)
        if match is None:
            return text
        group = braced(text, match.end())
        if group is None:
            return text[: match.start()] + text[match.end() :]
        contents, end = group
        text = text[: match.start()] + contents + text[end:]


def _short_fractions(text: str) -> str:
    """`\\frac12` → `\\frac{1}{2}`, `\\frac3{3}`, `\\sqrt3` → `\\sqrt{3}`."""
    text = re.sub(r"\\frac\s*(\d)\s*(\d)", r"\\frac{\1}{\2}", text)
    text = re.sub(r"\\frac\s*(\d)\s*(?=\{)", r"\\frac{\1}", text)
    text = re.sub(r"\\frac\s*(\{[^{}]*\})\s*(\d)", r"\\frac\1{\2}", text)
    return re.sub(r"\\sqrt\s*(\d+|[a-zA-Z])", r"\\sqrt{\1}", text)


def normalize(answer: str) -> Normalized:
    text = strip_delimiters(answer)
    text = re.sub(r"(\d)[ \t]*\r?\n\s*(?=\d)", r"\1, ", text)  # numbers on two lines are two
    text = _NON_LATIN.sub(" ", text).replace("**", " ")
    text = _ELLIPSIS.sub(r"\\ldots", text)
    text = text.replace("\\$", " ").replace("$", " ")
    text = re.sub(r"[€£¥]", " ", text)
    text = re.sub(r"\s*\{\s*,\s*\}\s*", ",", text)
    text = re.sub(r"(\d),\\!\s*(?=\d{3})", r"\1,", text)
    text = _SPACING.sub(" ", text)
    text = _LEFT_RIGHT.sub(lambda m: "" if m.group(1) == "." else m.group(1), text)
    text = _FRAC_ALIASES.sub(r"\\frac", text)
    text = _UNIT_TEXT.sub(" ", text)
    text = unwrap(text, _WRAPPERS)
    text = re.sub(r"\^\s*\{?\\circ\}?|\\circ|°|\\degree", "", text)
    percent = bool(_PERCENT.search(text))
    text = _PERCENT.sub("", text)
    text = _short_fractions(text)
    text = text.strip()
    text = re.sub(r"[\s.,;:!\\]+$", "", text)
    text = _TRAILING_UNITS.sub("", text)
    text = _THOUSANDS.sub(lambda m: m.group(1) + m.group(2).replace(",", ""), text)
    text = _SPACED_THOUSANDS.sub(lambda m: m.group(1) + m.group(2).replace(" ", ""), text)
    text = re.sub(r"\s+", " ", text).strip()
    text = re.sub(r"[\s.,;:!]+$", "", text)
    return Normalized(text, percent)
