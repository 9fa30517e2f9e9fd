"""Evaluating one student on one task: greedy generations, each saved with its extracted answer.

>>> job = EvalJob(task, questions, run.eval("qr_distill", 0, "smollm2", "synth_arith"))
>>> [row] = evaluate_student(student, [job], label=EvalLabel("qr_distill", 0, "smollm2"), max_new_tokens=96, batch_size=16)
>>> row.accuracy
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path as FsPath
from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict

from qrdistill.evaluate.results import RunResult
from qrdistill.jsonl import read_records, write_records
from qrdistill.records import Question
from qrdistill.tasks.base import Task
from qrdistill.teacher.styles import Style, prompt_for


class Generation(BaseModel):
    """One student's greedy answer to one held-out question (one line of an eval file)."""

    model_config = ConfigDict(extra="forbid")

    question_id: str
    task: str
    method: str
    seed: int
    student: str
    prompt: str
    completion: str
    answer: str | None
    gold: str
    correct: bool
    logprob: float | None = None
    """Mean log-probability of the generated tokens only (length-normalised); None if not scored."""
    stop: Literal["eos", "answer", "length"] | None = None
    """What ended generation: the end-of-sequence token, the final-answer statement, or max_new_tokens."""
    new_tokens: int | None = None
    """Tokens generated (the stop token excluded, tokens after the cut final answer included)."""
    style: str | None = None
    """The style whose prompt the student answered (None: the task's plain prompt)."""


class GeneratingStudent(Protocol):
    """What evaluation needs from a student (``qrdistill.students.Student`` provides it)."""

    def complete(self, prompts: list[str], max_new_tokens: int, batch_size: int, *,
                 stop_at: Sequence[Callable[[str], int | None]] | None) -> list[Any]:
        """Objects with ``text``, ``stop`` and ``new_tokens``, one per prompt."""

    def sequence_logprob(self, prompts: list[str], completions: list[str]) -> list[Any]: ...


@dataclass(frozen=True)
class EvalLabel:
    """Which run an evaluation belongs to."""

    method: str
    seed: int
    student: str


def _mean_logprob(score: Any) -> float:
    """A normalised score from ``sequence_logprob``: a float, or an object with sum and count."""
    if isinstance(score, (int, float)):
        return float(score)
    return float(score.mean)


def score_generations(gens: Sequence[Generation]) -> RunResult:
    """Accuracy and Wilson interval of one eval file's generations."""
    if not gens:
        raise ValueError("score_generations: no generations")
    g = gens[0]
    return RunResult.from_counts(g.method, g.student, g.task, g.seed, correct=sum(x.correct for x in gens), n=len(gens), style=g.style)


@dataclass(frozen=True)
class EvalJob:
    """One task's held-out questions, the style they are asked in and the eval file they go to."""

    task: Task
    questions: Sequence[Question]
    out_path: FsPath
    style: str | None = None
    """A style name (its prompt from ``templates``), or None for the task's plain prompt."""
    templates: Mapping[str, Style] = field(default_factory=dict)

    def prompt(self, question: Question) -> str:
        """The prompt this job asks ``question`` with: the one the style's paths were trained under."""
        return prompt_for(self.task, question, self.style, self.templates)


def evaluate_student(
    student: GeneratingStudent,
    jobs: Sequence[EvalJob],
    *,
    label: EvalLabel,
    max_new_tokens: int,
    batch_size: int,
    score_logprob: bool = False,
    stop_at_answer: bool = True,
) -> list[RunResult]:
    """Generate greedily for every question of every job, check answers, write each eval file atomically.

    All jobs' prompts go through one batched ``complete`` call (batches of similar length across
    tasks and styles). The prompt is ``job.prompt(q)`` (the job's style, or the task's plain prompt),
    formatted by the student's own chat template.
    ``stop_at_answer``: a completion ends at its first complete final-answer statement
    (``task.answer_end``) as well as at EOS. ``score_logprob`` adds the length-normalised
    log-prob of each generated completion.
    """
    items = [(job, q, job.prompt(q)) for job in jobs for q in job.questions]
    prompts = [p for _, _, p in items]
    stop_at = [partial(job.task.answer_end, question=q) for job, q, _ in items] if stop_at_answer else None
    outputs = student.complete(prompts, max_new_tokens=max_new_tokens, batch_size=batch_size, stop_at=stop_at)
    completions = [str(o.text) for o in outputs]
    scores: list[float | None] = [None] * len(items)
    if score_logprob:
        scores = [_mean_logprob(s) for s in student.sequence_logprob(prompts, completions)]
    results = []
    for job in jobs:
        gens = [
            Generation(question_id=q.id, task=job.task.name, method=label.method, seed=label.seed, student=label.student,
                       prompt=p, completion=c, answer=job.task.extract(c, q), gold=q.gold,
                       correct=job.task.is_correct(c, q.gold, q), logprob=s, stop=o.stop, new_tokens=o.new_tokens,
                       style=job.style)
            for (j, q, p), c, o, s in zip(items, completions, outputs, scores) if j is job
        ]
        write_records(job.out_path, gens)
        results.append(score_generations(gens))
    return results


def read_generations(path: str | os.PathLike[str]) -> list[Generation]:
    """Read one eval file."""
    return read_records(path, Generation)
