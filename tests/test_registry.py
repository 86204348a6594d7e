from __future__ import annotations

from importlib.metadata import EntryPoint

import pytest

from verified_factory.records import Candidate
from verified_factory.verifiers import ENTRY_POINT_GROUP, Registry, SelectionError


def point(name: str, value: str) -> EntryPoint:
    return EntryPoint(name=name, value=value, group=ENTRY_POINT_GROUP)


SCRIPTED = point("scripted", "scripted_verifier:ScriptedVerifier")


def candidate(domain: str = "scripted", verifier: str | None = None) -> Candidate:
    return Candidate(id="x", domain=domain, problem="p", response="r", verifier=verifier)


def test_selects_by_domain_and_reuses_one_instance() -> None:
    registry = Registry([SCRIPTED])
    first = registry.select(candidate())
    assert first.name == "scripted"
    assert registry.select(candidate()) is first


def test_record_field_and_override_win_over_domain() -> None:
    registry = Registry([SCRIPTED])
    assert registry.select(candidate(domain="math", verifier="scripted")).name == "scripted"
    assert registry.select(candidate(domain="math"), override="scripted").name == "scripted"


def test_unknown_names_list_what_is_installed() -> None:
    registry = Registry([SCRIPTED])
    with pytest.raises(
        SelectionError,
        match=r"unknown verifier 'nope' \(field 'verifier'\); "
        r"installed: scripted \(scripted\)",
    ):
        registry.select(candidate(verifier="nope"))
    with pytest.raises(SelectionError, match=r"unknown verifier 'nope' \(--verifier\)"):
        registry.select(candidate(), override="nope")
    with pytest.raises(SelectionError, match=r"no installed verifier serves domain 'math'"):
        registry.select(candidate(domain="math"))


EXACT = point("exact_match", "exact_match_verifier:ExactMatchVerifier")
TWIN = point("text_twin", "scripted_verifier:TextTwin")


def test_a_domain_served_by_several_is_ambiguous() -> None:
    registry = Registry([EXACT, TWIN])
    with pytest.raises(
        SelectionError, match="several verifiers serve domain 'text': exact_match, text_twin"
    ):
        registry.select(candidate(domain="text"))
    assert registry.select(candidate(domain="text", verifier="text_twin")).name == "text_twin"


def test_the_verifier_named_after_a_domain_wins_it() -> None:
    registry = Registry([EXACT, TWIN, point("text", "scripted_verifier:Text")])
    assert registry.select(candidate(domain="text")).name == "text"


def test_a_verifier_that_cannot_be_created_gives_a_selection_error() -> None:
    registry = Registry([point("fails_to_start", "scripted_verifier:FailsToStart")])
    with pytest.raises(SelectionError, match="could not be created: OSError: no sandbox engine"):
        registry.select(candidate())


@pytest.mark.parametrize(
    ("entry", "problem"),
    [
        (point("broken", "no_such_module:Nothing"), "cannot be imported: ModuleNotFoundError"),
        (point("not_a_verifier", "scripted_verifier:NotAVerifier"), "is not a subclass"),
        (
            point("unnamed", "scripted_verifier:UnnamedVerifier"),
            "entry point 'unnamed' points to a class whose name is 'something-else'",
        ),
    ],
)
def test_broken_plugins_are_listed_with_their_problem_and_refused(
    entry: EntryPoint, problem: str
) -> None:
    registry = Registry([SCRIPTED, entry])
    info = next(i for i in registry.infos() if i.name == entry.name)
    assert info.problem is not None and problem in info.problem
    with pytest.raises(SelectionError, match="is unusable"):
        registry.select(candidate(verifier=entry.name))
    assert registry.select(candidate()).name == "scripted"


def test_a_name_registered_twice_is_refused() -> None:
    registry = Registry([SCRIPTED, point("scripted", "scripted_verifier:UnnamedVerifier")])
    (info,) = registry.infos()
    assert info.problem is not None and "registered more than once" in info.problem
    with pytest.raises(SelectionError):
        registry.select(candidate())


def test_infos_describe_usable_verifiers() -> None:
    (info,) = Registry([SCRIPTED]).infos()
    assert (info.name, info.domains, info.problem) == ("scripted", ("scripted",), None)
    assert info.target == "scripted_verifier:ScriptedVerifier"


def test_prepare_skips_what_it_cannot_create_and_leaves_it_to_the_verdicts() -> None:
    registry = Registry([point("fails_to_start", "scripted_verifier:FailsToStart")])
    registry.prepare(["scripted", "no-such-domain"])  # neither raises here
    with pytest.raises(SelectionError, match="could not be created: OSError: no sandbox engine"):
        registry.select(candidate())


def test_prepare_starts_the_math_checker_before_the_first_candidate() -> None:
    import multiprocessing

    before = {child.pid for child in multiprocessing.active_children()}
    registry = Registry(settings={})
    registry.prepare(["math"])
    started = {child.pid for child in multiprocessing.active_children()} - before
    assert len(started) == 1, "one checking process, SymPy imported, waiting for candidates"
    math = registry.select(Candidate(id="m", domain="math", problem="p", response="\\boxed{2}"))
    assert {child.pid for child in multiprocessing.active_children()} - before == started
    assert math.verify(
        Candidate(id="m", domain="math", problem="p", response="\\boxed{2}", reference="2")
    ).accepted
