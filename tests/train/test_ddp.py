"""A real 2-process DDP run on CPU (gloo) through ``accelerate launch``.

``--cpu`` alone makes accelerate start ONE process (multi-CPU wants mpirun); ``--multi_gpu``
starts torchrun, and the trainer's Accelerator(cpu=True) then joins a gloo process group.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from qrdistill.train.config import TrainConfig
from qrdistill.train.trainer import train

WORKER = Path(__file__).with_name("ddp_worker.py")


def _metrics(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_two_processes_match_one_process_with_the_same_global_batch(tmp_path, data):
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu", "--num_processes", "2", "--num_machines", "1",
           "--mixed_precision", "no", "--dynamo_backend", "no", "--main_process_port", "29517", str(WORKER), str(tmp_path / "ddp")]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-3000:]

    questions = data.make_questions(4)
    single = TrainConfig(output_dir=str(tmp_path / "single"), method="multi_path", students=data.tiny_specs(), max_steps=2, per_device_train_batch_size=4, seed=5)
    train(single, data.make_paths(questions), questions)

    ddp, one = _metrics(tmp_path / "ddp" / "multi_path" / "metrics.jsonl"), _metrics(tmp_path / "single" / "metrics.jsonl")
    for a, b in zip(ddp, one):
        for key in ("ce/smol", "ce/gemma", "loss", "tokens/smol"):
            assert a[key] == pytest.approx(b[key], rel=1e-4), (a["step"], key)
    a = torch.load(tmp_path / "ddp" / "multi_path" / "checkpoints" / "step-000002" / "trainable.pt")["students"]
    b = torch.load(tmp_path / "single" / "checkpoints" / "step-000002" / "trainable.pt")["students"]
    for name in b:
        for key, value in b[name].items():
            torch.testing.assert_close(a[name][key], value, rtol=1e-4, atol=1e-6)

    routed = tmp_path / "ddp" / "qr_distill"
    assert [m["step"] for m in _metrics(routed / "metrics.jsonl")] == [1, 2]
    assert sorted(p.name for p in (routed / "checkpoints" / "step-000002").glob("rng-*.pt")) == ["rng-0.pt", "rng-1.pt"]
    assert (routed / "students" / "gemma" / "adapter_model.safetensors").exists()
