"""TrainConfig: every setting of a training run, with Hugging Face Trainer names.

>>> cfg = TrainConfig.from_yaml("runs/demo/train/qr_distill/seed0/config.yaml", {"seed": 1})
>>> cfg = cfg.model_copy(update={"seed": 1})
"""

from __future__ import annotations

import os
from pathlib import Path as FsPath
from typing import Any

import yaml
from pydantic import ValidationError, field_validator

from qrdistill.config import ConfigError
from qrdistill.method.methods import get_method
from qrdistill.students.spec import StudentSpec, unique_names
from qrdistill.train.settings import TrainSettings
from qrdistill.validation import describe_errors, yaml_lines


def given_fields(overrides: dict[str, Any] | None) -> dict[str, Any]:
    """The overrides that were given (not None), paths as strings."""
    return {k: (str(v) if isinstance(v, os.PathLike) else v) for k, v in (overrides or {}).items() if v is not None}


class TrainConfig(TrainSettings):
    """Settings of one training run (one method, one seed): TrainSettings plus what the run fills in."""

    output_dir: str
    method: str = "qr_distill"
    students: list[StudentSpec]
    seed: int = 0

    @field_validator("method")
    @classmethod
    def _known_method(cls, value: str) -> str:
        get_method(value)
        return value

    @field_validator("students")
    @classmethod
    def _unique_students(cls, value: list[StudentSpec]) -> list[StudentSpec]:
        return unique_names(value)

    def trims_memory(self) -> bool:
        """Whether each step hands freed heap pages back (``trim_memory``; by default when a student checkpoints)."""
        if self.trim_memory is not None:
            return self.trim_memory
        return any(s.gradient_checkpointing for s in self.students)

    @classmethod
    def from_yaml(cls, path: str | os.PathLike[str], overrides: dict[str, Any] | None = None) -> TrainConfig:
        """Read a YAML of TrainConfig fields (what ``to_yaml`` writes: every training's
        ``config.yaml``); non-None ``overrides`` win. A run config is read with ``load_config`` and
        turned into a TrainConfig with ``RunConfig.train_fields``."""
        path = FsPath(path)
        if not path.is_file():
            raise ConfigError(f"{path}: config file not found")
        try:
            text = path.read_text(encoding="utf-8")
            data = yaml.safe_load(text) or {}
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
            raise ConfigError(f"{path}: cannot read the config: {exc}") from None
        if not isinstance(data, dict):
            raise ConfigError(f"{path}: expected a mapping of TrainConfig fields")
        return cls.validated({**data, **given_fields(overrides)}, str(path), text)

    @classmethod
    def validated(cls, fields: dict[str, Any], where: str, text: str = "") -> TrainConfig:
        """``fields`` as a TrainConfig; a ConfigError names ``where``, the line and the field."""
        try:
            return cls.model_validate(fields)
        except ValidationError as exc:
            raise ConfigError("\n".join(describe_errors(exc, cls, where, yaml_lines(text)))) from None

    def to_yaml(self) -> str:
        """The config as YAML, as saved in the output directory."""
        return yaml.safe_dump(self.model_dump(mode="json"), sort_keys=False)
