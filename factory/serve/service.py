"""`factory serve`: the verifiers over HTTP, for trainers and tools in other processes.

- `POST /v1/verify`: `{"candidates": [Candidate, ...]}` -> `{"verdicts": [...], "rewards":
  [...]}`, in order. Candidates are read in the verification workers, as `factory verify` reads
  lines: a bad one gets an `error` verdict naming its field, the others their verdicts.
- `POST /run_code`: SandboxFusion's request and response (`code`, `stdin`, `run_timeout`,
  `memory_limit_MB`, `language: python`), so verl's `sandbox_fusion_url` can point here. The
  program runs in the sandbox; its output goes back as data, for the caller to compare.
- `GET /health`, `GET /metrics` (Prometheus text).

The verifiers run in `factory verify`'s worker processes on this machine, or with `ray` in
verification workers spread over the Ray cluster at `RAY_ADDRESS` (a local one without it), so
the service grows by adding nodes; `/metrics` then counts the verdicts of each node.

Every request but `/health` needs `Authorization: Bearer TOKEN` when the service has a token; it
may have none only on a loopback address. Bodies past `max_body_bytes` get 413, batches past
`max_batch` 413, and a request that does not fit the admission budget (candidates and program
runs in flight, across all clients) 429 with `Retry-After`: there is no queue to grow.
"""

from __future__ import annotations

import asyncio
import hmac
import ipaddress
import json
import signal
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from verified_factory.errors import FactoryError
from verified_factory.job.metrics import RunMetrics
from verified_factory.records import Verdict
from verified_factory.rewards.judge import reward_of
from verified_factory.sandboxes import Job, Sandbox, SandboxError, open_sandbox
from verified_factory.serve.admission import Admission
from verified_factory.verify.runner import VerdictPool

MAX_RUN_TIMEOUT_S = 30.0
MAX_MEMORY_MB = 2048

JudgeLines = Callable[[list[bytes]], Awaitable[list[Verdict]]]
"""One verdict per JSON text of a candidate, in order."""


class ServeError(FactoryError, ValueError):
    """The service cannot start as asked (for instance no token on a public address)."""


@dataclass(frozen=True)
class ServeSettings:
    host: str = "127.0.0.1"
    token: str | None = None
    workers: int | None = None
    sandbox: str = "auto"
    settings: dict[str, dict[str, Any]] = field(default_factory=dict)
    max_body_bytes: int = 32 * 1024 * 1024
    max_batch: int = 1024
    budget: int = 4096
    """Candidates (each program run counts one) in flight across all clients."""
    item_timeout_s: float = 120.0
    ray: bool = False
    """Verify on the Ray cluster at `RAY_ADDRESS` (a local one without it), not in processes
    of this machine."""

    def check(self) -> None:
        if self.token is None and not _loopback(self.host):
            raise ServeError(
                f"--host {self.host} is not a loopback address: give a token "
                "(--token-file, or FACTORY_SERVE_TOKEN) so that only your clients are served"
            )
        if self.max_batch > self.budget:
            raise ServeError(f"max_batch {self.max_batch} exceeds the budget {self.budget}")


@dataclass
class _Metrics:
    requests: Counter[tuple[str, int]] = field(default_factory=Counter)
    verdicts: Counter[str] = field(default_factory=Counter)
    runs: Counter[str] = field(default_factory=Counter)
    cluster: RunMetrics = field(default_factory=RunMetrics)
    """What the Ray pool counts: verdicts by node."""

    def text(self, admission: Admission) -> str:
        lines = [
            "# TYPE factory_serve_requests_total counter",
            *(
                f'factory_serve_requests_total{{path="{path}",code="{code}"}} {n}'
                for (path, code), n in sorted(self.requests.items())
            ),
            "# TYPE factory_serve_verdicts_total counter",
            *(
                f'factory_serve_verdicts_total{{status="{s}"}} {n}'
                for s, n in sorted(self.verdicts.items())
            ),
            "# TYPE factory_serve_runs_total counter",
            *(
                f'factory_serve_runs_total{{status="{s}"}} {n}'
                for s, n in sorted(self.runs.items())
            ),
            "# TYPE factory_serve_node_verdicts_total counter",
            *(
                f'factory_serve_node_verdicts_total{{node="{node}"}} {n}'
                for node, n in sorted(self.cluster.verified_on_node.items())
            ),
            "# TYPE factory_serve_in_flight gauge",
            f"factory_serve_in_flight {admission.in_flight}",
            "# TYPE factory_serve_budget gauge",
            f"factory_serve_budget {admission.budget}",
            "# TYPE factory_serve_refused_total counter",
            f"factory_serve_refused_total {admission.refused}",
        ]
        return "\n".join(lines) + "\n"


