"""Console table of evaluation rows (accuracy with its Wilson 95% interval)."""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console
from rich.table import Table

from qrdistill.evaluate.results import RunResult
from qrdistill.output import keep_words


def print_eval_table(rows: Sequence[RunResult], console: Console | None = None) -> None:
    """Print one line per (method, seed, student, task).

    >>> print_eval_table([RunResult.from_counts("zero_shot", "smollm2", "synth_arith", 0, correct=3, n=10)])
    """
    table = Table(title="accuracy (Wilson 95% CI)")
    for col in ("method", "seed", "student", "task", "n", "accuracy", "95% CI"):
        table.add_column(col, justify="right" if col in ("seed", "n", "accuracy", "95% CI") else "left")
    for r in rows:
        table.add_row(r.method, str(r.seed), r.student, r.task, str(r.n), f"{100 * r.accuracy:.1f}",
                      f"[{100 * r.ci_low:.1f}, {100 * r.ci_high:.1f}]")
    console = console or Console()
    console.print(keep_words(table, console.width))
