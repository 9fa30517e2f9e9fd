"""Task registry: ``get_task(name)`` and the ``register`` decorator."""

from __future__ import annotations

from qrdistill.errors import UnknownName
from qrdistill.tasks.base import Task

_TASKS: dict[str, type[Task]] = {}


def register(cls: type[Task]) -> type[Task]:
    """Class decorator that makes a Task available to ``get_task`` under ``cls.name``."""
    _TASKS[cls.name] = cls
    return cls


def get_task(name: str) -> Task:
    """Return a fresh instance of the task registered as ``name``.

    >>> get_task("gsm8k").name
    'gsm8k'
    """
    from qrdistill.tasks import _load_builtin

    _load_builtin()
    try:
        return _TASKS[name]()
    except KeyError:
        raise UnknownName(f"unknown task {name!r}; known tasks: {', '.join(sorted(_TASKS))}") from None


def task_names() -> list[str]:
    """Names of all registered tasks."""
    from qrdistill.tasks import _load_builtin

    _load_builtin()
    return sorted(_TASKS)
