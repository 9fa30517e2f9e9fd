"""The structured solution a synthetic question keeps in ``Question.meta["solution"]``.

The problem generators build it; the synthetic teacher (``qrdistill.synthetic.teacher``)
renders it as reasoning text in any style. Every written calculation is a ``Calc``
(``a op b = c`` with integers), so a path's arithmetic can be recomputed.

>>> step = Step(texts=["The boxes hold {calc} apples."], calc=Calc.of(3, "×", 4))
>>> step.render(0)
'The boxes hold 3 × 4 = 12 apples.'
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Op = Literal["+", "-", "×", "÷"]

_APPLY = {
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "×": lambda a, b: a * b,
    "÷": lambda a, b: a // b,
}
_INVERSE: dict[str, Op] = {"+": "-", "-": "+", "×": "÷", "÷": "×"}


class Calc(BaseModel):
    """One written calculation ``a op b = c`` on integers (``÷`` only where exact)."""

    model_config = ConfigDict(extra="forbid")

    a: int
    op: Op
    b: int
    c: int

    @classmethod
    def of(cls, a: int, op: Op, b: int) -> Calc:
        """The calculation with its correct result: ``Calc.of(7, "÷", 2)`` raises (not exact)."""
        if op == "÷" and (b == 0 or a % b):
            raise ValueError(f"{a} ÷ {b} is not an exact integer division")
        return cls(a=a, op=op, b=b, c=_APPLY[op](a, b))

    def written(self, c: int | None = None) -> str:
        """``"3 × 4 = 12"``; pass ``c`` to write another (wrong) result."""
        return f"{self.a} {self.op} {self.b} = {self.c if c is None else c}"

    def inverse(self) -> Calc:
        """The check that undoes this step: ``12 ÷ 4 = 3`` for ``3 × 4 = 12``."""
        return Calc.of(self.c, _INVERSE[self.op], self.b)


class Step(BaseModel):
    """One reasoning step: alternative phrasings (``{calc}`` marks where the calculation goes),
    its calculation if any, and for steps without one, misstatements a flawed path may use."""

    model_config = ConfigDict(extra="forbid")

    texts: list[str] = Field(min_length=1)
    calc: Calc | None = None
    wrong: list[str] = Field(default_factory=list)

    def render(self, variant: int, wrong_c: int | None = None) -> str:
        """Phrasing number ``variant`` (modulo the count) with the calculation written in."""
        text = self.texts[variant % len(self.texts)]
        if self.calc is not None:
            text = text.replace("{calc}", self.calc.written(wrong_c))
        return text


class Program(BaseModel):
    """Python lines that compute and print the answer, and a buggy variant with its output."""

    model_config = ConfigDict(extra="forbid")

    lines: list[str]
    wrong_lines: list[str]
    wrong_output: str
    """What ``wrong_lines`` print: a wrong answer in the task's canonical form."""


class Solution(BaseModel):
    """Everything the synthetic teacher needs to write a path for one question."""

    model_config = ConfigDict(extra="forbid")

    family: str
    facts: list[str] = Field(min_length=1)
    """The statements of the question the reasoning relies on (for the fact style)."""
    steps: list[Step] = Field(min_length=1)
    answer: str
    """The gold answer in canonical form (a number, an option letter, yes/no)."""
    answer_text: str
    """The answer in words, e.g. the option's date or the number itself."""
    wrong_answers: list[str] = Field(min_length=1)
    """Plausible wrong answers (off by one, a neighbouring option, the opposite)."""
    irrelevant: list[str] = Field(min_length=1)
    """Steps that use a number or fact that is not in the question (still true arithmetic)."""
    program: Program

    def corruptible(self) -> list[int]:
        """Indices of steps a wrong-step flaw can corrupt: those with a calculation, else those with
        misstatements."""
        with_calc = [i for i, s in enumerate(self.steps) if s.calc is not None]
        return with_calc or [i for i, s in enumerate(self.steps) if s.wrong]


@dataclass
class Draft:
    """A generated problem before it becomes a Question: its text, gold answer and solution."""

    question: str
    gold: str
    solution: Solution
    context: str | None = None
    choices: list[str] | None = None
