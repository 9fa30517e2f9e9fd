"""The data stages of a run: questions, teacher paths, filtering, each skipped when finished.

>>> questions = run_questions(cfg, run)          # rundir: {task: {"train": [...], "test": [...]}}
>>> paths = generate_stage(cfg, run, questions)
>>> filtered = filter_stage(cfg, run, paths, questions)
"""

from __future__ import annotations

from rich.console import Console

from qrdistill.config import RunConfig
from qrdistill.jsonl import read_records, write_records
from qrdistill.records import Path, Question
from qrdistill.rundir import RunDir
from qrdistill.tasks import get_task

console = Console(stderr=True)


def generate_stage(cfg: RunConfig, run: RunDir, questions: dict[str, dict[str, list[Question]]]) -> list[Path]:
    """Teacher paths for every task's train questions (``paths.jsonl``); resumes through the call cache."""
    if run.paths.exists():
        return read_records(run.paths, Path)
    from qrdistill.teacher.generate import GenerateSettings, generate_paths

    settings = GenerateSettings(**{"seed": cfg.seed, **cfg.generate})
    paths: list[Path] = []
    for name, splits in questions.items():
        paths += generate_paths(splits["train"], get_task(name), settings, run.generate_part(name), run.generate_cache)
    write_records(run.paths, paths)
    return paths


def filter_stage(cfg: RunConfig, run: RunDir, paths: list[Path], questions: dict[str, dict[str, list[Question]]]) -> list[Path]:
    """Every path with its Verdict (``filtered.jsonl``) and the kept ones (``kept.jsonl``)."""
    if run.filtered.exists() and run.kept.exists():
        return read_records(run.filtered, Path)
    from qrdistill.quality.filter import FilterSettings, filter_paths

    train_questions = [q for splits in questions.values() for q in splits["train"]]
    ids = {q.id for q in train_questions}
    inside = [p for p in paths if p.question_id in ids]
    if len(inside) < len(paths):
        console.print(f"{len(paths) - len(inside)} of {len(paths)} paths belong to training questions outside this run "
                      f"(limit_train); they are not filtered or trained on")
    settings = FilterSettings(**cfg.filter)
    return filter_paths(inside, train_questions, settings, run.filtered, run.kept, run.judge_cache)
