"""Model backends: `openai` (any OpenAI-compatible endpoint, or several: `router.py`), `offline`
(the built-in teacher)."""

from __future__ import annotations

from verified_factory.config import JobConfig
from verified_factory.models.base import ModelClient


def make_client(config: JobConfig) -> ModelClient:
    """The backend the job config names. Call it inside the event loop that will use it."""
    if config.model.backend == "openai" and config.model.endpoints:
        from verified_factory.models.router import EndpointRouter

        return EndpointRouter(config.model)
    if config.model.backend == "openai":
        from verified_factory.models.openai_client import OpenAIClient

        return OpenAIClient(config.model)
    from verified_factory.teacher.offline import OfflineTeacher

    return OfflineTeacher(config)
