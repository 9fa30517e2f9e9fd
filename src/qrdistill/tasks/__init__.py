"""Tasks: datasets, base prompts and answer checking.

>>> from qrdistill.tasks import get_task
>>> task = get_task("gsm8k")
"""

from __future__ import annotations

import importlib

from qrdistill.tasks.base import Task
from qrdistill.tasks.registry import get_task, register, task_names

_BUILTIN_MODULES = ("qrdistill.tasks.benchmarks", "qrdistill.synthetic.families")


def _load_builtin() -> None:
    for module in _BUILTIN_MODULES:
        importlib.import_module(module)


__all__ = ["Task", "get_task", "register", "task_names"]
