"""Ensembles of students at test time: majority vote and generated-token log-prob choice.

Both are pure functions over per-student answers of one question, so the rule is testable
without models. The log-prob ensemble scores each student's OWN generation by the mean
log-probability of its generated tokens only (the authors' code read prompt log-probs).

>>> majority_vote(["4", "5", "4"])
'4'
>>> choose_by_logprob(["4", "5"], [-0.9, -0.2])
'5'
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence


def majority_vote(answers: Sequence[str | None]) -> str | None:
    """Most frequent non-missing answer; ties go to the earliest student listing it.

    >>> majority_vote([None, "B", "A", "A", "B"])
    'B'
    """
    counts = Counter(a for a in answers if a is not None)
    if not counts:
        return None
    best = max(counts.values())
    return next(a for a in answers if a is not None and counts[a] == best)


def normalised_logprob(token_logprobs: Sequence[float]) -> float:
    """Length-normalised log-probability: the mean over generated tokens (-inf when empty).

    >>> normalised_logprob([-1.0, -3.0])
    -2.0
    """
    if not token_logprobs:
        return float("-inf")
    return sum(token_logprobs) / len(token_logprobs)


def choose_by_logprob(answers: Sequence[str | None], scores: Sequence[float]) -> str | None:
    """The answer of the student whose generation has the highest normalised log-prob.

    Students without an extractable answer are skipped; ties go to the earlier student.

    >>> choose_by_logprob([None, "7", "8"], [0.0, -1.0, -0.5])
    '8'
    """
    if len(answers) != len(scores):
        raise ValueError(f"choose_by_logprob: {len(answers)} answers but {len(scores)} scores")
    best: tuple[float, str] | None = None
    for answer, score in zip(answers, scores):
        if answer is not None and (best is None or score > best[0]):
            best = (score, answer)
    return None if best is None else best[1]
