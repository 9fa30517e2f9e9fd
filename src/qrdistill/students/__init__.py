"""Students: loading (hub, local, embedded GGUF, tiny test models), LoRA, prompt formatting,
tokenisation with loss masks and character offsets, batched greedy generation.

>>> student = load_student(StudentSpec(name="smollm2-135m", model="embedded:smollm2-135m"))
>>> enc = student.encode("What is 2+3?", "2+3=5, so the answer is 5.")

``StudentSpec`` is imported eagerly and is torch-free, so configs validate without loading torch;
the rest is imported on first use.
"""

from __future__ import annotations

import importlib
from typing import Any

from qrdistill.students.spec import StudentSpec

_LAZY = {"IGNORE": "encoding", "NO_SPAN": "encoding", "Encoded": "encoding", "Student": "student", "load_student": "student"}

__all__ = ["IGNORE", "NO_SPAN", "Encoded", "Student", "StudentSpec", "load_student"]


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'qrdistill.students' has no attribute {name!r}")
    return getattr(importlib.import_module(f"qrdistill.students.{_LAZY[name]}"), name)
