"""Reasoning styles as data: Jinja2 templates that wrap a task's base prompt.

A style file is YAML: one mapping ``{name, description, template, system?}``, or a list of
them. The paper's six (vanilla, cot, tot, program, backward, fact) and ``answer_first`` (the answer
before its justification; the synthetic teacher's planted style) live in ``styles/*.yaml``;
``load_styles(extra)`` adds or replaces styles from a user file or directory. Templates see:
``prompt`` (the task's full base prompt), ``instruction``, ``body``, ``answer_cue``, ``task``
(name), ``answer_kind`` and ``question`` (the Question record).

>>> styles = load_styles()
>>> text = render_prompt(styles["cot"], get_task("gsm8k"), question)
>>> render_messages(styles["cot"], get_task("gsm8k"), question)
[{'role': 'user', 'content': '...'}]
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path as FsPath
from typing import Any

import jinja2
import yaml

from qrdistill.records import Question
from qrdistill.tasks.base import Task

BUILTIN_DIR = FsPath(__file__).parent / "styles"
PAPER_STYLES = ("vanilla", "cot", "tot", "program", "backward", "fact")

_ENV = jinja2.Environment(undefined=jinja2.StrictUndefined, keep_trailing_newline=False, autoescape=False)


class StyleError(ValueError):
    """A style file that cannot be used; the message names the file and the field."""


@dataclass(frozen=True)
class Style:
    """One reasoning style: a user-turn template and an optional system message."""

    name: str
    template: str
    description: str = ""
    system: str | None = None
    source: str = ""
    """The file the style was read from (for error messages)."""

    def compiled(self) -> jinja2.Template:
        """The Jinja2 template (StrictUndefined: an unknown variable is an error)."""
        try:
            return _ENV.from_string(self.template)
        except jinja2.TemplateSyntaxError as exc:
            raise StyleError(f"{self.source}: style {self.name!r}: template line {exc.lineno}: {exc.message}") from None


def _parse_style(obj: Any, source: str) -> Style:
    if not isinstance(obj, dict):
        raise StyleError(f"{source}: each style must be a mapping with 'name' and 'template', got {type(obj).__name__}")
    unknown = set(obj) - {"name", "template", "description", "system"}
    if unknown:
        raise StyleError(f"{source}: unknown field(s) {sorted(unknown)}; allowed: name, template, description, system")
    for field in ("name", "template"):
        if not isinstance(obj.get(field), str) or not obj[field].strip():
            raise StyleError(f"{source}: field '{field}' is missing or not a non-empty string")
    style = Style(
        name=obj["name"].strip(),
        template=obj["template"],
        description=str(obj.get("description", "")),
        system=obj.get("system"),
        source=source,
    )
    style.compiled()
    return style


def read_style_file(path: str | os.PathLike[str]) -> list[Style]:
    """Styles defined in one YAML file (a mapping or a list of mappings)."""
    path = FsPath(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise StyleError(f"{path}: not valid YAML: {exc}") from None
    items = data if isinstance(data, list) else [data]
    return [_parse_style(item, f"{path}[{i}]" if isinstance(data, list) else str(path)) for i, item in enumerate(items)]


def _style_files(path: FsPath) -> list[FsPath]:
    if path.is_dir():
        return sorted([*path.glob("*.yaml"), *path.glob("*.yml")])
    if path.is_file():
        return [path]
    raise StyleError(f"{path}: no such style file or directory")


def load_styles(extra: str | os.PathLike[str] | None = None) -> dict[str, Style]:
    """The built-in styles, then those in ``extra`` (file or dir), which replace same-named ones.

    >>> sorted(load_styles())
    ['answer_first', 'backward', 'cot', 'fact', 'program', 'tot', 'vanilla']
    """
    styles: dict[str, Style] = {}
    for directory in [BUILTIN_DIR, *([FsPath(extra)] if extra is not None else [])]:
        for file in _style_files(directory):
            for style in read_style_file(file):
                styles[style.name] = style
    return styles


def select_styles(styles: dict[str, Style], names: list[str]) -> list[Style]:
    """The styles called ``names``, in that order; an unknown name lists the known ones."""
    missing = [n for n in names if n not in styles]
    if missing:
        raise StyleError(f"unknown style(s) {missing}; known: {', '.join(sorted(styles))} (add your own with --styles-file)")
    if len(set(names)) != len(names):
        raise StyleError(f"style list {names} names a style twice; use --samples-per-style for several samples")
    return [styles[n] for n in names]


def render_prompt(style: Style, task: Task, question: Question) -> str:
    """The user-turn text of ``style`` for ``question`` under ``task``."""
    variables = {
        "prompt": task.prompt(question),
        "instruction": task.instruction,
        "body": task.body(question),
        "answer_cue": task.answer_cue,
        "task": task.name,
        "answer_kind": task.answer_kind,
        "question": question,
    }
    try:
        text = style.compiled().render(**variables)
    except jinja2.UndefinedError as exc:
        raise StyleError(
            f"{style.source}: style {style.name!r}: {exc.message}; available variables: {', '.join(sorted(variables))}"
        ) from None
    return text.strip()


def prompt_for(task: Task, question: Question, style: str | None, styles: Mapping[str, Style]) -> str:
    """The prompt a student learns a path of ``style`` under and answers in that style with: the
    style's user turn (what the teacher was asked), or the task's plain prompt when ``style`` is None
    or has no template in ``styles`` (e.g. an imported path of an unknown style).

    >>> prompt_for(get_task("gsm8k"), question, "cot", load_styles()) == render_prompt(load_styles()["cot"], get_task("gsm8k"), question)
    True
    """
    if style is None or style not in styles:
        return task.prompt(question)
    return render_prompt(styles[style], task, question)


def render_messages(style: Style, task: Task, question: Question) -> list[dict[str, str]]:
    """The chat messages for ``style``: an optional system turn, then the user turn."""
    messages = [{"role": "system", "content": style.system.strip()}] if style.system else []
    messages.append({"role": "user", "content": render_prompt(style, task, question)})
    return messages
