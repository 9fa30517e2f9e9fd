"""A finished run's outputs: student adapters, the router and peer modules, where each path went.

    output_dir/students/<name>/   PEFT adapter + tokenizer (or a full model dir): load_student(spec, adapter_dir=...)
    output_dir/router.pt          learned routing only: router weights, styles, students, student state
    output_dir/peer.pt            peer teaching only: projections and competence
    output_dir/routed.jsonl       each training path's last routing decision

>>> adapters = save_outputs(run, get_method("qr_distill"), config, out, weights=[None, None])
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path as FsPath

import torch

from qrdistill.method.methods import Method
from qrdistill.rundir import adapter_dir
from qrdistill.train import checkpoint as ckpt
from qrdistill.train.config import TrainConfig
from qrdistill.train.routing_log import write_routed
from qrdistill.train.setup import TrainState


@dataclass
class TrainResult:
    """Where a finished run put its outputs."""

    output_dir: FsPath
    adapters: dict[str, FsPath]
    """Student name -> adapter dir (PEFT adapter + tokenizer, or a full model dir)."""
    metrics: FsPath
    routing: FsPath
    steps: int
    train_seconds: float
    """Wall time of the optimisation loop (no loading, encoding or saving)."""
    tokens: dict[str, float]
    """Student name -> non-padding tokens it processed in this call (all processes)."""
    sharding: str
    """How the students were held: ``fsdp`` (sharded over the processes) or ``none`` (whole in each)."""
    resident_bytes: dict[str, int]
    """Student name -> bytes of its weights + optimizer state held by this process at the end."""


def save_outputs(run: TrainState, method: Method, config: TrainConfig, out: FsPath, weights: list[dict[str, torch.Tensor] | None]) -> None:
    """Adapters (staged, then renamed), router.pt and peer.pt when the method uses them, routed.jsonl.

    ``weights``: per student, its gathered state dict when sharded, else None (saved from the model).
    """
    for student, state_dict in zip(run.students, weights):
        final = adapter_dir(out, student.name)
        stage = final.with_name(f".tmp-{student.name}")
        shutil.rmtree(stage, ignore_errors=True)
        student.save(stage, state_dict=state_dict)
        shutil.rmtree(final, ignore_errors=True)
        stage.rename(final)
    names = [s.name for s in run.students]
    if method.routing == "learned":
        router = {"state_dict": run.router.state_dict(), "styles": run.router.styles, "students": names, "state": run.state.state_dict()}
        ckpt.save_torch_atomic(router, out / "router.pt")
    if method.peer:
        peer = {"state_dict": run.peer.state_dict(), "hidden_sizes": [s.hidden_size for s in run.students], "shared_dim": config.shared_dim, "students": names}
        ckpt.save_torch_atomic(peer, out / "peer.pt")
    write_routed(out, run.last_routes)
