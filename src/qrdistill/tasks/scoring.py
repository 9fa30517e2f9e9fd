"""Score completions against gold answers: the pure part of ``qrdistill tasks check``.

>>> summary = score_completions(get_task("gsm8k"), questions, [("outs.jsonl:1", {"completion": "... 18."})])
>>> summary.accuracy
1.0
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from qrdistill.records import Question
from qrdistill.tasks.base import Task


@dataclass
class CheckSummary:
    """Counts from scoring one file of completions."""

    task: str
    total: int = 0
    correct: int = 0
    unparseable: int = 0
    examples_wrong: list[tuple[str, str | None, str]] = field(default_factory=list)
    """Up to a few (where, extracted, gold) triples of wrong answers, for a look."""

    @property
    def accuracy(self) -> float:
        """Fraction correct (0.0 when there is nothing to score)."""
        return self.correct / self.total if self.total else 0.0

    def render(self) -> str:
        """A short human-readable summary."""
        lines = [
            f"{self.task}: {self.correct}/{self.total} correct, accuracy {self.accuracy:.2%}; "
            f"unparseable {self.unparseable} ({self.unparseable / max(self.total, 1):.2%})"
        ]
        lines += [f"  wrong at {where}: extracted {pred!r}, gold {gold!r}" for where, pred, gold in self.examples_wrong]
        return "\n".join(lines)


def score_completions(
    task: Task,
    questions: list[Question],
    rows: list[tuple[str, dict[str, Any]]],
    *,
    field: str = "completion",
    id_field: str | None = None,
    max_examples: int = 5,
) -> CheckSummary:
    """Score ``rows`` (each ``(where, object)``, ``where`` = "file:line") against ``questions``.

    Rows are matched to questions by ``id_field`` when given, else by position. Raises
    ValueError naming the row and field when a row lacks ``field`` or names an unknown id.
    """
    by_id = {q.id: q for q in questions}
    if id_field is None and len(rows) != len(questions):
        raise ValueError(
            f"{len(rows)} completions but {len(questions)} questions; pass --id-field to match rows by question id"
        )
    summary = CheckSummary(task=task.name)
    for index, (where, row) in enumerate(rows):
        text = row.get(field)
        if not isinstance(text, str):
            raise ValueError(f"{where}: field '{field}' missing or not a string; pick the completion field with --field")
        if id_field is None:
            question = questions[index]
        else:
            qid = str(row.get(id_field))
            if qid not in by_id:
                raise ValueError(f"{where}: field '{id_field}' = {qid!r} is not a question id of the dataset")
            question = by_id[qid]
        pred = task.extract(text, question)
        summary.total += 1
        summary.unparseable += pred is None
        if task.is_correct(text, question.gold, question):
            summary.correct += 1
        elif len(summary.examples_wrong) < max_examples:
            summary.examples_wrong.append((where, pred, question.gold))
    return summary
