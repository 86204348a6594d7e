"""`factory verify` and `factory verifiers` as a user runs them, with the scripted test plugin."""

from __future__ import annotations

import gzip
import json
import random
from pathlib import Path

import pytest
from run_cli import run_factory


def scripted(record_id: str, response: str = "yes", **meta: object) -> str:
    return json.dumps(
        {
            "id": record_id,
            "domain": "scripted",
            "problem": "say yes",
            "reference": "yes",
            "response": response,
            "meta": meta,
        }
    )


def verdicts(stdout: str) -> list[dict]:
    return [json.loads(line) for line in stdout.splitlines()]


def write_lines(path: Path, lines: list[str]) -> Path:
    path.write_text("".join(line + "\n" for line in lines))
    return path


def test_keeps_input_order_with_several_workers(tmp_path: Path, test_plugins: str) -> None:
    rng = random.Random(7)
    lines = [
        scripted(f"r{i}", rng.choice(["yes", "no"]), sleep=rng.choice([0, 0, 0, 0.002]))
        for i in range(1500)
    ]
    src = write_lines(tmp_path / "in.jsonl", lines)
    result = run_factory("verify", str(src), "--workers", "2", pythonpath=test_plugins)
    assert result.returncode == 0, result.stderr
    out = verdicts(result.stdout)
    assert [v["id"] for v in out] == [f"r{i}" for i in range(1500)]
    assert [v["line"] for v in out] == list(range(1, 1501))
    expected = [
        "accepted" if json.loads(line)["response"] == "yes" else "rejected" for line in lines
    ]
    assert [v["status"] for v in out] == expected
    assert all(v["verifier"] == "scripted" and v["elapsed_s"] >= 0 for v in out)
    assert f"{expected.count('accepted'):,} accepted" in result.stderr


def test_bad_lines_get_error_verdicts_and_the_run_goes_on(
    tmp_path: Path, test_plugins: str
) -> None:
    lines = [
        scripted("good"),
        "{not json",
        "",
        json.dumps([1, 2]),
        json.dumps({"id": "no-response", "domain": "scripted", "problem": "p"}),
        json.dumps(
            {"id": "who", "domain": "scripted", "problem": "p", "response": "r", "verifier": "nope"}
        ),
        json.dumps({"id": "m", "domain": "algebra", "problem": "p", "response": "r"}),
        json.dumps(
            {"id": "br", "domain": "x", "problem": "p", "response": "r", "verifier": "broken"}
        ),
        scripted("raises", do="raise"),
        scripted("odd", do="not-a-verdict"),
        scripted("last", "no"),
    ]
    src = tmp_path / "in.jsonl"
    src.write_bytes("\n".join(lines).encode() + b"\n\xff\xfe\n")
    result = run_factory("verify", str(src), "--workers", "2", pythonpath=test_plugins)
    assert result.returncode == 0, result.stderr
    out = verdicts(result.stdout)
    assert len(out) == len(lines) + 1
    reasons = [v["reason"] for v in out]
    assert [v["status"] for v in out] == ["accepted"] + ["error"] * 9 + ["rejected", "error"]
    assert (
        reasons[1]
        == "line 2 is not JSON: Expecting property name enclosed in double quotes at column 2"
    )
    assert reasons[2] == "line 3 is empty; expected a Candidate JSON object"
    assert reasons[3] == "candidate on line 4: expected a JSON object, got an array"
    assert reasons[4] == "candidate 'no-response' (line 5): field 'response': Field required"
    assert reasons[5].startswith("unknown verifier 'nope' (field 'verifier'); installed: ")
    assert "math (math), scripted (scripted)" in reasons[5]
    assert reasons[6].startswith("no installed verifier serves domain 'algebra' (field 'domain')")
    assert reasons[7].startswith("verifier 'broken' is unusable: cannot be imported")
    assert reasons[8] == "verifier 'scripted' failed: RuntimeError: scripted failure"
    assert reasons[9] == "verifier 'scripted' failed: TypeError: returned a str, not a Verdict"
    assert reasons[11] == "line 12 is not UTF-8 (byte 0)"
    assert [v["id"] for v in out[4:10]] == ["no-response", "who", "m", "br", "raises", "odd"]


