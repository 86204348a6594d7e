"""Red team: candidates that try to forge an accepted verdict, and honest oddballs that must pass.

Every attack pairs a wrong solution (`add` that subtracts, ...) with code that tries to make the
verdict say accepted anyway; the verdict must be rejected (or a timeout). Where an attack needs
access that the sandbox should never give (another process's memory, descriptors or files), it
is written as a canary: the program answers right only when the access worked, so an accepted
verdict means the wall was breached, without a full exploit in the test.

The honest programs do unusual but harmless things; every one must be accepted.

One sandbox per backend for the whole module (a pool replaces a session a run left dirty).
"""

from __future__ import annotations

import textwrap

import pytest

from verified_factory.records import Candidate
from verified_factory.sandboxes import Sandbox, open_sandbox
from verified_factory.verifiers.code import CodeVerifier
from verified_factory.verifiers.code.reference_check import DifferentialSettings

SETTINGS = DifferentialSettings(draws=10, mutations=10, max_inputs=40, budget_s=2.0)


@pytest.fixture(
    scope="module", params=[pytest.param("docker", marks=pytest.mark.docker), "process"]
)
def box(request: pytest.FixtureRequest):
    """Each backend in turn, one pool for the module (see conftest's `sandbox`)."""
    from conftest import _docker_or_skip

    if request.param == "docker":
        _docker_or_skip()
    sandbox = open_sandbox(request.param)
    yield sandbox
    sandbox.close()


def fenced(code: str) -> str:
    return f"```python\n{textwrap.dedent(code)}\n```\n"


def judge(sandbox: Sandbox, program: str, tests: dict, reference: str | None = None):
    candidate = Candidate(
        id="t",
        domain="code",
        problem="p",
        response=fenced(program),
        tests=tests,
        reference=reference,
    )
    return CodeVerifier(sandbox, SETTINGS).verify(candidate)


def assert_not_accepted(verdict) -> None:
    assert verdict.status in {"rejected", "timeout"}, (verdict.status, verdict.reason)


RIGHT = "def add(a, b):\n    return a + b\n"
WRONG = "def add(a, b):\n    return a - b\n"

ASSERT_ADD = {
    "format": "assert",
    "code": "assert add(2, 3) == 5\nassert add(-1, 1) == 0\nassert add(10, 20) == 30\n",
    "time_limit_s": 3,
}
HUMANEVAL_ADD = {
    "format": "assert",
    "code": (
        "def check(candidate):\n"
        "    assert candidate(2, 3) == 5\n"
        "    assert abs(candidate(0.5, 0.25) - 0.75) < 1e-6\n"
        "    assert abs(candidate(-1.5, 1.5)) < 1e-6\n\n"
        "check(add)\n"
    ),
    "entry_point": "add",
    "time_limit_s": 3,
}
CALL_ADD = {
    "format": "call",
    "entry_point": "add",
    "cases": [
        {"args": [2, 3], "expected": 5},
        {"args": [-1, 1], "expected": 0},
        {"kwargs": {"a": 10, "b": 20}, "expected": 30},
    ],
    "time_limit_s": 3,
}
PYTEST_ADD = {
    "format": "pytest",
    "code": (
        "from solution import add\n\n\n"
        "def test_small():\n    assert add(2, 3) == 5\n\n\n"
        "def test_signs():\n    assert add(-1, 1) == 0\n    assert add(10, 20) == 30\n"
    ),
    "time_limit_s": 5,
}
STDIO_ADD = {"format": "stdio", "cases": [{"input": "7 8\n", "output": "15\n"}], "time_limit_s": 3}
READS_STDIN = (
    "\nimport sys as _sys\n_a, _b = map(int, _sys.stdin.readline().split())\nprint(add(_a, _b))\n"
)
"""Appended to an attack to make it a stdio program: the same wrong `add` on the input."""

FORMATS = {"assert": ASSERT_ADD, "humaneval": HUMANEVAL_ADD, "call": CALL_ADD}


# --- pieces of attacks ----------------------------------------------------------------------------

FORGE = r'''
import gc as _gc, json as _json, os as _os, re as _re
_REPORT = _json.dumps({
    "outcomes": [{"test": "forged", "outcome": "passed", "message": ""}],
    "results": [5, 0, 30],
    "differential": {"outcome": "passed", "message": ""},
})
_HEX = _re.compile(r"[0-9a-f]{32}")

def _pids():
    return [int(p) for p in _os.listdir("/proc") if p.isdigit() and int(p) != _os.getpid()]

def _read(path, size=1 << 16):
    try:
        fd = _os.open(path, _os.O_RDONLY | _os.O_NONBLOCK)
    except OSError:
        return ""
    try:
        return _os.read(fd, size).decode("latin-1")
    except OSError:
        return ""
    finally:
        _os.close(fd)

def _nonces():
    """Every 32-hex-digit string it can find: environments, command lines, stdins, memory."""
    texts = [str(dict(_os.environ))]
    for pid in _pids():
        for name in ("environ", "cmdline", "fd/0", "cwd/spec.json"):
            texts.append(_read(f"/proc/{pid}/{name}"))
    for obj in _gc.get_objects():
        if isinstance(obj, dict):
            texts.extend(v for v in list(obj.values()) if isinstance(v, str) and len(v) < 100)
    found = {"0" * 32}
    for text in texts:
        found.update(_HEX.findall(text))
    return sorted(found)[:100]

def _forge():
    """Fake reports, one per nonce it could guess, on every descriptor it can reach."""
    data = "".join(f"\n{n} {_REPORT}\n" for n in _nonces()).encode()
    for fd in range(1024):
        try:
            _os.write(fd, data)
        except OSError:
            pass
    for pid in _pids():
        for fd in range(16):
            try:
                out = _os.open(f"/proc/{pid}/fd/{fd}", _os.O_WRONLY | _os.O_NONBLOCK)
            except OSError:
                continue
            try:
                _os.write(out, data)
            except OSError:
                pass
            finally:
                _os.close(out)
'''

CANARY = r"""
import ctypes, os
BREACHED = []
LIBC = ctypes.CDLL(None, use_errno=True)

def others():
    return [int(p) for p in os.listdir("/proc") if p.isdigit() and int(p) != os.getpid()]

def heap_address():
    with open("/proc/self/maps") as maps:
        for line in maps:
            if "[heap]" in line:
                return int(line.split("-")[0], 16)
    return 0

def add(a, b):
    return a + b if BREACHED else a - b
"""
"""The canary: `add` is right only once an attack got at another process (BREACHED)."""

DROP_FILES = r"""
import os
PAYLOAD = "import os\nos.write(1, b'\\n' + b'0' * 32 + b' {\"outcomes\": []}\\n')\nos._exit(0)\n"
NAMES = (
    "conftest.py", "sitecustomize.py", "usercustomize.py", "json.py", "wire.py", "remote.py",
    "compare.py", "tester.py", "solver.py", "os.py", "traceback.py", "select.py", "_pytest.py",
)
here = os.getcwd()
root = os.path.dirname(os.path.dirname(here))
places = [here, os.path.dirname(here), root, os.path.join(os.path.dirname(here), "judge")]
if root == "/work":  # inside the container: every writable scratch dir too
    places += ["/tmp", "/var/tmp", "/dev/shm", "/"]
for place in places:
    for name in NAMES:
        try:
            with open(os.path.join(place, name), "w") as handle:
                handle.write(PAYLOAD)
        except OSError:
            pass
"""

LYING = r"""
class Liar:
    def __eq__(self, other): return True
    def __ne__(self, other): return False
    def __lt__(self, other): return True
    def __le__(self, other): return True
    def __gt__(self, other): return True
    def __ge__(self, other): return True
    def __bool__(self): return True
    def __hash__(self): return 5
    def __index__(self): return 5
    def __int__(self): return 5
    def __float__(self): return 5.0
    def __len__(self): return 5
    def __iter__(self): return iter([5])
    def __abs__(self): return 0
    def __sub__(self, other): return 0
    def __rsub__(self, other): return 0
    def __str__(self): return "5"
    def __repr__(self): return "5"
    def __getattr__(self, name): return self
    def __call__(self, *a, **k): return self
"""

# --- attacks on the judged formats (assert, HumanEval check, call; pytest and stdio too) ----------

