"""Dump rows + gold questions -> Path records, with a report of everything that did not make it.

>>> result = import_paths(spec, mapped_rows(spec), questions, get_task("svamp"))
>>> result.paths[0].teacher, result.report.unjoined
('gpt-3.5-turbo', 0)

Chat-format sources (``format: messages`` or ``prompt-completion``) are flattened first
(``flatten_chat_rows``); rows that are not one user/assistant exchange are counted by reason.

Every path gets ``answer`` (``task.extract``) and ``correct`` (``task.is_correct``) on the text as
imported. Paths of questions outside the training split are refused (LeakError), dropped and
counted, or kept, per ``eval_policy``.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

from qrdistill.importing.chat import Unfit, prompt_completion, single_exchange
from qrdistill.importing.fields import (
    FieldError,
    as_choices,
    cut_after,
    evaluate_answer_expression,
    extract_question,
    get_field,
    normalize_question,
    remap_letters,
)
from qrdistill.importing.join import QuestionIndex
from qrdistill.importing.spec import EvalPolicy, RowMapping, SourceSpec, is_program_style
from qrdistill.records import Path, Question
from qrdistill.tasks.base import Task
from qrdistill.tasks.readers import Row

MAX_EXAMPLES = 5
CHAT_QUESTION, CHAT_ANSWER, CHAT_SYSTEM = "_question", "_answer", "_system"
"""Fields a chat-format row is flattened into (see ``flatten_chat_rows``)."""


class LeakError(ValueError):
    """Paths of evaluation questions were about to be imported into a training file."""


class ImportFieldError(ValueError):
    """A row lacks a mapped field; the message names the file/line and the field."""


@dataclass
class ImportReport:
    """Counts (and a few examples) of one source's import, written next to the output."""

    source: str
    files: list[str]
    rows: int = 0
    completions: int = 0
    imported: int = 0
    correct: int = 0
    questions: int = 0
    unjoined: int = 0
    ambiguous: int = 0
    incomplete: int = 0
    empty: int = 0
    eval_split: int = 0
    trimmed: int = 0
    letters_remapped: int = 0
    choices_unmatched: int = 0
    unfit: dict[str, int] = field(default_factory=dict)
    """Chat rows that are not one user/assistant exchange, by reason (multi_turn, tool_call, ...)."""
    examples: dict[str, list[dict[str, str]]] = field(default_factory=dict)

    def note(self, kind: str, where: str, detail: str) -> None:
        """Keep up to MAX_EXAMPLES examples of ``kind``."""
        bucket = self.examples.setdefault(kind, [])
        if len(bucket) < MAX_EXAMPLES:
            bucket.append({"where": where, "detail": detail[:300]})

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict."""
        return asdict(self)


@dataclass
class ImportResult:
    """The imported paths and the report."""

    paths: list[Path]
    report: ImportReport


def join_row(spec: RowMapping, row: Row, index: QuestionIndex) -> tuple[Question | None, str]:
    """The row's gold question (None if absent) and what it was looked up by."""
    obj = row.obj
    if spec.join == "index":
        return index.by_index(obj["_index"]), f"row {obj['_index']}"
    if spec.join == "id":
        if spec.id_field is None:
            raise ImportFieldError("join 'id' needs id_field (--id-field)")
        value = get_field(obj, spec.id_field)
        return index.by_id(value), f"id {value}"
    text = extract_question(str(get_field(obj, spec.question_field)), spec.question_pattern)
    return index.by_text(text), text


def _letter_map(dump_choices: list[str], question: Question) -> dict[str, str] | None:
    """Dump letter -> gold letter by option text; None when the options do not all match."""
    ours = {normalize_question(c): chr(65 + i) for i, c in enumerate(question.choices or [])}
    mapping = {}
    for i, text in enumerate(dump_choices):
        letter = ours.get(normalize_question(text))
        if letter is None:
            return None
        mapping[chr(65 + i)] = letter
    return mapping


def _dump_choices(spec: SourceSpec, obj: dict[str, Any]) -> list[str] | None:
    if spec.choices_field is None:
        return None
    value = get_field(obj, spec.choices_field)
    if isinstance(value, str):
        value = extract_question(value, spec.choices_pattern)
    return as_choices(value)


def _format_value(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, list) and len(value) == 1:
        return _format_value(value[0])
    return str(value).strip()


def _program_text(code: str, spec: SourceSpec, result: Any, task: Task, question: Question) -> tuple[str, list[str]]:
    """Fenced program, ``print(var)`` appended when the code only assigns it, and the recorded
    execution result stated as the final answer; returns the text and what was appended."""
    code = code.strip()
    if code.startswith("```"):
        code = code.strip("`").removeprefix("python").strip()
    appended = []
    if spec.program_var and "print(" not in code:
        code += f"\nprint({spec.program_var})"
        appended.append(f"print({spec.program_var})")
    text = f"```python\n{code}\n```"
    if spec.result_field:
        text += "\n" + task.format_answer(_format_value(result), question)
        appended.append(f"answer sentence from recorded {spec.result_field}")
    return text, appended


