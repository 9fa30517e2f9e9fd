"""The data stages of a run: questions, teacher paths, filtering, each skipped when finished with
the same settings and inputs (``pipeline.fingerprint``), rerun when stale.

>>> questions = prepare_questions(cfg, run)      # {task: {"train": [...], "test": [...]}}
>>> paths = generate_stage(cfg, run, questions)
>>> filtered = filter_stage(cfg, run, paths, questions)
"""

from __future__ import annotations

from rich.console import Console

from qrdistill.config import RunConfig, TaskConfig
from qrdistill.evaluate.grid import run_questions
from qrdistill.jsonl import read_records, write_records
from qrdistill.pipeline.fingerprint import file_digest, fingerprint, records_digest, refresh
from qrdistill.records import Path, Question
from qrdistill.rundir import RunDir
from qrdistill.tasks import get_task

SPLITS = ("train", "test")
console = Console(stderr=True)


def _make_questions(tc: TaskConfig, split: str, seed: int) -> list[Question]:
    if tc.synthetic is not None:
        from qrdistill.tasks.synthetic import make_questions

        count = {"train": tc.synthetic.train, "test": tc.synthetic.test, "dev": tc.synthetic.dev}[split]
        return make_questions(tc.name, count, seed, "val" if split == "dev" else split)
    source = {"train": tc.train_data, "test": tc.test_data, "dev": tc.dev_data}[split]
    return get_task(tc.name).load(source, split=split)


def prepare_questions(cfg: RunConfig, run: RunDir) -> dict[str, dict[str, list[Question]]]:
    """Each task's train, test (and dev, when it has some) questions, written to the run dir once and
    re-read after; ``limit_train``/``limit_test``/``limit_dev`` keep the first N (also of questions an
    import wrote there)."""
    out: dict[str, dict[str, list[Question]]] = {}
    for tc in cfg.tasks:
        # limits are applied when the files are read: a new limit changes the inputs of the stages after
        source = tc.model_dump(mode="json", exclude={"limit_train", "limit_test", "limit_dev"})
        refresh(run, f"questions-{tc.name}", fingerprint({"task": source, "seed": cfg.seed}, {}),
                [run.questions(tc.name, split) for split in (*SPLITS, "dev")])
        out[tc.name] = {}
        for split in (*SPLITS, "dev") if tc.has_dev() else SPLITS:
            file = run.questions(tc.name, split)
            if not file.exists():
                write_records(file, _make_questions(tc, split, cfg.seed))
            out[tc.name][split] = run_questions(run, tc, split)
        overlap = {q.question for q in out[tc.name]["train"]} & {q.question for q in out[tc.name]["test"]}
        if overlap:
            console.print(f"[yellow]warning: task {tc.name}: {len(overlap)} test question(s) also appear in train[/]")
    return out


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
