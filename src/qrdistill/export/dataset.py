"""Kept paths -> a dataset another trainer reads directly (``qrdistill export``).

Which paths: the ones ``method`` trains on (``train.methods.select_paths``; ``qr_distill``: the
filter's kept paths; ``routed_paths`` narrows them to what the router sent one student). Prompts are
the path's style prompt (``teacher.styles.prompt_for``, the plain task prompt for a style without a
template): the prompt our students are trained on.

Where (``out``):

- TRL formats: ``*.jsonl`` (JSON Lines), ``*.parquet``, or a directory (``Dataset.save_to_disk``);
- LLaMA-Factory formats: a ``dataset_dir``; ``<name>.jsonl`` is written there and its entry is
  added to the directory's ``dataset_info.json`` (other entries are kept).

>>> result = export_paths(read_records("run/filtered.jsonl", Path), questions_by_id, "messages", "kept.jsonl")
>>> datasets.load_dataset("json", data_files="kept.jsonl", split="train").column_names[0]
'messages'
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path as FsPath
from typing import Any

from qrdistill.export.atomic import publish, staging
from qrdistill.export.rows import FORMATS, LLAMA_FACTORY_FORMATS, dataset_info_entry, export_row
from qrdistill.jsonl import RecordError, write_json, write_records
from qrdistill.method.methods import select_paths
from qrdistill.records import Path, Question
from qrdistill.tasks import get_task
from qrdistill.teacher.styles import Style, load_styles, prompt_for


@dataclass
class ExportResult:
    """What an export wrote and what it left out."""

    out: FsPath
    """The dataset: a file, a ``save_to_disk`` directory, or LLaMA-Factory's data file."""
    format: str
    rows: int
    left_out: dict[str, int] = field(default_factory=dict)
    """Paths the method does not train on, by reason (``failed``, ``not kept``)."""
    unfiltered: int = 0
    """Exported paths without a filter verdict (training counts them as kept, and so does the export)."""
    dataset_info: FsPath | None = None
    """LLaMA-Factory's ``dataset_info.json`` (LLaMA-Factory formats only)."""

    def summary(self) -> dict[str, Any]:
        """JSON-ready counts (the ``--json`` output of ``qrdistill export``)."""
        return {"out": str(self.out), "format": self.format, "rows": self.rows, "left_out": self.left_out,
                "unfiltered": self.unfiltered, "dataset_info": str(self.dataset_info) if self.dataset_info else None}


def _left_out(paths: Sequence[Path], chosen: Sequence[Path]) -> dict[str, int]:
    keys = {p.key for p in chosen}
    counts: dict[str, int] = {}
    for p in paths:
        if p.key not in keys:
            reason = "failed" if p.status != "ok" else "not kept" if p.verdict is not None and not p.verdict.kept else "not selected"
            counts[reason] = counts.get(reason, 0) + 1
    return counts


def export_rows(paths: Sequence[Path], questions: Mapping[str, Question], fmt: str, method: str = "qr_distill",
                styles: Mapping[str, Style] | None = None) -> tuple[list[dict[str, Any]], list[Path]]:
    """The rows of the paths ``method`` trains on, and those paths; ``styles``: the style templates
    (default: the built-in ones)."""
    from qrdistill.students.encoding import format_prompt  # imports torch: only when exporting

    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r}; use one of {', '.join(FORMATS)}")
    templates = load_styles() if styles is None else styles
    chosen = select_paths(paths, method)
    rows = []
    for path in chosen:
        question = questions.get(path.question_id)
        if question is None:
            raise RecordError(f"path {path.key}: question {path.question_id!r} is not among the {len(questions)} questions given; "
                              "pass the Question file(s) the paths refer to (--questions)")
        prompt = prompt_for(get_task(question.task), question, path.style, templates)
        rows.append(export_row(fmt, prompt, format_prompt(None, prompt, chat_template=False), path, question.gold))  # type: ignore[arg-type]
    return rows, chosen


def _write_dataset(rows: list[dict[str, Any]], out: FsPath) -> None:
    """Parquet or a ``save_to_disk`` directory, written beside ``out`` and then moved into place."""
    import datasets

    data = datasets.Dataset.from_list(rows)
    tmp = staging(out)
    if out.suffix == ".parquet":
        data.to_parquet(str(tmp))
    else:
        data.save_to_disk(str(tmp))
    publish(tmp, out)


def _add_dataset_info(folder: FsPath, name: str, entry: dict[str, Any]) -> FsPath:
    info_path = folder / "dataset_info.json"
    info: dict[str, Any] = {}
    if info_path.exists():
        try:
            info = json.loads(info_path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise RecordError(f"{info_path}: not valid JSON ({exc.msg} at line {exc.lineno}); fix or remove it") from None
    info[name] = entry
    write_json(info_path, info)
    return info_path


def routed_paths(paths: Sequence[Path], train_dir: str | os.PathLike[str], student: str) -> list[Path]:
    """The ``paths`` whose last routing in ``train_dir`` (its routed.jsonl) included ``student``.

    >>> routed_paths(read_records("run/filtered.jsonl", Path), "run/train/qr_distill/seed0", "gemma3")
    """
    from qrdistill.jsonl import iter_json_lines

    file = FsPath(train_dir) / "routed.jsonl"
    if not file.exists():
        raise RecordError(f"{file} not found: --train-dir must be a finished training output dir (train/<method>/seed<N> of a run)")
    routes = {obj["key"]: obj["students"] for _, obj in iter_json_lines(file)}
    known = {name for members in routes.values() for name in members}
    if student not in known:
        raise RecordError(f"{file}: no path was routed to {student!r}; the students there are {sorted(known)}")
    return [p for p in paths if student in routes.get(p.key, ())]


def export_paths(
    paths: Sequence[Path],
    questions: Mapping[str, Question],
    fmt: str,
    out: str | os.PathLike[str],
    *,
    method: str = "qr_distill",
    name: str = "qrdistill",
) -> ExportResult:
    """Write the paths ``method`` trains on as a ``fmt`` dataset at ``out`` (see the module doc);
    ``name``: the LLaMA-Factory dataset name (and file stem)."""
    out = FsPath(out)
    if out.suffix not in ("", ".jsonl", ".parquet"):
        raise ValueError(f"{out}: write a .jsonl or .parquet file, or a directory (datasets' save_to_disk)")
    rows, chosen = export_rows(paths, questions, fmt, method)
    result = ExportResult(out=out, format=fmt, rows=len(rows), left_out=_left_out(paths, chosen),
                          unfiltered=sum(p.verdict is None for p in chosen))
    if fmt in LLAMA_FACTORY_FORMATS:
        if out.suffix:
            raise ValueError(f"{out}: LLaMA-Factory formats write into a dataset_dir; give a directory, not a file")
        result.out = out / f"{name}.jsonl"
        write_records(result.out, rows)
        result.dataset_info = _add_dataset_info(out, name, dataset_info_entry(fmt, result.out.name))
    elif out.suffix == ".jsonl":
        write_records(out, rows)
    else:
        _write_dataset(rows, out)
    return result
