"""Reading an embedded model's GGUF file once per conversion instead of three times.

transformers builds a model from a GGUF file in three passes (tokenizer, config, weights), and each
pass parses the whole file again with gguf's ``GGUFReader``. Its field parser slices a numpy memmap
once per value, and each memmap slice runs Python code (``__array_finalize__``): Gemma-3's
262k-token vocabulary makes that millions of slices. Every submodule also rebuilds gguf's
tensor-name table. Inside ``gguf_read_once()``, each file is parsed once, from a plain ndarray view
of the same mapping, and each name table is built once. The parsed reader and the weights come from
the same bytes, and ``embedded.convert_embedded`` still checks the rebuilt model's logits.

>>> with gguf_read_once():
...     AutoTokenizer.from_pretrained(folder, gguf_file=name)   # parses the file
...     AutoModelForCausalLM.from_pretrained(folder, gguf_file=name)   # reuses that parse
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import gguf
import numpy as np

_LIBRARY_READER = gguf.GGUFReader
_LIBRARY_NAME_MAP = gguf.get_tensor_name_map


class PlainViewReader(_LIBRARY_READER):
    """A ``GGUFReader`` that slices a plain ndarray view of its memmap: the same bytes, without a
    memmap object per slice."""

    def _get(self, offset: int, dtype: Any, count: int = 1, override_order: Any = None) -> np.ndarray:
        if type(self.data) is not np.ndarray:
            self.data = self.data.view(np.ndarray)
        return super()._get(offset, dtype, count, override_order)


@contextlib.contextmanager
def gguf_read_once() -> Iterator[None]:
    """While inside, every ``gguf.GGUFReader(path)`` (as transformers calls it) returns one parsed
    ``PlainViewReader`` per file, and ``gguf.get_tensor_name_map`` one table per (architecture,
    layers). Re-entrant; the library's own functions are back on exit."""
    if gguf.GGUFReader is not _LIBRARY_READER:
        yield
        return
    readers: dict[tuple[str, str], PlainViewReader] = {}

    def read(path: str | Path, mode: str = "r") -> PlainViewReader:
        key = (str(Path(path).resolve()), mode)
        if key not in readers:
            readers[key] = PlainViewReader(path, mode)
        return readers[key]

    gguf.GGUFReader, gguf.get_tensor_name_map = read, functools.cache(_LIBRARY_NAME_MAP)
    try:
        yield
    finally:
        gguf.GGUFReader, gguf.get_tensor_name_map = _LIBRARY_READER, _LIBRARY_NAME_MAP