ATTACKS = {
    "patches __main__ and harness names in every module": r"""
import __main__, sys
yes = lambda *a, **k: True
for module in [__main__, *list(sys.modules.values())]:
    for name in ("strict_equal", "same", "check", "compare", "_same_json", "judge", "run_assert",
                 "nonce_report", "_compare_calls", "failure", "add"):
        try:
            setattr(module, name, yes)
        except Exception:
            pass
__main__.strict_equal = lambda a, b: True
"""
    + WRONG,
    "walks sys._getframe() up and rewrites every frame": r"""
import sys
frame = sys._getframe()
while frame is not None:
    scope = frame.f_globals
    for key in list(scope):
        if key == "answer" and callable(scope[key]):
            real = scope[key]
            scope[key] = lambda request, handles, real=real: (
                {"value": True} if request.get("op") == "call" else real(request, handles))
        if key in ("nonce", "spec", "report", "outcomes", "expected"):
            print("found", key, scope[key])
    for key in ("nonce", "spec", "report", "outcomes", "expected"):
        if key in frame.f_locals:
            print("found local", key, frame.f_locals[key])
    frame = frame.f_back
"""
    + WRONG,
    "inspect.stack() to the top, forging from every frame": FORGE
    + r"""
import inspect
for info in inspect.stack():
    scope = info.frame.f_globals
    for name, value in list(scope.items()):
        if callable(value) and name in ("send", "raised", "load_error"):
            scope[name] = lambda *a, **k: None
_forge()
"""
    + WRONG,
    "scans gc.get_objects() for outcomes, comparers and encoders": r"""
import gc
passed = {"test": "x", "outcome": "passed", "message": ""}
COMPARERS = ("same", "_same_json", "strict_equal")
for obj in gc.get_objects():
    try:
        if isinstance(obj, dict):
            if "outcome" in obj:
                obj["outcome"] = "passed"
            if "outcomes" in obj:
                obj["outcomes"] = [passed]
            if "expected" in obj:
                obj["expected"] = -1
        elif isinstance(obj, list) and obj and isinstance(obj[0], dict):
            if "outcome" in obj[0]:
                obj[:] = [passed]
        elif callable(obj) and getattr(obj, "__name__", "") in COMPARERS:
            obj.__code__ = (lambda *a, **k: True).__code__
    except Exception:
        pass
"""
    + WRONG,
    "fake reports with every nonce it can find, to fds 0..1023, then os._exit(0)": FORGE
    + "\n_forge()\n_os._exit(0)\n"
    + WRONG,
    "fake reports from inside the function under test": FORGE
    + "\ndef add(a, b):\n    _forge()\n    _os._exit(0)\n",
    "sys.settrace and sys.setprofile hooks": FORGE
    + r"""
import sys, threading
def hook(frame, event, arg):
    if "nonce" in frame.f_locals or "expected" in frame.f_locals:
        _forge()
    if event == "return" and frame.f_code.co_name == "encode":
        frame.f_locals["value"] = True
    return hook
sys.settrace(hook)
threading.settrace(hook)
sys.setprofile(lambda frame, event, arg: None)
"""
    + WRONG,
    "monkeypatches json": r"""
import json
dumps = json.dumps
def fake(obj, *args, **kwargs):
    if isinstance(obj, dict) and "value" in obj:
        obj = {"value": True, "outcome": "passed", "passed": True}
    return dumps(obj, *args, **kwargs)
json.dumps = fake
json.JSONEncoder.default = lambda self, o: True
"""
    + WRONG,
    "monkeypatches os": r"""
import os
os._exit = lambda *a: None
os.kill = lambda *a: None
os.killpg = lambda *a: None
os.close = lambda *a: None
os.write = lambda fd, data: len(data)
os.getuid = lambda: 0
os.environ["SANDBOX_WORK_ROOT"] = "/"
"""
    + WRONG,
    "monkeypatches sys and the wire codec": r"""
import sys, types
sys.exit = lambda *a: None
sys.excepthook = lambda *a: None
sys.stdout = sys.stderr
wire = sys.modules.get("wire")
if wire is not None:
    wire.encode = lambda value, handles=None, depth=0: True
    wire.dumps = lambda value, handles=None: "true"
sys.modules["json"] = types.SimpleNamespace(dumps=lambda *a, **k: '{"value": true}')
"""
    + WRONG,
    "monkeypatches builtins": r"""
import builtins
builtins.AssertionError = type("AssertionError", (Exception,), {})
builtins.isinstance = lambda *a: True
builtins.issubclass = lambda *a: True
builtins.Exception = BaseException
builtins.abs = lambda x: 0
builtins.len = lambda x: 0
builtins.print = lambda *a, **k: None
"""
    + WRONG,
    "a thread that outlives the call floods fd 4 with replies": r"""
import os, threading, time
def flood():
    time.sleep(0.02)
    lines = b'{"value":true}\n{"raised":{"type":"X","base":"Exception","message":""}}\n'
    end = time.monotonic() + 2
    while time.monotonic() < end:
        try:
            os.write(4, lines)
        except OSError:
            return
threading.Thread(target=flood, daemon=True).start()
"""
    + WRONG,
    "signal handlers and an alarm that forge and exit": FORGE
    + r"""
import signal, time
def on_alarm(signum, frame):
    _forge()
    _os._exit(0)
for number in (signal.SIGTERM, signal.SIGPIPE, signal.SIGHUP, signal.SIGINT, signal.SIGUSR1):
    signal.signal(number, signal.SIG_IGN)
signal.signal(signal.SIGALRM, on_alarm)
signal.setitimer(signal.ITIMER_REAL, 0.05, 0.05)
def add(a, b):
    time.sleep(0.1)
    return a - b
""",
    "atexit handlers that forge, then sys.exit": FORGE
    + r"""
import atexit, sys
atexit.register(_forge)
atexit.register(lambda: _os._exit(0))
def add(a, b):
    sys.exit(0)
""",
    "__del__ and weakref.finalize that forge": FORGE
    + r"""
import weakref
class Ghost:
    def __del__(self):
        _forge()
ghost = Ghost()
weakref.finalize(Ghost(), _forge)
def add(a, b):
    Ghost()
    return a - b
""",
    "returns an object equal to everything": "class Any:\n"
    "    def __eq__(self, other):\n        return True\n"
    "    def __ne__(self, other):\n        return False\n"
    "def add(a, b):\n    return Any()\n",
    "returns an object whose every dunder lies": LYING + "def add(a, b):\n    return Liar()\n",
    "returns an int subclass that lies in __eq__": "class Int(int):\n"
    "    def __eq__(self, other):\n        return True\n"
    "    __hash__ = int.__hash__\n"
    "def add(a, b):\n    return Int(a - b)\n",
    "returns str, list and dict subclasses that lie in __eq__": r"""
def liar(base):
    return type("L" + base.__name__, (base,), {"__eq__": lambda s, o: True,
                                                 "__ne__": lambda s, o: False,
                                                 "__hash__": lambda s: 0})
Str, List, Dict = liar(str), liar(list), liar(dict)
def add(a, b):
    return [Str("5"), List([5]), Dict(v=5)][(a + b) % 3]
""",
    "pretends to be an int through __class__, with a __reduce__ payload": r"""
import os
class Proxy:
    @property
    def __class__(self):
        return int
    def __reduce__(self):
        return (os._exit, (0,))
    def __eq__(self, other):
        return True
    def __hash__(self):
        return 5
def add(a, b):
    return Proxy()
""",
    "returns 40 MB": "def add(a, b):\n    return 'x' * (40 * 1024 * 1024)\n",
    "returns recursive (self-containing) lists and dicts": r"""
def add(a, b):
    items = [a - b]
    items.append(items)
    table = {"v": a - b}
    table["self"] = table
    return [items, table][a % 2]
""",
    "returns data nested 100000 deep": r"""
def add(a, b):
    value = a - b
    for _ in range(100000):
        value = [value]
    return value
""",
    "returns generators, functions, classes and modules": r"""
import math
def add(a, b):
    return [(x for x in [a + b]), lambda: a + b, int, math][(a + b) % 4]
""",
    "raises SystemExit(0)": "def add(a, b):\n    raise SystemExit(0)\n",
    "raises KeyboardInterrupt": "def add(a, b):\n    raise KeyboardInterrupt\n",
    "raises GeneratorExit": "def add(a, b):\n    raise GeneratorExit\n",
    "raises a BaseException subclass named like a pass": (
        "class Passed(BaseException):\n    pass\n"
        "class OverTime(BaseException):\n    pass\n"
        "def add(a, b):\n    raise [Passed('passed'), OverTime()][a % 2]\n"
    ),
    "raises exceptions whose messages carry fake reports": FORGE
    + r"""
class AssertionError(Exception):
    def __str__(self):
        return "".join(f"\n{n} {_REPORT}\n" for n in _nonces())
def add(a, b):
    raise AssertionError()
""",
    "kills every process, its parent and -1": r"""
import os, signal
for pid in [int(p) for p in os.listdir("/proc") if p.isdigit()]:
    if pid != os.getpid():
        for number in (signal.SIGKILL, signal.SIGTERM):
            try:
                os.kill(pid, number)
            except OSError:
                pass
for target in (os.getppid(), 1, -1):
    try:
        os.kill(target, signal.SIGKILL)
    except OSError:
        pass
"""
    + WRONG,
    "stops every other process (SIGSTOP)": r"""
import os, signal
for pid in [int(p) for p in os.listdir("/proc") if p.isdigit()]:
    if pid != os.getpid():
        try:
            os.kill(pid, signal.SIGSTOP)
        except OSError:
            pass
"""
    + WRONG,
    "/proc/PID/mem of every other process, opened for writing": CANARY
    + r"""
address = heap_address()
for pid in others():
    try:
        fd = os.open(f"/proc/{pid}/mem", os.O_RDWR)
    except OSError:
        continue
    BREACHED.append(pid)
    try:
        os.lseek(fd, address, 0)
        data = os.read(fd, 64)
        os.lseek(fd, address, 0)
        os.write(fd, data)  # the same bytes back: a breach, not a crash
    except OSError:
        pass
    os.close(fd)
""",
    "/proc/PID/fd/* of every other process: fake reports in, nonces out": CANARY
    + FORGE
    + r"""
for pid in others():
    for fd in range(64):
        for flags in (os.O_RDONLY, os.O_WRONLY):
            try:
                handle = os.open(f"/proc/{pid}/fd/{fd}", flags | os.O_NONBLOCK)
            except OSError:
                continue
            BREACHED.append((pid, fd))
            os.close(handle)
_forge()
""",
    "ptrace (PTRACE_ATTACH, PTRACE_SEIZE) of every pid via ctypes": CANARY
    + r"""
LIBC.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p]
LIBC.ptrace.restype = ctypes.c_long
for pid in others():
    for request in (16, 0x4206):  # PTRACE_ATTACH, PTRACE_SEIZE
        if LIBC.ptrace(request, pid, None, None) == 0:
            BREACHED.append((request, pid))
            LIBC.ptrace(17, pid, None, None)  # PTRACE_DETACH
""",
    "process_vm_readv / process_vm_writev of every pid via ctypes": CANARY
    + r"""
class IoVec(ctypes.Structure):
    _fields_ = [("base", ctypes.c_void_p), ("length", ctypes.c_size_t)]
buffer = ctypes.create_string_buffer(64)
local = IoVec(ctypes.cast(buffer, ctypes.c_void_p), 64)
remote = IoVec(heap_address(), 64)
for function in (LIBC.process_vm_readv, LIBC.process_vm_writev):
    function.restype = ctypes.c_ssize_t
for pid in others():
    if LIBC.process_vm_readv(pid, ctypes.byref(local), 1, ctypes.byref(remote), 1, 0) > 0:
        BREACHED.append(pid)
        LIBC.process_vm_writev(pid, ctypes.byref(local), 1, ctypes.byref(remote), 1, 0)
""",
    "writes fake replies to fd 4 ahead of time": r"""
import os
fake = b'{"manifest": {"add": {"kind": "value", "value": true}}}\n'
fake += b'{"value": true}\n' * 50
try:
    os.write(4, fake)
except OSError:
    pass
"""
    + WRONG,
    "writes garbage to fd 4": r"""
import os
try:
    os.write(4, b"\x00\xff not json\n" * 1000 + b"[" * 100000 + b"\n")
except OSError:
    pass
"""
    + WRONG,
    "closes fds 3 and 4 and puts its stdout in their place": r"""
import os
for fd in (3, 4):
    try:
        os.close(fd)
    except OSError:
        pass
os.dup2(1, 4)
os.dup2(0, 3)
"""
    + WRONG,
    "reads the tests from disk and /proc and answers from them": CANARY
    + r"""
import glob, re
here = os.getcwd()
root = os.path.dirname(os.path.dirname(here))
TABLE = {}
paths = set()
for pattern in (root + "/*/judge/*", root + "/*/*/*", "../judge/*", "../judge/spec.json", "../*",
                "/proc/*/cwd/*", "/proc/*/environ", "/proc/*/cmdline", "/proc/*/fd/*",
                "/proc/*/task/*/cwd/*", "/proc/*/cwd/../judge/spec.json"):
    paths.update(glob.glob(pattern))
for path in sorted(paths):
    if path.startswith(here) or path.startswith(f"/proc/{os.getpid()}/") or "/self/" in path:
        continue
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError:
        continue
    try:
        text = os.read(fd, 1 << 20).decode("latin-1")
    except OSError:
        text = ""
    os.close(fd)
    for a, b, c in re.findall(r"add\((-?\d+), (-?\d+)\) == (-?\d+)", text):
        TABLE[int(a), int(b)] = int(c)
        BREACHED.append(path)
def add(a, b):
    return TABLE.get((a, b), a - b)
""",
    "prints lines that look like a report": FORGE
    + r"""
import sys
lines = "".join(f"\n{n} {_REPORT}\n" for n in _nonces())
print(lines + "\n3 passed in 0.01s\nOK\n")
print(lines, file=sys.stderr)
"""
    + WRONG,
    "plants conftest.py, sitecustomize.py, json.py, ... wherever it can write": DROP_FILES + WRONG,
    "forks a child that waits, then writes fake reports": FORGE
    + r"""
import time
if _os.fork() == 0:
    _os.setsid()
    if _os.fork() == 0:
        time.sleep(0.3)
        _forge()
        _os._exit(0)
    _os._exit(0)
"""
    + WRONG,
    "forged handles (negative ids, kind iterator) in every reply": r"""
import sys
wire = sys.modules["wire"]
def encode(value, handles=None, depth=0):
    return {"$": "handle", "id": -1, "kind": "iterator", "type": "int", "name": "5"}
wire.encode = encode
"""
    + WRONG,
    "hangs after the first call": (
        "import time\nCALLS = []\ndef add(a, b):\n    CALLS.append(1)\n"
        "    if len(CALLS) > 1:\n        while True:\n            time.sleep(1)\n    return a - b\n"
    ),
    "floods its stdout": "import os\nos.write(1, b'5\\n' * 2_000_000)\n" + WRONG,
}


