"""Checkpoints that resume a run exactly, written atomically.

    output_dir/checkpoints/step-000040/
      trainable.pt     every student's trainable weights (LoRA or full), router, peer, student state
      optim.pt         every optimizer and scheduler
      trainer.json     global step, micro-batch position, epoch routing counters
      rng-{rank}.pt    python, numpy, torch and gate-generator RNG states of each process

A checkpoint is built in a hidden temp dir and renamed into place, so a kill leaves either the
previous checkpoint or the new one.

>>> save_torch_atomic({"w": tensor}, "out/router.pt")
>>> latest_checkpoint("out")
PosixPath('out/checkpoints/step-000040')
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import tempfile
from pathlib import Path as FsPath
from typing import Any

import numpy as np
import torch

_STEP_DIR = re.compile(r"^step-(\d+)$")


def save_torch_atomic(obj: Any, path: str | os.PathLike[str]) -> None:
    """``torch.save`` to a temp file in the same directory, then rename."""
    path = FsPath(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        torch.save(obj, tmp)
        os.replace(tmp, path)
    except BaseException:
        FsPath(tmp).unlink(missing_ok=True)
        raise


def checkpoint_dir(output_dir: str | os.PathLike[str], step: int) -> FsPath:
    """Where the checkpoint of optimizer step ``step`` lives."""
    return FsPath(output_dir) / "checkpoints" / f"step-{step:06d}"


def staging_dir(output_dir: str | os.PathLike[str], step: int) -> FsPath:
    """Hidden directory a checkpoint is written into before ``publish``."""
    return FsPath(output_dir) / "checkpoints" / f".tmp-step-{step:06d}"


def publish(output_dir: str | os.PathLike[str], step: int, keep: int) -> FsPath:
    """Rename the staged checkpoint into place and delete all but the ``keep`` newest."""
    final = checkpoint_dir(output_dir, step)
    if final.exists():
        shutil.rmtree(final)
    os.replace(staging_dir(output_dir, step), final)
    for old in list_checkpoints(output_dir)[:-keep] if keep > 0 else []:
        shutil.rmtree(old)
    return final


def list_checkpoints(output_dir: str | os.PathLike[str]) -> list[FsPath]:
    """Finished checkpoints, oldest first."""
    root = FsPath(output_dir) / "checkpoints"
    found = [(int(m.group(1)), p) for p in root.glob("step-*") if p.is_dir() and (m := _STEP_DIR.match(p.name))]
    return [p for _, p in sorted(found)]


def latest_checkpoint(output_dir: str | os.PathLike[str]) -> FsPath | None:
    """The newest finished checkpoint, or None."""
    found = list_checkpoints(output_dir)
    return found[-1] if found else None


def rng_state(gate_generator: torch.Generator) -> dict[str, Any]:
    """Every RNG state this process uses."""
    return {
        "python": random.getstate(),
        "numpy": np.random.get_state(),
        "torch": torch.get_rng_state(),
        "gates": gate_generator.get_state(),
    }


def restore_rng(state: dict[str, Any], gate_generator: torch.Generator) -> None:
    """Put back what ``rng_state`` saved."""
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    torch.set_rng_state(state["torch"])
    gate_generator.set_state(state["gates"])


def write_json(path: FsPath, obj: dict[str, Any]) -> None:
    """Small JSON file (inside a staging dir, so no atomic dance needed)."""
    path.write_text(json.dumps(obj, indent=2) + "\n", encoding="utf-8")


def read_json(path: FsPath) -> dict[str, Any]:
    """Read a JSON file written by ``write_json``; a missing/corrupt file names itself."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise RuntimeError(f"{path}: unreadable checkpoint file ({exc}); delete that checkpoint dir to resume from the previous one") from None
