"""PNG plots of a run (matplotlib, Agg backend): accuracy bars, routing heatmaps, loss curves.

>>> accuracy_bars(runs, methods, students, tasks, "run/plots/accuracy.png")
>>> routing_heatmaps({0: {"cot": {"smollm2": 0.7}}}, "run/plots/routing.png")
>>> loss_curves({"qr_distill seed0": {"smollm2": [(1, 2.3), (2, 2.1)]}}, "run/plots/loss.png")
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path as FsPath

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from qrdistill.evaluate.results import RunResult  # noqa: E402
from qrdistill.report.aggregate import aggregate, average_over_tasks  # noqa: E402


def _save(fig: plt.Figure, png: str | os.PathLike[str]) -> None:
    FsPath(png).parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(png, dpi=110)
    plt.close(fig)


def accuracy_bars(runs: Sequence[RunResult], methods: Sequence[str], students: Sequence[str],
                  tasks: Sequence[str], png: str | os.PathLike[str]) -> None:
    """One panel per task plus the average; bars per student × method. Error bars: ±std over
    seeds, or the run's 95% Wilson interval where a cell has a single seed (none on the average)."""
    cells = aggregate(runs)
    avgs = average_over_tasks(runs, tasks)
    single = {(r.method, r.student, r.task): r for r in runs}
    panels = [*tasks, "Avg"]
    fig, axes = plt.subplots(1, len(panels), figsize=(3.2 * len(panels) + 1, 3.6), sharey=True, squeeze=False)
    width = 0.8 / max(1, len(methods))
    for ax, panel in zip(axes[0], panels):
        for mi, method in enumerate(methods):
            means, below, above = [], [], []
            for student in students:
                cell = avgs.get((method, student)) if panel == "Avg" else cells.get((method, student, panel))
                mean = cell.mean if cell else 0.0
                low = high = mean
                if cell and cell.seeds > 1:
                    low, high = mean - cell.std, mean + cell.std
                elif cell and panel != "Avg":
                    run = single[(method, student, panel)]
                    low, high = run.ci_low, run.ci_high
                means.append(100 * mean)
                below.append(100 * max(mean - low, 0.0))  # rounding can put a bound a hair past the mean
                above.append(100 * max(high - mean, 0.0))
            xs = [si + (mi - (len(methods) - 1) / 2) * width for si in range(len(students))]
            ax.bar(xs, means, width, yerr=[below, above], capsize=2, label=method)
        ax.set_xticks(range(len(students)), students, rotation=20, fontsize=8)
        ax.set_title(panel, fontsize=9)
    axes[0][0].set_ylabel("accuracy (%)")
    axes[0][-1].legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    _save(fig, png)


def routing_heatmaps(rates: Mapping[int, Mapping[str, Mapping[str, float]]], png: str | os.PathLike[str],
                     label: str = "routed share", fixed_range: bool = True) -> None:
    """One heatmap per epoch: rows = sources (styles), columns = students, value = share of paths routed
    (or another per-source value, e.g. the mean answer gain, with its own colour range)."""
    epochs = sorted(rates)
    styles = sorted({s for e in epochs for s in rates[e]})
    students = sorted({st for e in epochs for s in rates[e] for st in rates[e][s]})
    fig, axes = plt.subplots(1, len(epochs), figsize=(1.2 + 1.1 * len(students) * len(epochs) + 1, 0.45 * len(styles) + 1.5),
                             squeeze=False, sharey=True)
    values = [v for e in epochs for s in rates[e].values() for v in s.values()]
    low, high = (0.0, 1.0) if fixed_range else (min(values, default=0.0), max(values, default=1.0))
    for ax, epoch in zip(axes[0], epochs):
        grid = [[rates[epoch].get(s, {}).get(st, float("nan")) for st in students] for s in styles]
        image = ax.imshow(grid, vmin=low, vmax=high, cmap="viridis", aspect="auto")
        for i, row in enumerate(grid):
            for j, v in enumerate(row):
                light = (v - low) / ((high - low) or 1.0) < 0.6
                ax.text(j, i, f"{v:.2f}", ha="center", va="center", fontsize=7, color="white" if light else "black")
        ax.set_xticks(range(len(students)), students, rotation=20, fontsize=8)
        ax.set_title(f"epoch {epoch}", fontsize=9)
    axes[0][0].set_yticks(range(len(styles)), styles, fontsize=8)  # shared: the other panels' labels would overlap
    fig.colorbar(image, ax=axes[0].tolist(), shrink=0.8, label=label)
    FsPath(png).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(png, dpi=110, bbox_inches="tight")
    plt.close(fig)


def loss_curves(curves: Mapping[str, Mapping[str, Sequence[tuple[int, float]]]], png: str | os.PathLike[str]) -> None:
    """One panel per training run; a line per student: (step, distillation loss)."""
    names = list(curves)
    fig, axes = plt.subplots(1, len(names), figsize=(3.4 * len(names) + 0.5, 3.0), squeeze=False, sharey=True)
    for ax, name in zip(axes[0], names):
        for student, points in curves[name].items():
            ax.plot([p[0] for p in points], [p[1] for p in points], label=student, linewidth=1)
        ax.set_title(name, fontsize=9)
        ax.set_xlabel("step")
    axes[0][0].set_ylabel("loss")
    axes[0][-1].legend(fontsize=7)
    _save(fig, png)
