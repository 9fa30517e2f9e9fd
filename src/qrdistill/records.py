"""The record types every stage shares: Question, Path, Verdict.

Each is defined once here and written as one JSON object per JSONL line.

>>> q = Question(id="gsm8k-0", task="gsm8k", question="2+2?", gold="4")
>>> p = Path(question_id=q.id, task=q.task, style="cot", sample=0, teacher="synthetic",
...          prompt="...", text="2+2=4. The answer is \\\\boxed{4}.", answer="4", correct=True)
>>> p.key
'gsm8k-0|cot|0|synthetic'
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class Question(BaseModel):
    """One task item with its gold answer in the task's canonical form."""

    model_config = ConfigDict(extra="forbid")

    id: str
    task: str
    question: str
    gold: str
    choices: list[str] | None = None
    """Option texts in letter order (A, B, ...) for multiple-choice tasks."""
    context: str | None = None
    """Extra material shown before the question (a table, a premise, a passage)."""
    split: str | None = None
    meta: dict[str, Any] = Field(default_factory=dict)


class VerifierResult(BaseModel):
    """Outcome of one deterministic verifier on one path."""

    model_config = ConfigDict(extra="forbid")

    name: str
    passed: bool | None
    """True: verified; False: flaw found; None: not applicable or could not run."""
    detail: str = ""


class JudgeResult(BaseModel):
    """An LLM judge's ruling on one path."""

    model_config = ConfigDict(extra="forbid")

    verdict: Literal["valid", "invalid", "unknown"]
    reason: str = ""
    model: str = ""
    votes: list[str] = Field(default_factory=list)


class Verdict(BaseModel):
    """The quality filter's decision on one path, with every signal behind it."""

    model_config = ConfigDict(extra="forbid")

    answer_correct: bool
    verifiers: list[VerifierResult] = Field(default_factory=list)
    judge: JudgeResult | None = None
    kept: bool
    reason: str = ""
    """Why the path was dropped ('' when kept)."""


class Path(BaseModel):
    """One teacher answer (a reasoning path) to one question in one style."""

    model_config = ConfigDict(extra="forbid")

    question_id: str
    task: str
    style: str
    sample: int = 0
    teacher: str
    """Teacher model name (for imports, the model that wrote the text)."""
    backend: str = ""
    prompt: str = ""
    text: str = ""
    answer: str | None = None
    correct: bool | None = None
    status: Literal["ok", "failed"] = "ok"
    error: str | None = None
    usage: dict[str, int] = Field(default_factory=dict)
    meta: dict[str, Any] = Field(default_factory=dict)
    """Free-form facts, e.g. the synthetic teacher's injected flaw under ``meta['flaw']``."""
    verdict: Verdict | None = None

    @property
    def key(self) -> str:
        """Identity of a path within a run: question, style, sample and teacher."""
        return f"{self.question_id}|{self.style}|{self.sample}|{self.teacher}"
