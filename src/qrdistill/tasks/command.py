"""``qrdistill tasks``: list tasks, load a dataset file, score completions against gold.

    qrdistill tasks list
    qrdistill tasks load --task gsm8k --data test.jsonl --out questions.jsonl
    qrdistill tasks check --task gsm8k --data test.jsonl --completions outs.jsonl --field response
"""

from __future__ import annotations

from pathlib import Path as FsPath
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from qrdistill.jsonl import RecordError, iter_json_lines, write_records
from qrdistill.outpaths import check_out
from qrdistill.output import keep_words
from qrdistill.records import Question
from qrdistill.tasks.base import Task
from qrdistill.tasks.registry import get_task, task_names
from qrdistill.tasks.scoring import score_completions

tasks_app = typer.Typer(no_args_is_help=True, pretty_exceptions_show_locals=False)
console = Console()

TaskOpt = Annotated[str, typer.Option("--task", "-t", help="Task name (see `qrdistill tasks list`).")]
DataOpt = Annotated[FsPath, typer.Option("--data", "-d", help="Dataset file in its original public format, or hf:<name>.")]
SplitOpt = Annotated[str | None, typer.Option("--split", help="Split name stored on the questions (and for hf: datasets).")]


@tasks_app.command("list")
def list_command() -> None:
    """Print every registered task with its answer kind."""
    table = Table("task", "answer kind", "answer format cue")
    for name in task_names():
        task = get_task(name)
        table.add_row(name, task.answer_kind, task.answer_cue)
    console.print(keep_words(table, console.width))


@tasks_app.command("load")
def load_command(
    task: TaskOpt,
    data: DataOpt,
    out: Annotated[FsPath | None, typer.Option("--out", "-o", help="Write the Questions as JSONL here (atomic).")] = None,
    split: SplitOpt = None,
) -> None:
    """Load a dataset file, print the count and the first prompt, optionally write Question JSONL."""
    check_out(out, "--out")
    t = get_task(task)
    questions = _load_or_exit(t, str(data), split)
    console.print(f"[bold]{len(questions)}[/] {task} questions from {data}")
    if questions:
        console.rule("first prompt")
        console.print(t.prompt(questions[0]), markup=False, highlight=False)
        console.rule()
        console.print(f"gold: {questions[0].gold!r}   id: {questions[0].id}", markup=False)
    if out is not None:
        write_records(out, questions)
        console.print(f"wrote {out}")


@tasks_app.command("check")
def check_command(
    task: TaskOpt,
    data: DataOpt,
    completions: Annotated[FsPath, typer.Option("--completions", "-c", help="JSONL with one completion per line.")],
    field: Annotated[str, typer.Option("--field", "-f", help="Field of each line that holds the completion text.")] = "completion",
    id_field: Annotated[str | None, typer.Option("--id-field", help="Field naming the question id; default: same line order as --data.")] = None,
    split: SplitOpt = None,
) -> None:
    """Score completions against the dataset's gold answers: accuracy and unparseable count."""
    t = get_task(task)
    questions = _load_or_exit(t, str(data), split)
    try:
        rows = [(f"{completions}:{n}", obj) for n, obj in iter_json_lines(completions)]
        summary = score_completions(t, questions, rows, field=field, id_field=id_field)
    except (RecordError, ValueError) as exc:
        console.print(f"[red]error:[/] {exc}", soft_wrap=True)
        raise typer.Exit(1) from None
    console.print(summary.render())


def _load_or_exit(task: Task, data: str, split: str | None) -> list[Question]:
    try:
        return task.load(data, split=split)
    except (RecordError, ValueError, OSError) as exc:
        console.print(f"[red]error:[/] {exc}", markup=True, highlight=False, soft_wrap=True)
        raise typer.Exit(1) from None
