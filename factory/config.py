"""The job config of the design contract: one pydantic model, read from YAML.

Every section forbids unknown keys, so a misspelt option is an error that names it instead of
a default silently used.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from verified_factory.errors import FactoryError


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Generators(_Section):
    math: int = Field(default=0, ge=0)
    code: int = Field(default=0, ge=0)
    seed: int = 0
    references: bool = Field(
        default=True,
        description="false: the problems come without gold answers and reference solutions, "
        "so they are judged by agreement (math) and by their tests alone (code)",
    )
    tests: bool = Field(
        default=True,
        description="false: function problems come without tests (`meta.entry_point` names the "
        "function), so they are judged by dual agreement against tests the model writes; "
        "stdio problems keep theirs",
    )


class SynthesizerConfig(_Section):
    """One synthesizer: new problems asked of the model from seed problems (`docs/synthesis.md`)."""

    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$", description="unique in the job; ids and files")
    kind: str = Field(
        description="self_instruct | evol_instruct | metamath | oss_instruct | a plugin's name"
    )
    seeds: list[Path] = Field(
        min_length=1,
        description="Problem files (JSON Lines or Parquet); oss_instruct: code files or folders",
    )
    domain: str = "math"
    count: int = Field(default=100, ge=1, description="new problems wanted")
    rounds: int = Field(default=3, ge=1)
    options: dict[str, Any] = Field(default_factory=dict, description="the kind's own settings")


class SourceConfig(_Section):
    files: list[Path] = Field(default_factory=list)
    generators: Generators = Field(default_factory=Generators)
    synthesize: list[SynthesizerConfig] = Field(default_factory=list)

    @model_validator(mode="after")
    def _names_are_unique(self) -> SourceConfig:
        names = [entry.name for entry in self.synthesize]
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:
            raise ValueError(f"synthesizer names must be unique; repeated: {', '.join(repeated)}")
        return self


class EndpointConfig(_Section):
    """One of several OpenAI-compatible servers of the same model (`model.endpoints`)."""

    base_url: str
    max_concurrency: int | None = Field(
        default=None, ge=1, description="requests in flight here; null: model.max_concurrency"
    )
    weight: float = Field(
        default=1.0, gt=0, description="share of the load, against the others' weights"
    )


class ModelConfig(_Section):
    backend: Literal["openai", "offline"] = "offline"
    base_url: str | None = None
    endpoints: list[EndpointConfig] = Field(
        default_factory=list,
        description="several servers of the model, each request to the least loaded healthy "
        "one; `base_url` is the one-endpoint form",
    )
    model: str = "offline-teacher"
    api_key_env: str | None = "OPENAI_API_KEY"
    api_key: str | None = None
    max_concurrency: int = Field(default=128, ge=1)
    generation_workers: int = Field(
        default=1,
        ge=1,
        description="processes sending the requests, the concurrency and rate limits split "
        "evenly between them; one sustains about 700 completions/s (docs/benchmarks.md), so "
        "more only for a fleet of fast endpoints",
    )
    generation_nodes: Literal["driver", "all"] = Field(
        default="driver",
        description="where the generation workers run: the driver's node, or every node of the "
        "cluster in turn from the driver's (the driver then stores what the others buy)",
    )
    requests_per_minute: int | None = Field(default=None, ge=1)
    tokens_per_minute: int | None = Field(default=None, ge=1)
    timeout_s: float = Field(default=120.0, gt=0)
    max_retries: int = Field(default=8, ge=0)
    temperature: float = Field(default=0.8, ge=0)
    max_tokens: int = Field(default=2048, ge=1)
    seed: int | None = Field(
        default=None,
        description="sent as each request's `seed` (plus the sample's number), for servers that "
        "sample reproducibly (vLLM, llama.cpp, OpenAI's best effort); null: none sent",
    )
    offline_error_rate: float = Field(
        default=0.3, ge=0, le=1, description="offline teacher: share of deliberately wrong answers"
    )

    @model_validator(mode="after")
    def _openai_needs_an_endpoint(self) -> ModelConfig:
        if self.base_url and self.endpoints:
            raise ValueError(
                "model.base_url and model.endpoints both given: list the one URL in endpoints"
            )
        if self.backend == "openai" and not self.base_url and not self.endpoints:
            raise ValueError(
                "model.base_url (or model.endpoints) is required with backend 'openai'"
            )
        urls = [e.base_url for e in self.endpoints]
        if len(set(urls)) != len(urls):
            raise ValueError(f"model.endpoints lists a URL twice: {urls}")
        return self

    def endpoint_list(self) -> list[EndpointConfig]:
        """Every endpoint with its own concurrency: `endpoints`, or `base_url` as the one."""
        listed = self.endpoints or (
            [EndpointConfig(base_url=self.base_url)] if self.base_url else []
        )
        return [
            e.model_copy(update={"max_concurrency": e.max_concurrency or self.max_concurrency})
            for e in listed
        ]

    def share(self, workers: int) -> ModelConfig:
        """One of `workers` generation workers' part: every concurrency and rate limit divided
        (rounded up, so none is left with nothing)."""
        if workers == 1:
            return self

        def part(limit: int | None) -> int | None:
            return None if limit is None else -(-limit // workers)

        return self.model_copy(
            update={
                "max_concurrency": part(self.max_concurrency),
                "requests_per_minute": part(self.requests_per_minute),
                "tokens_per_minute": part(self.tokens_per_minute),
                "endpoints": [
                    e.model_copy(update={"max_concurrency": part(e.max_concurrency)})
                    for e in self.endpoints
                ],
            }
        )

    @property
    def total_concurrency(self) -> int:
        """Requests in flight at most over all the endpoints."""
        return sum(e.max_concurrency or 0 for e in self.endpoint_list()) or self.max_concurrency


class SolveConfig(_Section):
    samples: int = Field(default=4, ge=1)
    keep: int = Field(default=2, ge=1)
    unit_size: int = Field(
        default=16, ge=1, description="problems per unit, the step that commits atomically"
    )


class StarConfig(_Section):
    rationalize: bool = True
    prompts: dict[str, Path] = Field(
        default_factory=dict, description="domain -> solve template file holding {problem}"
    )
    hints: dict[str, Path] = Field(
        default_factory=dict,
        description="domain -> rationalization template holding {prompt} and {reference}",
    )


class DifferentialConfig(_Section):
    """Differential testing of code candidates against a record's `reference` solution."""

    enabled: bool = True
    budget_s: float = Field(
        default=10.0, gt=0, description="seconds per candidate for building inputs"
    )


