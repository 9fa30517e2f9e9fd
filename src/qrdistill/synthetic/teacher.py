"""The synthetic teacher's path writer: renders a synthetic question's structured solution
(``Question.meta["solution"]``) in one of the paper's six styles (or the planted ``answer_first``
style, see ``PLANTED_STYLE``), with varied wording across samples, and injects flaws at
configurable rates. Everything it writes is synthetic.

Flaws (recorded in the returned meta under ``"flaw"``, with details):

- ``wrong_answer``: the final answer is wrong (off by one, a neighbouring option, the opposite);
  where the last calculation gives the answer, it is written with the wrong result.
- ``wrong_step``: one written calculation ``a op b = c`` has a wrong ``c`` (or, without a
  calculation, a stated fact is misquoted), yet the final answer is right: a spurious path.
  In the program style the code computes something wrong while the text states the right answer.
- ``irrelevant_step``: a step built on a number or fact that is not in the question; the final
  answer is right.

>>> text, meta = render_path(question, "cot", sample=0, seed=0, flaw_rates=FlawRates())
>>> text.endswith(get_task(question.task).format_answer(question.gold, question)) or meta["flaw"] == "wrong_answer"
True
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from qrdistill.records import Question
from qrdistill.synthetic.solutions import Calc, Solution
from qrdistill.synthetic.words import capitalise
from qrdistill.tasks import get_task
from qrdistill.teacher.styles import PAPER_STYLES

FLAWS = ("wrong_answer", "wrong_step", "irrelevant_step")
PLANTED_STYLE = "answer_first"
"""Not one of the paper's styles: a style whose paths are right and pass every verifier but teach the
student to state its answer before computing it (the rationale-after-answer ablation of Wei et al. 2022,
"Chain-of-thought prompting", Sec. 3.3). The embedded grid plants it so that routing has a known wrong choice."""


class FlawRates(BaseModel):
    """Probability of each injected flaw per path (at most one flaw per path; the sum must be <= 1).

    >>> FlawRates(wrong_answer=0.2).wrong_step
    0.1
    """

    model_config = ConfigDict(extra="forbid")

    wrong_answer: float = Field(0.15, ge=0.0, le=1.0)
    wrong_step: float = Field(0.10, ge=0.0, le=1.0)
    irrelevant_step: float = Field(0.05, ge=0.0, le=1.0)

    @model_validator(mode="after")
    def _total(self) -> FlawRates:
        total = self.wrong_answer + self.wrong_step + self.irrelevant_step
        if total > 1.0 + 1e-9:
            raise ValueError(f"flaw rates sum to {total:.3f}; they are exclusive per path, so keep the sum <= 1")
        return self


@dataclass
class _Plan:
    """What one path looks like: its flaw and the exact corruption."""

    flaw: str | None
    stated: str
    """The final answer the path states."""
    wrong_step: int | None = None
    wrong_c: int | None = None
    irrelevant: str | None = None
    irrelevant_at: int = 0
    code_prints: str | None = None
    """Program style with a flaw: what the (buggy) code prints."""

    def meta(self, solution: Solution) -> dict[str, Any]:
        out: dict[str, Any] = {"flaw": self.flaw}
        if self.flaw == "wrong_answer":
            out["stated"] = self.stated
        if self.wrong_step is not None and self.flaw == "wrong_step":
            step = solution.steps[self.wrong_step]
            out["step"] = self.wrong_step
            if step.calc is not None:
                out["written"] = step.calc.written(self.wrong_c)
                out["correct"] = step.calc.written()
        if self.flaw == "irrelevant_step":
            out["inserted"] = self.irrelevant
        if self.code_prints is not None:
            out["code_prints"] = self.code_prints
        return out


def _draw_flaw(rng: random.Random, rates: FlawRates) -> str | None:
    u = rng.random()
    for name in FLAWS:
        rate = getattr(rates, name)
        if u < rate:
            return name
        u -= rate
    return None


def _plan(rng: random.Random, solution: Solution, rates: FlawRates) -> _Plan:
    flaw = _draw_flaw(rng, rates)
    plan = _Plan(flaw=flaw, stated=solution.answer)
    if flaw == "wrong_answer":
        plan.stated = rng.choice(solution.wrong_answers[:2])
        last = solution.steps[-1].calc
        if last is not None and str(last.c) == solution.answer and plan.stated.isdigit():
            plan.wrong_step, plan.wrong_c = len(solution.steps) - 1, int(plan.stated)
    elif flaw == "wrong_step":
        plan.wrong_step = rng.choice(solution.corruptible())
        calc = solution.steps[plan.wrong_step].calc
        if calc is not None:
            plan.wrong_c = calc.c + rng.choice([d for d in (-3, -2, -1, 1, 2, 3) if calc.c + d >= 0])
    elif flaw == "irrelevant_step":
        plan.irrelevant = rng.choice(solution.irrelevant)
        plan.irrelevant_at = rng.randrange(len(solution.steps))
    return plan


def _steps(rng: random.Random, solution: Solution, plan: _Plan) -> list[str]:
    """Each step as one sentence (lower-case start unless a name), flaws applied."""
    out = []
    for i, step in enumerate(solution.steps):
        if i == plan.wrong_step and step.calc is None:
            out.append(rng.choice(step.wrong))
        else:
            out.append(step.render(rng.randrange(len(step.texts)), plan.wrong_c if i == plan.wrong_step else None))
    if plan.irrelevant is not None:
        out.insert(plan.irrelevant_at, plan.irrelevant)
    return out


def _closing(rng: random.Random, solution: Solution, plan: _Plan, question: Question) -> str:
    """The final sentence(s): for options, which letter the answer is, then the task's format."""
    final = get_task(question.task).format_answer(plan.stated, question)
    if question.choices:
        link = rng.choice(["That is option ({l}).", "That date is option ({l}).", "This matches option ({l})."])
        return link.format(l=plan.stated) + " " + final
    return final


