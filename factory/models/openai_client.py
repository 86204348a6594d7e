"""A ModelClient for any OpenAI-compatible chat endpoint (OpenAI, vLLM, SGLang, ...).

The SDK's own retries are off: this client retries itself, so that every attempt passes the
concurrency limit and the shared rate limiter, and so that malformed answers are retried too.
Requests go through the SDK's low-level `post` for the raw response, which carries the
rate-limit headers: the typed `chat.completions.create` costs about half as much CPU again per
request (transforming parameters, building response models), and this client's CPU per request
bounds how many requests one process keeps in flight.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import os
import random
import time
from collections.abc import Mapping
from email.utils import parsedate_to_datetime
from typing import Any

import openai

from verified_factory.config import ModelConfig
from verified_factory.models.base import (
    ChatRequest,
    Completion,
    FailureKind,
    ModelError,
    ModelUnreachable,
)
from verified_factory.models.rate_limit import RateLimiter

PROBE_TIMEOUT_S = 10.0

# The SDK's own HTTP library, whose connection limits and raw response this client uses: httpx2
# from the SDK's 3.0, httpx before. The 2.x line stays supported because prime's `verifiers`
# (0.4) pins openai below 3, and RL users install the two side by side.
_http = importlib.import_module("httpx2" if int(openai.__version__.split(".")[0]) >= 3 else "httpx")

# The SDK's platform headers are telemetry no endpoint needs; each header costs CPU per request
# on both ends.
_NO_TELEMETRY: dict[str, str | openai.Omit] = {
    name: openai.Omit()
    for name in (
        "X-Stainless-Lang",
        "X-Stainless-Package-Version",
        "X-Stainless-OS",
        "X-Stainless-Arch",
        "X-Stainless-Runtime",
        "X-Stainless-Runtime-Version",
    )
}


class _Transient(Exception):
    """An attempt that failed in a way worth retrying; `retry_after` is the server's wish."""

    def __init__(self, kind: FailureKind, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.kind: FailureKind = kind
        self.message = message
        self.retry_after = retry_after


class OpenAIClient:
    """Chat completions from an OpenAI-compatible endpoint, with retries and rate limits.

    At most `config.max_concurrency` requests are in flight. A failed attempt (429, 5xx,
    timeout, connection error, malformed answer) is retried up to `config.max_retries` times
    after a full-jitter exponential backoff (`backoff_base_s` doubling up to `backoff_cap_s`),
    or longer if the server asked for it with `Retry-After`. Any other 4xx is not retried.
    """

    def __init__(
        self,
        config: ModelConfig,
        *,
        backoff_base_s: float = 0.5,
        backoff_cap_s: float = 30.0,
    ) -> None:
        if not config.base_url:
            raise ValueError("OpenAIClient needs model.base_url")
        self.base_url = config.base_url
        self._config = config
        self._backoff_base_s = backoff_base_s
        self._backoff_cap_s = backoff_cap_s
        api_key, self._key_source = _api_key(config)
        connections = _http.Limits(
            max_connections=config.max_concurrency,
            max_keepalive_connections=config.max_concurrency,
        )
        # aiohttp under the SDK costs about 40% less CPU per request than its default transport.
        # No SDK timeout: each attempt's asyncio.timeout bounds all of it, so the transport
        # needs no timers of its own.
        self._sdk = openai.AsyncOpenAI(
            base_url=config.base_url,
            api_key=api_key,
            max_retries=0,
            timeout=None,
            default_headers=_NO_TELEMETRY,
            http_client=openai.DefaultAioHttpClient(limits=connections, timeout=None),
        )
        self._slots = asyncio.Semaphore(config.max_concurrency)
        self._limiter = RateLimiter(config.requests_per_minute, config.tokens_per_minute)

    async def probe(self) -> None:
        """Raise ModelUnreachable unless the endpoint answers `GET /models` with anything but
        401/403; 404 counts as reachable, since some servers do not list their models."""
        seconds = min(self._config.timeout_s, PROBE_TIMEOUT_S)
        try:
            async with asyncio.timeout(seconds):
                await self._sdk.models.with_raw_response.list(timeout=seconds)
        except (TimeoutError, openai.APIConnectionError) as err:
            if _timed_out(err):
                raise ModelUnreachable(
                    f"the model endpoint {self.base_url} did not answer GET /models "
                    f"within {seconds:g} s"
                ) from err
            raise ModelUnreachable(
                f"cannot connect to the model endpoint {self.base_url}: {_cause(err)}"
            ) from err
        except openai.APIStatusError as err:
            if err.status_code in (401, 403):
                raise ModelUnreachable(
                    f"the model endpoint {self.base_url} refused the API key from "
                    f"{self._key_source} (HTTP {err.status_code})"
                ) from err

    async def complete(self, request: ChatRequest) -> Completion:
        """The completion, after up to `max_retries` retries; ModelError if there is none.

        The completion's `latency_s` is the successful attempt's, from sending to the answer.
        """
        body = {
            "model": request.model,
            "messages": [{"role": m.role, "content": m.content} for m in request.messages],
            "temperature": request.temperature,
            "max_tokens": request.max_tokens,
        }
        if request.seed is not None:
            body["seed"] = request.seed
        estimate = sum(len(m.content) for m in request.messages) // 4 + request.max_tokens
        attempts = 0
        while True:
            attempts += 1
            async with self._slots:
                await self._limiter.acquire(estimate)
                try:
                    return await self._attempt(request, body, estimate, attempts)
                except _Transient as err:
                    failure = err
            if failure.kind == "rate_limited":
                self._limiter.pause(
                    failure.retry_after
                    if failure.retry_after is not None
                    else self._backoff_ceiling(attempts)
                )
            if attempts > self._config.max_retries:
                tries = "1 attempt" if attempts == 1 else f"{attempts} attempts"
                raise ModelError(failure.kind, f"{failure.message} (after {tries})", attempts)
            backoff = random.uniform(0.0, self._backoff_ceiling(attempts))
            await asyncio.sleep(max(backoff, failure.retry_after or 0.0))

    async def aclose(self) -> None:
        await self._sdk.close()

    def _backoff_ceiling(self, attempts: int) -> float:
        return min(self._backoff_cap_s, self._backoff_base_s * 2 ** (attempts - 1))

    async def _attempt(
        self, request: ChatRequest, body: dict[str, Any], estimate: int, attempts: int
    ) -> Completion:
        """One request; raises _Transient for what is worth retrying, ModelError for a 4xx."""
        started = time.perf_counter()
        try:
            async with asyncio.timeout(self._config.timeout_s):
                response = await self._sdk.post(
                    "/chat/completions", body=body, cast_to=_http.Response
                )
        except (TimeoutError, openai.APIConnectionError) as err:
            if _timed_out(err):
                raise _Transient(
                    "timeout",
                    f"no answer from {self.base_url} within {self._config.timeout_s:g} s",
                ) from err
            raise _Transient("connection", f"cannot reach {self.base_url}: {_cause(err)}") from err
        except openai.APIStatusError as err:
            headers = err.response.headers
            self._limiter.observe(headers)
            status = err.status_code
            message = f"{self.base_url} answered {err.message}"
            if status == 429:
                raise _Transient("rate_limited", message, _retry_after(headers)) from err
            if status >= 500:
                raise _Transient("server_error", message, _retry_after(headers)) from err
            raise ModelError("rejected", message, attempts) from err
        self._limiter.observe(response.headers)
        try:
            answer, choice, text, reasoning = _read_completion(response.content)
        except ValueError as err:
            raise _Transient(
                "malformed", f"{self.base_url} answered no chat completion: {err}"
            ) from err
        usage = answer.get("usage")
        if not isinstance(usage, dict):
            usage = {}
        prompt_tokens = _count(usage.get("prompt_tokens"))
        completion_tokens = _count(usage.get("completion_tokens"))
        if prompt_tokens or completion_tokens:
            self._limiter.settle(estimate, prompt_tokens + completion_tokens)
        return Completion(
            key=request.key,
            text=text,
            reasoning=reasoning,
            model=_text(answer.get("model")) or request.model,
            finish_reason=_text(choice.get("finish_reason")),
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            attempts=attempts,
            latency_s=time.perf_counter() - started,
            endpoint=self.base_url,
        )


def _api_key(config: ModelConfig) -> tuple[str, str]:
    """The API key and where it came from, for error messages; vLLM and the like need none."""
    if config.api_key:
        return config.api_key, "model.api_key"
    if config.api_key_env and (value := os.environ.get(config.api_key_env)):
        return value, f"${config.api_key_env}"
    unset = f"model.api_key and ${config.api_key_env}" if config.api_key_env else "model.api_key"
    return "EMPTY", f"neither {unset} (none was sent)"


def _retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds the server asked to wait, from `retry-after-ms` or `Retry-After`, if any."""
    millis = headers.get("retry-after-ms")
    if millis is not None:
        try:
            return max(0.0, float(millis) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


def _count(value: object) -> int:
    return value if isinstance(value, int) and value > 0 else 0


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _read_completion(
    content: bytes,
) -> tuple[dict[str, Any], dict[str, Any], str, str | None]:
    """A chat completion's body, its first choice, that choice's text and its reasoning (vLLM's
    and SGLang's `reasoning_content`, or `reasoning`); a ValueError that says what is wrong when
    the body is not a chat completion. A reasoning model cut off while reasoning may answer
    with no content: its text is then empty."""
    try:
        answer = json.loads(content)
    except ValueError:
        raise ValueError(f"not JSON: {content[:80]!r}") from None
    if not isinstance(answer, dict):
        raise ValueError(f"JSON {type(answer).__name__}, not an object")
    choices = answer.get("choices")
    if not isinstance(choices, list) or not choices:
        raise ValueError("no choices")
    choice = choices[0]
    message = choice.get("message") if isinstance(choice, dict) else None
    if not isinstance(message, dict):
        raise ValueError("no message in choices[0]")
    reasoning = _text(message.get("reasoning_content")) or _text(message.get("reasoning"))
    text = message.get("content")
    if text is None and reasoning is not None:
        text = ""
    if not isinstance(text, str):
        raise ValueError("no message content in choices[0]")
    return answer, choice, text, reasoning


def _chain(err: BaseException) -> list[BaseException]:
    """`err` and the exceptions it was raised from, outermost first."""
    chain = [err]
    while (inner := chain[-1].__cause__ or chain[-1].__context__) and inner not in chain:
        chain.append(inner)
    return chain


def _timed_out(err: BaseException) -> bool:
    """Whether a failed request ran out of time, as opposed to failing to connect.

    The SDK's type cannot tell: its aiohttp transport reports refused connections and server
    disconnects as `APITimeoutError` too (openai/openai-python#3594). Real timeouts, asyncio's
    and aiohttp's alike, are a builtin TimeoutError somewhere in the chain.
    """
    return any(isinstance(inner, TimeoutError) for inner in _chain(err))


def _cause(err: BaseException) -> str:
    """The innermost description of a connection failure; the SDK's own is 'Connection error.'"""
    return next((str(inner) for inner in reversed(_chain(err)) if str(inner)), type(err).__name__)
