"""Run by test_ddp.py under ``accelerate launch --num_processes 2 --cpu``: two methods, one launch."""

import sys
from pathlib import Path

from conftest import make_paths, make_questions, tiny_specs  # this script's own folder is on sys.path

from qrdistill.train.config import TrainConfig
from qrdistill.train.trainer import train

out = Path(sys.argv[1])
questions = make_questions(4)
for method in ("multi_path", "qr_distill"):
    cfg = TrainConfig(output_dir=str(out / method), method=method, students=tiny_specs(), max_steps=2, per_device_train_batch_size=2, seed=5)
    train(cfg, make_paths(questions), questions)
