"""Aggregation of evaluation rows over seeds: the numbers behind the report's tables.

>>> cells = aggregate(runs)                       # (method, student, task) -> Cell
>>> avgs = average_over_tasks(runs, ["synth_arith", "synth_date"])   # (method, student) -> Cell
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from qrdistill.evaluate.results import RunResult
from qrdistill.evaluate.stats import mean_std


@dataclass(frozen=True)
class Cell:
    """Mean and sample std of accuracy over seeds (fractions in [0, 1])."""

    mean: float
    std: float
    seeds: int

    def fmt(self) -> str:
        """'41.2 ± 3.1' in percent; no spread shown for a single seed."""
        if self.seeds == 1:
            return f"{100 * self.mean:.1f}"
        return f"{100 * self.mean:.1f} ± {100 * self.std:.1f}"


def _cell(values: Sequence[float]) -> Cell:
    mean, std = mean_std(values)
    return Cell(mean, std, len(values))


def aggregate(runs: Sequence[RunResult]) -> dict[tuple[str, str, str], Cell]:
    """(method, student, task) → accuracy over seeds."""
    by_key: dict[tuple[str, str, str], list[float]] = defaultdict(list)
    for r in runs:
        by_key[(r.method, r.student, r.task)].append(r.accuracy)
    return {k: _cell(v) for k, v in by_key.items()}


def average_over_tasks(runs: Sequence[RunResult], tasks: Sequence[str]) -> dict[tuple[str, str], Cell]:
    """(method, student) → the unweighted task average, mean ± std over the seeds that have every task.

    Each seed's average is taken first so the spread is the seed-to-seed spread of the average.
    """
    per_seed: dict[tuple[str, str, int], dict[str, float]] = defaultdict(dict)
    for r in runs:
        per_seed[(r.method, r.student, r.seed)][r.task] = r.accuracy
    averages: dict[tuple[str, str], list[float]] = defaultdict(list)
    for (method, student, _seed), accs in sorted(per_seed.items()):
        if all(t in accs for t in tasks):
            averages[(method, student)].append(sum(accs[t] for t in tasks) / len(tasks))
    return {k: _cell(v) for k, v in averages.items()}


def ordered(present: set[str], preferred: Sequence[str]) -> list[str]:
    """``preferred`` items that are present (once each, first mention wins), then the rest sorted.

    >>> ordered({"b", "z", "a"}, ["a", "b", "a"])
    ['a', 'b', 'z']
    """
    return [p for p in dict.fromkeys(preferred) if p in present] + sorted(present - set(preferred))
