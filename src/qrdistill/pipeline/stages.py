"""The data stages of a run: questions, teacher paths, filtering, each skipped when finished with
the same settings and inputs (``pipeline.fingerprint``), rerun when stale.

>>> refresh_questions(cfg, run)                  # stale question files removed
>>> questions = run_questions(cfg, run)          # rundir: {task: {"train": [...], "test": [...]}}
>>> paths = generate_stage(cfg, run, questions)
>>> filtered = filter_stage(cfg, run, paths, questions)
"""

from __future__ import annotations

from rich.console import Console

from qrdistill.config import RunConfig
from qrdistill.jsonl import read_records, write_records
from qrdistill.pipeline.fingerprint import file_digest, fingerprint, records_digest, refresh
from qrdistill.records import Path, Question
from qrdistill.rundir import RunDir
from qrdistill.tasks import get_task

console = Console(stderr=True)


def refresh_questions(cfg: RunConfig, run: RunDir) -> None:
    """Remove a task's question files (and so every stage after them) when the task's settings or the
    run's seed changed since they were written; ``rundir.run_questions`` then writes them again."""
    for tc in cfg.tasks:
        # limits are applied when the files are read: a new limit changes the inputs of the stages after
        source = tc.model_dump(mode="json", exclude={"limit_train", "limit_test", "limit_dev"})
        refresh(run, f"questions-{tc.name}", fingerprint({"task": source, "seed": cfg.seed}, {}),
                [run.questions(tc.name, split) for split in ("train", "test", "dev")])


def generate_stage(cfg: RunConfig, run: RunDir, questions: dict[str, dict[str, list[Question]]]) -> list[Path]:
    """Teacher paths for every task's train questions (``paths.jsonl``); resumes through the call cache."""
    if not run.import_report.exists():  # imported paths are this run's input, never regenerated
        train = {name: records_digest(splits["train"]) for name, splits in questions.items()}
        refresh(run, "generate", fingerprint({"generate": cfg.generate.model_dump(mode="json")}, train),
                [run.paths, run.root / "generate"])
    if run.paths.exists():
        return read_records(run.paths, Path)
    from qrdistill.teacher.generate import generate_paths

    paths: list[Path] = []
    for name, splits in questions.items():
        paths += generate_paths(splits["train"], get_task(name), cfg.generate, run.generate_part(name), run.generate_cache)
    write_records(run.paths, paths)
    return paths


def filter_stage(cfg: RunConfig, run: RunDir, paths: list[Path], questions: dict[str, dict[str, list[Question]]]) -> list[Path]:
    """Every path with its Verdict (``filtered.jsonl``) and the kept ones (``kept.jsonl``)."""
    inputs = {"paths": file_digest(run.paths), **{name: records_digest(s["train"]) for name, s in questions.items()}}
    refresh(run, "filter", fingerprint({"filter": cfg.filter.model_dump(mode="json")}, inputs), [run.filtered, run.kept])
    if run.filtered.exists() and run.kept.exists():
        return read_records(run.filtered, Path)
    from qrdistill.quality.filter import filter_paths

    train_questions = [q for splits in questions.values() for q in splits["train"]]
    ids = {q.id for q in train_questions}
    inside = [p for p in paths if p.question_id in ids]
    if len(inside) < len(paths):
        console.print(f"{len(paths) - len(inside)} of {len(paths)} paths belong to training questions outside this run "
                      f"(limit_train); they are not filtered or trained on")
    return filter_paths(inside, train_questions, cfg.filter, run.filtered, run.kept, run.judge_cache)
