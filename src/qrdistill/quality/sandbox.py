"""Run untrusted Python (a teacher's Program path) confined by the kernel, and report what it did.

The child (``confine.py``) confines itself before the code runs, so nothing depends on the code's
cooperation: new user (without root), mount, network, IPC and UTS namespaces; a private, size- and
inode-capped tmpfs as its only writable directory (gone with the process); rlimits; Landlock (reads
only the interpreter's directories, writes only its tmpfs, no execute, no TCP, no signals out); as
root the uid ``nobody``, otherwise no capabilities; seccomp killing the process on sockets, process
creation, exec, signals, ptrace, mounts and other kernel interfaces; an empty environment. An audit
hook records (and refuses) attempts the kernel would also stop, so that a program that catches the
error is still reported as ``blocked``. The child gets SIGKILL when its parent dies; the parent kills
it at a wall-clock deadline or an output cap. Where the kernel cannot do this, nothing runs and the
outcome is ``unavailable`` with the reason (``isolation_problem()``).

>>> result = run_python('print(6 * 7)', SandboxLimits(wall_s=5))
>>> result.outcome, result.stdout
('ok', '42\\n')
"""

from __future__ import annotations

import ast
import functools
import json
import os
import selectors
import signal
import subprocess
import sys
import sysconfig
import time
from dataclasses import asdict, dataclass
from pathlib import Path as FsPath
from typing import Literal

from qrdistill.quality.confine import BLOCKED, SETUP_EXIT, SETUP_FAILED

Outcome = Literal["ok", "error", "timeout", "cpu_limit", "memory", "output_limit", "blocked", "unavailable"]

NOBODY = 65534

STDLIB_IMPORTABLE = ("math", "cmath", "fractions", "decimal", "numbers", "itertools", "functools", "operator",
                     "collections", "statistics", "random", "re", "string", "datetime", "calendar", "heapq",
                     "bisect", "copy", "typing", "dataclasses", "enum", "__future__")
PACKAGES_IMPORTABLE = ("numpy", "sympy")
"""What a program may import, and the sandbox imports for it before it is confined (the standard
library may live where ``nobody`` cannot read, e.g. /root/.pyenv). Third-party packages these import
themselves (mpmath for sympy) are importable too."""
_PACKAGE_DEPENDENCIES = ("mpmath",)
_CONFINE = FsPath(__file__).with_name("confine.py")
_THREADS_ONE = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
"""The child's whole environment: numpy must not start threads (seccomp forbids them)."""


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
    """Largest file the code may write (in its tmpfs)."""
    disk_bytes: int = 4_000_000
    """Size of its tmpfs: all its files together."""
    max_files: int = 64
    """Files and directories it may create in its tmpfs."""
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
        """What went wrong in one line: the first forbidden attempt for ``blocked``, the reason for
        ``unavailable``, else the last non-empty stderr line (the exception, for a traceback); '' if none."""
        lines = [ln.strip() for ln in self.stderr.splitlines() if ln.strip()]
        for marker in (BLOCKED, SETUP_FAILED):
            marked = [ln for ln in lines if ln.startswith(marker)]
            if marked:
                return marked[0][len(marker):].strip()
        if self.outcome == "blocked" and self.returncode == -signal.SIGSYS:
            return "a forbidden system call (killed by seccomp)"
        return lines[-1] if lines else ""


def imported_modules(code: str) -> list[str]:
    """The top-level modules ``code`` imports (its import statements), in order, "." for a relative
    import; [] if it does not parse.

    >>> imported_modules("import numpy as np\\nfrom fractions import Fraction")
    ['numpy', 'fractions']
    """
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError):
        return []
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [alias.name.split(".")[0] for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            names.append("." if node.level else (node.module or "").split(".")[0])
    return list(dict.fromkeys(names))


def _read_paths() -> list[str]:
    paths = sysconfig.get_paths()
    dirs = {paths["stdlib"], paths["platstdlib"], paths["purelib"], paths["platlib"], os.path.dirname(os.__file__)}
    # confine.py itself: a traceback shows its frame that runs the code.
    return sorted(dirs) + ["/dev/null", "/dev/zero", "/dev/urandom", str(_CONFINE)]


def _settings(code: str, limits: SandboxLimits, audit_hook: bool) -> dict[str, object]:
    paths = sysconfig.get_paths()
    wanted = imported_modules(code)
    return {**asdict(limits), "read_paths": _read_paths(), "package_dirs": sorted({paths["purelib"], paths["platlib"]}),
            "preload": [m for m in wanted if m in STDLIB_IMPORTABLE + PACKAGES_IMPORTABLE],
            "packages": [*PACKAGES_IMPORTABLE, *_PACKAGE_DEPENDENCIES], "nobody": NOBODY, "parent": os.getpid(),
            "audit_hook": audit_hook}


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
    if returncode == SETUP_EXIT and SETUP_FAILED in stderr:
        return "unavailable"
    if BLOCKED in stderr or returncode == -signal.SIGSYS:
        return "blocked"
    if returncode == 0:
        return "ok"
    if returncode in (-signal.SIGXCPU, -signal.SIGKILL) and not stderr.strip():
        return "cpu_limit"
    if "MemoryError" in stderr:
        return "memory"
    return "error"


def _run(code: str, limits: SandboxLimits, audit_hook: bool) -> SandboxResult:
    start = time.monotonic()
    cmd = [sys.executable, "-I", "-S", "-B", str(_CONFINE), json.dumps(_settings(code, limits, audit_hook))]
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=dict(_THREADS_ONE), cwd="/", start_new_session=True, close_fds=True)
    try:
        try:
            proc.stdin.write(code.encode("utf-8", errors="replace"))  # type: ignore[union-attr]
            proc.stdin.close()  # type: ignore[union-attr]
        except BrokenPipeError:
            pass
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


@functools.cache
def isolation_problem() -> str | None:
    """Why this machine cannot confine a program, or None when it can (checked once per process by
    running a trivial program through every layer).

    >>> isolation_problem() is None      # Linux with Landlock, user namespaces (or root) and libseccomp
    True
    """
    if sys.platform != "linux":
        return f"the sandbox needs Linux (namespaces, Landlock, seccomp); this is {sys.platform}"
    probe = _run("print(6 * 7)", SandboxLimits(wall_s=30), audit_hook=True)
    if probe.outcome == "ok" and probe.stdout.strip() == "42":
        return None
    return probe.error_line or f"a trivial program did not run in the sandbox ({probe.outcome})"


def run_python(code: str, limits: SandboxLimits = SandboxLimits(), *, audit_hook: bool = True) -> SandboxResult:
    """Run ``code`` in the sandbox and report what happened; never raises for what the code does.
    ``audit_hook=False`` leaves out the audit hook and keeps the kernel layers alone (to test them).

    >>> run_python("while True: pass", SandboxLimits(wall_s=2, cpu_s=1)).outcome
    'cpu_limit'
    """
    problem = isolation_problem()
    if problem is not None:
        return SandboxResult("unavailable", "", f"{SETUP_FAILED} {problem}", None, 0.0)
    return _run(code, limits, audit_hook)
