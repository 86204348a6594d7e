from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from verified_factory.records import (
    AssertTests,
    CallTests,
    Candidate,
    Problem,
    PytestTests,
    RecordError,
    StdioTests,
    Verdict,
    parse_record,
)

TESTS_BY_FORMAT = {
    "assert": {"format": "assert", "code": "assert add(1, 2) == 3", "entry_point": "add"},
    "call": {
        "format": "call",
        "entry_point": "add",
        "cases": [{"args": [1, 2], "expected": 3}, {"kwargs": {"a": 1, "b": 1}, "expected": 2}],
        "time_limit_s": 2,
    },
    "stdio": {"format": "stdio", "cases": [{"input": "1 2\n", "output": "3\n"}]},
    "pytest": {"format": "pytest", "code": "from solution import add\ndef test(): ...\n"},
}
MODELS_BY_FORMAT = {
    "assert": AssertTests,
    "call": CallTests,
    "stdio": StdioTests,
    "pytest": PytestTests,
}


def code_candidate(tests: object) -> dict:
    return {
        "id": "c2",
        "domain": "code",
        "problem": "Write add(a, b).",
        "response": "```python\ndef add(a, b):\n    return a + b\n```",
        "tests": tests,
    }


def test_contract_examples_parse() -> None:
    math = parse_record(
        Candidate,
        {
            "id": "c1",
            "domain": "math",
            "problem": "2+2?",
            "reference": "4",
            "response": "\\boxed{4}",
        },
    )
    assert (math.id, math.reference, math.tests, math.meta) == ("c1", "4", None, {})
    code = parse_record(Candidate, code_candidate(TESTS_BY_FORMAT["assert"]))
    assert isinstance(code.tests, AssertTests)
    assert code.tests.entry_point == "add"


@pytest.mark.parametrize("fmt", sorted(TESTS_BY_FORMAT))
def test_every_test_format_round_trips(fmt: str) -> None:
    candidate = parse_record(Candidate, code_candidate(TESTS_BY_FORMAT[fmt]))
    assert isinstance(candidate.tests, MODELS_BY_FORMAT[fmt])
    again = Candidate.model_validate_json(candidate.model_dump_json())
    assert again == candidate


@pytest.mark.parametrize("fmt", sorted(TESTS_BY_FORMAT))
def test_tests_given_as_json_text_as_in_exported_rows(fmt: str) -> None:
    as_text = parse_record(Candidate, code_candidate(json.dumps(TESTS_BY_FORMAT[fmt])))
    as_object = parse_record(Candidate, code_candidate(TESTS_BY_FORMAT[fmt]))
    assert as_text == as_object


def test_exported_row_keys_are_ignored_and_integer_ids_accepted() -> None:
    row = {
        "id": 11,
        "domain": "math",
        "problem": "2+2?",
        "response": "4",
        "messages": [{"role": "user", "content": "2+2?"}],
        "rationalized": False,
    }
    assert parse_record(Candidate, row).id == "11"


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"response": None}, "candidate 'c2' (line 9): field 'response': Input should be a valid"),
        ({"id": None}, "candidate on line 9: field 'id'"),
        ({"id": True}, "candidate on line 9: field 'id'"),
        ({"domain": ""}, "field 'domain': String should have at least 1 character"),
        ({"tests": {"format": "fuzz"}}, "field 'tests': Input tag 'fuzz'"),
        ({"tests": {"format": "assert"}}, "field 'tests.code': Field required"),
        (
            {"tests": {"format": "call", "entry_point": "f", "cases": [{"args": [1]}]}},
            "field 'tests.cases.0.expected': Field required",
        ),
        (
            {"tests": {"format": "stdio", "cases": [{"output": "1"}], "time_limit": 3}},
            "field 'tests.time_limit': Extra inputs are not permitted",
        ),
        (
            {"tests": {"format": "pytest", "code": "x", "memory_limit_mb": -1}},
            "field 'tests.memory_limit_mb': Input should be greater than 0",
        ),
        ({"tests": "{not json"}, "field 'tests': Value error, is a string but not JSON text"),
        ({"reference": 4}, "field 'reference': Input should be a valid string"),
    ],
)
def test_rejections_name_the_record_and_the_field(change: dict, expected: str) -> None:
    data = code_candidate(TESTS_BY_FORMAT["assert"]) | change
    with pytest.raises(RecordError) as caught:
        parse_record(Candidate, data, line=9)
    assert expected in str(caught.value)
    assert caught.value.line == 9


def test_a_line_that_is_not_an_object_is_named() -> None:
    with pytest.raises(
        RecordError, match=r"problem on line 3: expected a JSON object, got an array"
    ):
        parse_record(Problem, [1, 2], line=3)


def test_missing_fields_are_all_listed() -> None:
    with pytest.raises(RecordError) as caught:
        parse_record(Problem, {"id": "p1"})
    message = str(caught.value)
    assert message.startswith("problem 'p1': ")
    assert "field 'domain': Field required" in message
    assert "field 'problem': Field required" in message


def test_verdict_accepted_must_agree_with_status() -> None:
    with pytest.raises(ValueError, match="contradicts"):
        Verdict(id="x", accepted=True, status="rejected", reason="r")
    with pytest.raises(ValueError, match="contradicts"):
        Verdict(id="x", accepted=False, status="accepted", reason="r")
    error = Verdict.error("broken", id="x", line=2)
    assert (error.accepted, error.status, error.line) == (False, "error", 2)


def test_verdict_forbids_unknown_fields() -> None:
    with pytest.raises(ValueError, match="score"):
        Verdict(id="x", accepted=False, status="error", reason="r", score=1)  # type: ignore[call-arg]


json_scalars = st.none() | st.booleans() | st.integers() | st.text(max_size=20)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)


@given(
    record_id=st.text(min_size=1, max_size=20),
    problem=st.text(max_size=50),
    response=st.text(max_size=50),
    reference=st.none() | st.text(max_size=20),
    meta=st.dictionaries(st.text(max_size=5), json_values, max_size=3),
    cases=st.lists(
        st.fixed_dictionaries({"args": st.lists(json_values, max_size=3), "expected": json_values}),
        min_size=1,
        max_size=3,
    ),
)
def test_candidates_survive_a_json_round_trip(
    record_id: str, problem: str, response: str, reference: str | None, meta: dict, cases: list
) -> None:
    data = {
        "id": record_id,
        "domain": "code",
        "problem": problem,
        "response": response,
        "reference": reference,
        "meta": meta,
        "tests": {"format": "call", "entry_point": "f", "cases": cases},
    }
    candidate = parse_record(Candidate, data)
    assert Candidate.model_validate_json(candidate.model_dump_json()) == candidate
    assert candidate.tests is not None
    assert [case.expected for case in candidate.tests.cases] == [c["expected"] for c in cases]
