"""What FSDP sharding of the students costs and saves: 2 processes, same run with sharding none / fsdp.

    accelerate launch --config_file configs/accelerate/cpu-ddp.yaml bench/fsdp_sharding.py --n 8 --steps 3

Both embedded students (SmolLM2-135M + Gemma-3-270M), LoRA as bench/train_throughput.py, method
multi_path, GSM8K reference solutions as paths. Per run: optimizer steps, wall time of the loop,
tokens/s (both students, all processes), and per student the bytes of weights + AdamW state
that rank 0 holds at the end (TrainResult.resident_bytes). Rank 0 prints a markdown table.
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path as FsPath

import torch.distributed as dist
from train_throughput import GSM8K, load_data, spec  # this script's own folder is on sys.path

from qrdistill.train.config import TrainConfig
from qrdistill.train.trainer import train


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=8, help="number of paths")
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--batch", type=int, default=2, help="per process")
    parser.add_argument("--gsm8k", type=FsPath, default=GSM8K)
    parser.add_argument("--out", type=FsPath, default=FsPath("/tmp/qrdistill-bench-fsdp"), help="scratch dir shared by the processes, removed at the end")
    args = parser.parse_args()
    paths, questions = load_data(args.gsm8k, args.n)
    rows = []
    for sharding in ("none", "fsdp"):
        cfg = TrainConfig(output_dir=str(args.out / sharding), method="multi_path", students=[spec("smollm2"), spec("gemma3")],
                          max_steps=args.steps, per_device_train_batch_size=args.batch, warmup_ratio=0.0, seed=0, sharding=sharding)
        rows.append((sharding, train(cfg, paths, questions)))
    if dist.get_rank() != 0:
        return
    shutil.rmtree(args.out)
    names = list(rows[0][1].resident_bytes)
    print(f"| sharding | steps | loop s | tokens/s | {' | '.join(f'{n} weights+AdamW MB (rank 0)' for n in names)} |")
    print("|---|---|---|---|" + "---|" * len(names))
    for sharding, r in rows:
        mb = " | ".join(f"{r.resident_bytes[n] / 2**20:.0f}" for n in names)
        print(f"| {sharding} | {r.steps} | {r.train_seconds:.1f} | {sum(r.tokens.values()) / r.train_seconds:.1f} | {mb} |")


if __name__ == "__main__":
    main()
