"""Give memory that Python and glibc's malloc hold but no longer use back to the system, and cap
what PyTorch's CPU kernel caches keep.

One process runs every stage of a pipeline; without this, the memory a two-student training step
freed stays with malloc and the next evaluation starts near the training's peak
(docs/benchmarks.md, "Where the quick demo's peak comes from").

>>> release_memory() >= 0
True
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import os
from functools import cache

KERNEL_CACHE_CAPACITY = 256
"""Kernels each of PyTorch's two CPU kernel caches keeps (their default is 1,024). A bf16 matmul
kernel costs ~0.28 MB per cache whatever its size, and training builds one per matrix shape; at 256
a two-student run's live memory levels off at ~600 MB instead of climbing past 1 GB
(docs/benchmarks.md, "Capped kernel caches and smaller logit chunks")."""
KERNEL_CACHE_VARIABLES = ("ONEDNN_PRIMITIVE_CACHE_CAPACITY", "LRU_CACHE_CAPACITY")
"""oneDNN's primitive cache and ideep's LRU cache, read when the process builds its first kernel."""


@cache
def _libc() -> ctypes.CDLL | None:
    """The C library, loaded once (``None`` where it cannot be found)."""
    name = ctypes.util.find_library("c")
    try:
        return ctypes.CDLL(name) if name else None
    except OSError:
        return None


class MallInfo2(ctypes.Structure):
    """glibc's ``struct mallinfo2``: in use by live allocations ``uordblks + hblkhd``, freed but held ``fordblks``."""
    _fields_ = [(name, ctypes.c_size_t) for name in
                ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost")]


def mallinfo() -> MallInfo2:
    """glibc's ``mallinfo2()``, what the memory benchmarks and tests read malloc's state with.
    Raises OSError or AttributeError where the C library is not glibc."""
    libc = _libc()
    if libc is None:
        raise OSError("no C library found")
    libc.mallinfo2.restype = MallInfo2
    return libc.mallinfo2()


def heap_in_use() -> int:
    """Bytes malloc has handed out to live allocations (heap and mmapped chunks); glibc only, as ``mallinfo``."""
    info = mallinfo()
    return info.uordblks + info.hblkhd


def cap_kernel_caches(capacity: int = KERNEL_CACHE_CAPACITY) -> None:
    """Cap both CPU kernel caches at ``capacity`` kernels, unless the environment already sets them.

    Acts only before the process's first oneDNN kernel is built (the libraries read the variables
    once); ``import qrdistill`` calls it. Set the variables yourself to choose another size."""
    for name in KERNEL_CACHE_VARIABLES:
        os.environ.setdefault(name, str(capacity))


def trim_heap() -> int:
    """Ask malloc to return its free pages (cheap: no garbage collection); returns 1 if it released some.

    Training in its memory-lean setting (``TrainSettings.trim_memory``, by default when a student
    uses gradient checkpointing) calls it between each micro-batch's forward and backward and after
    every optimizer step: batches of other shapes leave freed blocks that malloc keeps. Without it
    a two-student run's RSS grew from 3.9 to 5.7 GB over an hour while its live allocations stayed near 1.1 GB
    (docs/benchmarks.md, "One hour of training"); the trim before the backward lowers each step's
    peak by ~160 MB ("A trim between the forward and the backward")."""
    trim = getattr(_libc(), "malloc_trim", None)  # not glibc (musl, macOS): nothing to trim
    return int(trim(0)) if trim is not None else 0


def release_memory() -> int:
    """Collect garbage, then ask malloc to return its free pages; returns 1 if malloc released some, else 0."""
    gc.collect()
    return trim_heap()
