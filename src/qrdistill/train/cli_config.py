"""Turn ``qrdistill train`` arguments into a TrainConfig, Path records and Questions.

>>> cfg, paths, questions = resolve_inputs("cfg.yaml", "run/kept.jsonl", ["run/questions/gsm8k.train.jsonl"], {})
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path as FsPath
from typing import Any

import yaml

from qrdistill.jsonl import read_records
from qrdistill.records import Path, Question
from qrdistill.train.config import TrainConfig


def _data_files(config: FsPath) -> dict[str, Any]:
    data = yaml.safe_load(config.read_text(encoding="utf-8")) or {}
    return data.get("data", {}) if isinstance(data, dict) else {}


def resolve_inputs(
    config: str | os.PathLike[str],
    kept: str | os.PathLike[str] | None,
    questions: Sequence[str | os.PathLike[str]] | None,
    overrides: dict[str, Any],
) -> tuple[TrainConfig, list[Path], dict[str, Question]]:
    """Read the config and data; ``kept``/``questions`` default to the YAML's ``data:`` section
    (``data: {kept: ..., questions: [...]}``)."""
    config = FsPath(config)
    cfg = TrainConfig.from_yaml(config, overrides)
    data = _data_files(config)
    kept = kept or data.get("kept")
    questions = questions or data.get("questions")
    if not kept or not questions:
        raise ValueError(f"{config}: give --kept and --questions, or a 'data:' section with 'kept' and 'questions'")
    if isinstance(questions, (str, os.PathLike)):
        questions = [questions]
    paths = read_records(kept, Path)
    by_id = {q.id: q for file in questions for q in read_records(file, Question)}
    return cfg, paths, by_id