def flatten_chat_rows(spec: SourceSpec, rows: list[Row], report: ImportReport) -> tuple[SourceSpec, list[Row]]:
    """Chat-format rows as flat rows (question, answer, system fields) and the field mapping that
    reads them; rows that are not one exchange are counted in ``report.unfit`` with examples."""
    if spec.format == "fields":
        return spec, rows
    flat = []
    for row in rows:
        try:
            if spec.format == "messages":
                exchange = single_exchange(get_field(row.obj, spec.messages_field))
            else:
                exchange = prompt_completion(get_field(row.obj, "prompt"), get_field(row.obj, "completion"))
        except Unfit as exc:
            report.unfit[exc.kind] = report.unfit.get(exc.kind, 0) + 1
            report.note(exc.kind, row.where, str(exc))
            continue
        except FieldError as exc:
            field_name = spec.messages_field if spec.format == "messages" else "prompt/completion"
            raise ImportFieldError(f"{row.where}: {exc}; the {spec.format} format reads '{field_name}'") from None
        obj = {**row.obj, CHAT_QUESTION: exchange.question, CHAT_ANSWER: exchange.answer, CHAT_SYSTEM: exchange.system}
        flat.append(Row(row.where, obj))
    return spec.model_copy(update={"question_field": CHAT_QUESTION, "completion_field": CHAT_ANSWER}), flat


def _row_value(obj: dict[str, Any], column: str | None, default: str | None) -> str:
    """A per-row label (teacher, style) from ``column`` when given and set, else ``default``."""
    value = get_field(obj, column) if column else None
    if value is None or not str(value).strip():
        if default is None:
            raise FieldError(f"field '{column}' is empty")
        return default
    return str(value).strip()


def _completions(value: Any) -> list[str]:
    if isinstance(value, list):
        return [str(v) for v in value if v is not None]
    return [] if value is None else [str(value)]


def import_paths(
    spec: SourceSpec,
    rows: list[Row],
    questions: list[Question],
    task: Task,
    *,
    train_split: str = "train",
    eval_policy: EvalPolicy = "refuse",
) -> ImportResult:
    """Turn ``rows`` of one dump into Paths of ``questions`` (the gold, every split).

    Raises ImportFieldError on a row without a mapped field (unless ``spec.skip_incomplete``)
    and LeakError when rows join to questions of another split than ``train_split`` under
    ``eval_policy="refuse"``.
    """
    index = QuestionIndex(questions)
    report = ImportReport(source=spec.label, files=list(spec.files), rows=len(rows))
    spec, rows = flatten_chat_rows(spec, rows, report)
    paths: list[Path] = []
    samples: Counter[tuple[str, str, str]] = Counter()
    for row in rows:
        try:
            question, looked_up = join_row(spec, row, index)
            texts = _completions(get_field(row.obj, spec.completion_field))
            result = get_field(row.obj, spec.result_field) if spec.result_field else None
            dump_choices = _dump_choices(spec, row.obj)
            teacher = _row_value(row.obj, spec.teacher_field, spec.teacher)
            style = _row_value(row.obj, spec.style_field, spec.style)
        except FieldError as exc:
            if not spec.skip_incomplete:
                raise ImportFieldError(f"{row.where}: {exc}; map the field with the source's *_field setting") from None
            report.incomplete += 1
            report.note("incomplete", row.where, str(exc))
            continue
        report.completions += len(texts)
        if question is None:
            ambiguous = spec.join == "text" and normalize_question(looked_up) in index.ambiguous_texts
            kind = "ambiguous" if ambiguous else "unjoined"
            setattr(report, kind, getattr(report, kind) + 1)
            report.note(kind, row.where, looked_up)
            continue
        if question.split not in (None, train_split):
            report.eval_split += 1
            report.note("eval_split", row.where, f"{question.id} ({question.split})")
            if eval_policy == "refuse":
                raise LeakError(
                    f"{row.where}: joins question {question.id} of split '{question.split}', not '{train_split}'; "
                    "importing it into a training file would leak evaluation questions. Set eval_policy "
                    "(--eval-paths) to 'drop' to skip such rows, or 'keep' to keep them on purpose"
                )
            if eval_policy == "drop":
                continue
        letters = None
        if dump_choices is not None and question.choices:
            letters = _letter_map(dump_choices, question)
            if letters is None:
                report.choices_unmatched += 1
                report.note("choices_unmatched", row.where, question.id)
        for raw in texts:
            text = cut_after(raw, spec.cut_after) if spec.cut_after else raw.strip()
            meta: dict[str, Any] = {**spec.meta, "row": row.where}
            if row.obj.get(CHAT_SYSTEM):
                meta["system"] = row.obj[CHAT_SYSTEM]
            if text != raw.strip():
                report.trimmed += 1
                meta["trimmed_chars"] = len(raw.strip()) - len(text)
            if not text:
                report.empty += 1
                report.note("empty", row.where, raw)
                continue
            if letters and any(k != v for k, v in letters.items()):
                text = remap_letters(text, letters)
                meta["letters_remapped"] = letters
                report.letters_remapped += 1
            if spec.evaluate_answer_expression:
                text, value = evaluate_answer_expression(text)
                if value is not None:
                    meta["appended"] = [f"value of the stated answer expression: {value}"]
            if is_program_style(style):
                text, appended = _program_text(text, spec, result, task, question)
                if appended:
                    meta["appended"] = appended
            if question.split not in (None, train_split):
                meta["split"] = question.split
            correct = task.is_correct(text, question.gold, question)
            paths.append(
                Path(
                    question_id=question.id,
                    task=question.task,
                    style=style,
                    sample=spec.sample_offset + samples[question.id, style, teacher],
                    teacher=teacher,
                    backend="import",
                    prompt=task.prompt(question),
                    text=text,
                    answer=task.extract(text, question),
                    correct=correct,
                    meta=meta,
                )
            )
            samples[question.id, style, teacher] += 1
            report.imported += 1
            report.correct += int(correct)
    report.questions = len({qid for qid, _, _ in samples})
    return ImportResult(paths, report)
