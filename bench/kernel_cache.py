"""Matrix shapes and the CPU kernel caches: live memory and time of bf16 matmul steps whose row count
changes every step, is rounded up to a multiple, or never changes.

    python bench/kernel_cache.py                 # the three settings below, one process each
    python bench/kernel_cache.py --steps 60 --threads 1

Each setting runs in a fresh process: ``--steps`` steps of forward + backward through four bf16
weights of SmolLM2's layer shapes (576x576, 192x576, 1536x576, 576x1536), six times each, on
``M`` = 4 x (a random length in 40..300) rows, which is what a batch of 4 paths of varying length
gives a decoder layer. ``exact``: M as drawn; ``bucketed``: the length rounded up to
a multiple of 16 (``encoding.PAD_MULTIPLE``); ``fixed``: M = 680 every step (the mean);
``capped``: bucketed, with both caches capped at the 256 kernels ``import qrdistill`` sets
(``memory.cap_kernel_caches``; the other three run with the libraries' default). Printed:
wall clock, and the growth of glibc's memory in use by live allocations (``mallinfo2``) after
half the steps and at the end. PyTorch's oneDNN path keeps a built kernel per shape in two caches
(ATen's ``LRU_CACHE_CAPACITY``, oneDNN's ``ONEDNN_PRIMITIVE_CACHE_CAPACITY``; 1024 entries each).
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import time

from qrdistill.memory import KERNEL_CACHE_CAPACITY, KERNEL_CACHE_VARIABLES, heap_in_use

SHAPES = [(576, 576), (192, 576), (1536, 576), (576, 1536)]
SETTINGS = ("exact", "bucketed", "fixed", "capped")
LIBRARY_CAPACITY = 1024
"""Both caches' size when nothing sets it."""


def in_use_mb() -> float:
    """What glibc's malloc has handed out and not got back (heap + mmapped chunks), in MB."""
    return heap_in_use() / 2**20


def rows(setting: str, rng: random.Random) -> int:
    length = rng.randint(40, 300)
    if setting in ("bucketed", "capped"):
        length += -length % 16
    return 680 if setting == "fixed" else 4 * length


def child(setting: str, steps: int, threads: int) -> None:
    import torch

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    rng = random.Random(0)
    weights = [torch.randn(n, k, dtype=torch.bfloat16, requires_grad=True) for n, k in SHAPES]

    def step(m: int) -> None:
        x = torch.randn(m, 576, dtype=torch.bfloat16, requires_grad=True)
        total = x.new_zeros((), dtype=torch.float32)
        for _ in range(6):
            for w in weights[:3]:
                total = total + torch.nn.functional.linear(x, w).float().mean()
            up = torch.nn.functional.linear(x, weights[2])
            total = total + torch.nn.functional.linear(up, weights[3]).float().mean()
        total.backward()

    base, started, half = in_use_mb(), time.perf_counter(), 0.0
    for i in range(steps):
        step(rows(setting, rng))
        if i + 1 == steps // 2:
            half = in_use_mb() - base
    seconds = time.perf_counter() - started
    print(f"| {setting} | {seconds:.1f} | {half:+.1f} | {in_use_mb() - base:+.1f} |", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--child", choices=SETTINGS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.steps, args.threads)
        return
    print(f"{args.steps} steps, {args.threads} thread(s)\n")
    print("| rows per step | seconds | live memory growth, half-way (MB) | at the end (MB) |\n|---|---|---|---|", flush=True)
    for setting in SETTINGS:
        capacity = KERNEL_CACHE_CAPACITY if setting == "capped" else LIBRARY_CAPACITY
        env = os.environ | {name: str(capacity) for name in KERNEL_CACHE_VARIABLES}
        subprocess.run([sys.executable, __file__, "--child", setting, "--steps", str(args.steps), "--threads", str(args.threads)],
                       check=True, env=env)


if __name__ == "__main__":
    main()
