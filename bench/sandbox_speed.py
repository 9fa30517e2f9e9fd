"""Sandbox throughput: programs per second through ``run_python``, one worker and several.

    python bench/sandbox_speed.py [--programs 200] [--workers 1,2,4]

The programs are what Program paths look like: plain arithmetic (most real PoT programs), the
``fractions`` module, numpy and sympy (whose import dominates their time). Each kind is timed on its
own; every run must print the expected value, or the benchmark stops.
"""

from __future__ import annotations

import argparse
import time
from concurrent.futures import ThreadPoolExecutor

from qrdistill.quality.sandbox import SandboxLimits, run_python

KINDS = {
    "plain": ("apples = 3 * 4\nans = apples + 5\nprint(ans)", "17"),
    "fractions": ("from fractions import Fraction\nprint(Fraction(34, 2))", "17"),
    "numpy": ("import numpy as np\nprint(int(np.array([3, 4]).prod() + 5))", "17"),
    "sympy": ("from sympy import symbols, solve\nx = symbols('x')\nprint(solve(x - 17, x)[0])", "17"),
}


def throughput(code: str, expected: str, programs: int, workers: int) -> float:
    """Programs per second for ``programs`` runs of ``code`` on ``workers`` threads."""
    limits = SandboxLimits(wall_s=60, cpu_s=30)

    def one(_: int) -> None:
        result = run_python(code, limits)
        if result.outcome != "ok" or result.stdout.strip() != expected:
            raise SystemExit(f"unexpected run: {result}")

    run_python(code, limits)  # warm the page cache
    start = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(one, range(programs)))
    return programs / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--programs", type=int, default=200)
    parser.add_argument("--workers", default="1,2,4")
    args = parser.parse_args()
    workers = [int(w) for w in args.workers.split(",")]
    print("| program | " + " | ".join(f"{w} worker{'s' if w > 1 else ''} (programs/s)" for w in workers) + " |")
    print("|---|" + "---|" * len(workers))
    for kind, (code, expected) in KINDS.items():
        n = args.programs if kind in ("plain", "fractions") else max(8, args.programs // 10)
        print(f"| {kind} | " + " | ".join(f"{throughput(code, expected, n, w):.1f}" for w in workers) + " |", flush=True)


if __name__ == "__main__":
    main()
