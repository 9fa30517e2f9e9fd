"""Run by test_fsdp.py under ``accelerate launch`` with 2 processes: students sharded with FSDP2.

multi_path (sharded) to compare with one process; qr_distill unsharded and sharded (same per-rank
gates, so the two must agree); then the sharded qr_distill's last checkpoint is moved aside and
the run resumed from the one before, which must redo the last step exactly. Full fine-tuning with
gradient accumulation, unsharded and sharded.
"""

import json
import shutil
import sys
from pathlib import Path

import torch.distributed as dist
from conftest import make_paths, make_questions, tiny_specs  # this script's own folder is on sys.path

from qrdistill.train.config import TrainConfig
from qrdistill.train.trainer import train

out = Path(sys.argv[1])
questions = make_questions(4)
paths = make_paths(questions)
common = {"students": tiny_specs(), "per_device_train_batch_size": 2, "seed": 5}
result = train(TrainConfig(output_dir=str(out / "multi_path"), method="multi_path", max_steps=2, sharding="fsdp", **common), paths, questions)
assert result.sharding == "fsdp", result.sharding
for sharding in ("none", "fsdp"):
    cfg = TrainConfig(output_dir=str(out / f"qr_{sharding}"), method="qr_distill", max_steps=3, save_steps=1, sharding=sharding, **common)
    resident = train(cfg, paths, questions).resident_bytes
    (out / f"qr_{sharding}" / f"resident-{dist.get_rank()}.json").write_text(json.dumps(resident))

full = [spec.model_copy(update={"lora_r": None, "learning_rate": 1e-4}) for spec in tiny_specs()]
for sharding in ("none", "fsdp"):  # full fine-tuning (Gemma's tied head trains too), 2 accumulated micro-batches
    cfg_full = TrainConfig(output_dir=str(out / f"full_{sharding}"), method="no_route", students=full, max_steps=2,
                           per_device_train_batch_size=1, gradient_accumulation_steps=2, seed=5, sharding=sharding)
    train(cfg_full, paths, questions)

resumed = out / "qr_fsdp"
dist.barrier()  # every rank's resident-*.json is written
if dist.get_rank() == 0:
    shutil.copytree(resumed, out / "qr_fsdp_uninterrupted")
    shutil.rmtree(resumed / "checkpoints" / "step-000003")
    shutil.rmtree(resumed / "students")
dist.barrier()
train(cfg, paths, questions, resume=True)