class SelfConsistencyConfig(_Section):
    """Math problems without a reference: the samples' answers judged by agreement."""

    share: float = Field(
        default=0.5, gt=0, le=1, description="the majority answer's least share of the samples"
    )
    min_samples: int = Field(default=4, ge=2, description="fewer samples are never accepted")


class DualAgreementConfig(_Section):
    """Code problems without trusted tests: the samples judged against tests the model wrote
    (CodeT's dual agreement, `docs/code.md`)."""

    test_samples: int = Field(
        default=2, ge=0, description="requests for tests per problem, besides its own tests"
    )
    min_group: int = Field(
        default=2, ge=1, description="solutions in the accepted consensus set, at least"
    )
    min_tests: int = Field(
        default=1, ge=1, description="tests the accepted consensus set passes, at least"
    )


class VerifyConfig(_Section):
    workers: int | None = Field(default=None, ge=1)
    require_format: bool = Field(
        default=True,
        description="reject a math reply without a \\boxed{} answer and a code reply without a "
        "fenced code block (what the built-in prompts ask for) before any verifier sees it",
    )
    differential: DifferentialConfig = Field(default_factory=DifferentialConfig)
    self_consistency: SelfConsistencyConfig = Field(default_factory=SelfConsistencyConfig)
    dual_agreement: DualAgreementConfig = Field(default_factory=DualAgreementConfig)
    timeout_s: float = Field(
        default=600.0,
        gt=0,
        description="a batch of one unit's candidates, before its worker is restarted",
    )
    settings: dict[str, dict[str, Any]] = Field(
        default_factory=dict,
        description="verifier name -> the keyword arguments it is created with (a plugin's "
        "own settings; for `math` and `code`, on top of the sections above)",
    )


class SandboxConfig(_Section):
    backend: Literal["auto", "docker", "process"] = "auto"


class ExportConfig(_Section):
    format: Literal["parquet", "jsonl"] = "parquet"
    shard_size: int = Field(default=10_000, ge=1)
    test_fraction: float = Field(
        default=0.0, ge=0, lt=1, description="share of problems (never rows) held out as test"
    )
    preference: bool = Field(default=False, description="also write chosen/rejected pairs")
    reasoning: Literal["think", "field"] = Field(
        default="think",
        description="where a reasoning model's reasoning goes in the assistant message: inside "
        "the content in <think> tags, or in a separate `reasoning_content` key",
    )


