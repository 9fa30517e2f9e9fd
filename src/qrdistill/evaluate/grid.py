"""The evaluation grid of a run: every student of a method/seed on every task's test split, each
answering in the style chosen for it on the dev split (and under the plain prompt too).

Per (method, seed, student, task), with ``eval.style: auto``:

1. dev: the student answers the dev questions in every candidate style (the styles of the paths
   the method trained on, and the plain prompt), greedy;
2. the style with the best dev accuracy is chosen (ties: the plain prompt, then the name);
3. test: the student answers the test questions in that style (``{student}.{task}.jsonl``), and
   under the plain prompt (``{student}.{task}.plain.jsonl``) when ``eval.plain``.

Every method, zero_shot included, follows the same rule. Finished files are skipped.

>>> rows = evaluate_method(cfg, "qr_distill", 0)   # skips (student, task) files already written
>>> rows = collect_results(cfg)                     # every finished eval file → RunResult rows
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path as FsPath

from rich.console import Console

from qrdistill.config import ZERO_SHOT, RunConfig
from qrdistill.evaluate.ensemble import ensemble_results
from qrdistill.evaluate.generations import EvalJob, EvalLabel, Generation, evaluate_student, read_generations, score_generations
from qrdistill.evaluate.results import RunResult
from qrdistill.jsonl import read_records
from qrdistill.memory import release_memory
from qrdistill.records import Path, Question
from qrdistill.rundir import RunDir, run_questions
from qrdistill.tasks import get_task
from qrdistill.teacher.styles import load_styles

console = Console(stderr=True)
PLAIN = "plain"
"""How the task's plain zero-shot prompt is named among the candidate styles and in file names."""


def adapter_dir(run: RunDir, method: str, seed: int, student: str) -> FsPath | None:
    """Where ``train`` saved this student's adapter (None for zero_shot)."""
    if method == ZERO_SHOT:
        return None
    path = run.adapter(method, seed, student)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no trained adapter for {student} ({method}, seed {seed}); run training first")
    return path


def _complete(file: FsPath, n: int) -> bool:
    return file.exists() and len(read_generations(file)) == n


def candidate_styles(cfg: RunConfig, method: str, task: str) -> list[str]:
    """The styles a student of ``method`` may answer ``task`` in: those of the task's paths the method
    trained on (every kept style for zero_shot), then ``plain``."""
    from qrdistill.method.methods import select_paths

    run = RunDir(cfg.run_dir)
    paths = read_records(run.filtered, Path) if run.filtered.exists() else []
    chosen = paths if method == ZERO_SHOT else select_paths(paths, method)
    return [*sorted({p.style for p in chosen if p.task == task and (method != ZERO_SHOT or p.verdict is None or p.verdict.kept)}), PLAIN]


def choose_style(dev: dict[str, Sequence[Generation]]) -> str:
    """The candidate with the best dev accuracy; a tie goes to the plain prompt if it is among the best
    (the paper's protocol: no extra information), else to the first name in order.

    >>> choose_style({"cot": cot_gens, "plain": plain_gens})
    'cot'
    """
    def key(style: str) -> tuple[float, bool, str]:
        gens = dev[style]
        return (-sum(g.correct for g in gens) / max(len(gens), 1), style != PLAIN, style)

    return min(dev, key=key)


def _style_arg(style: str) -> str | None:
    return None if style == PLAIN else style


def evaluate_method(cfg: RunConfig, method: str, seed: int) -> list[RunResult]:
    """Evaluate each student of ``method``/``seed`` on every task; return one row per (student, task)
    in the chosen style (plain-prompt rows are written too and read by ``collect_results``)."""
    from qrdistill.students import load_student

    run = RunDir(cfg.run_dir)
    templates = load_styles(cfg.generate.styles_file)
    questions = run_questions(cfg, run)
    tests = {task: splits["test"] for task, splits in questions.items()}
    devs = {task: splits.get("dev", []) for task, splits in questions.items() if cfg.eval.style == "auto"}
    for name, questions in devs.items():
        if not questions:
            raise FileNotFoundError(f"{run.questions(name, 'dev')}: eval.style 'auto' needs dev questions for task {name}")
    candidates = {t: candidate_styles(cfg, method, t) for t in devs}
    settings = {"max_new_tokens": cfg.eval.max_new_tokens, "batch_size": cfg.eval.batch_size, "score_logprob": "logprob" in cfg.eval.ensemble}
    rows: list[RunResult] = []
    for spec in cfg.students:
        label = EvalLabel(method, seed, spec.name)
        student = None

        def run_jobs(jobs: list[EvalJob]) -> None:
            nonlocal student
            todo = [j for j in jobs if not _complete(j.out_path, len(j.questions))]
            if not todo:
                return
            if student is None:
                student = load_student(spec, adapter_dir=adapter_dir(run, method, seed, spec.name), trainable=False)
            styles = sorted({j.style or PLAIN for j in todo})
            console.print(f"eval {method} seed{seed} {spec.name}: {sum(len(j.questions) for j in todo)} answers in {', '.join(styles)}")
            evaluate_student(student, todo, label=label, **settings)

        def job(task: str, questions: list[Question], style: str, kind: str) -> EvalJob:
            return EvalJob(get_task(task), questions, run.eval(method, seed, spec.name, task, kind), _style_arg(style), templates)

        first = [job(t, devs[t], style, f"dev-{style}") for t in devs for style in candidates[t]]
        if cfg.eval.plain and cfg.eval.style != PLAIN:
            first += [job(t, tests[t][: cfg.eval.limit_plain], PLAIN, "plain") for t in tests]
        run_jobs(first)
        chosen = {t: _chosen_style(cfg, run, method, seed, spec.name, t, candidates.get(t, [])) for t in tests}
        run_jobs([job(t, tests[t], chosen[t], "test") for t in tests])
        del student
        release_memory()
        rows += [score_generations(read_generations(run.eval(method, seed, spec.name, t))) for t in tests]
    return rows


def _chosen_style(cfg: RunConfig, run: RunDir, method: str, seed: int, student: str, task: str, candidates: list[str]) -> str:
    if cfg.eval.style != "auto":
        return cfg.eval.style
    dev = {style: read_generations(run.eval(method, seed, student, task, f"dev-{style}")) for style in candidates}
    return choose_style(dev)


def dev_accuracies(cfg: RunConfig, method: str, seed: int, student: str, task: str) -> dict[str, float]:
    """{style: dev accuracy} of one student's finished dev answers (empty when none were made)."""
    run = RunDir(cfg.run_dir)
    out = {}
    for style in candidate_styles(cfg, method, task):
        file = run.eval(method, seed, student, task, f"dev-{style}")
        if file.exists():
            gens = read_generations(file)
            out[style] = sum(g.correct for g in gens) / max(len(gens), 1)
    return out


def collect_results(cfg: RunConfig) -> list[RunResult]:
    """Rows for every eval file of the run that exists (chosen style, and plain prompt with
    ``prompt="plain"``), plus the configured ensembles over the chosen-style answers."""
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
                    plain = run.eval(method, seed, name, tc.name, "plain")
                    if plain.exists():
                        rows.append(score_generations(read_generations(plain)).model_copy(update={"prompt": PLAIN}))
                if len(gens) == len(cfg.students):
                    rows += ensemble_results(gens, cfg.eval.ensemble)
    return rows
