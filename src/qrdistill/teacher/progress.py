"""Progress bar for a batch of model calls and the end-of-stage summary table.

>>> with CallProgress(console, total=600, label="openai:gpt-4o-mini") as progress:
...     progress.advance(result)
>>> print_summary(console, summarize(paths), progress.cached, "paths.jsonl")
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from rich.text import Text

from qrdistill.backends.base import ChatResult
from qrdistill.output import keep_words
from qrdistill.records import Path


class _RateColumn(ProgressColumn):
    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text("-- calls/s" if speed is None else f"{speed:.1f} calls/s", style="progress.data.speed")


class CallProgress:
    """A rich progress bar: done/total, failed, rate, elapsed and ETA. Cached results count as
    done but not towards the rate (they are replayed first, before any call)."""

    def __init__(self, console: Console, total: int, label: str) -> None:
        self.cached = 0
        self.failed = 0
        self._progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("failed [red]{task.fields[failed]}[/]"),
            TextColumn("cached {task.fields[cached]}"),
            _RateColumn(),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=console,
        )
        self._task = self._progress.add_task(label, total=total, failed=0, cached=0)

    def advance(self, result: ChatResult) -> None:
        """Count one finished call."""
        if result.cached:
            # replayed before any call is made: move the bar without a speed sample
            self.cached += 1
            self._progress.reset(self._task, completed=self.cached, cached=self.cached, failed=self.failed)
            return
        self.failed += not result.ok
        self._progress.update(self._task, advance=1, failed=self.failed, cached=self.cached)

    def __enter__(self) -> CallProgress:
        self._progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._progress.stop()


@dataclass(frozen=True)
class StyleSummary:
    """Counts for one style (or the total row, style='all')."""

    style: str
    paths: int
    ok: int
    failed: int
    correct: int
    tokens: int

    @property
    def correct_rate(self) -> float | None:
        """Answer-correct share of the ok paths (None when there are none)."""
        return self.correct / self.ok if self.ok else None


def summarize(paths: Sequence[Path]) -> list[StyleSummary]:
    """Per-style counts in first-seen style order, then a total row.

    >>> [s.style for s in summarize(paths)]
    ['cot', 'program', 'all']
    """
    styles = list(dict.fromkeys(p.style for p in paths))

    def row(name: str, group: list[Path]) -> StyleSummary:
        ok = [p for p in group if p.status == "ok"]
        return StyleSummary(
            style=name,
            paths=len(group),
            ok=len(ok),
            failed=len(group) - len(ok),
            correct=sum(bool(p.correct) for p in ok),
            tokens=sum(p.usage.get("total_tokens", 0) for p in group),
        )

    return [row(s, [p for p in paths if p.style == s]) for s in styles] + [row("all", list(paths))]


def print_summary(console: Console, rows: list[StyleSummary], cached: int, out_path: str | os.PathLike[str]) -> None:
    """Render the summary table and where the paths went."""
    table = Table(title="Teacher paths")
    for column in ("style", "paths", "ok", "failed", "answer correct", "tokens"):
        table.add_column(column, justify="left" if column == "style" else "right")
    for r in rows:
        rate = "-" if r.correct_rate is None else f"{r.correct_rate:.1%} ({r.correct}/{r.ok})"
        failed = f"[red]{r.failed}[/]" if r.failed else "0"
        table.add_row(r.style, str(r.paths), str(r.ok), failed, rate, f"{r.tokens:,}", end_section=r.style != "all" and r is rows[-2])
    console.print(keep_words(table, console.width))
    total = rows[-1]
    console.print(f"{total.paths} paths -> {out_path} ({cached} reused from the cache, {total.failed} failed)")
