"""STaR prompts: built-in templates per domain, overrides from files, one-pass filling."""

from __future__ import annotations

from pathlib import Path

import pytest

from verified_factory.config import load_config
from verified_factory.records import Problem
from verified_factory.solve.prompts import load_prompts


def _problem(
    domain: str, text: str = "What is $\\{1, 2\\}$'s size?", reference: str = "2"
) -> Problem:
    return Problem(id="p", domain=domain, problem=text, reference=reference)


def test_built_in_prompts_ask_for_the_domain_s_answer_form() -> None:
    prompts = load_prompts({}, {})
    math = prompts.prompt(_problem("math"))
    assert "\\boxed{}" in math and math.endswith("What is $\\{1, 2\\}$'s size?")
    assert "```python" in prompts.prompt(_problem("code", "Write f."))
    assert prompts.prompt(_problem("chemistry", "Balance H2 + O2.")).endswith("Balance H2 + O2.")


def test_the_hint_wraps_the_solve_prompt_and_values_are_never_substituted_into() -> None:
    prompts = load_prompts({}, {})
    problem = _problem("math", text="Is {reference} a placeholder?", reference="\\frac{1}{2}")
    hinted = prompts.hinted(problem)
    assert hinted.startswith(prompts.prompt(problem))
    assert "Is {reference} a placeholder?" in hinted
    assert "The correct final answer is \\frac{1}{2}." in hinted
    with pytest.raises(ValueError, match="no reference"):
        prompts.hinted(Problem(id="q", domain="math", problem="x"))


def test_config_files_override_a_domain_and_resolve_beside_the_config(tmp_path: Path) -> None:
    (tmp_path / "prompts").mkdir()
    (tmp_path / "prompts" / "math.txt").write_text("Q: {problem}\nA:")
    (tmp_path / "prompts" / "bad_hint.txt").write_text("{prompt} (no reference here)")
    config_file = tmp_path / "job.yaml"
    config_file.write_text("star:\n  prompts: {math: prompts/math.txt}\n")
    config = load_config(config_file)
    assert config.star.prompts == {"math": tmp_path / "prompts" / "math.txt"}
    prompts = load_prompts(config.star.prompts, config.star.hints)
    assert prompts.prompt(_problem("math", "1+1?")) == "Q: 1+1?\nA:"
    assert "```python" in prompts.prompt(_problem("code", "Write f."))  # other domains untouched

    with pytest.raises(
        ValueError, match=r"star\.hints\.math: .*bad_hint\.txt lacks .*\{reference\}"
    ):
        load_prompts({}, {"math": tmp_path / "prompts" / "bad_hint.txt"})
    with pytest.raises(ValueError, match=r"star\.prompts\.code: cannot read"):
        load_prompts({"code": tmp_path / "missing.txt"}, {})
