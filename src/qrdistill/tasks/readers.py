"""Read a dataset file or a teacher dump in whatever container its public release uses, as located rows.

Each row comes with ``where`` ("file:line", "file[i]", "file['key']" or "hf:name[split][i]") so
that a loader's or importer's error names the exact place and field at fault.

>>> rows = read_rows("test.jsonl")               # JSON Lines (also a .json file holding JSON Lines)
>>> rows = read_rows("SVAMP.json")               # a JSON list
>>> rows = read_rows("task.json")                # BIG-bench: the list under "examples"
>>> rows = read_rows("problems_test1k.json")     # a dict keyed by id: each row gets "_key"
>>> rows = read_rows("MATH/test/")               # a folder of one-problem JSON files ("_key": file path)
>>> rows = read_rows("outputs.json", records_key="outputs")   # the records under a (dotted) key
>>> rows = read_rows(["llm/train_CoT_0.json", "llm/train_CoT_1.json"])   # several files, in order
>>> rows[0].where, rows[0].obj                   # a list of strings: each string under "_value"
('llm/train_CoT_0.json[0]', {'_value': 'Luke scored ...', '_index': 0})
>>> rows = read_rows("hf:openai/gsm8k:main", split="test")   # needs `datasets` and the network/cache
>>> where, row = rows[0]

Every row gets ``_index``, its position over all the files read together.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from pathlib import Path as FsPath
from typing import Any, NamedTuple

from qrdistill.jsonl import RecordError, iter_json_lines, read_text_utf8

KEY = "_key"
"""Rows read from a JSON object keyed by id carry that id under this field."""
VALUE = "_value"
"""A row that is a bare string (a list-of-strings dump) holds it under this field."""
INDEX = "_index"
"""Every row's position over all the files of one ``read_rows`` call."""
MISSING: Any = object()
"""What ``lookup`` returns for a path that is not there."""

PathLike = str | os.PathLike[str]


class Row(NamedTuple):
    """One record and where it came from; unpacks as ``where, obj``."""

    where: str
    obj: dict[str, Any]


def read_rows(paths: PathLike | Sequence[PathLike], *, split: str | None = None, records_key: str | None = None) -> list[Row]:
    """Rows of one or several files, in order: JSONL, a JSON list (of objects or strings), an
    id-keyed dict, a BIG-bench task.json, the records under ``records_key`` (a dotted path) of a
    JSON document, a folder of JSON files, or ``hf:<name>[:<config>]`` through
    ``datasets.load_dataset`` (``split`` defaults to test)."""
    rows: list[Row] = []
    for path in [paths] if isinstance(paths, (str, os.PathLike)) else paths:
        for where, item in _read_one(os.fspath(path), split, records_key):
            if isinstance(item, str):
                item = {VALUE: item}
            elif not isinstance(item, dict):
                raise RecordError(f"{where}: expected a JSON object or a string, got {type(item).__name__}")
            rows.append(Row(where, {**item, INDEX: len(rows)}))
    return rows


def lookup(obj: Any, dotted: str) -> Any:
    """The value at a dotted path of dict keys and list indices, or MISSING.

    >>> lookup({"choices": {"text": ["a", "b"]}}, "choices.text.1")
    'b'
    """
    cur = obj
    for part in dotted.split("."):
        if isinstance(cur, dict) and part in cur:
            cur = cur[part]
        elif isinstance(cur, list) and part.isdigit() and int(part) < len(cur):
            cur = cur[int(part)]
        else:
            return MISSING
    return cur


def _read_one(text: str, split: str | None, records_key: str | None) -> list[tuple[str, Any]]:
    if text.startswith("hf:"):
        return _read_hf(text[3:], split or "test")
    fs = FsPath(text)
    if fs.is_dir():
        return _read_folder(fs)
    if not fs.exists():
        raise RecordError(f"{fs}: file not found; pass the file in its original format (or hf:<name>)")
    if fs.suffix != ".jsonl":
        try:
            doc = json.loads(read_text_utf8(fs))
        except json.JSONDecodeError:
            pass  # JSON Lines under a .json name (e.g. Distilling Step-by-Step's files)
        else:
            return _records_of(doc, str(fs), records_key)
    return [(f"{fs}:{n}", obj) for n, obj in iter_json_lines(fs)]


