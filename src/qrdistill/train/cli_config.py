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
from qrdistill.dedupe import read_paths, read_questions
from qrdistill.errors import UsageError
from qrdistill.records import Path, Question
from qrdistill.rundir import RunDir, run_questions
from qrdistill.train.config import TrainConfig, given_fields


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
    """Read the config and data. ``config`` is a YAML of TrainConfig fields (then ``kept`` and
    ``questions`` are required) or a run config (one with ``run_dir``): then its ``train:`` section and
    students are used, the output goes to the run dir's ``train/{method}/seed{seed}``, and ``kept``/
    ``questions`` default to the run dir's ``filtered.jsonl`` (the method selects its paths, as in
    ``qrdistill run``) and the train questions of the config's tasks."""
    config = FsPath(config)
    given = given_fields(overrides)
    by_id: dict[str, Question] = {}
    if _is_run_config(config):
        run_cfg = load_config(config)
        run = RunDir(run_cfg.run_dir)
        fields = run_cfg.train_fields(given.get("method", "qr_distill"), given.get("seed", run_cfg.seeds[0]))
        cfg = TrainConfig.validated({**fields, **given}, str(config))
        kept = kept or (run.filtered if run.filtered.exists() else None)
        by_id = {} if questions else _train_questions(run_cfg, run)
    else:
        cfg = TrainConfig.from_yaml(config, overrides)
    if not kept or not (questions or by_id):
        raise UsageError(f"{config}: give --kept and --questions (a run config with 'run_dir' supplies both from the run directory)")
    paths = read_paths(kept)
    by_id = by_id or {q.id: q for q in read_questions(list(questions or []))}
    return cfg, paths, by_id


def _is_run_config(config: FsPath) -> bool:
    try:
        data = yaml.safe_load(config.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return False  # TrainConfig.from_yaml names the problem
    return isinstance(data, dict) and "run_dir" in data
