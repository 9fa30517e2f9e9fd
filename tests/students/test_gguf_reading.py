"""Reading a GGUF once per conversion: the same fields and tensors as gguf's own reader, one parse per
file, and the library left as it was."""

from __future__ import annotations

import gguf
import numpy as np

from qrdistill.students.embedded import smollm2_gguf
from qrdistill.students.gguf_reading import PlainViewReader, gguf_read_once


def test_plain_view_reader_reads_what_the_library_reads() -> None:
    path = smollm2_gguf()
    ours, theirs = PlainViewReader(path), gguf.GGUFReader(path)
    assert list(ours.fields) == list(theirs.fields)
    for name, field in theirs.fields.items():
        assert field.types == ours.fields[name].types, name
        assert all(np.array_equal(a, b) for a, b in zip(field.parts, ours.fields[name].parts, strict=True)), name
    assert [(t.name, t.tensor_type, t.shape.tolist()) for t in ours.tensors] == [(t.name, t.tensor_type, t.shape.tolist()) for t in theirs.tensors]
    assert np.array_equal(ours.tensors[-1].data, theirs.tensors[-1].data)


def test_inside_each_file_is_parsed_once_and_the_library_comes_back() -> None:
    path = smollm2_gguf()
    with gguf_read_once():
        first = gguf.GGUFReader(path)
        with gguf_read_once():
            assert gguf.GGUFReader(str(path)) is first
        assert gguf.get_tensor_name_map(gguf.MODEL_ARCH.LLAMA, 30) is gguf.get_tensor_name_map(gguf.MODEL_ARCH.LLAMA, 30)
    assert isinstance(first, PlainViewReader)
    assert gguf.GGUFReader is PlainViewReader.__mro__[1]
    assert gguf.get_tensor_name_map(gguf.MODEL_ARCH.LLAMA, 30) is not gguf.get_tensor_name_map(gguf.MODEL_ARCH.LLAMA, 30)
