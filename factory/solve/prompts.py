"""STaR prompts: one template per domain, kept as files and overridable in the job config.

A solve template holds `{problem}`; a hint template (rationalization) holds `{prompt}` (the solve
prompt) and `{reference}`. Placeholders are filled by plain substitution, so LaTeX braces such as
`\\boxed{}` need no escaping. The hint is only ever sent: the stored prompt is the solve prompt.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from verified_factory.records import Problem

BUILT_IN_DOMAINS = ("math", "code")


@dataclass(frozen=True)
class Prompts:
    """The solve and hint templates of every domain; `default` serves the others."""

    solve: dict[str, str]
    hint: dict[str, str]

    def prompt(self, problem: Problem) -> str:
        """The user message that asks the model to solve `problem`."""
        return _fill(self._template(self.solve, problem.domain), problem=problem.problem)

    def hinted(self, problem: Problem) -> str:
        """The solve prompt plus the reference as a hint (STaR rationalization)."""
        if problem.reference is None:
            raise ValueError(f"problem {problem.id!r} has no reference to give as a hint")
        template = self._template(self.hint, problem.domain)
        return _fill(template, prompt=self.prompt(problem), reference=problem.reference.strip())

    @staticmethod
    def _template(templates: dict[str, str], domain: str) -> str:
        return templates.get(domain, templates["default"])


def load_prompts(solve: dict[str, Path], hint: dict[str, Path]) -> Prompts:
    """The built-in templates, each replaced by the file the config names for its domain."""
    built_in = resources.files("verified_factory") / "templates"
    domains = (*BUILT_IN_DOMAINS, "default")
    solve_text = {d: (built_in / f"{d}.txt").read_text() for d in domains}
    hint_text = {d: (built_in / f"{d}_hint.txt").read_text() for d in domains}
    for domain, path in solve.items():
        solve_text[domain] = _read(path, f"star.prompts.{domain}", ("{problem}",))
    for domain, path in hint.items():
        hint_text[domain] = _read(path, f"star.hints.{domain}", ("{prompt}", "{reference}"))
    return Prompts(solve=solve_text, hint=hint_text)


def _read(path: Path, key: str, placeholders: tuple[str, ...]) -> str:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise ValueError(f"{key}: cannot read {path}: {err.strerror}") from err
    missing = [p for p in placeholders if p not in text]
    if missing:
        raise ValueError(f"{key}: {path} lacks the placeholder(s) {', '.join(missing)}")
    return text


def _fill(template: str, **values: str) -> str:
    """Substitute `{name}` placeholders in one pass, so a value is never substituted into."""
    pattern = "|".join(re.escape("{" + name + "}") for name in values)
    return re.sub(pattern, lambda m: values[m.group(0)[1:-1]], template).rstrip("\n")
