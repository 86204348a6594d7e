"""The records of the design contract (`docs/design.md`), as pydantic models.

These models are the one source of the schema: readers, verifiers and writers all go through them.
This module imports nothing else of the project but the error root, so a verifier (built-in or
a plugin) depends on it and on `verified_factory.verifiers` alone, never on the job.
Input records (Problem, Candidate) ignore keys they do not know, so an exported row can be fed back
to `factory verify`; the test spec and the Verdict forbid unknown keys, because a misspelt limit
silently ignored would change what a verdict means.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal, TypeVar

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)

from verified_factory.errors import FactoryError


def _number_to_str(value: Any) -> Any:
    """Ids such as MBPP's `task_id` are integers in the wild; accept them as strings."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


RecordId = Annotated[str, BeforeValidator(_number_to_str), Field(min_length=1)]


class _Limits(BaseModel):
    model_config = ConfigDict(extra="forbid")

    time_limit_s: float | None = Field(default=None, gt=0)
    memory_limit_mb: int | None = Field(default=None, gt=0)


class AssertTests(_Limits):
    """Python statements run after the solution in the same module."""

    format: Literal["assert"]
    code: str = Field(min_length=1)
    entry_point: str | None = None


class CallCase(BaseModel):
    model_config = ConfigDict(extra="forbid")

    args: list[Any] = Field(default_factory=list)
    kwargs: dict[str, Any] = Field(default_factory=dict)
    expected: Any


class CallTests(_Limits):
    """Calls of `entry_point`; results leave the sandbox as data and are compared outside it."""

    format: Literal["call"]
    entry_point: str = Field(min_length=1)
    cases: list[CallCase] = Field(min_length=1)


class StdioCase(BaseModel):
    model_config = ConfigDict(extra="forbid")

    input: str = ""
    output: str


class StdioTests(_Limits):
    """The program reads `input` on stdin; stdout is compared with `output` outside the sandbox."""

    format: Literal["stdio"]
    cases: list[StdioCase] = Field(min_length=1)


class PytestTests(_Limits):
    """A pytest module that imports the solution as `solution`."""

    format: Literal["pytest"]
    code: str = Field(min_length=1)


def _decode_json_text(value: Any) -> Any:
    """Exported rows carry `tests` as JSON text; accept that form as well as the object."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except json.JSONDecodeError as err:
            raise ValueError(f"is a string but not JSON text ({err.msg} at {err.pos})") from err
    return value


TestSpec = Annotated[
    AssertTests | CallTests | StdioTests | PytestTests,
    Field(discriminator="format"),
]


class Problem(BaseModel):
    """A task shown to the model."""

    model_config = ConfigDict(extra="ignore")

    id: RecordId
    domain: str = Field(min_length=1)
    problem: str
    reference: str | None = None
    tests: Annotated[TestSpec | None, BeforeValidator(_decode_json_text)] = None
    source: str | None = None
    meta: dict[str, Any] = Field(default_factory=dict)

    @property
    def judged_together(self) -> bool:
        """Whether its samples are judged together (`Verifier.verify_group`), having nothing
        trusted to judge one against: tests the model wrote (`meta.tests_trusted: false`), or
        neither tests nor a reference."""
        no_reference = self.reference is None or not self.reference.strip()
        return self.meta.get("tests_trusted") is False or (self.tests is None and no_reference)


class Candidate(Problem):
    """A Problem plus the model's response, to be verified."""

    response: str
    problem_id: str | None = None
    verifier: str | None = None


Status = Literal["accepted", "rejected", "timeout", "error", "unverifiable", "truncated"]
"""What became of a candidate. Judgments: `accepted`, `rejected`, and `timeout` when the candidate
itself ran past its limit (its program, or the check of its answer). Not judgments: `error` (the
infrastructure failed: a sandbox, a worker, a verifier that raised) and `unverifiable` (the
record cannot be judged as given: its reference or tests are missing or unusable, so no
candidate of it could pass or fail). `truncated`: a job's reply that was cut off (at
`max_tokens`, or inside its reasoning), so never judged; no verifier gives it."""

JUDGMENTS = ("accepted", "rejected", "timeout")
"""The statuses that judge the candidate; any other says nothing of it (`docs/rewards.md`)."""


class Agreement(BaseModel):
    """What the samples of one problem, judged together, agreed on: on each accepted verdict of
    a group (`Verifier.verify_group`), so the row can be checked again like any other."""

    model_config = ConfigDict(extra="forbid")

    share: float = Field(ge=0, le=1, description="the share of the samples that agree")
    answer: str | None = Field(
        default=None, description="the answer they agree on: the row's reference"
    )
    tests: Annotated[TestSpec | None, BeforeValidator(_decode_json_text)] = Field(
        default=None, description="the tests the agreeing programs pass: the row's tests"
    )
    reference_agrees: bool | None = Field(
        default=None, description="whether the record's reference is among the agreeing"
    )