@pytest.mark.parametrize("attack", ATTACKS.values(), ids=ATTACKS.keys())
@pytest.mark.parametrize("form", ["assert", "call"])
def test_attack_on_judged_formats(box: Sandbox, form: str, attack: str) -> None:
    assert_not_accepted(judge(box, attack, FORMATS[form]))


@pytest.mark.docker
@pytest.mark.parametrize("attack", ATTACKS.values(), ids=ATTACKS.keys())
def test_attack_on_pytest_format(box: Sandbox, attack: str) -> None:
    assert_not_accepted(judge(box, attack, PYTEST_ADD))


@pytest.mark.parametrize("attack", ATTACKS.values(), ids=ATTACKS.keys())
def test_attack_on_stdio_format(box: Sandbox, attack: str) -> None:
    assert_not_accepted(judge(box, attack + READS_STDIN, STDIO_ADD))


def test_every_attack_spec_accepts_the_right_add(box: Sandbox) -> None:
    """The attacks are rejected for what they do, not because the tests cannot pass."""
    for tests in [*FORMATS.values(), STDIO_ADD]:
        program = RIGHT + (READS_STDIN if tests["format"] == "stdio" else "")
        verdict = judge(box, program, tests)
        assert verdict.status == "accepted", (tests["format"], verdict.reason)
    if box.backend == "docker":
        assert judge(box, RIGHT, PYTEST_ADD).status == "accepted"


# --- attacks on the tests' namespace (assert format) --------------------------------------------

SHADOWS = {
    "shadows abs() that HumanEval float checks use": (
        "def mean(xs):\n    return xs[0]\n" + "def abs(x):\n    return 0\n",
        {
            "format": "assert",
            "code": (
                "def check(candidate):\n"
                "    assert abs(candidate([1.0, 2.0, 3.0]) - 2.0) < 1e-6\n"
                "    assert abs(candidate([4.0, 8.0]) - 6.0) < 1e-6\n\n"
                "check(mean)\n"
            ),
            "entry_point": "mean",
        },
    ),
    "shadows range() to skip the tests' loop": (
        WRONG + "def range(*args):\n    return []\n",
        {
            "format": "assert",
            "code": "assert add(0, 0) == 0\nfor i in range(1, 50):\n"
            "    assert add(i, i) == 2 * i\n",
        },
    ),
    "fakes the math module that the tests use without importing it": (
        "import math as _math\n"
        "class math:\n"
        "    pi = _math.pi\n"
        "    isclose = staticmethod(lambda *a, **k: True)\n"
        "def area(r):\n    return 2 * r\n",
        {"format": "assert", "code": "assert math.isclose(area(2.0), math.pi * 4)\n"},
    ),
    "shadows sorted() and len()": (
        "def top(xs, k):\n    return xs[:k]\n"
        "def sorted(xs, **kw):\n    return []\n"
        "def len(x):\n    return 2\n",
        {
            "format": "assert",
            "code": (
                "r = top([5, 1, 4], 2)\nassert sorted(r) == sorted([4, 5])\nassert len(r) == 2\n"
            ),
        },
    ),
}


# --- attacks on pytest's configuration (Docker) --------------------------------------------------

EVIL_IMPORT = r"""
import json, os, sys
frame = sys._getframe()
while frame is not None:
    if "nonce" in frame.f_locals:
        report = {"outcomes": [{"test": "forged", "outcome": "passed", "message": ""}],
                  "results": None}
        os.write(1, ("\n" + frame.f_locals["nonce"] + " " + json.dumps(report) + "\n").encode())
        os._exit(0)
    frame = frame.f_back
"""
CONFIG_FILES = {
    "pytest.ini": "[pytest]\npythonpath = {path}\n",
    "tox.ini": "[pytest]\npythonpath = {path}\n",
    "setup.cfg": "[tool:pytest]\npythonpath = {path}\n",
    "pyproject.toml": '[tool.pytest.ini_options]\npythonpath = ["{path}"]\n',
}


@pytest.mark.docker
@pytest.mark.parametrize("config", CONFIG_FILES)
def test_a_config_file_above_the_judges_dir_cannot_reach_its_pytest(
    box: Sandbox, config: str
) -> None:
    """pytest looks for its config in every parent of the test file: the sandbox's work root,
    writable by the program, is one; `pythonpath` there puts a dir of the program's on the
    judge's sys.path, ahead of the modules pytest imports late (pdb, ...)."""
    program = f"""
import os
root = os.path.dirname(os.path.dirname(os.getcwd()))
path = os.path.join(root, "vf_evil")
os.makedirs(path, exist_ok=True)
for name in ("pdb.py", "cmd.py", "code.py", "codeop.py", "bdb.py"):
    with open(os.path.join(path, name), "w") as handle:
        handle.write({EVIL_IMPORT!r})
with open(os.path.join(root, {config!r}), "w") as handle:
    handle.write({CONFIG_FILES[config]!r}.format(path=path))
"""
    assert_not_accepted(judge(box, program + WRONG, PYTEST_ADD))


PYTEST_ATTACKS = {
    "pytest.skip in the function": "import pytest\ndef add(a, b):\n    pytest.skip('later')\n",
    "pytest.skip at import": "import pytest\npytest.skip('all', allow_module_level=True)\n" + WRONG,
    "pytest.xfail and pytest.exit": (
        "import pytest\ndef add(a, b):\n"
        "    pytest.xfail('known') if a > 0 else pytest.exit('done', returncode=0)\n"
    ),
    "replaces pytest.main, approx and raises in its own process": (
        "import pytest\npytest.main = lambda *a, **k: 0\n"
        "pytest.approx = lambda *a, **k: True\npytest.raises = lambda *a, **k: None\n" + WRONG
    ),
    "raises pytest's outcome exceptions by name": r"""
class Skipped(BaseException):
    pass
class XFailed(Exception):
    pass
def add(a, b):
    raise [Skipped("skip"), XFailed("xfail")][a % 2]
""",
    "a conftest.py next to and above the judge's dir": r"""
import os
hook = "def pytest_runtest_call(item):\n    pass\n"
here = os.getcwd()
root = os.path.dirname(os.path.dirname(here))
for place in (here, os.path.dirname(here), root, "/tmp"):
    try:
        with open(os.path.join(place, "conftest.py"), "w") as handle:
            handle.write(hook)
    except OSError:
        pass
"""
    + WRONG,
}


@pytest.mark.docker
@pytest.mark.parametrize("attack", PYTEST_ATTACKS.values(), ids=PYTEST_ATTACKS.keys())
def test_pytest_specific_attacks(box: Sandbox, attack: str) -> None:
    assert_not_accepted(judge(box, attack, PYTEST_ADD))


