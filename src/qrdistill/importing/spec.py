"""What one teacher dump looks like: the field mapping of an import (CLI flags = config keys).

>>> spec = SourceSpec(files=["mcc_kd/data/SVAMP/train.json"], teacher="gpt-3.5-turbo", style="cot",
...                   question_field="instruction", completion_field="output")
>>> spec.label
'gpt-3.5-turbo/cot'
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

JoinMode = Literal["id", "text", "index"]
EvalPolicy = Literal["refuse", "drop", "keep"]
Format = Literal["fields", "messages", "prompt-completion"]


def is_program_style(style: str) -> bool:
    """Whether paths of ``style`` are programs (``program`` or ``program_*``)."""
    return style == "program" or style.startswith("program_")


class RowMapping(BaseModel):
    """Where a dump's rows are and how each finds its gold question."""

    model_config = ConfigDict(extra="forbid")

    files: list[str] = Field(min_length=1)
    """Files read in order and concatenated (e.g. PaLM's ``train_CoT_0.json``, ``train_CoT_1.json``)."""
    question_field: str = "question"
    """Field with the question text; ``a+b`` joins fields with a space, ``a.b`` reads nested fields."""
    id_field: str | None = None
    """Field with the question id (``join: id``); ``_key`` for a dict of records."""
    join: JoinMode = "text"
    """How rows find their gold question: by id, by normalised question text, or by position."""
    question_pattern: str | None = None
    """Regex whose group ``q`` (or 1) is the question inside the field (last match wins)."""
    records_key: str | None = None
    """Where the records are inside a JSON document (``examples``, ``outputs``, ``results``)."""
    aligned_files: list[str] = Field(default_factory=list)
    """Files whose row i holds the question of row i (for lists of bare completions)."""
    dataset_split: str = "train"
    """Split to read from a source with several: a hub dataset (``hf:owner/name``) or a saved DatasetDict."""


class SplitPart(RowMapping):
    """The questions of one split of a published split, listed by a file (or by indices into it)."""

    indices_file: str | None = None
    """JSON file with row indices into ``files`` (reasoning-teacher's ``{train: [...], test: [...]}``)."""
    indices_key: str | None = None
    """Key of the index list inside ``indices_file``."""


class SplitSpec(BaseModel):
    """A named published split of a gold file that has none (e.g. SVAMP)."""

    model_config = ConfigDict(extra="forbid")

    name: str
    parts: dict[str, SplitPart] = Field(min_length=2)


class SourceSpec(RowMapping):
    """One teacher dump and how its fields map to a Path."""

    format: Format = "fields"
    """``fields``: the question and completion are the fields named below. ``messages``: a list of
    chat turns (``messages_field``); the user turn is the question, the last assistant turn the path.
    ``prompt-completion``: TRL's ``prompt``/``completion`` columns, strings or lists of turns."""
    messages_field: str = "messages"
    """Column of the turns in the ``messages`` format (``conversations`` in ShareGPT data)."""
    teacher: str | None = None
    """The model that wrote the completions, recorded on every path (or give ``teacher_field``)."""
    teacher_field: str | None = None
    """Column naming each row's teacher (overrides ``teacher``)."""
    style: str = "cot"
    """Reasoning style recorded on every path (``cot``, ``program``, ...). ``program`` texts are code."""
    style_field: str | None = None
    """Column naming each row's style (overrides ``style``)."""
    completion_field: str = "completion"
    """Field with the teacher's text; a list value expands into several samples. ``_value`` for a
    list of strings."""
    choices_field: str | None = None
    """Field with the options the teacher saw (list, ``{text: [...]}`` or inline ``(A) x (B) y``);
    its letters in the completion are rewritten to the gold question's option order."""
    choices_pattern: str | None = None
    """Regex whose group ``q`` (or 1) is the part of ``choices_field`` holding this question's options
    (a few-shot prompt holds other questions' options too)."""
    cut_after: list[str] = Field(default_factory=list)
    """Regexes; the completion is cut at the earliest match (hallucinated continuations)."""
    evaluate_answer_expression: bool = False
    """Append the value of a final "The answer is (7 * 36)." expression (PaLM's SVAMP rationales)."""
    result_field: str | None = None
    """Program dumps: field with the recorded execution result; stated as the final answer."""
    program_var: str | None = None
    """Program dumps: variable holding the answer (PoT's ``ans``); ``print(var)`` is appended."""
    skip_incomplete: bool = False
    """Count (instead of failing on) rows without the question or completion field, e.g. a
    demonstration row at the top of a dump."""
    sample_offset: int = 0
    """First sample index, to keep two dumps of the same teacher and style apart."""
    meta: dict[str, Any] = Field(default_factory=dict)
    """Facts copied onto every path's ``meta`` (origin, prompting, ...); ``meta["row"]`` is the source row."""
    eval_policy: EvalPolicy | None = None
    """Rows of evaluation questions: refuse (error), drop (count) or keep; default: the config's."""

    @model_validator(mode="after")
    def _has_teacher(self) -> SourceSpec:
        if self.teacher is None and self.teacher_field is None:
            raise ValueError("give 'teacher' (the model that wrote the completions) or 'teacher_field' (a column naming it)")
        return self

    @property
    def label(self) -> str:
        """``teacher/style`` (``[column]`` for a value read per row): how reports name this source."""
        teacher = f"[{self.teacher_field}]" if self.teacher_field else self.teacher
        style = f"[{self.style_field}]" if self.style_field else self.style
        return f"{teacher}/{style}"


class ImportConfig(BaseModel):
    """A whole import (``qrdistill import --config``): gold questions, split and teacher dumps.

    Relative file names are resolved against ``data_root`` (``--data-root``).
    """

    model_config = ConfigDict(extra="forbid")

    task: str
    gold: str | dict[str, str] | None = None
    """The gold file in the task's public format, or ``{split: file}`` for official splits."""
    questions: list[str] = Field(default_factory=list)
    """Instead of ``gold``: Question JSONL files with ``split`` set (a run's ``questions/*.jsonl``)."""
    split: SplitSpec | None = None
    """A published split of a single gold file; questions it does not list become 'unassigned'."""
    train_split: str = "train"
    """The split whose questions training may see; paths of every other split are evaluation leaks."""
    eval_policy: EvalPolicy = "refuse"
    sources: list[SourceSpec] = Field(default_factory=list)
    data_root: str | None = None

    @model_validator(mode="after")
    def _one_gold(self) -> ImportConfig:
        if (self.gold is None) == (not self.questions):
            raise ValueError("give either 'gold' (the task's public file) or 'questions' (Question JSONL files)")
        if self.split is not None and not isinstance(self.gold, str):
            raise ValueError("'split' applies to a single 'gold' file")
        return self
