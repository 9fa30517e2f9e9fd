"""Paired comparisons: QR-Distill minus each other method, on the same test questions and seeds.

Every method answers the same test questions with the same seeds, so the difference of two
methods is measured per (seed, question) pair and its 95% interval comes from a two-way
bootstrap over seeds and questions (``stats.paired_difference``): the question difficulty both
methods share drops out, which a difference of two means ± std cannot do. zero_shot is
deterministic and evaluated once; its answers pair with every seed of the other method.

>>> rows = paired_comparisons(cfg)                  # [Comparison(student, task, method, baseline, ...)]
>>> rows[0].diff, rows[0].lo, rows[0].hi            # percentage points
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from pydantic import BaseModel, ConfigDict

from qrdistill.config import ZERO_SHOT, RunConfig
from qrdistill.evaluate.generations import read_generations
from qrdistill.evaluate.stats import paired_difference
from qrdistill.rundir import RunDir

MAIN = "qr_distill"
BEST_SINGLE = "best_single_path"
"""The single_path variant (``single_path``, ``single_path-STYLE``) with the best dev accuracy for a student."""


class Comparison(BaseModel):
    """``method`` minus ``baseline`` for one student on one task, in accuracy points."""

    model_config = ConfigDict(extra="forbid")

    student: str
    task: str
    method: str
    baseline: str
    prompt: str
    """``chosen`` (each student's dev-chosen style) or ``plain`` (the plain prompt)."""
    diff: float
    lo: float
    hi: float
    """Paired 95% interval of ``diff`` (bootstrap over seeds and questions)."""
    n: int
    """Paired answers (seeds x questions)."""
    note: str = ""


def _answers(run: RunDir, method: str, seeds: Sequence[int], student: str, task: str, kind: str) -> dict[int, dict[str, bool]]:
    """{seed: {question id: correct}} of every finished eval file (zero_shot's one file for every seed)."""
    out = {}
    for seed in seeds:
        file = run.eval(method, seeds[0] if method == ZERO_SHOT else seed, student, task, kind)
        if file.exists():
            out[seed] = {g.question_id: g.correct for g in read_generations(file)}
    return out


def compare(a: dict[int, dict[str, bool]], b: dict[int, dict[str, bool]]) -> tuple[float, float, float, int] | None:
    """(diff, lo, hi, n) in points over the seeds both have and the questions every one of them answered."""
    seeds = sorted(set(a) & set(b))
    if not seeds:
        return None
    questions = sorted(set.intersection(*(set(a[s]) & set(b[s]) for s in seeds)))
    if not questions:
        return None
    result = paired_difference(np.array([[a[s][q] for q in questions] for s in seeds]),
                               np.array([[b[s][q] for q in questions] for s in seeds]))
    return 100 * result.diff, 100 * result.lo, 100 * result.hi, result.n


def _dev_accuracy(run: RunDir, method: str, seeds: Sequence[int], student: str, task: str) -> float | None:
    """Mean over seeds of the dev accuracy of the style the student answered the test in (None: no dev)."""
    scores = []
    for seed in seeds:
        test = run.eval(method, seed, student, task)
        if not test.exists():
            continue
        style = read_generations(test)[0].style or "plain"
        dev = run.eval(method, seed, student, task, f"dev-{style}")
        if dev.exists():
            gens = read_generations(dev)
            scores.append(sum(g.correct for g in gens) / max(len(gens), 1))
    return sum(scores) / len(scores) if scores else None


def best_single_path(cfg: RunConfig, student: str, task: str) -> str | None:
    """The student's single_path variant with the best mean dev accuracy (the first configured one
    without dev answers); None when the config trains no single_path variant."""
    run = RunDir(cfg.run_dir)
    variants = [m for m in cfg.methods if m == "single_path" or m.startswith("single_path-")]
    if not variants:
        return None
    scored = [(_dev_accuracy(run, m, cfg.seeds, student, task), i, m) for i, m in enumerate(variants)]
    return max(scored, key=lambda t: (t[0] if t[0] is not None else -1.0, -t[1]))[2]


def paired_comparisons(cfg: RunConfig, main: str = MAIN) -> list[Comparison]:
    """``main`` against every other method of the run (and the best single_path variant per student),
    per student and task, for the chosen-style answers and the plain-prompt answers."""
    if main not in cfg.methods:
        return []
    run = RunDir(cfg.run_dir)
    rows = []
    for kind, prompt in (("test", "chosen"), ("plain", "plain")):
        for tc in cfg.tasks:
            for student in cfg.student_names():
                mine = _answers(run, main, cfg.seeds, student, tc.name, kind)
                baselines = [(m, m, "") for m in cfg.methods if m != main]
                best = best_single_path(cfg, student, tc.name)
                if best is not None:
                    baselines.append((BEST_SINGLE, best, f"{best}: the single_path variant with the best dev accuracy"))
                for name, method, note in baselines:
                    found = compare(mine, _answers(run, method, cfg.seeds, student, tc.name, kind))
                    if found is not None:
                        diff, lo, hi, n = found
                        rows.append(Comparison(student=student, task=tc.name, method=main, baseline=name, prompt=prompt,
                                               diff=diff, lo=lo, hi=hi, n=n, note=note))
    return rows
