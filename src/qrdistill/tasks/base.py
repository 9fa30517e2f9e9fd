"""The Task interface: loader + base prompt + answer extraction + answer check.

>>> task = get_task("gsm8k")
>>> questions = task.load("test.jsonl")
>>> task.prompt(questions[0])
>>> task.is_correct("... so the answer is 18.", "18")
True
>>> task.answer_end("18 in all. The answer is \\boxed{18}.\\n\\nNext,")    # where generation may stop
36
"""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from typing import ClassVar, Literal

from qrdistill.records import Question
from qrdistill.tasks.statements import statement_end

AnswerKind = Literal["number", "math", "choice", "yesno", "nli", "text"]


class Task(ABC):
    """One benchmark or problem family. Subclasses set the class attributes and implement
    ``load``, ``extract`` and ``is_correct``; ``prompt`` composes the base zero-shot prompt."""

    name: ClassVar[str]
    answer_kind: ClassVar[AnswerKind]
    instruction: ClassVar[str] = "Answer the following question."
    answer_cue: ClassVar[str]
    """How the final answer must be written, e.g. 'End with: The answer is \\boxed{N}.'"""
    final_answer: ClassVar[str | None] = None
    """Regex of an answer in a final-answer statement "answer is <final_answer>." (None: never stop early)."""

    @abstractmethod
    def load(self, path: str | os.PathLike[str], split: str | None = None) -> list[Question]:
        """Read the dataset's original public file format into Questions."""

    def body(self, question: Question) -> str:
        """The question as shown to a model: context, question, options."""
        parts = []
        if question.context:
            parts.append(question.context.strip())
        parts.append(question.question.strip())
        if question.choices:
            parts.append("Options:\n" + "\n".join(f"({chr(65 + i)}) {c}" for i, c in enumerate(question.choices)))
        return "\n\n".join(parts)

    def prompt(self, question: Question) -> str:
        """Base zero-shot prompt, including the answer-format cue."""
        return f"{self.instruction}\n\n{self.body(question)}\n\n{self.answer_cue}"

    def format_answer(self, answer: str, question: Question | None = None) -> str:
        """The final-answer sentence in this task's format (what the cue asks for)."""
        return f"The answer is {answer}."

    def answer_end(self, completion: str, question: Question | None = None) -> int | None:
        """Index just after the first complete final-answer statement (the sentence ``format_answer``
        writes, its closing period and the next character written); None while there is none."""
        return statement_end(completion, self.final_answer) if self.final_answer else None

    @abstractmethod
    def extract(self, completion: str, question: Question | None = None) -> str | None:
        """The final answer in canonical form, read from the completion text only; None if absent."""

    @abstractmethod
    def is_correct(self, completion: str, gold: str, question: Question | None = None) -> bool:
        """Whether the completion's final answer equals ``gold``. Never raises."""
