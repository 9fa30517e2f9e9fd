"""release_memory hands freed heap pages back to the system, so a pipeline's next stage does not
start at the previous stage's peak."""

import ctypes.util
import platform

import psutil
import pytest

from qrdistill.memory import release_memory


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
