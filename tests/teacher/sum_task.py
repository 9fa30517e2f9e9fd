"""A tiny real Task for the teacher tests: 'What is a + b?' with a boxed integer answer.

Its original file format is one ``a,b`` pair per line; ``sum_responder`` answers correctly
from the prompt text (so content can be checked end to end) unless told to be wrong.
"""

from __future__ import annotations

import os
import re
from pathlib import Path as FsPath

from openai_server import Call, Reply

from qrdistill.records import Question
from qrdistill.tasks.base import Task

_QUESTION = re.compile(r"What is (\d+) \+ (\d+)\?")
_BOXED = re.compile(r"\\boxed\{(-?\d+)\}")


class SumTask(Task):
    name = "sums"
    answer_kind = "number"
    answer_cue = "End with: The answer is \\boxed{N}."

    def load(self, path: str | os.PathLike[str], split: str | None = None) -> list[Question]:
        questions = []
        for i, line in enumerate(FsPath(path).read_text().splitlines()):
            a, b = (int(x) for x in line.split(","))
            questions.append(Question(id=f"sums-{i}", task=self.name, question=f"What is {a} + {b}?", gold=str(a + b), split=split))
        return questions

    def extract(self, completion: str, question: Question | None = None) -> str | None:
        found = _BOXED.findall(completion)
        return found[-1] if found else None

    def is_correct(self, completion: str, gold: str, question: Question | None = None) -> bool:
        return self.extract(completion, question) == gold


def make_questions(n: int) -> list[Question]:
    """n distinct questions."""
    return [Question(id=f"sums-{i}", task="sums", question=f"What is {i} + {2 * i + 1}?", gold=str(3 * i + 1)) for i in range(n)]


def answer_for(prompt: str) -> str:
    """The correct completion for a SumTask prompt."""
    a, b = (int(x) for x in _QUESTION.search(prompt).groups())
    return f"{a} plus {b} makes {a + b}. The answer is \\boxed{{{a + b}}}."


def sampled_answer(call: Call) -> str:
    """The correct completion, worded per sample (its seed), as a sampling teacher's would be."""
    return f"{answer_for(call.prompt)} (Checked with seed {call.body.get('seed')}.)"


def sum_responder(call: Call) -> Reply:
    """Answer a SumTask prompt correctly."""
    return Reply.ok(answer_for(call.prompt))
