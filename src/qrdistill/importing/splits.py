"""Published splits for datasets without an official one: each part's file lists its questions.

>>> spec = SplitSpec(name="mcc_kd_700_150_150", parts={
...     "train": SplitPart(files=["mcc_kd/data/SVAMP/train.json"], question_field="instruction"),
...     "test": SplitPart(files=["mcc_kd/data/SVAMP/test.json"], question_field="instruction")})
>>> questions, report = assign_splits(gold, {n: split_rows(p) for n, p in spec.parts.items()}, spec)
>>> report["counts"]
{'train': 700, 'test': 150, 'unassigned': 150}
"""

from __future__ import annotations

import json
from pathlib import Path as FsPath
from typing import Any

from qrdistill.importing.fields import FieldError
from qrdistill.importing.importer import ImportFieldError, join_row
from qrdistill.importing.join import QuestionIndex
from qrdistill.importing.sources import read_source_rows
from qrdistill.importing.spec import RowMapping, SplitPart, SplitSpec
from qrdistill.jsonl import RecordError
from qrdistill.records import Question
from qrdistill.tasks.readers import Row

UNASSIGNED = "unassigned"
"""Split of gold questions that a published split does not list (never used for training)."""


class SplitError(ValueError):
    """A split definition that does not partition the gold questions."""


def mapped_rows(mapping: RowMapping) -> list[Row]:
    """The rows of a mapping's files, with an index-aligned file merged in when given."""
    rows = read_source_rows(mapping.files, split=mapping.dataset_split, records_key=mapping.records_key)
    if mapping.aligned_files:
        aligned = read_source_rows(mapping.aligned_files, split=mapping.dataset_split, records_key=mapping.records_key)
        rows = align_rows(rows, aligned, ", ".join(mapping.aligned_files))
    return rows


def align_rows(rows: list[Row], aligned: list[Row], aligned_name: str) -> list[Row]:
    """Merge row i of an index-aligned file (e.g. the questions of a list-of-strings dump) into row i."""
    if len(rows) != len(aligned):
        raise RecordError(
            f"{rows[0].where if rows else 'dump'}: {len(rows)} rows but {aligned_name} has {len(aligned)}; "
            "index alignment needs the same count (list the dump files in order)"
        )
    return [Row(r.where, {**a.obj, **r.obj}) for r, a in zip(rows, aligned)]


def split_rows(part: SplitPart) -> list[Row]:
    """The rows that list one split's questions (only those at ``indices_file`` positions if given)."""
    rows = mapped_rows(part)
    if part.indices_file is None:
        return rows
    doc = json.loads(FsPath(part.indices_file).read_text(encoding="utf-8"))
    indices = doc[part.indices_key] if part.indices_key else doc
    if not isinstance(indices, list) or not all(isinstance(i, int) and 0 <= i < len(rows) for i in indices):
        raise RecordError(f"{part.indices_file}: '{part.indices_key}' must be a list of row indices into {part.files[0]} (0..{len(rows) - 1})")
    return [rows[i] for i in indices]


def assign_splits(questions: list[Question], parts: dict[str, list[Row]], spec: SplitSpec) -> tuple[list[Question], dict[str, Any]]:
    """Set each gold question's ``split`` from the part whose rows name it.

    Questions named by no part get ``'unassigned'``; a question named by two parts, or a part
    row that matches no gold question, raises SplitError (a split must be exact to be trusted).
    """
    index = QuestionIndex(questions)
    assigned: dict[str, str] = {}
    for name, rows in parts.items():
        mapping = spec.parts[name]
        missing = []
        for row in rows:
            try:
                question, looked_up = join_row(mapping, row, index)
            except FieldError as exc:
                raise ImportFieldError(f"{row.where}: {exc}; set question_field/id_field of split part '{name}'") from None
            if question is None:
                missing.append(f"{row.where}: {looked_up[:120]!r}")
                continue
            previous = assigned.setdefault(question.id, name)
            if previous != name:
                raise SplitError(f"split {spec.name}: question {question.id} is in both '{previous}' and '{name}' ({row.where})")
        if missing:
            raise SplitError(
                f"split {spec.name}, part '{name}': {len(missing)} row(s) match no gold question, e.g. {missing[:3]}; "
                "check the part's question_field/question_pattern or the gold file"
            )
    out = [q.model_copy(update={"split": assigned.get(q.id, UNASSIGNED)}) for q in questions]
    counts: dict[str, int] = {}
    for q in out:
        counts[q.split or UNASSIGNED] = counts.get(q.split or UNASSIGNED, 0) + 1
    return out, {"name": spec.name, "counts": counts}
