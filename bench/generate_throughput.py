"""Throughput of the openai teacher backend against a local server with a fixed latency.

Starts ``tests/openai_server.py`` in a subprocess (every answer after ``--latency`` seconds),
then for each concurrency sends the requests twice: through qrdistill (OpenAIBackend +
complete_cached into a fresh CallCache, i.e. with the durable per-call fsync the generate
stage does) and through what a user would otherwise write (openai.AsyncOpenAI with
asyncio.gather and a semaphore). Reports calls/s, the fraction of the ideal
(concurrency / latency), the ratio ours/plain, and this process's RSS at start, middle, end.

    python bench/generate_throughput.py                       # 50 @ 1, 2000 @ 16, 2000 @ 64
    python bench/generate_throughput.py --requests 500 --concurrency 16,64 --json out.json
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path as FsPath

import psutil

from qrdistill.backends import ChatRequest, complete_cached
from qrdistill.backends.openai_compat import OpenAIBackend
from qrdistill.callcache import CallCache

ROOT = FsPath(__file__).resolve().parents[1]


@dataclass
class Run:
    client: str
    concurrency: int
    requests: int
    seconds: float
    calls_per_s: float
    fraction_of_ideal: float
    failed: int
    rss_mb: tuple[float, float, float]
    cpu_ms_per_call: float


def rss_mb() -> float:
    return psutil.Process().memory_info().rss / 2**20


def make_requests(n: int) -> list[ChatRequest]:
    return [ChatRequest(messages=[{"role": "user", "content": f"Question {i}: what is {i} + {i}?"}], temperature=0.8, max_tokens=64, seed=i) for i in range(n)]


def run_ours(base_url: str, requests: list[ChatRequest], concurrency: int, workdir: FsPath) -> tuple[float, int, tuple[float, float, float]]:
    backend = OpenAIBackend("bench-model", base_url, concurrency=concurrency, max_retries=2, timeout=30)
    marks = [rss_mb(), 0.0]
    done = [0]

    def on_result(_: int, __: object) -> None:
        done[0] += 1
        if done[0] == len(requests) // 2:
            marks[1] = rss_mb()

    cache_path = workdir / f"cache-{concurrency}.jsonl"
    started = time.perf_counter()
    with CallCache(cache_path) as cache:
        results = complete_cached(backend, requests, cache, on_result=on_result)
    seconds = time.perf_counter() - started
    return seconds, sum(not r.ok for r in results), (marks[0], marks[1], rss_mb())


def run_plain(base_url: str, requests: list[ChatRequest], concurrency: int) -> tuple[float, int, tuple[float, float, float]]:
    from openai import AsyncOpenAI

    marks = [rss_mb(), 0.0]

    async def main() -> int:
        client = AsyncOpenAI(base_url=base_url, api_key="unused", max_retries=2, timeout=30)
        semaphore = asyncio.Semaphore(concurrency)
        done = 0

        async def one(request: ChatRequest) -> bool:
            nonlocal done
            async with semaphore:
                try:
                    response = await client.chat.completions.create(
                        model="bench-model", messages=request.messages, temperature=request.temperature,
                        max_tokens=request.max_tokens, seed=request.seed,
                    )
                    ok = response.choices[0].message.content is not None
                except Exception:
                    ok = False
            done += 1
            if done == len(requests) // 2:
                marks[1] = rss_mb()
            return ok

        results = await asyncio.gather(*(one(r) for r in requests))
        await client.close()
        return sum(not ok for ok in results)

    started = time.perf_counter()
    failed = asyncio.run(main())
    return time.perf_counter() - started, failed, (marks[0], marks[1], rss_mb())


def start_server(latency: float) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen([sys.executable, str(ROOT / "tests" / "openai_server.py"), "--latency", str(latency)], stdout=subprocess.PIPE, text=True)
    line = proc.stdout.readline() if proc.stdout else ""
    if not line.startswith("PORT "):
        proc.kill()
        raise RuntimeError(f"benchmark server did not start: {line!r}")
    return proc, f"http://127.0.0.1:{int(line.split()[1])}/v1"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency", type=float, default=0.2)
    parser.add_argument("--concurrency", default="1,16,64")
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--requests-at-1", type=int, default=50, help="fewer requests at concurrency 1 (2000 would take 400 s)")
    parser.add_argument("--json", type=FsPath, default=None)
    args = parser.parse_args()

    server, base_url = start_server(args.latency)
    runs: list[Run] = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for concurrency in (int(c) for c in args.concurrency.split(",")):
                n = args.requests_at_1 if concurrency == 1 else args.requests
                requests = make_requests(n)
                ideal = concurrency / args.latency
                for client, fn in (("qrdistill", lambda: run_ours(base_url, requests, concurrency, FsPath(tmp))),
                                   ("plain AsyncOpenAI", lambda: run_plain(base_url, requests, concurrency))):
                    cpu_start = time.process_time()
                    seconds, failed, rss = fn()
                    cpu_ms = (time.process_time() - cpu_start) * 1000 / n
                    rate = n / seconds
                    runs.append(Run(client, concurrency, n, round(seconds, 2), round(rate, 1), round(rate / ideal, 3), failed,
                                    tuple(round(x, 1) for x in rss), round(cpu_ms, 2)))
                    print(f"{client:>18} c={concurrency:<3} n={n:<5} {seconds:7.2f} s {rate:7.1f} calls/s "
                          f"{rate / ideal:6.1%} of ideal  client CPU {cpu_ms:.2f} ms/call  failed={failed}  RSS MB start/mid/end={rss}", flush=True)
    finally:
        server.kill()
        server.wait()

    print("\n| concurrency | requests | ideal calls/s | qrdistill calls/s (of ideal) | plain AsyncOpenAI calls/s (of ideal) | ratio | client CPU ms/call (qrdistill / plain) | qrdistill RSS MB start/mid/end | plain RSS MB start/mid/end |")
    print("|---|---|---|---|---|---|---|---|---|")
    for ours, plain in zip(runs[::2], runs[1::2]):
        ideal = ours.concurrency / args.latency
        print(f"| {ours.concurrency} | {ours.requests} | {ideal:.0f} | {ours.calls_per_s} ({ours.fraction_of_ideal:.1%}) | "
              f"{plain.calls_per_s} ({plain.fraction_of_ideal:.1%}) | {ours.calls_per_s / plain.calls_per_s:.2f} | "
              f"{ours.cpu_ms_per_call} / {plain.cpu_ms_per_call} | "
              f"{' / '.join(map(str, ours.rss_mb))} | {' / '.join(map(str, plain.rss_mb))} |")
    print(f"\nmachine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, load avg {os.getloadavg()[0]:.2f}; python {platform.python_version()}")
    if args.json:
        args.json.write_text(json.dumps([asdict(r) for r in runs], indent=2))


if __name__ == "__main__":
    main()
