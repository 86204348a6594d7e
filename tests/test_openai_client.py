"""OpenAIClient against the loopback test server: answers, retries, limits, probing."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import pytest
from model_server import ModelServer

from verified_factory.config import ModelConfig
from verified_factory.models.base import (
    ChatRequest,
    Completion,
    Message,
    ModelError,
    ModelUnreachable,
)
from verified_factory.models.openai_client import OpenAIClient
from verified_factory.models.rate_limit import parse_duration

T = TypeVar("T")


def config_for(base_url: str, **overrides: Any) -> ModelConfig:
    settings: dict[str, Any] = {
        "backend": "openai",
        "base_url": base_url,
        "model": "test-model",
        "api_key": "test-key",
        "max_concurrency": 8,
        "timeout_s": 2.0,
        "max_retries": 3,
    }
    return ModelConfig(**{**settings, **overrides})


def chat(prompt: str = "What is 6 times 7?", sample: int = 0) -> ChatRequest:
    return ChatRequest(
        model="test-model",
        messages=(Message(role="user", content=prompt),),
        temperature=0.0,
        max_tokens=64,
        sample=sample,
    )


def run(config: ModelConfig, use: Callable[[OpenAIClient], Awaitable[T]]) -> T:
    """`use` a fresh client with tiny backoffs, then close it."""

    async def main() -> T:
        client = OpenAIClient(config, backoff_base_s=0.01, backoff_cap_s=0.05)
        try:
            return await use(client)
        finally:
            await client.aclose()

    return asyncio.run(main())


def complete(config: ModelConfig, request: ChatRequest | None = None) -> Completion:
    return run(config, lambda client: client.complete(request or chat()))


def failure(config: ModelConfig) -> ModelError:
    with pytest.raises(ModelError) as caught:
        complete(config)
    return caught.value


def test_success_reports_text_model_and_usage() -> None:
    with ModelServer(latency_s=0.05, responder=lambda _: "x" * 40, model="served-model") as server:
        started = time.monotonic()
        completion = complete(config_for(server.base_url), chat("p" * 80))
        elapsed = time.monotonic() - started
        stats = server.stats()
    assert completion.text == "x" * 40
    assert completion.model == "served-model"
    assert completion.finish_reason == "stop"
    assert (completion.prompt_tokens, completion.completion_tokens) == (20, 10)
    assert completion.attempts == 1
    assert completion.key == chat("p" * 80).key
    assert 0.05 <= completion.latency_s <= elapsed
    assert (stats["requests"], stats["responses"]) == (1, 1)


@pytest.mark.parametrize(
    ("headers", "wait_s"), [({"Retry-After": "1"}, 1.0), ({"retry-after-ms": "300"}, 0.3)]
)
def test_429_waits_as_asked_then_succeeds(headers: dict[str, str], wait_s: float) -> None:
    with ModelServer(faults=[("status", 429, headers)]) as server:
        started = time.monotonic()
        completion = complete(config_for(server.base_url))
        elapsed = time.monotonic() - started
        assert server.stats()["requests"] == 2
    assert completion.attempts == 2
    assert elapsed >= wait_s


def test_429_pauses_every_sender() -> None:
    """One 429 holds back the requests that were not refused, too."""
    with ModelServer(faults=[("status", 429, {"retry-after-ms": "400"})]) as server:

        async def two(client: OpenAIClient) -> float:
            first = asyncio.create_task(client.complete(chat(sample=0)))
            await asyncio.sleep(0.1)  # the 429 has arrived
            started = time.monotonic()
            await client.complete(chat(sample=1))
            waited = time.monotonic() - started
            await first
            return waited

        waited = run(config_for(server.base_url, max_concurrency=1), two)
    assert waited >= 0.25


def test_500_is_retried() -> None:
    with ModelServer(faults=[("status", 500), ("status", 503)]) as server:
        completion = complete(config_for(server.base_url))
        assert server.stats()["requests"] == 3
    assert completion.attempts == 3


def test_server_errors_every_time_give_server_error() -> None:
    with ModelServer(faults=lambda _: ("status", 502)) as server:
        error = failure(config_for(server.base_url, max_retries=2))
        assert server.stats()["requests"] == 3
    assert (error.kind, error.attempts) == ("server_error", 3)
    assert server.base_url in error.message and "502" in error.message


def test_429_every_time_gives_rate_limited() -> None:
    with ModelServer(faults=lambda _: ("status", 429, {"retry-after-ms": "10"})) as server:
        error = failure(config_for(server.base_url, max_retries=1))
        assert server.stats()["requests"] == 2
    assert (error.kind, error.attempts) == ("rate_limited", 2)


def test_a_hang_times_out_and_is_retried() -> None:
    with ModelServer(faults=[("hang",)]) as server:
        started = time.monotonic()
        completion = complete(config_for(server.base_url, timeout_s=0.3))
        elapsed = time.monotonic() - started
        assert server.stats()["requests"] == 2
    assert completion.attempts == 2
    assert elapsed >= 0.3


def test_hanging_every_time_gives_timeout() -> None:
    with ModelServer(faults=lambda _: ("hang",)) as server:
        started = time.monotonic()
        error = failure(config_for(server.base_url, timeout_s=0.2, max_retries=2))
        elapsed = time.monotonic() - started
        assert server.stats()["requests"] == 3
    assert (error.kind, error.attempts) == ("timeout", 3)
    assert elapsed >= 3 * 0.2


def test_a_dropped_connection_is_retried() -> None:
    with ModelServer(faults=[("drop",)]) as server:
        completion = complete(config_for(server.base_url))
        assert server.stats()["requests"] == 2
    assert completion.attempts == 2


def test_dropped_every_time_gives_connection() -> None:
    with ModelServer(faults=lambda _: ("drop",)) as server:
        error = failure(config_for(server.base_url, max_retries=1))
    assert (error.kind, error.attempts) == ("connection", 2)


MALFORMED = [("malformed", "not json"), ("no_choices",), ("no_content",), ("malformed", "[1]")]
FLAWS = ["not JSON", "no choices", "no message content", "JSON list, not an object"]


@pytest.mark.parametrize("fault", MALFORMED, ids=lambda fault: "-".join(fault))
def test_a_malformed_answer_is_retried(fault: tuple[str, ...]) -> None:
    with ModelServer(faults=[fault]) as server:
        completion = complete(config_for(server.base_url))
        assert server.stats()["requests"] == 2
    assert completion.attempts == 2
    assert completion.text


@pytest.mark.parametrize(("fault", "flaw"), list(zip(MALFORMED, FLAWS, strict=True)), ids=FLAWS)
def test_malformed_every_time_gives_malformed(fault: tuple[str, ...], flaw: str) -> None:
    with ModelServer(faults=lambda _: fault) as server:
        error = failure(config_for(server.base_url, max_retries=2))
        assert server.stats()["requests"] == 3
    assert (error.kind, error.attempts) == ("malformed", 3)
    assert flaw in error.message and "after 3 attempts" in error.message


@pytest.mark.parametrize("status", [400, 404, 422])
def test_a_client_error_is_rejected_without_retry(status: int) -> None:
    with ModelServer(faults=lambda _: ("status", status)) as server:
        error = failure(config_for(server.base_url))
        assert server.stats()["requests"] == 1
    assert (error.kind, error.attempts) == ("rejected", 1)
    assert str(status) in error.message and "scripted" in error.message


def test_no_more_than_max_concurrency_in_flight() -> None:
    with ModelServer(latency_s=0.1) as server:

        async def burst(client: OpenAIClient) -> list[Completion]:
            return await asyncio.gather(*(client.complete(chat(sample=i)) for i in range(20)))

        completions = run(config_for(server.base_url, max_concurrency=4), burst)
        stats = server.stats()
    assert len(completions) == 20
    assert stats["max_in_flight"] == 4
    assert stats["responses"] == 20


def burst_seconds(config: ModelConfig, count: int) -> float:
    async def burst(client: OpenAIClient) -> float:
        started = time.monotonic()
        await asyncio.gather(*(client.complete(chat(sample=i)) for i in range(count)))
        return time.monotonic() - started

    return run(config, burst)


def test_requests_per_minute_spread_a_burst() -> None:
    """600/min is 10/s with about a second's worth at once: the 20th goes after ~0.9 s."""
    with ModelServer() as server:
        free = burst_seconds(config_for(server.base_url), 20)
        limited = burst_seconds(config_for(server.base_url, requests_per_minute=600), 20)
    assert free < 0.5
    assert limited >= 0.85


