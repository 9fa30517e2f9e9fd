"""What a config file lists per student (torch-free: a run config's ``students:`` section is read
without loading torch; ``students.dtypes`` maps the precision names to torch dtypes).

>>> spec = StudentSpec(name="smollm2-135m", model="embedded:smollm2-135m", lora_r=32)
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, field_validator

DTYPES = ("float32", "bfloat16", "float16")
AUTO = "auto"


def unique_names(specs: list[StudentSpec]) -> list[StudentSpec]:
    """``specs`` if non-empty with unique names; ValueError naming them otherwise."""
    names = [s.name for s in specs]
    if not specs or len(set(names)) != len(names):
        raise ValueError(f"students must be a non-empty list with unique names, got {names}")
    return specs


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
    dtype: str = AUTO
    """Precision of the frozen base weights: ``float32``, ``bfloat16``, ``float16``, or ``auto``:
    ``bfloat16`` for the embedded students with LoRA (same final loss as float32, docs/benchmarks.md),
    the checkpoint's own dtype otherwise. LoRA weights and optimizer state stay float32; below
    float32 the student runs under autocast (``Student.autocast``)."""
    max_length: int = 512
    chat_template: bool | None = None
    """``None``: use the tokenizer's chat template when it has one; ``False``: plain prompt."""
    gradient_checkpointing: bool = False
    """Recompute each decoder layer's activations in the backward pass: less memory, ~30% more compute."""

    @field_validator("dtype")
    @classmethod
    def _known_dtype(cls, value: str) -> str:
        if value != AUTO and value not in DTYPES:
            raise ValueError(f"unknown dtype {value!r}; use one of {sorted(DTYPES)} or {AUTO!r}")
        return value

    @field_validator("lora_r")
    @classmethod
    def _positive_rank(cls, value: int | None) -> int | None:
        if value is not None and value <= 0:
            raise ValueError(f"lora_r must be a positive rank or null for full fine-tuning, got {value}")
        return value

    @property
    def load_dtype(self) -> str:
        """The dtype to load the weights in: ``dtype``, with ``auto`` resolved for the embedded students
        (full fine-tuning keeps float32 weights: the optimizer updates them).

        >>> StudentSpec(name="s", model="embedded:gemma3-270m").load_dtype
        'bfloat16'
        """
        if self.dtype == AUTO and self.model.startswith("embedded:") and self.lora_r is not None:
            return "bfloat16"
        return self.dtype
