"""The import stage: gold + split + every dump of a config -> questions/, paths.jsonl and a report.

>>> cfg = load_import_config("configs/real/svamp.import.yaml", data_root="/work/shared/data")
>>> summary = run_import(cfg, RunDir("runs/real/svamp"))
>>> summary["sources"][0]["imported"]
"""

from __future__ import annotations

import os
from pathlib import Path as FsPath
from typing import Any

import yaml
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape
from rich.progress import track
from rich.table import Table

from qrdistill.dedupe import report_dropped, unique_questions
from qrdistill.importing.importer import ImportReport, import_paths
from qrdistill.importing.spec import ImportConfig, RowMapping, SourceSpec
from qrdistill.importing.splits import assign_splits, mapped_rows, split_rows
from qrdistill.jsonl import RecordError, read_records, write_atomic, write_json, write_records
from qrdistill.output import keep_words
from qrdistill.records import Path, Question
from qrdistill.rundir import RunDir
from qrdistill.tasks import get_task


def _resolve(root: str | None, name: str) -> str:
    return name if root is None or os.path.isabs(name) else os.path.join(root, name)


def _resolve_mapping(mapping: RowMapping, root: str | None) -> dict[str, Any]:
    update: dict[str, Any] = {
        "files": [_resolve(root, f) for f in mapping.files],
        "aligned_files": [_resolve(root, f) for f in mapping.aligned_files],
    }
    if getattr(mapping, "indices_file", None):
        update["indices_file"] = _resolve(root, mapping.indices_file)  # type: ignore[attr-defined]
    return update


def resolve_paths(cfg: ImportConfig, data_root: str | None = None) -> ImportConfig:
    """The config with every file name joined to ``data_root`` (argument, else the config's)."""
    root = data_root or cfg.data_root
    gold: str | dict[str, str] | None = cfg.gold
    if isinstance(gold, dict):
        gold = {k: _resolve(root, v) for k, v in gold.items()}
    elif gold is not None:
        gold = _resolve(root, gold)
    split = cfg.split
    if split is not None:
        parts = {n: p.model_copy(update=_resolve_mapping(p, root)) for n, p in split.parts.items()}
        split = split.model_copy(update={"parts": parts})
    sources = [s.model_copy(update=_resolve_mapping(s, root)) for s in cfg.sources]
    return cfg.model_copy(update={"gold": gold, "split": split, "sources": sources, "data_root": root})