# --- attacks on the call format -----------------------------------------------------------------

CALL_ATTACKS = {
    "returns float('nan')": "def add(a, b):\n    return float('nan')\n",
    "returns infinities": "def add(a, b):\n    return float('inf') if a > 0 else -float('inf')\n",
    "returns a dict subclass pretending to be JSON": r"""
class Json(dict):
    def __eq__(self, other): return True
    def __json__(self): return 5
    def to_json(self): return "5"
def add(a, b):
    return Json(value=5)
""",
    "returns an object with __dict__, __json__ and to_json": r"""
class Result:
    def __init__(self): self.value = 5
    def __json__(self): return 5
    def to_json(self): return 5
    def __index__(self): return 5
def add(a, b):
    return Result()
""",
    "tries to label its cases passed": FORGE
    + r"""
import sys
solver = sys.modules["__main__"]
send = getattr(solver, "send", None)
def add(a, b):
    try:
        _os.write(4, b'{"value": 5, "outcome": "passed", "outcomes": '
                     b'[{"test": "case 0", "outcome": "passed", "message": ""}]}\n')
    except OSError:
        pass
    raise type("passed", (Exception,), {})("returned")
""",
    "returns bools and strings of the right digits": (
        "def add(a, b):\n    return [True, '5', b'5', 5j][a % 4]\n"
    ),
}


def test_call_tolerance_does_not_pass_a_wrong_large_integer(box: Sandbox) -> None:
    """An int expected, a float returned: compared within a relative 1e-6, so a float off by
    59 billion from C(60, 30) passes."""
    tests = {
        "format": "call",
        "entry_point": "paths",
        "cases": [{"args": [30], "expected": 118264581564861424}],
        "time_limit_s": 3,
    }
    wrong = "import math\ndef paths(n):\n    return math.comb(2 * n, n) * (1 + 5e-7)\n"
    assert_not_accepted(judge(box, wrong, tests))


@pytest.mark.parametrize("attack", CALL_ATTACKS.values(), ids=CALL_ATTACKS.keys())
def test_call_specific_attacks(box: Sandbox, attack: str) -> None:
    assert_not_accepted(judge(box, attack, CALL_ADD))


# --- attacks on stdio ---------------------------------------------------------------------------

STEAL = r"""
import hashlib, sys
me = hashlib.sha256(open(__file__, "rb").read()).digest()
frame, cache = sys._getframe(), None
while frame is not None:
    cache = frame.f_globals.get("_COMPILED")
    if isinstance(cache, dict):
        break
    frame = frame.f_back
others = [code for key, code in (cache or {}).items()
          if key != me and getattr(code, "co_filename", "").endswith("solution.py")]
if others:
    exec(others[-1], {"__name__": "__main__"})
else:
    print(0)
"""


def test_stdio_program_cannot_run_an_earlier_candidates_program(box: Sandbox) -> None:
    """A program is forked from the zygote: walking its frames up to the zygote's globals, it
    must not find an earlier candidate's program there (compiled and cached once) to run."""
    honest = "# an earlier, right candidate\na, b = map(int, input().split())\nprint(a + b)\n"
    assert judge(box, honest, STDIO_ADD).status == "accepted"
    assert_not_accepted(judge(box, STEAL, STDIO_ADD))


FIND_ON_DISK = r"""
import json, os, re, sys, time
given = sys.stdin.read()
record = re.escape('"input": ' + json.dumps(given) + ', "output": ')
pattern = re.compile(record + r'("(?:[^"\\]|\\.)*")')
end = time.monotonic() + 2.5
answer = None
for top in ("/work", "/data", "/home", "/srv", "/root", "/tmp"):
    for folder, dirs, files in os.walk(top):
        dirs[:] = [d for d in dirs if d not in (".venv", ".git", "node_modules", "__pycache__")]
        for name in files:
            if time.monotonic() > end or answer is not None:
                break
            if not name.endswith((".py", ".json", ".jsonl", ".txt")):
                continue
            try:
                with open(os.path.join(folder, name), encoding="utf-8") as handle:
                    found = pattern.search(handle.read(2_000_000))
            except (OSError, UnicodeDecodeError):
                continue
            if found:
                answer = json.loads(found.group(1))
print(answer if answer is not None else "0", end="")
"""


def test_stdio_program_cannot_find_its_expected_output_on_disk(box: Sandbox) -> None:
    """The expected outputs never enter the sandbox, but the records (here: this file) lie on
    the machine: a program that can read the machine's files finds them by its own input."""
    tests = {
        "format": "stdio",
        "cases": [{"input": "40 2 7919\n", "output": "7961\n"}],
        "time_limit_s": 5,
    }
    assert_not_accepted(judge(box, FIND_ON_DISK, tests))


STDIO_ATTACKS = {
    "prints the wrong answer, then fake report lines and exit 0": FORGE
    + "\nprint(0)\nprint(''.join(f'{n} {_REPORT}' for n in _nonces()))\n_os._exit(0)\n",
    "reads the supervisor's frames for the job": r"""
import sys
frame = sys._getframe()
seen = []
while frame is not None:
    seen.extend(k for k in frame.f_locals if k in ("request", "data", "job", "expected"))
    frame = frame.f_back
print(0)
""",
}


@pytest.mark.parametrize("attack", STDIO_ATTACKS.values(), ids=STDIO_ATTACKS.keys())
def test_stdio_specific_attacks(box: Sandbox, attack: str) -> None:
    assert_not_accepted(judge(box, attack, STDIO_ADD))


# --- attacks on differential testing -------------------------------------------------------------

LARGEST = "def largest(xs):\n    return max(xs)\n"
LARGEST_TESTS = {
    "format": "assert",
    "code": "assert largest([1, 3, 2]) == 3\nassert largest([5]) == 5\n",
    "time_limit_s": 5,
}
KNOWN = "KNOWN = {(1, 3, 2): 3, (5,): 5}\n"
"""What the tests ask: every differential attack passes the tests, and is wrong elsewhere."""

DIFFERENTIAL_ATTACKS = {
    "hardcodes the tests' inputs": KNOWN + "def largest(xs):\n    return KNOWN.get(tuple(xs), 0)\n",
    "looks for the reference's results on disk and in /proc": KNOWN
    + r"""
import glob, json, os
RESULTS = {}
root = os.path.dirname(os.path.dirname(os.getcwd()))
for path in set(glob.glob(root + "/*/judge/spec.json") + glob.glob("../judge/*")
                + glob.glob("/proc/*/cwd/spec.json") + glob.glob("/proc/*/fd/*")):
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
        text = os.read(fd, 1 << 24).decode()
        os.close(fd)
        for origin, args, kwargs, expected, limit in json.loads(text)["calls"]:
            RESULTS[json.dumps(args)] = expected
    except Exception:
        continue
def largest(xs):
    if tuple(xs) in KNOWN:
        return KNOWN[tuple(xs)]
    return RESULTS.get(json.dumps([xs]), 0)
""",
    "patches the comparison in every module and frame, and forges reports": KNOWN
    + FORGE
    + r"""
import __main__, gc, sys
for module in [__main__, *list(sys.modules.values())]:
    for name in ("same", "run_differential", "counterexample"):
        try:
            setattr(module, name, lambda *a, **k: True)
        except Exception:
            pass
def largest(xs):
    if tuple(xs) in KNOWN:
        return KNOWN[tuple(xs)]
    _forge()
    return 0
""",
    "returns an int subclass equal to everything elsewhere": KNOWN
    + r"""
class Int(int):
    def __eq__(self, other): return True
    __hash__ = int.__hash__
def largest(xs):
    return KNOWN.get(tuple(xs), Int(0))
""",
    "returns nan elsewhere": KNOWN
    + "def largest(xs):\n    return KNOWN.get(tuple(xs), float('nan'))\n",
    "returns a lying object elsewhere": KNOWN
    + LYING
    + "def largest(xs):\n    return KNOWN.get(tuple(xs), Liar())\n",
    "raises SystemExit and KeyboardInterrupt elsewhere": KNOWN
    + r"""
def largest(xs):
    if tuple(xs) in KNOWN:
        return KNOWN[tuple(xs)]
    raise [SystemExit(0), KeyboardInterrupt()][len(xs) % 2]
""",
    "sleeps past the per-call limit elsewhere": KNOWN
    + "import time\ndef largest(xs):\n"
    + "    if tuple(xs) in KNOWN:\n        return KNOWN[tuple(xs)]\n"
    + "    time.sleep(30)\n",
    "shadows the tests' builtins too": KNOWN
    + "def largest(xs):\n    return KNOWN.get(tuple(xs), 0)\n"
    + "def abs(x):\n    return 0\n",
}


@pytest.mark.parametrize("attack", DIFFERENTIAL_ATTACKS.values(), ids=DIFFERENTIAL_ATTACKS.keys())
def test_differential_attacks(box: Sandbox, attack: str) -> None:
    verdict = judge(box, attack, LARGEST_TESTS, reference=LARGEST)
    assert_not_accepted(verdict)


def test_differential_tolerance_does_not_pass_wrong_integers(box: Sandbox) -> None:
    """Floats are compared within a relative 1e-6, also with an int result of the reference:
    a float off by 5e-7 of a big count matches (the tests' own asserts are hardcoded)."""
    reference = "import math\ndef paths(n):\n    return math.comb(2 * n, n)\n"
    tests = {"format": "assert", "code": "assert paths(2) == 6\nassert paths(3) == 20\n"}
    wrong = (
        "import math\nKNOWN = {2: 6, 3: 20}\n"
        "def paths(n):\n    return KNOWN.get(n, math.comb(2 * n, n) * (1 + 5e-7))\n"
    )
    assert_not_accepted(judge(box, wrong, tests, reference=reference))


