"""Repeated records in a stage's input: an identical repeat is dropped (and counted), a record that
repeats an id or key with different contents is refused, since no stage can tell which one is meant.

Every stage that reads questions or paths calls these, so each treats repeats the same way.

>>> questions, dropped = unique_questions(read_records("q.jsonl", Question), "q.jsonl")
>>> paths, dropped = unique_paths(read_records("paths.jsonl", Path), "paths.jsonl")
>>> questions = read_questions(["q.jsonl", "more.jsonl"])      # read, deduplicated, count printed
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import TypeVar

from pydantic import BaseModel
from rich.console import Console

from qrdistill.jsonl import read_records
from qrdistill.records import Path, Question

R = TypeVar("R", bound=BaseModel)


def _unique(records: Sequence[R], key: Callable[[R], str], noun: str, where: str) -> tuple[list[R], int]:
    first: dict[str, R] = {}
    dropped = 0
    for record in records:
        seen = first.setdefault(key(record), record)
        if seen is record:
            continue
        if seen == record:
            dropped += 1
            continue
        a, b = seen.model_dump(), record.model_dump()
        field = next(name for name in a if a[name] != b[name])
        raise ValueError(f"{where}: {noun} {key(record)!r} appears twice with a different {field} "
                         f"({_short(a[field])} and {_short(b[field])}); remove or rename one of them")
    return list(first.values()), dropped


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:59] + "…"


def unique_questions(questions: Sequence[Question], where: str) -> tuple[list[Question], int]:
    """The questions with identical repeats dropped, and how many were; ValueError when one id has
    two different records (a conflicting gold, say)."""
    return _unique(questions, lambda q: q.id, "question id", where)


def unique_paths(paths: Sequence[Path], where: str) -> tuple[list[Path], int]:
    """The paths with identical repeats (same key and contents) dropped, and how many were;
    ValueError when one key (question|style|sample|teacher) has two different records."""
    return _unique(paths, lambda p: p.key, "path key", where)


def report_dropped(console: Console, dropped: int, what: str, where: str) -> None:
    """Print how many identical repeats were dropped (nothing when none were)."""
    if dropped:
        console.print(f"[yellow]note:[/yellow] {where}: dropped {dropped} identical repeated {what}")


def read_questions(files: Sequence[str | os.PathLike[str]], console: Console | None = None) -> list[Question]:
    """The questions of ``files`` in order, identical repeats dropped (the count printed), an id
    repeated with different contents refused."""
    where = ", ".join(str(f) for f in files)
    questions, dropped = unique_questions([q for f in files for q in read_records(f, Question)], where)
    report_dropped(console or Console(stderr=True), dropped, "questions", where)
    return questions


def read_paths(file: str | os.PathLike[str], console: Console | None = None) -> list[Path]:
    """The paths of ``file`` in order, identical repeats dropped (the count printed), a key repeated
    with different contents refused."""
    paths, dropped = unique_paths(read_records(file, Path), str(file))
    report_dropped(console or Console(stderr=True), dropped, "paths", str(file))
    return paths