class DecontaminateConfig(_Section):
    enabled: bool = True
    against: list[Path] = Field(
        default_factory=list,
        description="benchmark files or folders; empty: the folder `factory benchmarks pull` fills",
    )
    ngram: int = Field(default=13, ge=3, description="word n-gram length for code and text")
    math_ngram: int = Field(default=10, ge=3, description="word n-gram length for math")
    embedding_threshold: float | None = Field(
        default=None,
        gt=0,
        le=1,
        description="also drop problems whose statement embeds this close to a benchmark item's "
        "(cosine; the `embeddings` extra; 0.82 measured); null: off",
    )


class DedupeConfig(_Section):
    near_threshold: float = Field(
        default=0.85, gt=0, le=1, description="MinHash Jaccard estimate at which two are one"
    )
    against: list[Path] = Field(
        default_factory=list, description="earlier runs' exports whose rows count as seen"
    )


class CurateConfig(_Section):
    decontaminate: DecontaminateConfig = Field(default_factory=DecontaminateConfig)
    dedupe: DedupeConfig = Field(default_factory=DedupeConfig)


class JobConfig(_Section):
    run_dir: Path = Path("runs/demo")
    source: SourceConfig = Field(default_factory=SourceConfig)
    model: ModelConfig = Field(default_factory=ModelConfig)
    solve: SolveConfig = Field(default_factory=SolveConfig)
    star: StarConfig = Field(default_factory=StarConfig)
    verify: VerifyConfig = Field(default_factory=VerifyConfig)
    sandbox: SandboxConfig = Field(default_factory=SandboxConfig)
    curate: CurateConfig = Field(default_factory=CurateConfig)
    export: ExportConfig = Field(default_factory=ExportConfig)

    def verifier_settings(self) -> dict[str, dict[str, Any]]:
        """What each verifier is created with, by name: the built-in ones' sections, then
        `verify.settings`."""
        verify = self.verify
        settings: dict[str, dict[str, Any]] = {
            "math": {"self_consistency": verify.self_consistency.model_dump()},
            "code": {
                "sandbox": self.sandbox.backend,
                "differential": verify.differential.model_dump(),
                "dual_agreement": verify.dual_agreement.model_dump(exclude={"test_samples"}),
            },
        }
        for name, given in verify.settings.items():
            settings[name] = {**settings.get(name, {}), **given}
        return settings

    def fingerprint(self) -> str:
        """A hash of every setting, for the manifest: equal configs, equal fingerprints."""
        canonical = json.dumps(self.model_dump(mode="json"), sort_keys=True)
        return hashlib.sha256(canonical.encode()).hexdigest()


class ConfigError(FactoryError, ValueError):
    """A config that cannot be used; the message names the file and every key at fault."""


def load_config(path: Path) -> JobConfig:
    """Read a YAML job config; relative source files resolve against the config's folder."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except OSError as err:
        raise ConfigError(f"{path}: cannot be read: {err.strerror}") from err
    except yaml.YAMLError as err:
        raise ConfigError(f"{path}: not valid YAML: {err}") from err
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: the top level must be a mapping of sections")
    try:
        config = JobConfig.model_validate(data)
    except ValidationError as err:
        raise ConfigError(f"{path}: {_describe(err)}") from err

    def near(file: Path) -> Path:
        return file if file.is_absolute() else path.parent / file

    synthesize = [
        entry.model_copy(update={"seeds": [near(f) for f in entry.seeds]})
        for entry in config.source.synthesize
    ]
    source = config.source.model_copy(
        update={"files": [near(f) for f in config.source.files], "synthesize": synthesize}
    )
    star = config.star.model_copy(
        update={
            "prompts": {d: near(f) for d, f in config.star.prompts.items()},
            "hints": {d: near(f) for d, f in config.star.hints.items()},
        }
    )
    return config.model_copy(update={"source": source, "star": star})


def _describe(err: ValidationError) -> str:
    clauses = []
    for item in err.errors(include_url=False):
        key = ".".join(str(part) for part in item["loc"]) or "(top level)"
        if item["type"] == "extra_forbidden":
            clauses.append(f"unknown key {key!r}")
        else:
            clauses.append(f"{key!r}: {item['msg']}")
    return "; ".join(clauses)
