"""Make tests/openai_server.py and tests/teacher/sum_task.py importable; shared fixtures."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path as FsPath

import pytest

HERE = FsPath(__file__).parent
for folder in (HERE.parent, HERE):
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))

from openai_server import OpenAIServer  # noqa: E402  (needs the sys.path entry above)
from sum_task import SumTask, sum_responder  # noqa: E402


@pytest.fixture
def sum_server() -> Iterator[OpenAIServer]:
    """A real server on 127.0.0.1 answering SumTask prompts correctly."""
    with OpenAIServer(sum_responder) as server:
        yield server


@pytest.fixture
def sum_task() -> SumTask:
    return SumTask()
