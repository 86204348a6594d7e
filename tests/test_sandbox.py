"""Both sandbox backends, tried for real: limits, isolation, cleanup."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from sandboxes import Job, Sandbox
from sandboxes.doctor import PROBES, diagnose


def python(code: str, **options) -> Job:
    return Job(argv=["python3", "main.py"], files={"main.py": textwrap.dedent(code)}, **options)


def test_every_doctor_check_holds(sandbox: Sandbox) -> None:
    results = list(diagnose(sandbox))
    assert len(results) == sum(sandbox.backend in p.backends for p in PROBES)
    failed = [(name, meaning) for name, passed, meaning in results if not passed]
    assert failed == []


def test_stdin_stdout_stderr_files_and_exit_code(sandbox: Sandbox) -> None:
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
            collect=["answer.txt", "absent.txt"],
        )
    )
    assert (result.exit_code, result.stdout) == (3, "ABC\n")
    assert result.stderr.startswith("chatter chatter")
    assert result.files == {"answer.txt": "\ncba"}
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
def test_reap_removes_the_containers_of_a_killed_owner(docker_engine) -> None:
    from sandboxes.docker_backend import LABEL, reap

    crash = textwrap.dedent(
        """
        import os
        from sandboxes import Job, open_sandbox
        box = open_sandbox("docker")
        box.run(Job(argv=["python3", "-c", "pass"]))
        os._exit(9)  # like kill -9: no cleanup
        """
    )
    subprocess.run([sys.executable, "-c", crash], check=False, timeout=120)
    left = {c.name for c in docker_engine.containers.list(all=True, filters={"label": LABEL})}
    assert left, "the crashed owner should have left its container"
    assert left <= set(reap(docker_engine))
    assert docker_engine.containers.list(all=True, filters={"label": LABEL}) == []


@pytest.mark.docker
def test_a_closed_pool_leaves_no_container(docker_engine) -> None:
    from sandboxes import open_sandbox
    from sandboxes.docker_backend import LABEL

    with open_sandbox("docker") as box:
        box.run(Job(argv=["python3", "-c", "pass"]))
        assert docker_engine.containers.list(filters={"label": LABEL})
    assert docker_engine.containers.list(all=True, filters={"label": LABEL}) == []
