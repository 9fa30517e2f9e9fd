"""JSONL reading and writing: clear errors on bad input, atomic whole-file writes,
crash-safe appends for stages that resume.

>>> write_records("paths.jsonl", paths)            # atomic: temp file + rename
>>> paths = read_records("paths.jsonl", Path)       # RecordError names file, line, field
"""

from __future__ import annotations

import io
import json
import os
import tempfile
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path as FsPath
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

M = TypeVar("M", bound=BaseModel)


class RecordError(ValueError):
    """A malformed input line; the message names the file, the line and the field."""


def iter_json_lines(path: str | os.PathLike[str], *, allow_torn_tail: bool = False) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield ``(line_number, object)`` for each non-blank line of a JSONL file.

    ``allow_torn_tail`` skips a last line without its newline that does not parse: what a
    process killed mid-append leaves behind. Every other bad line raises RecordError.
    """
    path = FsPath(path)
    if not path.exists():
        raise RecordError(f"{path}: file not found")
    lines = io.StringIO(read_text_utf8(path)).readlines()  # split at "\n" only: JSON strings may hold U+2028
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            if allow_torn_tail and number == len(lines) and not line.endswith("\n"):
                return
            raise RecordError(f"{path}:{number}: not valid JSON ({exc.msg} at column {exc.colno})") from None
        if not isinstance(obj, dict):
            raise RecordError(f"{path}:{number}: expected a JSON object, got {type(obj).__name__}")
        yield number, obj


def read_text_utf8(path: str | os.PathLike[str]) -> str:
    """The text of a UTF-8 file; RecordError naming the line and column of the first byte that is not UTF-8.

    >>> read_text_utf8("latin1.jsonl")
    RecordError: latin1.jsonl:3: not UTF-8 text (byte 0xe9 at column 17); save the file as UTF-8
    """
    data = FsPath(path).read_bytes()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise RecordError(f"{path}:{line}: not UTF-8 text (byte 0x{data[exc.start]:02x} at column {column}); "
                          "save the file as UTF-8") from None


def parse_record(obj: dict[str, Any], model: type[M], where: str) -> M:
    """Validate one object as ``model``; a failure names ``where`` and the first bad field."""
    try:
        return model.model_validate(obj)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(p) for p in err["loc"]) or "(record)"
        raise RecordError(f"{where}: field '{field}': {err['msg']} ({len(exc.errors())} error(s) in this record)") from None


def read_records(path: str | os.PathLike[str], model: type[M], *, allow_torn_tail: bool = False) -> list[M]:
    """Read a JSONL file of ``model`` records."""
    return [parse_record(obj, model, f"{path}:{n}") for n, obj in iter_json_lines(path, allow_torn_tail=allow_torn_tail)]


def _dump(record: BaseModel | dict[str, Any]) -> str:
    if isinstance(record, BaseModel):
        return record.model_dump_json(exclude_none=False)
    return json.dumps(record, ensure_ascii=False)


def write_atomic(path: str | os.PathLike[str], text: str) -> None:
    """Write ``text`` to ``path`` so that readers see the old or the new file, never a part."""
    path = FsPath(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, 0o666 & ~_umask())  # mkstemp makes 0600; a written file gets what open() would give it
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        FsPath(tmp).unlink(missing_ok=True)
        raise


_UMASK_LOCK = threading.Lock()


def _umask() -> int:
    """The process's umask, read without changing it where Linux shows it (``/proc/self/status``)."""
    try:
        for line in FsPath("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except OSError:
        pass
    with _UMASK_LOCK:  # elsewhere: set and restore it, which no other writer here does concurrently
        mask = os.umask(0o022)
        os.umask(mask)
    return mask


def write_records(path: str | os.PathLike[str], records: Iterable[BaseModel | dict[str, Any]]) -> None:
    """Atomically write records as JSONL."""
    write_atomic(path, "".join(_dump(r) + "\n" for r in records))


def write_json(path: str | os.PathLike[str], obj: Any) -> None:
    """Atomically write one JSON document (indented)."""
    write_atomic(path, json.dumps(obj, indent=2, ensure_ascii=False, default=str) + "\n")


class Appender:
    """Crash-safe line appender: each record is one complete line, flushed and fsynced.

    A kill can leave at most a torn last line, which ``read_records(..., allow_torn_tail=True)``
    skips; the appender first cuts such a tail so new lines never glue onto it.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = FsPath(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._cut_torn_tail()
        self._fh = self.path.open("a", encoding="utf-8")

    def _cut_torn_tail(self) -> None:
        if not self.path.exists() or self.path.stat().st_size == 0:
            return
        data = self.path.read_bytes()
        if data.endswith(b"\n"):
            return
        keep = data.rfind(b"\n") + 1
        with self.path.open("r+b") as fh:
            fh.truncate(keep)

    def write(self, record: BaseModel | dict[str, Any]) -> None:
        """Append one record and make it durable."""
        self._fh.write(_dump(record) + "\n")
        self._fh.flush()
        os.fsync(self._fh.fileno())

    def close(self) -> None:
        """Close the file."""
        self._fh.close()

    def __enter__(self) -> Appender:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
