"""`model.endpoints`: several loopback servers of one model, one killed and brought back."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from model_server import ModelServer

from verified_factory.config import ModelConfig
from verified_factory.models.base import ChatRequest, Message, ModelError, ModelUnreachable
from verified_factory.models.router import EndpointRouter


def _config(urls: list[str], **overrides: Any) -> ModelConfig:
    settings: dict[str, Any] = {
        "backend": "openai",
        "endpoints": [{"base_url": url, "max_concurrency": 4} for url in urls],
        "model": "test-model",
        "api_key": "test-key",
        "timeout_s": 5.0,
        "max_retries": 6,
    }
    return ModelConfig(**{**settings, **overrides})


def _request(n: int) -> ChatRequest:
    return ChatRequest(
        model="test-model",
        messages=(Message(role="user", content=f"question {n}"),),
        temperature=0.0,
        max_tokens=16,
    )


def test_requests_spread_over_the_endpoints_by_their_load_and_weight() -> None:
    with ModelServer(latency_s=0.05) as a, ModelServer(latency_s=0.05) as b:
        config = _config([a.base_url, b.base_url])
        config.endpoints[1].weight = 3.0  # b takes three times a's share

        async def run() -> list[str | None]:
            router = EndpointRouter(config)
            await router.probe()
            done = await asyncio.gather(*(router.complete(_request(n)) for n in range(160)))
            await router.aclose()
            return [c.endpoint for c in done]

        served = Counter(asyncio.run(run()))
    assert served[a.base_url] + served[b.base_url] == 160
    assert served[b.base_url] > 2 * served[a.base_url] > 0, served


def test_a_killed_endpoint_s_requests_go_elsewhere_and_it_is_taken_back_when_it_returns() -> None:
    a, b, c = ModelServer(latency_s=0.05), ModelServer(latency_s=0.05), ModelServer(0.05)
    with a, c:
        b.__enter__()
        port = int(b.base_url.rsplit(":", 1)[1].split("/")[0])
        config = _config([a.base_url, b.base_url, c.base_url])

        async def run() -> tuple[list[Any], dict[str, Any], int]:
            router = EndpointRouter(config)
            await router.probe()
            work = [asyncio.ensure_future(router.complete(_request(n))) for n in range(240)]
            await asyncio.sleep(0.4)
            await asyncio.to_thread(b.__exit__)  # killed mid-run, requests in flight on it
            done = await asyncio.gather(*work, return_exceptions=True)
            while_dead = router.counts()
            # Brought back on the same port: after its rest, one request finds it answering.
            back = ModelServer(latency_s=0.05, port=port)
            await asyncio.to_thread(back.__enter__)
            try:
                deadline = time.monotonic() + 20
                revived = 0
                while time.monotonic() < deadline and not revived:
                    more = await asyncio.gather(*(router.complete(_request(n)) for n in range(12)))
                    revived = sum(m.endpoint == b.base_url for m in more)
                    await asyncio.sleep(0.2)
            finally:
                await asyncio.to_thread(back.__exit__)
            await router.aclose()
            return done, while_dead, revived

        done, while_dead, revived = asyncio.run(run())
    failures = [d for d in done if isinstance(d, BaseException)]
    assert not failures, failures[:3]
    served = Counter(d.endpoint for d in done)
    assert served[a.base_url] > 0 and served[c.base_url] > 0 and sum(served.values()) == 240
    assert while_dead[b.base_url]["failed"], while_dead  # it failed, and it was noticed
    assert revived > 0, "the endpoint that came back got no request"


def test_with_every_endpoint_gone_a_request_fails_after_its_tries_naming_them() -> None:
    with ModelServer() as a:
        gone = a.base_url
    config = _config([gone, gone.replace("/v1", "/other/v1")], max_retries=2)

    async def run() -> None:
        router = EndpointRouter(config)
        try:
            with pytest.raises(ModelUnreachable, match="no endpoint"):
                await router.probe()
            with pytest.raises(ModelError) as raised:
                await router.complete(_request(0))
            assert raised.value.kind == "connection" and "3 tries over 2 endpoints" in str(
                raised.value
            )
        finally:
            await router.aclose()

    asyncio.run(run())


def test_a_request_the_server_refuses_is_not_sent_elsewhere() -> None:
    with ModelServer(faults=[("status", 400)]) as a, ModelServer() as b:
        config = _config([a.base_url, b.base_url])
        config.endpoints[1].weight = 0.001  # a first

        async def run() -> ModelError:
            router = EndpointRouter(config)
            try:
                with pytest.raises(ModelError) as raised:
                    await router.complete(_request(0))
                return raised.value
            finally:
                await router.aclose()

        error = asyncio.run(run())
        assert error.kind == "rejected"
        assert b.stats()["requests"] == 0


def test_endpoints_in_the_config() -> None:
    config = _config(["http://127.0.0.1:1/v1", "http://127.0.0.1:2/v1"], max_concurrency=10)
    config.endpoints[1].max_concurrency = None
    assert [e.max_concurrency for e in config.endpoint_list()] == [4, 10]
    assert config.total_concurrency == 14
    one = ModelConfig(backend="openai", base_url="http://127.0.0.1:1/v1", max_concurrency=7)
    assert [e.base_url for e in one.endpoint_list()] == ["http://127.0.0.1:1/v1"]
    assert one.total_concurrency == 7
    with pytest.raises(ValueError, match="both given"):
        ModelConfig(backend="openai", base_url="http://x/v1", endpoints=[{"base_url": "http://y"}])
    with pytest.raises(ValueError, match="twice"):
        ModelConfig(backend="openai", endpoints=[{"base_url": "http://y"}] * 2)
    with pytest.raises(ValueError, match="weight"):
        ModelConfig(backend="openai", endpoints=[{"base_url": "http://y", "weight": 0}])


@pytest.mark.slow
@pytest.mark.usefixtures("ray_session")
def test_a_job_over_two_endpoints_finishes_when_one_dies_mid_run(tmp_path: Path) -> None:
    from generation_support import job_config, run_records, solve_sum, sum_problems

    from verified_factory.job.generate import generate

    problems = sum_problems(tmp_path / "sums.jsonl", 40)
    a = ModelServer(latency_s=0.05, responder=solve_sum)
    b = ModelServer(latency_s=0.05, responder=solve_sum)
    with a:
        b.__enter__()
        killed = threading.Event()

        def kill_b_once_busy() -> None:
            while b.stats()["requests"] < 15:
                time.sleep(0.02)
            b.__exit__()
            killed.set()

        killer = threading.Thread(target=kill_b_once_busy, daemon=True)
        killer.start()
        config = job_config(
            tmp_path,
            source={"files": [str(tmp_path / "sums.jsonl")]},
            model={
                "backend": "openai",
                "endpoints": [
                    {"base_url": a.base_url, "max_concurrency": 4},
                    {"base_url": b.base_url, "max_concurrency": 4},
                ],
                "model": "loopback",
                "timeout_s": 2.0,
                "max_retries": 4,
            },
            solve={"samples": 2, "keep": 1, "unit_size": 4},
            star={"rationalize": False},
        )
        result = generate(config)
        killer.join(timeout=10)
        answered_by_a = a.stats()["responses"]
    assert killed.is_set(), "the job ended before the second endpoint was killed"
    attempts, errors = run_records(config.run_dir)
    assert errors == []
    assert {x.problem_id for x in attempts if x.kept} == {p["id"] for p in problems}
    assert len(attempts) == 2 * len(problems)  # every sample once: none lost, none twice
    metrics = json.loads((config.run_dir / "metrics.json").read_text())
    per_endpoint = metrics["requests"]["per_endpoint"]
    assert set(per_endpoint) == {a.base_url, b.base_url}, per_endpoint
    assert per_endpoint[a.base_url]["bought"] == answered_by_a
    assert sum(e["bought"] for e in per_endpoint.values()) == 2 * len(problems)
    card = (config.run_dir / "export" / "README.md").read_text()
    assert f"Endpoint `{a.base_url}`" in card and f"Endpoint `{b.base_url}`" in card
    assert result.metrics.requests_bought == 2 * len(problems)


def test_the_progress_line_gives_each_endpoint_s_rate() -> None:
    from verified_factory.job.metrics import RunMetrics
    from verified_factory.models.base import Completion

    metrics = RunMetrics()
    for url in ["http://10.0.0.5:8000/v1"] * 3 + ["http://10.0.0.6:8000/v1"]:
        metrics.completion(Completion(key="k", text="t", model="m", endpoint=url), reused=False)
    line = metrics.line()
    assert "10.0.0.5:8000" in line and "10.0.0.6:8000" in line, line
    assert metrics.as_json()["requests"]["per_endpoint"]["http://10.0.0.5:8000/v1"]["bought"] == 3
