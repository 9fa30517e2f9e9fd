"""Shared tiny students: real architectures and the real tokenizers of the embedded models, random weights."""

from __future__ import annotations

import pytest

from qrdistill.students import Student, StudentSpec, load_student

TINY = ["tiny:smollm2", "tiny:gemma3"]


@pytest.fixture(scope="session", params=TINY)
def frozen(request: pytest.FixtureRequest) -> Student:
    """A frozen tiny student of each architecture."""
    return load_student(StudentSpec(name=request.param, model=request.param), trainable=False)


@pytest.fixture(scope="session")
def smollm2() -> Student:
    return load_student(StudentSpec(name="tiny-smollm2", model="tiny:smollm2"), trainable=False)


@pytest.fixture(scope="session")
def gemma3() -> Student:
    return load_student(StudentSpec(name="tiny-gemma3", model="tiny:gemma3"), trainable=False)
