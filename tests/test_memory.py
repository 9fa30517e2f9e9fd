"""release_memory hands freed heap pages back to the system, so a pipeline's next stage does not
start at the previous stage's peak."""

import ctypes.util
import platform

import psutil
import pytest

from qrdistill.memory import KERNEL_CACHE_VARIABLES, release_memory


@pytest.mark.skipif(platform.system() != "Linux" or "libc" not in (ctypes.util.find_library("c") or ""),
                    reason="malloc_trim is glibc's")
def test_freed_heap_memory_goes_back_to_the_system() -> None:
    process = psutil.Process()
    release_memory()
    before = process.memory_info().rss
    blocks = [bytearray(64 * 1024) for _ in range(3200)]  # 200 MB in blocks below malloc's mmap threshold
    grown = process.memory_info().rss
    live = blocks[::16]  # every 16th block stays: the freed ones lie between live ones, so free() cannot shrink the heap
    del blocks
    held = process.memory_info().rss
    assert grown - before > 150 << 20
    assert held - before > 150 << 20  # freed, but malloc keeps it
    assert release_memory() == 1
    assert process.memory_info().rss - before < 50 << 20
    assert len(live) == 200


def test_release_memory_collects_unreachable_cycles() -> None:
    import gc
    import weakref

    class Node:
        pass

    a, b = Node(), Node()
    a.other, b.other = b, a
    ref = weakref.ref(a)
    gc.disable()
    try:
        del a, b
        assert ref() is not None
        release_memory()
        assert ref() is None
    finally:
        gc.enable()


KERNELS = """
import torch
from qrdistill.memory import heap_in_use  # importing qrdistill caps the kernel caches

torch.set_num_threads(1)
weight = torch.randn(64, 64, dtype=torch.bfloat16)
torch.nn.functional.linear(torch.randn(1, 64, dtype=torch.bfloat16), weight)
before = heap_in_use()
for rows in range(2, 602):  # 600 matrix shapes: one kernel each
    torch.nn.functional.linear(torch.randn(rows, 64, dtype=torch.bfloat16), weight)
print(heap_in_use() - before)
"""


def _kernel_memory(env: dict[str, str]) -> int:
    import os
    import subprocess
    import sys

    clean = {k: v for k, v in os.environ.items() if k not in KERNEL_CACHE_VARIABLES}
    done = subprocess.run([sys.executable, "-c", KERNELS], env=clean | env, capture_output=True, text=True, check=True)
    return int(done.stdout.split()[-1])


@pytest.mark.skipif(platform.system() != "Linux" or "libc" not in (ctypes.util.find_library("c") or ""),
                    reason="mallinfo2 is glibc's")
def test_importing_qrdistill_caps_the_cpu_kernel_caches() -> None:
    uncapped = _kernel_memory({"ONEDNN_PRIMITIVE_CACHE_CAPACITY": "1024", "LRU_CACHE_CAPACITY": "1024"})
    if uncapped < 50 << 20:
        pytest.skip(f"this CPU's bf16 matmuls keep no per-shape oneDNN kernels ({uncapped >> 20} MB for 600 shapes)")
    capped = _kernel_memory({})
    assert capped < 0.6 * uncapped  # 256 of 600 kernels kept per cache (the user's setting above is respected)
