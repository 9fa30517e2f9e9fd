"""Run untrusted Python (a teacher's Program path) in a locked-down subprocess.

Layers, each enough to stop the common attacks on its own where it applies:

- ``python -I -S``: isolated mode, no site-packages, no PYTHON* variables, no user site.
- An EMPTY environment: no secret of the parent is inherited.
- A fresh temporary working directory, deleted afterwards.
- rlimits set before the code runs: CPU seconds, address space, file size, no core dumps,
  no new processes (RLIMIT_NPROC), few open files.
- When the parent runs as root: the code runs as ``nobody`` (so RLIMIT_NPROC and file
  permissions apply), inside a fresh network namespace (``unshare -n``) when that works.
- An audit hook (``sys.addaudithook``, cannot be removed from Python) that blocks sockets,
  process creation (fork/exec/spawn/system/subprocess), signals to other processes, ctypes,
  reads outside the standard library and the temp dir, and writes/deletes outside the temp dir.
- The parent enforces a wall-clock deadline and an output cap, then kills the process group.

>>> result = run_python('print(6 * 7)', SandboxLimits(wall_s=5))
>>> result.outcome, result.stdout
('ok', '42\\n')
"""

from __future__ import annotations

import functools
import json
import os
import selectors
import shutil
import signal
import subprocess
import sys
import sysconfig
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path as FsPath
from typing import Literal

Outcome = Literal["ok", "error", "timeout", "cpu_limit", "memory", "output_limit", "blocked"]

NOBODY = 65534

PRELOAD = ("math", "cmath", "fractions", "decimal", "itertools", "functools", "collections", "statistics", "re",
           "datetime", "random", "string", "heapq", "bisect", "operator", "numbers", "typing", "dataclasses",
           "calendar", "copy", "textwrap", "enum")
"""Imported before privileges are dropped: where the interpreter lives in a directory ``nobody`` cannot
read (e.g. /root/.pyenv) these are the modules a Program path can still import."""


@dataclass(frozen=True)
class SandboxLimits:
    """Resource limits for one sandboxed run.

    >>> SandboxLimits(wall_s=2.0, cpu_s=1, memory_mb=256)
    """

    wall_s: float = 10.0
    cpu_s: int = 5
    memory_mb: int = 512
    output_bytes: int = 64_000
    """stdout + stderr read at most this many bytes; more kills the process."""
    file_bytes: int = 1_000_000
    """Largest file the code may write (in its temp dir)."""
    open_files: int = 64


@dataclass(frozen=True)
class SandboxResult:
    """What a sandboxed run did."""

    outcome: Outcome
    stdout: str
    stderr: str
    returncode: int | None
    seconds: float

    @property
    def error_line(self) -> str:
        """The last non-empty stderr line (the exception, for a traceback), '' if none."""
        lines = [ln for ln in self.stderr.splitlines() if ln.strip()]
        return lines[-1].strip() if lines else ""


# Runs inside the child before the untrusted code. Kept as source so it needs no import path.
_BOOTSTRAP = r'''
import json, os, resource, sys
cfg = json.loads(sys.argv[1])
with open(cfg["code_file"], encoding="utf-8") as fh:
    source = fh.read()
def _lim(kind, value):
    resource.setrlimit(kind, (value, value))
resource.setrlimit(resource.RLIMIT_CPU, (cfg["cpu_s"], cfg["cpu_s"] + 1))
_lim(resource.RLIMIT_AS, cfg["memory_mb"] * 1024 * 1024)
_lim(resource.RLIMIT_FSIZE, cfg["file_bytes"])
_lim(resource.RLIMIT_CORE, 0)
_lim(resource.RLIMIT_NOFILE, cfg["open_files"])
_lim(resource.RLIMIT_NPROC, 0)
for _name in cfg["preload"]:
    __import__(_name)
if os.geteuid() == 0:
    os.setgroups([])
    os.setgid(cfg["uid"])
    os.setuid(cfg["uid"])
os.chdir(cfg["workdir"])
_work = os.path.realpath(cfg["workdir"]) + os.sep
_readable = tuple(os.path.realpath(p) + os.sep for p in cfg["read_dirs"]) + (_work,)
_PROCS = {"os.fork", "os.forkpty", "os.system", "os.exec", "os.posix_spawn", "os.spawn",
          "subprocess.Popen", "pty.spawn", "os.startfile"}
_BANNED_MODULES = {"ctypes", "_ctypes", "_posixsubprocess", "_xxsubinterpreters", "faulthandler"}
_PATH_WRITES = {"os.remove", "os.rmdir", "os.rename", "os.mkdir", "os.chmod", "os.chown", "os.link",
                "os.symlink", "os.truncate", "os.utime", "os.chflags", "os.setxattr", "os.removexattr",
                "shutil.rmtree", "shutil.copyfile", "shutil.move", "os.mkfifo", "os.mknod"}
def _inside(path, roots):
    if isinstance(path, int):
        return True
    try:
        real = os.path.realpath(os.fsdecode(path))
    except Exception:
        return False
    return any((real + os.sep).startswith(r) for r in roots)
def _hook(event, args):
    if event.startswith("socket.") or event in _PROCS or event == "ctypes.dlopen":
        raise PermissionError(f"sandbox: {event} is blocked")
    if event == "import" and args[0].split(".")[0] in _BANNED_MODULES:
        raise PermissionError(f"sandbox: import of {args[0]} is blocked")
    if event in ("os.kill", "os.killpg") and args[0] not in (0, os.getpid()):
        raise PermissionError(f"sandbox: {event} is blocked")
    if event == "open":
        path, mode = args[0], args[1] or "r"
        writing = any(c in str(mode) for c in "wax+") or (isinstance(args[2], int) and args[2] & (os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC))
        if not _inside(path, (_work,) if writing else _readable):
            raise PermissionError(f"sandbox: open of {path!r} is blocked")
    elif event in ("os.listdir", "os.scandir") and args and args[0] is not None:
        if not _inside(args[0], _readable):
            raise PermissionError(f"sandbox: {event} of {args[0]!r} is blocked")
    elif event in _PATH_WRITES:
        for p in args[:2]:
            if isinstance(p, (str, bytes, os.PathLike)) and not _inside(p, (_work,)):
                raise PermissionError(f"sandbox: {event} of {p!r} is blocked")
sys.addaudithook(_hook)
del json, resource, cfg
sys.argv = ["main.py"]
sys.stdout.reconfigure(encoding="utf-8", errors="replace")
code = compile(source, "main.py", "exec")
del source
exec(code, {"__name__": "__main__", "__builtins__": __builtins__})
'''


