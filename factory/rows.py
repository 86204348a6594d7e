"""What a run keeps: every verified attempt (kept or not) and every problem that failed.

A committed unit is a JSON Lines file of these records. `Attempt.sft_row` is the exported form
of the contract: `messages`, the ids, and what re-checks the row (`reference`, `tests`).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from verified_factory.models.base import Message
from verified_factory.records import Verdict

ReasoningShape = Literal["think", "field"]
"""Where an exported row keeps the reasoning (`export.reasoning`)."""


class Attempt(BaseModel):
    """One candidate and its verdict. `kept` marks the verified rationales chosen for training."""

    model_config = ConfigDict(extra="forbid")

    record: Literal["attempt"] = "attempt"
    id: str
    problem_id: str
    domain: str
    source: str | None
    model: str
    messages: tuple[Message, Message] = Field(description="the stored prompt and the response")
    reference: str | None = Field(
        description="the gold answer or reference solution; by agreement, the majority answer"
    )
    agreement: float | None = Field(
        default=None, description="math without a reference: the majority answer's share"
    )
    tests: str | None = Field(description="the test spec as JSON text (code rows)")
    provenance: dict[str, Any] | None = Field(
        default=None, description="a synthesized problem's synthesizer, seed items and round"
    )
    reasoning: str | None = Field(
        default=None, description="a reasoning model's reasoning, apart from its answer"
    )
    rationalized: bool
    pass_rate: float | None = Field(
        default=None,
        description="the share of the problem's plain (unhinted) samples accepted: how hard the "
        "problem is for the model, on every attempt of the problem",
    )
    kept: bool
    verdict: Verdict
    prompt_tokens: int = 0
    completion_tokens: int = 0

    @property
    def rationale(self) -> str:
        """The reasoning and the answer, as one text: what distinctness and dedupe compare."""
        answer = self.messages[1].content
        return f"{self.reasoning}\n\n{answer}" if self.reasoning else answer

    def assistant_message(self, reasoning: ReasoningShape = "think") -> dict[str, Any]:
        """The response as an exported message: the reasoning inside the content in
        `<think>` tags, or (`field`) under `reasoning_content`, null when there is none."""
        answer = self.messages[1].content
        if reasoning == "field":
            return {"role": "assistant", "content": answer, "reasoning_content": self.reasoning}
        if self.reasoning:
            answer = f"<think>\n{self.reasoning}\n</think>\n\n{answer}"
        return {"role": "assistant", "content": answer}

    def prompt_message(self, reasoning: ReasoningShape = "think") -> dict[str, Any]:
        """The prompt as an exported message (in the `field` shape every message has the key)."""
        prompt = self.messages[0].model_dump()
        if reasoning == "field":
            prompt["reasoning_content"] = None
        return prompt

    def sft_row(self, reasoning: ReasoningShape = "think") -> dict[str, Any]:
        """The exported row of the contract."""
        return {
            "messages": [self.prompt_message(reasoning), self.assistant_message(reasoning)],
            "id": self.id,
            "problem_id": self.problem_id,
            "domain": self.domain,
            "source": self.source,
            "verifier": self.verdict.verifier,
            "rationalized": self.rationalized,
            "pass_rate": self.pass_rate,
            "model": self.model,
            "reference": self.reference,
            "agreement": self.agreement,
            "tests": self.tests,
            "provenance": _provenance_row(self.provenance),
        }


def _provenance_row(provenance: dict[str, Any] | None) -> dict[str, Any] | None:
    """The export's fixed `provenance` struct; null for problems from files and generators."""
    if provenance is None:
        return None
    return {
        "synthesizer": provenance.get("synthesizer"),
        "name": provenance.get("name"),
        "seeds": list(provenance.get("seeds", [])),
        "round": provenance.get("round"),
        "operation": provenance.get("operation"),
        "snippet": provenance.get("snippet"),
    }


Stage = Literal["source", "model", "verify"]


class ProblemError(BaseModel):
    """A problem (or a source line) that produced no attempt, or lost some, and why."""

    model_config = ConfigDict(extra="forbid")

    record: Literal["error"] = "error"
    problem_id: str | None
    line: int | None = Field(default=None, description="source line, for a bad record")
    stage: Stage
    kind: str
    message: str
    removal: dict[str, str] | None = Field(
        default=None, description="curation's record, when the problem was left out on purpose"
    )


RETRYABLE_MODEL_FAILURES = frozenset(
    {"rate_limited", "server_error", "timeout", "malformed", "connection"}
)
"""Failures that say nothing of the request itself: a resumed run asks again."""


def worth_retrying(record: Attempt | ProblemError) -> bool:
    """Whether a later session may well do better: the endpoint or the verifier had trouble."""
    if isinstance(record, ProblemError):
        return record.stage == "model" and record.kind in RETRYABLE_MODEL_FAILURES
    return record.verdict.status == "error"


UnitRecord = Annotated[Attempt | ProblemError, Field(discriminator="record")]
