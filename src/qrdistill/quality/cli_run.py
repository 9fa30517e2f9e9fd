"""What ``qrdistill filter`` does once its flags are parsed: read, filter, write, report.

>>> run_filter_cli(in_path=FsPath("paths.jsonl"), out=FsPath("filtered.jsonl"), kept_only=None, questions=[],
...                judge="none", model=None, base_url=None, verifiers="program,arithmetic", on_unknown="reject",
...                votes=1, cache=None, rubric=None, funnel_png=None, seed=0, keep_unverifiable_programs=False,
...                allow_empty=False)
"""

from __future__ import annotations

from pathlib import Path as FsPath

import typer
from pydantic import ValidationError
from rich.console import Console

from qrdistill.dedupe import read_paths, read_questions
from qrdistill.jsonl import RecordError
from qrdistill.quality.filter import FilterSettings, filter_paths
from qrdistill.quality.funnel import funnel, plot_funnel


def run_filter_cli(*, in_path: FsPath, out: FsPath, kept_only: FsPath | None, questions: list[FsPath], judge: str,
                   model: str | None, base_url: str | None, verifiers: str, on_unknown: str, votes: int,
                   cache: FsPath | None, rubric: FsPath | None, funnel_png: FsPath | None, seed: int,
                   keep_unverifiable_programs: bool, allow_empty: bool = False) -> None:
    """Filter ``in_path`` into ``out`` (and ``kept_only``); exit with a one-line error on bad input."""
    console = Console(stderr=True)
    for flag, target in (("--out", out), ("--kept-only", kept_only)):
        if target is not None and target.resolve() == in_path.resolve():
            console.print(f"[red]error:[/red] {flag} {target} is the input file (--in); write the filtered paths elsewhere", soft_wrap=True)
            raise typer.Exit(2)
    try:
        settings = FilterSettings(verifiers=verifiers, judge=judge, model=model, base_url=base_url, on_unknown=on_unknown,
                                  votes=votes, rubric=str(rubric) if rubric else None, seed=seed,
                                  keep_unverifiable_programs=keep_unverifiable_programs)
    except ValidationError as exc:
        err = exc.errors()[0]
        console.print(f"[red]error:[/red] --{'-'.join(map(str, err['loc'])).replace('_', '-')}: {err['msg']}", soft_wrap=True)
        raise typer.Exit(2) from None
    try:
        paths = read_paths(in_path, console)
        if not paths:
            console.print(f"[yellow]warning:[/yellow] {in_path} holds no paths; nothing to filter")
            if not allow_empty:
                raise typer.Exit(1)
        gold = read_questions(questions, console)
        filtered = filter_paths(paths, gold, settings, out, kept_only, cache, console=console)
    except (RecordError, ValueError, KeyError) as exc:
        console.print(f"[red]error:[/red] {exc}", soft_wrap=True)
        raise typer.Exit(1) from None
    kept = sum(p.verdict is not None and p.verdict.kept for p in filtered)
    console.print(f"kept {kept} of {len(filtered)} paths → {out}" + (f" (kept only: {kept_only})" if kept_only else ""))
    if funnel_png is not None:
        console.print(f"funnel plot → {plot_funnel(funnel(filtered, gold), funnel_png)}")
