"""The cost curve of a job: the demo job at 1x, 10x and 100x its problems.

The demo (`configs/demo.yaml`: 200 math and 50 code problems from the built-in generators, 4
samples, the offline teacher, the Docker sandbox where an engine answers) decontaminated against
the four benchmarks shipped in `tests/data/benchmarks`, each scale a whole `factory generate`
process from an empty run directory. Reported per scale: wall time, verified rows per minute, the
peak resident memory (VmHWM) of the driver and of the job's Ray workers, the run directory's size
(the export apart) and the time `factory generate --resume` takes on the finished run (it skips
every committed unit and exports again).

    .venv/bin/python bench/cost_curve.py [--scales 1 10 100]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import yaml
from generate_throughput import factory_generate

ROOT = Path(__file__).resolve().parents[1]
BENCHMARKS = ROOT / "tests" / "data" / "benchmarks"


def _size_mib(folder: Path, leave_out: Path) -> float:
    files = (f for f in folder.rglob("*") if f.is_file() and leave_out not in f.parents)
    return sum(f.stat().st_size for f in files) / 2**20


def measure(scale: int, folder: Path) -> dict[str, object]:
    config = yaml.safe_load((ROOT / "configs" / "demo.yaml").read_text())
    run_dir = folder / f"x{scale}"
    config["run_dir"] = str(run_dir)
    generators = config["source"]["generators"]
    generators["math"] *= scale
    generators["code"] *= scale
    config["curate"]["decontaminate"]["against"] = sorted(map(str, BENCHMARKS.iterdir()))
    wall, metrics = factory_generate(config, folder)
    resume, _ = factory_generate(config, folder, "--resume")
    peaks = metrics["peak_rss_mib"]
    return {
        "scale": scale,
        "problems": metrics["problems"]["done"],
        "rows": metrics["kept"]["rows"],
        "wall_s": wall,
        "rows_per_min": metrics["kept"]["rows"] / wall * 60,
        "rows_per_min_in_job": metrics["kept"]["rows"] / metrics["elapsed_s"] * 60,
        "driver_mib": peaks.get("driver", 0.0),
        "workers_mib": sum(v for k, v in peaks.items() if k != "driver"),
        "largest_worker_mib": max((v for k, v in peaks.items() if k != "driver"), default=0.0),
        "run_dir_mib": _size_mib(run_dir, run_dir / "export"),
        "export_mib": _size_mib(run_dir / "export", run_dir / "none"),
        "resume_s": resume,
        "verification_bound": metrics["verification_bound"]["share"],
        "peaks": peaks,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", type=int, nargs="+", default=[1, 10, 100])
    args = parser.parse_args()
    print(
        "scale | problems | rows | wall s | rows/min (in the job) | driver MiB | "
        "workers MiB (largest) | run dir MiB | export MiB | resume s | verification-bound",
        flush=True,
    )
    with tempfile.TemporaryDirectory() as scratch:
        for scale in args.scales:
            r = measure(scale, Path(scratch))
            print(
                f"{r['scale']}x | {r['problems']:,} | {r['rows']:,} | {r['wall_s']:,.1f} | "
                f"{r['rows_per_min']:,.0f} ({r['rows_per_min_in_job']:,.0f}) | "
                f"{r['driver_mib']:,.0f} | {r['workers_mib']:,.0f} "
                f"({r['largest_worker_mib']:,.0f}) | {r['run_dir_mib']:,.1f} | "
                f"{r['export_mib']:,.1f} | {r['resume_s']:,.1f} | {r['verification_bound']:.0%}",
                flush=True,
            )
            print(f"   peak MiB by process: {r['peaks']}", flush=True)


if __name__ == "__main__":
    main()
