"""Memory of a two-student qr_distill training run: where it goes within a step, and whether it grows.

    python bench/train_memory.py --minutes 60                  # RSS every second over an hour of training
    python bench/train_memory.py --minutes 5 --gradient-checkpointing --split-every 10   # + the split every 10 steps
    python bench/train_memory.py --minutes 3 --dtype float32    # as the students ran before bfloat16
    MALLOC_MMAP_THRESHOLD_=131072 python bench/train_memory.py --steps 60   # a glibc setting, 60 steps
    ONEDNN_PRIMITIVE_CACHE_CAPACITY=1024 LRU_CACHE_CAPACITY=1024 python bench/train_memory.py --steps 40   # the kernel caches uncapped
    python bench/train_memory.py --steps 400 --gradient-checkpointing --step-peaks   # which step sets the peak

The run (a child process): ``qrdistill.train``, method qr_distill, both embedded students, LoRA
r 16, batch ``--batch``, GSM8K train questions with their reference solutions as paths (read from
``../shared/data/gsm8k_openai/train.jsonl`` beside the checkout, or ``--gsm8k FILE``), as many
epochs as fit in ``--minutes`` (or until ``--steps`` steps), a checkpoint every ``--save-steps`` steps. The parent samples the
child's RSS every ``--every`` seconds and stops it when the time is up.

The child prints its memory at the phases of its first two steps: after each student's decoder
forward, after each student's LM head + CE, after the optimizer step, split into what the kernel
counts (anonymous memory, file-backed pages: the memory-mapped weights) and what glibc's malloc
holds (in use by live tensors, freed but kept). Then the table: peak RSS until the first step ended, peak
over the run, the median RSS over the first and the last tenth of the steps, and the growth.
("Until step 1" covers loading, tokenisation, path embeddings and the first step itself.)
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timezone
from pathlib import Path as FsPath

import psutil

sys.path.insert(0, str(FsPath(__file__).resolve().parent))
from train_throughput import GSM8K, load_data, spec  # noqa: E402

from qrdistill.memory import mallinfo, trim_heap  # noqa: E402


def memory_line(tag: str) -> str:
    """RSS split by the kernel (anonymous / file-backed / peak) and by glibc malloc (in use / freed but held)."""
    status = {k: int(v.split()[0]) // 1024 for k, v in (line.split(":", 1) for line in open("/proc/self/status")) if k in ("RssAnon", "RssFile", "VmHWM")}
    line = f"{tag:42s} anon {status['RssAnon']:6d} MB  file {status['RssFile']:5d} MB  peak {status['VmHWM']:6d} MB"
    try:
        info = mallinfo()
        line += f"  | malloc in use {(info.uordblks + info.hblkhd) >> 20:6d} MB  freed, held {info.fordblks >> 20:5d} MB"
    except (OSError, AttributeError):  # not glibc
        pass
    return line


def child(args: argparse.Namespace) -> None:
    import torch
    from torch.optim.optimizer import register_optimizer_step_post_hook

    from qrdistill.students.student import Student
    from qrdistill.train.config import TrainConfig
    from qrdistill.method.forward import StudentForward
    from qrdistill.train import trainer
    from qrdistill.train.trainer import train
    from qrdistill.method import losses

    if args.chunk_logits:
        losses.CHUNK_LOGITS = args.chunk_logits

    phases = {"steps": 0}

    def mark(tag: str) -> None:
        if phases["steps"] < 2:
            print(memory_line(tag), flush=True)

    hidden_states, forward = Student.hidden_states, StudentForward.forward

    def traced_hidden_states(self, *a, **k):
        out = hidden_states(self, *a, **k)
        mark(f"  {self.name}: decoder forward")
        return out

    def traced_forward(self, *a, **k):
        out = forward(self, *a, **k)
        mark(f"  {self.student.name}: LM head + CE ({out[1].shape[0]} rows)")
        return out

    def after_step(optimizer, *_):
        if optimizer is optimizers[0]:
            mark(f"step {phases['steps'] + 1}: after backward + optimizer")
            phases["steps"] += 1
            if args.split_every and phases["steps"] > 2 and phases["steps"] % args.split_every == 0:
                print(memory_line(f"step {phases['steps']}"), flush=True)
            phases["ended"] = True

    def traced_trim() -> int:
        """The trainer's heap trim, with the peak since the last trim read before it and the high-water
        mark reset after it: each ``--step-peaks`` line covers one step, from the trim that ended the
        step before to the trim that ends it (a trim inside the step does not split it)."""
        if args.step_peaks:
            phases["peak"] = max(phases.get("peak", 0.0), high_water_mark(os.getpid()))
            if phases.pop("ended", False):
                print(f"step {phases['steps']} peak {phases.pop('peak'):.0f} MB", flush=True)
        released = trim_heap()
        if args.step_peaks:
            reset_high_water_mark()
        return released

    optimizers: list[torch.optim.Optimizer] = []
    original_init = torch.optim.AdamW.__init__

    def recording_init(self, *a, **k):
        original_init(self, *a, **k)
        optimizers.append(self)

    Student.hidden_states, StudentForward.forward, torch.optim.AdamW.__init__ = traced_hidden_states, traced_forward, recording_init
    trainer.trim_heap = traced_trim
    register_optimizer_step_post_hook(after_step)
    paths, questions = load_data(args.gsm8k, args.n)
    print(memory_line("before loading"), flush=True)
    cfg = TrainConfig(output_dir=args.out, method="qr_distill", num_train_epochs=1000, per_device_train_batch_size=args.batch,
                      warmup_ratio=0.0, seed=0, save_steps=args.save_steps, save_total_limit=1,
                      students=[spec(n, args.gradient_checkpointing, args.dtype) for n in ("smollm2", "gemma3")])
    train(cfg, paths, questions)


def steps_done(metrics: FsPath) -> int:
    if not metrics.exists():
        return 0
    lines = metrics.read_text().splitlines()
    try:
        return json.loads(lines[-1])["step"] if lines else 0
    except json.JSONDecodeError:  # a line being written
        return json.loads(lines[-2])["step"] if len(lines) > 1 else 0


def finished(args: argparse.Namespace, samples: list[tuple[float, float, int, float]], start: float) -> bool:
    """Whether the run has done ``--steps`` steps, or (without ``--steps``) ran ``--minutes``."""
    if args.steps:
        return bool(samples) and samples[-1][2] >= args.steps
    return time.perf_counter() - start >= args.minutes * 60


def page_faults(pid: int) -> int:
    """Minor page faults the process has taken (each a page the kernel mapped and zeroed for it; 0 once it has exited)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return int(stat.read().rsplit(")", 1)[1].split()[7])
    except (OSError, IndexError, ValueError):
        return 0