CONNECTORS = [["First,", "Next,", "Then,", "After that,", "Then,"], ["To start,", "Now", "Then", "Next,", "Also,"]]
APPROACHES = {
    "synth_arith": ["follow the story step by step.", "guess a number and adjust it.", "write one big expression."],
    "synth_date": ["find today first, then count days.", "test each option.", "count from the given date directly."],
    "synth_table": ["use only the rows asked about.", "add up the whole table first.", "estimate from the largest row."],
    "synth_yesno": ["chain the facts one at a time.", "look for one fact that answers it.", "assume yes and look for a contradiction."],
}
"""Per family: the route the steps follow first, then weaker alternatives a tree-of-thought path weighs."""


def _vanilla(rng: random.Random, solution: Solution, plan: _Plan, question: Question) -> str:
    steps = " ".join(capitalise(s) for s in _steps(rng, solution, plan))
    return f"{steps} {_closing(rng, solution, plan, question)}"


def _cot(rng: random.Random, solution: Solution, plan: _Plan, question: Question) -> str:
    steps = _steps(rng, solution, plan)
    opener = rng.choice(["Let's think step by step.", "Let's work through this step by step.", "Step by step:"])
    if rng.random() < 0.5:
        words = rng.choice(CONNECTORS)
        body = [f"{words[min(i, len(words) - 1)] if i < len(steps) - 1 or i == 0 else 'Finally,'} {s}"
                for i, s in enumerate(steps)]
    else:
        body = [f"Step {i + 1}: {capitalise(s)}" for i, s in enumerate(steps)]
    return "\n".join([opener, *body, _closing(rng, solution, plan, question)])


def _tot(rng: random.Random, solution: Solution, plan: _Plan, question: Question) -> str:
    chosen, *others = APPROACHES[solution.family]
    ideas = [chosen, rng.choice(others)]
    rng.shuffle(ideas)
    pick = ideas.index(chosen) + 1
    lines = [rng.choice(["Two ways to solve this:", "Possible approaches:"])]
    lines += [f"Approach {i + 1}: {capitalise(idea)}" for i, idea in enumerate(ideas)]
    lines.append(rng.choice([f"Approach {pick} is more reliable.", f"Approach {pick} is more promising. Following it:"]))
    lines += [capitalise(s) for s in _steps(rng, solution, plan)]
    return "\n".join([*lines, _closing(rng, solution, plan, question)])


