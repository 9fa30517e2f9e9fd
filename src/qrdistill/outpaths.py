"""Refuse an output path that cannot be written before any work is done.

>>> check_out(FsPath("runs/demo"), "--out", directory=True)      # fine: its parent can be created
>>> check_out(FsPath("/etc/passwd/out.jsonl"), "--out")
Traceback (most recent call last):
UsageError: --out /etc/passwd/out.jsonl: /etc/passwd is a file, not a directory; choose another path
"""

from __future__ import annotations

import os
from pathlib import Path as FsPath

from qrdistill.errors import UsageError


def _nearest_existing(path: FsPath) -> FsPath:
    for candidate in [path, *path.parents]:
        if candidate.exists():
            return candidate
    return FsPath(".")


def check_out(path: str | os.PathLike[str] | None, flag: str, *, directory: bool = False) -> None:
    """UsageError unless ``path`` (a file, or with ``directory`` a folder) can be created or
    overwritten: it is not the other kind of thing, and its nearest existing folder is writable."""
    if path is None:
        return
    path = FsPath(path).absolute()
    where = f"{flag} {path}"
    if path.exists() and path.is_dir() != directory:
        kind = "a directory" if path.is_dir() else "a file"
        raise UsageError(f"{where}: is {kind}; give {'a directory' if directory else 'a file name'}")
    base = _nearest_existing(path if directory else path.parent)
    if not base.is_dir():
        raise UsageError(f"{where}: {base} is a file, not a directory; choose another path")
    target = path if path.exists() else base
    if not os.access(target, os.W_OK | (os.X_OK if target.is_dir() else 0)):
        raise UsageError(f"{where}: {target} is not writable; choose a path you can write to")
