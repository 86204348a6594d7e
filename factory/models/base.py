"""What every model backend takes and gives: a chat request, a completion, a typed failure.

A request's `key` is a hash of everything that decides its answer (model, messages, sampling
settings and which of a problem's samples it is), so a completion stored under its key can be
reused by a resumed run instead of being bought again.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, computed_field

from verified_factory.errors import FactoryError

if TYPE_CHECKING:
    from verified_factory.config import ModelConfig


class Message(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    role: Literal["system", "user", "assistant"]
    content: str


class ChatRequest(BaseModel):
    """One chat completion to buy."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    model: str
    messages: tuple[Message, ...]
    temperature: float
    max_tokens: int
    sample: int = Field(default=0, ge=0, description="which of a problem's samples this is")
    seed: int | None = Field(default=None, description="the sampling seed sent, if any")

    @computed_field  # type: ignore[prop-decorator]
    @cached_property
    def key(self) -> str:
        # Without a seed, the key is what it was before requests had one: stored runs resume.
        body = self.model_dump(mode="json", exclude={"key"}, exclude_none=True)
        return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()

    @classmethod
    def asking(cls, model: ModelConfig, prompt: str, sample: int) -> ChatRequest:
        """Sample `sample` of the one-message chat `prompt`, with the job's model settings."""
        return cls(
            model=model.model,
            messages=(Message(role="user", content=prompt),),
            temperature=model.temperature,
            max_tokens=model.max_tokens,
            sample=sample,
            seed=None if model.seed is None else model.seed + sample,
        )


class Completion(BaseModel):
    """A model's answer to one request, with what it cost."""

    model_config = ConfigDict(extra="forbid")

    key: str
    text: str
    reasoning: str | None = Field(
        default=None, description="the reasoning the server returned apart from the text"
    )
    model: str
    finish_reason: str | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    attempts: int = 1
    latency_s: float = 0.0
    endpoint: str | None = Field(default=None, description="the base URL that answered")


FailureKind = Literal[
    "rate_limited",  # 429 after every retry
    "server_error",  # 5xx after every retry
    "timeout",  # no answer within timeout_s, every time
    "malformed",  # an answer that is not a chat completion, every time
    "connection",  # the endpoint could not be reached
    "rejected",  # a 4xx other than 429: the request itself is at fault; not retried
    "declined",  # the backend will not answer this request (the offline teacher's unknown problem)
]


class ModelError(FactoryError):
    """A request that got no completion; `kind` says why, `attempts` how often it was tried."""

    def __init__(self, kind: FailureKind, message: str, attempts: int = 1) -> None:
        super().__init__(message)
        self.kind: FailureKind = kind
        self.message = message
        self.attempts = attempts

    def __reduce__(self) -> tuple[type[ModelError], tuple[str, str, int]]:
        return (type(self), (self.kind, self.message, self.attempts))


class ModelFailure(BaseModel):
    """A ModelError as data, recorded on the problem's row."""

    model_config = ConfigDict(extra="forbid")

    key: str
    kind: FailureKind
    message: str
    attempts: int

    @classmethod
    def of(cls, key: str, err: ModelError) -> ModelFailure:
        return cls(key=key, kind=err.kind, message=err.message, attempts=err.attempts)


Complete = Callable[[Path, list[ChatRequest]], Awaitable[dict[str, "Completion | ModelFailure"]]]
"""How a stage of a job buys completions: `complete(log, requests)` gives each request's
completion or failure by key. Completions already stored in `log` (a file of the run directory)
are read back, the others bought and appended there as they arrive."""


class ModelUnreachable(FactoryError, RuntimeError):
    """The endpoint did not answer at all; raised before any work starts. Names the URL."""


class ModelClient(Protocol):
    """An async model backend. One instance serves many concurrent `complete` calls."""

    async def probe(self) -> None:
        """Raise ModelUnreachable, naming the endpoint, if it cannot be reached at all."""

    async def complete(self, request: ChatRequest) -> Completion:
        """The completion, after any retries; raise ModelError when there is none."""

    async def aclose(self) -> None:
        """Release connections."""