def test_reads_stdin_and_writes_stdout(test_plugins: str) -> None:
    stdin = (scripted("a") + "\n" + scripted("b", "no") + "\n").encode()
    result = run_factory("verify", "-", "--workers", "1", pythonpath=test_plugins, stdin=stdin)
    assert result.returncode == 0, result.stderr
    assert [(v["id"], v["status"]) for v in verdicts(result.stdout)] == [
        ("a", "accepted"),
        ("b", "rejected"),
    ]


def test_gzip_input_and_output_file(tmp_path: Path, test_plugins: str) -> None:
    src = tmp_path / "in.jsonl.gz"
    with gzip.open(src, "wt") as f:
        f.write(scripted("z") + "\n")
    dest = tmp_path / "out.jsonl"
    result = run_factory("verify", str(src), "-o", str(dest), pythonpath=test_plugins)
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    assert [v["status"] for v in verdicts(dest.read_text())] == ["accepted"]


def test_a_line_that_kills_its_worker_costs_only_that_line(
    tmp_path: Path, test_plugins: str
) -> None:
    lines = [scripted(f"a{i}") for i in range(30)]
    lines[10] = scripted("dies", do="exit")
    lines[20] = scripted("killed", do="kill")
    src = write_lines(tmp_path / "in.jsonl", lines)
    result = run_factory("verify", str(src), "--workers", "2", pythonpath=test_plugins)
    assert result.returncode == 0, result.stderr
    out = verdicts(result.stdout)
    assert [v["status"] for v in out].count("accepted") == 28
    assert out[10]["id"] == "dies"
    assert out[10]["status"] == "error"
    assert out[10]["reason"] == (
        "line 11: verification did not finish: worker process exited with code 3"
    )
    assert out[20]["reason"] == (
        "line 21: verification did not finish: worker process killed by SIGKILL (out of memory?)"
    )


@pytest.mark.slow
def test_a_hanging_line_times_out_and_the_rest_pass(tmp_path: Path, test_plugins: str) -> None:
    lines = [scripted("before"), scripted("hangs", do="hang"), scripted("after")]
    src = write_lines(tmp_path / "in.jsonl", lines)
    result = run_factory(
        "verify", str(src), "--workers", "2", "--timeout", "1", pythonpath=test_plugins
    )
    assert result.returncode == 0, result.stderr
    out = verdicts(result.stdout)
    assert [v["status"] for v in out] == ["accepted", "timeout", "accepted"]
    assert (
        out[1]["reason"]
        == "line 2: verification did not finish: no answer within 1 s; worker killed"
    )


def test_verifier_override_applies_to_every_line(tmp_path: Path, test_plugins: str) -> None:
    line = json.dumps(
        {"id": "m", "domain": "math", "problem": "p", "response": "4", "reference": "4"}
    )
    src = write_lines(tmp_path / "in.jsonl", [line])
    result = run_factory("verify", str(src), "--verifier", "scripted", pythonpath=test_plugins)
    assert [v["status"] for v in verdicts(result.stdout)] == ["accepted"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--verifier", "nope"], "unknown verifier 'nope' (--verifier); installed: code"),
        (["--verifier", "broken"], "verifier 'broken' is unusable"),
        (["--workers", "0"], "Invalid value for '--workers'"),
    ],
)
def test_a_run_that_cannot_proceed_exits_non_zero(
    tmp_path: Path, test_plugins: str, args: list[str], message: str
) -> None:
    src = write_lines(tmp_path / "in.jsonl", [scripted("a")])
    result = run_factory("verify", str(src), *args, pythonpath=test_plugins)
    assert result.returncode == 2
    assert message in result.stderr
    assert result.stdout == ""


def test_a_missing_input_file_exits_non_zero(tmp_path: Path) -> None:
    result = run_factory("verify", str(tmp_path / "absent.jsonl"))
    assert result.returncode != 0
    assert "absent.jsonl" in result.stderr


def test_verifiers_lists_usable_and_broken_plugins(test_plugins: str) -> None:
    result = run_factory("verifiers", "--json", pythonpath=test_plugins)
    assert result.returncode == 0, result.stderr
    listed = {info["name"]: info for info in verdicts(result.stdout)}
    assert listed["scripted"]["domains"] == ["scripted"]
    assert listed["scripted"]["package"] == "factory-test-plugins"
    assert listed["scripted"]["version"] == "0.1"
    assert listed["scripted"]["problem"] is None
    assert "cannot be imported" in listed["broken"]["problem"]
    table = run_factory("verifiers", pythonpath=test_plugins)
    assert "scripted" in table.stdout and "factory-test-plugins" in table.stdout
