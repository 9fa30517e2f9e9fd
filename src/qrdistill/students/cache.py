"""A cache of model directories built once: atomic (temp dir + rename) and safe across processes.

>>> path = cached_dir("smollm2-135m", build=convert_smollm2)   # build(tmp_dir) runs at most once
"""

from __future__ import annotations

import fcntl
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from rich.console import Console

_console = Console(stderr=True)
DONE_MARKER = ".qrdistill-complete"


def cache_root() -> Path:
    """``$QRDISTILL_CACHE`` or ``~/.cache/qrdistill``; models live under ``<root>/models/<name>``."""
    return Path(os.environ.get("QRDISTILL_CACHE", Path.home() / ".cache" / "qrdistill")).expanduser()


def cached_dir(name: str, build: Callable[[Path], None]) -> Path:
    """Return ``<root>/models/<name>``, running ``build(tmp_dir)`` first if it is not there yet.

    A file lock serialises concurrent builders; the finished directory appears by one rename,
    so a crash mid-build leaves only a temp dir that the next call removes.
    """
    models = cache_root() / "models"
    models.mkdir(parents=True, exist_ok=True)
    target = models / name
    if (target / DONE_MARKER).exists():
        return target
    with open(models / f".{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (target / DONE_MARKER).exists():
            return target
        for stale in models.glob(f".{name}.tmp*"):
            shutil.rmtree(stale, ignore_errors=True)
        if target.exists():
            shutil.rmtree(target)
        tmp = Path(tempfile.mkdtemp(prefix=f".{name}.tmp", dir=models))
        try:
            _console.print(f"[bold]qrdistill[/]: building cached model [cyan]{name}[/] in {target} (once)")
            build(tmp)
            (tmp / DONE_MARKER).write_text("ok\n")
            os.replace(tmp, target)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    return target