def test_tokens_per_minute_spread_a_burst() -> None:
    """Each request is estimated at 18 // 4 + 64 = 68 tokens, 0.68 s of 6000/min; about a second's
    worth goes at once, so the 4th of a burst waits ~1 s."""
    with ModelServer() as server:
        limited = burst_seconds(config_for(server.base_url, tokens_per_minute=6000), 4)
    assert limited >= 0.9


def test_real_usage_gives_back_the_overestimate() -> None:
    """Charged 68 tokens each but using 10, one after another the requests never have to wait;
    charged their estimates alone, the 4th would wait ~1 s."""
    with ModelServer() as server:

        async def one_by_one(client: OpenAIClient) -> float:
            started = time.monotonic()
            for i in range(6):
                completion = await client.complete(chat(sample=i))
                assert completion.prompt_tokens + completion.completion_tokens == 10
            return time.monotonic() - started

        elapsed = run(config_for(server.base_url, tokens_per_minute=6000), one_by_one)
    assert elapsed < 0.5


@pytest.mark.parametrize(
    "headers",
    [
        {"x-ratelimit-remaining-requests": "0", "x-ratelimit-reset-requests": "500ms"},
        {"x-ratelimit-remaining-tokens": "10", "x-ratelimit-reset-tokens": "0.5s"},
    ],
    ids=["requests", "tokens"],
)
def test_an_announced_exhausted_limit_holds_until_its_reset(headers: dict[str, str]) -> None:
    with ModelServer(faults=[("ok", headers)]) as server:

        async def two(client: OpenAIClient) -> float:
            await client.complete(chat(sample=0))
            started = time.monotonic()
            await client.complete(chat(sample=1))
            return time.monotonic() - started

        waited = run(config_for(server.base_url), two)
        assert server.stats()["requests"] == 2
    assert waited >= 0.45


