"""Saving a run's checkpoint and resuming from the newest one (files: ``checkpoint.py``).

A checkpoint is resumed only by a run with the same method, students and training paths (its
fingerprint) and the same number of processes; the metrics and routing logs are cut back to the
checkpoint's step.

>>> save_checkpoint(run, config, accelerator, fingerprint(config, paths))
>>> resume(run, config, accelerator, fingerprint(config, paths))        # False: no checkpoint yet
"""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Callable, Sequence
from pathlib import Path as FsPath
from typing import Any

import torch
from accelerate import Accelerator

from qrdistill.jsonl import iter_json_lines, write_records
from qrdistill.records import Path
from qrdistill.train import checkpoint as ckpt
from qrdistill.train.config import TrainConfig
from qrdistill.train.setup import TrainState
from qrdistill.train.sharding import gather_state, load_optimizer_state


def fingerprint(config: TrainConfig, paths: Sequence[Path]) -> dict[str, Any]:
    """What a checkpoint must match to be resumed: method, students and the training paths."""
    keys = hashlib.sha256("\n".join(sorted(p.key for p in paths)).encode()).hexdigest()
    return {"method": config.method, "students": [s.model_dump(mode="json") for s in config.students], "paths": keys}


def save_checkpoint(run: TrainState, config: TrainConfig, accelerator: Accelerator, fingerprint: dict[str, Any]) -> None:
    """Write ``checkpoints/step-N`` (every process calls this: sharded weights are gathered)."""
    out, rank = FsPath(config.output_dir), accelerator.process_index
    stage = ckpt.staging_dir(out, run.step)
    if accelerator.is_main_process:
        shutil.rmtree(stage, ignore_errors=True)
        stage.mkdir(parents=True)
    accelerator.wait_for_everyone()
    torch.save(ckpt.rng_state(run.gate_generator), stage / f"rng-{rank}.pt")
    if accelerator.is_main_process or run.sharded:  # gathering sharded weights takes every process
        trainable = run.trainable_state()
        optimizers = [gather_state(o.state_dict()) for o in run.optimizers]
    if accelerator.is_main_process:
        torch.save(trainable, stage / "trainable.pt")
        torch.save({"optimizers": optimizers, "schedulers": [s.state_dict() for s in run.schedulers]}, stage / "optim.pt")
        ckpt.write_json(stage / "trainer.json", {"step": run.step, "micro": run.micro, "world": accelerator.num_processes,
                                                  "routing_counts": run.routing_counts, "last_routes": run.last_routes,
                                                  "fingerprint": fingerprint})
    accelerator.wait_for_everyone()
    if accelerator.is_main_process:
        ckpt.publish(out, run.step, config.save_total_limit)
    accelerator.wait_for_everyone()


def resume(run: TrainState, config: TrainConfig, accelerator: Accelerator, fingerprint: dict[str, Any]) -> bool:
    """Load the newest checkpoint into ``run``; False when there is none. A checkpoint of other
    settings or another number of processes is an error saying what to do."""
    found = ckpt.latest_checkpoint(config.output_dir)
    if found is None:
        return False
    meta = ckpt.read_json(found / "trainer.json")
    if meta["world"] != accelerator.num_processes:
        raise RuntimeError(f"{found}: written by {meta['world']} process(es), resuming with {accelerator.num_processes}; resume with the same number")
    differs = [k for k, v in fingerprint.items() if meta.get("fingerprint", {}).get(k) != v]
    if differs:
        raise RuntimeError(f"{found}: this checkpoint was written for a different {', '.join(differs)}; "
                           f"resume with the same settings and data, or delete {config.output_dir} (or pick another output_dir) to start afresh")
    run.load_trainable_state(torch.load(found / "trainable.pt", weights_only=False))
    optim = torch.load(found / "optim.pt", weights_only=False)
    for opt, saved in zip(run.optimizers, optim["optimizers"]):
        load_optimizer_state(opt, saved)
    for sched, saved in zip(run.schedulers, optim["schedulers"]):
        sched.load_state_dict(saved)
    run.step, run.micro, run.routing_counts = meta["step"], meta["micro"], meta["routing_counts"]
    run.last_routes = meta.get("last_routes")
    ckpt.restore_rng(torch.load(found / f"rng-{accelerator.process_index}.pt", weights_only=False), run.gate_generator)
    return True


def truncate_jsonl(path: FsPath, keep: Callable[[dict[str, Any]], bool]) -> None:
    """Keep only the lines of ``path`` for which ``keep(obj)`` holds (resume drops steps after the checkpoint)."""
    if path.exists():
        write_records(path, [obj for _, obj in iter_json_lines(path, allow_torn_tail=True) if keep(obj)])
