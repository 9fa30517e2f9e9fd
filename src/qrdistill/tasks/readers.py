"""Read a dataset file in whatever container its public release uses, as located rows.

Each row comes with ``where`` ("file:line", "file[key]" or "hf:name[split][i]") so that a
loader's error names the exact place and field at fault.

>>> rows = read_rows("test.jsonl")               # JSON Lines (also a .json file holding JSON Lines)
>>> rows = read_rows("SVAMP.json")               # a JSON list
>>> rows = read_rows("task.json")                # BIG-bench: the list under "examples"
>>> rows = read_rows("problems_test1k.json")     # a dict keyed by id: each row gets "_key"
>>> rows = read_rows("MATH/test/")               # a folder of one-problem JSON files ("_key": file path)
>>> rows = read_rows("hf:openai/gsm8k:main", split="test")   # needs `datasets` and the network/cache
>>> where, row = rows[0]
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path as FsPath
from typing import Any

from qrdistill.jsonl import RecordError, iter_json_lines

Row = tuple[str, dict[str, Any]]
KEY = "_key"
"""Rows read from a JSON object keyed by id carry that id under this field."""


def read_rows(path: str | os.PathLike[str], split: str | None = None) -> list[Row]:
    """Rows of a JSONL file, a JSON list / id-keyed dict / BIG-bench task.json, a folder of JSON
    files, or ``hf:<name>[:<config>]`` through ``datasets.load_dataset`` (``split`` defaults to test)."""
    text = os.fspath(path)
    if text.startswith("hf:"):
        return _read_hf(text[3:], split or "test")
    fs = FsPath(text)
    if fs.is_dir():
        return _read_folder(fs)
    if not fs.exists():
        raise RecordError(f"{fs}: file not found; pass the dataset file in its original format (or hf:<name>)")
    if fs.suffix != ".jsonl":
        try:
            return _rows_of_document(json.loads(fs.read_text(encoding="utf-8")), str(fs))
        except json.JSONDecodeError:
            pass  # JSON Lines under a .json name (e.g. Distilling Step-by-Step's files)
    return [(f"{fs}:{n}", obj) for n, obj in iter_json_lines(fs)]


def _rows_of_document(doc: Any, where: str) -> list[Row]:
    if isinstance(doc, list):
        rows = []
        for i, obj in enumerate(doc):
            if not isinstance(obj, dict):
                raise RecordError(f"{where}[{i}]: expected a JSON object, got {type(obj).__name__}")
            rows.append((f"{where}[{i}]", obj))
        return rows
    if isinstance(doc, dict):
        if isinstance(doc.get("examples"), list):
            return _rows_of_document(doc["examples"], f"{where} examples")
        if doc and all(isinstance(v, dict) for v in doc.values()):
            return [(f"{where}[{k!r}]", {**v, KEY: k}) for k, v in doc.items()]
        # one record per file (an original MATH problem file)
        return [(where, doc)]
    raise RecordError(f"{where}: expected JSON Lines, a JSON list or object, got {type(doc).__name__}")


def _read_folder(folder: FsPath) -> list[Row]:
    files = sorted(folder.rglob("*.json"), key=lambda p: (str(p.parent), _natural(p.stem)))
    if not files:
        raise RecordError(f"{folder}: no *.json files in this folder")
    rows = []
    for file in files:
        try:
            doc = json.loads(file.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise RecordError(f"{file}: not valid JSON ({exc.msg} at line {exc.lineno})") from None
        for where, row in _rows_of_document(doc, str(file)):
            rows.append((where, {**row, KEY: row.get(KEY, file.as_posix())}))
    return rows


def _natural(stem: str) -> tuple[int, str]:
    return (int(stem), "") if stem.isdigit() else (1 << 62, stem)


def _read_hf(spec: str, split: str) -> list[Row]:
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
