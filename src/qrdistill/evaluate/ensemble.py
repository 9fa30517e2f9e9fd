"""Ensemble rows from the students' saved generations of one (method, seed, task).

>>> rows = ensemble_results({"smollm2": gens_a, "gemma3": gens_b}, ["vote", "logprob"])
>>> rows[0].student
'ensemble-vote'
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from qrdistill.evaluate.generations import Generation
from qrdistill.evaluate.results import RunResult
from qrdistill.evaluate.voting import choose_by_logprob, majority_vote


def _aligned(per_student: Mapping[str, Sequence[Generation]]) -> list[list[Generation]]:
    by_id = [{g.question_id: g for g in gens} for gens in per_student.values()]
    shared = set.intersection(*(set(d) for d in by_id))
    order = [g.question_id for g in next(iter(per_student.values())) if g.question_id in shared]
    return [[d[qid] for d in by_id] for qid in order]


def _correct_for(answer: str | None, row: Sequence[Generation]) -> bool:
    """Whether ``answer`` is right: the verdict the task gave a generation with that answer."""
    return answer is not None and next(g.correct for g in row if g.answer == answer)


def ensemble_results(per_student: Mapping[str, Sequence[Generation]], kinds: Sequence[str]) -> list[RunResult]:
    """One RunResult per ensemble kind over the questions every student answered.

    'vote': majority of extracted answers; 'logprob': the answer of the student whose own
    generation has the highest length-normalised generated-token log-prob.
    """
    if len(per_student) < 2 or not kinds:
        return []
    rows = _aligned(per_student)
    first = rows[0][0] if rows else None
    if first is None:
        return []
    out = []
    for kind in kinds:
        if kind == "vote":
            picks = [majority_vote([g.answer for g in row]) for row in rows]
        elif kind == "logprob":
            missing = [g for row in rows for g in row if g.logprob is None]
            if missing:
                raise ValueError(f"logprob ensemble: {missing[0].student} on {missing[0].question_id} has no logprob; "
                                 "re-run eval with the 'logprob' ensemble enabled so generations are scored")
            picks = [choose_by_logprob([g.answer for g in row], [g.logprob for g in row]) for row in rows]
        else:
            raise ValueError(f"unknown ensemble {kind!r}; choose from vote, logprob")
        correct = sum(_correct_for(a, row) for a, row in zip(picks, rows))
        out.append(RunResult.from_counts(first.method, f"ensemble-{kind}", first.task, first.seed, correct=correct, n=len(rows)))
    return out
