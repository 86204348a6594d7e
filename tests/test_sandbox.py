"""Both sandbox backends, tried for real: limits, isolation, cleanup."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from verified_factory.sandboxes import Job, Judge, Sandbox
from verified_factory.sandboxes.doctor import _JUDGE as JUDGE_PROBE
from verified_factory.sandboxes.doctor import PROBES, diagnose


def python(code: str, **options) -> Job:
    return Job(argv=["python3", "main.py"], files={"main.py": textwrap.dedent(code)}, **options)


def test_every_doctor_check_holds(sandbox: Sandbox) -> None:
    results = list(diagnose(sandbox))
    assert len(results) == sum(sandbox.backend in p.backends for p in PROBES)
    failed = [(name, meaning) for name, passed, meaning in results if not passed]
    assert failed == []


def test_stdin_stdout_stderr_and_exit_code(sandbox: Sandbox) -> None:
    result = sandbox.run(
        python(
            """
            import sys
            data = sys.stdin.read()
            print(data.upper(), end="")
            print("chatter " * 1000, file=sys.stderr)
            open("answer.txt", "w").write(data[::-1])
            sys.exit(3)
            """,
            stdin="abc\n",
        )
    )
    assert (result.exit_code, result.stdout) == (3, "ABC\n")
    assert result.stderr.startswith("chatter chatter")
    assert result.report is None and not result.dirty
    assert not (result.timed_out or result.memory_exceeded or result.output_exceeded)


def test_killing_every_process_does_not_kill_the_sandbox(sandbox: Sandbox) -> None:
    sandbox.run(python("import os, signal\nos.kill(-1, signal.SIGKILL)"))
    assert sandbox.run(python("print('still here')")).stdout == "still here\n"


def test_two_gib_of_output_neither_deadlocks_nor_fills_memory(sandbox: Sandbox) -> None:
    result = sandbox.run(
        python("import os\nfor _ in range(32768): os.write(1, b'x' * 65536)", time_limit_s=20)
    )
    assert result.output_exceeded
    assert len(result.stdout) == 1024 * 1024
    assert result.wall_s < 10


def test_nothing_carries_over_to_the_next_program(sandbox: Sandbox) -> None:
    first = sandbox.run(
        python(
            """
            import os, time
            open("state.txt", "w").write("secret")
            if os.fork() == 0:
                os.setsid()
                time.sleep(60)
            """
        )
    )
    assert first.dirty
    second = sandbox.run(
        python(
            """
            import os
            print(os.path.exists("state.txt"), len([p for p in os.listdir("/proc") if p.isdigit()]))
            """
        )
    )
    exists, processes = second.stdout.split()
    assert exists == "False"
    assert int(processes) <= 3  # the supervisor, this program (and /proc's self entry race)


@pytest.mark.docker
def test_a_killed_owner_leaves_no_container(docker_engine) -> None:
    import time

    from conftest import sandbox_containers

    before = frozenset(sandbox_containers(docker_engine))
    crash = textwrap.dedent(
        """
        import os
        from verified_factory.sandboxes import Job, open_sandbox
        box = open_sandbox("docker")
        box.run(Job(argv=["python3", "-c", "pass"]))
        print(len(box._idle), flush=True)
        os._exit(9)  # like kill -9: no cleanup
        """
    )
    started = subprocess.run(
        [sys.executable, "-c", crash], check=False, timeout=120, capture_output=True, text=True
    )
    assert started.stdout.strip() == "1", started.stderr  # it had a container when it died
    deadline = time.monotonic() + 20
    while sandbox_containers(docker_engine, before):
        assert time.monotonic() < deadline, "the dead owner's container is still there"
        time.sleep(0.2)


@pytest.mark.docker
def test_reap_removes_the_containers_of_a_dead_owner(docker_engine) -> None:
    from verified_factory.sandboxes.docker_backend import LABEL, OWNER_LABEL, reap
    from verified_factory.sandboxes.image import image_tag

    stray = docker_engine.api.create_container(
        image_tag(), command=["true"], labels={LABEL: "1", OWNER_LABEL: "nowhere:1"}
    )
    mine = docker_engine.api.create_container(
        image_tag(), command=["true"], labels={LABEL: "1", OWNER_LABEL: f"{_host()}:{_dead_pid()}"}
    )
    try:
        name = _name(docker_engine, mine)
        assert name in reap(docker_engine)
        assert _exists(docker_engine, stray)  # another machine's: not ours to judge
        stray_name = _name(docker_engine, stray)
        assert stray_name in reap(docker_engine, everything=True)
        assert not _exists(docker_engine, stray) and not _exists(docker_engine, mine)
    finally:
        for container in (stray, mine):
            if _exists(docker_engine, container):
                docker_engine.api.remove_container(container, force=True)


def _host() -> str:
    import socket

    return socket.gethostname()


def _dead_pid() -> int:
    process = subprocess.Popen(["true"])
    process.wait()
    return process.pid


def _name(client, container: dict) -> str:
    return client.api.inspect_container(container["Id"])["Name"].lstrip("/")


def _exists(client, container: dict) -> bool:
    import docker.errors

    try:
        client.api.inspect_container(container["Id"])
    except docker.errors.NotFound:
        return False
    return True


@pytest.mark.docker
def test_a_closed_pool_leaves_no_container(docker_engine) -> None:
    from verified_factory.sandboxes import open_sandbox

    with open_sandbox("docker") as box:
        box.run(Job(argv=["python3", "-c", "pass"]))
        assert _ours(docker_engine)
    assert _ours(docker_engine) == []


def _ours(client) -> list:
    import os

    from verified_factory.sandboxes.docker_backend import LABEL, OWNER_LABEL

    owner = f"{OWNER_LABEL}={_host()}:{os.getpid()}"
    return client.api.containers(all=True, filters={"label": [LABEL, owner]})


# --- judged runs ---------------------------------------------------------------------------------

ECHO_JUDGE = Judge(
    argv=["python3", "judge.py"],
    files={
        "judge.py": "import os, sys\n"
        "os.write(4, sys.stdin.read().encode())\n"
        "os.close(4)\n"
        "print('judge heard', os.read(3, 100))\n"
    },
    stdin="ping",
)


def test_a_judged_run_reports_what_the_judge_wrote_and_nothing_else(sandbox: Sandbox) -> None:
    program = python(
        """
        import os
        heard = os.read(3, 100)
        print('program output, never the report')
        os.write(4, heard[::-1])
        """,
        judge=ECHO_JUDGE,
    )
    result = sandbox.run(program)
    assert result.report == "judge heard b'gnip'\n"
    assert result.stdout == "program output, never the report\n"
    assert result.exit_code == 0 and not result.dirty


def test_the_run_ends_with_its_judge_and_stops_a_program_still_running(sandbox: Sandbox) -> None:
    impatient = Judge(argv=["python3", "judge.py"], files={"judge.py": "print('seen enough')"})
    stubborn = python("import time\nwhile True:\n    time.sleep(1)", judge=impatient)
    result = sandbox.run(stubborn)
    assert result.report == "seen enough\n"
    assert not (result.timed_out or result.memory_exceeded) and result.wall_s < 5


def test_judge_and_program_share_one_cpu(sandbox: Sandbox) -> None:
    """Their calls take turns; across two CPUs each one costs a wake-up on the other."""
    import os

    if len(os.sched_getaffinity(0)) < 2:
        pytest.skip("this machine has one CPU")
    where = "import os\nprint(sorted(os.sched_getaffinity(0)))"
    result = sandbox.run(
        python(where, judge=Judge(argv=["python3", "judge.py"], files={"judge.py": where}))
    )
    assert result.report == result.stdout
    assert len(eval(result.stdout)) == 1, result.stdout


def test_programs_and_judges_run_as_users_of_their_own(sandbox: Sandbox) -> None:
    isolation = sandbox.isolation
    assert isolation["separate_users"], isolation
    program, judge = isolation["program_uid"], isolation["judge_uid"]
    assert len({0, program, judge}) == 3 and min(program, judge) >= 100_000
    whoami = "import os\nprint(os.getuid(), os.getgid(), os.getgroups())"
    result = sandbox.run(
        python(whoami, judge=Judge(argv=["python3", "judge.py"], files={"judge.py": whoami}))
    )
    assert result.stdout == f"{program} {program} []\n"
    assert result.report == f"{judge} {judge} []\n"


def test_a_fork_bomb_in_one_sandbox_leaves_the_others_their_processes(sandbox: Sandbox) -> None:
    import threading
    import time

    from verified_factory.sandboxes import open_sandbox

    other = open_sandbox(sandbox.backend)  # another container or supervisor: users of its own
    bomb = python(
        """
        import os, time
        while True:
            try:
                if os.fork() == 0:
                    time.sleep(30)
            except OSError:  # its process limit
                break
        time.sleep(3)
        """,
        time_limit_s=5,
    )
    uses_threads = python(
        "import threading\nt = threading.Thread(target=print, args=('fine',))\nt.start()\nt.join()"
    )
    try:
        assert other.isolation["program_uid"] != sandbox.isolation["program_uid"]
        exploding = threading.Thread(target=sandbox.run, args=(bomb,))
        exploding.start()
        time.sleep(1.5)  # the bomb holds every process its user may have
        assert other.run(uses_threads).stdout == "fine\n"
        exploding.join()
    finally:
        other.close()


@pytest.fixture
def one_user_sandbox(monkeypatch: pytest.MonkeyPatch):
    """The process backend as a user who is not root gets it: one user for every party."""
    import stat

    from verified_factory.sandboxes import process_backend

    path = process_backend.SUPERVISOR
    if not all(p.stat().st_mode & stat.S_IXOTH for p in path.parents) or not (
        path.stat().st_mode & stat.S_IROTH
    ):
        pytest.skip(f"nobody cannot read {path} (a folder above it is private to its owner)")

    prefix = ("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups")
    prefix += ("unshare", "--user", "--map-root-user", "--net", "--pid", "--fork", "--mount-proc")
    monkeypatch.setattr(process_backend, "namespace_prefix", lambda: prefix)
    box = process_backend.process_sandbox()
    yield box
    box.close()


def test_one_user_is_said_plainly_by_the_doctor_and_in_every_verdict(one_user_sandbox) -> None:
    from verified_factory.records import Candidate
    from verified_factory.verifiers.code import CodeVerifier

    assert not one_user_sandbox.isolation["separate_users"]
    assert "share a user" in one_user_sandbox.isolation["weaker"]
    checks = {name: passed for name, passed, _ in diagnose(one_user_sandbox)}
    assert checks.pop("judge out of reach") is False  # it can signal its judge, and says so
    assert all(checks.values()), checks
    candidate = Candidate(
        id="t",
        domain="code",
        problem="p",
        response="```python\ndef add(a, b):\n    return a + b\n```",
        tests={"format": "assert", "code": "assert add(1, 2) == 3"},
    )
    verdict = CodeVerifier(one_user_sandbox).verify(candidate)
    assert verdict.status == "accepted", verdict.reason
    (note,) = [d for d in verdict.details if d["test"] == "isolation"]
    assert note["outcome"] == "skipped" and "share a user" in note["message"]


def test_one_user_still_keeps_the_judges_memory_and_descriptors_out_of_reach(
    one_user_sandbox,
) -> None:
    probe = next(p for p in PROBES if p.name == "judge out of reach")
    judge = Judge(argv=["python3", "judge.py"], files={"judge.py": JUDGE_PROBE})
    result = one_user_sandbox.run(python(probe.code, judge=judge))
    reached = eval(result.stdout)  # a list of strings the probe printed
    assert reached and all(item.startswith("signal ") for item in reached), reached
    assert result.report.strip() == "intact"


@pytest.mark.slow
def test_an_interpreter_under_a_private_folder_runs_the_harness(tmp_path: Path) -> None:
    """A project cloned under a folder only its owner may enter (`mktemp -d`, a 0700 home), with
    its environment inside: the sandbox runs on that environment's interpreter, which has what
    the harness needs, while the rest of the folder stays hidden."""
    from verified_factory.sandboxes.process_backend import namespace_prefix

    if not namespace_prefix():
        pytest.skip("no namespaces here: the process sandbox cannot hide this machine's files")
    private = tmp_path / "home"
    private.mkdir(mode=0o700)
    (private / "secret.txt").write_text("expected output")
    venv = private / "clone" / ".venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    project = str(Path(__file__).resolve().parents[1])
    pip = [venv / "bin" / "pip", "install", "--quiet"]
    subprocess.run([*pip, "docker", "hypothesis", "pytest"], check=True)
    subprocess.run([*pip, "--no-deps", project], check=True)
    probe = f"""
from verified_factory.sandboxes import open_sandbox
from verified_factory.sandboxes.job import Job
box = open_sandbox("process")
secret = {str(private / "secret.txt")!r}
code = f"import os, sys, hypothesis, pytest; print(sys.executable, os.path.exists({{secret!r}}))"
result = box.run(Job(argv=["python3", "-I", "p.py"], files={{"p.py": code}}))
box.close()
print(result.stdout.strip() or result.stderr)
"""
    done = subprocess.run(
        [venv / "bin" / "python", "-c", probe],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [str(venv / "bin" / "python3"), "False"]
