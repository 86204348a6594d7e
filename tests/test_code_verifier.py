"""The `code` verifier on both sandbox backends: formats, cheats, resource attacks, honest noise."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from run_cli import run_factory

from verified_factory.records import Candidate
from verified_factory.sandboxes import Sandbox
from verified_factory.verifiers.code import CodeVerifier

ADD = "def add(a, b):\n    return a + b\n"
ASSERT_ADD = {"format": "assert", "code": "assert add(1, 2) == 3\nassert add(-1, 1) == 0"}


def fenced(code: str) -> str:
    return f"Here it is:\n```python\n{textwrap.dedent(code)}\n```\n"


def judge(sandbox: Sandbox, response: str, tests: dict):
    candidate = Candidate(id="t", domain="code", problem="p", response=response, tests=tests)
    return CodeVerifier(sandbox).verify(candidate)


@pytest.mark.parametrize(
    ("tests", "good", "bad"),
    [
        (ASSERT_ADD, ADD, "def add(a, b):\n    return a - b\n"),
        (
            {
                "format": "call",
                "entry_point": "add",
                "cases": [
                    {"args": [1, 2], "expected": 3},
                    {"kwargs": {"a": 0.1, "b": 0.2}, "expected": 0.3},
                ],
            },
            ADD,
            "def add(a, b):\n    return str(a + b)\n",
        ),
        (
            {
                "format": "stdio",
                "cases": [{"input": "1 2\n", "output": "3\n"}, {"input": "5 5", "output": "10"}],
            },
            "a, b = map(int, input().split())\nprint(a + b)   \n",
            "print(3)\n",
        ),
    ],
    ids=["assert", "call", "stdio"],
)
def test_each_format_accepts_the_right_program_and_rejects_a_wrong_one(
    sandbox: Sandbox, tests: dict, good: str, bad: str
) -> None:
    accepted = judge(sandbox, fenced(good), tests)
    assert accepted.status == "accepted", accepted.reason
    assert accepted.extracted is not None
    assert accepted.extracted.strip() == good.strip()  # the fenced program, exactly
    assert all(d["outcome"] == "passed" for d in accepted.details)
    rejected = judge(sandbox, fenced(bad), tests)
    assert rejected.status == "rejected", rejected.reason
    assert any(d["outcome"] in {"failed", "wrong_answer"} for d in rejected.details)


def test_pytest_format(sandbox: Sandbox) -> None:
    tests = {
        "format": "pytest",
        "code": "from solution import add\n\ndef test_add():\n    assert add(1, 2) == 3\n",
    }
    assert judge(sandbox, fenced(ADD), tests).status == "accepted"
    assert judge(sandbox, fenced("def add(a, b):\n    return 0\n"), tests).status == "rejected"


CHEATS = {
    "sys.exit(0) at import": "import sys\ndef add(a, b):\n    return 0\nsys.exit(0)",
    "os._exit(0) at import": "import os\ndef add(a, b):\n    return 0\nos._exit(0)",
    "SystemExit inside the function": "def add(a, b):\n    raise SystemExit(0)",
    "os._exit inside the function": "import os\ndef add(a, b):\n    os._exit(0)",
    "atexit masks the exit code": (
        "import atexit, os\natexit.register(lambda: os._exit(0))\ndef add(a, b):\n    return 0"
    ),
    "excepthook masks the failure": (
        "import sys, os\nsys.excepthook = lambda *a: os._exit(0)\ndef add(a, b):\n    return 0"
    ),
    "printed fake success": "print('2 passed, 0 failed')\nprint('OK')\nimport os\nos._exit(0)",
    "kills its own process": "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)",
    "kills the parent": (
        "import os, signal\nos.kill(os.getppid(), signal.SIGKILL)\ndef add(a, b):\n    return 0"
    ),
    "kills every process": (
        "import os, signal\nos.kill(-1, signal.SIGKILL)\ndef add(a, b):\n    return 0"
    ),
    "equal to everything": (
        "class Any:\n    def __eq__(self, other):\n        return True\n"
        "def add(a, b):\n    return Any()"
    ),
    "int subclass equal to everything": (
        "class Int(int):\n    def __eq__(self, other):\n        return True\n"
        "def add(a, b):\n    return Int(0)"
    ),
    "reads what the tests expect": (
        "import json, re\nspec = json.load(open('spec.json'))\ndef add(a, b):\n    return 3"
    ),
    "shadows AssertionError": "def add(a, b):\n    return 0\nAssertionError = None",
}


@pytest.mark.parametrize("program", CHEATS.values(), ids=CHEATS.keys())
def test_cheats_are_rejected(sandbox: Sandbox, program: str) -> None:
    verdict = judge(sandbox, fenced(program), ASSERT_ADD)
    assert verdict.status == "rejected", verdict.reason


@pytest.mark.parametrize(
    "program",
    [
        "import pytest\ndef add(a, b):\n    pytest.skip('later')",
        "open('conftest.py', 'w').write('def pytest_runtest_call(item):\\n    pass\\n')\n"
        "def add(a, b):\n    return 0",
        "import pytest\npytest.main = lambda *a, **k: 0\ndef add(a, b):\n    return 0",
    ],
    ids=["pytest.skip", "writes a conftest", "replaces pytest.main"],
)
def test_pytest_cheats_are_rejected(sandbox: Sandbox, program: str) -> None:
    tests = {
        "format": "pytest",
        "code": "from solution import add\n\ndef test_add():\n    assert add(1, 2) == 3\n",
    }
    verdict = judge(sandbox, fenced(program), tests)
    assert verdict.status == "rejected", verdict.reason


LIMITED = {
    "format": "assert",
    "code": "assert add(1, 2) == 3",
    "time_limit_s": 2,
    "memory_limit_mb": 256,
}
ATTACKS = {
    "infinite loop": ("def add(a, b):\n    while True:\n        pass", "timeout"),
    "ignores SIGTERM": (
        "import signal, time\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
        "def add(a, b):\n    while True:\n        time.sleep(0.01)",
        "timeout",
    ),
    "memory bomb": (
        "def add(a, b):\n    x = bytearray(4 * 1024 ** 3)\n    return 3",
        "memory_limit",
    ),
    "slow memory creep": (
        "def add(a, b):\n    chunks = []\n    while True:\n"
        "        chunks.append(bytearray(8 * 1024 ** 2))",
        "memory_limit",
    ),
    "fork bomb": (
        "import os\ndef add(a, b):\n    while True:\n        try:\n            os.fork()\n"
        "        except OSError:\n            pass",
        None,
    ),
    "2 GiB of output": (
        "import os\ndef add(a, b):\n    for _ in range(32768):\n"
        "        os.write(1, b'x' * 65536)\n    return 3",
        "output_limit",
    ),
}


@pytest.mark.slow
@pytest.mark.parametrize(("program", "outcome"), ATTACKS.values(), ids=ATTACKS.keys())
def test_resource_attacks_end_in_rejection(
    sandbox: Sandbox, program: str, outcome: str | None
) -> None:
    verdict = judge(sandbox, fenced(program), LIMITED)
    assert verdict.status in {"rejected", "timeout"}, verdict.reason
    if outcome:
        assert verdict.details[0]["outcome"] == outcome, verdict.details
    assert judge(sandbox, fenced(ADD), LIMITED).status == "accepted"  # the sandbox recovered


@pytest.mark.docker
@pytest.mark.parametrize(
    "probe",
    [
        "import os\nassert not os.path.exists('/work/main') and not os.path.exists('/root/.pyenv')",
        "names = [l.split(':')[0].strip() for l in open('/proc/net/dev').readlines()[2:]]\n"
        "assert names == ['lo'], names",
        "import socket\ntry:\n    socket.create_connection(('127.0.0.1', 9), timeout=1)\n"
        "except OSError:\n    pass",
    ],
    ids=["no host files", "only loopback", "no network"],
)
def test_docker_isolation(sandbox: Sandbox, probe: str) -> None:
    if sandbox.backend != "docker":
        pytest.skip("the process backend shares this machine's file system")
    verdict = judge(sandbox, fenced(probe + "\ndef add(a, b):\n    return a + b"), ASSERT_ADD)
    assert verdict.status == "accepted", verdict.reason


def test_state_does_not_carry_to_the_next_candidate(sandbox: Sandbox) -> None:
    leave = (
        "import os, time\nopen('/tmp/planted', 'w').write('3')\n"
        "if os.fork() == 0:\n    os.setsid()\n    time.sleep(60)\n" + ADD
    )
    assert judge(sandbox, fenced(leave), ASSERT_ADD).status == "accepted"
    use = "import os\nassert not os.path.exists('/tmp/planted')\n" + ADD
    probe = use + (
        "\nimport os\n"  # no process of the program's user but this one
        "mine = [p for p in os.listdir('/proc') if p.isdigit() and int(p) != os.getpid()\n"
        "        and os.stat(f'/proc/{p}').st_uid == os.getuid()]\n"
        "assert mine == [], mine\n"
    )
    assert judge(sandbox, fenced(probe), ASSERT_ADD).status == "accepted"


HONEST = {
    "chatters on stderr": "import sys\nfor i in range(2000):\n"
    "    print('debug', i, file=sys.stderr)\n" + ADD,
    "sleeps a second": "import time\ntime.sleep(1)\n" + ADD,
    "recurses 3000 deep": (
        "import sys\nsys.setrecursionlimit(10000)\n"
        "def depth(n):\n    return 0 if n == 0 else 1 + depth(n - 1)\n"
        "assert depth(3000) == 3000\n" + ADD
    ),
}


@pytest.mark.parametrize("program", HONEST.values(), ids=HONEST.keys())
def test_honest_but_noisy_programs_pass(sandbox: Sandbox, program: str) -> None:
    verdict = judge(sandbox, fenced(program), ASSERT_ADD)
    assert verdict.status == "accepted", verdict.reason


def test_no_program_and_no_tests(sandbox: Sandbox) -> None:
    assert judge(sandbox, "I would use a loop.", ASSERT_ADD).status == "rejected"
    candidate = Candidate(id="t", domain="code", problem="p", response=fenced(ADD))
    verdict = CodeVerifier(sandbox).verify(candidate)
    assert verdict.status == "unverifiable" and "field 'tests'" in verdict.reason


@pytest.mark.docker
@pytest.mark.slow
def test_kill_9_of_factory_verify_then_reap_leaves_nothing(docker_engine, tmp_path) -> None:
    import json
    import os
    import signal
    import subprocess
    import sys
    import time
    from pathlib import Path

    from conftest import sandbox_containers

    slow = "import time\ntime.sleep(0.2)\n" + ADD
    rows = [
        {
            "id": f"k{i}",
            "domain": "code",
            "problem": "p",
            "response": fenced(slow),
            "tests": ASSERT_ADD,
        }
        for i in range(200)
    ]
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps(row) + "\n" for row in rows))
    out = tmp_path / "out.jsonl"
    factory = Path(sys.executable).parent / "factory"
    before = frozenset(sandbox_containers(docker_engine))
    run = subprocess.Popen(
        [str(factory), "verify", str(src), "-o", str(out), "--workers", "2"],
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while not sandbox_containers(docker_engine, before) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert sandbox_containers(docker_engine, before), "no sandbox container started"
    os.kill(run.pid, signal.SIGKILL)
    run.wait()
    time.sleep(3)  # the workers notice their parent is gone
    subprocess.run([str(factory), "sandbox", "reap"], check=True, capture_output=True)
    deadline = time.monotonic() + 20  # containers the engine is still removing by itself
    while sandbox_containers(docker_engine, before):
        assert time.monotonic() < deadline, "sandbox containers were left behind"
        time.sleep(0.2)
    ours = subprocess.run(["pgrep", "-f", str(src)], capture_output=True, text=True).stdout.split()
    assert ours == []


def test_the_backend_is_a_setting() -> None:
    verifier = CodeVerifier(sandbox="process")
    assert verifier.sandbox.backend == "process"
    verifier.sandbox.close()
    with pytest.raises(ValueError, match="sandbox 'kubernetes': use one of auto, docker, process"):
        CodeVerifier(sandbox="kubernetes")


def test_factory_verify_takes_the_backend_from_the_environment(tmp_path: Path) -> None:
    """FACTORY_SANDBOX_BACKEND is the default of `factory verify --sandbox`; a wrong one is a
    usage error before any line is read."""
    line = Candidate(id="t", domain="code", problem="p", response=fenced(ADD), tests=ASSERT_ADD)
    source = tmp_path / "in.jsonl"
    source.write_text(line.model_dump_json() + "\n")
    done = run_factory("verify", str(source), env={"FACTORY_SANDBOX_BACKEND": "process"})
    assert '"status":"accepted"' in done.stdout.replace(" ", "")
    wrong = run_factory("verify", str(source), env={"FACTORY_SANDBOX_BACKEND": "kubernetes"})
    assert wrong.returncode == 2 and "'kubernetes' is not one of" in wrong.stderr
