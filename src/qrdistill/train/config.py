"""TrainConfig: every setting of a training run, with Hugging Face Trainer names.

>>> cfg = TrainConfig.from_yaml("cfg.yaml")            # fields at top level or under 'train:'
>>> cfg = TrainConfig.from_yaml("configs/demo.yaml", {"method": "no_peer"})   # or a run config
>>> cfg = cfg.model_copy(update={"seed": 1})
"""

from __future__ import annotations

import os
from pathlib import Path as FsPath
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from qrdistill.config import load_config
from qrdistill.method.methods import get_method
from qrdistill.students.spec import StudentSpec


class TrainConfig(BaseModel):
    """Settings of one training run (one method, one seed)."""

    model_config = ConfigDict(extra="forbid")

    output_dir: str
    method: str = "qr_distill"
    students: list[StudentSpec]
    num_train_epochs: float = 3.0
    """Epochs over the KEPT paths; every method runs the same number of optimizer steps."""
    max_steps: int = -1
    """If > 0, the number of optimizer steps (overrides num_train_epochs)."""
    per_device_train_batch_size: int = 4
    gradient_accumulation_steps: int = 1
    learning_rate: float = 1e-3
    """Learning rate of the router, projections and competence (students have their own)."""
    weight_decay: float = 0.0
    warmup_ratio: float = 0.05
    max_grad_norm: float = 1.0
    lambda_entropy: float = 0.1
    lambda_mutual: float = 0.1
    shared_dim: int = 64
    route_sharpness: float = 2.0
    """kappa: how sharply the router's target separates paths worth more than a student's usual path
    from those worth less (t = sigmoid(kappa * z-scored answer gain))."""
    random_gate_rate: float = 0.5
    """Gate rate of ``random_route`` when ``random_patterns`` is not given."""
    random_patterns: dict[str, float] | None = None
    """``random_route``: frequency of each set of students a path goes to, e.g.
    ``{"smollm2": 0.3, "gemma3": 0.2, "smollm2+gemma3": 0.5}`` (what a qr_distill run logged in
    routing.jsonl; ``qrdistill run`` fills it from the qr_distill run of the same seed)."""
    state_momentum: float = 0.9
    encoder: str | None = None
    """Sentence-transformers dir for path embeddings; default: the embedded MiniLM-L6."""
    style_prompts: bool = True
    """Train each path under its style's instruction (the teacher's user turn); false: every path
    under the task's plain prompt."""
    styles_file: str | None = None
    """Extra style templates (file or dir) for paths of styles that are not built in."""
    embedding_cache: str | None = None
    """File of path embeddings that runs share (a run dir's ``cache/path_embeddings.pt``); default
    ``<output_dir>/cache/path_embeddings.pt``."""
    seed: int = 0
    logging_steps: int = 1
    save_steps: int = 0
    """Checkpoint every N optimizer steps (0: only at the end)."""
    save_total_limit: int = 2
    report_to: Literal["none", "tensorboard"] = "none"
    bucket_size: int = 2
    """Length bucketing: batches are sorted by length inside groups of this many batches of
    style-interleaved paths (small groups keep every batch mixed across styles)."""
    sharding: Literal["none", "fsdp"] = "none"
    """``fsdp``: shard the students over the processes with FSDP2, one unit per decoder layer
    (also chosen by an accelerate FSDP config); ``none``: every process holds whole students (DDP)."""

    @field_validator("method")
    @classmethod
    def _known_method(cls, value: str) -> str:
        get_method(value)
        return value

    @field_validator("students")
    @classmethod
    def _unique_students(cls, value: list[StudentSpec]) -> list[StudentSpec]:
        names = [s.name for s in value]
        if not value or len(set(names)) != len(names):
            raise ValueError(f"students must be a non-empty list with unique names, got {names}")
        return value

    @classmethod
    def from_yaml(cls, path: str | os.PathLike[str], overrides: dict[str, Any] | None = None) -> TrainConfig:
        """Read the YAML; non-None ``overrides`` win.

        The YAML is either TrainConfig fields (at the top level or under ``train:``) or a run
        config (``qrdistill run``'s, recognised by its ``run_dir``): then its ``train:`` block and
        top-level ``students`` are used, and ``output_dir`` defaults to the run dir's
        ``train/{method}/seed{seed}`` (where ``qrdistill eval`` looks for the adapters).
        """
        path = FsPath(path)
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise ValueError(f"{path}: cannot read the config: {exc}") from None
        if not isinstance(data, dict):
            raise ValueError(f"{path}: expected a mapping of TrainConfig fields")
        given = {k: (str(v) if isinstance(v, os.PathLike) else v) for k, v in (overrides or {}).items() if v is not None}
        if "run_dir" in data:
            run_cfg = load_config(path)
            data = run_cfg.train_fields(given.get("method", "qr_distill"), given.get("seed", run_cfg.seeds[0]))
        elif isinstance(data.get("train"), dict):
            data = data["train"]
        try:
            return cls.model_validate({**data, **given})
        except ValidationError as exc:
            err = exc.errors()[0]
            field = ".".join(str(p) for p in err["loc"]) or "(config)"
            raise ValueError(f"{path}: field '{field}': {err['msg']}") from None

    def to_yaml(self) -> str:
        """The config as YAML, as saved in the output directory."""
        return yaml.safe_dump(self.model_dump(mode="json"), sort_keys=False)