def high_water_mark(pid: int) -> float:
    """The process's peak RSS in MB as the kernel counts it (VmHWM; 0 once it has exited)."""
    try:
        with open(f"/proc/{pid}/status") as status:
            return next(int(line.split()[1]) / 1024 for line in status if line.startswith("VmHWM:"))
    except (OSError, StopIteration):
        return 0.0


def forward_output(stream, step_peaks: list[float]) -> None:
    """Echo the child's output, keeping the peaks its ``--step-peaks`` lines report."""
    for line in stream:
        print(line, end="", flush=True)
        if line.startswith("step ") and " peak " in line and line.rstrip().endswith(" MB"):
            step_peaks.append(float(line.split(" peak ")[1].split()[0]))


def reset_high_water_mark() -> None:
    """Set this process's VmHWM back to its current RSS (Linux ``clear_refs``), so the next reading is
    the peak since now."""
    with open("/proc/self/clear_refs", "w") as refs:
        refs.write("5")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=60.0)
    parser.add_argument("--steps", type=int, default=0, help="stop after this many steps instead (0: run for --minutes)")
    parser.add_argument("--every", type=float, default=1.0, help="seconds between RSS samples")
    parser.add_argument("--n", type=int, default=64, help="paths (epochs repeat over them)")
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--save-steps", type=int, default=50)
    parser.add_argument("--dtype", default=None, help="students' dtype (default: their spec default, bfloat16)")
    parser.add_argument("--gradient-checkpointing", action="store_true")
    parser.add_argument("--chunk-logits", type=int, default=0, help="logits the LM-head loss computes at once (0: losses.CHUNK_LOGITS)")
    parser.add_argument("--split-every", type=int, default=0, help="also print the kernel/malloc split every N steps (0: first two steps only)")
    parser.add_argument("--step-peaks", action="store_true",
                        help="print each step's own peak RSS (the high-water mark is reset after every step; the run's peak then reads as the largest of these)")
    parser.add_argument("--gsm8k", type=FsPath, default=GSM8K)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return
    print(f"{platform.machine()} {os.cpu_count()} cores, {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, load average "
          f"{os.getloadavg()[0]:.1f}; qr_distill, {args.n} paths, batch {args.batch}, dtype {args.dtype or 'default'}, "
          f"gradient checkpointing {'on' if args.gradient_checkpointing else 'off'}, "
          f"{f'{args.steps} steps' if args.steps else f'{args.minutes:g} min'}")
    with tempfile.TemporaryDirectory() as out:
        cmd = [sys.executable, __file__, "--child", "--out", out, "--n", str(args.n), "--batch", str(args.batch),
               "--save-steps", str(args.save_steps), "--gsm8k", str(args.gsm8k)]
        cmd += (["--dtype", args.dtype] if args.dtype else []) + (["--gradient-checkpointing"] if args.gradient_checkpointing else [])
        cmd += ["--split-every", str(args.split_every), "--chunk-logits", str(args.chunk_logits)] + (["--step-peaks"] if args.step_peaks else [])
        proc = subprocess.Popen(cmd, stderr=subprocess.DEVNULL, stdout=subprocess.PIPE, text=True)
        step_peaks: list[float] = []
        echo = threading.Thread(target=forward_output, args=(proc.stdout, step_peaks), daemon=True)
        echo.start()
        watched, samples, start = psutil.Process(proc.pid), [], time.perf_counter()
        metrics = FsPath(out) / "metrics.jsonl"
        while proc.poll() is None and not finished(args, samples, start):
            try:
                cpu = watched.cpu_times()
                samples.append((time.perf_counter() - start, watched.memory_info().rss / 2**20, steps_done(metrics), cpu.user + cpu.system))
            except psutil.NoSuchProcess:
                break
            time.sleep(args.every)
        high_water, faults = high_water_mark(proc.pid), page_faults(proc.pid)
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            proc.wait()
        elif proc.returncode != 0:
            raise SystemExit(f"the training run failed (exit {proc.returncode})")
        echo.join(timeout=10)
        if args.step_peaks:  # the child reset its high-water mark after every step
            high_water = max([high_water] + step_peaks)
    steps = samples[-1][2]
    loading = [rss for _, rss, step, _ in samples if step == 0]
    tenth = max(1, steps // 10)
    first = [rss for _, rss, step, _ in samples if 1 <= step <= tenth]
    last = [rss for _, rss, step, _ in samples if step > steps - tenth]
    print(f"\n| steps | minutes | CPU s per step | page faults per step, loading included (thousands) | peak RSS MB until step 1 ended | peak RSS MB (sampled / kernel high-water mark) | median RSS MB, steps 1-{tenth} | "
          f"median RSS MB, steps {steps - tenth + 1}-{steps} | growth | load avg at the end |\n|---|---|---|---|---|---|---|---|---|---|")
    if first and last:
        growth = statistics.median(last) / statistics.median(first) - 1
        first_step, cpu_at_first = next((step, used) for _, _, step, used in samples if step >= 1)
        cpu_per_step = (samples[-1][3] - cpu_at_first) / max(1, steps - first_step)
        print(f"| {steps} | {samples[-1][0] / 60:.1f} | {cpu_per_step:.1f} | {faults / max(1, steps) / 1000:.0f} | {max(loading, default=0):.0f} | {max(r for _, r, _, _ in samples):.0f} / {high_water:.0f} | "
              f"{statistics.median(first):.0f} | {statistics.median(last):.0f} | {growth:+.1%} | {os.getloadavg()[0]:.1f} |")


if __name__ == "__main__":
    main()