def _records_of(doc: Any, where: str, records_key: str | None) -> list[tuple[str, Any]]:
    """The records of a JSON document. A plain object is one record (an original MATH problem
    file), unless it holds lists of objects: then which list holds the records must be said."""
    if records_key:
        found = lookup(doc, records_key)
        if found is MISSING:
            raise RecordError(f"{where}: records key '{records_key}' not found; set records_key to where the records are")
        doc, where = found, f"{where} {records_key}"
    if isinstance(doc, dict) and isinstance(doc.get("examples"), list) and not records_key:
        doc, where = doc["examples"], f"{where} examples"
    if isinstance(doc, list):
        return [(f"{where}[{i}]", item) for i, item in enumerate(doc)]
    if isinstance(doc, dict) and doc and all(isinstance(v, dict) for v in doc.values()):
        return [(f"{where}[{k!r}]", {**v, KEY: k}) for k, v in doc.items()]
    lists = [k for k, v in doc.items() if isinstance(v, list) and v and isinstance(v[0], dict)] if isinstance(doc, dict) else []
    if isinstance(doc, dict) and not lists:
        return [(where, doc)]
    raise RecordError(
        f"{where}: a JSON {type(doc).__name__} that is neither a list nor a dict of records; "
        f"set records_key (--records-key) to the field that holds them (candidates: {', '.join(lists) or 'none'})"
    )


def _read_folder(folder: FsPath) -> list[tuple[str, Any]]:
    files = sorted(folder.rglob("*.json"), key=lambda p: (str(p.parent), _natural(p.stem)))
    if not files:
        raise RecordError(f"{folder}: no *.json files in this folder")
    rows = []
    for file in files:
        try:
            doc = json.loads(read_text_utf8(file))
        except json.JSONDecodeError as exc:
            raise RecordError(f"{file}: not valid JSON ({exc.msg} at line {exc.lineno})") from None
        for where, row in _records_of(doc, str(file), None):
            rows.append((where, {**row, KEY: row.get(KEY, file.as_posix())} if isinstance(row, dict) else row))
    return rows


def _natural(stem: str) -> tuple[int, str]:
    return (int(stem), "") if stem.isdigit() else (1 << 62, stem)


def _read_hf(spec: str, split: str) -> list[tuple[str, Any]]:
    try:
        import datasets
    except ImportError:
        raise RecordError(f"hf:{spec}: the `datasets` package is not installed; pip install datasets") from None
    name, _, config = spec.partition(":")
    dataset = datasets.load_dataset(name, config or None, split=split)
    return [(f"hf:{spec}[{split}][{i}]", dict(row)) for i, row in enumerate(dataset)]


def need(row: dict[str, Any], where: str, name: str, kind: type | tuple[type, ...] = str) -> Any:
    """``row[name]``, checked to be of ``kind``; a RecordError names ``where`` and the field otherwise.

    >>> need({"question": "2+2?"}, "test.jsonl:3", "question")
    '2+2?'
    """
    if name not in row or row[name] is None:
        raise RecordError(f"{where}: field '{name}' is missing; is this the right file for this task?")
    value = row[name]
    if not isinstance(value, kind):
        wanted = " or ".join(k.__name__ for k in (kind if isinstance(kind, tuple) else (kind,)))
        raise RecordError(f"{where}: field '{name}' should be {wanted}, got {type(value).__name__}")
    return value


def text_id(task: str, text: str) -> str:
    """A stable id from the question text, for datasets without ids: ``gsm8k-3f2a...``."""
    return f"{task}-{hashlib.sha1(text.strip().encode('utf-8')).hexdigest()[:12]}"
