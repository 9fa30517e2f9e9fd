"""The evaluation grid of a run: every student of a method/seed on every task's test split.

>>> rows = evaluate_method(cfg, "qr_distill", 0)   # skips (student, task) files already written
>>> rows = collect_results(cfg)                     # every finished eval file → RunResult rows
"""

from __future__ import annotations

import gc
from pathlib import Path as FsPath

from rich.console import Console

from qrdistill.config import ZERO_SHOT, RunConfig, TaskConfig
from qrdistill.evaluate.ensembles import ensemble_results
from qrdistill.evaluate.generations import EvalJob, EvalLabel, evaluate_student, read_generations, score_generations
from qrdistill.evaluate.results import RunResult
from qrdistill.jsonl import read_records
from qrdistill.records import Question
from qrdistill.rundir import RunDir
from qrdistill.tasks import get_task

console = Console(stderr=True)


def adapter_dir(run: RunDir, method: str, seed: int, student: str) -> FsPath | None:
    """Where ``train`` saved this student's adapter (None for zero_shot)."""
    if method == ZERO_SHOT:
        return None
    path = run.train(method, seed) / "students" / student
    if not path.exists():
        raise FileNotFoundError(f"{path}: no trained adapter for {student} ({method}, seed {seed}); run training first")
    return path


def _complete(file: FsPath, n: int) -> bool:
    return file.exists() and len(read_generations(file)) == n


def run_questions(run: RunDir, task: TaskConfig, split: str) -> list[Question]:
    """The ``split`` questions the run wrote (or an import wrote) for ``task``: the first
    ``limit_train``/``limit_test`` of them, all without a limit."""
    return read_records(run.questions(task.name, split), Question)[: task.limit(split)]


def evaluate_method(cfg: RunConfig, method: str, seed: int) -> list[RunResult]:
    """Evaluate each student of ``method``/``seed`` on every task; return one row per (student, task)."""
    from qrdistill.students import StudentSpec, load_student

    run = RunDir(cfg.run_dir)
    questions = {tc.name: run_questions(run, tc, "test") for tc in cfg.tasks}
    rows: list[RunResult] = []
    for spec_dict in cfg.students:
        spec = StudentSpec(**spec_dict)
        files = {t: run.eval(method, seed, spec.name, t) for t in questions}
        todo = [t for t in questions if not _complete(files[t], len(questions[t]))]
        if todo:
            student = load_student(spec, adapter_dir=adapter_dir(run, method, seed, spec.name), trainable=False)
            console.print(f"eval {method} seed{seed} {spec.name} on {', '.join(todo)} "
                          f"({sum(len(questions[t]) for t in todo)} questions)")
            jobs = [EvalJob(get_task(t), questions[t], files[t]) for t in todo]
            evaluate_student(student, jobs, label=EvalLabel(method, seed, spec.name), max_new_tokens=cfg.eval.max_new_tokens,
                             batch_size=cfg.eval.batch_size, score_logprob="logprob" in cfg.eval.ensemble)
            del student
            gc.collect()
        rows += [score_generations(read_generations(files[t])) for t in questions]
    return rows


def collect_results(cfg: RunConfig) -> list[RunResult]:
    """Rows for every eval file of the run that exists, plus the configured ensembles."""
    run = RunDir(cfg.run_dir)
    rows: list[RunResult] = []
    for method in cfg.methods:
        for seed in cfg.seeds:
            for tc in cfg.tasks:
                gens = {}
                for name in cfg.student_names():
                    file = run.eval(method, seed, name, tc.name)
                    if file.exists():
                        gens[name] = read_generations(file)
                        rows.append(score_generations(gens[name]))
                if len(gens) == len(cfg.students):
                    rows += ensemble_results(gens, cfg.eval.ensemble)
    return rows
