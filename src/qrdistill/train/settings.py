"""TrainSettings: the training hyperparameters, torch-free, with Hugging Face Trainer names.

One declaration per setting: a run config's ``train:`` section is a TrainSettings, TrainConfig (one
training run) extends it with what a run fills in per unit (output_dir, method, students, seed),
and ``qrdistill train``'s flags take their help from the fields' docstrings here (``flag_help``);
a flag left out keeps the YAML's value, so no default is declared twice.

>>> TrainSettings(max_steps=20).checkpoint_every(20)
2
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class TrainSettings(BaseModel):
    """How the students are trained (the ``train:`` section of a run config)."""

    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)

    num_train_epochs: float = Field(3.0, gt=0)
    """Epochs over the KEPT paths; every method runs the same number of optimizer steps."""
    max_steps: int = -1
    """If > 0, the number of optimizer steps (overrides num_train_epochs)."""
    per_device_train_batch_size: int = Field(4, ge=1)
    gradient_accumulation_steps: int = Field(1, ge=1)
    learning_rate: float = Field(1e-3, gt=0)
    """Learning rate of the router, projections and competence (students have their own)."""
    weight_decay: float = Field(0.0, ge=0)
    warmup_ratio: float = Field(0.05, ge=0, le=1)
    max_grad_norm: float = Field(1.0, gt=0)
    lambda_entropy: float = 0.1
    lambda_mutual: float = 0.1
    shared_dim: int = Field(64, ge=1)
    route_sharpness: float = 2.0
    """kappa: how sharply the router's target separates paths worth more than a student's usual path
    from those worth less (t = sigmoid(kappa * z-scored answer gain))."""
    random_gate_rate: float = Field(0.5, ge=0, le=1)
    """Gate rate of ``random_route`` when ``random_patterns`` is not given."""
    random_patterns: dict[str, float] | None = None
    """``random_route``: frequency of each set of students a path goes to, e.g.
    ``{"smollm2": 0.3, "gemma3": 0.2, "smollm2+gemma3": 0.5}`` (what a qr_distill run logged in
    routing.jsonl; ``qrdistill run`` fills it from the qr_distill run of the same seed)."""
    state_momentum: float = Field(0.9, ge=0, le=1)
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
    logging_steps: int = Field(1, ge=1)
    save_steps: int | None = Field(None, ge=0)
    """Checkpoint every N optimizer steps; ``None`` (default): every tenth of training, so a killed
    run resumes; 0: only at the end."""
    save_total_limit: int = Field(2, ge=1)
    report_to: Literal["none", "tensorboard"] = "none"
    bucket_size: int | None = Field(None, ge=1)
    """Length bucketing: batches are sorted by length inside groups of this many batches of
    style-interleaved paths. ``None`` (default): 2 when the paths come from several sources (styles,
    or teacher / style), so every batch stays mixed; 64 when they share one, where there is nothing
    to mix and a wider sort saves padding (``data.epoch_batches``)."""
    trim_memory: bool | None = None
    """Hand the heap's freed pages back to the system between each micro-batch's forward and backward
    and after each optimizer step (``memory.trim_heap``): flat, lower memory over long runs, paid
    in time, as the next step faults the pages in again (SmolLM2 without checkpointing: 1.2x the
    step; docs/benchmarks.md, "Where SmolLM2's training step goes").
    ``None`` (default): on when a student uses gradient checkpointing, the memory-lean setting."""
    sharding: Literal["none", "fsdp"] = "none"
    """``fsdp``: shard the students over the processes with FSDP2, one unit per decoder layer
    (also chosen by an accelerate FSDP config); ``none``: every process holds whole students (DDP)."""

    def checkpoint_every(self, total_steps: int) -> int:
        """Optimizer steps between checkpoints of a ``total_steps`` run (0: only at the end)."""
        if self.save_steps is not None:
            return self.save_steps
        return max(1, total_steps // 10)

    def is_checkpoint_step(self, step: int, total_steps: int) -> bool:
        """Whether a checkpoint is written after ``step`` (always after the last one)."""
        every = self.checkpoint_every(total_steps)
        return step == total_steps or (every > 0 and step % every == 0)


def flag_help(name: str) -> str:
    """The help of the CLI flag for setting ``name``: the field's docstring, first sentence."""
    description = TrainSettings.model_fields[name].description or name
    return description.split(". ")[0].rstrip(".") + "."
