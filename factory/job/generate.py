"""`factory generate`: one job, from its config to an export, on local Ray or `RAY_ADDRESS`."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import ray

from verified_factory.config import ExportConfig, JobConfig
from verified_factory.curate.decontaminate import Decontaminator
from verified_factory.curate.dedupe import RowDeduper
from verified_factory.curate.embedding import EmbeddingIndex
from verified_factory.curate.removals import (
    decontamination_note,
    open_decontaminator,
    open_embedding_index,
    run_removals,
)
from verified_factory.export.exporter import ExportSummary, export_run
from verified_factory.job.actors import generation_actor, verify_actors
from verified_factory.job.driver import Driver
from verified_factory.job.metrics import RunMetrics
from verified_factory.job.run_store import RunStore, read_units
from verified_factory.job.verifier_pool import VerifierPool
from verified_factory.solve.prompts import Prompts, load_prompts
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
    decontaminator = open_decontaminator(config.curate.decontaminate)
    paraphrases = open_embedding_index(config.curate.decontaminate, decontaminator)
    store = RunStore.open(config.run_dir, config, resume=resume)
    metrics = RunMetrics(problems_total=_count_problems(config))
    metrics.processes["driver"] = os.getpid()
    connect_ray()
    curation = (decontaminator, paraphrases)
    asyncio.run(_drive(config, store, prompts, metrics, curation, on_progress))
    (config.run_dir / "metrics.json").write_text(json.dumps(metrics.as_json(), indent=2) + "\n")
    summary = _export(
        config, config.run_dir / "export", config.export, metrics.as_json(), decontaminator
    )
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
    decontaminator = open_decontaminator(config.curate.decontaminate)
    return _export(config, out_dir, settings, run_metrics, decontaminator)


def _export(
    config: JobConfig,
    out_dir: Path,
    settings: ExportConfig,
    run_metrics: dict[str, object],
    decontaminator: Decontaminator | None,
) -> ExportSummary:
    """Curate the run's committed units and export what survives."""
    manifest = manifest_for(config, run_metrics)
    manifest["decontamination"] = decontamination_note(config.curate.decontaminate, decontaminator)
    deduper = RowDeduper(config.curate.dedupe.near_threshold)
    seeded = deduper.seed_from_exports(config.curate.dedupe.against)
    removals = run_removals(read_units(config.run_dir), decontaminator, deduper)
    manifest["dedupe"] = {
        "near_threshold": config.curate.dedupe.near_threshold,
        "against": [str(path) for path in config.curate.dedupe.against],
        "rows_seeded_from_earlier_exports": seeded,
        "repeated_problems": len(deduper.repeated_problems),
    }
    return export_run(
        config.run_dir,
        out_dir,
        format=settings.format,
        shard_size=settings.shard_size,
        manifest=manifest,
        test_fraction=settings.test_fraction,
        preference=settings.preference,
        removals=removals,
        reasoning=settings.reasoning,
    )


def connect_ray() -> None:
    """Join `RAY_ADDRESS` when set, else start Ray on this machine (unless already joined)."""
    if ray.is_initialized():
        return
    address = os.environ.get("RAY_ADDRESS")
    if address:
        ray.init(address=address, logging_level="WARNING")
    else:
        ray.init(include_dashboard=False, logging_level="WARNING", _node_ip_address="127.0.0.1")


async def _drive(
    config: JobConfig,
    store: RunStore,
    prompts: Prompts,
    metrics: RunMetrics,
    curation: tuple[Decontaminator | None, EmbeddingIndex | None],
    on_progress: Callable[[RunMetrics], None] | None,
) -> None:
    cpus = float(ray.cluster_resources().get("CPU", 1.0))
    workers = config.verify.workers or max(1, int(cpus))
    verifiers = VerifierPool(
        verify_actors(workers, config, min(1.0, cpus / workers)),
        config.verify.timeout_s,
        metrics,
    )
    generator = generation_actor(config)
    driver = Driver(config, store, prompts, metrics, generator, verifiers, *curation)
    ticker = asyncio.create_task(_tick(metrics, on_progress)) if on_progress else None
    try:
        await verifiers.start()
        await driver.run()
    finally:
        if ticker is not None:
            ticker.cancel()
        for actor in [generator, *verifiers.actors]:
            ray.kill(actor, no_restart=True)


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