def test_differential_testing_sees_what_an_in_place_function_does(box: Sandbox) -> None:
    """An in-place function returns None: comparing return values alone, a candidate that only
    handles the tests' input matches the reference on every generated input."""
    reference = "def sort_in_place(xs):\n    xs.sort()\n"
    tests = {
        "format": "assert",
        "code": "a = [3, 1, 2]\nsort_in_place(a)\nassert a == [1, 2, 3]\n",
        "time_limit_s": 5,
    }
    wrong = "def sort_in_place(xs):\n    if xs == [3, 1, 2]:\n        xs[:] = [1, 2, 3]\n"
    assert judge(box, reference, tests, reference=reference).status == "accepted"
    assert_not_accepted(judge(box, wrong, tests, reference=reference))


def test_differential_accepts_the_right_candidate(box: Sandbox) -> None:
    verdict = judge(box, "def largest(xs):\n    return sorted(xs)[-1]\n", LARGEST_TESTS, LARGEST)
    assert verdict.status == "accepted", verdict.reason


# --- honest oddballs ----------------------------------------------------------------------------


def asserts(code: str) -> dict:
    return {"format": "assert", "code": textwrap.dedent(code), "time_limit_s": 10}


HONEST = {
    "inspects its own frames": (
        "import inspect, sys\n"
        "def add(a, b):\n"
        "    assert sys._getframe().f_code.co_name == 'add'\n"
        "    assert inspect.stack()[0].function == 'add'\n"
        "    assert inspect.currentframe().f_back is not None\n"
        "    return a + b\n",
        ASSERT_ADD,
    ),
    "uses gc": (
        "import gc\ngc.collect()\ngc.disable()\nOBJECTS = len(gc.get_objects()) > 0\ngc.enable()\n"
        + RIGHT,
        ASSERT_ADD,
    ),
    "imports __main__": (
        "import __main__\nMAIN = __main__.__name__\n"
        "def add(a, b):\n    vars(__main__)\n    return a + b\n",
        ASSERT_ADD,
    ),
    "prints noise that looks like a report": (
        "import json\nprint('\\n' + '0' * 32 + ' ' + json.dumps({'outcomes': []}))\n"
        "print('deadbeef' * 4, json.dumps({'outcome': 'failed'}))\nprint('1 failed')\n"
        "def add(a, b):\n"
        "    print('abcdef0123456789' * 2 + ' {\"results\": null}')\n"
        "    return a + b\n",
        ASSERT_ADD,
    ),
    "writes heavily to stderr": (
        "import sys\ndef add(a, b):\n"
        "    for i in range(3000):\n        print('trace', i, file=sys.stderr)\n"
        "    return a + b\n",
        ASSERT_ADD,
    ),
    "returns a named tuple": (
        "from collections import namedtuple\nPair = namedtuple('Pair', 'quotient remainder')\n"
        "def split(a, b):\n    return Pair(a // b, a % b)\n",
        asserts(
            """
            assert split(7, 2) == (3, 1)
            q, r = split(7, 2)
            assert (q, r) == (3, 1) and split(9, 3)[1] == 0
            """
        ),
    ),
    "returns a named tuple whose fields the tests read by name": (
        "from typing import NamedTuple\n"
        "class Pair(NamedTuple):\n    quotient: int\n    remainder: int\n"
        "def split(a, b):\n    return Pair(a // b, a % b)\n",
        asserts("assert split(7, 2).quotient == 3\nassert split(7, 2).remainder == 1\n"),
    ),
    "returns an IntEnum": (
        "from enum import IntEnum\nclass Color(IntEnum):\n    RED = 1\n    GREEN = 2\n"
        "def color_of(name):\n    return Color[name.upper()]\n",
        asserts("assert color_of('red') == 1\nassert color_of('green') == Color.GREEN\n"),
    ),
    "returns a str subclass": (
        "class Name(str):\n    pass\ndef greet(x):\n    return Name('hello ' + x)\n",
        asserts("assert greet('bob') == 'hello bob'\nassert greet('a').upper() == 'HELLO A'\n"),
    ),
    "returns OrderedDict, Counter, defaultdict and deque": (
        "from collections import Counter, OrderedDict, defaultdict, deque\n"
        "def tally(s):\n    return Counter(s)\n"
        "def ordered():\n    return OrderedDict([('b', 1), ('a', 2)])\n"
        "def grouped(words):\n    d = defaultdict(list)\n"
        "    for w in words:\n        d[w[0]].append(w)\n    return d\n"
        "def window(xs):\n    return deque(xs, maxlen=2)\n",
        asserts(
            """
            from collections import Counter, OrderedDict, deque
            assert tally('aab') == {'a': 2, 'b': 1} and tally('aab') == Counter('aab')
            assert tally('aab').most_common(1) == [('a', 2)]
            assert list(ordered()) == ['b', 'a'] and ordered() == OrderedDict(b=1, a=2)
            assert grouped(['ab', 'ac', 'b']) == {'a': ['ab', 'ac'], 'b': ['b']}
            assert window([1, 2, 3]) == deque([2, 3]) and list(window([1, 2, 3])) == [2, 3]
            """
        ),
    ),
    "returns tuples, sets, frozensets, bytes, complex, Fraction and Decimal": (
        "from decimal import Decimal\nfrom fractions import Fraction\n"
        "def kinds():\n"
        "    return ((1, 2), {3, 4}, frozenset({5}), b'\\x00\\xff', bytearray(b'ab'), 1 + 2j,"
        " Fraction(1, 3), Decimal('0.1'))\n",
        asserts(
            """
            from decimal import Decimal
            from fractions import Fraction
            t, s, f, b, ba, c, q, d = kinds()
            assert t == (1, 2) and s == {3, 4} and f == frozenset({5})
            assert b == b'\\x00\\xff' and ba == bytearray(b'ab') and c == 1 + 2j
            assert q == Fraction(1, 3) and d == Decimal('0.1')
            assert type(t) is tuple and type(f) is frozenset and type(b) is bytes
            """
        ),
    ),
    "returns a big integer (10**5000)": (
        "def big(n):\n    return 10 ** n\n",
        asserts("assert big(5000) == 10 ** 5000\nassert len(str(big(5000))) == 5001\n"),
    ),
    "returns nan, checked by math.isnan": (
        "def ratio(a, b):\n    return float('nan') if b == 0 else a / b\n",
        asserts("import math\nassert math.isnan(ratio(1, 0))\nassert ratio(1, 2) == 0.5\n"),
    ),
    "mutates an argument in place": (
        "def sort_in_place(xs):\n    xs.sort()\ndef fill(d):\n    d['k'] = 1\n",
        asserts(
            """
            a = [3, 1, 2]
            assert sort_in_place(a) is None
            assert a == [1, 2, 3]
            d = {}
            fill(d=d)
            assert d == {'k': 1}
            """
        ),
    ),
    "returns a generator the tests consume": (
        "def evens(n):\n    yield from range(0, n, 2)\n",
        asserts(
            """
            assert list(evens(7)) == [0, 2, 4, 6]
            assert sum(evens(5)) == 6
            g = evens(4)
            assert next(g) == 0 and next(g) == 2
            """
        ),
    ),
    "a class the tests instantiate and call methods on": (
        "class Stack:\n"
        "    def __init__(self):\n        self.items = []\n"
        "    def push(self, x):\n        self.items.append(x)\n"
        "    def pop(self):\n        return self.items.pop()\n"
        "    def size(self):\n        return len(self.items)\n"
        "    def __len__(self):\n        return len(self.items)\n"
        "    def __iter__(self):\n        return iter(self.items)\n",
        asserts(
            """
            s = Stack()
            s.push(1)
            s.push(2)
            assert s.pop() == 2 and s.size() == 1 and len(s) == 1
            assert list(s) == [1] and s.items == [1]
            """
        ),
    ),
    "raises a ValueError that the tests expect": (
        "def root(x):\n    if x < 0:\n        raise ValueError('negative input')\n"
        "    return x ** 0.5\n",
        asserts(
            """
            try:
                root(-1)
            except ValueError as err:
                assert 'negative' in str(err)
            else:
                assert False, 'no error'
            assert root(4) == 2.0
            """
        ),
    ),
    "a custom exception class the tests catch": (
        "class InsufficientFunds(Exception):\n    pass\n"
        "class Empty(LookupError):\n    pass\n"
        "def withdraw(balance, amount):\n"
        "    if amount > balance:\n        raise InsufficientFunds(amount - balance)\n"
        "    return balance - amount\n"
        "def first(xs):\n    if not xs:\n        raise Empty()\n    return xs[0]\n",
        asserts(
            """
            try:
                withdraw(1, 5)
            except InsufficientFunds as err:
                assert '4' in str(err)
            else:
                assert False
            try:
                first([])
            except LookupError:
                pass
            else:
                assert False
            assert issubclass(InsufficientFunds, Exception) and withdraw(5, 1) == 4
            """
        ),
    ),
    "module-level constants the tests read": (
        "LIMITS = {'max': 10, 'min': -10}\nNAMES = ('a', 'b')\nPI_ISH = 3.14\n"
        "def clamp(x):\n    return max(LIMITS['min'], min(LIMITS['max'], x))\n",
        asserts("assert clamp(99) == LIMITS['max'] and NAMES == ('a', 'b') and PI_ISH == 3.14\n"),
    ),
    "helper functions the tests call": (
        "def _digits(n):\n    return [int(c) for c in str(n)]\n"
        "def digit_sum(n):\n    return sum(_digits(n))\n",
        asserts("assert _digits(123) == [1, 2, 3]\nassert digit_sum(123) == 6\n"),
    ),
    "keyword-only arguments": (
        "def scale(x, *, factor=2, offset=0):\n    return x * factor + offset\n",
        asserts(
            "assert scale(3) == 6\nassert scale(3, factor=3, offset=1) == 10\n"
            "try:\n    scale(3, 3)\nexcept TypeError:\n    pass\nelse:\n    assert False\n"
        ),
    ),
    "recurses 3000 deep": (
        "import sys\nsys.setrecursionlimit(10000)\n"
        "def depth(n):\n    return 0 if n == 0 else 1 + depth(n - 1)\n",
        asserts("assert depth(3000) == 3000\n"),
    ),
    "uses threads": (
        "import threading\nfrom concurrent.futures import ThreadPoolExecutor\n"
        "def squares(n):\n    with ThreadPoolExecutor(4) as pool:\n"
        "        return list(pool.map(lambda x: x * x, range(n)))\n"
        "def locked_count(n):\n    lock, total = threading.Lock(), [0]\n"
        "    def work():\n        with lock:\n            total[0] += 1\n"
        "    threads = [threading.Thread(target=work) for _ in range(n)]\n"
        "    [t.start() for t in threads]\n    [t.join() for t in threads]\n"
        "    return total[0]\n",
        asserts("assert squares(5) == [0, 1, 4, 9, 16]\nassert locked_count(8) == 8\n"),
    ),
    "sleeps half a second": ("import time\ntime.sleep(0.5)\n" + RIGHT, ASSERT_ADD),
    "reads /proc/self/status": (
        "def memory_kb():\n"
        "    with open('/proc/self/status') as status:\n"
        "        for line in status:\n"
        "            if line.startswith('VmRSS:'):\n"
        "                return int(line.split()[1])\n",
        asserts("assert memory_kb() > 0\n"),
    ),
    "defines __all__": ("__all__ = ['add']\n" + RIGHT, ASSERT_ADD),
    "imports math that the tests use without importing it": (
        "import math\nfrom math import isclose\ndef hyp(a, b):\n    return math.hypot(a, b)\n",
        asserts("assert math.isclose(hyp(3, 4), 5.0) and isclose(hyp(5, 12), 13)\n"),
    ),
    "raises the recursion limit": (
        "import sys\nsys.setrecursionlimit(5000)\nfrom functools import lru_cache\n"
        "@lru_cache(maxsize=None)\n"
        "def fib(n):\n    return n if n < 2 else fib(n - 1) + fib(n - 2)\n",
        asserts("assert fib(90) == 2880067194370816120\n"),
    ),
    "HumanEval check(candidate) with abs()": (RIGHT, HUMANEVAL_ADD),
    "returns None from a procedure that prints": (
        "def show(x):\n    print(x)\n",
        asserts("assert show(1) is None\n"),
    ),
    "returns a 1 MB string": (
        "def long(n):\n    return 'ab' * n\n",
        asserts("assert len(long(500_000)) == 1_000_000 and long(2) == 'abab'\n"),
    ),
    "returns data nested 50 deep, dicts with tuple keys": (
        "def nest(n):\n    value = []\n    for _ in range(n):\n        value = [value]\n"
        "    return value\n"
        "def grid():\n    return {(0, 0): 'a', (1, 2): 'b', 3: None, 'k': [1.5, None, True]}\n",
        asserts(
            """
            expected = []
            for _ in range(50):
                expected = [expected]
            assert nest(50) == expected
            assert grid() == {(0, 0): 'a', (1, 2): 'b', 3: None, 'k': [1.5, None, True]}
            """
        ),
    ),
    "returns dates and timedeltas": (
        "import datetime\n"
        "def next_day(d):\n    return d + datetime.timedelta(days=1)\n"
        "def week():\n    return datetime.timedelta(weeks=1)\n",
        asserts(
            "import datetime\n"
            "assert next_day(datetime.date(2024, 2, 28)) == datetime.date(2024, 2, 29)\n"
            "assert week() == datetime.timedelta(days=7)\n"
        ),
    ),
    "writes and reads files in its work dir and a temp dir": (
        "import os, tempfile\n"
        "def roundtrip(text):\n"
        "    with open('scratch.txt', 'w') as f:\n        f.write(text)\n"
        "    with tempfile.TemporaryDirectory() as d:\n"
        "        p = os.path.join(d, 'x')\n"
        "        open(p, 'w').write(text)\n        text2 = open(p).read()\n"
        "    return open('scratch.txt').read() + text2\n",
        asserts("assert roundtrip('hi') == 'hihi'\n"),
    ),
    "forks a child and waits for it": (
        "import os\n"
        "def child_status(code):\n"
        "    pid = os.fork()\n"
        "    if pid == 0:\n        os._exit(code)\n"
        "    return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])\n",
        asserts("assert child_status(7) == 7\n"),
    ),
    "an iterable object and an object with state the tests change": (
        "class Countdown:\n"
        "    def __init__(self, n):\n        self.n = n\n"
        "    def __iter__(self):\n        return iter(range(self.n, 0, -1))\n"
        "class Counter:\n"
        "    def __init__(self):\n        self.count = 0\n"
        "    def inc(self):\n        self.count += 1\n        return self.count\n",
        asserts(
            """
            assert list(Countdown(3)) == [3, 2, 1]
            c = Counter()
            c.inc()
            c.count = 10
            assert c.inc() == 11 and c.count == 11
            """
        ),
    ),
    # Python's own semantics that the stand-ins might not keep:
    "a truthy non-bool result in a bare assert": (
        "def is_odd(n):\n    return n % 2\n",
        asserts("assert is_odd(3)\nassert not is_odd(4)\n"),
    ),
    "dataclass instances compared with ==": (
        "from dataclasses import dataclass\n"
        "@dataclass\nclass Point:\n    x: int\n    y: int\n"
        "def parse(text):\n    x, y = text.split(',')\n    return Point(int(x), int(y))\n",
        asserts("assert parse('1,2') == Point(1, 2)\n"),
    ),
    "isinstance of the solution's own class": (
        "class Shape:\n    pass\nclass Square(Shape):\n"
        "    def __init__(self, s):\n        self.s = s\n"
        "def make(s):\n    return Square(s)\n",
        asserts("assert isinstance(make(2), Shape)\nassert make(2).s == 2\n"),
    ),
    "str() of a returned object": (
        "class Money:\n    def __init__(self, c):\n        self.c = c\n"
        "    def __str__(self):\n        return f'${self.c / 100:.2f}'\n"
        "def price(c):\n    return Money(c)\n",
        asserts("assert str(price(150)) == '$1.50'\n"),
    ),
    "the tests pass a function to the solution": (
        "def apply_all(f, xs):\n    return [f(x) for x in xs]\n"
        "def by(xs, key):\n    return sorted(xs, key=key)\n",
        asserts(
            "assert apply_all(lambda x: x * 2, [1, 2]) == [2, 4]\n"
            "assert by(['bb', 'a'], key=len) == ['a', 'bb']\n"
        ),
    ),
    "truth value of a returned object with __len__": (
        "class Bag:\n    def __init__(self):\n        self.items = []\n"
        "    def __len__(self):\n        return len(self.items)\n",
        asserts("b = Bag()\nassert not b\nassert len(b) == 0\n"),
    ),
}


