"""`factory generate`: one job, from its config to an export, on local Ray or `RAY_ADDRESS`."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from verified_factory.config import ExportConfig, JobConfig
from verified_factory.curate.curator import Curator
from verified_factory.export.exporter import ExportSummary, export_run
from verified_factory.job.cluster import Cluster, connect_ray
from verified_factory.job.driver import Driver, units_generating
from verified_factory.job.metrics import RunMetrics
from verified_factory.models.base import ChatRequest
from verified_factory.run_store import RunStore, read_units
from verified_factory.solve.prompts import Prompts, load_prompts
from verified_factory.solve.solver import Solver
from verified_factory.sources import domains as source_domains
from verified_factory.sources import run_problems
from verified_factory.synthesis.runner import synthesize
from verified_factory.verifiers.registry import Registry

PROGRESS_EVERY_S = 1.0


@dataclass(frozen=True)
class JobResult:
    run_dir: Path
    metrics: RunMetrics
    export: ExportSummary


def generate(
    config: JobConfig,
    *,
    resume: bool = False,
    on_progress: Callable[[RunMetrics], None] | None = None,
) -> JobResult:
    """Run the job into `config.run_dir`, then export it to `RUN_DIR/export`."""
    prompts = load_prompts(config.star.prompts, config.star.hints)
    curator = Curator.open(config.curate, config.solve.keep)
    store = RunStore.open(config.run_dir, config, resume=resume)
    metrics = RunMetrics(problems_total=_count_problems(config))
    metrics.processes["driver"] = os.getpid()
    connect_ray()
    asyncio.run(_drive(config, store, prompts, metrics, curator, on_progress))
    (config.run_dir / "metrics.json").write_text(json.dumps(metrics.as_json(), indent=2) + "\n")
    summary = _export(config, config.run_dir / "export", config.export, metrics.as_json(), curator)
    return JobResult(config.run_dir, metrics, summary)


def export_existing(run_dir: Path, out_dir: Path, **overrides: object) -> ExportSummary:
    """`factory export`: export a run again, as its config says but for the `export` settings
    given (format, shard_size, test_fraction, preference, reasoning; None keeps the
    config's)."""
    config = JobConfig.model_validate_json((run_dir / "config.json").read_text(encoding="utf-8"))
    config = config.model_copy(update={"run_dir": run_dir})
    settings = config.export.model_copy(
        update={k: v for k, v in overrides.items() if v is not None}
    )
    metrics_file = run_dir / "metrics.json"
    run_metrics = json.loads(metrics_file.read_text()) if metrics_file.exists() else {}
    curator = Curator.open(config.curate, config.solve.keep, paraphrases=False)
    return _export(config, out_dir, settings, run_metrics, curator)


def _export(
    config: JobConfig,
    out_dir: Path,
    settings: ExportConfig,
    run_metrics: dict[str, object],
    curator: Curator,
) -> ExportSummary:
    """Curate the run's committed units and export what survives."""
    curated = curator.before_export(read_units(config.run_dir))
    return export_run(
        config.run_dir,
        out_dir,
        format=settings.format,
        shard_size=settings.shard_size,
        manifest=manifest_for(config, run_metrics) | curated.manifest,
        test_fraction=settings.test_fraction,
        preference=settings.preference,
        removals=curated.removals,
        reasoning=settings.reasoning,
    )


async def _drive(
    config: JobConfig,
    store: RunStore,
    prompts: Prompts,
    metrics: RunMetrics,
    curator: Curator,
    on_progress: Callable[[RunMetrics], None] | None,
) -> None:
    """Source -> (synthesis) -> the driver's units, on the job's cluster."""
    ticker = asyncio.create_task(_tick(metrics, on_progress)) if on_progress else None
    try:
        domains = source_domains(config.source)
        streams = units_generating(config)
        async with Cluster.running(config, store, metrics, streams, domains) as cluster:
            complete = cluster.generation.complete
            synthesized = await synthesize(
                config.source.synthesize,
                store,
                complete,
                partial(ChatRequest.asking, config.model),
                config.source.generators.seed,
            )
            solver = Solver(config, prompts, complete, cluster.verification.judge)
            driver = Driver(config, store, metrics, solver, curator)
            await driver.run(run_problems(config.source, synthesized))
    finally:
        if ticker is not None:
            ticker.cancel()


async def _tick(metrics: RunMetrics, on_progress: Callable[[RunMetrics], None]) -> None:
    while True:
        await asyncio.sleep(PROGRESS_EVERY_S)
        on_progress(metrics)


def _count_problems(config: JobConfig) -> int | None:
    """Problems in the source, for the ETA; None when a file cannot be counted cheaply."""
    total = config.source.generators.math + config.source.generators.code
    for path in config.source.files:
        if path.suffix != ".jsonl":
            return None
        with path.open("rb") as stream:
            total += sum(1 for line in stream if line.strip())
    return total


def manifest_for(config: JobConfig, run_metrics: dict[str, object]) -> dict[str, object]:
    """What the export's manifest says of the run besides its counts."""
    return {
        "config_fingerprint": config.fingerprint(),
        "model": {"backend": config.model.backend, "name": config.model.model},
        "verifiers": {info.name: info.version for info in Registry().infos() if not info.problem},
        "run": run_metrics,
    }
