"""Turn ``qrdistill train`` arguments into a TrainConfig, Path records and Questions.

>>> cfg, paths, questions = resolve_inputs("cfg.yaml", "run/kept.jsonl", ["run/questions/gsm8k.train.jsonl"], {})
>>> cfg, paths, questions = resolve_inputs("src/qrdistill/configs/demo.yaml", "kept.jsonl", None, {})   # run config
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path as FsPath
from typing import Any

import yaml

from qrdistill.config import RunConfig, load_config
from qrdistill.jsonl import read_records
from qrdistill.records import Path, Question
from qrdistill.rundir import RunDir, run_questions
from qrdistill.train.config import TrainConfig


def _train_questions(cfg: RunConfig, run: RunDir) -> dict[str, Question]:
    """The train questions of a run config's tasks, by id (written to the run dir the first time,
    as ``qrdistill run`` does)."""
    return {q.id: q for splits in run_questions(cfg, run).values() for q in splits["train"]}


def resolve_inputs(
    config: str | os.PathLike[str],
    kept: str | os.PathLike[str] | None,
    questions: Sequence[str | os.PathLike[str]] | None,
    overrides: dict[str, Any],
) -> tuple[TrainConfig, list[Path], dict[str, Question]]:
    """Read the config and data. ``kept``/``questions`` default to the YAML's ``data:`` section
    (``data: {kept: ..., questions: [...]}``), or for a run config (one with ``run_dir``) to the
    run dir's ``filtered.jsonl`` (the method selects its paths, as in ``qrdistill run``) and the train questions of the config's tasks."""
    config = FsPath(config)
    cfg = TrainConfig.from_yaml(config, overrides)
    data = yaml.safe_load(config.read_text(encoding="utf-8")) or {}
    by_id: dict[str, Question] = {}
    if "run_dir" in data:
        run_cfg = load_config(config)
        run = RunDir(run_cfg.run_dir)
        kept = kept or (run.filtered if run.filtered.exists() else None)
        by_id = {} if questions else _train_questions(run_cfg, run)
    else:
        section = data.get("data", {})
        kept = kept or section.get("kept")
        questions = questions or section.get("questions")
    if not kept or not (questions or by_id):
        raise ValueError(f"{config}: give --kept and --questions, or a 'data:' section with 'kept' and 'questions'"
                         " (a run config with 'run_dir' supplies both from the run directory)")
    if isinstance(questions, (str, os.PathLike)):
        questions = [questions]
    paths = read_records(kept, Path)
    by_id = by_id or {q.id: q for file in questions for q in read_records(file, Question)}
    return cfg, paths, by_id