def _program(rng: random.Random, solution: Solution, plan: _Plan, question: Question) -> str:
    code = solution.program.lines
    if plan.flaw in ("wrong_step", "wrong_answer"):
        code, plan.code_prints = solution.program.wrong_lines, solution.program.wrong_output
        plan.wrong_step = plan.wrong_c = None
    if plan.flaw == "wrong_answer":
        plan.stated = solution.program.wrong_output
    lines = [rng.choice(["Let me solve this with a short Python program.", "I will compute the answer with Python."])]
    if plan.irrelevant is not None:
        lines.append(capitalise(plan.irrelevant))
    comment = rng.choice(["# compute the answer", "# solve it and print the answer"])
    lines.append("```python\n" + "\n".join([comment, *code]) + "\n```")
    lines.append(rng.choice(["The program prints {a}.", "Running it prints {a}."]).format(a=plan.stated))
    return "\n".join([*lines, _closing(rng, solution, plan, question)])


def _check(calc: Calc) -> str:
    return calc.inverse().written()


def _backward(rng: random.Random, solution: Solution, plan: _Plan, question: Question) -> str:
    forward = " ".join(capitalise(s) for s in _steps(rng, solution, plan))
    claim = solution.answer_text if plan.stated == solution.answer else plan.stated
    lines = [rng.choice(["Forward pass:", "First, reason forward:"]) + " " + forward,
             rng.choice(["Candidate answer: {a}.", "So the answer should be {a}."]).format(a=claim),
             rng.choice(["Now check it backward.", "Verify by working backward from it."])]
    for i in reversed(range(len(solution.steps))):
        step = solution.steps[i]
        if step.calc is None:
            lines.append(rng.choice(["This agrees with the fact: {s}", "Consistent: {s}"]).format(s=step.render(0)))
        elif plan.flaw == "wrong_answer" and i == plan.wrong_step:
            lines.append(f"Starting from {claim}, it fits the last step.")
        else:
            lines.append(rng.choice(["Undo the step: {c}.", "Going back: {c}."]).format(c=_check(step.calc)))
    lines.append(rng.choice(["Every step checks out.", "The check agrees with the question."]))
    return "\n".join([*lines, _closing(rng, solution, plan, question)])


def _answer_first(rng: random.Random, solution: Solution, plan: _Plan, question: Question) -> str:
    """The planted style: the answer sentence comes first, so the student learns to state an answer
    before any calculation (at test time: a guess), although every step after it is right."""
    final = _closing(rng, solution, plan, question)
    why = rng.choice(["Because:", "Here is why.", "Justification:", "Check:"])
    steps = " ".join(capitalise(s) for s in _steps(rng, solution, plan))
    return f"{final}\n{why} {steps}\n{final}"


def _fact(rng: random.Random, solution: Solution, plan: _Plan, question: Question) -> str:
    head = rng.choice(["Relevant facts:", "Facts I need:", "First, recall the relevant facts:"])
    facts = [f"- {f}" for f in solution.facts]
    reason = rng.choice(["Reasoning:", "Now reason with them:", "Using these facts:"])
    steps = [capitalise(s) for s in _steps(rng, solution, plan)]
    return "\n".join([head, *facts, reason, *steps, _closing(rng, solution, plan, question)])


WRITERS = {"vanilla": _vanilla, "cot": _cot, "tot": _tot, "program": _program, "backward": _backward, "fact": _fact,
           PLANTED_STYLE: _answer_first}
assert tuple(WRITERS)[: len(PAPER_STYLES)] == PAPER_STYLES


def render_path(question: Question, style: str, sample: int, seed: int, flaw_rates: FlawRates) -> tuple[str, dict[str, Any]]:
    """The path text for ``question`` in ``style`` and its meta (``{"flaw": ..., details}``).

    Deterministic for (question id, style, sample, seed). Raises KeyError for a question without
    ``meta["solution"]`` or an unknown style.

    >>> render_path(q, "program", sample=1, seed=0, flaw_rates=FlawRates(wrong_answer=0.0))[1]["flaw"]
    """
    if "solution" not in question.meta:
        raise KeyError(f"question {question.id!r} has no meta['solution']: only synthetic-family questions can be rendered")
    if style not in WRITERS:
        raise KeyError(f"unknown style {style!r}; the synthetic teacher writes {', '.join(WRITERS)}")
    solution = Solution.model_validate(question.meta["solution"])
    rng = random.Random(f"{question.id}|{style}|{sample}|{seed}")
    plan = _plan(rng, solution, flaw_rates)
    text = WRITERS[style](rng, solution, plan, question)
    return text, plan.meta(solution)