HONEST_CALL = {
    "call: tuples, sets, floats, dicts, None": (
        "def f(kind):\n"
        "    return {'tuple': (1, 2), 'set': {3, 1, 2}, 'float': 0.1 + 0.2, 'none': None,"
        " 'dict': {'a': [1, {'b': 2.0}]}, 'big': 10 ** 40, 'bool': True}[kind]\n",
        {
            "format": "call",
            "entry_point": "f",
            "cases": [
                {"args": ["tuple"], "expected": [1, 2]},
                {"args": ["set"], "expected": [1, 2, 3]},
                {"args": ["float"], "expected": 0.3},
                {"args": ["none"], "expected": None},
                {"args": ["dict"], "expected": {"a": [1, {"b": 2}]}},
                {"args": ["big"], "expected": 10**40},
                {"kwargs": {"kind": "bool"}, "expected": True},
            ],
        },
    ),
    "call: prints report-like noise and uses frames and gc": (
        "import gc, sys\n"
        "def f(x):\n"
        "    print('0' * 32 + ' {\"outcomes\": []}')\n"
        "    print('noise', file=sys.stderr)\n"
        "    gc.collect()\n"
        "    return sys._getframe().f_code.co_name + str(x)\n",
        {"format": "call", "entry_point": "f", "cases": [{"args": [1], "expected": "f1"}]},
    ),
}


@pytest.mark.parametrize(("program", "tests"), HONEST_CALL.values(), ids=HONEST_CALL.keys())
def test_honest_call_programs_are_accepted(box: Sandbox, program: str, tests: dict) -> None:
    verdict = judge(box, program, tests)
    assert verdict.status == "accepted", verdict.reason


HONEST_STDIO = {
    "stdio: reads all stdin, trailing spaces, stderr noise, hex-looking lines on stderr": (
        "import sys\n"
        "data = sys.stdin.read().split()\n"
        "print('0' * 32 + ' {\"outcomes\": []}', file=sys.stderr)\n"
        "print(*sorted(map(int, data)), '  ')\n",
        {
            "format": "stdio",
            "cases": [{"input": "3 1 2\n", "output": "1 2 3\n"}, {"input": "", "output": ""}],
        },
    ),
}


@pytest.mark.parametrize(("program", "tests"), HONEST_STDIO.values(), ids=HONEST_STDIO.keys())
def test_honest_stdio_programs_are_accepted(box: Sandbox, program: str, tests: dict) -> None:
    verdict = judge(box, program, tests)
    assert verdict.status == "accepted", verdict.reason


HONEST_PYTEST = {
    "pytest: raises, custom errors, parametrize, approx, fixtures, classes": (
        "class MyError(Exception):\n    pass\n"
        "def divide(a, b):\n"
        "    if b == 0:\n        raise MyError('zero')\n"
        "    if not isinstance(a, (int, float)):\n        raise ValueError('number')\n"
        "    return a / b\n"
        "class Stack:\n    def __init__(self):\n        self.items = []\n"
        "    def push(self, x):\n        self.items.append(x)\n"
        "    def pop(self):\n        return self.items.pop()\n",
        {
            "format": "pytest",
            "code": textwrap.dedent(
                """
                import pytest
                from solution import MyError, Stack, divide


                @pytest.fixture
                def stack():
                    s = Stack()
                    s.push(1)
                    return s


                @pytest.mark.parametrize(("a", "b", "q"), [(1, 2, 0.5), (1, 3, 0.3333333)])
                def test_divide(a, b, q):
                    assert divide(a, b) == pytest.approx(q, rel=1e-5)


                def test_errors():
                    with pytest.raises(MyError, match="zero"):
                        divide(1, 0)
                    with pytest.raises(ValueError):
                        divide("1", 2)


                class TestStack:
                    def test_pop(self, stack):
                        assert stack.pop() == 1
                """
            ),
        },
    ),
    "pytest: frames, gc, noise on stdout": (
        "import gc, sys\n"
        "print('0' * 32 + ' {\"outcomes\": []}')\n"
        "def add(a, b):\n    gc.collect()\n    sys._getframe()\n"
        "    print('1 failed', file=sys.stderr)\n    return a + b\n",
        PYTEST_ADD,
    ),
}


