"""Directories written beside their destination and moved into place when complete.

>>> tmp = staging(FsPath("exported/smollm2"))      # exported/.smollm2.tmp, empty
>>> model.save_pretrained(tmp)
>>> publish(tmp, FsPath("exported/smollm2"))         # replaces an older export
"""

from __future__ import annotations

import shutil
from pathlib import Path as FsPath


def staging(out: FsPath) -> FsPath:
    """An empty (or absent) sibling of ``out`` to write into; a leftover of a killed export is removed."""
    tmp = out.with_name(f".{out.name}.tmp")
    if tmp.is_dir():
        shutil.rmtree(tmp)
    tmp.unlink(missing_ok=True)
    out.parent.mkdir(parents=True, exist_ok=True)
    return tmp


def publish(tmp: FsPath, out: FsPath) -> None:
    """Move the finished ``tmp`` to ``out``, replacing what was there."""
    if out.is_dir():
        shutil.rmtree(out)
    elif out.exists():
        out.unlink()
    tmp.rename(out)
