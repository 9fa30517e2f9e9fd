"""``report.md`` from evaluation rows: the paper's Table 1 layout, gains, ablations, verdicts.

Pure text building; the pipeline adds the funnel, routing and plot sections it renders.

>>> text = build_report(runs, methods=cfg.methods, students=["smollm2", "gemma3"],
...                     tasks=["synth_arith"], provenance=["teacher: synthetic"], sections=[])
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from qrdistill.evaluate.results import RunResult
from qrdistill.report.aggregate import Cell, aggregate, average_over_tasks, ordered
from qrdistill.report.comparisons import Comparison

BASELINES = ("zero_shot", "single_path", "multi_path")
ABLATIONS = ("no_filter", "no_route", "random_route", "no_peer")
MAIN = "qr_distill"
METHOD_ORDER = (*BASELINES, MAIN, *ABLATIONS)


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def accuracy_table(runs: Sequence[RunResult], methods: Sequence[str], students: Sequence[str], tasks: Sequence[str]) -> str:
    """Table 1: one row per (student, method), one column per task and the average, in %."""
    cells = aggregate(runs)
    avgs = average_over_tasks(runs, tasks)
    rows = []
    for student in students:
        for method in methods:
            if not any((method, student, t) in cells for t in tasks):
                continue
            row = [student, method]
            row += [cells[(method, student, t)].fmt() if (method, student, t) in cells else "—" for t in tasks]
            row.append(avgs[(method, student)].fmt() if (method, student) in avgs else "—")
            rows.append(row)
    return _table(["student", "method", *tasks, "Avg"], rows)


def _gain(a: Cell, b: Cell) -> str:
    diff = 100 * (a.mean - b.mean)
    rel = f" ({100 * (a.mean - b.mean) / b.mean:+.0f}%)" if b.mean > 0 else ""
    return f"{diff:+.1f} pts{rel}"


def gains_table(runs: Sequence[RunResult], methods: Sequence[str], students: Sequence[str], tasks: Sequence[str]) -> str:
    """Average-accuracy gain of every trained method over each baseline present, per student."""
    avgs = average_over_tasks(runs, tasks)
    baselines = [b for b in BASELINES if b in methods]
    rows = []
    for student in students:
        for method in methods:
            if method == "zero_shot" or (method, student) not in avgs:
                continue
            row = [student, method]
            for base in baselines:
                ok = base != method and (base, student) in avgs
                row.append(_gain(avgs[(method, student)], avgs[(base, student)]) if ok else "—")
            rows.append(row)
    return _table(["student", "method", *[f"vs {b}" for b in baselines]], rows)


def ablation_table(runs: Sequence[RunResult], methods: Sequence[str], students: Sequence[str], tasks: Sequence[str]) -> str | None:
    """qr_distill against each ablation present (average accuracy and the drop); None if none ran."""
    present = [a for a in ABLATIONS if a in methods]
    if MAIN not in methods or not present:
        return None
    avgs = average_over_tasks(runs, tasks)
    rows = []
    for student in students:
        if (MAIN, student) not in avgs:
            continue
        full = avgs[(MAIN, student)]
        rows.append([student, MAIN, full.fmt(), ""])
        for abl in present:
            if (abl, student) in avgs:
                rows.append([student, abl, avgs[(abl, student)].fmt(), _gain(avgs[(abl, student)], full)])
    return _table(["student", "variant", "Avg", "vs qr_distill"], rows)


def comparisons_table(comparisons: Sequence[Comparison], prompt: str = "chosen") -> str | None:
    """Paired differences (points) of qr_distill and each baseline: one row per (student, task, baseline)."""
    rows = [[c.student, c.task, c.baseline + (f" ({c.note.split(':')[0]})" if c.note else ""), f"{c.diff:+.1f}",
             f"[{c.lo:+.1f}, {c.hi:+.1f}]", "yes" if c.lo > 0 or c.hi < 0 else "no", str(c.n)]
            for c in comparisons if c.prompt == prompt]
    if not rows:
        return None
    return _table(["student", "task", "qr_distill minus", "diff (pts)", "paired 95% CI", "excludes 0", "n"], rows)


def verdicts(runs: Sequence[RunResult], methods: Sequence[str], students: Sequence[str], tasks: Sequence[str],
             comparisons: Sequence[Comparison] = ()) -> list[str]:
    """Plain sentences on who wins; each qr_distill comparison says whether its paired 95% interval
    (bootstrap over seeds and questions, ``comparisons``) excludes 0."""
    avgs = average_over_tasks(runs, tasks)
    out = []
    for student in students:
        present = [m for m in methods if (m, student) in avgs]
        if not present:
            continue
        best = max(present, key=lambda m: avgs[(m, student)].mean)
        out.append(f"**{student}**: best average is {best} ({avgs[(best, student)].fmt()}%).")
        for c in [c for c in comparisons if c.student == student and c.prompt == "chosen"]:
            if abs(c.diff) < 1e-9 and c.lo == c.hi == 0:
                out.append(f"  - {c.task}: qr_distill ties {c.baseline} on every paired answer.")
                continue
            verb = "beats" if c.diff > 0 else "trails" if c.diff < 0 else "ties"
            clear = "the interval excludes 0" if c.lo > 0 or c.hi < 0 else "the interval includes 0: not a result"
            name = f"{c.baseline} ({c.note.split(':')[0]})" if c.note else c.baseline
            out.append(f"  - {c.task}: qr_distill {verb} {name} by {abs(c.diff):.1f} pts "
                       f"(paired 95% CI [{c.lo:+.1f}, {c.hi:+.1f}], n={c.n}; {clear}).")
    if runs:
        half = sum(r.ci_high - r.ci_low for r in runs) / (2 * len(runs))
        sizes = sorted({r.n for r in runs})
        out.append(f"\nSampling noise: each run answers {', '.join(map(str, sizes))} held-out questions per task; "
                   f"its 95% Wilson interval is ±{100 * half:.0f} pts on average (results.json has each run's interval).")
    return out


def funnel_markdown(counts: dict[str, Any]) -> str:
    """The filter funnel (``qrdistill.quality.funnel.funnel`` output) as a markdown table."""
    stages = counts["stages"]
    rows = [[task, style, *[str(c[s]) for s in stages]]
            for task, styles in counts["by_task_style"].items() for style, c in styles.items()]
    rows += [[f"**{task}**", "all", *[str(c[s]) for s in stages]] for task, c in counts["by_task"].items()]
    rows.append(["**total**", "", *[str(counts["total"][s]) for s in stages]])
    q = counts["questions"]
    note = (f"Training questions: {q['total']}; with at least one kept path: {q['with_kept']}; "
            f"with none (dropped from training): {q['without_kept']}.")
    return _table(["task", "style", *stages], rows) + "\n\n" + note


def build_report(
    runs: Sequence[RunResult],
    *,
    methods: Sequence[str],
    students: Sequence[str],
    tasks: Sequence[str],
    provenance: Sequence[str],
    sections: Sequence[tuple[str, str]] = (),
    title: str = "QR-Distill comparison",
    comparisons: Sequence[Comparison] = (),
) -> str:
    """The whole report.md text: provenance, Table 1, paired differences, gains, ablations, verdicts,
    extra sections. ``runs``: the chosen-style rows (plain-prompt rows go in a section)."""
    methods = ordered({r.method for r in runs}, [*methods, *METHOD_ORDER])
    students = ordered({r.student for r in runs}, students)
    tasks = ordered({r.task for r in runs}, tasks)
    seeds = sorted({r.seed for r in runs})
    parts = [f"# {title}", "", "## What this run used", "", *[f"- {p}" for p in provenance],
             f"- training seeds: {', '.join(map(str, seeds))}; zero_shot is greedy and deterministic, so it is evaluated once",
             "", "## Accuracy (%), each student alone, greedy decoding", "",
             "Each student answers in the style chosen for it on the dev split where the run has one (section "
             "'Test-time styles'). Mean ± sample std over seeds (no ± with one seed). Avg = unweighted mean over "
             "tasks, taken per seed first.", "", accuracy_table(runs, methods, students, tasks), ""]
    paired = comparisons_table(comparisons)
    if paired is not None:
        parts += ["## Paired differences: qr_distill minus each baseline", "",
                  "Same test questions, same seeds; 95% interval from a bootstrap over seeds and questions. "
                  "A difference whose interval includes 0 is not a result.", "", paired, ""]
    parts += ["## Gains over the baselines (average accuracy)", "", gains_table(runs, methods, students, tasks), ""]
    ablation = ablation_table(runs, methods, students, tasks)
    if ablation is not None:
        parts += ["## Ablations", "", ablation, ""]
    parts += ["## What the numbers say", "", *verdicts(runs, methods, students, tasks, comparisons), ""]
    for heading, body in sections:
        parts += [f"## {heading}", "", body.rstrip(), ""]
    return "\n".join(parts)