@pytest.mark.docker
@pytest.mark.parametrize(("program", "tests"), HONEST_PYTEST.values(), ids=HONEST_PYTEST.keys())
def test_honest_pytest_programs_are_accepted(box: Sandbox, program: str, tests: dict) -> None:
    verdict = judge(box, program, tests)
    assert verdict.status == "accepted", verdict.reason


# --- second round -------------------------------------------------------------------------------
#
# A second red team, after the first round's holes were closed. Each attack below is a wrong
# solution; each honest program must be accepted. Where an attack or honest program failed when
# written, its docstring or comment says why (see the report of that round).

STOPS = "def add(a, b):\n    if (a, b) == (2, 3):\n        return 5\n    raise StopIteration\n"
"""Right on one input, StopIteration elsewhere: re-raised in the judge as the built-in
StopIteration, it ends whatever iterator called the solution (map, filter, zip) as if it were
exhausted, so the checks it should have fed never run (PEP 479 covers generators, not map)."""

SECOND_ROUND_ATTACKS = {
    "StopIteration ends all(map(...))": (
        STOPS,
        asserts(
            "assert add(2, 3) == 5\n"
            "assert all(map(lambda c: add(*c[0]) == c[1], [((1, 1), 2), ((4, 5), 9)]))\n"
        ),
    ),
    "StopIteration ends zip(map(...)) under a generator": (
        STOPS,
        asserts(
            "cases = [((2, 3), 5), ((1, 1), 2), ((4, 5), 9)]\n"
            "got = map(lambda c: add(*c[0]), cases)\n"
            "assert all(g == want for g, (_, want) in zip(got, cases))\n"
        ),
    ),
    "StopIteration ends a for loop over map(...) before its asserts": (
        STOPS,
        asserts(
            "assert add(2, 3) == 5\n"
            "for got, want in zip(map(add, [1, 4], [1, 5]), [2, 9]):\n"
            "    assert got == want\n"
        ),
    ),
    "a subclass of StopIteration by its built-in base": (
        "class Done(StopIteration):\n    pass\ndef add(a, b):\n    raise Done('no more')\n",
        asserts("assert all(map(lambda c: add(*c[0]) == c[1], [((1, 1), 2), ((4, 5), 9)]))\n"),
    ),
    "StopIteration ends all(map(...)) in a HumanEval check": (
        STOPS,
        {
            "format": "assert",
            "code": (
                "def check(candidate):\n"
                "    assert candidate(2, 3) == 5\n"
                "    cases = [((1, 2), 3), ((0, 4), 4)]\n"
                "    assert all(map(lambda c: candidate(*c[0]) == c[1], cases))\n\n"
                "check(add)\n"
            ),
            "entry_point": "add",
        },
    ),
    "a named tuple whose fields shadow tuple.count and tuple.index with functions": (
        "from collections import namedtuple\n"
        "T = namedtuple('T', ['count', 'index'])\n"
        "def triple(x):\n    return T(lambda v: 3, lambda v: 0)\n",
        asserts("r = triple(7)\nassert r.count(7) == 3\nassert r.index(7) == 0\n"),
    ),
}


PROGRAM_ATTACKS = {**SHADOWS, **SECOND_ROUND_ATTACKS}


@pytest.mark.parametrize(("program", "tests"), PROGRAM_ATTACKS.values(), ids=PROGRAM_ATTACKS.keys())
def test_wrong_programs_with_their_own_tests_are_not_accepted(
    box: Sandbox, program: str, tests: dict
) -> None:
    assert_not_accepted(judge(box, program, tests))


STAR_IMPORT_ATTACKS = {
    "shadows a name the tests imported from math before the star import": (
        WRONG + "def isclose(*args, **kwargs):\n    return True\n",
        "from math import isclose\nfrom solution import *\n\n\n"
        "def test_add():\n    assert isclose(add(0.5, 0.25), 0.75)\n"
        "    assert isclose(add(2, 3), 5)\n",
    ),
    "shadows the built-in abs()": (
        WRONG + "def abs(x):\n    return 0\n",
        "from solution import *\n\n\n"
        "def test_add():\n    assert abs(add(0.5, 0.25) - 0.75) < 1e-6\n",
    ),
    "shadows the math module the tests imported": (
        WRONG + "class math:\n    @staticmethod\n"
        "    def isclose(*args, **kwargs):\n        return True\n",
        "import math\nfrom solution import *\n\n\n"
        "def test_add():\n    assert math.isclose(add(0.5, 0.25), 0.75)\n",
    ),
    "shadows pytest itself": (
        "def add(a, b):\n    return 'same'\n"
        "class pytest:\n    @staticmethod\n"
        "    def approx(*args, **kwargs):\n        return 'same'\n",
        "import pytest\nfrom solution import *\n\n\n"
        "def test_add():\n    assert add(0.5, 0.25) == pytest.approx(0.75)\n",
    ),
    "StopIteration ends all(map(...)) in a pytest test": (
        STOPS,
        "from solution import add\n\n\n"
        "def test_add():\n    assert add(2, 3) == 5\n"
        "    assert all(map(lambda c: add(*c[0]) == c[1], [((1, 1), 2), ((4, 5), 9)]))\n",
    ),
}
"""`from solution import *` in a pytest module: the stand-in module holds every name of the
solution, so unlike the assert format's namespace (`test_namespace`) its names hide built-ins,
standard modules and whatever the module imported before the star import."""


@pytest.mark.docker
@pytest.mark.parametrize(
    ("program", "code"), STAR_IMPORT_ATTACKS.values(), ids=STAR_IMPORT_ATTACKS.keys()
)
def test_star_imports_in_pytest_modules_cannot_shadow(
    box: Sandbox, program: str, code: str
) -> None:
    assert_not_accepted(judge(box, program, {"format": "pytest", "code": code, "time_limit_s": 5}))


HARDCODED_ADD = (
    "def add(a, b):\n    return {(2, 3): 5, (-1, 1): 0, (10, 20): 30}.get((a, b), a - b)\n"
)
REWRITES_THE_REFERENCE = (
    "with open('reference.py', 'w') as _handle:\n"
    f"    _handle.write({HARDCODED_ADD!r})\n"
    "strategy = st.tuples(st.integers(), st.integers())\n"
)


def test_the_models_strategy_cannot_rewrite_the_reference(box: Sandbox) -> None:
    """The model's input strategy runs in a fork of the reference's run, in its work directory,
    as its user, before the reference is loaded: it can replace `reference.py`, and then the
    reference agrees with a candidate that only knows the tests' answers (the poisoned results
    are also cached for every candidate of the problem)."""
    tests = {**ASSERT_ADD, "entry_point": "add"}
    reference = RIGHT

    def verdict(meta: dict):
        candidate = Candidate(
            id="t",
            domain="code",
            problem="p",
            response=fenced(HARDCODED_ADD),
            tests=tests,
            reference=reference,
            meta=meta,
        )
        return CodeVerifier(box, SETTINGS).verify(candidate)

    assert_not_accepted(verdict({}))
    assert_not_accepted(verdict({"input_strategy": REWRITES_THE_REFERENCE}))


def test_a_huge_integer_where_a_float_is_expected_is_rejected(box: Sandbox) -> None:
    """Call format: `_same_json` subtracts a float from the result, and an int past a float's
    range raises OverflowError on the host, out of `verify` (an error verdict, not a rejection)."""
    tests = {**CALL_ADD, "cases": [{"args": [0.5, 0.25], "expected": 0.75}]}
    assert_not_accepted(judge(box, "def add(a, b):\n    return 10 ** 400\n", tests))


SECOND_ROUND_HONEST = {
    "map() over the solution's function": (
        RIGHT,
        asserts(
            "assert list(map(add, [1, 2], [3, 4])) == [4, 6]\n"
            "assert all(map(lambda c: add(*c[0]) == c[1], [((1, 1), 2), ((4, 5), 9)]))\n"
        ),
    ),
    "an iterator that ends with StopIteration": (
        "class Upto:\n"
        "    def __init__(self, n):\n        self.i, self.n = 0, n\n"
        "    def __iter__(self):\n        return self\n"
        "    def __next__(self):\n"
        "        if self.i >= self.n:\n            raise StopIteration\n"
        "        self.i += 1\n        return self.i\n",
        asserts("assert list(Upto(3)) == [1, 2, 3]\nassert sum(map(abs, Upto(4))) == 10\n"),
    ),
    "a named tuple with a field named count": (
        "from collections import namedtuple\n"
        "Tally = namedtuple('Tally', ['word', 'count'])\n"
        "def tally(words, w):\n    return Tally(w, words.count(w))\n",
        asserts("r = tally(['a', 'b', 'a'], 'a')\nassert r.count == 2 and r == ('a', 2)\n"),
    ),
}


ODDBALLS = {**HONEST, **SECOND_ROUND_HONEST}


@pytest.mark.parametrize(("program", "tests"), ODDBALLS.values(), ids=ODDBALLS.keys())
def test_honest_oddballs_are_accepted(box: Sandbox, program: str, tests: dict) -> None:
    verdict = judge(box, program, tests)
    assert verdict.status == "accepted", verdict.reason


