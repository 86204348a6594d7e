"""An OpenAI-compatible chat server on 127.0.0.1 for tests and benchmarks, with scripted faults.

`POST /v1/chat/completions` answers a chat.completion after `latency_s`; the text comes from
`responder(request_json)`. Faults are scripted per request by `faults`, either a list consulted
in arrival order (past its end every request is answered normally) or a callable given the
request's JSON. A behaviour is one of:

    None or ("ok",)                      a normal answer
    ("ok", {"header": "value"})          a normal answer with extra response headers
    ("status", 429, {"Retry-After": "1"}) an error status, headers optional
    ("hang",)                            no answer until the client gives up
    ("drop",)                            the connection is closed without an answer
    ("malformed", "not json")            a 200 whose body is the given text
    ("no_choices",)                      a 200 chat.completion with an empty `choices`
    ("no_content",)                      a 200 chat.completion whose message has no content

A responder returns the reply's text, or a dict of the message's fields (`content`,
`reasoning_content`, `reasoning`) with an optional `finish_reason` (default `stop`), for replies
in the shapes reasoning models and cut-off generations give.

`GET /v1/models` lists the model. With an `api_key`, /v1 requests without it get a 401.
`GET /stats` reports the counts below, `POST /reset` clears them.

Run it in-process (a background thread with its own event loop):

    with ModelServer(latency_s=0.2) as server:
        client = OpenAIClient(ModelConfig(base_url=server.base_url, ...))
        ...
        server.stats()["max_in_flight"]

or as its own process, so that its CPU is not the client's (the base URL is the first line):

    python tests/model_server.py --port 0 --latency 0.2
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import threading
import time
from collections.abc import Callable, Coroutine, Sequence
from typing import Any

from aiohttp import web

Behaviour = tuple[Any, ...]
Faults = Callable[[dict[str, Any]], Behaviour | None] | Sequence[Behaviour | None]
Responder = Callable[[dict[str, Any]], str | dict[str, Any]]

DEFAULT_TEXT = "The answer is \\boxed{42}."
HANG_S = 3600.0
_JSON = "application/json"


def _fixed_text(_request: dict[str, Any]) -> str:
    return DEFAULT_TEXT


class _Stats:
    def __init__(self) -> None:
        self.requests = 0
        self.responses = 0
        self.in_flight = 0
        self.max_in_flight = 0
        self.first_request_at: float | None = None
        self.last_response_at: float | None = None

    def as_dict(self) -> dict[str, Any]:
        return dict(vars(self))


class ModelService:
    """The request handling and counters, independent of how the server is run."""

    def __init__(
        self,
        latency_s: float = 0.0,
        faults: Faults | None = None,
        responder: Responder | None = None,
        model: str | None = None,
        api_key: str | None = None,
    ) -> None:
        self.latency_s = latency_s
        self.faults = faults
        self.responder = responder or _fixed_text
        self.model = model
        self.api_key = api_key
        self.stats = _Stats()
        self._created = int(time.time())

    def reset(self) -> None:
        self.stats = _Stats()

    async def handle(self, request: web.BaseRequest) -> web.StreamResponse:
        path = request.path
        if self.api_key and path.startswith("/v1/") and not self._authorized(request):
            error = {"error": {"message": "Incorrect API key provided", "type": "invalid_api_key"}}
            return web.json_response(error, status=401)
        if request.method == "POST" and path == "/v1/chat/completions":
            return await self._chat(request)
        if request.method == "GET" and path == "/v1/models":
            return self._models()
        if request.method == "GET" and path == "/stats":
            return web.json_response(self.stats.as_dict())
        if request.method == "POST" and path == "/reset":
            self.reset()
            return web.json_response({"reset": True})
        return web.json_response({"error": {"message": f"no route {path}"}}, status=404)

    async def _chat(self, request: web.BaseRequest) -> web.StreamResponse:
        stats = self.stats
        index = stats.requests
        stats.requests += 1
        stats.in_flight += 1
        stats.max_in_flight = max(stats.max_in_flight, stats.in_flight)
        if stats.first_request_at is None:
            stats.first_request_at = time.time()
        try:
            body = json.loads(await request.read())
            behaviour = self._behaviour(index, body) or ("ok",)
            if behaviour[0] == "hang":
                await asyncio.sleep(HANG_S)
            if self.latency_s:
                await asyncio.sleep(self.latency_s)
            if behaviour[0] == "drop":
                request.transport.abort()  # type: ignore[union-attr]
                raise asyncio.CancelledError
            response = self._answer(behaviour, body)
            stats.responses += 1
            stats.last_response_at = time.time()
            return response
        finally:
            stats.in_flight -= 1

    def _authorized(self, request: web.BaseRequest) -> bool:
        return request.headers.get("Authorization") == f"Bearer {self.api_key}"

    def _behaviour(self, index: int, body: dict[str, Any]) -> Behaviour | None:
        faults = self.faults
        if faults is None:
            return None
        if callable(faults):
            return faults(body)
        return faults[index] if index < len(faults) else None

    def _answer(self, behaviour: Behaviour, body: dict[str, Any]) -> web.Response:
        kind = behaviour[0]
        if kind == "status":
            status = behaviour[1]
            headers = behaviour[2] if len(behaviour) > 2 else {}
            error = {"error": {"message": f"scripted HTTP {status}", "type": "scripted"}}
            return web.Response(
                body=json.dumps(error).encode(), status=status, headers=headers, content_type=_JSON
            )
        if kind == "malformed":
            return web.Response(text=behaviour[1], content_type="text/plain")
        completion = self._completion(body)
        if kind == "no_choices":
            completion["choices"] = []
        elif kind == "no_content":
            del completion["choices"][0]["message"]["content"]
        elif kind != "ok":
            raise ValueError(f"unknown scripted behaviour {behaviour!r}")
        headers = behaviour[1] if kind == "ok" and len(behaviour) > 1 else None
        return web.Response(
            body=json.dumps(completion).encode(), headers=headers, content_type=_JSON
        )

    def _completion(self, body: dict[str, Any]) -> dict[str, Any]:
        reply = self.responder(body)
        message = {"content": reply} if isinstance(reply, str) else dict(reply)
        finish_reason = message.pop("finish_reason", "stop")
        text = "".join(value or "" for value in message.values())
        prompt_chars = sum(len(m.get("content") or "") for m in body.get("messages", ()))
        prompt_tokens = max(1, prompt_chars // 4)
        completion_tokens = max(1, len(text) // 4)
        return {
            "id": f"chatcmpl-{self.stats.requests}",
            "object": "chat.completion",
            "created": self._created,
            "model": self.model or body.get("model", "test-model"),
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", **message},
                    "finish_reason": finish_reason,
                }
            ],
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
            },
        }

    def _models(self) -> web.Response:
        model = {
            "id": self.model or "test-model",
            "object": "model",
            "created": self._created,
            "owned_by": "tests",
        }
        return web.json_response({"object": "list", "data": [model]})


async def serve(service: ModelService, port: int = 0) -> tuple[web.BaseRunner, int]:
    """Start serving on 127.0.0.1:`port` (0: any free port); the runner and the bound port."""
    # handler_cancellation: a hung handler ends when its client disconnects, not at shutdown.
    server = web.Server(service.handle, handler_cancellation=True, access_log=None)
    runner = web.ServerRunner(server, shutdown_timeout=0.5)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port, backlog=1024)
    await site.start()
    bound = runner.addresses[0][1]
    return runner, bound


class ModelServer:
    """The server in a background thread with its own event loop; a context manager."""

    def __init__(
        self,
        latency_s: float = 0.0,
        faults: Faults | None = None,
        responder: Responder | None = None,
        model: str | None = None,
        api_key: str | None = None,
        port: int = 0,
    ) -> None:
        self.service = ModelService(latency_s, faults, responder, model, api_key)
        self._port = port
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._runner: web.BaseRunner | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._port}/v1"

    def __enter__(self) -> ModelServer:
        self._thread.start()
        self._runner, self._port = self._call(serve(self.service, self._port))
        return self

    def __exit__(self, *_exc: object) -> None:
        if self._runner is not None:
            self._call(self._runner.cleanup())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)
        self._loop.close()

    def stats(self) -> dict[str, Any]:
        """Requests received, responses sent, in flight now and at most, first and last times."""
        return self._call(_run(lambda: self.service.stats.as_dict()))

    def reset(self) -> None:
        self._call(_run(self.service.reset))

    def _call(self, coro: Coroutine[Any, Any, Any]) -> Any:
        """Run `coro` on the server's loop, from the caller's thread, and wait for its result."""
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout=10)


async def _run(fn: Callable[[], Any]) -> Any:
    return fn()


async def _main(port: int, latency_s: float, model: str | None) -> None:
    runner, bound = await serve(ModelService(latency_s=latency_s, model=model), port)
    print(f"http://127.0.0.1:{bound}/v1", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    await stop.wait()
    await runner.cleanup()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0, help="0: any free port")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds before each answer")
    parser.add_argument("--model", default=None, help="the model name to report")
    args = parser.parse_args()
    asyncio.run(_main(args.port, args.latency, args.model))