def test_probe_passes_against_the_server() -> None:
    with ModelServer() as server:
        run(config_for(server.base_url), lambda client: client.probe())


def test_probe_with_a_refused_key_names_the_url_and_the_key_source() -> None:
    with ModelServer(api_key="right-key") as server:
        with pytest.raises(ModelUnreachable, match="refused the API key") as caught:
            run(config_for(server.base_url, api_key="wrong-key"), lambda client: client.probe())
        run(config_for(server.base_url, api_key="right-key"), lambda client: client.probe())
    assert server.base_url in str(caught.value)
    assert "model.api_key" in str(caught.value)


def test_a_refused_key_is_rejected_without_retry() -> None:
    with ModelServer(api_key="right-key") as server:
        error = failure(config_for(server.base_url, api_key="wrong-key"))
        assert server.stats()["requests"] == 0
    assert (error.kind, error.attempts) == ("rejected", 1)
    assert "401" in error.message


def test_the_key_comes_from_the_environment_without_one_in_the_config(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("FACTORY_TEST_KEY", "right-key")
    with ModelServer(api_key="right-key") as server:
        config = config_for(server.base_url, api_key=None, api_key_env="FACTORY_TEST_KEY")
        assert complete(config).attempts == 1


def test_probe_of_a_closed_port_names_the_url() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    base_url = f"http://127.0.0.1:{port}/v1"
    started = time.monotonic()
    with pytest.raises(ModelUnreachable, match="cannot connect") as caught:
        run(config_for(base_url), lambda client: client.probe())
    assert time.monotonic() - started < 2.0
    assert base_url in str(caught.value)


def test_probe_of_a_silent_server_times_out_naming_the_url() -> None:
    with socket.socket() as sock:  # accepts connections (the backlog) but never answers
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        base_url = f"http://127.0.0.1:{sock.getsockname()[1]}/v1"
        with pytest.raises(ModelUnreachable, match=r"within 0\.3 s") as caught:
            run(config_for(base_url, timeout_s=0.3), lambda client: client.probe())
    assert base_url in str(caught.value)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("1s", 1.0), ("6m0s", 360.0), ("20ms", 0.02), ("0.5s", 0.5), ("1h2m3s", 3723.0), ("2", 2.0)],
)
def test_reset_durations_parse(text: str, seconds: float) -> None:
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["", "soon", "5 s", "1x", "s1"])
def test_unreadable_reset_durations_are_none(text: str) -> None:
    assert parse_duration(text) is None