def test_honest_star_import_in_a_pytest_module_is_accepted(box: Sandbox) -> None:
    program = "import math\n\ndef add(a, b):\n    return a + b\n\ndef _helper():\n    pass\n"
    code = (
        "import math\nimport pytest\nfrom solution import *\n\n\n"
        "def test_add():\n    assert add(0.5, 0.25) == pytest.approx(0.75)\n"
        "    assert math.isclose(add(2, 3), 5)\n"
    )
    verdict = judge(box, program, {"format": "pytest", "code": code, "time_limit_s": 5})
    assert verdict.status == "accepted", verdict.reason


def test_honest_in_place_change_inside_a_tuple_passes_differential_testing(box: Sandbox) -> None:
    """The reference appends to a list inside a tuple argument; only top-level lists, dicts,
    sets and bytearrays are sent back, so the same code as the candidate leaves the judge's
    copy unchanged and differs from the reference's arguments."""
    program = "def bump(pair):\n    pair[0].append(1)\n    return len(pair[0])\n"
    tests = {"format": "assert", "code": "assert bump(([1, 2], 0)) == 3\n", "entry_point": "bump"}
    verdict = judge(box, program, tests, reference=program)
    assert verdict.status == "accepted", verdict.reason


def test_honest_named_tuple_result_in_the_call_format_is_accepted(box: Sandbox) -> None:
    """A named tuple crosses as a named tuple now, and `_json_data` takes only exact tuples."""
    program = "from collections import namedtuple\nP = namedtuple('P', 'x y')\n"
    program += "def pt(a):\n    return P(a, a + 1)\n"
    tests = {"format": "call", "entry_point": "pt", "cases": [{"args": [1], "expected": [1, 2]}]}
    verdict = judge(box, program, tests)
    assert verdict.status == "accepted", verdict.reason


# --- third round --------------------------------------------------------------------------------
#
# A third red team. A Remote answers `len`, `iter`, `[]`, `bool` and `str` each on its own, so
# one value can give answers no built-in value could give together (a length its iteration does
# not have); dataclass equality compares only the fields the solution's class marks `compare`.
# When written, every attack of this round was accepted on both backends (see its report); the
# honest programs all passed.

LYING_LENGTH = {
    "len() lies: the sortedness check over range(len(r) - 1) checks nothing": (
        "class Sorted:\n"
        "    def __init__(self, xs):\n        self.xs = list(xs)\n"
        "    def __iter__(self):\n        return iter(self.xs)\n"
        "    def __getitem__(self, i):\n        return self.xs[i]\n"
        "    def __len__(self):\n        return 1\n"
        "def sort_list(xs):\n    return Sorted(xs)  # never sorts\n",
        asserts(
            "r = sort_list([3, 1, 2])\n"
            "assert sorted(r) == [1, 2, 3]\n"
            "assert all(r[i] <= r[i + 1] for i in range(len(r) - 1))\n"
        ),
    ),
    "len() lies: n primes claimed, two given": (
        "class Primes:\n"
        "    def __init__(self, n):\n        self.n = n\n"
        "    def __len__(self):\n        return self.n\n"
        "    def __iter__(self):\n        return iter([2, 3])\n"
        "def first_primes(n):\n    return Primes(n)\n",
        asserts(
            "r = first_primes(5)\n"
            "assert len(r) == 5\n"
            "assert all(p > 1 and all(p % d for d in range(2, p)) for p in r)\n"
            "assert list(r) == sorted(r)\n"
        ),
    ),
    "len() lies: duplicates kept, the length of their set claimed": (
        "class Unique:\n"
        "    def __init__(self, xs):\n        self.xs = xs\n"
        "    def __iter__(self):\n        return iter(self.xs)\n"
        "    def __len__(self):\n        return len(set(self.xs))\n"
        "def dedup(xs):\n    return Unique(xs)  # keeps the duplicates\n",
        asserts(
            "r = dedup([1, 2, 1, 3, 2])\n"
            "assert len(r) == len(set(r)) == 3\n"
            "assert set(r) == {1, 2, 3}\n"
        ),
    ),
    "bool() lies: truthy yet empty": (
        "class Found:\n"
        "    def __bool__(self):\n        return True\n"
        "    def __iter__(self):\n        return iter([])\n"
        "def find_all(xs, v):\n    return Found()  # finds nothing\n",
        asserts("r = find_all([1, 2, 1], 1)\nassert r\nassert all(x == 1 for x in r)\n"),
    ),
    "dataclass fields marked compare=False: every Point equals every other": (
        "from dataclasses import dataclass, field\n"
        "@dataclass\n"
        "class Point:\n"
        "    x: int = field(compare=False)\n"
        "    y: int = field(compare=False)\n"
        "def midpoint(p, q):\n    return Point(0, 0)\n",
        asserts(
            "assert midpoint(Point(0, 0), Point(2, 4)) == Point(1, 2)\n"
            "assert midpoint(Point(1, 1), Point(3, 3)) == Point(2, 2)\n"
        ),
    ),
}


@pytest.mark.parametrize(("program", "tests"), LYING_LENGTH.values(), ids=LYING_LENGTH.keys())
def test_third_round_inconsistent_remote_answers_are_not_accepted(
    box: Sandbox, program: str, tests: dict
) -> None:
    assert_not_accepted(judge(box, program, tests))


def test_third_round_call_tolerance_does_not_pass_zero_for_a_tiny_float(box: Sandbox) -> None:
    """`_same_json` allows 1e-6 * max(1, |expected|): an absolute 1e-6 below 1, so 0.0 matches
    a probability of 9.5e-7 (compare.py's differential uses abs_tol=1e-9)."""
    program = "def all_heads(n):\n    return 0.0  # underflows by hand\n"
    tests = {
        "format": "call",
        "entry_point": "all_heads",
        "cases": [{"args": [20], "expected": 0.5**20}, {"args": [21], "expected": 0.5**21}],
    }
    assert_not_accepted(judge(box, program, tests))


def test_third_round_differential_tells_bools_from_ints_inside_a_set(box: Sandbox) -> None:
    """`same` tells True from 1 at the top level, but compares sets (and dict keys) with `==`,
    where {True, False} == {1, 0}."""
    reference = "def parities(xs):\n    return {x % 2 for x in xs}\n"
    program = "def parities(xs):\n    rests = (x % 2 for x in xs)\n"
    program += "    return {bool(r) if r in (0, 1) else r for r in rests}\n"
    tests = asserts("assert parities([1, 2]) == {0, 1}\nassert parities([4]) == {0}\n")
    tests["entry_point"] = "parities"
    assert_not_accepted(judge(box, program, tests, reference=reference))


THIRD_ROUND_HONEST = {
    "a linked list with a consistent len, iter and []": (
        "class Chain:\n"
        "    def __init__(self, xs):\n        self.xs = list(xs)\n"
        "    def __iter__(self):\n        return iter(self.xs)\n"
        "    def __getitem__(self, i):\n        return self.xs[i]\n"
        "    def __len__(self):\n        return len(self.xs)\n"
        "    def __bool__(self):\n        return bool(self.xs)\n"
        "def sort_list(xs):\n    return Chain(sorted(xs))\n",
        asserts(
            "r = sort_list([3, 1, 2])\n"
            "assert r and len(r) == 3\n"
            "assert sorted(r) == [1, 2, 3]\n"
            "assert all(r[i] <= r[i + 1] for i in range(len(r) - 1))\n"
            "assert not sort_list([])\n"
        ),
    ),
    # Every field counts in the judge's comparison, `compare=False` ones too (the solution does
    # not choose what the judge compares): a cache equal on both sides passes.
    "a dataclass with a cache field left out of comparison": (
        "from dataclasses import dataclass, field\n"
        "@dataclass\n"
        "class Point:\n"
        "    x: int\n"
        "    y: int\n"
        "    seen: list = field(default_factory=list, compare=False)\n"
        "def midpoint(p, q):\n"
        "    m = Point((p.x + q.x) // 2, (p.y + q.y) // 2)\n"
        "    return m\n",
        asserts(
            "assert midpoint(Point(0, 0), Point(2, 4)) == Point(1, 2)\n"
            "assert midpoint(Point(0, 0), Point(2, 4)) != Point(1, 3)\n"
        ),
    ),
    "an iterator class that is its own iterator": (
        "class Count:\n"
        "    def __init__(self, n):\n        self.i, self.n = 0, n\n"
        "    def __iter__(self):\n        return self\n"
        "    def __next__(self):\n"
        "        if self.i >= self.n:\n            raise StopIteration\n"
        "        self.i += 1\n        return self.i\n"
        "def count(n):\n    return Count(n)\n",
        asserts("assert list(count(3)) == [1, 2, 3]\nassert sum(count(4)) == 10\n"),
    ),
}


@pytest.mark.parametrize(
    ("program", "tests"), THIRD_ROUND_HONEST.values(), ids=THIRD_ROUND_HONEST.keys()
)
def test_third_round_honest_programs_are_accepted(box: Sandbox, program: str, tests: dict) -> None:
    verdict = judge(box, program, tests)
    assert verdict.status == "accepted", verdict.reason


def test_third_round_honest_tiny_float_in_the_call_format_is_accepted(box: Sandbox) -> None:
    program = "def all_heads(n):\n    return 0.5 ** n\n"
    tests = {
        "format": "call",
        "entry_point": "all_heads",
        "cases": [{"args": [20], "expected": 0.5**20}, {"args": [1], "expected": 0.5}],
    }
    verdict = judge(box, program, tests)
    assert verdict.status == "accepted", verdict.reason


def test_third_round_honest_set_with_nan_passes_differential_testing(box: Sandbox) -> None:
    """The same code as the reference, whose result is a set holding nan: `same` compares sets
    with `==`, and two nans decoded apart are not equal."""
    program = "def odd(xs):\n    return {float('nan'), len(xs)}\n"
    tests = asserts("assert len(odd([1, 2])) == 2\n")
    tests["entry_point"] = "odd"
    verdict = judge(box, program, tests, reference=program)
    assert verdict.status == "accepted", verdict.reason
