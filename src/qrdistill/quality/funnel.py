"""The filter funnel: how many paths survive each stage, per task and style, and the questions left
with no kept path (dropped from training). A rich table for the terminal, a PNG for the report.

>>> f = funnel(filtered_paths)
>>> f["total"]["kept"], f["questions"]["without_kept"]
(412, 3)
>>> plot_funnel(f, "plots/filter_funnel.png")
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path as FsPath
from typing import Any

from rich.console import Console
from rich.table import Table

from qrdistill.output import keep_words
from qrdistill.records import Path, Question

STAGES = ("generated", "answer_correct", "verifiers", "judge", "kept")


def path_stages(path: Path) -> dict[str, bool]:
    """Which funnel stages one path got through (each stage implies the ones before it)."""
    v = path.verdict
    answer = path.status == "ok" and v is not None and v.answer_correct
    verifiers = answer and all(r.passed is not False for r in v.verifiers)  # type: ignore[union-attr]
    judge = verifiers and (v.judge is None or v.judge.verdict == "valid" or v.kept)  # type: ignore[union-attr]
    return {"generated": True, "answer_correct": answer, "verifiers": verifiers, "judge": judge,
            "kept": judge and v is not None and v.kept}


def funnel(paths: Sequence[Path], questions: Sequence[Question] = ()) -> dict[str, Any]:
    """Counts per stage for every task/style and in total, plus questions without a kept path.

    ``questions`` adds the questions that got no path at all to the count of dropped questions.
    Returns ``{"stages", "by_task_style": {task: {style: {stage: n}}}, "by_task": ..., "total": ...,
    "questions": {"total", "with_kept", "without_kept", "without_kept_ids"}}``.
    """
    by_ts: dict[str, dict[str, dict[str, int]]] = defaultdict(lambda: defaultdict(lambda: dict.fromkeys(STAGES, 0)))
    by_task: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(STAGES, 0))
    total = dict.fromkeys(STAGES, 0)
    kept_by_q: dict[str, bool] = {q.id: False for q in questions}
    for p in paths:
        reached = path_stages(p)
        for stage, passed in reached.items():
            by_ts[p.task][p.style][stage] += passed
            by_task[p.task][stage] += passed
            total[stage] += passed
        kept_by_q[p.question_id] = kept_by_q.get(p.question_id, False) or reached["kept"]
    without = sorted(q for q, kept in kept_by_q.items() if not kept)
    return {
        "stages": list(STAGES),
        "by_task_style": {t: {s: dict(c) for s, c in sorted(styles.items())} for t, styles in sorted(by_ts.items())},
        "by_task": {t: dict(c) for t, c in sorted(by_task.items())},
        "total": total,
        "questions": {"total": len(kept_by_q), "with_kept": len(kept_by_q) - len(without),
                      "without_kept": len(without), "without_kept_ids": without},
    }


def _cells(counts: dict[str, int]) -> list[str]:
    first = counts["generated"] or 1
    return [str(counts["generated"])] + [f"{counts[s]} ({100 * counts[s] / first:.0f}%)" for s in STAGES[1:]]


def funnel_table(f: dict[str, Any]) -> Table:
    """The funnel as a rich table: one row per task/style, a subtotal per task, the total."""
    table = Table(title="Filter funnel (paths surviving each stage)")
    table.add_column("task")
    table.add_column("style")
    for stage in STAGES:
        table.add_column(stage.replace("_", " "), justify="right")
    for task, styles in f["by_task_style"].items():
        for style, counts in styles.items():
            table.add_row(task, style, *_cells(counts))
        table.add_row(task, "[b]all[/b]", *_cells(f["by_task"][task]), end_section=True)
    table.add_row("[b]total[/b]", "", *_cells(f["total"]))
    q = f["questions"]
    table.caption = (f"questions: {q['total']}, with a kept path: {q['with_kept']}, "
                     f"with none (dropped from training): {q['without_kept']}")
    return table


def print_funnel(f: dict[str, Any], console: Console | None = None) -> None:
    """Print the funnel table."""
    console = console or Console()
    console.print(keep_words(funnel_table(f), console.width))


def plot_funnel(f: dict[str, Any], png_path: str | os.PathLike[str]) -> FsPath:
    """Draw one panel per task: the share of paths left after each stage, a line per style and in bold for all.

    >>> plot_funnel(funnel(paths), "plots/filter_funnel.png")
    PosixPath('plots/filter_funnel.png')
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    tasks = list(f["by_task_style"]) or ["(none)"]
    fig, axes = plt.subplots(1, len(tasks), figsize=(4.2 * len(tasks) + 1, 3.8), squeeze=False, sharey=True)
    labels = [s.replace("_", "\n") for s in STAGES]
    for ax, task in zip(axes[0], tasks):
        styles = f["by_task_style"].get(task, {})
        for style, counts in styles.items():
            ax.plot(labels, [100 * counts[s] / (counts["generated"] or 1) for s in STAGES], marker="o", lw=1.2, label=style)
        if task in f["by_task"]:
            counts = f["by_task"][task]
            ax.plot(labels, [100 * counts[s] / (counts["generated"] or 1) for s in STAGES], color="black", lw=2.5,
                    label=f"all ({counts['generated']})")
        ax.set_title(task)
        ax.set_ylim(0, 105)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, loc="lower left")
    axes[0][0].set_ylabel("% of generated paths left")
    q = f["questions"]
    fig.suptitle(f"Filter funnel; questions with no kept path: {q['without_kept']} of {q['total']}", fontsize=10)
    fig.tight_layout()
    out = FsPath(png_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=120)
    plt.close(fig)
    return out