class _Refusal(Exception):
    """A request answered with an error status and a message; never a server fault."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.headers = headers or {}


def make_app(settings: ServeSettings) -> Starlette:
    """The service's ASGI application; its worker pool starts with the app and stops with it."""
    settings.check()
    admission = Admission(settings.budget)
    metrics = _Metrics()
    sandboxes: list[Sandbox] = []
    judges: list[JudgeLines] = []  # the pool's, from the app's start to its end

    def sandbox() -> Sandbox:
        if not sandboxes:
            sandboxes.append(open_sandbox(settings.sandbox))  # type: ignore[arg-type]
        return sandboxes[0]

    async def verify(request: Request) -> Response:
        body = await _json_body(request, settings)
        candidates = body.get("candidates") if isinstance(body, dict) else None
        if not isinstance(candidates, list):
            raise _Refusal(400, 'the body must be a JSON object with a list "candidates"')
        if len(candidates) > settings.max_batch:
            raise _Refusal(
                413, f"{len(candidates)} candidates; at most {settings.max_batch} a request"
            )
        _admit(admission, len(candidates))
        with admission.holding(len(candidates)):
            raw = [json.dumps(candidate).encode() for candidate in candidates]
            verdicts = await judges[0](raw)
        metrics.verdicts.update(v.status for v in verdicts)
        return JSONResponse(
            {
                "verdicts": [v.model_dump(mode="json") for v in verdicts],
                "rewards": [reward_of(v) for v in verdicts],
            }
        )

    async def run_code(request: Request) -> Response:
        body = await _json_body(request, settings)
        run = _run_request(body)
        _admit(admission, 1)
        with admission.holding(1):
            try:
                result = await asyncio.to_thread(sandbox().run, run)
            except SandboxError as err:
                metrics.runs["SandboxError"] += 1
                return JSONResponse(
                    {"status": "SandboxError", "message": str(err), "run_result": None}
                )
        answer = _sandbox_fusion_answer(result)
        metrics.runs[answer["status"]] += 1
        return JSONResponse(answer)

    async def health(_: Request) -> Response:
        return JSONResponse(
            {"status": "ok", "in_flight": admission.in_flight, "budget": admission.budget}
        )

    async def metrics_page(_: Request) -> Response:
        return PlainTextResponse(metrics.text(admission))

    def guarded(handler: Any, path: str, open_to_all: bool = False) -> Any:
        async def endpoint(request: Request) -> Response:
            try:
                if not open_to_all:
                    _authorize(request, settings.token)
                response = await handler(request)
            except _Refusal as refusal:
                response = JSONResponse(
                    {"error": str(refusal)}, status_code=refusal.status, headers=refusal.headers
                )
            metrics.requests[(path, response.status_code)] += 1
            return response

        return endpoint

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        try:
            async with _verifiers(settings, metrics.cluster) as judge:
                judges.append(judge)
                yield
        finally:
            for box in sandboxes:
                box.close()

    routes = [
        Route("/v1/verify", guarded(verify, "/v1/verify"), methods=["POST"]),
        Route("/run_code", guarded(run_code, "/run_code"), methods=["POST"]),
        Route("/health", guarded(health, "/health", open_to_all=True), methods=["GET"]),
        Route("/metrics", guarded(metrics_page, "/metrics"), methods=["GET"]),
    ]
    return Starlette(routes=routes, lifespan=lifespan)


