"""What a config file lists per student.

>>> spec = StudentSpec(name="smollm2-135m", model="embedded:smollm2-135m", lora_r=32)
"""

from __future__ import annotations

import torch
from pydantic import BaseModel, ConfigDict, field_validator

DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}


class StudentSpec(BaseModel):
    """One student: which model, how it is fine-tuned, how its inputs are formatted."""

    model_config = ConfigDict(extra="forbid")

    name: str
    """Short name used in run directories and reports, e.g. ``smollm2-135m``."""
    model: str
    """HF hub id, local directory, ``embedded:smollm2-135m``, ``embedded:gemma3-270m``,
    ``tiny:smollm2`` or ``tiny:gemma3`` (random tiny models with the real tokenizers, for tests)."""
    lora_r: int | None = 16
    """LoRA rank; ``None`` means full fine-tuning (the paper used rank 32)."""
    lora_alpha: int = 32
    lora_dropout: float = 0.05
    target_modules: list[str] | str = "all-linear"
    learning_rate: float = 2e-4
    dtype: str = "float32"
    max_length: int = 512
    chat_template: bool | None = None
    """``None``: use the tokenizer's chat template when it has one; ``False``: plain prompt."""
    gradient_checkpointing: bool = False
    """Recompute each decoder layer's activations in the backward pass: less memory, ~30% more compute."""

    @field_validator("dtype")
    @classmethod
    def _known_dtype(cls, value: str) -> str:
        if value not in DTYPES:
            raise ValueError(f"unknown dtype {value!r}; use one of {sorted(DTYPES)}")
        return value

    @field_validator("lora_r")
    @classmethod
    def _positive_rank(cls, value: int | None) -> int | None:
        if value is not None and value <= 0:
            raise ValueError(f"lora_r must be a positive rank or null for full fine-tuning, got {value}")
        return value

    @property
    def torch_dtype(self) -> torch.dtype:
        """The torch dtype named by ``dtype``."""
        return DTYPES[self.dtype]
