"""Small real-looking data (GSM8K-style questions, three reasoning styles) and tiny students."""

from __future__ import annotations

import pytest

from qrdistill.records import Path, Question, Verdict
from qrdistill.students import StudentSpec

STYLE_TEXT = {
    "cot": "Step 1: {a} + {b} = {s}.\nStep 2: so the total is {s}.\nThe answer is \\boxed{{{s}}}.",
    "pot": "```python\nprint({a} + {b})\n```\nThis prints {s}. The answer is \\boxed{{{s}}}.",
    "backward": "Guess {s}. Check: {s} - {b} = {a}, which matches. The answer is \\boxed{{{s}}}.",
}


def make_questions(n: int = 8) -> dict[str, Question]:
    out = {}
    for i in range(n):
        a, b = 3 + 7 * i, 11 + 5 * i
        q = Question(id=f"q{i}", task="gsm8k", question=f"Tom has {a} apples and buys {b} more. How many apples does he have?", gold=str(a + b))
        out[q.id] = q
    return out


def make_paths(questions: dict[str, Question], *, judged_out: int = 0) -> list[Path]:
    paths = []
    for i, q in enumerate(questions.values()):
        a, b = 3 + 7 * i, 11 + 5 * i
        for style, template in STYLE_TEXT.items():
            kept = not (style == "backward" and i < judged_out)
            verdict = Verdict(answer_correct=True, kept=kept, reason="" if kept else "judge: invalid")
            paths.append(Path(question_id=q.id, task=q.task, style=style, teacher="fixture", text=template.format(a=a, b=b, s=a + b), answer=q.gold, correct=True, verdict=verdict))
    return paths


def tiny_specs(dropout: float = 0.0) -> list[StudentSpec]:
    return [
        StudentSpec(name="smol", model="tiny:smollm2", lora_r=4, lora_alpha=8, lora_dropout=dropout, learning_rate=2e-3, max_length=320),
        StudentSpec(name="gemma", model="tiny:gemma3", lora_r=4, lora_alpha=8, lora_dropout=dropout, learning_rate=1e-3, max_length=320),
    ]


class Data:
    """The builders above, as one fixture (pytest's importlib mode cannot import conftest)."""

    make_questions = staticmethod(make_questions)
    make_paths = staticmethod(make_paths)
    tiny_specs = staticmethod(tiny_specs)


@pytest.fixture(scope="session")
def data() -> type[Data]:
    return Data
