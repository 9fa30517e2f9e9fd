"""Hostile Program paths: each ends as a recorded failure within its limits; host and run unharmed."""

from __future__ import annotations

import ast
import os
import socket
import threading
import time
from pathlib import Path as FsPath

import pytest

from qrdistill.quality.sandbox import SandboxLimits, run_python

LIMITS = SandboxLimits(wall_s=4.0, cpu_s=1, memory_mb=256, output_bytes=20_000)
SECRET = "sk-qrdistill-fake-secret-7f3a9c"


def test_a_plain_program_runs_in_a_fresh_temp_dir_that_is_removed():
    code = "import os\nfrom fractions import Fraction\nopen('scratch.txt', 'w').write('3')\nprint(os.listdir('.'))\nprint(os.getcwd())\nprint(Fraction(1, 3) * 9)"
    result = run_python(code, LIMITS)
    assert result.outcome == "ok"
    listing, workdir, value = result.stdout.splitlines()
    assert value == "3"
    assert sorted(ast.literal_eval(listing)) == ["main.py", "scratch.txt"]
    assert FsPath(workdir).name.startswith("qrdistill-sandbox-")
    assert not FsPath(workdir).exists()


def test_infinite_loop_is_stopped_by_the_cpu_or_wall_limit():
    result = run_python("while True:\n    pass", LIMITS)
    assert result.outcome in ("cpu_limit", "timeout")
    assert result.seconds < LIMITS.wall_s + 2


def test_sleeping_forever_hits_the_wall_clock():
    result = run_python("import time\ntime.sleep(60)", SandboxLimits(wall_s=1.0, cpu_s=1))
    assert result.outcome == "timeout"
    assert result.seconds < 3


def test_fork_bomb_cannot_fork():
    code = "import os\nwhile True:\n    os.fork()"
    result = run_python(code, LIMITS)
    assert result.outcome in ("blocked", "error")
    assert "fork" in result.stderr
    posix = run_python("import posix\nposix.fork()\nprint('forked')", LIMITS)
    assert posix.outcome == "blocked" and "forked" not in posix.stdout


def test_subprocess_and_system_are_refused():
    for code in ("import subprocess\nsubprocess.run(['true'])", "import os\nos.system('true')",
                 "import os\nos.execv('/bin/true', ['true'])", "import ctypes"):
        result = run_python(code, LIMITS)
        assert result.outcome in ("blocked", "error"), code


def test_memory_bomb_hits_the_memory_cap():
    for code in ("x = ' ' * (10 ** 10)", "chunks = []\nwhile True:\n    chunks.append(bytearray(10 ** 7))"):
        result = run_python(code, LIMITS)
        assert result.outcome == "memory", (code, result)


def test_printing_gigabytes_is_cut_at_the_output_cap():
    result = run_python("while True:\n    print('x' * 1_000_000)", LIMITS)
    assert result.outcome == "output_limit"
    assert len(result.stdout) <= LIMITS.output_bytes
    assert result.seconds < LIMITS.wall_s


def test_deleting_or_overwriting_files_outside_the_temp_dir_fails(tmp_path):
    canary = tmp_path / "canary.txt"
    canary.write_text("alive")
    attempts = [f"import os\nos.remove({str(canary)!r})", f"import os\nos.unlink({str(canary)!r})",
                f"open({str(canary)!r}, 'w').write('overwritten')", f"import os\nos.rename({str(canary)!r}, 'moved')",
                f"import shutil\nshutil.rmtree({str(tmp_path)!r})", f"import os\nos.rmdir({str(tmp_path)!r})",
                f"import os\nos.truncate({str(canary)!r}, 0)"]
    for code in attempts:
        result = run_python(code, LIMITS)
        assert result.outcome in ("blocked", "error"), code
        assert canary.read_text() == "alive", code


def test_reading_files_or_listing_dirs_outside_is_refused(tmp_path):
    private = tmp_path / "private.txt"
    private.write_text(SECRET)
    for code in (f"print(open({str(private)!r}).read())", f"import os\nprint(os.listdir({str(tmp_path)!r}))"):
        result = run_python(code, LIMITS)
        assert result.outcome in ("blocked", "error")
        assert SECRET not in result.stdout + result.stderr


def test_no_environment_secret_reaches_the_program(monkeypatch):
    monkeypatch.setenv("QRDISTILL_TEST_API_KEY", SECRET)
    code = ("import os\nprint(dict(os.environ))\n"
            "for pid in (os.getppid(), 1, 'self'):\n"
            "    try:\n        print(open(f'/proc/{pid}/environ', 'rb').read())\n"
            "    except Exception as exc:\n        print('refused', type(exc).__name__)\n")
    result = run_python(code, LIMITS)
    assert result.outcome == "ok"
    assert "refused" in result.stdout
    assert SECRET not in result.stdout + result.stderr


def test_sockets_cannot_reach_a_listening_server():
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
        code = f"import socket\ns = socket.create_connection(('127.0.0.1', {port}), timeout=1)\nprint('connected')"
        result = run_python(code, LIMITS)
        time.sleep(0.3)
    finally:
        stop.set()
        thread.join()
        server.close()
    assert result.outcome in ("blocked", "error")
    assert "connected" not in result.stdout
    assert accepted == []


def test_killing_the_parent_is_refused():
    result = run_python("import os\nos.kill(os.getppid(), 9)", LIMITS)
    assert result.outcome in ("blocked", "error")
    assert os.getpid() > 0  # we are still here


@pytest.mark.parametrize("code", ["print(", "raise SystemExit(3)", "1/0"])
def test_crashes_are_errors(code):
    assert run_python(code, LIMITS).outcome == "error"
