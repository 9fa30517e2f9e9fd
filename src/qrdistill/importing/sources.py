"""Rows of an import source: our JSON readers, or ``datasets`` for what the Hugging Face ecosystem writes.

Handled by ``datasets`` (each row's ``where`` is ``name[split][i]``):

- ``hf:owner/name`` or ``hf:owner/name:config``: ``datasets.load_dataset`` (the hub, or its cache offline);
- a directory written by ``Dataset.save_to_disk`` / ``DatasetDict.save_to_disk``: ``datasets.load_from_disk``;
- a ``.parquet``, ``.arrow`` or ``.csv`` file, or a directory of them (a hub repository's files):
  ``datasets.load_dataset``.

Everything else (JSONL, a JSON list or dict, BIG-bench task.json, a folder of JSON files) goes
through ``qrdistill.tasks.readers.read_rows``.

>>> rows = read_source_rows(["hf:open-r1/OpenR1-Math-220k:default"], split="train")
>>> rows = read_source_rows(["my_dataset_dir"])           # save_to_disk output
>>> rows[0].where
'my_dataset_dir[train][0]'
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path as FsPath
from typing import Any

from qrdistill.jsonl import RecordError
from qrdistill.tasks.readers import INDEX, Row, read_rows

DATA_SUFFIXES = {".parquet": "parquet", ".arrow": "arrow", ".csv": "csv"}


def read_source_rows(files: Sequence[str], *, split: str = "train", records_key: str | None = None) -> list[Row]:
    """Rows of every file in order; ``_index`` counts over all of them. ``split`` picks the split of
    a dataset with several (hub datasets, a saved DatasetDict)."""
    rows: list[Row] = []
    for name in files:
        part = _dataset_rows(name, split) if is_dataset_source(name) else read_rows(name, records_key=records_key)
        rows += [Row(r.where, {**r.obj, INDEX: len(rows) + i}) for i, r in enumerate(part)]
    return rows


def is_dataset_source(name: str) -> bool:
    """Whether ``name`` is read with ``datasets`` (a hub name, a saved dataset, Parquet/Arrow/CSV)."""
    if name.startswith("hf:"):
        return True
    path = FsPath(name)
    if path.is_dir():
        return _saved_dataset(path) or any(p.suffix in DATA_SUFFIXES for p in path.rglob("*"))
    return path.suffix in DATA_SUFFIXES


def _saved_dataset(path: FsPath) -> bool:
    return (path / "dataset_dict.json").exists() or (path / "state.json").exists()


def _datasets() -> Any:
    try:
        import datasets
    except ImportError:
        raise RecordError("reading this source needs the `datasets` package: pip install 'qrdistill[hf]'") from None
    return datasets


def _dataset_rows(name: str, split: str) -> list[Row]:
    datasets = _datasets()
    path = FsPath(name)
    try:
        if name.startswith("hf:"):
            repo, _, config = name[3:].partition(":")
            data = datasets.load_dataset(repo, config or None, split=split)
        elif path.is_dir() and _saved_dataset(path):
            data = datasets.load_from_disk(str(path))
        elif path.is_dir():
            data = datasets.load_dataset(str(path), split=split)
        else:
            data = datasets.load_dataset(DATA_SUFFIXES[path.suffix], data_files=str(path), split="train")
    except (FileNotFoundError, ValueError, ConnectionError) as exc:
        raise RecordError(f"{name}: cannot load as a dataset ({type(exc).__name__}: {exc})") from None
    if isinstance(data, datasets.DatasetDict):
        if split not in data:
            raise RecordError(f"{name}: no split '{split}' (splits: {', '.join(data)}); pass --split")
        data = data[split]
    where = name if path.suffix in DATA_SUFFIXES else f"{name}[{split}]"
    return [Row(f"{where}[{i}]", dict(row)) for i, row in enumerate(data)]

