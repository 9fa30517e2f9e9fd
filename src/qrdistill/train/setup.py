"""Everything a run needs before its first step: students, encoded paths, router, peer modules,
optimizers and schedules, and the step budget.

>>> run, data = build_run(config, paths, budget, questions, accelerator, sharded=False)
>>> run.step, run.total_steps
(0, 120)
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path as FsPath
from typing import Any

import numpy as np
import torch
from accelerate import Accelerator

from qrdistill.method.embed import cached_embeddings
from qrdistill.method.example import BareCue, Example, build_bare_cues, build_examples
from qrdistill.method.forward import StudentForward
from qrdistill.method.methods import get_method
from qrdistill.method.peer import PeerTeacher
from qrdistill.method.router import Router
from qrdistill.method.state import N_FEATURES, StudentState
from qrdistill.method.step import Team
from qrdistill.records import Path, Question
from qrdistill.students import Student, load_student
from qrdistill.teacher.styles import load_styles
from qrdistill.train.config import TrainConfig
from qrdistill.train.sharding import gather, load_full_, shard_students


@dataclass
class TrainState(Team):
    """The team plus what the loop updates, gathered so checkpoints can save and restore it."""

    students: list[Student]
    sharded: bool
    optimizers: list[torch.optim.Optimizer]
    """One AdamW per student, then one for router + peer modules."""
    schedulers: list[torch.optim.lr_scheduler.LambdaLR]
    total_steps: int
    micro_per_epoch: int
    step: int = 0
    micro: int = 0
    last_routes: dict[str, list[Any]] | None = None
    """Path key -> [epoch, students it was last sent to]: each path's latest routing (routed.jsonl)."""
    routing_counts: dict[str, Any] | None = None
    """This epoch so far (``routing_log.count``): per source, hard-gate sums per student + the path count
    (``rates``), answer-gain sums and counts per student (``gains``); the count of each set of students (``patterns``)."""

    def aux_parameters(self) -> list[torch.nn.Parameter]:
        return [*self.router.parameters(), *self.peer.parameters()]

    def trainable_state(self) -> dict[str, Any]:
        """Whole weights (sharded ones gathered to rank 0: every process calls this when ``sharded``)."""
        return {
            "students": {s.name: {n: gather(p) for n, p in s.model.named_parameters() if p.requires_grad} for s in self.students},
            "router": self.router.state_dict(),
            "peer": self.peer.state_dict(),
            "state": self.state.state_dict(),
            "bare_nll": self.bare_nll.clone(),
        }

    def load_trainable_state(self, saved: dict[str, Any]) -> None:
        for student in self.students:
            weights = saved["students"][student.name]
            for name, param in student.model.named_parameters():
                if param.requires_grad:
                    load_full_(param, weights[name])
        self.router.load_state_dict(saved["router"])
        self.peer.load_state_dict(saved["peer"])
        self.state.load_state_dict(saved["state"])
        self.bare_nll.copy_(saved["bare_nll"])


@dataclass
class TrainData:
    """The encoded paths of a run and what routing needs of them."""

    examples: list[Example]
    cues: list[BareCue]
    """Each question's bare answer cue (learned routing only)."""
    text_emb: torch.Tensor | None
    """[N, D] router text embeddings of the paths (learned routing only)."""


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def linear_schedule(optimizer: torch.optim.Optimizer, warmup: int, total: int) -> torch.optim.lr_scheduler.LambdaLR:
    """Linear warmup for ``warmup`` steps, then linear decay to 0 at ``total``."""

    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        return max(0.0, (total - step) / max(1, total - warmup))

    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)


def total_steps(config: TrainConfig, n_budget_paths: int, global_batch: int) -> int:
    """``max_steps``, or ``num_train_epochs`` epochs over the budget paths (``methods.budget_paths``)."""
    if config.max_steps > 0:
        return config.max_steps
    budget_micro = math.ceil(max(n_budget_paths, 1) / global_batch)
    return math.ceil(config.num_train_epochs * budget_micro / config.gradient_accumulation_steps)


def path_embeddings(examples: Sequence[Example], config: TrainConfig, accelerator: Accelerator) -> torch.Tensor:
    """Router text embeddings [N, D], computed by the main process for the texts ``config.embedding_cache`` lacks."""
    cache_file = FsPath(config.embedding_cache or FsPath(config.output_dir) / "cache" / "path_embeddings.pt")
    texts = [e.path.text for e in examples]
    if accelerator.is_main_process:
        cached_embeddings(texts, cache_file, config.encoder, progress=True)
    accelerator.wait_for_everyone()
    return cached_embeddings(texts, cache_file, config.encoder).to(accelerator.device)


def build_run(config: TrainConfig, paths: Sequence[Path], n_budget_paths: int, questions: Mapping[str, Question],
              accelerator: Accelerator, sharded: bool) -> tuple[TrainState, TrainData]:
    """Load and (when ``sharded``) shard the students, encode ``paths``, build router, peer modules,
    optimizers and schedules; seeded so every method starts from the same weights."""
    learned = get_method(config.method).routing == "learned"
    world, device = accelerator.num_processes, accelerator.device
    seed_everything(config.seed)
    # sharded: loaded on CPU; fully_shard moves one unit at a time to the accelerator as it shards it,
    # so no process ever holds a whole student in accelerator memory
    students = [load_student(spec, device="cpu" if sharded else str(device), seed=config.seed) for spec in config.students]
    forwards = [StudentForward(s) for s in students]
    if sharded:
        shard_students(forwards, device, world)
    question_ids = sorted({p.question_id for p in paths})
    templates = load_styles(config.styles_file) if config.style_prompts else None
    examples = build_examples(paths, questions, students, templates, question_ids, progress=accelerator.is_main_process)
    cues = build_bare_cues(question_ids, questions, students) if learned else []
    text_emb = path_embeddings(examples, config, accelerator) if learned else None
    styles = sorted({p.style for p in paths})
    router = Router.seeded(config.seed, text_emb.shape[1] if text_emb is not None else 1, styles, len(students), N_FEATURES).to(device)
    peer = PeerTeacher([s.hidden_size for s in students], config.shared_dim).to(device)
    state = StudentState(len(students), styles, config.state_momentum).to(device)

    global_batch = config.per_device_train_batch_size * world
    steps = total_steps(config, n_budget_paths, global_batch)
    warmup = round(config.warmup_ratio * steps)
    optimizers = [torch.optim.AdamW(s.trainable_parameters(), lr=s.spec.learning_rate, weight_decay=config.weight_decay) for s in students]
    optimizers.append(torch.optim.AdamW([*router.parameters(), *peer.parameters()], lr=config.learning_rate, weight_decay=config.weight_decay))
    run = TrainState(
        forwards=forwards, router=router, peer=peer, state=state,
        gate_generator=torch.Generator().manual_seed(config.seed * 1009 + accelerator.process_index + 1),
        bare_nll=torch.full((len(question_ids), len(students)), float("nan")),
        students=students, sharded=sharded, optimizers=optimizers,
        schedulers=[linear_schedule(o, warmup, steps) for o in optimizers],
        total_steps=steps, micro_per_epoch=math.ceil(len(paths) / global_batch),
    )
    torch.manual_seed(config.seed + accelerator.process_index)  # dropout noise differs per process, like different batches
    return run, TrainData(examples, cues, text_emb)
