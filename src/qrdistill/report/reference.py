"""Reference accuracies that need no model: what a constant answer scores on the test questions.

On yes/no and multiple-choice tasks a student that always writes one answer can look good (on
StrategyQA "always no" is right on more than half the questions), so the report shows, per task,
the accuracy of the training questions' most common gold answer and of uniform guessing.

>>> reference_table({"strategy_qa": (train, test)})
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence

from pydantic import BaseModel

from qrdistill.records import Question


class Reference(BaseModel):
    """One task's no-model reference accuracies (fractions)."""

    task: str
    majority: str
    """The most common gold answer among the training questions."""
    majority_accuracy: float
    """Its accuracy on the test questions, always answered."""
    chance: float | None
    """Uniform guessing over a fixed answer set (options, yes/no); None for open answers."""
    n_test: int


def answer_set_size(questions: Sequence[Question]) -> int | None:
    """How many answers a uniform guess picks from: the option count, 2 for yes/no, else None."""
    counts = {len(q.choices) for q in questions if q.choices}
    if counts and len(counts) == 1 and all(q.choices for q in questions):
        return counts.pop()
    if {q.gold.strip().lower() for q in questions} <= {"yes", "no"}:
        return 2
    return None


def reference(task: str, train: Sequence[Question], test: Sequence[Question]) -> Reference | None:
    """The constant-answer references of one task; None without training or test questions."""
    if not train or not test:
        return None
    majority, _ = Counter(q.gold for q in train).most_common(1)[0]
    size = answer_set_size([*train, *test])
    return Reference(task=task, majority=majority, majority_accuracy=sum(q.gold == majority for q in test) / len(test),
                     chance=1 / size if size else None, n_test=len(test))


def reference_table(splits: Mapping[str, tuple[Sequence[Question], Sequence[Question]]]) -> str | None:
    """A markdown table of every task's references; ``splits``: task -> (train, test) questions."""
    rows = [r for task, (train, test) in splits.items() if (r := reference(task, train, test))]
    if not rows:
        return None
    lines = ["| task | most common training answer | always answering it | uniform guess | test questions |",
             "|---|---|---|---|---|"]
    for r in rows:
        chance = f"{100 * r.chance:.1f}" if r.chance is not None else "—"
        lines.append(f"| {r.task} | `{r.majority}` | {100 * r.majority_accuracy:.1f} | {chance} | {r.n_test} |")
    return "\n".join(lines)