def load_import_config(path: str | os.PathLike[str], data_root: str | None = None) -> ImportConfig:
    """Read and validate an import config YAML; errors name the file and the field."""
    try:
        data = yaml.safe_load(FsPath(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise RecordError(f"{path}: cannot read import config ({exc})") from None
    try:
        cfg = ImportConfig.model_validate(data)
    except ValidationError as exc:
        lines = [f"{path}: field '{'.'.join(str(p) for p in e['loc'])}': {e['msg']}" for e in exc.errors()]
        raise RecordError("\n".join(lines)) from None
    return resolve_paths(cfg, data_root)


def load_gold(cfg: ImportConfig) -> tuple[list[Question], dict[str, Any] | None]:
    """The gold questions of every split (identical repeats dropped with a count, an id with a
    conflicting gold refused), and the split report when a published split was applied."""
    questions, split = _read_gold(cfg)
    where = ", ".join(cfg.questions) if cfg.questions else str(cfg.gold)
    unique, dropped = unique_questions(questions, where)
    report_dropped(Console(stderr=True), dropped, "questions", where)
    return unique, split


def _read_gold(cfg: ImportConfig) -> tuple[list[Question], dict[str, Any] | None]:
    if cfg.questions:
        return [q for f in cfg.questions for q in read_records(f, Question)], None
    task = get_task(cfg.task)
    if isinstance(cfg.gold, dict):
        questions = [q.model_copy(update={"split": name}) for name, f in cfg.gold.items() for q in task.load(f, split=name)]
        return questions, None
    questions = task.load(str(cfg.gold))
    if cfg.split is None:
        return questions, None
    return assign_splits(questions, {n: split_rows(p) for n, p in cfg.split.parts.items()}, cfg.split)


def import_sources(cfg: ImportConfig, questions: list[Question]) -> tuple[list[Path], list[ImportReport]]:
    """Import every source of ``cfg``; two sources writing the same path key is an error."""
    task = get_task(cfg.task)
    paths: list[Path] = []
    reports: list[ImportReport] = []
    seen: dict[str, str] = {}
    for spec in track(cfg.sources, description=f"importing {cfg.task}"):
        result = import_paths(
            spec, mapped_rows(spec), questions, task, train_split=cfg.train_split, eval_policy=spec.eval_policy or cfg.eval_policy
        )
        for path in result.paths:
            if path.key in seen:
                raise RecordError(
                    f"{path.meta['row']}: path key {path.key} already written by source {seen[path.key]}; "
                    "give one of the sources another style name or a sample_offset"
                )
            seen[path.key] = spec.label
            paths.append(path)
        reports.append(result.report)
    return paths, reports


def report_markdown(cfg: ImportConfig, split: dict[str, Any] | None, reports: list[ImportReport]) -> str:
    """A readable summary of an import: split counts and one row per source, then examples."""
    lines = [f"# Import report: {cfg.task}", ""]
    if split is not None:
        lines += [f"Split: `{split['name']}`: " + ", ".join(f"{k} {v}" for k, v in split["counts"].items()), ""]
    lines += [
        "| source | rows | completions | imported | correct | questions | unjoined | ambiguous | eval split | incomplete | unfit | empty | trimmed | letters remapped |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in reports:
        acc = f"{r.correct} ({100 * r.correct / r.imported:.1f}%)" if r.imported else "0"
        lines.append(
            f"| {r.source} | {r.rows} | {r.completions} | {r.imported} | {acc} | {r.questions} | {r.unjoined} | {r.ambiguous} "
            f"| {r.eval_split} | {r.incomplete} | {_unfit(r)} | {r.empty} | {r.trimmed} | {r.letters_remapped} |"
        )
    for r in reports:
        for kind, examples in r.examples.items():
            lines += ["", f"## {r.source}: {kind}", ""]
            lines += [f"- `{e['where']}`: {e['detail']!r}" for e in examples]
    return "\n".join(lines) + "\n"


def _unfit(report: ImportReport) -> str:
    """Chat rows that did not fit, by reason: ``multi_turn 2, tool_call 1`` (``0`` for none)."""
    return ", ".join(f"{kind} {n}" for kind, n in sorted(report.unfit.items())) or "0"


def _summary_table(reports: list[ImportReport], width: int) -> Table:
    table = Table(title="import (details: the report .md)")
    for col in ("source", "imported", "correct", "unjoined", "eval split", "unfit"):
        table.add_column(col, justify="left" if col in ("source", "unfit") else "right")
    for r in reports:
        table.add_row(escape(r.source), str(r.imported), str(r.correct), str(r.unjoined), str(r.eval_split), _unfit(r))
    return keep_words(table, width)


def _write_report(base: FsPath, cfg: ImportConfig, split: dict[str, Any] | None, reports: list[ImportReport], console: Console | None) -> dict[str, Any]:
    summary = {"task": cfg.task, "train_split": cfg.train_split, "split": split, "sources": [r.to_dict() for r in reports]}
    write_json(base.with_name(base.name + ".json"), summary)
    write_atomic(base.with_name(base.name + ".md"), report_markdown(cfg, split, reports))
    console = console or Console()
    console.print(_summary_table(reports, console.width))
    return summary


def run_import(cfg: ImportConfig, run: RunDir, console: Console | None = None) -> dict[str, Any]:
    """Write ``questions/{task}.{split}.jsonl``, ``paths.jsonl`` and ``import_report.{json,md}``
    into ``run``; returns the report dict."""
    questions, split = load_gold(cfg)
    paths, reports = import_sources(cfg, questions)
    for name in sorted({q.split or "all" for q in questions}):
        write_records(run.questions(cfg.task, name), [q for q in questions if (q.split or "all") == name])
    write_records(run.paths, paths)
    return _write_report(run.root / "import_report", cfg, split, reports, console)


def import_to_file(cfg: ImportConfig, out: str | os.PathLike[str], console: Console | None = None) -> dict[str, Any]:
    """Flag mode: import ``cfg.sources`` into ``out``; the report goes beside it (``<out>.import_report.{json,md}``)."""
    questions, split = load_gold(cfg)
    paths, reports = import_sources(cfg, questions)
    out = FsPath(out)
    write_records(out, paths)
    return _write_report(out.with_name(out.stem + ".import_report"), cfg, split, reports, console)
