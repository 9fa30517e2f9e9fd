"""A keyed, crash-safe JSONL cache of finished model calls: what makes long stages resume.

Each finished call is one line ``{"key": ..., "value": {...}}`` appended and fsynced through
``qrdistill.jsonl.Appender``; a process killed mid-append leaves at most a torn last line,
which is skipped on load and cut before the next append. Keys hash everything that determines
a call's output, so re-running never repeats a finished call.

>>> cache = CallCache("run/cache/generate.jsonl")
>>> key = call_key(backend="openai", model="m", messages=[{"role": "user", "content": "hi"}],
...                sampling={"temperature": 0.8, "max_tokens": 1024}, sample=0)
>>> if key not in cache:
...     cache.put(key, {"text": "hello"})
>>> cache.get(key)["text"]
'hello'
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path as FsPath
from typing import Any

from qrdistill.jsonl import Appender, RecordError, iter_json_lines


def call_key(**parts: Any) -> str:
    """A stable hex digest of keyword ``parts`` (any JSON-serialisable values).

    >>> call_key(model="m", sample=0) == call_key(sample=0, model="m")
    True
    """
    canonical = json.dumps(parts, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


class CallCache:
    """Finished calls by key, loaded from ``path`` and appended to it durably.

    The file is read once at construction; the first ``put`` opens it for appending. When a
    key appears twice (two runs raced on one file) the first value wins.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = FsPath(path)
        self._entries: dict[str, dict[str, Any]] = {}
        self._appender: Appender | None = None
        if self.path.exists():
            for number, obj in iter_json_lines(self.path, allow_torn_tail=True):
                key, value = obj.get("key"), obj.get("value")
                if not isinstance(key, str) or not isinstance(value, dict):
                    raise RecordError(
                        f"{self.path}:{number}: a cache line needs a string 'key' and an object 'value'; "
                        "is this the right --cache file? Delete it to start afresh."
                    )
                self._entries.setdefault(key, value)

    def __contains__(self, key: str) -> bool:
        return key in self._entries

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: str) -> dict[str, Any] | None:
        """The stored value for ``key``, or None."""
        return self._entries.get(key)

    def put(self, key: str, value: dict[str, Any]) -> None:
        """Store ``value`` under ``key`` and make it durable before returning (no-op if present)."""
        if key in self._entries:
            return
        if self._appender is None:
            self._appender = Appender(self.path)
        self._appender.write({"key": key, "value": value})
        self._entries[key] = value

    def close(self) -> None:
        """Close the file (the cache stays readable in memory)."""
        if self._appender is not None:
            self._appender.close()
            self._appender = None

    def __enter__(self) -> CallCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
