"""Read any teacher dump into rows: JSONL, a JSON list, a dict of records, or a list of strings.

>>> rows = read_rows(["llm/train_CoT_0.json", "llm/train_CoT_1.json"])   # concatenated in order
>>> rows[0].where, rows[0].obj
('llm/train_CoT_0.json[0]', {'_value': 'Luke scored ...', '_index': 0})

Every row gets ``_index`` (its position over all files); rows of a dict of records get ``_key``
(the dict key, e.g. TabMWP's pid); a string row is ``{"_value": text}``.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path as FsPath
from typing import Any

from qrdistill.jsonl import RecordError, iter_json_lines
from qrdistill.importing.fields import FieldError, get_field


@dataclass(frozen=True)
class Row:
    """One record of a dump and where it came from (``file:line`` or ``file[i]`` / ``file[key]``)."""

    where: str
    obj: dict[str, Any]


def _records_of(doc: Any, path: FsPath, records_key: str | None) -> list[tuple[str, Any]]:
    if records_key:
        try:
            doc = get_field(doc, records_key)
        except FieldError as exc:
            raise RecordError(f"{path}: records key: {exc}; set records_key to where the records are") from None
    if isinstance(doc, list):
        return [(f"{path}[{i}]", item) for i, item in enumerate(doc)]
    if isinstance(doc, dict) and doc and all(isinstance(v, dict) for v in doc.values()):
        return [(f"{path}[{k}]", {**v, "_key": k}) for k, v in doc.items()]
    lists = [k for k, v in doc.items() if isinstance(v, (list, dict))] if isinstance(doc, dict) else []
    raise RecordError(
        f"{path}: a JSON {type(doc).__name__} that is neither a list nor a dict of records; "
        f"set records_key (--records-key) to the field that holds them (candidates: {', '.join(lists) or 'none'})"
    )


def _read_file(path: FsPath, records_key: str | None) -> list[tuple[str, Any]]:
    if not path.exists():
        raise RecordError(f"{path}: file not found")
    text = path.read_text(encoding="utf-8")
    try:
        doc = json.loads(text)
    except json.JSONDecodeError:
        return [(f"{path}:{n}", obj) for n, obj in iter_json_lines(path)]
    if isinstance(doc, dict) and records_key is None and path.suffix == ".jsonl":
        return [(f"{path}:{n}", obj) for n, obj in iter_json_lines(path)]
    return _records_of(doc, path, records_key)


def read_rows(paths: list[str | os.PathLike[str]], records_key: str | None = None) -> list[Row]:
    """All records of ``paths`` in order, each a dict with ``_index`` (and ``_key`` / ``_value``)."""
    rows: list[Row] = []
    for path in paths:
        for where, item in _read_file(FsPath(path), records_key):
            if isinstance(item, str):
                item = {"_value": item}
            elif not isinstance(item, dict):
                raise RecordError(f"{where}: expected an object or a string, got {type(item).__name__}")
            rows.append(Row(where, {**item, "_index": len(rows)}))
    return rows


def align_rows(rows: list[Row], aligned: list[Row], aligned_name: str) -> list[Row]:
    """Merge row i of an index-aligned file (e.g. the questions of a list-of-strings dump) into row i."""
    if len(rows) != len(aligned):
        raise RecordError(
            f"{rows[0].where if rows else 'dump'}: {len(rows)} rows but {aligned_name} has {len(aligned)}; "
            "index alignment needs the same count (list the dump files in order)"
        )
    return [Row(r.where, {**a.obj, **r.obj}) for r, a in zip(rows, aligned)]
