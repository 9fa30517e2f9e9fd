"""Pydantic validation errors as one line each: file, line, field and what to do.

    x.yaml:7: train.max_stepz: unknown field; did you mean 'max_steps'?

>>> lines = yaml_lines("train:\\n  max_stepz: 3\\n")
>>> lines[("train", "max_stepz")]
2
>>> describe_errors(exc, RunConfig, "x.yaml", lines)       # exc: a pydantic ValidationError
["x.yaml:2: train.max_stepz: unknown field; did you mean 'max_steps'?"]
"""

from __future__ import annotations

import difflib
import typing
from collections.abc import Iterator

import yaml
from pydantic import BaseModel, ValidationError

Loc = tuple[str | int, ...]


def yaml_lines(text: str) -> dict[Loc, int]:
    """The 1-based line of every key and list item of a YAML document, by its path."""
    lines: dict[Loc, int] = {}
    try:
        root = yaml.compose(text)
    except yaml.YAMLError:
        return lines

    def walk(node: yaml.Node, loc: Loc) -> None:
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                here = (*loc, key.value)
                lines[here] = key.start_mark.line + 1
                walk(value, here)
        elif isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                lines[(*loc, i)] = item.start_mark.line + 1
                walk(item, (*loc, i))

    if root is not None:
        walk(root, ())
    return lines


def _models(annotation: object) -> Iterator[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield annotation
    for arg in typing.get_args(annotation):
        yield from _models(arg)


def _model_at(model: type[BaseModel], loc: Loc) -> type[BaseModel] | None:
    """The settings class that holds the field at ``loc`` (list indices skipped)."""
    for part in loc:
        if isinstance(part, int):
            continue
        field = model.model_fields.get(part)
        found = next(_models(field.annotation), None) if field is not None else None
        if found is None:
            return None
        model = found
    return model


def _line_of(loc: Loc, lines: dict[Loc, int]) -> int | None:
    for end in range(len(loc), 0, -1):
        if loc[:end] in lines:
            return lines[loc[:end]]
    return None


def describe_error(error: dict[str, typing.Any], model: type[BaseModel], where: str, lines: dict[Loc, int]) -> str:
    """One error as ``file:line: field: message``, an unknown field with the closest known one."""
    loc: Loc = tuple(error["loc"])
    field = ".".join(str(p) for p in loc) or "(top level)"
    message = str(error["msg"]).removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        parent = _model_at(model, loc[:-1])
        known = list(parent.model_fields) if parent is not None else []
        close = difflib.get_close_matches(str(loc[-1]), known, n=1)
        message = "unknown field; " + (f"did you mean {close[0]!r}?" if close else f"known fields: {', '.join(known)}")
    line = _line_of(loc, lines)
    return f"{where}{f':{line}' if line else ''}: {field}: {message}"


def describe_errors(exc: ValidationError, model: type[BaseModel], where: str, lines: dict[Loc, int] | None = None) -> list[str]:
    """Every error of ``exc`` (raised validating ``model``) as one line each."""
    return [describe_error(dict(e), model, where, lines or {}) for e in exc.errors()]