@asynccontextmanager
async def _verifiers(settings: ServeSettings, cluster: RunMetrics) -> AsyncIterator[JudgeLines]:
    """The service's verifiers, started, and stopped on the way out: worker processes here, or
    workers on the Ray cluster."""
    verifier_settings = {"code": {"sandbox": settings.sandbox}, **settings.settings}
    if settings.ray:
        from verified_factory.job.cluster import connect_ray, verifier_pool

        # Ray puts its own SIGTERM handler (an exit in the middle of the event loop) in place of
        # the server's, which stops the service in order: the server's is put back.
        server_handler = signal.getsignal(signal.SIGTERM)
        connect_ray()
        signal.signal(signal.SIGTERM, server_handler)
        async with verifier_pool(
            settings.workers, verifier_settings, settings.item_timeout_s, cluster
        ) as pool:
            yield pool.judge_lines
        return
    local = VerdictPool(
        workers=settings.workers,
        settings=verifier_settings,
        item_timeout_s=settings.item_timeout_s,
    )

    async def judge_lines(lines: list[bytes]) -> list[Verdict]:
        return await asyncio.to_thread(local.judge_lines, lines)

    try:
        yield judge_lines
    finally:
        await asyncio.to_thread(local.close)


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _authorize(request: Request, token: str | None) -> None:
    if token is None:
        return
    given = request.headers.get("authorization", "")
    scheme, _, value = given.partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(value.strip(), token):
        raise _Refusal(401, "a valid bearer token is required", {"WWW-Authenticate": "Bearer"})


def _admit(admission: Admission, units: int) -> None:
    refused = admission.ask(units)
    if refused is not None:
        raise _Refusal(429, refused.reason, {"Retry-After": str(refused.retry_after_s)})


async def _json_body(request: Request, settings: ServeSettings) -> Any:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > settings.max_body_bytes:
        raise _Refusal(413, f"the body is over {settings.max_body_bytes:,} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > settings.max_body_bytes:
            raise _Refusal(413, f"the body is over {settings.max_body_bytes:,} bytes")
        chunks.append(chunk)
    try:
        return json.loads(b"".join(chunks))
    except ValueError as err:
        raise _Refusal(400, f"the body is not JSON: {err}") from None


def _run_request(body: Any) -> Job:
    if not isinstance(body, dict) or not isinstance(body.get("code"), str):
        raise _Refusal(400, 'the body must be a JSON object with a string "code"')
    language = body.get("language", "python")
    if language not in ("python", "python3"):
        raise _Refusal(400, f"language {language!r}: only python is served")
    stdin = body.get("stdin") or ""
    if not isinstance(stdin, str):
        raise _Refusal(400, 'field "stdin" must be a string')
    try:
        timeout = float(body.get("run_timeout") or 10.0)
        memory = int(body.get("memory_limit_MB") or 512)
    except (TypeError, ValueError):
        raise _Refusal(400, 'fields "run_timeout" and "memory_limit_MB" must be numbers') from None
    if not 0 < timeout <= MAX_RUN_TIMEOUT_S or not 16 <= memory <= MAX_MEMORY_MB:
        raise _Refusal(
            400,
            f"run_timeout must be in (0, {MAX_RUN_TIMEOUT_S:g}] s and memory_limit_MB in "
            f"[16, {MAX_MEMORY_MB}]",
        )
    return Job(
        argv=["python3", "main.py"],
        files={"main.py": body["code"]},
        stdin=stdin,
        time_limit_s=timeout,
        memory_limit_mb=memory,
    )


def _sandbox_fusion_answer(result: Any) -> dict[str, Any]:
    if result.timed_out:
        run_status = "TimeLimitExceeded"
    elif result.memory_exceeded or result.output_exceeded:
        run_status = "Error"
    else:
        run_status = "Finished"
    code = result.exit_code if result.exit_code is not None else -(result.signal or 1)
    success = run_status == "Finished" and code == 0
    return {
        "status": "Success" if success else "Failed",
        "message": "",
        "compile_result": None,
        "run_result": {
            "status": run_status,
            "execution_time": result.wall_s,
            "return_code": code,
            "stdout": result.stdout,
            "stderr": result.stderr,
        },
        "files": {},
    }