def _readable_dirs() -> list[str]:
    paths = sysconfig.get_paths()
    return sorted({paths["stdlib"], paths["platstdlib"], os.path.dirname(os.__file__),
                   os.path.join(sys.base_exec_prefix, "lib"), "/dev/null", "/dev/urandom"})


@functools.cache
def _netns_prefix() -> tuple[str, ...]:
    """``unshare -n`` when we are root and it works here, else nothing (the audit hook still blocks sockets)."""
    unshare = shutil.which("unshare")
    if os.geteuid() != 0 or unshare is None:
        return ()
    try:
        ok = subprocess.run([unshare, "-n", "true"], capture_output=True, timeout=10).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        ok = False
    return (unshare, "-n") if ok else ()


def _collect(proc: subprocess.Popen[bytes], deadline: float, cap: int) -> tuple[bytes, bytes, str | None]:
    """Read stdout/stderr until exit, the deadline or the output cap; the reason it stopped early, if any."""
    assert proc.stdout is not None and proc.stderr is not None
    buffers = {proc.stdout: bytearray(), proc.stderr: bytearray()}
    sel = selectors.DefaultSelector()
    for stream in buffers:
        sel.register(stream, selectors.EVENT_READ)
    stopped: str | None = None
    while sel.get_map():
        left = deadline - time.monotonic()
        if left <= 0:
            stopped = "timeout"
            break
        for key, _ in sel.select(timeout=min(left, 0.5)):
            chunk = os.read(key.fd, 65536)
            if not chunk:
                sel.unregister(key.fileobj)
                continue
            buffers[key.fileobj].extend(chunk)  # type: ignore[index]
        if sum(len(b) for b in buffers.values()) > cap:
            stopped = "output_limit"
            break
    sel.close()
    return bytes(buffers[proc.stdout][:cap]), bytes(buffers[proc.stderr][:cap]), stopped


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _classify(returncode: int, stderr: str) -> Outcome:
    if returncode == 0:
        return "ok"
    if returncode in (-signal.SIGXCPU, -signal.SIGKILL) and not stderr.strip():
        return "cpu_limit"
    if "MemoryError" in stderr:
        return "memory"
    if "PermissionError: sandbox:" in stderr:
        return "blocked"
    return "error"


def run_python(code: str, limits: SandboxLimits = SandboxLimits()) -> SandboxResult:
    """Run ``code`` in the sandbox and report what happened; never raises for what the code does.

    >>> run_python("while True: pass", SandboxLimits(wall_s=2, cpu_s=1)).outcome
    'cpu_limit'
    """
    start = time.monotonic()
    workdir = FsPath(tempfile.mkdtemp(prefix="qrdistill-sandbox-"))
    try:
        code_file = workdir / "main.py"
        code_file.write_text(code, encoding="utf-8")
        if os.geteuid() == 0:
            os.chown(workdir, NOBODY, NOBODY)
            os.chown(code_file, NOBODY, NOBODY)
        cfg = {**asdict(limits), "code_file": str(code_file), "workdir": str(workdir), "uid": NOBODY,
               "read_dirs": _readable_dirs(), "preload": PRELOAD}
        cmd = [*_netns_prefix(), sys.executable, "-I", "-S", "-c", _BOOTSTRAP, json.dumps(cfg)]
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                env={}, cwd=workdir, start_new_session=True, close_fds=True)
        try:
            out, err, stopped = _collect(proc, start + limits.wall_s, limits.output_bytes)
        finally:
            _kill_group(proc)
            returncode = proc.wait()
            proc.stdout.close()  # type: ignore[union-attr]
            proc.stderr.close()  # type: ignore[union-attr]
        stdout = out.decode("utf-8", errors="replace")
        stderr = err.decode("utf-8", errors="replace")
        outcome: Outcome = stopped if stopped is not None else _classify(returncode, stderr)  # type: ignore[assignment]
        return SandboxResult(outcome, stdout, stderr, None if stopped else returncode, time.monotonic() - start)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
