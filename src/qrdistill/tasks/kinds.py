"""Task base classes per answer kind: the prompt cue, extraction and check for each kind.

A concrete benchmark subclasses one of these and only implements ``load``.

>>> class MyTask(NumberTask):
...     name = "my_task"
...     def load(self, path, split=None): ...
>>> MyTask().is_correct("so the answer is 1,000.", "1000")
True
"""

from __future__ import annotations

from typing import ClassVar

from qrdistill.records import Question
from qrdistill.tasks.answers import (
    extract_choice,
    extract_latex,
    extract_nli,
    extract_number,
    extract_yes_no,
    letters,
    numbers_equal,
)
from qrdistill.tasks.base import Task
from qrdistill.tasks.mathcheck import math_equal
from qrdistill.tasks.statements import NLI_ANSWER, NUMBER_ANSWER, YES_NO_ANSWER, choice_answer, statement_end


class NumberTask(Task):
    """Gold is a number string; compared by value."""

    answer_kind = "number"
    instruction = "Solve the following math word problem."
    answer_cue = 'End your response with "The answer is \\boxed{N}." where N is the final number.'
    final_answer = NUMBER_ANSWER

    def format_answer(self, answer: str, question: Question | None = None) -> str:
        """``The answer is \\boxed{18}.``"""
        return f"The answer is \\boxed{{{answer}}}."

    def extract(self, completion: str, question: Question | None = None) -> str | None:
        """The final number as a canonical string."""
        return extract_number(completion)

    def is_correct(self, completion: str, gold: str, question: Question | None = None) -> bool:
        """Whether the final number equals ``gold`` by value."""
        return numbers_equal(self.extract(completion, question), gold)


class MathTask(Task):
    """Gold is a LaTeX answer; compared with math-verify (bounded in time)."""

    answer_kind = "math"
    instruction = "Solve the following math problem."
    answer_cue = 'End your response with "The answer is \\boxed{ANSWER}." with the final answer in LaTeX.'
    final_answer = NUMBER_ANSWER

    def format_answer(self, answer: str, question: Question | None = None) -> str:
        """``The answer is \\boxed{\\frac{1}{2}}.``"""
        return f"The answer is \\boxed{{{answer}}}."

    def extract(self, completion: str, question: Question | None = None) -> str | None:
        """The final statement's ``\\boxed{}`` content or number, else the final number."""
        return extract_latex(completion)

    def is_correct(self, completion: str, gold: str, question: Question | None = None) -> bool:
        """Whether the final answer is mathematically equal to ``gold``."""
        return math_equal(self.extract(completion, question), gold)


class ChoiceTask(Task):
    """Gold is an option letter; the question's ``choices`` hold the option texts."""

    answer_kind = "choice"
    n_options: ClassVar[int] = 5
    """Letters accepted when the question (and so its options) is not given."""
    instruction = "Answer the following multiple-choice question."
    answer_cue = 'End your response with "The best answer is (X)." where X is the letter of the correct option.'

    def format_answer(self, answer: str, question: Question | None = None) -> str:
        """``The best answer is (B).``"""
        return f"The best answer is ({answer})."

    def answer_end(self, completion: str, question: Question | None = None) -> int | None:
        """End of the first complete "answer is (X)." naming an option that exists."""
        n = len(question.choices) if question is not None and question.choices else self.n_options
        return statement_end(completion, choice_answer(letters(n))) if n else None

    def extract(self, completion: str, question: Question | None = None) -> str | None:
        """The chosen letter (option texts from ``question`` help when the completion names one)."""
        choices = question.choices if question is not None else None
        return extract_choice(completion, choices, self.n_options)

    def is_correct(self, completion: str, gold: str, question: Question | None = None) -> bool:
        """Whether the chosen letter is ``gold``."""
        return isinstance(gold, str) and self.extract(completion, question) == gold.strip().upper()


class YesNoTask(Task):
    """Gold is ``"yes"`` or ``"no"``."""

    answer_kind = "yesno"
    instruction = "Answer the following yes/no question."
    answer_cue = 'End your response with "The answer is yes." or "The answer is no."'
    final_answer = YES_NO_ANSWER

    def extract(self, completion: str, question: Question | None = None) -> str | None:
        """``"yes"``, ``"no"`` or None."""
        return extract_yes_no(completion)

    def is_correct(self, completion: str, gold: str, question: Question | None = None) -> bool:
        """Whether the final yes/no equals ``gold``."""
        return isinstance(gold, str) and self.extract(completion, question) == gold.strip().lower()


NLI_SHOWN = {"entailment": "True", "neutral": "Neither", "contradiction": "False"}
"""How each NLI label is shown to a model (the paper's True/Neither/False wording)."""


class NliTask(Task):
    """Gold is ``"entailment"``, ``"neutral"`` or ``"contradiction"``, shown as True/Neither/False."""

    answer_kind = "nli"
    instruction = (
        "Read the premise and decide whether the hypothesis is True (the premise entails it), "
        "False (the premise contradicts it) or Neither."
    )
    answer_cue = 'End your response with "The answer is True.", "The answer is False." or "The answer is Neither."'
    final_answer = NLI_ANSWER

    def body(self, question: Question) -> str:
        """Premise (the question's context) and hypothesis (its question text), labelled."""
        return f"Premise: {(question.context or '').strip()}\n\nHypothesis: {question.question.strip()}"

    def format_answer(self, answer: str, question: Question | None = None) -> str:
        """``The answer is Neither.`` for ``"neutral"``."""
        return f"The answer is {NLI_SHOWN.get(answer, answer)}."

    def extract(self, completion: str, question: Question | None = None) -> str | None:
        """The NLI label or None."""
        return extract_nli(completion)

    def is_correct(self, completion: str, gold: str, question: Question | None = None) -> bool:
        """Whether the final label equals ``gold``."""
        return isinstance(gold, str) and self.extract(completion, question) == gold.strip().lower()