class Verdict(BaseModel):
    """What a verifier decided about one Candidate."""

    model_config = ConfigDict(extra="forbid")

    id: str | None
    verifier: str | None = None
    accepted: bool
    status: Status
    reason: str
    extracted: str | None = None
    details: list[dict[str, Any]] = Field(default_factory=list)
    elapsed_s: float | None = None
    agreement: Agreement | None = None
    line: int | None = Field(
        default=None, description="1-based input line, set by `factory verify`"
    )

    @model_validator(mode="after")
    def _accepted_means_status_accepted(self) -> Verdict:
        if self.accepted != (self.status == "accepted"):
            raise ValueError(
                f"accepted={self.accepted} contradicts status={self.status!r}: "
                "a verdict is accepted exactly when its status is 'accepted'"
            )
        return self

    @classmethod
    def error(
        cls,
        reason: str,
        *,
        id: str | None = None,
        verifier: str | None = None,
        line: int | None = None,
    ) -> Verdict:
        """A verdict for a record that could not be judged, with the reason a person can act on."""
        return cls(
            id=id, verifier=verifier, accepted=False, status="error", reason=reason, line=line
        )

    @classmethod
    def unverifiable(cls, reason: str, *, id: str | None = None) -> Verdict:
        """A verdict for a record whose reference or tests cannot judge any candidate; the
        reason names the field."""
        return cls(id=id, accepted=False, status="unverifiable", reason=reason)


class RecordError(FactoryError, ValueError):
    """A record that does not fit its schema; the message names the record and the fields."""

    def __init__(self, message: str, *, record_id: str | None, line: int | None) -> None:
        super().__init__(message)
        self.record_id = record_id
        self.line = line


def record_label(kind: str, record_id: str | None, line: int | None) -> str:
    """`candidate 'c2' (line 7)`, `candidate on line 7` or `candidate 'c2'`."""
    if record_id is not None and line is not None:
        return f"{kind} {record_id!r} (line {line})"
    if record_id is not None:
        return f"{kind} {record_id!r}"
    if line is not None:
        return f"{kind} on line {line}"
    return kind


def describe_validation_error(err: ValidationError) -> str:
    """One clause per failing field: `field 'tests.cases.0.output': Field required`."""
    clauses = []
    for item in err.errors(include_url=False):
        # The tagged union puts the tag in the location (`tests.assert.code`); drop it, it is
        # already the value of `tests.format`.
        loc = [
            str(part)
            for i, part in enumerate(item["loc"])
            if not (i > 0 and item["loc"][i - 1] == "tests" and part in _FORMAT_TAGS)
        ]
        field = ".".join(loc) if loc else "(record)"
        clauses.append(f"field {field!r}: {item['msg']}")
    return "; ".join(clauses)


_FORMAT_TAGS = {"assert", "call", "stdio", "pytest"}

ModelT = TypeVar("ModelT", bound=BaseModel)


def parse_record(model: type[ModelT], data: Any, *, line: int | None = None) -> ModelT:
    """Validate a decoded JSON value as `model`, or raise a RecordError naming record and field."""
    record_id = None
    if isinstance(data, dict):
        raw_id = data.get("id")
        if isinstance(raw_id, str | int) and not isinstance(raw_id, bool):
            record_id = str(raw_id)
    kind = model.__name__.lower()
    if not isinstance(data, dict):
        raise RecordError(
            f"{record_label(kind, None, line)}: expected a JSON object, got {_json_type(data)}",
            record_id=None,
            line=line,
        )
    try:
        return model.model_validate(data)
    except ValidationError as err:
        raise RecordError(
            f"{record_label(kind, record_id, line)}: {describe_validation_error(err)}",
            record_id=record_id,
            line=line,
        ) from err


def decode_line(model: type[ModelT], number: int, raw: bytes) -> ModelT:
    """The record on one JSON Lines line, or a RecordError that names the line and the field."""
    return parse_record(model, decode_json(number, raw, model.__name__), line=number)


def decode_json(number: int, raw: bytes, kind: str) -> Any:
    """The JSON value on one line, or a RecordError naming the line; `kind` is what was due."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise RecordError(
            f"line {number} is not UTF-8 (byte {err.start})", record_id=None, line=number
        ) from err
    if not text.strip():
        raise RecordError(
            f"line {number} is empty; expected a {kind} JSON object", record_id=None, line=number
        )
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise RecordError(
            f"line {number} is not JSON: {err.msg} at column {err.colno}",
            record_id=None,
            line=number,
        ) from err


def _json_type(value: Any) -> str:
    names = {list: "an array", str: "a string", bool: "a boolean", type(None): "null"}
    if isinstance(value, int | float) and not isinstance(value, bool):
        return "a number"
    return names.get(type(value), type(value).__name__)
